// A market maker for the load generator (spotex-loadgen): one user that keeps a ladder of resting
// GTC LIMIT bids and asks around a fixed mid price on one symbol, so that the measured orders
// (workload.h, within ±3 ticks of the same mid) meet a book with depth on both sides instead of
// an empty one or only each other.
//
// Ladder. Level i (0 .. levels-1) on each side sits at mid ∓ (first_offset + i·step) ticks:
// bids below the mid, asks above it, so a maker's own quotes never cross each other. Each quote
// carries the client order id "<prefix>-<B|S><level>-<seq>", so an openOrders answer says which
// levels still rest without parsing prices.
//
// Cycle, closed loop over one keep-alive connection (one request in flight):
//   1. signed GET openOrders for the symbol: the levels still resting;
//   2. one POST order per missing level (filled or cancelled since), one after the other;
//   3. wait refresh_ms, then 1 again.
// A failed sync or placement is counted by the caller (its error key) and the cycle goes on;
// a failed placement is retried at the next cycle. The maker never cancels: the mid is fixed.
//
// The maker's requests are not part of the measured traffic: the caller keeps their errors and
// counts apart.
//
// Thread safety: none; one MarketMaker per event loop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workload.h"

namespace spotex::bench {

struct MakerOptions {
  std::string symbol = "BTCUSDT";
  int64_t mid_price_ticks = 3'000'000;
  int price_decimals = 2;
  int qty_decimals = 5;
  int levels = 5;               // per side, 1..kMakerLevelsMax
  int64_t first_offset_ticks = 1;
  int64_t step_ticks = 1;
  int64_t qty_steps = 100;      // 0.00100 at step 0.00001
  int64_t refresh_ms = 200;     // pause between cycles, 1..60000
  int64_t recv_window_ms = 10'000;
};

inline constexpr int kMakerLevelsMax = 50;

enum class MakerRequest : uint8_t { kSync, kPlace };

class MarketMaker {
 public:
  // `id_prefix`: letters and digits, at most 16, unique per maker and run (client order ids
  // never repeat across makers or runs).
  MarketMaker(ApiUser user, MakerOptions options, std::string host, std::string id_prefix);

  // Whether a request is due at `now_ms` (a monotonic clock); if not, WakeAtMs() says when.
  bool Ready(int64_t now_ms) const { return !in_flight_ && now_ms >= wake_at_ms_; }
  int64_t WakeAtMs() const { return wake_at_ms_; }

  // Builds the next request into `out` (a complete HTTP/1.1 message). `wall_ms` is the
  // timestamp to sign. Only when Ready().
  MakerRequest Next(int64_t wall_ms, std::string& out);

  // The answer to the request Next() built (`now_ms` monotonic, as for Ready). True if it
  // succeeded; otherwise `error_key` is e.g. "maker-order:400/-2010".
  bool OnResponse(int64_t now_ms, int status, std::string_view body, std::string& error_key);

  // The request in flight failed at the transport level: the cycle restarts after refresh_ms.
  void OnTransportError(int64_t now_ms);

  // Levels believed resting, both sides, as of the last sync and placements since.
  int Resting() const;
  uint64_t placed() const { return placed_; }
  uint64_t cycles() const { return cycles_; }

 private:
  void EndCycle(int64_t now_ms);
  void BuildOrder(int side, int level, int64_t wall_ms, std::string& out);

  ApiUser user_;
  MakerOptions options_;
  std::string host_;
  std::string prefix_;
  std::vector<bool> resting_[2];                // [0] bids, [1] asks; by level
  std::vector<std::pair<int, int>> to_place_;  // (side, level), placed back to front
  bool in_flight_ = false;
  bool syncing_ = false;
  int64_t wake_at_ms_ = 0;
  uint64_t seq_ = 0;
  uint64_t placed_ = 0;
  uint64_t cycles_ = 0;
};

}  // namespace spotex::bench
