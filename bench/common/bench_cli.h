// Command-line values the load tools share (spotex-loadgen / api_bench in bench/api, ws_bench in
// bench/ws): the target URL and the processes whose CPU they report. Thread safety: free
// functions without state.
#pragma once

#include <netinet/in.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spotex::bench {

// Where a tool connects: the IPv4 address and the Host header's value.
struct HttpTarget {
  sockaddr_in addr{};
  std::string host;  // "127.0.0.1:8080"
};

// "http://127.0.0.1:8080" (an IPv4 literal or localhost, a port, no path; a trailing '/' is
// accepted); nullopt for anything else.
std::optional<HttpTarget> ParseHttpUrl(std::string_view url);

// Named processes: (name, pid) pairs.
using CpuPids = std::vector<std::pair<std::string, int>>;

// "engine=123,gateway=456" appended to `out`; false if an item is malformed (no name, a pid
// that is not a positive number) or `out` would hold more than `max` entries.
bool ParseCpuPids(std::string_view text, CpuPids& out, size_t max);

}  // namespace spotex::bench
