#include "gateway/streams/encoder.h"

#include <zlib.h>

#include <functional>
#include <optional>

#include "core/decimal.h"
#include "engine/event.h"

namespace spotex::gateway::streams {

namespace {

void Quoted(std::string& out, int64_t units, int scale) {
  out += '"';
  out += core::FormatDecimal(units, scale);
  out += '"';
}

struct Touched {
  engine::SymbolId id = 0;
  MarketData::Top before;
  std::vector<const engine::Trade*> trades;
  int64_t first_update = 0, last_update = 0;  // 0 = no level change
  std::map<int64_t, int64_t, std::greater<>> bids;
  std::map<int64_t, int64_t> asks;
};

StreamMessage Message(StreamKind kind, const std::string& symbol, std::string raw,
                      std::string param = "") {
  StreamMessage m{StreamKey{kind, symbol, std::move(param)}, std::move(raw), ""};
  m.combined = Combined(m.key, m.raw);
  return m;
}

std::string TradeJson(const SymbolInfo& s, int64_t event_ms, const engine::Trade& t) {
  std::string out = "{\"e\":\"trade\",\"E\":" + std::to_string(event_ms) + ",\"s\":\"" + s.name +
                    "\",\"t\":" + std::to_string(t.trade_id) + ",\"p\":";
  Quoted(out, t.price.v, s.quote_scale);
  out += ",\"q\":";
  Quoted(out, t.qty.v, s.base_scale);
  out += ",\"T\":" + std::to_string(t.time_ms);
  out += t.buyer_is_maker ? ",\"m\":true" : ",\"m\":false";
  out += ",\"M\":true}";
  return out;
}

int64_t TakerOrder(const engine::Trade& t) {
  return t.buyer_is_maker ? t.seller_order_id : t.buyer_order_id;
}

// Fills of one taker order at one price with consecutive ids form one aggregate trade.
void AggTrades(const SymbolInfo& s, int64_t event_ms, const std::vector<const engine::Trade*>& ts,
               std::vector<StreamMessage>& out) {
  for (size_t i = 0; i < ts.size();) {
    size_t j = i + 1;
    int64_t qty = ts[i]->qty.v;
    while (j < ts.size() && ts[j]->price.v == ts[i]->price.v &&
           ts[j]->trade_id == ts[j - 1]->trade_id + 1 && TakerOrder(*ts[j]) == TakerOrder(*ts[i])) {
      qty += ts[j]->qty.v;
      ++j;
    }
    const engine::Trade& f = *ts[i];
    std::string raw = "{\"e\":\"aggTrade\",\"E\":" + std::to_string(event_ms) + ",\"s\":\"" +
                      s.name + "\",\"a\":" + std::to_string(f.trade_id) + ",\"p\":";
    Quoted(raw, f.price.v, s.quote_scale);
    raw += ",\"q\":";
    Quoted(raw, qty, s.base_scale);
    raw += ",\"f\":" + std::to_string(f.trade_id) +
           ",\"l\":" + std::to_string(ts[j - 1]->trade_id) + ",\"T\":" + std::to_string(f.time_ms);
    raw += f.buyer_is_maker ? ",\"m\":true" : ",\"m\":false";
    raw += ",\"M\":true}";
    out.push_back(Message(StreamKind::kAggTrade, s.name, std::move(raw)));
    i = j;
  }
}

std::string DepthJson(const SymbolInfo& s, int64_t event_ms, const Touched& t) {
  std::string out = "{\"e\":\"depthUpdate\",\"E\":" + std::to_string(event_ms) + ",\"s\":\"" +
                    s.name + "\",\"U\":" + std::to_string(t.first_update) +
                    ",\"u\":" + std::to_string(t.last_update);
  auto side = [&](const char* key, const auto& levels) {
    out += key;
    size_t n = 0;
    for (const auto& [price, qty] : levels) {
      if (n++ > 0) out += ',';
      out += '[';
      Quoted(out, price, s.quote_scale);
      out += ',';
      Quoted(out, qty, s.base_scale);
      out += ']';
    }
    out += ']';
  };
  side(",\"b\":[", t.bids);
  side(",\"a\":[", t.asks);
  out += '}';
  return out;
}

bool SameLevel(const std::optional<MarketData::Level>& a,
               const std::optional<MarketData::Level>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->price == b->price && a->qty == b->qty);
}

std::string BookTickerJson(const MarketData::Top& top) {
  const SymbolInfo& s = top.info;
  std::string out =
      "{\"u\":" + std::to_string(top.last_update_id) + ",\"s\":\"" + s.name + "\",\"b\":";
  Quoted(out, top.bid ? top.bid->price : 0, s.quote_scale);
  out += ",\"B\":";
  Quoted(out, top.bid ? top.bid->qty : 0, s.base_scale);
  out += ",\"a\":";
  Quoted(out, top.ask ? top.ask->price : 0, s.quote_scale);
  out += ",\"A\":";
  Quoted(out, top.ask ? top.ask->qty : 0, s.base_scale);
  out += '}';
  return out;
}

// The levels of `side` ("bids" or "asks") in REST depth JSON, as their strings. The JSON is
// MarketData::Depth's own output: arrays of two quoted decimal strings, no escapes.
std::vector<TextLevel> DepthLevels(std::string_view json, std::string_view side) {
  std::vector<TextLevel> out;
  const std::string key = "\"" + std::string(side) + "\":[";
  size_t at = json.find(key);
  if (at == std::string_view::npos) return out;
  at += key.size();
  std::string field[2];
  int n = 0;
  while (at < json.size() && json[at] != ']') {
    if (json[at] == '[' || json[at] == ',') {
      ++at;
      continue;
    }
    if (json[at] != '"') break;  // not MarketData's shape: stop
    const size_t end = json.find('"', at + 1);
    if (end == std::string_view::npos) break;
    field[n++] = std::string(json.substr(at + 1, end - at - 1));
    at = end + 1;
    if (n == 2) {
      out.emplace_back(std::move(field[0]), std::move(field[1]));
      n = 0;
      if (at < json.size() && json[at] == ']') ++at;  // the level's closing bracket
    }
  }
  return out;
}

}  // namespace

std::string ChecksumText(const std::vector<TextLevel>& bids, const std::vector<TextLevel>& asks) {
  std::string out;
  auto add = [&](const TextLevel& l) {
    if (!out.empty()) out += ':';
    out += l.first;
    out += ':';
    out += l.second;
  };
  for (size_t i = 0; i < kChecksumLevels; ++i) {
    if (i < bids.size()) add(bids[i]);
    if (i < asks.size()) add(asks[i]);
  }
  return out;
}

uint32_t BookChecksum(const std::vector<TextLevel>& bids, const std::vector<TextLevel>& asks) {
  const std::string text = ChecksumText(bids, asks);
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size())));
}

std::string WithChecksum(std::string_view raw, uint32_t checksum) {
  std::string out(raw.substr(0, raw.empty() ? 0 : raw.size() - 1));
  out += ",\"cs\":";
  out += std::to_string(checksum);
  out += '}';
  return out;
}

std::string Combined(const StreamKey& key, std::string_view raw) {
  std::string out = "{\"stream\":\"" + key.Name() + "\",\"data\":";
  out += raw;
  out += '}';
  return out;
}

std::vector<StreamMessage> StreamEncoder::Apply(const proto::Envelope& envelope) {
  // The touched symbols in order of first appearance, with their book state before.
  std::vector<Touched> touched;
  auto find = [&](engine::SymbolId id) -> Touched* {
    for (auto& t : touched) {
      if (t.id == id) return &t;
    }
    auto before = market_.BookTop(id);
    if (!before) return nullptr;
    touched.push_back(Touched{id, std::move(*before), {}, 0, 0, {}, {}});
    return &touched.back();
  };
  for (auto r = envelope.reader(); !r.Done(); r.Next()) {
    if (const auto* l = r.If<engine::BookLevel>()) {
      (void)find(l->symbol);
    } else if (const auto* t = r.If<engine::Trade>()) {
      (void)find(t->symbol);
    }
  }
  market_.Apply(envelope);
  if (touched.empty()) return {};
  // Pointers into `touched` are stable from here on (no more push_back).
  for (auto r = envelope.reader(); !r.Done(); r.Next()) {
    if (const auto* l = r.If<engine::BookLevel>()) {
      Touched* t = find(l->symbol);
      if (t == nullptr || l->update_id <= t->before.last_update_id) continue;
      if (t->first_update == 0) t->first_update = l->update_id;
      t->last_update = l->update_id;
      if (l->side == engine::Side::kBuy) {
        t->bids[l->price.v] = l->qty.v;
      } else {
        t->asks[l->price.v] = l->qty.v;
      }
    } else if (const auto* tr = r.If<engine::Trade>()) {
      if (Touched* t = find(tr->symbol)) t->trades.push_back(tr);
    }
  }
  const int64_t event_ms = envelope.header().time_ms;
  std::vector<StreamMessage> out;
  for (const Touched& t : touched) {
    const SymbolInfo& s = t.before.info;
    for (const engine::Trade* tr : t.trades) {
      out.push_back(Message(StreamKind::kTrade, s.name, TradeJson(s, event_ms, *tr)));
      out.back().first_id = out.back().last_id = tr->trade_id;
      out.back().event_ms = event_ms;
      out.back().trade =
          TradeFacts{tr->price.v, tr->qty.v, tr->quote_qty.v, tr->time_ms, tr->buyer_is_maker};
    }
    AggTrades(s, event_ms, t.trades, out);
    if (t.first_update == 0) continue;
    std::string depth = DepthJson(s, event_ms, t);
    std::optional<uint32_t> checksum;
    if (auto top = market_.Depth(s.name, kChecksumLevels)) {
      checksum = BookChecksum(DepthLevels(*top, "bids"), DepthLevels(*top, "asks"));
    }
    for (const char* param : {"", "100ms"}) {
      out.push_back(Message(StreamKind::kDepth, s.name, depth, param));
      out.back().checksum = checksum;
      out.back().first_id = t.first_update;
      out.back().last_id = t.last_update;
      out.back().event_ms = event_ms;
    }
    auto after = market_.BookTop(t.id);
    if (after && (!SameLevel(after->bid, t.before.bid) || !SameLevel(after->ask, t.before.ask))) {
      out.push_back(Message(StreamKind::kBookTicker, s.name, BookTickerJson(*after)));
    }
  }
  return out;
}

}  // namespace spotex::gateway::streams
