// Shared fixture for the engine scenario tests (scenario_*_test.cc).
//
// It lists a realistic market (Binance's BTCUSDT filters, BINANCE_API.md §7.2, plus a scale-0
// symbol), opens and funds accounts, builds commands with increasing `seq` and a controllable
// `time_ms`, and decodes the events of every command into typed values. After every command it
// checks Engine::CheckInvariants() and per-asset conservation (Engine::Totals()), so every
// scenario also pins "locked = Σ reserves" and "nothing is created or lost".
//
// Amounts in tests are written as decimal strings and parsed exactly (core::ParseDecimal):
// Px("65000.01") is USDT per whole BTC, Btc("0.5") a BTC quantity, Usdt("32500") a USDT amount.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <ostream>
#include <source_location>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "core/decimal.h"
#include "core/types.h"
#include "engine/command.h"
#include "engine/engine.h"
#include "engine/event.h"
#include "engine/reject.h"
#include "engine/types.h"

// ---------------------------------------------------------------------------------------------
// Readable GoogleTest output. In the types' own namespaces so that argument-dependent lookup
// finds them.

namespace spotex::core {
template <class Tag>
void PrintTo(StrongInt<Tag> v, std::ostream* os) {
  *os << v.v;
}
}  // namespace spotex::core

namespace spotex::engine {

inline std::string_view EventName(EventType t) { return ToString(t); }

inline void PrintTo(RejectCode v, std::ostream* os) { *os << ToString(v); }
inline void PrintTo(OrderStatus v, std::ostream* os) { *os << ToString(v); }
inline void PrintTo(ExecType v, std::ostream* os) { *os << ToString(v); }
inline void PrintTo(ExpiryReason v, std::ostream* os) { *os << ToString(v); }
inline void PrintTo(StpMode v, std::ostream* os) { *os << ToString(v); }
inline void PrintTo(Side v, std::ostream* os) { *os << ToString(v); }
inline void PrintTo(OrderType v, std::ostream* os) { *os << ToString(v); }
inline void PrintTo(TimeInForce v, std::ostream* os) { *os << ToString(v); }
inline void PrintTo(EventType v, std::ostream* os) { *os << EventName(v); }
inline void PrintTo(CommandPart v, std::ostream* os) { *os << "CommandPart(" << int(v) << ")"; }
inline void PrintTo(ListStatus v, std::ostream* os) {
  *os << (v == ListStatus::kExecuting ? "EXEC_STARTED"
          : v == ListStatus::kAllDone ? "ALL_DONE"
                                      : "REJECT");
}
inline void PrintTo(const ClientOrderId& v, std::ostream* os) {
  *os << '"' << std::string_view(v.bytes, std::min<size_t>(v.len, ClientOrderId::kMaxLen)) << '"';
}

namespace test {

// ---------------------------------------------------------------------------------------------
// Vocabulary

inline constexpr Side kBuy = Side::kBuy;
inline constexpr Side kSell = Side::kSell;
inline constexpr TimeInForce kGtc = TimeInForce::kGtc;
inline constexpr TimeInForce kIoc = TimeInForce::kIoc;
inline constexpr TimeInForce kFok = TimeInForce::kFok;

// Accounts opened and funded by the fixture (10 BTC, 1 000 000 USDT, 1000 TKN each).
inline constexpr AccountId kAlice = 1;
inline constexpr AccountId kBob = 2;
inline constexpr AccountId kCarol = 3;
inline constexpr AccountId kDave = 4;
inline constexpr AccountId kNobody = 999;  // never opened

// Listed by the fixture, in this order (ids are dense from 0 in listing order).
inline constexpr AssetId kBtc = 0;   // scale 8
inline constexpr AssetId kUsdt = 1;  // scale 8
inline constexpr AssetId kTkn = 2;   // scale 0 (whole tokens only)
inline constexpr SymbolId kBtcUsdt = 0;
inline constexpr SymbolId kTknUsdt = 1;

inline constexpr TimeMs kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z, a minute boundary
inline constexpr TimeMs kMinute = 60'000;

// Exact decimal text -> units at `scale`; a malformed literal fails the test.
inline int64_t Units(std::string_view text, int scale) {
  const bool negative = !text.empty() && text.front() == '-';
  const auto r = core::ParseDecimal(negative ? text.substr(1) : text, scale);
  EXPECT_TRUE(r.has_value()) << "bad literal " << text << " at scale " << scale;
  return negative ? -r.value_or(0) : r.value_or(0);
}
inline Price Px(std::string_view usdt_per_unit) { return Price(Units(usdt_per_unit, 8)); }
inline Qty Btc(std::string_view btc) { return Qty(Units(btc, 8)); }
inline Qty Tkn(std::string_view tkn) { return Qty(Units(tkn, 0)); }
inline Amount Usdt(std::string_view usdt) { return Amount(Units(usdt, 8)); }
inline Amount BtcAmt(std::string_view btc) { return Amount(Units(btc, 8)); }
inline Amount TknAmt(std::string_view tkn) { return Amount(Units(tkn, 0)); }

inline ClientOrderId Cid(std::string_view s) {
  ClientOrderId id;
  EXPECT_TRUE(id.Assign(s)) << "bad client id " << s;
  return id;
}
// Bypasses Assign's validation, as a corrupt or hostile command could.
inline ClientOrderId RawCid(std::string_view s, std::optional<uint8_t> len = std::nullopt) {
  ClientOrderId id;
  std::memcpy(id.bytes, s.data(), std::min(s.size(), ClientOrderId::kMaxLen));
  id.len = len.value_or(static_cast<uint8_t>(s.size()));
  return id;
}
inline Name MakeName(std::string_view s) {
  Name n;
  EXPECT_TRUE(n.Assign(s)) << "bad name " << s;
  return n;
}

// Realistic BTCUSDT (BINANCE_API.md §7.2): tick 0.01 USDT (1 000 000 units), step 0.00001 BTC
// (1000 units); tick × step = 10^9, a multiple of base_unit 10^8, so notionals are exact.
inline SymbolConfig BtcUsdtConfig() {
  SymbolConfig c;
  c.name = MakeName("BTCUSDT");
  c.base_asset = kBtc;
  c.quote_asset = kUsdt;
  SymbolFilters& f = c.filters;
  f.min_price = Px("0.01");
  f.max_price = Px("1000000");
  f.tick_size = Px("0.01");
  f.min_qty = Btc("0.00001");
  f.max_qty = Btc("9000");
  f.step_size = Btc("0.00001");
  f.market_min_qty = Qty(0);
  f.market_max_qty = Btc("100");
  f.market_step_size = Qty(0);
  f.min_notional = Usdt("5");
  f.max_notional = Usdt("9000000");
  f.apply_min_to_market = true;
  f.apply_max_to_market = false;
  f.avg_price_mins = 5;
  f.iceberg_parts = 10;
  f.max_num_orders = 200;
  f.max_num_algo_orders = 5;
  c.default_stp = StpMode::kExpireMaker;
  return c;
}

// A scale-0 base: whole tokens, tick 0.0001 USDT, step 1 TKN, min notional 1 USDT.
inline SymbolConfig TknUsdtConfig() {
  SymbolConfig c;
  c.name = MakeName("TKNUSDT");
  c.base_asset = kTkn;
  c.quote_asset = kUsdt;
  SymbolFilters& f = c.filters;
  f.min_price = Px("0.0001");
  f.max_price = Px("1000");
  f.tick_size = Px("0.0001");
  f.min_qty = Tkn("1");
  f.max_qty = Tkn("1000000");
  f.step_size = Tkn("1");
  f.min_notional = Usdt("1");
  c.default_stp = StpMode::kExpireMaker;
  return c;
}

// ---------------------------------------------------------------------------------------------
// Decoded events of one command

using AnyEvent =
    std::variant<CommandRejected, OrderAccepted, OrderUpdate, OrderCanceledBy, OrderAmended, Trade,
                 PreventedMatch, BalanceChanged, BookLevel, OrderList, Transfer, AssetAdded,
                 SymbolAdded, SymbolStatusChanged, AccountUpdated>;

template <class E>
constexpr size_t RecordSize() {
  return (sizeof(EventHeader) + sizeof(E) + 7) & ~size_t{7};
}

struct Out {
  ApplyResult result;            // `events` reset: the span dies with the next Apply
  std::vector<std::byte> bytes;  // the raw records, for byte-for-byte comparisons
  std::vector<AnyEvent> events;

  RejectCode code() const { return result.code; }
  OrderId order_id() const { return result.order_id; }

  // "OrderAccepted Trade OrderUpdate OrderUpdate BalanceChanged*4 BookLevel": the event types in
  // order, runs of the same type folded as "*n".
  std::string Types() const {
    std::string s;
    for (size_t i = 0; i < events.size();) {
      size_t j = i;
      while (j < events.size() && events[j].index() == events[i].index()) ++j;
      if (!s.empty()) s += ' ';
      s += std::visit([](const auto& e) { return std::string(EventName(e.kType)); }, events[i]);
      if (j - i > 1) s += "*" + std::to_string(j - i);
      i = j;
    }
    return s;
  }

  template <class E>
  std::vector<E> All() const {
    std::vector<E> out;
    for (const auto& e : events) {
      if (const E* p = std::get_if<E>(&e)) out.push_back(*p);
    }
    return out;
  }
  // The only event of type E (fails the test unless there is exactly one).
  template <class E>
  E One() const {
    const auto all = All<E>();
    EXPECT_EQ(all.size(), 1u) << "events: " << Types();
    return all.empty() ? E{} : all[0];
  }
  // Event number `i` (0-based) of the command, which must be an E.
  template <class E>
  E At(size_t i) const {
    if (i >= events.size() || !std::holds_alternative<E>(events[i])) {
      ADD_FAILURE() << "event " << i << " is not a " << EventName(E::kType)
                    << "; events: " << Types();
      return E{};
    }
    return std::get<E>(events[i]);
  }
  std::vector<OrderUpdate> UpdatesOf(OrderId id) const {
    std::vector<OrderUpdate> out;
    for (const auto& u : All<OrderUpdate>()) {
      if (u.order_id == id) out.push_back(u);
    }
    return out;
  }
  std::optional<BalanceChanged> BalanceOf(AccountId account, AssetId asset) const {
    for (const auto& b : All<BalanceChanged>()) {
      if (b.account == account && b.asset == asset) return b;
    }
    return std::nullopt;
  }
};

template <class E>
void DecodeOne(const EventReader& r, Out& out) {
  EXPECT_EQ(r.header().size, RecordSize<E>()) << EventName(E::kType);
  E e;
  std::memcpy(&e, &r.As<E>(), sizeof(E));  // copy: no alignment assumptions on the buffer
  out.events.emplace_back(e);
}

// Decodes the records of one command and checks the headers: every record carries `seq`, the
// indexes count 0, 1, 2, ... and the sizes are the fixed record sizes.
inline Out Decode(const ApplyResult& r, Seq seq) {
  Out out;
  out.result = r;
  out.result.events = {};
  out.bytes.assign(r.events.begin(), r.events.end());
  EventReader reader(out.bytes);
  uint32_t index = 0;
  while (!reader.Done()) {
    const EventHeader& h = reader.header();
    EXPECT_EQ(h.seq, seq);
    EXPECT_EQ(h.index, index++);
    switch (h.type) {
      case EventType::kCommandRejected:
        DecodeOne<CommandRejected>(reader, out);
        break;
      case EventType::kOrderAccepted:
        DecodeOne<OrderAccepted>(reader, out);
        break;
      case EventType::kOrderUpdate:
        DecodeOne<OrderUpdate>(reader, out);
        break;
      case EventType::kOrderCanceledBy:
        DecodeOne<OrderCanceledBy>(reader, out);
        break;
      case EventType::kOrderAmended:
        DecodeOne<OrderAmended>(reader, out);
        break;
      case EventType::kTrade:
        DecodeOne<Trade>(reader, out);
        break;
      case EventType::kPreventedMatch:
        DecodeOne<PreventedMatch>(reader, out);
        break;
      case EventType::kBalanceChanged:
        DecodeOne<BalanceChanged>(reader, out);
        break;
      case EventType::kBookLevel:
        DecodeOne<BookLevel>(reader, out);
        break;
      case EventType::kOrderList:
        DecodeOne<OrderList>(reader, out);
        break;
      case EventType::kTransfer:
        DecodeOne<Transfer>(reader, out);
        break;
      case EventType::kAssetAdded:
        DecodeOne<AssetAdded>(reader, out);
        break;
      case EventType::kSymbolAdded:
        DecodeOne<SymbolAdded>(reader, out);
        break;
      case EventType::kSymbolStatusChanged:
        DecodeOne<SymbolStatusChanged>(reader, out);
        break;
      case EventType::kAccountUpdated:
        DecodeOne<AccountUpdated>(reader, out);
        break;
      default:
        ADD_FAILURE() << "unknown event type " << static_cast<int>(h.type);
        return out;
    }
    reader.Next();
  }
  return out;
}

// "65000.5" from 6500050000000 at scale 8: trailing zeros and a bare dot trimmed.
inline std::string Fmt(int64_t units, int scale) {
  std::string s = core::FormatDecimal(units, scale);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

// Runs `body` in a forked child (a gtest death test) and expects it to return true and exit
// normally. For scenarios that may crash the engine (an assertion, ASan or UBSan): the crash
// fails only the calling test instead of the whole binary. Failed EXPECTs inside the child are
// not reported to the parent; `body` reports through its result and stderr.
inline void ExpectInChild(const std::function<bool()>& body) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT({ std::exit(body() ? 0 : 1); }, ::testing::ExitedWithCode(0), "");
}

// ---------------------------------------------------------------------------------------------
// The fixture

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Ok(Apply(AddAsset{MakeName("BTC"), 8}));
    Ok(Apply(AddAsset{MakeName("USDT"), 8}));
    Ok(Apply(AddAsset{MakeName("TKN"), 0}));
    Ok(Apply(AddSymbol{BtcUsdtConfig()}));
    Ok(Apply(AddSymbol{TknUsdtConfig()}));
    for (AccountId a : {kAlice, kBob, kCarol, kDave}) {
      OpenAndFund(a, "10", "1000000", "1000");
    }
  }

  // --- Applying commands ---

  // Applies `body` as the next command (seq + 1, time now_ms_), decodes its events and checks
  // the engine's invariants and conservation.
  Out Apply(const CommandBody& body) { return ApplyAt(seq_ + 1, body); }

  Out ApplyAt(Seq seq, const CommandBody& body) {
    const Command cmd{.seq = seq, .time_ms = now_ms_, .body = body};
    const ApplyResult r = engine_.Apply(cmd);
    if (seq > seq_) seq_ = seq;
    Out out = Decode(r, seq);
    if (check_invariants_) {
      EXPECT_EQ(engine_.CheckInvariants(), "") << "after seq " << seq << ": " << out.Types();
      for (const auto& t : engine_.Totals()) {
        EXPECT_TRUE(t.net_deposits == t.balances) << "asset " << t.asset << " not conserved";
      }
    }
    return out;
  }

  static void Ok(const Out& out, std::source_location loc = std::source_location::current()) {
    ::testing::ScopedTrace trace(loc.file_name(), static_cast<int>(loc.line()), "Ok()");
    EXPECT_EQ(out.code(), RejectCode::kNone) << "events: " << out.Types();
    EXPECT_TRUE(out.All<CommandRejected>().empty());
  }

  // Applies `body`, which must be rejected with `code` — exactly one CommandRejected event, the
  // Binance code and message, and a StateHash() equal to the one before.
  Out ExpectReject(const CommandBody& body, RejectCode code, int32_t binance_code,
                   std::string_view binance_msg,
                   std::source_location loc = std::source_location::current()) {
    ::testing::ScopedTrace trace(loc.file_name(), static_cast<int>(loc.line()), "ExpectReject");
    const uint64_t hash = engine_.StateHash();
    Out out = Apply(body);
    EXPECT_EQ(out.code(), code);
    EXPECT_EQ(out.Types(), "CommandRejected");
    EXPECT_EQ(out.One<CommandRejected>().code, code);
    EXPECT_EQ(static_cast<size_t>(out.One<CommandRejected>().command_index), body.index());
    const BinanceError b = ToBinance(code);
    EXPECT_EQ(b.code, binance_code);
    EXPECT_EQ(b.msg, binance_msg);
    EXPECT_EQ(engine_.StateHash(), hash) << "a rejected command changed the state";
    return out;
  }

  // --- Setup helpers ---

  void OpenAndFund(AccountId a, std::string_view btc, std::string_view usdt, std::string_view tkn) {
    Ok(Apply(OpenAccount{a}));
    Ok(Apply(Deposit{a, kBtc, BtcAmt(btc)}));
    Ok(Apply(Deposit{a, kUsdt, Usdt(usdt)}));
    Ok(Apply(Deposit{a, kTkn, TknAmt(tkn)}));
  }

  // Lists an extra symbol (a variant of BTCUSDT with other filters) and returns its id.
  SymbolId ListSymbol(const SymbolConfig& cfg) {
    Out out = Apply(AddSymbol{cfg});
    Ok(out);
    return out.One<SymbolAdded>().symbol;
  }

  void SetDefaultFees(int64_t maker_e8, int64_t taker_e8) {
    Ok(Apply(SetFees{kDefaultsAccount, maker_e8, taker_e8}));
  }

  // Makes `price` the last price of BTCUSDT: Dave sells 0.01 BTC and Dave buys it back (STP NONE
  // so that the self-trade happens). Leaves no order behind.
  void TradeAt(Price price, SymbolId symbol = kBtcUsdt) {
    NewOrder sell = Limit(kDave, kSell, price, Btc("0.01"));
    sell.symbol = symbol;
    sell.stp = StpMode::kNone;
    NewOrder buy = Limit(kDave, kBuy, price, Btc("0.01"));
    buy.symbol = symbol;
    buy.stp = StpMode::kNone;
    Ok(Place(sell));
    Out out = Place(buy);
    Ok(out);
    EXPECT_EQ(out.All<Trade>().size(), 1u);
  }

  // --- Order builders (BTCUSDT unless the test changes `.symbol`) ---

  static NewOrder Limit(AccountId a, Side side, Price price, Qty qty, TimeInForce tif = kGtc) {
    NewOrder o;
    o.account = a;
    o.symbol = kBtcUsdt;
    o.side = side;
    o.type = OrderType::kLimit;
    o.tif = tif;
    o.price = price;
    o.qty = qty;
    return o;
  }
  static NewOrder LimitMaker(AccountId a, Side side, Price price, Qty qty) {
    NewOrder o = Limit(a, side, price, qty, TimeInForce::kNone);
    o.type = OrderType::kLimitMaker;
    return o;
  }
  static NewOrder Market(AccountId a, Side side, Qty qty) {
    NewOrder o;
    o.account = a;
    o.symbol = kBtcUsdt;
    o.side = side;
    o.type = OrderType::kMarket;
    o.qty = qty;
    return o;
  }
  static NewOrder MarketQuote(AccountId a, Side side, Amount quote) {
    NewOrder o = Market(a, side, Qty(0));
    o.quote_qty = quote;
    return o;
  }
  // STOP_LOSS / TAKE_PROFIT (a MARKET order once triggered).
  static NewOrder StopMarket(OrderType type, AccountId a, Side side, Price stop, Qty qty) {
    NewOrder o = Market(a, side, qty);
    o.type = type;
    o.stop_price = stop;
    return o;
  }
  // STOP_LOSS_LIMIT / TAKE_PROFIT_LIMIT (a LIMIT order once triggered).
  static NewOrder StopLimit(OrderType type, AccountId a, Side side, Price stop, Price price,
                            Qty qty, TimeInForce tif = kGtc) {
    NewOrder o = Limit(a, side, price, qty, tif);
    o.type = type;
    o.stop_price = stop;
    return o;
  }
  static NewOrder WithCid(NewOrder o, std::string_view cid) {
    o.client_order_id = Cid(cid);
    return o;
  }

  Out Place(const NewOrder& o) { return Apply(PlaceOrder{o}); }

  static CancelOrder CancelCmd(AccountId a, OrderId id, std::string_view orig_cid = {},
                               std::string_view new_cid = {}, SymbolId symbol = kBtcUsdt) {
    CancelOrder c;
    c.ref.account = a;
    c.ref.symbol = symbol;
    c.ref.order_id = id;
    if (!orig_cid.empty()) c.ref.orig_client_order_id = Cid(orig_cid);
    if (!new_cid.empty()) c.new_client_order_id = Cid(new_cid);
    return c;
  }
  Out Cancel(AccountId a, OrderId id, std::string_view orig_cid = {},
             std::string_view new_cid = {}) {
    return Apply(CancelCmd(a, id, orig_cid, new_cid));
  }
  static AmendOrder AmendCmd(AccountId a, OrderId id, Qty new_qty, std::string_view new_cid = {}) {
    AmendOrder c;
    c.ref.account = a;
    c.ref.symbol = kBtcUsdt;
    c.ref.order_id = id;
    c.new_qty = new_qty;
    if (!new_cid.empty()) c.new_client_order_id = Cid(new_cid);
    return c;
  }
  static CancelReplace ReplaceCmd(AccountId a, OrderId cancel_id, const NewOrder& o,
                                  CancelReplaceMode mode) {
    CancelReplace c;
    c.cancel = CancelCmd(a, cancel_id);
    c.order = o;
    c.mode = mode;
    return c;
  }
  // SELL OCO: above = LIMIT_MAKER at `limit`, below = STOP_LOSS_LIMIT (stop, stop_limit) or
  // STOP_LOSS when `stop_limit` is zero.
  static PlaceOco SellOco(AccountId a, Qty qty, Price limit, Price stop, Price stop_limit) {
    PlaceOco c;
    c.account = a;
    c.symbol = kBtcUsdt;
    c.side = kSell;
    c.qty = qty;
    c.above = OcoLeg{.type = OrderType::kLimitMaker, .price = limit};
    c.below = StopLeg(stop, stop_limit);
    return c;
  }
  // BUY OCO: above = STOP_LOSS_LIMIT / STOP_LOSS, below = LIMIT_MAKER at `limit`.
  static PlaceOco BuyOco(AccountId a, Qty qty, Price limit, Price stop, Price stop_limit) {
    PlaceOco c;
    c.account = a;
    c.symbol = kBtcUsdt;
    c.side = kBuy;
    c.qty = qty;
    c.above = StopLeg(stop, stop_limit);
    c.below = OcoLeg{.type = OrderType::kLimitMaker, .price = limit};
    return c;
  }
  static OcoLeg StopLeg(Price stop, Price stop_limit) {
    if (stop_limit.v == 0) return OcoLeg{.type = OrderType::kStopLoss, .stop_price = stop};
    return OcoLeg{
        .type = OrderType::kStopLossLimit, .price = stop_limit, .stop_price = stop, .tif = kGtc};
  }

  // --- Queries ---

  BalanceView Bal(AccountId a, AssetId asset) const {
    return engine_.Balance(a, asset).value_or(BalanceView{asset, Amount(0), Amount(0)});
  }
  Amount Free(AccountId a, AssetId asset) const { return Bal(a, asset).free; }
  Amount Locked(AccountId a, AssetId asset) const { return Bal(a, asset).locked; }
  BookView BookOf(SymbolId symbol = kBtcUsdt) const {
    return engine_.Book(symbol, 1000).value_or(BookView{});
  }
  // "65000x0.5 64999.99x1": price x visible qty, best first.
  std::string BookSideText(SymbolId symbol, Side side) const {
    const BookView b = BookOf(symbol);
    const int base_scale = engine_.Assets()[engine_.Symbols()[symbol].config.base_asset].scale;
    const int quote_scale = engine_.Assets()[engine_.Symbols()[symbol].config.quote_asset].scale;
    std::string s;
    for (const LevelView& l : side == kBuy ? b.bids : b.asks) {
      if (!s.empty()) s += ' ';
      s += Fmt(l.price.v, quote_scale) + "x" + Fmt(l.qty.v, base_scale);
    }
    return s;
  }
  std::string Bids(SymbolId symbol = kBtcUsdt) const { return BookSideText(symbol, kBuy); }
  std::string Asks(SymbolId symbol = kBtcUsdt) const { return BookSideText(symbol, kSell); }
  std::optional<OrderView> Order(AccountId a, OrderId id, SymbolId symbol = kBtcUsdt) const {
    return engine_.FindOrder(a, symbol, id);
  }
  Price LastPrice(SymbolId symbol = kBtcUsdt) const { return engine_.Symbols()[symbol].last_price; }

  Engine engine_;
  Seq seq_ = 0;
  TimeMs now_ms_ = kT0;
  bool check_invariants_ = true;
};

}  // namespace test
}  // namespace spotex::engine
