// Engine: canonical serialization, state hash, restore and invariant checks.
#include <algorithm>
#include <cstring>
#include <string>

#include "engine/state.h"
#include "engine/validate.h"

namespace spotex::engine {
namespace {

constexpr char kMagic[8] = {'S', 'P', 'X', 'S', 'N', 'A', 'P', '1'};
constexpr uint32_t kVersion = 1;
// magic, version, checksum (FNV-1a 64 of every byte after it), then last_seq and now_ms: the
// log position, not trading state, so the state hash leaves the whole header out.
constexpr size_t kChecksumAt = 8 + 4;
constexpr size_t kHeaderSize = kChecksumAt + 8 + 8 + 8;

class Writer {
 public:
  std::vector<std::byte> out;

  template <class T>
  void Put(T v) {
    static_assert(std::is_integral_v<T> || std::is_enum_v<T>);
    const size_t at = out.size();
    out.resize(at + sizeof(T));
    std::memcpy(out.data() + at, &v, sizeof(T));
  }
  void Put128(__int128 v) {
    Put(static_cast<uint64_t>(static_cast<unsigned __int128>(v)));
    Put(static_cast<uint64_t>(static_cast<unsigned __int128>(v) >> 64));
  }
  template <class Tag>
  void Put(core::StrongInt<Tag> v) {
    Put(v.v);
  }
  void Put(bool v) { Put(static_cast<uint8_t>(v)); }
  void PutBytes(const char* p, uint8_t len) {
    Put(len);
    const size_t at = out.size();
    out.resize(at + len);
    std::memcpy(out.data() + at, p, len);
  }
  void Put(const ClientOrderId& id) { PutBytes(id.bytes, id.len); }
  void Put(const Name& n) { PutBytes(n.bytes, n.len); }
};

class Reader {
 public:
  explicit Reader(std::span<const std::byte> in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return pos_ == in_.size(); }

  template <class T>
  T Get() {
    static_assert(std::is_integral_v<T> || std::is_enum_v<T>);
    T v{};
    if (pos_ + sizeof(T) > in_.size()) {
      ok_ = false;
      return v;
    }
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  __int128 Get128() {
    const auto lo = Get<uint64_t>();
    const auto hi = Get<uint64_t>();
    return static_cast<__int128>((static_cast<unsigned __int128>(hi) << 64) | lo);
  }
  template <class S>
  S GetStrong() {
    return S(Get<int64_t>());
  }
  bool GetBool() {
    const auto v = Get<uint8_t>();
    if (v > 1) ok_ = false;
    return v == 1;
  }
  template <class Fixed>
  Fixed GetFixed() {
    Fixed f;
    const auto len = Get<uint8_t>();
    if (len > Fixed::kMaxLen || pos_ + len > in_.size()) {
      ok_ = false;
      return f;
    }
    std::memcpy(f.bytes, in_.data() + pos_, len);
    f.len = len;
    pos_ += len;
    return f;
  }
  // Counts read from bytes bound every loop: no count may exceed what the bytes could hold.
  uint64_t GetCount(size_t min_item_bytes) {
    const auto n = Get<uint64_t>();
    if (n > (in_.size() - pos_) / std::max<size_t>(min_item_bytes, 1)) {
      ok_ = false;
      return 0;
    }
    return n;
  }
  void Fail() { ok_ = false; }

 private:
  std::span<const std::byte> in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

uint64_t Fnv1a(std::span<const std::byte> bytes) {
  uint64_t h = 1469598103934665603ULL;
  for (std::byte b : bytes) {
    h = (h ^ static_cast<uint8_t>(b)) * 1099511628211ULL;
  }
  return h;
}

void PutConfig(Writer& w, const SymbolConfig& c) {
  const SymbolFilters& f = c.filters;
  w.Put(c.name);
  w.Put(c.base_asset);
  w.Put(c.quote_asset);
  w.Put(c.status);
  for (int64_t v : {f.min_price.v, f.max_price.v, f.tick_size.v, f.min_qty.v, f.max_qty.v,
                    f.step_size.v, f.market_min_qty.v, f.market_max_qty.v, f.market_step_size.v,
                    f.min_notional.v, f.max_notional.v, f.bid_multiplier_up_e8,
                    f.bid_multiplier_down_e8, f.ask_multiplier_up_e8, f.ask_multiplier_down_e8}) {
    w.Put(v);
  }
  w.Put(f.apply_min_to_market);
  w.Put(f.apply_max_to_market);
  w.Put(f.legacy_min_notional);
  w.Put(f.avg_price_mins);
  w.Put(f.iceberg_parts);
  w.Put(f.max_num_orders);
  w.Put(f.max_num_algo_orders);
  w.Put(c.iceberg_allowed);
  w.Put(c.oco_allowed);
  w.Put(c.quote_order_qty_market_allowed);
  w.Put(c.cancel_replace_allowed);
  w.Put(c.amend_allowed);
  w.Put(c.default_stp);
}

SymbolConfig GetConfig(Reader& r) {
  SymbolConfig c;
  SymbolFilters& f = c.filters;
  c.name = r.GetFixed<Name>();
  c.base_asset = r.Get<AssetId>();
  c.quote_asset = r.Get<AssetId>();
  c.status = r.Get<SymbolStatus>();
  for (int64_t* v :
       {&f.min_price.v, &f.max_price.v, &f.tick_size.v, &f.min_qty.v, &f.max_qty.v, &f.step_size.v,
        &f.market_min_qty.v, &f.market_max_qty.v, &f.market_step_size.v, &f.min_notional.v,
        &f.max_notional.v, &f.bid_multiplier_up_e8, &f.bid_multiplier_down_e8,
        &f.ask_multiplier_up_e8, &f.ask_multiplier_down_e8}) {
    *v = r.Get<int64_t>();
  }
  f.apply_min_to_market = r.GetBool();
  f.apply_max_to_market = r.GetBool();
  f.legacy_min_notional = r.GetBool();
  f.avg_price_mins = r.Get<int32_t>();
  f.iceberg_parts = r.Get<int32_t>();
  f.max_num_orders = r.Get<int32_t>();
  f.max_num_algo_orders = r.Get<int32_t>();
  c.iceberg_allowed = r.GetBool();
  c.oco_allowed = r.GetBool();
  c.quote_order_qty_market_allowed = r.GetBool();
  c.cancel_replace_allowed = r.GetBool();
  c.amend_allowed = r.GetBool();
  c.default_stp = r.Get<StpMode>();
  return c;
}

void PutOrder(Writer& w, const Order& o, const OrderCold& c) {
  w.Put(o.id);
  w.Put(o.account);
  w.Put(o.side);
  w.Put(o.type);
  w.Put(o.tif);
  w.Put(o.stp);
  w.Put(o.status);
  for (int64_t v :
       {o.price.v, o.qty.v, o.executed.v, o.display.v, o.cum_quote.v, o.reserved.v, o.quote_qty.v,
        c.stop_price.v, o.iceberg_qty.v, c.list_id, c.time_ms, o.update_ms}) {
    w.Put(v);
  }
  w.Put(c.client_id);
}

void PutSide(Writer& w, const EngineState& s, const BookSide& side) {
  w.Put(static_cast<uint64_t>(side.levels.size()));
  for (size_t i = side.levels.size(); i > 0; --i) {  // best first
    const Level& l = s.levels[side.levels[i - 1]];
    w.Put(l.price);
    w.Put(static_cast<uint64_t>(l.count));
    for (uint32_t o = l.head; o != kNil; o = s.orders[o].next) {
      PutOrder(w, s.orders[o], s.cold[o]);
    }
  }
}

std::vector<std::byte> SerializeState(const EngineState& s) {
  Writer w;
  w.out.reserve(1 << 16);
  for (char c : kMagic) w.Put(c);
  w.Put(kVersion);
  w.Put(uint64_t{0});  // checksum, filled in below
  w.Put(s.last_seq);
  w.Put(s.now_ms);
  // Body (hashed).
  for (int64_t v : {s.next_order_id, s.next_list_id, s.next_trade_id, s.next_prevented_id,
                    s.default_maker_e8, s.default_taker_e8}) {
    w.Put(v);
  }
  w.Put(static_cast<uint64_t>(s.assets.size()));
  for (const AssetState& a : s.assets) {
    w.Put(a.name);
    w.Put(a.scale);
    w.Put128(a.net_deposits);
  }
  w.Put(static_cast<uint64_t>(s.accounts.size()));
  for (const Account& a : s.accounts) {
    w.Put(a.id);
    w.Put(a.maker_rate_e8);
    w.Put(a.taker_rate_e8);
    w.Put(a.own_fees);
    w.Put(a.frozen);
    w.Put(a.stp);
  }
  w.Put(static_cast<uint64_t>(s.balances.size()));
  for (const Balance& b : s.balances) {
    w.Put(b.account);
    w.Put(b.asset);
    w.Put(b.free);
    w.Put(b.locked);
  }
  w.Put(static_cast<uint64_t>(s.symbols.size()));
  for (const SymbolState& sym : s.symbols) {
    PutConfig(w, sym.cfg);
    w.Put(sym.update_id);
    w.Put(sym.last_price);
    w.Put(static_cast<uint64_t>(sym.buckets.size()));
    for (const AvgBucket& b : sym.buckets) {
      w.Put(b.minute);
      w.Put128(b.quote);
      w.Put128(b.qty);
    }
    PutSide(w, s, sym.bids);
    PutSide(w, s, sym.asks);
    for (const auto* stops : {&sym.stops_up, &sym.stops_down}) {
      w.Put(static_cast<uint64_t>(stops->size()));
      for (const StopEntry& e : *stops) {
        PutOrder(w, s.orders[e.slot], s.cold[e.slot]);
      }
    }
  }
  std::vector<const ListState*> lists;
  s.list_index.ForEach([&](uint64_t, uint32_t slot) { lists.push_back(&s.lists[slot]); });
  std::sort(lists.begin(), lists.end(),
            [](const ListState* a, const ListState* b) { return a->id < b->id; });
  w.Put(static_cast<uint64_t>(lists.size()));
  for (const ListState* l : lists) {
    w.Put(l->id);
    w.Put(l->account);
    w.Put(l->symbol);
    w.Put(l->leg_ids[0]);
    w.Put(l->leg_ids[1]);
    w.Put(l->time_ms);
    w.Put(l->client_id);
  }
  const uint64_t sum = Fnv1a(std::span(w.out).subspan(kChecksumAt + 8));
  std::memcpy(w.out.data() + kChecksumAt, &sum, sizeof(sum));
  return std::move(w.out);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Snapshots

std::vector<std::byte> Engine::Serialize() const { return SerializeState(*state_); }

uint64_t Engine::StateHash() const {
  const std::vector<std::byte> bytes = SerializeState(*state_);
  return Fnv1a(std::span(bytes).subspan(kHeaderSize));
}

namespace {

// Reads one order and gives it a slot with every index it belongs to. nullopt on bad data.
std::optional<uint32_t> RestoreOrder(Reader& r, EngineState& s, SymbolId symbol) {
  Order o;
  OrderCold c;
  o.id = r.Get<OrderId>();
  o.account = r.Get<uint32_t>();
  o.side = r.Get<Side>();
  o.type = r.Get<OrderType>();
  o.tif = r.Get<TimeInForce>();
  o.stp = r.Get<StpMode>();
  o.status = r.Get<OrderStatus>();
  for (int64_t* v :
       {&o.price.v, &o.qty.v, &o.executed.v, &o.display.v, &o.cum_quote.v, &o.reserved.v,
        &o.quote_qty.v, &c.stop_price.v, &o.iceberg_qty.v, &c.list_id, &c.time_ms, &o.update_ms}) {
    *v = r.Get<int64_t>();
  }
  c.client_id = r.GetFixed<ClientOrderId>();
  const ClientOrderId& cid = c.client_id;
  // Everything Apply would have refused to create is refused here too: a snapshot is input.
  if (!r.ok() || o.account == 0 || o.account >= s.accounts.size() || o.id <= 0 ||
      o.id >= s.next_order_id || s.order_index.Find(static_cast<uint64_t>(o.id)) != nullptr ||
      static_cast<uint8_t>(o.side) > 1 || static_cast<uint8_t>(o.type) > 6 ||
      static_cast<uint8_t>(o.tif) > 3 || o.stp == StpMode::kDefault ||
      static_cast<uint8_t>(o.stp) > 4 ||
      (o.status != OrderStatus::kNew && o.status != OrderStatus::kPartiallyFilled) ||
      o.price.v < 0 || o.qty.v <= 0 || o.executed.v < 0 || o.executed >= o.qty || o.display.v < 0 ||
      o.reserved.v < 0 || o.cum_quote.v < 0 || o.quote_qty.v != 0 || o.iceberg_qty.v < 0 ||
      c.stop_price.v < 0 || (IsStopType(o.type) != (c.stop_price.v > 0)) || c.list_id < -1 ||
      c.list_id == 0 || c.list_id >= s.next_list_id || !(o.IsPriced() == (o.price.v > 0))) {
    return std::nullopt;
  }
  // Time in force as Apply leaves it: none for LIMIT_MAKER and stop-market types, GTC/IOC/FOK
  // for the limit types (a working LIMIT is only ever GTC: IOC and FOK never rest).
  const bool tif_none = o.type == OrderType::kLimitMaker || o.type == OrderType::kStopLoss ||
                        o.type == OrderType::kTakeProfit || o.type == OrderType::kMarket;
  if (tif_none != (o.tif == TimeInForce::kNone) || o.type == OrderType::kMarket) {
    return std::nullopt;
  }
  if (!cid.empty()) {
    ClientOrderId probe;
    if (!probe.Assign(cid.view()) || s.client_index.Find(ClientKey{o.account, cid}) != nullptr) {
      return std::nullopt;
    }
  }
  o.symbol = symbol;
  o.acct_sym = s.AcctSymSlot(o.account, symbol);
  o.base_bal = s.acct_syms[o.acct_sym].base_bal;
  o.quote_bal = s.acct_syms[o.acct_sym].quote_bal;
  const auto slot = static_cast<uint32_t>(s.orders.size());
  s.symbols[symbol].open_qty[static_cast<int>(o.side)] += o.Remaining().v;
  s.orders.push_back(o);
  o.has_client_id = !cid.empty();
  s.orders.back().has_client_id = o.has_client_id;
  s.cold.push_back(c);
  s.order_index.Put(static_cast<uint64_t>(o.id), slot);
  if (!cid.empty()) {
    s.client_index.Put(ClientKey{o.account, cid}, slot);
  }
  AccountSymbol& as = s.acct_syms[o.acct_sym];
  s.orders[slot].acct_pos = static_cast<uint32_t>(as.open.size());
  as.open.push_back(slot);
  ++as.open_orders;
  return slot;
}

bool RestoreSide(Reader& r, EngineState& s, SymbolId symbol, Side side_id) {
  BookSide& side = s.symbols[symbol].SideOf(side_id);
  const uint64_t n_levels = r.GetCount(16);
  std::vector<int64_t> prices;
  std::vector<uint32_t> idx;
  for (uint64_t i = 0; i < n_levels && r.ok(); ++i) {
    const auto price = r.GetStrong<Price>();
    const uint64_t n_orders = r.GetCount(40);
    if (n_orders == 0 || price.v <= 0) return false;
    const auto li = static_cast<uint32_t>(s.levels.size());
    Level& l = s.levels.emplace_back();
    l.price = price;
    l.symbol = symbol;
    l.side = side_id;
    l.live = true;
    for (uint64_t k = 0; k < n_orders && r.ok(); ++k) {
      const auto slot = RestoreOrder(r, s, symbol);
      if (!slot) return false;
      Order& o = s.orders[*slot];
      Level& lv = s.levels[li];
      if (o.side != side_id || o.price != price || o.display.v <= 0 || o.display > o.Remaining()) {
        return false;
      }
      o.working = true;
      o.in_book = true;
      o.level = li;
      o.prev = lv.tail;
      if (lv.tail != kNil) {
        s.orders[lv.tail].next = *slot;
      } else {
        lv.head = *slot;
      }
      lv.tail = *slot;
      lv.visible += o.display;
      lv.total += o.Remaining();
      ++lv.count;
      ++s.acct_syms[o.acct_sym].book_orders[static_cast<int>(side_id)];
    }
    prices.push_back(price.v);
    idx.push_back(li);
  }
  // Stored best first; kept worst first.
  side.prices.assign(prices.rbegin(), prices.rend());
  side.levels.assign(idx.rbegin(), idx.rend());
  for (size_t i = 1; i < side.prices.size(); ++i) {
    const bool sorted = side_id == Side::kBuy ? side.prices[i - 1] < side.prices[i]
                                              : side.prices[i - 1] > side.prices[i];
    if (!sorted) return false;
  }
  return r.ok();
}

bool RestoreBody(Reader& r, EngineState& s) {
  for (int64_t* v : {&s.next_order_id, &s.next_list_id, &s.next_trade_id, &s.next_prevented_id,
                     &s.default_maker_e8, &s.default_taker_e8}) {
    *v = r.Get<int64_t>();
  }
  constexpr int64_t kIdMax = int64_t{1} << 53;  // ids stay exact in JSON doubles
  if (s.next_order_id < 1 || s.next_list_id < 1 || s.next_trade_id < 1 || s.next_prevented_id < 1 ||
      s.next_order_id > kIdMax || s.next_list_id > kIdMax || s.next_trade_id > kIdMax ||
      s.next_prevented_id > kIdMax || s.default_maker_e8 < 0 ||
      s.default_maker_e8 >= core::kRateOne || s.default_taker_e8 < 0 ||
      s.default_taker_e8 >= core::kRateOne) {
    return false;
  }
  const uint64_t n_assets = r.GetCount(21);
  for (uint64_t i = 0; i < n_assets && r.ok(); ++i) {
    AssetState a;
    a.name = r.GetFixed<Name>();
    a.scale = r.Get<int32_t>();
    a.net_deposits = r.Get128();
    Name probe;
    if (a.scale < 0 || a.scale > core::kMaxScale || a.net_deposits < 0 ||
        a.net_deposits > INT64_MAX || !probe.Assign(a.name.view())) {
      return false;
    }
    for (const AssetState& other : s.assets) {
      if (other.name == a.name) return false;
    }
    s.assets.push_back(a);
  }
  const uint64_t n_accounts = r.GetCount(27);
  if (n_accounts == 0) return false;
  s.accounts.clear();
  s.account_index = FlatMap<uint64_t, uint32_t>();
  for (uint64_t i = 0; i < n_accounts && r.ok(); ++i) {
    Account a;
    a.id = r.Get<AccountId>();
    a.maker_rate_e8 = r.Get<int64_t>();
    a.taker_rate_e8 = r.Get<int64_t>();
    a.own_fees = r.GetBool();
    a.frozen = r.GetBool();
    a.stp = r.Get<StpMode>();
    if (s.account_index.Find(a.id) != nullptr || (i == 0) != (a.id == kFeeAccount) ||
        a.maker_rate_e8 < 0 || a.maker_rate_e8 >= core::kRateOne || a.taker_rate_e8 < 0 ||
        a.taker_rate_e8 >= core::kRateOne || static_cast<uint8_t>(a.stp) > 4) {
      return false;
    }
    s.account_index.Put(a.id, static_cast<uint32_t>(s.accounts.size()));
    s.accounts.push_back(a);
  }
  const uint64_t n_balances = r.GetCount(24);
  for (uint64_t i = 0; i < n_balances && r.ok(); ++i) {
    Balance b;
    b.account = r.Get<uint32_t>();
    b.asset = r.Get<AssetId>();
    b.free = r.GetStrong<Amount>();
    b.locked = r.GetStrong<Amount>();
    if (b.account >= s.accounts.size() || b.asset >= s.assets.size() || b.free.v < 0 ||
        b.locked.v < 0 || s.balance_index.Find(Key2(b.account, b.asset)) != nullptr) {
      return false;
    }
    s.balance_index.Put(Key2(b.account, b.asset), static_cast<uint32_t>(s.balances.size()));
    s.balances.push_back(b);
  }
  for (AssetId a = 0; a < s.assets.size(); ++a) {
    s.fee_balance.push_back(s.BalanceSlot(0, a));
  }
  const uint64_t n_symbols = r.GetCount(64);
  for (uint64_t i = 0; i < n_symbols && r.ok(); ++i) {
    const auto id = static_cast<SymbolId>(s.symbols.size());
    SymbolState& sym = s.symbols.emplace_back();
    sym.cfg = GetConfig(r);
    if (!r.ok() || CheckSymbolConfig(sym.cfg, s.assets) != RejectCode::kNone) {
      return false;
    }
    for (SymbolId other = 0; other < id; ++other) {
      if (s.symbols[other].cfg.name == sym.cfg.name) return false;
    }
    sym.base_unit = core::Pow10(s.assets[sym.cfg.base_asset].scale);
    sym.update_id = r.Get<UpdateId>();
    sym.last_price = r.GetStrong<Price>();
    if (sym.update_id < 0 || sym.last_price.v < 0) return false;
    const uint64_t n_buckets = r.GetCount(40);
    if (n_buckets != static_cast<uint64_t>(sym.cfg.filters.avg_price_mins)) return false;
    for (uint64_t k = 0; k < n_buckets; ++k) {
      AvgBucket b;
      b.minute = r.Get<int64_t>();
      b.quote = r.Get128();
      b.qty = r.Get128();
      // As RecordTrade leaves them: saturated sums, the bucket's own ring slot, not in the future.
      const int64_t n = static_cast<int64_t>(n_buckets);
      if (b.quote < 0 || b.quote > AvgBucket::kMax || b.qty < 0 || b.qty > AvgBucket::kMax ||
          (b.minute != -1 && (b.minute < 0 || b.minute % n != static_cast<int64_t>(k) ||
                              b.minute > s.now_ms / 60000))) {
        return false;
      }
      sym.buckets.push_back(b);
    }
    if (!RestoreSide(r, s, id, Side::kBuy) || !RestoreSide(r, s, id, Side::kSell)) return false;
    for (int up = 1; up >= 0; --up) {
      const uint64_t n = r.GetCount(40);
      for (uint64_t k = 0; k < n && r.ok(); ++k) {
        const auto slot = RestoreOrder(r, s, id);
        if (!slot) return false;
        Order& o = s.orders[*slot];
        if (!IsStopType(o.type) || o.executed.v != 0) return false;
        const Price stop = s.cold[*slot].stop_price;
        // Right list, right place: AddStop's binary search relies on the order.
        const bool triggers_up = (o.side == Side::kBuy) == (o.type == OrderType::kStopLoss ||
                                                            o.type == OrderType::kStopLossLimit);
        if (triggers_up != (up == 1)) return false;
        auto& list = up ? s.symbols[id].stops_up : s.symbols[id].stops_down;
        if (!list.empty()) {
          const StopEntry& prev = list.back();
          const bool ordered =
              prev.stop != stop ? (up ? prev.stop < stop : prev.stop > stop) : prev.id < o.id;
          if (!ordered) return false;
        }
        o.working = false;
        ++s.acct_syms[o.acct_sym].algo_orders;
        list.push_back(StopEntry{stop, o.id, *slot});
      }
    }
  }
  const uint64_t n_lists = r.GetCount(37);
  for (uint64_t i = 0; i < n_lists && r.ok(); ++i) {
    ListState l;
    l.id = r.Get<OrderListId>();
    l.account = r.Get<uint32_t>();
    l.symbol = r.Get<SymbolId>();
    l.leg_ids[0] = r.Get<OrderId>();
    l.leg_ids[1] = r.Get<OrderId>();
    l.time_ms = r.Get<TimeMs>();
    l.client_id = r.GetFixed<ClientOrderId>();
    if (!r.ok() || l.id <= 0 || l.id >= s.next_list_id || l.account == 0 ||
        l.account >= s.accounts.size() || l.symbol >= s.symbols.size() ||
        s.list_index.Find(static_cast<uint64_t>(l.id)) != nullptr || l.leg_ids[0] == l.leg_ids[1]) {
      return false;
    }
    const auto ls = static_cast<uint32_t>(s.lists.size());
    for (int k = 0; k < 2; ++k) {
      const uint32_t* slot = s.order_index.Find(static_cast<uint64_t>(l.leg_ids[k]));
      if (slot == nullptr || s.cold[*slot].list_id != l.id ||
          s.orders[*slot].account != l.account || s.orders[*slot].symbol != l.symbol) {
        return false;
      }
      l.legs[k] = *slot;
      s.orders[*slot].list = ls;
    }
    const Order& a = s.orders[l.legs[0]];
    const Order& b = s.orders[l.legs[1]];
    const auto stop_loss = [](OrderType t) {
      return t == OrderType::kStopLoss || t == OrderType::kStopLossLimit;
    };
    const bool shape =
        a.side == b.side && a.qty == b.qty &&
        (a.side == Side::kSell ? a.type == OrderType::kLimitMaker && stop_loss(b.type)
                               : stop_loss(a.type) && b.type == OrderType::kLimitMaker);
    if (!shape || (!l.client_id.empty() && s.FindListByClientId(l.account, l.client_id) != kNil)) {
      return false;
    }
    s.lists.push_back(l);
    s.list_index.Put(static_cast<uint64_t>(l.id), ls);
    if (!l.client_id.empty()) {
      s.list_client_index.Put(ClientKey{l.account, l.client_id}, ls);
    }
  }
  return r.ok() && r.done();
}

}  // namespace

std::expected<Engine, Engine::RestoreError> Engine::Restore(std::span<const std::byte> bytes) {
  if (bytes.size() < kHeaderSize) return std::unexpected(RestoreError::kTruncated);
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return std::unexpected(RestoreError::kBadMagic);
  }
  Reader r(bytes.subspan(sizeof(kMagic)));
  if (r.Get<uint32_t>() != kVersion) return std::unexpected(RestoreError::kBadVersion);
  if (r.Get<uint64_t>() != Fnv1a(bytes.subspan(kChecksumAt + 8))) {
    return std::unexpected(RestoreError::kCorrupt);
  }
  Engine e;
  EngineState& s = *e.state_;
  s.last_seq = r.Get<Seq>();
  s.now_ms = r.Get<TimeMs>();
  if (s.now_ms < 0 || !RestoreBody(r, s) || !s.CheckConsistency().empty()) {
    return std::unexpected(RestoreError::kCorrupt);
  }
  return e;
}

// ---------------------------------------------------------------------------------------------
// Invariants

std::string Engine::CheckInvariants() const { return state_->CheckConsistency(); }

std::string EngineState::CheckConsistency() const {
  auto fail = [](std::string what) { return what; };
  std::vector<__int128> reserved(balances.size(), 0);
  std::vector<__int128> open_qty(symbols.size() * 2, 0);
  std::vector<int32_t> open(acct_syms.size(), 0), algo(acct_syms.size(), 0);
  size_t open_orders = 0;
  for (SymbolId id = 0; id < symbols.size(); ++id) {
    const SymbolState& sym = symbols[id];
    for (Side side : {Side::kBuy, Side::kSell}) {
      const BookSide& b = side == Side::kBuy ? sym.bids : sym.asks;
      if (b.prices.size() != b.levels.size()) return fail("price/level vectors differ");
      for (size_t i = 0; i < b.levels.size(); ++i) {
        const Level& l = levels[b.levels[i]];
        if (!l.live || l.price.v != b.prices[i] || l.side != side || l.symbol != id) {
          return fail("level does not match its slot");
        }
        if (i > 0 && (side == Side::kBuy ? b.prices[i - 1] >= b.prices[i]
                                         : b.prices[i - 1] <= b.prices[i])) {
          return fail("book side not sorted");
        }
        int64_t vis = 0, tot = 0;
        uint32_t count = 0, prev = kNil;
        for (uint32_t o = l.head; o != kNil; o = orders[o].next) {
          const Order& od = orders[o];
          if (od.prev != prev || !od.in_book || od.level != b.levels[i] || od.side != side ||
              od.price != l.price || od.display.v <= 0 || od.display > od.Remaining() ||
              (od.iceberg_qty.v > 0 && od.display > od.iceberg_qty) ||
              (od.iceberg_qty.v == 0 && od.display != od.Remaining())) {
            return fail("order " + std::to_string(od.id) + " inconsistent with its level");
          }
          vis += od.display.v;
          tot += od.Remaining().v;
          ++count;
          prev = o;
          if (count > orders.size()) return fail("level queue cycle");
        }
        if (l.tail != prev || count != l.count || vis != l.visible.v || tot != l.total.v) {
          return fail("level totals wrong at price " + std::to_string(l.price.v));
        }
      }
    }
    if (!sym.bids.prices.empty() && !sym.asks.prices.empty() &&
        sym.bids.prices.back() >= sym.asks.prices.back()) {
      return fail("crossed book on symbol " + std::to_string(id));
    }
  }
  std::string err;
  order_index.ForEach([&](uint64_t id, uint32_t slot) {
    const Order& o = orders[slot];
    if (!err.empty()) return;
    if (o.id != static_cast<OrderId>(id)) {
      err = "order index points at the wrong slot";
      return;
    }
    ++open_orders;
    open_qty[o.symbol * 2 + static_cast<int>(o.side)] += o.Remaining().v;
    reserved[o.side == Side::kBuy ? o.quote_bal : o.base_bal] += o.reserved.v;
    ++open[o.acct_sym];
    if (!o.working) ++algo[o.acct_sym];
    if (o.working && !o.in_book) err = "working order " + std::to_string(o.id) + " not in book";
    if (o.reserved.v < 0) err = "negative reserve on order " + std::to_string(o.id);
    // Every open order holds exactly what the spec says it reserves.
    const auto own_need = [this](const Order& x) -> __int128 {
      if (x.side == Side::kSell) return x.Remaining().v;
      if (x.IsPriced()) {
        return static_cast<__int128>(x.price.v) * x.Remaining().v / symbols[x.symbol].base_unit;
      }
      return 0;  // an untriggered stop-market BUY (working market orders never rest)
    };
    __int128 need = own_need(o);
    if (o.list != kNil) {
      const ListState& l = lists[o.list];
      const uint32_t other = l.legs[0] == slot ? l.legs[1] : l.legs[0];
      if (o.type != OrderType::kLimitMaker) {  // the stop leg: only beyond the limit leg's
        need = std::max<__int128>(0, need - own_need(orders[other]));
      }
    }
    if (need != o.reserved.v) err = "reserve of order " + std::to_string(o.id) + " is wrong";
  });
  if (!err.empty()) return err;
  for (size_t i = 0; i < symbols.size(); ++i) {
    for (int side = 0; side < 2; ++side) {
      if (open_qty[i * 2 + side] != symbols[i].open_qty[side] ||
          symbols[i].open_qty[side] > INT64_MAX) {
        return fail("open quantity of a book side wrong or above int64");
      }
    }
  }
  for (size_t i = 0; i < acct_syms.size(); ++i) {
    const AccountSymbol& as = acct_syms[i];
    if (open[i] != as.open_orders || algo[i] != as.algo_orders ||
        static_cast<size_t>(as.open_orders) != as.open.size()) {
      return fail("open-order counts wrong");
    }
    for (size_t k = 0; k < as.open.size(); ++k) {
      const Order& o = orders[as.open[k]];
      if (o.acct_pos != k || o.acct_sym != i || o.id == 0) {
        return fail("account open-order list inconsistent");
      }
    }
  }
  std::vector<__int128> totals(assets.size(), 0);
  for (size_t i = 0; i < balances.size(); ++i) {
    const Balance& b = balances[i];
    if (b.free.v < 0 || b.locked.v < 0) return fail("negative balance");
    if (b.locked.v != reserved[i]) {
      return fail("locked " + std::to_string(b.locked.v) + " != reserved for account " +
                  std::to_string(accounts[b.account].id) + " asset " + std::to_string(b.asset));
    }
    totals[b.asset] += static_cast<__int128>(b.free.v) + b.locked.v;
  }
  for (size_t a = 0; a < assets.size(); ++a) {
    if (totals[a] != assets[a].net_deposits) return fail("asset not conserved");
  }
  (void)open_orders;
  return {};
}

std::vector<Engine::AssetTotals> Engine::Totals() const {
  const EngineState& s = *state_;
  std::vector<AssetTotals> out;
  for (AssetId a = 0; a < s.assets.size(); ++a) {
    out.push_back(AssetTotals{a, s.assets[a].net_deposits, 0});
  }
  for (const auto& b : s.balances) {
    out[b.asset].balances += static_cast<__int128>(b.free.v) + b.locked.v;
  }
  return out;
}

}  // namespace spotex::engine
