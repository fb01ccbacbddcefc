#include "gateway/streams/stream_name.h"

#include <array>

namespace spotex::gateway::streams {

namespace {

constexpr std::array<std::string_view, 16> kIntervals = {"1s", "1m", "3m", "5m", "15m", "30m",
                                                         "1h", "2h", "4h", "6h", "8h",  "12h",
                                                         "1d", "3d", "1w", "1M"};

bool IsInterval(std::string_view s) {
  for (auto i : kIntervals) {
    if (s == i) return true;
  }
  return false;
}

bool IsPartialDepthParam(std::string_view s) {
  for (std::string_view n : {"5", "10", "20"}) {
    if (s == n) return true;
    if (s.size() == n.size() + 6 && s.starts_with(n) && s.substr(n.size()) == "@100ms") {
      return true;
    }
  }
  return false;
}

std::string Quote(std::string_view s) {
  std::string out = "`";
  for (char c : s) {  // keep the message printable and JSON-safe whatever the client sent
    out += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? c : '?';
  }
  out += '`';
  return out;
}

std::expected<StreamKey, std::string> Invalid(std::string_view name) {
  return std::unexpected("invalid stream name " + Quote(name));
}

// The part after "<symbol>@".
std::expected<StreamKey, std::string> ParseSuffix(std::string_view name, std::string_view s) {
  StreamKey k;
  if (s == "trade") {
    k.kind = StreamKind::kTrade;
  } else if (s == "aggTrade") {
    k.kind = StreamKind::kAggTrade;
  } else if (s == "depth" || s == "depth@100ms") {
    k.kind = StreamKind::kDepth;
    k.param = s == "depth" ? "" : "100ms";
  } else if (s.starts_with("depth") && IsPartialDepthParam(s.substr(5))) {
    k.kind = StreamKind::kPartialDepth;
    k.param = s.substr(5);
  } else if (s.starts_with("kline_") && IsInterval(s.substr(6))) {
    k.kind = StreamKind::kKline;
    k.param = s.substr(6);
  } else if (s == "miniTicker") {
    k.kind = StreamKind::kMiniTicker;
  } else if (s == "ticker") {
    k.kind = StreamKind::kTicker;
  } else if (s == "ticker_1h" || s == "ticker_4h" || s == "ticker_1d") {
    k.kind = StreamKind::kRollingTicker;
    k.param = s.substr(7);
  } else if (s == "bookTicker") {
    k.kind = StreamKind::kBookTicker;
  } else {
    return Invalid(name);
  }
  return k;
}

}  // namespace

bool IsRealTime(StreamKind kind) {
  switch (kind) {
    case StreamKind::kTrade:
    case StreamKind::kAggTrade:
    case StreamKind::kDepth:
    case StreamKind::kBookTicker:
      return true;
    default:
      return false;
  }
}

std::string StreamKey::Name() const {
  std::string out;
  for (char c : symbol) out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  switch (kind) {
    case StreamKind::kTrade:
      return out + "@trade";
    case StreamKind::kAggTrade:
      return out + "@aggTrade";
    case StreamKind::kDepth:
      return out + (param.empty() ? "@depth" : "@depth@" + param);
    case StreamKind::kPartialDepth:
      return out + "@depth" + param;
    case StreamKind::kKline:
      return out + "@kline_" + param;
    case StreamKind::kMiniTicker:
      return out + "@miniTicker";
    case StreamKind::kTicker:
      return out + "@ticker";
    case StreamKind::kRollingTicker:
      return out + "@ticker_" + param;
    case StreamKind::kBookTicker:
      return out + "@bookTicker";
    case StreamKind::kAllMiniTickers:
      return "!miniTicker@arr";
    case StreamKind::kAllTickers:
      return "!ticker@arr";
  }
  return out;
}

std::expected<StreamKey, std::string> ParseStreamName(std::string_view name,
                                                      const SymbolKnown& known) {
  if (name.empty() || name.size() > kMaxStreamNameBytes) return Invalid(name.substr(0, 64));
  if (name == "!miniTicker@arr") return StreamKey{StreamKind::kAllMiniTickers, "", ""};
  if (name == "!ticker@arr") return StreamKey{StreamKind::kAllTickers, "", ""};
  const size_t at = name.find('@');
  if (at == 0 || at == std::string_view::npos) return Invalid(name);
  const std::string_view sym = name.substr(0, at);
  std::string upper;
  for (char c : sym) {
    // Names carry the symbol in lower case; an upper-case letter makes the name invalid.
    if (c >= 'a' && c <= 'z') {
      upper += static_cast<char>(c - 'a' + 'A');
    } else if ((c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.') {
      upper += c;
    } else {
      return Invalid(name);
    }
  }
  auto key = ParseSuffix(name, name.substr(at + 1));
  if (!key) return key;
  if (!known || !known(upper)) return std::unexpected("unknown symbol " + Quote(sym));
  key->symbol = std::move(upper);
  return key;
}

}  // namespace spotex::gateway::streams
