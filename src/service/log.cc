#include "service/log.h"

#include <chrono>
#include <cstdio>
#include <string>

namespace spotex::service {

void Log(LogLevel level, std::string_view component, std::string_view message) {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::string line = "{\"ts\":" + std::to_string(ms) + ",\"level\":\"";
  line += level == LogLevel::kInfo ? "info" : level == LogLevel::kWarn ? "warn" : "error";
  line += "\",\"component\":\"";
  line += component;
  line += "\",\"msg\":\"";
  for (char c : message) {
    if (c == '"' || c == '\\') {
      line += '\\';
      line += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      line += ' ';
    } else {
      line += c;
    }
  }
  line += "\"}\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace spotex::service
