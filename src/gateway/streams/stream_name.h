// Market stream names (BINANCE_API.md §8): parsing, validation and the canonical spelling.
//
// Supported, with <symbol> the lower-case symbol of a registered market:
//   <symbol>@trade  <symbol>@aggTrade  <symbol>@depth  <symbol>@depth@100ms
//   <symbol>@depth<5|10|20>  <symbol>@depth<5|10|20>@100ms  <symbol>@kline_<interval>
//   <symbol>@miniTicker  <symbol>@ticker  <symbol>@ticker_<1h|4h|1d>  <symbol>@bookTicker
//   !miniTicker@arr  !ticker@arr
// Everything is case-sensitive, as on Binance (interval "1M" is a month, "1m" a minute).
//
// Thread safety: pure functions; StreamKey is a value type.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <string>
#include <string_view>

namespace spotex::gateway::streams {

// Longest stream name accepted (Binance symbols are at most 20 characters).
inline constexpr size_t kMaxStreamNameBytes = 64;

enum class StreamKind : uint8_t {
  kTrade,
  kAggTrade,
  kDepth,         // diff; param "" (1000 ms) or "100ms"
  kPartialDepth,  // top-N snapshot; param "5", "10", "20", "5@100ms", "10@100ms", "20@100ms"
  kKline,         // param = interval ("1s" .. "1M")
  kMiniTicker,
  kTicker,
  kRollingTicker,  // param "1h", "4h" or "1d"
  kBookTicker,
  kAllMiniTickers,  // !miniTicker@arr (symbol empty)
  kAllTickers,      // !ticker@arr (symbol empty)
};

// True for the streams pushed on every book change or trade (trade, aggTrade, depth,
// bookTicker); the others are periodic.
bool IsRealTime(StreamKind kind);

struct StreamKey {
  StreamKind kind = StreamKind::kTrade;
  std::string symbol;  // upper case, as in exchangeInfo ("BTCUSDT"); empty for the !…@arr ones
  std::string param;   // see StreamKind

  // The stream's name as clients spell it ("btcusdt@depth@100ms").
  std::string Name() const;

  friend auto operator<=>(const StreamKey&, const StreamKey&) = default;
  friend bool operator==(const StreamKey&, const StreamKey&) = default;
};

// Whether an upper-case symbol is a registered market (e.g. MarketData::HasSymbol).
using SymbolKnown = std::function<bool(std::string_view upper_symbol)>;

// Parses a stream name. The error is a human-readable reason ("unknown symbol `xyzusdt`",
// "invalid stream name `btcusdt@nope`"), to be wrapped by the caller (control.h does so as
// {"code":2,"msg":"Invalid request: <reason>"}).
std::expected<StreamKey, std::string> ParseStreamName(std::string_view name,
                                                      const SymbolKnown& known);

}  // namespace spotex::gateway::streams
