// A seeded random workload through a real in-process engine, kept as the event envelopes the
// engine service would publish: assets and symbols listed, accounts opened and funded, default
// fees, then LIMIT (some icebergs), IOC, MARKET (by quantity and by quote quantity), stop and
// stop-limit orders, cancels, cancel-replaces, amendments, OCOs, cancel-alls, deposits and
// withdrawals, a halt and resume, with random self-trade-prevention modes so that some matches
// are prevented. The clock starts 10 minutes before a month boundary and advances 0.3 s per
// command on average, so that a few thousand commands span two monthly partitions.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/command.h"
#include "engine/engine.h"
#include "proto/envelope.h"

namespace spotex::store::test {

inline constexpr int64_t kT0 = 1'769'903'400'000;  // 2026-01-31T23:50:00Z
inline constexpr int kAccounts = 5;
inline constexpr int kSymbols = 2;

class Rng {
 public:
  explicit Rng(uint64_t seed) : x_(seed * 2654435761ULL + 7) {}
  int64_t Below(int64_t n) {
    x_ = x_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int64_t>((x_ >> 33) % static_cast<uint64_t>(n));
  }

 private:
  uint64_t x_;
};

class Workload {
 public:
  explicit Workload(uint64_t seed) : rng_(seed) {
    for (const char* name : {"BTC", "USDT", "ETH"}) {
      engine::AddAsset a;
      (void)a.name.Assign(name);
      Run(a);
    }
    for (int s = 0; s < kSymbols; ++s) {
      engine::AddSymbol add;
      (void)add.config.name.Assign(s == 0 ? "BTCUSDT" : "ETHUSDT");
      add.config.base_asset = s == 0 ? 0 : 2;
      add.config.quote_asset = 1;
      auto& f = add.config.filters;
      f.tick_size = engine::Price{1'000'000};
      f.step_size = engine::Qty{1'000};
      f.min_price = engine::Price{1'000'000};
      f.max_price = engine::Price{100'000'000'000'000};
      f.min_qty = engine::Qty{1'000};
      f.max_qty = engine::Qty{900'000'000'000};
      f.market_max_qty = engine::Qty{900'000'000'000};
      f.min_notional = engine::Amount{0};
      f.max_num_algo_orders = 50;
      add.config.default_stp = s == 0 ? engine::StpMode::kExpireMaker : engine::StpMode::kNone;
      Run(add);
    }
    Run(engine::SetFees{engine::kDefaultsAccount, 100'000, 200'000});  // 0.1 % / 0.2 %
    for (engine::AccountId a = 1; a <= kAccounts; ++a) {
      Run(engine::OpenAccount{a});
      Run(engine::Deposit{a, 0, engine::Amount{50'00000000}});
      Run(engine::Deposit{a, 2, engine::Amount{500'00000000}});
      Run(engine::Deposit{a, 1, engine::Amount{5'000'000'00000000}});
    }
  }

  // Applies `n` random commands.
  void Steps(size_t n) {
    for (size_t i = 0; i < n; ++i) Step();
  }

  // Places one GTC limit order and returns its id (0 if rejected).
  int64_t PlaceLimit(engine::AccountId account, engine::Side side, int64_t price_units,
                     int64_t qty) {
    engine::NewOrder o;
    o.account = account;
    o.symbol = 0;
    o.side = side;
    o.type = engine::OrderType::kLimit;
    o.tif = engine::TimeInForce::kGtc;
    o.price = engine::Price{price_units * 100'000'000};
    o.qty = engine::Qty{qty};
    o.stp = engine::StpMode::kNone;
    (void)o.client_order_id.Assign("lim-" + std::to_string(seq_ + 1));
    return Run(engine::PlaceOrder{o}).order_id;
  }

  engine::ApplyResult Run(const engine::CommandBody& body) {
    ++seq_;
    now_ms_ += rng_.Below(600);
    const engine::Command cmd{seq_, now_ms_, body};
    const engine::ApplyResult r = engine_.Apply(cmd);
    std::vector<std::byte> bytes;
    proto::AppendEnvelope(0, cmd, r, bytes);
    auto env = proto::Envelope::Parse(bytes);
    EXPECT_TRUE(env.has_value());
    envelopes_.push_back(std::make_unique<proto::Envelope>(std::move(*env)));
    return r;
  }

  const engine::Engine& engine() const { return engine_; }
  // Pointers into stable storage, in seq order.
  std::vector<const proto::Envelope*> Envelopes(size_t from = 0, size_t to = SIZE_MAX) const {
    std::vector<const proto::Envelope*> out;
    for (size_t i = from; i < std::min(to, envelopes_.size()); ++i) {
      out.push_back(envelopes_[i].get());
    }
    return out;
  }
  size_t size() const { return envelopes_.size(); }

 private:
  engine::StpMode RandomStp() {
    return static_cast<engine::StpMode>(rng_.Below(5));  // kDefault .. kExpireBoth
  }

  void Cid(engine::ClientOrderId& id) {
    // Most orders carry a client id; some none (the writer stores a placeholder).
    if (rng_.Below(8) != 0) (void)id.Assign("c-" + std::to_string(seq_ + 1) + "_x.y:z/1");
  }

  void Step() {
    const auto symbol = static_cast<engine::SymbolId>(rng_.Below(kSymbols));
    const auto account = static_cast<engine::AccountId>(1 + rng_.Below(kAccounts));
    int64_t& mid = mid_[symbol];
    mid = std::clamp<int64_t>(mid + rng_.Below(3) - 1, 900, 1100);
    const int64_t r = rng_.Below(1000);
    if (r < 180) {
      auto open = engine_.OpenOrders(account, symbol);
      if (!open.empty()) {
        const auto& o = open[static_cast<size_t>(rng_.Below(std::ssize(open)))];
        if (r < 30 && o.qty.v > o.executed_qty.v + 2'000 && o.order_list_id < 0) {
          engine::AmendOrder a;
          a.ref = engine::OrderRef{account, symbol, o.order_id, {}};
          a.new_qty = engine::Qty{o.qty.v - 1'000};
          if (rng_.Below(2) == 0) (void)a.new_client_order_id.Assign("am-" + std::to_string(seq_));
          Run(a);
          return;
        }
        engine::CancelOrder c;
        c.ref = engine::OrderRef{account, symbol, o.order_id, {}};
        if (r < 60) {  // cancel-replace; ALLOW_FAILURE keeps the cancel when the order fails
          engine::CancelReplace cr;
          cr.cancel = c;
          cr.order = o.order_list_id < 0 ? Replacement(o) : engine::NewOrder{};
          cr.order.account = account;
          cr.order.symbol = symbol;
          cr.mode = rng_.Below(2) == 0 ? engine::CancelReplaceMode::kAllowFailure
                                       : engine::CancelReplaceMode::kStopOnFailure;
          Run(cr);
          return;
        }
        Run(c);
        return;
      }
    }
    if (r < 200) {
      Run(engine::Deposit{account, static_cast<engine::AssetId>(rng_.Below(3)),
                          engine::Amount{1 + rng_.Below(1'000'000'000)}});
      return;
    }
    if (r < 220) {
      Run(engine::Withdraw{account, static_cast<engine::AssetId>(rng_.Below(3)),
                           engine::Amount{1 + rng_.Below(3'000'000'000)}});
      return;
    }
    if (r < 225) {
      Run(engine::CancelAll{account, symbol});
      return;
    }
    if (r < 227) {
      halted_ = !halted_;
      Run(engine::SetSymbolStatus{
          1, halted_ ? engine::SymbolStatus::kHalt : engine::SymbolStatus::kTrading});
      return;
    }
    if (r < 250) {
      Oco(account, mid);
      return;
    }
    engine::NewOrder o;
    o.account = account;
    o.symbol = symbol;
    o.side = rng_.Below(2) == 0 ? engine::Side::kBuy : engine::Side::kSell;
    o.stp = RandomStp();
    Cid(o.client_order_id);
    const int64_t sign = o.side == engine::Side::kBuy ? -1 : 1;
    o.qty = engine::Qty{(1 + rng_.Below(300)) * 100'000};
    if (r < 750) {
      o.type = engine::OrderType::kLimit;
      o.tif = engine::TimeInForce::kGtc;
      o.price = engine::Price{(mid + sign * (rng_.Below(30) - 3)) * 100'000'000};
      if (rng_.Below(10) == 0) o.iceberg_qty = engine::Qty{o.qty.v / (2 + rng_.Below(4)) + 1'000};
      if (o.iceberg_qty.v >= o.qty.v) o.iceberg_qty = engine::Qty{0};
    } else if (r < 840) {
      o.type = engine::OrderType::kLimit;
      o.tif = engine::TimeInForce::kIoc;
      o.price = engine::Price{(mid - sign * rng_.Below(5)) * 100'000'000};
    } else if (r < 930) {
      o.type = engine::OrderType::kMarket;
      if (rng_.Below(3) == 0) {
        o.qty = engine::Qty{0};
        o.quote_qty = engine::Amount{(1 + rng_.Below(200)) * 1'000'000'000};
      }
    } else if (r < 965) {
      o.type = engine::OrderType::kStopLossLimit;
      o.tif = engine::TimeInForce::kGtc;
      o.stop_price = engine::Price{(mid - sign * (1 + rng_.Below(4))) * 100'000'000};
      o.price = o.stop_price;
    } else {
      o.type = engine::OrderType::kStopLoss;
      o.stop_price = engine::Price{(mid - sign * (1 + rng_.Below(4))) * 100'000'000};
    }
    Run(engine::PlaceOrder{o});
  }

  // A LIMIT order like `o` at a nearby price (sometimes an invalid one: zero quantity).
  engine::NewOrder Replacement(const engine::OrderView& o) {
    engine::NewOrder n;
    n.side = o.side;
    n.type = engine::OrderType::kLimit;
    n.tif = engine::TimeInForce::kGtc;
    n.price = engine::Price{o.price.v + (rng_.Below(3) - 1) * 100'000'000};
    n.qty = engine::Qty{rng_.Below(4) == 0 ? 0 : o.qty.v};
    Cid(n.client_order_id);
    return n;
  }

  // A SELL OCO around the last price: LIMIT_MAKER above, STOP_LOSS_LIMIT below (or a BUY one
  // mirrored).
  void Oco(engine::AccountId account, int64_t mid) {
    engine::PlaceOco c;
    c.account = account;
    c.symbol = 0;
    c.qty = engine::Qty{(1 + rng_.Below(100)) * 100'000};
    (void)c.list_client_order_id.Assign("oco-" + std::to_string(seq_ + 1));
    const int64_t d = 5 + rng_.Below(20);
    if (rng_.Below(2) == 0) {
      c.side = engine::Side::kSell;
      c.above = engine::OcoLeg{.type = engine::OrderType::kLimitMaker,
                               .price = engine::Price{(mid + d) * 100'000'000}};
      c.below = engine::OcoLeg{.type = engine::OrderType::kStopLossLimit,
                               .price = engine::Price{(mid - d) * 100'000'000},
                               .stop_price = engine::Price{(mid - d) * 100'000'000},
                               .tif = engine::TimeInForce::kGtc};
    } else {
      c.side = engine::Side::kBuy;
      c.above = engine::OcoLeg{.type = engine::OrderType::kStopLossLimit,
                               .price = engine::Price{(mid + d) * 100'000'000},
                               .stop_price = engine::Price{(mid + d) * 100'000'000},
                               .tif = engine::TimeInForce::kGtc};
      c.below = engine::OcoLeg{.type = engine::OrderType::kLimitMaker,
                               .price = engine::Price{(mid - d) * 100'000'000}};
    }
    Run(c);
  }

  Rng rng_;
  engine::Engine engine_;
  uint64_t seq_ = 0;
  int64_t now_ms_ = kT0;
  int64_t mid_[kSymbols] = {1000, 1000};
  bool halted_ = false;
  std::vector<std::unique_ptr<proto::Envelope>> envelopes_;
};

}  // namespace spotex::store::test
