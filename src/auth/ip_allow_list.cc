#include "auth/ip_allow_list.h"

#include <arpa/inet.h>

#include <cstring>
#include <optional>

namespace spotex::auth {
namespace {

struct Address {
  bool v4 = false;
  std::array<uint8_t, 16> bytes{};
};

constexpr std::array<uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// Parses one address (no prefix). IPv4-mapped IPv6 comes back as IPv4.
std::optional<Address> ParseAddress(std::string_view text) {
  // inet_pton wants a NUL-terminated string; the longest IPv6 text is 45 characters.
  char buf[64];
  if (text.empty() || text.size() >= sizeof(buf)) {
    return std::nullopt;
  }
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  Address a;
  if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) {
    a.v4 = true;
    return a;
  }
  if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) {
    if (std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), a.bytes.begin())) {
      std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
      std::memset(a.bytes.data() + 4, 0, 12);
      a.v4 = true;
    }
    return a;
  }
  return std::nullopt;
}

// True if the first `bits` bits of a and b agree.
bool PrefixMatches(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, int bits) {
  const int whole = bits / 8;
  if (std::memcmp(a.data(), b.data(), static_cast<size_t>(whole)) != 0) {
    return false;
  }
  const int rest = bits % 8;
  if (rest == 0) {
    return true;
  }
  const auto mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

void ClearHostBits(std::array<uint8_t, 16>& bytes, int prefix_bits) {
  for (int bit = prefix_bits; bit < 128; ++bit) {
    bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  }
}

}  // namespace

std::expected<IpAllowList, IpAllowList::ParseError> IpAllowList::Parse(std::string_view text) {
  if (text.size() > kTextBytesMax) {
    return std::unexpected(ParseError{"IP list longer than 4096 characters"});
  }
  IpAllowList list;
  constexpr std::string_view kSeparators = ", \t\r\n";
  size_t pos = 0;
  while (true) {
    pos = text.find_first_not_of(kSeparators, pos);
    if (pos == std::string_view::npos) {
      break;
    }
    size_t end = text.find_first_of(kSeparators, pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    const std::string_view item = text.substr(pos, end - pos);
    pos = end;
    if (list.entries_.size() == kEntriesMax) {
      return std::unexpected(
          ParseError{"more than " + std::to_string(kEntriesMax) + " IP entries"});
    }
    const size_t slash = item.find('/');
    const std::optional<Address> addr = ParseAddress(item.substr(0, slash));
    if (!addr.has_value()) {
      return std::unexpected(ParseError{"not an IP address: '" + std::string(item) + "'"});
    }
    // A mapped IPv6 range stays mapped: its prefix counts the 96 bits of ::ffff:0:0/96.
    const bool mapped = addr->v4 && item.substr(0, slash).find(':') != std::string_view::npos;
    const int max_bits = addr->v4 ? 32 : 128;
    int prefix = max_bits;
    if (slash != std::string_view::npos) {
      const std::string_view digits = item.substr(slash + 1);
      if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0')) {
        return std::unexpected(ParseError{"bad prefix length in '" + std::string(item) + "'"});
      }
      prefix = 0;
      for (const char c : digits) {
        if (c < '0' || c > '9') {
          return std::unexpected(ParseError{"bad prefix length in '" + std::string(item) + "'"});
        }
        prefix = prefix * 10 + (c - '0');
      }
      if (mapped) {
        if (prefix < 96 || prefix > 128) {
          return std::unexpected(ParseError{"IPv4-mapped range needs a prefix of 96 to 128: '" +
                                            std::string(item) + "'"});
        }
        prefix -= 96;
      }
      if (prefix > max_bits) {
        return std::unexpected(
            ParseError{"prefix longer than the address in '" + std::string(item) + "'"});
      }
    }
    Entry e;
    e.v4 = addr->v4;
    e.network = addr->bytes;
    e.prefix_bits = prefix;
    ClearHostBits(e.network, prefix);
    list.entries_.push_back(e);
  }
  return list;
}

bool IpAllowList::Allows(std::string_view client_ip) const {
  if (entries_.empty()) {
    return true;
  }
  const std::optional<Address> addr = ParseAddress(client_ip);
  if (!addr.has_value()) {
    return false;
  }
  for (const Entry& e : entries_) {
    if (e.v4 == addr->v4 && PrefixMatches(e.network, addr->bytes, e.prefix_bits)) {
      return true;
    }
  }
  return false;
}

std::string IpAllowList::ToString() const {
  std::string out;
  for (const Entry& e : entries_) {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(e.v4 ? AF_INET : AF_INET6, e.network.data(), buf, sizeof(buf));
    if (!out.empty()) {
      out.append(",");
    }
    out.append(buf);
    if (e.prefix_bits != (e.v4 ? 32 : 128)) {
      out.append("/").append(std::to_string(e.prefix_bits));
    }
  }
  return out;
}

}  // namespace spotex::auth
