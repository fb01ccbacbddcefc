// Per-API-key IP restriction: a list of IPv4/IPv6 addresses and CIDR ranges.
//
// An empty list means "unrestricted" (Binance's default for a new key). Entries are parsed
// strictly (inet_pton: no leading zeros in IPv4, no zone ids); Parse() fails on any bad entry
// rather than dropping it, so a typo can never widen the list by accident. A range written
// with host bits set ("10.1.2.3/8") means the range that contains it ("10.0.0.0/8").
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are treated as the IPv4 address on both sides,
// since a dual-stack socket reports IPv4 clients that way.
//
// The client address is the HTTP layer's to determine (the TCP peer, or the X-Forwarded-For
// entry HAProxy appends when the peer is a trusted proxy) and must never be taken from a
// header a client can set.
//
// Thread safety: a const IpAllowList may be shared by threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace spotex::auth {

class IpAllowList {
 public:
  static constexpr size_t kEntriesMax = 32;  // as db/migrations/0001 allows
  static constexpr size_t kTextBytesMax = 4096;

  struct ParseError {
    std::string message;  // names the bad entry
  };

  // An unrestricted list.
  IpAllowList() = default;

  // Entries separated by commas and/or whitespace: "1.2.3.4, 10.0.0.0/8 2001:db8::/32".
  [[nodiscard]] static std::expected<IpAllowList, ParseError> Parse(std::string_view text);

  bool unrestricted() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }

  // Whether a request from `client_ip` (one textual address, no port) may use the key. Always
  // true for an unrestricted list; false for an address that does not parse.
  [[nodiscard]] bool Allows(std::string_view client_ip) const;

  // The canonical text: entries as "address/prefix" (or just the address for a single host),
  // comma-separated, in the order given.
  std::string ToString() const;

 private:
  struct Entry {
    bool v4 = false;
    std::array<uint8_t, 16> network{};  // IPv4 uses the first 4 bytes
    int prefix_bits = 0;
  };

  std::vector<Entry> entries_;
};

}  // namespace spotex::auth
