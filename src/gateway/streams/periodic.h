// Payloads of the periodic market streams (BINANCE_API.md §8), read from MarketData's state at
// a given time: partial depth (<symbol>@depth<N>[@100ms]), <symbol>@miniTicker, <symbol>@ticker,
// <symbol>@ticker_<1h|4h|1d>, !miniTicker@arr, !ticker@arr and <symbol>@kline_<interval>. The
// transport's timer calls it for each subscribed periodic stream (every 1000 ms; every 100 ms
// for @depth<N>@100ms; every 2000 ms for klines) and sends the bytes to every connection on that
// stream. Klines are the bar containing now_ms (x = true only when now_ms is its last
// millisecond); 1s klines come from `seconds` (MarketData keeps one-minute bars; without it
// they are not produced).
//
// Tickers carry MarketData's figures (minute-granular windows, docs/gateway-market-data.md).
// The !…@arr streams list the symbols that traded within the last 24 hours; an empty list is
// nullopt (nothing to send).
//
// Thread safety: reads MarketData under its lock; safe alongside its writer.
#pragma once

#include <cstdint>
#include <optional>

#include "gateway/market/market_data.h"
#include "gateway/streams/encoder.h"
#include "gateway/streams/second_bars.h"
#include "gateway/streams/stream_name.h"

namespace spotex::gateway::streams {

// The message of periodic stream `key` at `now_ms` (ms since the epoch; also its E). nullopt
// when `key` is a real-time stream, a 1s kline without `seconds`, its symbol is not
// registered, or (arrays) no symbol traded.
[[nodiscard]] std::optional<StreamMessage> EncodePeriodic(const MarketData& market,
                                                          const StreamKey& key, int64_t now_ms,
                                                          const SecondBars* seconds = nullptr);

}  // namespace spotex::gateway::streams
