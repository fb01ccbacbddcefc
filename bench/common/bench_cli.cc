#include "bench_cli.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstdint>

namespace spotex::bench {

std::optional<HttpTarget> ParseHttpUrl(std::string_view url) {
  std::string_view rest = url;
  if (!rest.starts_with("http://")) {
    return std::nullopt;
  }
  rest.remove_prefix(7);
  if (rest.ends_with("/")) {
    rest.remove_suffix(1);
  }
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string host(rest.substr(0, colon));
  int port = 0;
  const std::string_view port_text = rest.substr(colon + 1);
  const auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port < 1 || port > 65535) {
    return std::nullopt;
  }
  HttpTarget target;
  target.addr.sin_family = AF_INET;
  target.addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(), &target.addr.sin_addr) !=
      1) {
    return std::nullopt;
  }
  target.host = std::string(rest);
  return target;
}

bool ParseCpuPids(std::string_view text, CpuPids& out, size_t max) {
  std::string_view rest = text;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return false;
    }
    int pid = 0;
    const std::string_view num = item.substr(eq + 1);
    const auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), pid);
    if (ec != std::errc() || p != num.data() + num.size() || pid <= 0) {
      return false;
    }
    out.emplace_back(std::string(item.substr(0, eq)), pid);
  }
  return out.size() <= max;
}

}  // namespace spotex::bench
