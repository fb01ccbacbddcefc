// Seeded random differential test: spotex::engine::Engine against the naive reference model
// (reference_model.h), command by command, byte for byte; plus determinism (same commands, same
// StateHash) and snapshot (Serialize/Restore mid-stream, then both continue identically) tests.
//
//   SPOTEX_DIFF_COMMANDS=N        total commands of the random run (default 1,000,000 over 4 seeds)
//   SPOTEX_DIFF_SEED=S            run only seed S (with all N commands)
//   SPOTEX_DIFF_SHRINK_SECONDS=T  time bound of the shrinking on failure (default 60)
//   SPOTEX_DIFF_COVERAGE=1        print what each seed exercised (event kinds, reject codes, ...)
//
// After every command: ApplyResult codes and ids, the event bytes, last_seq, the reference's own
// consistency, Engine::CheckInvariants(), balances + locked (== the reference's locked-needs) +
// open orders of the touched accounts (all accounts every 512 commands), the touched symbol's
// book (all every 512), Totals() conservation. Each seed runs in a forked child, so an engine
// abort is reported like a mismatch. On failure the test prints the seed, the index of the first
// failing command, a readable decoding of both event lists, then a shrunk command list that still
// fails the same check (order ids are global counters, so shrinking is limited: removing an
// earlier order renumbers the later ones).
//
// The file is long because it holds the tools that belong together: printers, the random world
// generator, the checker and the fork/shrink driver.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/assert.h"
#include "engine/engine.h"
#include "reference_model.h"

namespace spotex::engine {
namespace {

using ref::RefEngine;

// ---------------------------------------------------------------------------------------------
// Printers

std::string Str(const ClientOrderId& c) {
  const size_t n = std::min<size_t>(c.len, ClientOrderId::kMaxLen);
  std::string s(c.bytes, n);
  if (c.len > ClientOrderId::kMaxLen) {
    s += "<len=" + std::to_string(c.len) + ">";
  }
  return "\"" + s + "\"";
}
std::string Str(const Name& c) {
  return std::string(c.bytes, std::min<size_t>(c.len, Name::kMaxLen));
}
template <class E>
std::string EnumStr(E v) {
  const auto raw = static_cast<int>(v);
  if constexpr (std::is_same_v<E, Side>) {
    if (raw <= 1) {
      return std::string(ToString(v));
    }
  } else if constexpr (std::is_same_v<E, OrderType>) {
    if (raw <= 6) {
      return std::string(ToString(v));
    }
  } else if constexpr (std::is_same_v<E, TimeInForce>) {
    if (raw <= 3) {
      return std::string(ToString(v));
    }
  } else if constexpr (std::is_same_v<E, StpMode>) {
    if (raw <= 4) {
      return std::string(ToString(v));
    }
  } else if constexpr (std::is_same_v<E, OrderStatus>) {
    if (raw <= 7) {
      return std::string(ToString(v));
    }
  } else if constexpr (std::is_same_v<E, ExecType>) {
    if (raw <= 7) {
      return std::string(ToString(v));
    }
  } else if constexpr (std::is_same_v<E, ExpiryReason>) {
    if (raw <= 8) {
      return std::string(ToString(v));
    }
  } else if constexpr (std::is_same_v<E, SymbolStatus>) {
    if (raw <= 2) {
      return std::string(ToString(v));
    }
  } else if constexpr (std::is_same_v<E, RejectCode>) {
    if (raw < static_cast<int>(RejectCode::kCount)) {
      return std::string(ToString(v));
    }
  }
  return "?" + std::to_string(raw);
}

std::string DescribeNewOrder(const NewOrder& o) {
  std::ostringstream s;
  s << "acct=" << o.account << " sym=" << o.symbol << " " << EnumStr(o.side) << " "
    << EnumStr(o.type) << " tif=" << EnumStr(o.tif) << " stp=" << EnumStr(o.stp)
    << " px=" << o.price.v << " qty=" << o.qty.v;
  if (o.quote_qty.v) {
    s << " quote=" << o.quote_qty.v;
  }
  if (o.stop_price.v) {
    s << " stop=" << o.stop_price.v;
  }
  if (o.iceberg_qty.v) {
    s << " ice=" << o.iceberg_qty.v;
  }
  if (o.client_order_id.len) {
    s << " cid=" << Str(o.client_order_id);
  }
  return s.str();
}

std::string DescribeRef(const OrderRef& r) {
  std::ostringstream s;
  s << "acct=" << r.account << " sym=" << r.symbol << " id=" << r.order_id;
  if (r.orig_client_order_id.len) {
    s << " orig_cid=" << Str(r.orig_client_order_id);
  }
  return s.str();
}

std::string DescribeCommand(const Command& cmd) {
  std::ostringstream s;
  s << "seq=" << cmd.seq << " t=" << cmd.time_ms << " ";
  std::visit(
      [&](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, PlaceOrder>) {
          s << "PlaceOrder " << DescribeNewOrder(c.order);
        } else if constexpr (std::is_same_v<T, CancelOrder>) {
          s << "CancelOrder " << DescribeRef(c.ref);
          if (c.new_client_order_id.len) {
            s << " new_cid=" << Str(c.new_client_order_id);
          }
          s << " restr=" << static_cast<int>(c.restriction);
        } else if constexpr (std::is_same_v<T, CancelReplace>) {
          s << "CancelReplace mode=" << static_cast<int>(c.mode) << " cancel{"
            << DescribeRef(c.cancel.ref);
          if (c.cancel.new_client_order_id.len) {
            s << " new_cid=" << Str(c.cancel.new_client_order_id);
          }
          s << " restr=" << static_cast<int>(c.cancel.restriction) << "} new{"
            << DescribeNewOrder(c.order) << "}";
        } else if constexpr (std::is_same_v<T, CancelAll>) {
          s << "CancelAll acct=" << c.account << " sym=" << c.symbol;
        } else if constexpr (std::is_same_v<T, AmendOrder>) {
          s << "AmendOrder " << DescribeRef(c.ref) << " new_qty=" << c.new_qty.v;
          if (c.new_client_order_id.len) {
            s << " new_cid=" << Str(c.new_client_order_id);
          }
        } else if constexpr (std::is_same_v<T, PlaceOco>) {
          s << "PlaceOco acct=" << c.account << " sym=" << c.symbol << " " << EnumStr(c.side)
            << " qty=" << c.qty.v << " stp=" << EnumStr(c.stp);
          if (c.list_client_order_id.len) {
            s << " list_cid=" << Str(c.list_client_order_id);
          }
          for (const OcoLeg* l : {&c.above, &c.below}) {
            s << (l == &c.above ? " above{" : " below{") << EnumStr(l->type) << " px=" << l->price.v
              << " stop=" << l->stop_price.v << " tif=" << EnumStr(l->tif);
            if (l->iceberg_qty.v) {
              s << " ice=" << l->iceberg_qty.v;
            }
            if (l->client_order_id.len) {
              s << " cid=" << Str(l->client_order_id);
            }
            s << "}";
          }
        } else if constexpr (std::is_same_v<T, CancelOrderList>) {
          s << "CancelOrderList acct=" << c.account << " sym=" << c.symbol
            << " list=" << c.order_list_id;
          if (c.list_client_order_id.len) {
            s << " list_cid=" << Str(c.list_client_order_id);
          }
        } else if constexpr (std::is_same_v<T, AddAsset>) {
          s << "AddAsset " << Str(c.name) << " scale=" << c.scale;
        } else if constexpr (std::is_same_v<T, AddSymbol>) {
          const SymbolConfig& k = c.config;
          s << "AddSymbol " << Str(k.name) << " base=" << k.base_asset << " quote=" << k.quote_asset
            << " tick=" << k.filters.tick_size.v << " step=" << k.filters.step_size.v
            << " status=" << EnumStr(k.status);
        } else if constexpr (std::is_same_v<T, SetSymbolStatus>) {
          s << "SetSymbolStatus sym=" << c.symbol << " " << EnumStr(c.status);
        } else if constexpr (std::is_same_v<T, OpenAccount>) {
          s << "OpenAccount " << c.account;
        } else if constexpr (std::is_same_v<T, Deposit>) {
          s << "Deposit acct=" << c.account << " asset=" << c.asset << " amount=" << c.amount.v;
        } else if constexpr (std::is_same_v<T, Withdraw>) {
          s << "Withdraw acct=" << c.account << " asset=" << c.asset << " amount=" << c.amount.v;
        } else if constexpr (std::is_same_v<T, SetFees>) {
          s << "SetFees acct=" << c.account << " maker=" << c.maker_rate_e8
            << " taker=" << c.taker_rate_e8;
        } else if constexpr (std::is_same_v<T, SetAccountStp>) {
          s << "SetAccountStp acct=" << c.account << " " << EnumStr(c.mode);
        } else {
          s << "FreezeAccount acct=" << c.account << " frozen=" << c.frozen;
        }
      },
      cmd.body);
  return s.str();
}

std::string DescribeEvent(const EventReader& rd) {
  std::ostringstream s;
  const EventHeader& h = rd.header();
  s << "#" << h.index << " ";
  switch (h.type) {
    case EventType::kCommandRejected: {
      const auto& e = rd.As<CommandRejected>();
      s << "Rejected acct=" << e.account << " " << EnumStr(e.code)
        << " part=" << static_cast<int>(e.part) << " cmd=" << static_cast<int>(e.command_index)
        << " cid=" << Str(e.client_order_id);
      break;
    }
    case EventType::kOrderAccepted: {
      const auto& e = rd.As<OrderAccepted>();
      s << "Accepted id=" << e.order_id << " list=" << e.order_list_id << " acct=" << e.account
        << " sym=" << e.symbol << " " << EnumStr(e.side) << " " << EnumStr(e.type)
        << " tif=" << EnumStr(e.tif) << " stp=" << EnumStr(e.stp) << " " << EnumStr(e.status)
        << " working=" << e.working << " px=" << e.price.v << " qty=" << e.qty.v
        << " quote=" << e.quote_qty.v << " stop=" << e.stop_price.v << " ice=" << e.iceberg_qty.v
        << " t=" << e.time_ms << " cid=" << Str(e.client_order_id);
      break;
    }
    case EventType::kOrderUpdate: {
      const auto& e = rd.As<OrderUpdate>();
      s << "Update id=" << e.order_id << " acct=" << e.account << " sym=" << e.symbol << " "
        << EnumStr(e.exec) << " " << EnumStr(e.status) << " reason=" << EnumStr(e.reason)
        << " maker=" << e.is_maker << " exec=" << e.executed_qty.v << " cumq=" << e.cum_quote_qty.v
        << " last=" << e.last_qty.v << "@" << e.last_price.v << " trade=" << e.trade_id
        << " fee=" << e.commission.v << "/" << e.commission_asset << " pad=" << e.pad
        << " pm=" << e.prevented_match_id;
      break;
    }
    case EventType::kOrderCanceledBy: {
      const auto& e = rd.As<OrderCanceledBy>();
      s << "CanceledBy id=" << e.order_id << " cid=" << Str(e.cancel_client_order_id);
      break;
    }
    case EventType::kOrderAmended: {
      const auto& e = rd.As<OrderAmended>();
      s << "Amended id=" << e.order_id << " acct=" << e.account << " sym=" << e.symbol << " "
        << EnumStr(e.status) << " qty " << e.orig_qty.v << "->" << e.new_qty.v
        << " exec=" << e.executed_qty.v << " cid " << Str(e.orig_client_order_id) << "->"
        << Str(e.new_client_order_id);
      break;
    }
    case EventType::kTrade: {
      const auto& e = rd.As<Trade>();
      s << "Trade id=" << e.trade_id << " sym=" << e.symbol << " " << e.qty.v << "@" << e.price.v
        << " quote=" << e.quote_qty.v << " buyer_maker=" << e.buyer_is_maker
        << " buy=" << e.buyer_order_id << "/" << e.buyer << " sell=" << e.seller_order_id << "/"
        << e.seller << " fee_b=" << e.buyer_commission.v << " fee_s=" << e.seller_commission.v
        << " t=" << e.time_ms;
      break;
    }
    case EventType::kPreventedMatch: {
      const auto& e = rd.As<PreventedMatch>();
      s << "Prevented pm=" << e.prevented_match_id << " sym=" << e.symbol << " " << EnumStr(e.mode)
        << " taker=" << e.taker_order_id << " maker=" << e.maker_order_id << " acct=" << e.account
        << " " << e.qty.v << "@" << e.price.v << " t=" << e.time_ms;
      break;
    }
    case EventType::kBalanceChanged: {
      const auto& e = rd.As<BalanceChanged>();
      s << "Balance acct=" << e.account << " asset=" << e.asset << " free=" << e.free.v
        << " locked=" << e.locked.v << " dfree=" << e.delta_free.v
        << " dlocked=" << e.delta_locked.v;
      break;
    }
    case EventType::kBookLevel: {
      const auto& e = rd.As<BookLevel>();
      s << "Level sym=" << e.symbol << " " << EnumStr(e.side) << " u=" << e.update_id << " "
        << e.qty.v << "@" << e.price.v;
      break;
    }
    case EventType::kOrderList: {
      const auto& e = rd.As<OrderList>();
      s << "List id=" << e.order_list_id << " acct=" << e.account << " sym=" << e.symbol
        << " status=" << static_cast<int>(e.status) << " orders=" << e.order_ids[0] << ","
        << e.order_ids[1] << " t=" << e.time_ms << " cid=" << Str(e.list_client_order_id);
      break;
    }
    case EventType::kTransfer: {
      const auto& e = rd.As<Transfer>();
      s << "Transfer acct=" << e.account << " asset=" << e.asset << " " << e.amount.v
        << " t=" << e.time_ms;
      break;
    }
    case EventType::kAssetAdded: {
      const auto& e = rd.As<AssetAdded>();
      s << "AssetAdded " << e.asset << " " << Str(e.name) << " scale=" << e.scale;
      break;
    }
    case EventType::kSymbolAdded: {
      const auto& e = rd.As<SymbolAdded>();
      s << "SymbolAdded " << e.symbol << " " << Str(e.config.name);
      break;
    }
    case EventType::kSymbolStatusChanged: {
      const auto& e = rd.As<SymbolStatusChanged>();
      s << "SymbolStatus " << e.symbol << " " << EnumStr(e.status);
      break;
    }
    case EventType::kAccountUpdated: {
      const auto& e = rd.As<AccountUpdated>();
      s << "Account " << e.account << " maker=" << e.maker_rate_e8 << " taker=" << e.taker_rate_e8
        << " stp=" << EnumStr(e.stp) << " frozen=" << e.frozen;
      break;
    }
    default:
      s << "type " << static_cast<int>(h.type);
  }
  s << " (size " << h.size << ", seq " << h.seq << ")";
  return s.str();
}

std::string DescribeEvents(std::span<const std::byte> bytes) {
  std::string out;
  for (EventReader rd(bytes); !rd.Done(); rd.Next()) {
    out += "    " + DescribeEvent(rd) + "\n";
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Builders

ClientOrderId Cid(std::string_view s) {
  ClientOrderId c;
  const size_t n = std::min(s.size(), ClientOrderId::kMaxLen);
  std::memcpy(c.bytes, s.data(), n);
  c.len = static_cast<uint8_t>(s.size() > ClientOrderId::kMaxLen ? s.size() : n);
  return c;
}
Name MakeName(std::string_view s) {
  Name n;
  const size_t k = std::min(s.size(), Name::kMaxLen);
  std::memcpy(n.bytes, s.data(), k);
  n.len = static_cast<uint8_t>(k);
  return n;
}

// ---------------------------------------------------------------------------------------------
// The random world

struct SymbolPlan {
  std::string name;
  AssetId base, quote;
  int64_t tick, step, mid0;  // initial mid price
  int weight;
};

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  // The fixed listing/opening prologue.
  std::vector<Command> Prologue();
  // One random command given the reference state (used only for picking plausible targets).
  Command Next(const RefEngine& ref);

 private:
  uint64_t U(uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  int64_t R(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(U(hi - lo + 1)); }
  bool P(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  Command Wrap(CommandBody body) {
    Command c;
    c.seq = ++seq_;
    time_ += P(0.02) ? R(60'000, 400'000) : R(0, 4000);
    c.time_ms = time_;
    c.body = body;
    return c;
  }
  AccountId PickAccount();
  SymbolId PickSymbol();
  int64_t Mid(SymbolId s, const RefEngine& ref);
  ClientOrderId NewCid(AccountId a, const RefEngine& ref);
  const OrderView* PickOpen(const RefEngine& ref, std::vector<OrderView>* store, bool list_only);
  NewOrder GenOrder(const RefEngine& ref, AccountId a, SymbolId s);
  void Corrupt(NewOrder* o, const RefEngine& ref);
  PlaceOco GenOco(const RefEngine& ref);
  SymbolConfig Config(const SymbolPlan& p, int variant);

  std::mt19937_64 rng_;
  int burst_left_ = 0;
  AccountId burst_account_ = 1;
  SymbolId burst_symbol_ = 0;
  Seq seq_ = 0;
  TimeMs time_ = 1'767'225'600'000;
  std::vector<SymbolPlan> plans_;
  std::vector<int64_t> mid_ticks_;
  AccountId max_account_ = 0;
  uint64_t cid_counter_ = 0;
};

SymbolConfig Generator::Config(const SymbolPlan& p, int variant) {
  SymbolConfig c;
  std::memset(static_cast<void*>(&c), 0, sizeof c);  // zero padding: SymbolAdded is byte-compared
  c = SymbolConfig{};
  c.name = MakeName(p.name);
  c.base_asset = p.base;
  c.quote_asset = p.quote;
  c.status = SymbolStatus::kTrading;
  SymbolFilters& f = c.filters;
  f.tick_size = Price(p.tick);
  f.step_size = Qty(p.step);
  switch (variant) {
    case 0:  // BTCUSDT: realistic
      f.min_price = Price(p.tick);
      f.max_price = Price(1'000'000'000'000);
      f.min_qty = Qty(p.step);
      f.max_qty = Qty(10'000'000'000);
      f.market_max_qty = Qty(1'000'000'000);
      f.min_notional = Amount(5'000'000);
      f.max_notional = Amount(100'000'000'000);
      f.bid_multiplier_up_e8 = 120'000'000;
      f.bid_multiplier_down_e8 = 80'000'000;
      f.ask_multiplier_up_e8 = 125'000'000;
      f.ask_multiplier_down_e8 = 85'000'000;
      f.max_num_orders = 30;
      f.max_num_algo_orders = 5;
      c.default_stp = StpMode::kExpireMaker;
      break;
    case 1:  // ETHBTC: both scale 8, legacy MIN_NOTIONAL, coarser market step
      f.min_price = Price(p.tick);
      f.max_price = Price(100'000'000);
      f.min_qty = Qty(p.step);
      f.max_qty = Qty(100'000'000'000);
      f.market_min_qty = Qty(p.step * 10);
      f.market_max_qty = Qty(10'000'000'000);
      f.market_step_size = Qty(p.step * 10);
      f.min_notional = Amount(100'000);
      f.legacy_min_notional = true;
      f.apply_min_to_market = true;
      f.avg_price_mins = 3;
      f.iceberg_parts = 4;
      f.max_num_orders = 20;
      f.max_num_algo_orders = 3;
      c.default_stp = StpMode::kExpireBoth;
      break;
    case 2:  // PTSUSDT: scale-0 base, almost no filters (overflow reachable)
      f.apply_min_to_market = false;
      f.apply_max_to_market = true;
      f.avg_price_mins = 1;
      f.max_num_orders = 25;
      f.max_num_algo_orders = 4;
      c.default_stp = StpMode::kNone;
      break;
    default:  // ETHUSDT: restricted features
      f.min_price = Price(p.tick);
      f.min_qty = Qty(p.step);
      f.max_qty = Qty(p.step * 100);  // MARKET_LOT_SIZE is all zero: market orders may exceed it
      f.min_notional = Amount(1'000'000);
      f.max_notional = Amount(50'000'000'000);
      f.apply_max_to_market = true;
      f.max_num_orders = 10;
      f.max_num_algo_orders = 2;
      c.iceberg_allowed = false;
      c.oco_allowed = false;
      c.quote_order_qty_market_allowed = false;
      c.cancel_replace_allowed = false;
      c.amend_allowed = false;
      c.default_stp = StpMode::kExpireTaker;
      break;
  }
  return c;
}

std::vector<Command> Generator::Prologue() {
  std::vector<Command> out;
  const std::pair<const char*, int> assets[] = {{"BTC", 8}, {"USDT", 6}, {"ETH", 8}, {"PTS", 0}};
  for (const auto& [name, scale] : assets) {
    AddAsset a;
    a.name = MakeName(name);
    a.scale = scale;
    out.push_back(Wrap(a));
  }
  plans_ = {
      {"BTCUSDT", 0, 1, 10'000, 10'000, 30'000'000'000, 35},
      {"ETHBTC", 2, 0, 100, 1'000'000, 5'000'000, 25},
      {"PTSUSDT", 3, 1, 1'000, 1, 2'000'000, 28},
      {"ETHUSDT", 2, 1, 10'000, 1'000'000, 2'000'000'000, 12},
  };
  for (size_t i = 0; i < plans_.size(); ++i) {
    AddSymbol s;
    s.config = Config(plans_[i], static_cast<int>(i));
    out.push_back(Wrap(s));
    mid_ticks_.push_back(plans_[i].mid0 / plans_[i].tick);
  }
  out.push_back(Wrap(SetFees{kDefaultsAccount, 100'000, 200'000}));
  const int accounts = static_cast<int>(R(6, 14));
  for (int a = 1; a <= accounts; ++a) {
    out.push_back(Wrap(OpenAccount{static_cast<AccountId>(a)}));
    const bool poor = P(0.2);
    const int64_t amounts[] = {1'000'000'000, 500'000'000'000, 20'000'000'000, 1'000'000};
    for (AssetId asset = 0; asset < 4; ++asset) {
      out.push_back(Wrap(Deposit{static_cast<AccountId>(a), asset,
                                 Amount(poor ? amounts[asset] / 2000 + 1 : amounts[asset])}));
    }
  }
  max_account_ = accounts;
  out.push_back(Wrap(SetFees{3, 0, 0}));
  out.push_back(Wrap(SetFees{5, 500'000, 1'000'000}));
  out.push_back(Wrap(SetAccountStp{4, StpMode::kNone}));
  out.push_back(Wrap(SetAccountStp{6, StpMode::kExpireTaker}));
  return out;
}

AccountId Generator::PickAccount() {
  if (P(0.01)) {
    return P(0.5) ? kFeeAccount : 900 + U(3);
  }
  return 1 + U(max_account_);
}

SymbolId Generator::PickSymbol() {
  if (P(0.005)) {
    return 7;
  }
  int total = 0;
  for (const auto& p : plans_) {
    total += p.weight;
  }
  int x = static_cast<int>(U(total));
  for (SymbolId s = 0; s < plans_.size(); ++s) {
    if (x < plans_[s].weight) {
      return s;
    }
    x -= plans_[s].weight;
  }
  return 0;
}

int64_t Generator::Mid(SymbolId s, const RefEngine& ref) {
  // The mid drifts at random and is pulled toward the last trade, so the books cross often.
  int64_t& m = mid_ticks_[s];
  m += R(-2, 2);
  const int64_t last = ref.symbol(s).last_price / plans_[s].tick;
  if (last > 0 && P(0.3)) {
    m = (m * 3 + last) / 4;
  }
  const int64_t m0 = plans_[s].mid0 / plans_[s].tick;
  m = std::clamp<int64_t>(m, m0 / 2, m0 * 3 / 2);
  return m;
}

ClientOrderId Generator::NewCid(AccountId a, const RefEngine& ref) {
  if (P(0.05)) {
    auto open = ref.OpenOrders(a, std::nullopt);
    if (!open.empty()) return open[U(open.size())].client_order_id;  // a duplicate on purpose
  }
  if (P(0.45)) return ClientOrderId{};
  return Cid("c-" + std::to_string(++cid_counter_));
}

const OrderView* Generator::PickOpen(const RefEngine& ref, std::vector<OrderView>* store,
                                     bool list_only) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    *store = ref.OpenOrders(1 + U(max_account_), std::nullopt);
    if (list_only) {
      std::erase_if(*store, [](const OrderView& v) { return v.order_list_id == -1; });
    }
    if (!store->empty()) {
      return &(*store)[U(store->size())];
    }
  }
  return nullptr;
}

NewOrder Generator::GenOrder(const RefEngine& ref, AccountId a, SymbolId s) {
  NewOrder o;
  o.account = a;
  o.symbol = s;
  if (s >= plans_.size()) {
    o.type = OrderType::kLimit;
    o.tif = TimeInForce::kGtc;
    o.price = Price(100);
    o.qty = Qty(100);
    return o;
  }
  const SymbolPlan& p = plans_[s];
  const int64_t mid = Mid(s, ref);
  o.side = P(0.5) ? Side::kBuy : Side::kSell;
  const int t = static_cast<int>(U(100));
  o.type = t < 46   ? OrderType::kLimit
           : t < 60 ? OrderType::kMarket
           : t < 70 ? OrderType::kLimitMaker
           : t < 76 ? OrderType::kStopLoss
           : t < 85 ? OrderType::kStopLossLimit
           : t < 90 ? OrderType::kTakeProfit
                    : OrderType::kTakeProfitLimit;
  const int64_t sign = o.side == Side::kBuy ? 1 : -1;
  int64_t steps = P(0.1) ? R(10, 200) : R(1, 25);
  if (s == 1) steps *= 10;  // ETHBTC: market step is 10 lot steps
  o.qty = Qty(steps * p.step);
  o.price = Price((mid + R(-12, 12)) * p.tick);
  const int tif = static_cast<int>(U(100));
  const TimeInForce limit_tif = tif < 60   ? TimeInForce::kGtc
                                : tif < 82 ? TimeInForce::kIoc
                                           : TimeInForce::kFok;
  if (P(0.3)) {
    o.stp = static_cast<StpMode>(R(0, 4));
  }
  o.client_order_id = NewCid(a, ref);
  const int64_t last = ref.symbol(s).last_price;
  const int64_t ref_px = last > 0 ? last : mid * p.tick;
  switch (o.type) {
    case OrderType::kLimit:
      o.tif = limit_tif;
      break;
    case OrderType::kLimitMaker:
      // Mostly passive, sometimes crossing (kWouldTakeLiquidity).
      if (P(0.8)) {
        o.price = Price((mid - sign * R(1, 15)) * p.tick);
      }
      break;
    case OrderType::kMarket:
      o.price = Price(0);
      if (P(0.3)) {
        o.quote_qty = Amount(static_cast<int64_t>(static_cast<__int128>(mid * p.tick) * o.qty.v /
                                                  core::Pow10(s == 2 ? 0 : 8)) +
                             R(0, 1000));
        o.qty = Qty(0);
      }
      break;
    case OrderType::kStopLoss:
    case OrderType::kTakeProfit:
    case OrderType::kStopLossLimit:
    case OrderType::kTakeProfitLimit: {
      const bool stop_loss = o.type == OrderType::kStopLoss || o.type == OrderType::kStopLossLimit;
      // BUY SL / SELL TP trigger when the price rises to the stop.
      const int64_t dir = (o.side == Side::kBuy) == stop_loss ? 1 : -1;
      int64_t k = R(1, 10);
      if (P(0.1)) k = -k;  // would trigger at once
      o.stop_price = Price(ref_px / p.tick * p.tick + dir * k * p.tick);
      if (o.stop_price.v <= 0) {
        o.stop_price = Price(p.tick);
      }
      if (IsMarketLike(o.type)) {
        o.price = Price(0);
      } else {
        o.tif = limit_tif;
        o.price = Price(o.stop_price.v + sign * R(-2, 6) * p.tick);
        if (o.price.v <= 0) {
          o.price = Price(p.tick);
        }
      }
      break;
    }
  }
  const bool can_ice =
      (o.type == OrderType::kLimitMaker || (o.tif == TimeInForce::kGtc && !IsMarketLike(o.type)));
  if (can_ice && P(0.12) && steps >= 2) {
    const int64_t unit = s == 1 ? p.step * 10 : p.step;
    o.iceberg_qty = Qty(std::max<int64_t>(1, o.qty.v / unit / R(2, 5)) * unit);
    if (o.iceberg_qty.v >= o.qty.v) {
      o.iceberg_qty = Qty(0);
    }
  }
  if (P(0.08)) {
    Corrupt(&o, ref);
  }
  return o;
}

// One deliberate fault.
void Generator::Corrupt(NewOrder* o, const RefEngine& ref) {
  const int64_t tick = o->symbol < plans_.size() ? plans_[o->symbol].tick : 1;
  const int64_t step = o->symbol < plans_.size() ? plans_[o->symbol].step : 1;
  switch (U(26)) {
    case 0:
      o->price = Price(0);
      break;
    case 1:
      o->price = Price(-tick);
      break;
    case 2:
      o->qty = Qty(0);
      break;
    case 3:
      o->qty = Qty(-step);
      break;
    case 4:
      o->price = Price(o->price.v + 1);
      break;  // off the tick grid (tick > 1 mostly)
    case 5:
      o->qty = Qty(o->qty.v + (step > 1 ? 1 : 0));
      break;
    case 6:  // overflowing notional / absurd values
      o->price = Price(4'000'000'000'000'000'000 / tick * tick);
      o->qty = Qty(1'000'000'000'000 / step * step);
      break;
    case 7:
      o->side = static_cast<Side>(2 + U(200));
      break;
    case 8:
      o->type = static_cast<OrderType>(7 + U(200));
      break;
    case 9:
      o->tif = static_cast<TimeInForce>(4 + U(200));
      break;
    case 10:
      o->stp = static_cast<StpMode>(5 + U(200));
      break;
    case 11:
      o->tif = static_cast<TimeInForce>(U(4));
      break;  // maybe wrong for the type
    case 12:
      o->stop_price = Price(tick * 5);
      break;  // maybe not required
    case 13:
      o->quote_qty = Amount(1000);
      break;
    case 14:
      o->client_order_id = Cid("bad!id");
      break;
    case 15:
      o->client_order_id = Cid(std::string(37, 'x'));
      break;
    case 16:
      o->iceberg_qty = o->qty;
      break;
    case 17:
      o->iceberg_qty = Qty(step);
      o->tif = TimeInForce::kIoc;
      break;
    case 18:
      o->iceberg_qty = Qty(step);
      break;  // maybe too many parts
    case 19:
      o->qty = Qty(step * 100'000);
      break;  // insufficient funds / LOT_SIZE max
    case 20:
      o->price = Price(o->price.v * 3 / tick * tick);
      break;  // percent price
    case 21:
      o->price = Price(o->price.v / 3 / tick * tick + tick);
      break;
    case 22:
      o->quote_qty = Amount(-5);
      break;
    case 23:
      o->stop_price = Price(0);
      break;
    case 24:
      o->price = Price(0);
      o->stop_price = Price(0);
      break;
    default: {
      auto open = ref.OpenOrders(o->account, std::nullopt);
      if (!open.empty()) {
        o->client_order_id = open[U(open.size())].client_order_id;
      }
    }
  }
}

PlaceOco Generator::GenOco(const RefEngine& ref) {
  PlaceOco c;
  c.account = PickAccount();
  c.symbol = P(0.95) ? static_cast<SymbolId>(U(plans_.size())) : 9;
  const SymbolId s = c.symbol < plans_.size() ? c.symbol : 0;
  const SymbolPlan& p = plans_[s];
  const int64_t mid = Mid(s, ref);
  const int64_t last = ref.symbol(s).last_price;
  const int64_t center = last > 0 ? last / p.tick : mid;
  c.side = P(0.5) ? Side::kBuy : Side::kSell;
  c.qty = Qty(R(1, 20) * p.step * (s == 1 ? 10 : 1));
  if (P(0.25)) {
    c.stp = static_cast<StpMode>(R(0, 4));
  }
  if (P(0.3)) {
    c.list_client_order_id = Cid("l-" + std::to_string(++cid_counter_));
  }
  OcoLeg limit, stop;
  limit.type = OrderType::kLimitMaker;
  stop.type = P(0.5) ? OrderType::kStopLoss : OrderType::kStopLossLimit;
  const int64_t up = R(1, 12), down = R(1, 12);
  if (c.side == Side::kSell) {
    limit.price = Price((center + up) * p.tick);
    stop.stop_price = Price((center - down) * p.tick);
  } else {
    limit.price = Price((center - down) * p.tick);
    stop.stop_price = Price((center + up) * p.tick);
  }
  if (stop.type == OrderType::kStopLossLimit) {
    stop.tif = P(0.8) ? TimeInForce::kGtc : (P(0.5) ? TimeInForce::kIoc : TimeInForce::kFok);
    const int64_t sign = c.side == Side::kBuy ? 1 : -1;
    stop.price = Price(std::max<int64_t>(1, stop.stop_price.v / p.tick + sign * R(-1, 4)) * p.tick);
  }
  if (P(0.4)) {
    limit.client_order_id = Cid("o-" + std::to_string(++cid_counter_));
  }
  if (P(0.4)) {
    stop.client_order_id = Cid("o-" + std::to_string(++cid_counter_));
  }
  if (P(0.08) && c.qty.v >= 2 * p.step) {
    limit.iceberg_qty = Qty(c.qty.v / 2 / p.step * p.step);
  }
  switch (P(0.15) ? U(8) : 99) {
    case 0:
      std::swap(limit, stop);
      break;
    case 1:
      std::swap(limit.price, stop.stop_price);
      break;  // relationship
    case 2:
      stop.type = OrderType::kTakeProfit;
      break;
    case 3:
      limit.type = static_cast<OrderType>(11);
      break;
    case 4:
      c.qty = Qty(0);
      break;
    case 5:
      c.side = static_cast<Side>(3);
      break;
    case 6:
      limit.client_order_id = stop.client_order_id = Cid("same");
      break;
    case 7:
      limit.tif = TimeInForce::kGtc;
      break;
    default:
      break;
  }
  if (c.side == Side::kSell) {
    c.above = limit;
    c.below = stop;
  } else {
    c.above = stop;
    c.below = limit;
  }
  return c;
}

Command Generator::Next(const RefEngine& ref) {
  std::vector<OrderView> store;
  const int x = static_cast<int>(U(1000));
  if (burst_left_ > 0) {  // one account piling up resting orders (MAX_NUM_ORDERS, deep books)
    --burst_left_;
    NewOrder o = GenOrder(ref, burst_account_, burst_symbol_);
    o.type = OrderType::kLimit;
    o.tif = TimeInForce::kGtc;
    o.quote_qty = Amount(0);
    o.stop_price = Price(0);
    o.iceberg_qty = Qty(0);
    const SymbolPlan& p = plans_[burst_symbol_];
    const int64_t away = R(5, 40) * p.tick;
    o.price = Price(
        std::max<int64_t>(p.tick, o.side == Side::kBuy ? o.price.v - away : o.price.v + away));
    return Wrap(PlaceOrder{o});
  }
  if (x < 540) {
    const AccountId a = PickAccount();
    if (P(0.002)) {
      burst_left_ = static_cast<int>(R(10, 35));
      burst_account_ = 1 + U(max_account_);
      burst_symbol_ = static_cast<SymbolId>(U(plans_.size()));
    }
    return Wrap(PlaceOrder{GenOrder(ref, a, PickSymbol())});
  }
  if (x < 670) {  // cancel
    CancelOrder c;
    const OrderView* v = P(0.88) ? PickOpen(ref, &store, false) : nullptr;
    if (v != nullptr) {
      c.ref.account = v->account;
      c.ref.symbol = v->symbol;
      const int how = static_cast<int>(U(10));
      if (how < 6 || v->client_order_id.empty()) {
        c.ref.order_id = v->order_id;
      }
      if (how >= 6 || P(0.1)) {
        c.ref.orig_client_order_id = v->client_order_id;
      }
      if (how == 9 && P(0.3)) c.ref.order_id = v->order_id + 1;  // both given, different
    } else {
      c.ref.account = PickAccount();
      c.ref.symbol = PickSymbol();
      c.ref.order_id = P(0.9) ? R(1, 1000) : 0;
      if (P(0.1)) {
        c.ref.orig_client_order_id = Cid("c-" + std::to_string(R(1, 1000)));
      }
    }
    if (P(0.3)) {
      c.new_client_order_id = Cid("x-" + std::to_string(++cid_counter_));
    }
    if (P(0.1)) {
      c.restriction = static_cast<CancelRestriction>(U(P(0.1) ? 9 : 3));
    }
    return Wrap(c);
  }
  if (x < 720) {  // cancel-replace
    CancelReplace c;
    const OrderView* v = PickOpen(ref, &store, false);
    if (v != nullptr && P(0.9)) {
      c.cancel.ref.account = v->account;
      c.cancel.ref.symbol = v->symbol;
      if (P(0.75) || v->client_order_id.empty()) {
        c.cancel.ref.order_id = v->order_id;
      } else {
        c.cancel.ref.orig_client_order_id = v->client_order_id;
      }
    } else {
      c.cancel.ref.account = PickAccount();
      c.cancel.ref.symbol = PickSymbol();
      c.cancel.ref.order_id = R(0, 500);
    }
    if (P(0.2)) {
      c.cancel.new_client_order_id = Cid("x-" + std::to_string(++cid_counter_));
    }
    if (P(0.05)) {
      c.cancel.restriction = static_cast<CancelRestriction>(U(3));
    }
    c.order = GenOrder(ref, c.cancel.ref.account, c.cancel.ref.symbol);
    if (P(0.03)) {
      c.order.account += 1;
    }
    if (P(0.5) && v != nullptr) c.order.client_order_id = v->client_order_id;  // reuse its id
    c.mode = P(0.5) ? CancelReplaceMode::kStopOnFailure : CancelReplaceMode::kAllowFailure;
    if (P(0.02)) {
      c.mode = static_cast<CancelReplaceMode>(5);
    }
    return Wrap(c);
  }
  if (x < 735) return Wrap(CancelAll{PickAccount(), PickSymbol()});
  if (x < 780) {  // amend
    AmendOrder c;
    const OrderView* v = PickOpen(ref, &store, false);
    if (v != nullptr && P(0.92)) {
      c.ref.account = v->account;
      c.ref.symbol = v->symbol;
      if (P(0.7) || v->client_order_id.empty()) {
        c.ref.order_id = v->order_id;
      } else {
        c.ref.orig_client_order_id = v->client_order_id;
      }
      const int64_t step = plans_[v->symbol].step;
      const int64_t lots = v->qty.v / step;
      const int k = static_cast<int>(U(10));
      c.new_qty = Qty(k < 7    ? R(1, std::max<int64_t>(1, lots - 1)) * step
                      : k == 7 ? v->qty.v
                      : k == 8 ? v->qty.v + step
                               : (P(0.5) ? 0 : v->qty.v - 1));
    } else {
      c.ref.account = PickAccount();
      c.ref.symbol = PickSymbol();
      c.ref.order_id = R(0, 500);
      c.new_qty = Qty(R(-1, 100));
    }
    if (P(0.2)) {
      c.new_client_order_id = Cid("a-" + std::to_string(++cid_counter_));
    }
    return Wrap(c);
  }
  if (x < 825) {
    return Wrap(GenOco(ref));
  }
  if (x < 845) {  // cancel list
    CancelOrderList c;
    const OrderView* v = PickOpen(ref, &store, true);
    if (v != nullptr && P(0.9)) {
      c.account = v->account;
      c.symbol = v->symbol;
      c.order_list_id = v->order_list_id;
    } else {
      c.account = PickAccount();
      c.symbol = PickSymbol();
      if (P(0.8)) {
        c.order_list_id = R(1, 200);
      }
      if (P(0.3)) {
        c.list_client_order_id = Cid("l-" + std::to_string(R(1, 5000)));
      }
    }
    return Wrap(c);
  }
  if (x < 895) {  // deposit
    Deposit d{PickAccount(), static_cast<AssetId>(U(P(0.98) ? 4 : 6)), Amount(0)};
    const int64_t amounts[] = {100'000'000, 50'000'000'000, 2'000'000'000, 100'000, 1, 1};
    d.amount = Amount(R(1, amounts[d.asset]));
    if (P(0.05)) {
      d.amount = Amount(-R(0, 10));
    }
    if (P(0.02) && d.asset < 4 && ref.Balance(d.account, d.asset).free > 0) {
      d.amount = Amount(std::numeric_limits<int64_t>::max());  // overflow
    }
    return Wrap(d);
  }
  if (x < 935) {  // withdraw
    Withdraw w{PickAccount(), static_cast<AssetId>(U(P(0.98) ? 4 : 6)), Amount(0)};
    const int64_t free = ref.Balance(w.account, w.asset).free;
    w.amount = Amount(P(0.8) ? R(1, std::max<int64_t>(1, free / 3)) : R(free, free + 1000));
    if (P(0.05)) {
      w.amount = Amount(-R(0, 10));
    }
    return Wrap(w);
  }
  if (x < 945) {
    SetFees f{P(0.3) ? kDefaultsAccount : PickAccount(), R(0, 300'000), R(0, 500'000)};
    if (P(0.05)) {
      f.taker_rate_e8 = P(0.5) ? -1 : core::kRateOne;
    }
    return Wrap(f);
  }
  if (x < 955) {
    return Wrap(SetAccountStp{PickAccount(), static_cast<StpMode>(U(P(0.95) ? 5 : 9))});
  }
  if (x < 968) {
    FreezeAccount f{PickAccount(), true};
    f.frozen = P(0.12);
    return Wrap(f);
  }
  if (x < 973) {
    const AccountId a = P(0.5) && max_account_ < 20 ? ++max_account_ : PickAccount();
    return Wrap(OpenAccount{a});
  }
  if (x < 985) {
    SetSymbolStatus s{static_cast<SymbolId>(U(plans_.size() + (P(0.1) ? 2 : 0))),
                      SymbolStatus::kTrading};
    if (P(0.12)) {
      s.status = P(0.5) ? SymbolStatus::kHalt : SymbolStatus::kBreak;
    }
    if (P(0.03)) {
      s.status = static_cast<SymbolStatus>(7);
    }
    return Wrap(s);
  }
  if (x < 990) {
    AddAsset a;
    const char* names[] = {"BTC", "usdt", "", "SCALE19", "TOOLONGNAME0123456789X"};
    const int k = static_cast<int>(U(5));
    a.name = MakeName(names[k]);
    if (k == 4) {
      a.name.len = 22;
    }
    a.scale = k == 3 ? 19 : 8;
    return Wrap(a);
  }
  if (x < 995) {
    AddSymbol a;
    a.config = Config(plans_[0], 0);
    switch (U(5)) {
      case 0:
        break;  // duplicate name
      case 1:
        a.config.name = MakeName("NEWSYM");
        a.config.quote_asset = 17;
        break;
      case 2:
        a.config.name = MakeName("NEWSYM");
        a.config.filters.tick_size = Price(0);
        break;
      case 3:
        a.config.name = MakeName("NEWSYM");
        a.config.filters.step_size = Qty(3);
        break;
      default:
        a.config.name = MakeName("new-sym");
        break;
    }
    return Wrap(a);
  }
  // A stale or replayed sequence number.
  Command c = Wrap(CancelAll{PickAccount(), PickSymbol()});
  c.seq = ref.last_seq() - U(2);
  --seq_;
  return c;
}

// ---------------------------------------------------------------------------------------------
// Checking

struct Failure {
  size_t index;
  std::string kind;  // the check that failed, for shrinking
  std::string detail;
};

std::string Hex(std::span<const std::byte> b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (std::byte x : b) {
    s += d[static_cast<int>(x) >> 4];
    s += d[static_cast<int>(x) & 15];
  }
  return s;
}

std::string DiffOrders(const OrderView& a, const OrderView& b) {
  std::ostringstream s;
#define SPOTEX_CMP(f)  \
  if (!(a.f == b.f)) { \
    s << " " #f;       \
  }
  SPOTEX_CMP(order_id)
  SPOTEX_CMP(order_list_id)
  SPOTEX_CMP(account)
  SPOTEX_CMP(symbol)
  SPOTEX_CMP(side)
  SPOTEX_CMP(type)
  SPOTEX_CMP(tif)
  SPOTEX_CMP(stp)
  SPOTEX_CMP(status) SPOTEX_CMP(working) SPOTEX_CMP(price) SPOTEX_CMP(qty) SPOTEX_CMP(quote_qty)
      SPOTEX_CMP(stop_price) SPOTEX_CMP(iceberg_qty) SPOTEX_CMP(executed_qty)
          SPOTEX_CMP(cum_quote_qty) SPOTEX_CMP(reserved) SPOTEX_CMP(time_ms)
              SPOTEX_CMP(client_order_id)
#undef SPOTEX_CMP
                  return s.str();
}

std::string DescribeView(const OrderView& v) {
  std::ostringstream s;
  s << "id=" << v.order_id << " list=" << v.order_list_id << " " << EnumStr(v.type) << " "
    << EnumStr(v.side) << " " << EnumStr(v.status) << " working=" << v.working
    << " px=" << v.price.v << " qty=" << v.qty.v << " exec=" << v.executed_qty.v
    << " reserved=" << v.reserved.v << " stp=" << EnumStr(v.stp);
  return s.str();
}

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoll(v, nullptr, 10) : fallback;
}

class Checker {
 public:
  Checker() = default;
  // Applies `cmd` to both and checks everything; nullopt when they agree.
  std::optional<Failure> Step(size_t index, const Command& cmd, bool full);
  Engine& engine() { return engine_; }
  RefEngine& ref() { return ref_; }

 private:
  std::optional<std::string> CheckAccount(AccountId a);
  std::optional<std::string> CheckBook(SymbolId s);

  Engine engine_;
  RefEngine ref_;
};

std::optional<SymbolId> SymbolOf(const Command& cmd) {
  return std::visit(
      [](const auto& c) -> std::optional<SymbolId> {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, PlaceOrder>) {
          return c.order.symbol;
        } else if constexpr (std::is_same_v<T, CancelOrder> || std::is_same_v<T, AmendOrder>) {
          return c.ref.symbol;
        } else if constexpr (std::is_same_v<T, CancelReplace>) {
          return c.cancel.ref.symbol;
        } else if constexpr (std::is_same_v<T, CancelAll> || std::is_same_v<T, PlaceOco> ||
                             std::is_same_v<T, CancelOrderList> ||
                             std::is_same_v<T, SetSymbolStatus>) {
          return c.symbol;
        } else {
          return std::nullopt;
        }
      },
      cmd.body);
}

std::optional<std::string> Checker::CheckAccount(AccountId a) {
  if (engine_.HasAccount(a) != ref_.HasAccount(a)) {
    return "HasAccount(" + std::to_string(a) + ") differs";
  }
  for (AssetId asset = 0; asset < ref_.asset_count(); ++asset) {
    const auto eb = engine_.Balance(a, asset);
    const ref::RefBalance rb = ref_.Balance(a, asset);
    const int64_t ef = eb ? eb->free.v : 0, el = eb ? eb->locked.v : 0;
    if (ef != rb.free || el != rb.locked) {
      std::ostringstream s;
      s << "balance of account " << a << " asset " << asset << ": engine " << ef << "/" << el
        << " reference " << rb.free << "/" << rb.locked;
      return s.str();
    }
    if (el != ref_.LockedNeeds(a, asset) || ef < 0 || el < 0) {
      return "locked of account " + std::to_string(a) + " asset " + std::to_string(asset) +
             " != reference locked-needs " + std::to_string(ref_.LockedNeeds(a, asset));
    }
  }
  const auto eo = engine_.OpenOrders(a, std::nullopt);
  const auto ro = ref_.OpenOrders(a, std::nullopt);
  std::ostringstream s;
  if (eo.size() != ro.size()) {
    s << "open orders of account " << a << ": engine " << eo.size() << ", reference " << ro.size()
      << "\n";
  }
  for (size_t i = 0; i < std::max(eo.size(), ro.size()); ++i) {
    const std::string diff = i < eo.size() && i < ro.size() ? DiffOrders(eo[i], ro[i]) : "?";
    if (!diff.empty()) {
      s << "  order #" << i << " differs:" << diff << "\n";
      if (i < eo.size()) {
        s << "    engine    " << DescribeView(eo[i]) << "\n";
      }
      if (i < ro.size()) {
        s << "    reference " << DescribeView(ro[i]) << "\n";
      }
    }
  }
  if (!s.str().empty()) {
    return "open orders of account " + std::to_string(a) + "\n" + s.str();
  }
  return std::nullopt;
}

std::optional<std::string> Checker::CheckBook(SymbolId sym) {
  if (sym >= ref_.symbol_count()) {
    return std::nullopt;
  }
  const auto eb = engine_.Book(sym, 10);
  const BookView rb = ref_.Book(sym, 10);
  if (!eb) {
    return "engine has no book for symbol " + std::to_string(sym);
  }
  auto same = [](const std::vector<LevelView>& x, const std::vector<LevelView>& y) {
    if (x.size() != y.size()) {
      return false;
    }
    for (size_t i = 0; i < x.size(); ++i) {
      if (x[i].price != y[i].price || x[i].qty != y[i].qty) {
        return false;
      }
    }
    return true;
  };
  if (eb->last_update_id != rb.last_update_id || !same(eb->bids, rb.bids) ||
      !same(eb->asks, rb.asks)) {
    std::ostringstream s;
    s << "book of symbol " << sym << " differs (update id engine " << eb->last_update_id
      << " reference " << rb.last_update_id << ")\n";
    for (const auto* v : {&*eb, &rb}) {
      s << (v == &rb ? "  reference" : "  engine   ") << " bids:";
      for (const auto& l : v->bids) {
        s << " " << l.qty.v << "@" << l.price.v;
      }
      s << " | asks:";
      for (const auto& l : v->asks) {
        s << " " << l.qty.v << "@" << l.price.v;
      }
      s << "\n";
    }
    return s.str();
  }
  return std::nullopt;
}

std::optional<Failure> Checker::Step(size_t index, const Command& cmd, bool full) {
  const ApplyResult er = engine_.Apply(cmd);
  const RefEngine::Result rr = ref_.Apply(cmd);
  auto fail = [&](std::string kind, std::string detail) {
    std::ostringstream s;
    s << "command #" << index << ": " << DescribeCommand(cmd) << "\n"
      << detail << "\n  engine events:\n"
      << DescribeEvents(er.events) << "  reference events:\n"
      << DescribeEvents(ref_.events());
    return Failure{index, kind, s.str()};
  };
  if (er.code != rr.code || er.cancel_code != rr.cancel_code ||
      er.new_order_code != rr.new_order_code || er.order_id != rr.order_id ||
      er.order_list_id != rr.order_list_id) {
    std::ostringstream s;
    s << "ApplyResult differs: engine {" << EnumStr(er.code) << ", " << EnumStr(er.cancel_code)
      << ", " << EnumStr(er.new_order_code) << ", order " << er.order_id << ", list "
      << er.order_list_id << "} reference {" << EnumStr(rr.code) << ", " << EnumStr(rr.cancel_code)
      << ", " << EnumStr(rr.new_order_code) << ", order " << rr.order_id << ", list "
      << rr.order_list_id << "}";
    return fail("result", s.str());
  }
  const auto eb = er.events;
  const auto rb = ref_.events();
  if (eb.size() != rb.size() || std::memcmp(eb.data(), rb.data(), eb.size()) != 0) {
    std::string detail = "events differ";
    // Point at the first differing record.
    EventReader a(eb), b(rb);
    for (int i = 0; !a.Done() && !b.Done(); a.Next(), b.Next(), ++i) {
      const auto sa = std::span(eb).subspan(0);
      (void)sa;
      if (a.header().size != b.header().size ||
          std::memcmp(&a.header(), &b.header(), a.header().size) != 0) {
        detail += " (first at #" + std::to_string(i) + ")";
        const auto* pa = reinterpret_cast<const std::byte*>(&a.header());
        const auto* pb = reinterpret_cast<const std::byte*>(&b.header());
        detail += "\n  engine    bytes " + Hex({pa, a.header().size}) + "\n  reference bytes " +
                  Hex({pb, b.header().size});
        break;
      }
    }
    return fail("events", detail);
  }
  if (engine_.last_seq() != ref_.last_seq()) {
    return fail("seq", "last_seq engine " + std::to_string(engine_.last_seq()) + " reference " +
                           std::to_string(ref_.last_seq()));
  }
  if (std::string s = ref_.SelfCheck(); !s.empty()) {
    return fail("refcheck", "reference: " + s);
  }
  if (std::string s = engine_.CheckInvariants(); !s.empty()) {
    return fail("invariants", "CheckInvariants: " + s);
  }
  // Balances and open orders of the touched accounts (all of them every so often).
  std::set<AccountId> accounts;
  if (full) {
    for (AccountId a : ref_.Accounts()) {
      accounts.insert(a);
    }
    for (AccountId a = 0; a <= 25; ++a) {
      accounts.insert(a);
    }
  } else {
    for (EventReader rd(rb); !rd.Done(); rd.Next()) {
      if (const auto* e = rd.If<BalanceChanged>()) {
        accounts.insert(e->account);
      }
      if (const auto* e = rd.If<OrderUpdate>()) {
        accounts.insert(e->account);
      }
      if (const auto* e = rd.If<OrderAmended>()) {
        accounts.insert(e->account);
      }
    }
  }
  for (AccountId a : accounts) {
    if (auto s = CheckAccount(a)) {
      return fail("state", *s);
    }
  }
  if (full) {
    for (SymbolId s = 0; s < ref_.symbol_count(); ++s) {
      if (auto d = CheckBook(s)) {
        return fail("book", *d);
      }
    }
  } else if (auto sym = SymbolOf(cmd)) {
    if (auto d = CheckBook(*sym)) {
      return fail("book", *d);
    }
  }
  const auto et = engine_.Totals();
  const auto rt = ref_.Totals();
  bool totals_ok = et.size() == rt.size();
  for (size_t i = 0; totals_ok && i < et.size(); ++i) {
    totals_ok = et[i].asset == rt[i].asset && et[i].net_deposits == rt[i].net_deposits &&
                et[i].balances == rt[i].balances && et[i].net_deposits == et[i].balances;
  }
  if (!totals_ok) {
    return fail("totals", "Totals() differ from the reference or do not conserve");
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Driver

constexpr size_t kFullCheckEvery = 512;

// The engine may abort (a failed assertion) rather than diverge. Every run of engine code that can
// fail is therefore done in a forked child; the index of the command being applied is kept in
// memory shared with the parent, so a crash is reported and shrunk like any other failure.
struct SharedProgress {
  volatile size_t index;
  volatile int engine;  // snapshot test: 0 = the original, 1 = the restored engine
};
SharedProgress* Progress() {
  static SharedProgress* p = [] {
    void* m = mmap(nullptr, sizeof(SharedProgress), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    SPOTEX_ASSERT(m != MAP_FAILED);
    return static_cast<SharedProgress*>(m);
  }();
  return p;
}

std::optional<Failure> Replay(const std::vector<Command>& cmds) {
  Checker c;
  for (size_t i = 0; i < cmds.size(); ++i) {
    Progress()->index = i;
    if (auto f = c.Step(i, cmds[i], i % kFullCheckEvery == 0 || i + 1 == cmds.size())) {
      return f;
    }
  }
  return std::nullopt;
}

// Replay in a child process. A crash is a Failure of kind "crash" at the command being applied;
// other failures come back as index and kind over a pipe (the detail is recomputed by the caller
// when needed).
std::optional<Failure> ReplayIsolated(const std::vector<Command>& cmds) {
  Progress();  // map the shared page before forking
  int fds[2];
  SPOTEX_ASSERT(pipe(fds) == 0);
  std::fflush(stdout);
  const pid_t pid = fork();
  SPOTEX_ASSERT(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    const auto f = Replay(cmds);
    if (f) {
      const std::string msg = std::to_string(f->index) + " " + f->kind;
      (void)!write(fds[1], msg.data(), msg.size());
    }
    close(fds[1]);
    _exit(f ? 1 : 0);
  }
  close(fds[1]);
  std::string msg;
  char buf[256];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) {
    msg.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) {
    return Failure{Progress()->index, "crash",
                   "engine crashed (signal " + std::to_string(WTERMSIG(status)) + ")"};
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return std::nullopt;
  }
  const size_t space = msg.find(' ');
  if (space == std::string::npos) {
    return Failure{cmds.size() - 1, "unknown", msg};
  }
  return Failure{static_cast<size_t>(std::stoull(msg.substr(0, space))), msg.substr(space + 1), ""};
}

// Delta debugging (ddmin) over the failing prefix, keeping the same kind of failure, bounded in
// time. Returns the smallest failing list found.
std::vector<Command> Shrink(std::vector<Command> cmds, const std::string& kind) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::seconds(EnvInt("SPOTEX_DIFF_SHRINK_SECONDS", 60));
  size_t replays = 0;
  auto fails = [&](std::vector<Command>& v) {
    ++replays;
    auto f = ReplayIsolated(v);
    if (!f || f->kind != kind) {
      return false;
    }
    v.resize(f->index + 1);  // keep only the new failing prefix
    return true;
  };
  // Cheap first passes: commands the reference rejected (they only move last_seq) rarely
  // matter, nor do the ones that touch other symbols; try dropping each group at once.
  auto try_drop = [&](auto&& keep) {
    std::vector<Command> cand;
    for (size_t i = 0; i < cmds.size(); ++i) {
      if (i + 1 == cmds.size() || keep(i)) {
        cand.push_back(cmds[i]);
      }
    }
    if (cand.size() < cmds.size() && fails(cand)) {
      cmds = std::move(cand);
    }
  };
  {
    RefEngine ref;
    std::vector<bool> rejected;
    for (const Command& c : cmds) {
      const RefEngine::Result r = ref.Apply(c);
      rejected.push_back(r.code != RejectCode::kNone && r.cancel_code == RejectCode::kNone &&
                                 r.new_order_code == RejectCode::kNone
                             ? true
                             : r.code != RejectCode::kNone && r.cancel_code != RejectCode::kNone &&
                                   r.new_order_code != RejectCode::kNone);
    }
    try_drop([&](size_t i) { return !rejected[i]; });
  }
  if (const auto sym = SymbolOf(cmds.back())) {
    try_drop([&](size_t i) {
      const auto s = SymbolOf(cmds[i]);
      return !s || *s == *sym || std::holds_alternative<AddSymbol>(cmds[i].body);
    });
  }
  // Then chunks of halving size, scanning forward without restarting after a success.
  for (size_t chunk = std::max<size_t>(1, cmds.size() / 4);
       std::chrono::steady_clock::now() < deadline;) {
    bool reduced = false;
    for (size_t i = 0; i + 1 < cmds.size() && std::chrono::steady_clock::now() < deadline;) {
      std::vector<Command> cand(cmds.begin(), cmds.begin() + static_cast<long>(i));
      const size_t end = std::min(i + chunk, cmds.size() - 1);  // keep the failing command
      cand.insert(cand.end(), cmds.begin() + static_cast<long>(end), cmds.end());
      if (fails(cand)) {
        cmds = std::move(cand);
        reduced = true;
      } else {
        i = end;
      }
    }
    if (!reduced) {
      if (chunk == 1) {
        break;
      }
      chunk /= 2;
    }
  }
  std::printf("(shrinking: %zu replays)\n", replays);
  return cmds;
}

void ReportFailure(uint64_t seed, const std::vector<Command>& cmds, const Failure& f) {
  std::printf("\n=== engine/reference mismatch: seed %llu (rerun: SPOTEX_DIFF_SEED=%llu) ===\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  std::printf("first failing command index: %zu (failing prefix: %zu commands)\n%s\n", f.index,
              f.index + 1, f.detail.c_str());
  if (f.kind == "crash")
    std::printf("command #%zu: %s\n", f.index, DescribeCommand(cmds[f.index]).c_str());
  std::fflush(stdout);
  std::vector<Command> prefix(cmds.begin(), cmds.begin() + static_cast<long>(f.index) + 1);
  const std::vector<Command> small = Shrink(prefix, f.kind);
  std::printf("=== shrunk to %zu commands (same check: %s) ===\n", small.size(), f.kind.c_str());
  for (const Command& c : small) {
    std::printf("  %s\n", DescribeCommand(c).c_str());
  }
  if (f.kind != "crash") {
    if (auto g = ReplayIsolated(small); g && g->kind != "crash") {
      // Recompute the readable detail in this process (it cannot crash: same kind, not a crash).
      if (auto h = Replay(small)) {
        std::printf("--- shrunk failure ---\n%s\n", h->detail.c_str());
      }
    }
  }
  std::fflush(stdout);
}

// The commands RunSeed generates for `seed`.
std::vector<Command> Recorded(uint64_t seed, size_t count) {
  Generator gen(seed);
  RefEngine ref;
  std::vector<Command> cmds = gen.Prologue();
  for (const Command& c : cmds) {
    ref.Apply(c);
  }
  while (cmds.size() < count) {
    cmds.push_back(gen.Next(ref));
    ref.Apply(cmds.back());
  }
  return cmds;
}

// What a run exercised, so a generator change that stops reaching a path shows.
struct Coverage {
  std::map<std::string, size_t> counts;
  void Add(std::span<const std::byte> events) {
    for (EventReader rd(events); !rd.Done(); rd.Next()) {
      const EventType t = rd.header().type;
      if (const auto* e = rd.If<CommandRejected>()) {
        ++counts["reject " + EnumStr(e->code)];
      } else if (const auto* u = rd.If<OrderUpdate>()) {
        ++counts["update " + EnumStr(u->exec) + " " + EnumStr(u->status) + " " +
                 EnumStr(u->reason)];
      } else if (const auto* p = rd.If<PreventedMatch>()) {
        ++counts["prevented " + EnumStr(p->mode)];
      } else {
        static const char* const kNames[] = {
            "?",          "Rejected",    "Accepted",     "Update", "CanceledBy", "Amended",
            "Trade",      "Prevented",   "Balance",      "Level",  "List",       "Transfer",
            "AssetAdded", "SymbolAdded", "SymbolStatus", "Account"};
        const auto k = static_cast<size_t>(t);
        ++counts[k < std::size(kNames) ? kNames[k] : "?"];
      }
    }
  }
  void Print(uint64_t seed) const {
    std::printf("coverage of seed %llu:", static_cast<unsigned long long>(seed));
    for (const auto& [k, n] : counts) {
      std::printf(" [%s]=%zu", k.c_str(), n);
    }
    std::printf("\n");
  }
};

// Generates and checks `count` commands in this process; false (after reporting) on a mismatch.
bool RunSeedInProcess(uint64_t seed, size_t count) {
  Generator gen(seed);
  Checker checker;
  Coverage coverage;
  const bool show = EnvInt("SPOTEX_DIFF_COVERAGE", 0) != 0;
  std::vector<Command> cmds = gen.Prologue();
  cmds.reserve(count + cmds.size());
  for (size_t i = 0;; ++i) {
    if (i == cmds.size()) {
      if (cmds.size() >= count) {
        break;
      }
      cmds.push_back(gen.Next(checker.ref()));
    }
    Progress()->index = i;
    if (auto f = checker.Step(i, cmds[i], i % kFullCheckEvery == 0 || i + 1 == count)) {
      ReportFailure(seed, cmds, *f);
      return false;
    }
    if (show) {
      coverage.Add(checker.ref().events());
    }
  }
  if (show) {
    coverage.Print(seed);
  }
  return true;
}

// Runs one seed in a child process; a crash of the engine is reported from here.
bool RunSeed(uint64_t seed, size_t count) {
  Progress();  // map the shared page before forking
  std::fflush(stdout);
  const pid_t pid = fork();
  SPOTEX_ASSERT(pid >= 0);
  if (pid == 0) {
    const bool ok = RunSeedInProcess(seed, count);
    std::fflush(stdout);
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status) == 0;
  }
  const size_t index = Progress()->index;
  const std::vector<Command> cmds = Recorded(seed, index + 1);
  ReportFailure(
      seed, cmds,
      Failure{index, "crash", "engine crashed (signal " + std::to_string(WTERMSIG(status)) + ")"});
  return false;
}

std::vector<uint64_t> Seeds() {
  const int64_t seed = EnvInt("SPOTEX_DIFF_SEED", -1);
  if (seed >= 0) return {static_cast<uint64_t>(seed)};
  return {1, 2, 3, 4};
}

TEST(EngineDifferential, RandomCommandsMatchReference) {
  const auto seeds = Seeds();
  const auto total = static_cast<size_t>(EnvInt("SPOTEX_DIFF_COMMANDS", 1'000'000));
  for (uint64_t seed : seeds) {
    ASSERT_TRUE(RunSeed(seed, total / seeds.size())) << "seed " << seed;
  }
}

TEST(EngineDifferential, DeterministicStateHash) {
  const auto cmds = Recorded(static_cast<uint64_t>(EnvInt("SPOTEX_DIFF_SEED", 11)), 30'000);
  Engine a, b;
  for (size_t i = 0; i < cmds.size(); ++i) {
    const ApplyResult ra = a.Apply(cmds[i]);
    const std::vector<std::byte> ea(ra.events.begin(), ra.events.end());
    const ApplyResult rb = b.Apply(cmds[i]);
    ASSERT_TRUE(ea.size() == rb.events.size() &&
                std::memcmp(ea.data(), rb.events.data(), ea.size()) == 0)
        << "events differ at #" << i << ": " << DescribeCommand(cmds[i]);
    if (i % 1000 == 0) {
      ASSERT_EQ(a.StateHash(), b.StateHash()) << "at #" << i;
    }
  }
  EXPECT_EQ(a.StateHash(), b.StateHash());
}

// One snapshot round: run `cmds[0, cut)`, Serialize/Restore, feed the rest to both; returns a
// description of the first difference, or empty.
std::string SnapshotRound(const std::vector<Command>& cmds, size_t cut) {
  Engine a;
  Progress()->engine = 0;
  for (size_t i = 0; i < cut; ++i) {
    Progress()->index = i;
    a.Apply(cmds[i]);
  }
  const std::vector<std::byte> snap = a.Serialize();
  auto restored = Engine::Restore(snap);
  if (!restored.has_value()) {
    return "Restore failed";
  }
  Engine b = std::move(*restored);
  if (a.StateHash() != b.StateHash() || a.last_seq() != b.last_seq()) {
    return "hash or last_seq differs right after Restore";
  }
  for (size_t i = cut; i < cmds.size(); ++i) {
    Progress()->index = i;
    Progress()->engine = 0;
    const ApplyResult ra = a.Apply(cmds[i]);
    const std::vector<std::byte> ea(ra.events.begin(), ra.events.end());
    Progress()->engine = 1;
    const ApplyResult rb = b.Apply(cmds[i]);
    if (ea.size() != rb.events.size() || std::memcmp(ea.data(), rb.events.data(), ea.size()) != 0) {
      return "events differ at #" + std::to_string(i) + ": " + DescribeCommand(cmds[i]) +
             "\n  original:\n" + DescribeEvents(ea) + "  restored:\n" + DescribeEvents(rb.events);
    }
    if (i % 997 == 0 && a.StateHash() != b.StateHash()) {
      return "StateHash differs at #" + std::to_string(i);
    }
  }
  if (a.StateHash() != b.StateHash()) {
    return "StateHash differs at the end";
  }
  auto again = Engine::Restore(b.Serialize());
  if (!again.has_value() || again->StateHash() != b.StateHash()) {
    return "a second Serialize/Restore changes the hash";
  }
  return {};
}

TEST(EngineDifferential, SnapshotRestoreContinuesIdentically) {
  const uint64_t seed = static_cast<uint64_t>(EnvInt("SPOTEX_DIFF_SEED", 12));
  const auto cmds = Recorded(seed, 30'000);
  std::mt19937_64 rng(seed);
  Progress();  // map the shared page before forking
  for (int round = 0; round < 3; ++round) {
    const size_t cut = 40 + rng() % (cmds.size() - 41);
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    std::fflush(stdout);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      const std::string err = SnapshotRound(cmds, cut);
      (void)!write(fds[1], err.data(), err.size());
      close(fds[1]);
      _exit(err.empty() ? 0 : 1);
    }
    close(fds[1]);
    std::string err;
    char buf[4096];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) {
      err.append(buf, static_cast<size_t>(n));
    }
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) {
      const size_t i = Progress()->index;
      err = std::string(Progress()->engine == 1 ? "the restored" : "the original") +
            " engine crashed (signal " + std::to_string(WTERMSIG(status)) + ") at #" +
            std::to_string(i) + ": " + DescribeCommand(cmds[i]);
    }
    EXPECT_TRUE(err.empty()) << "seed " << seed << ", snapshot after " << cut
                             << " commands: " << err;
  }
}

}  // namespace
}  // namespace spotex::engine
