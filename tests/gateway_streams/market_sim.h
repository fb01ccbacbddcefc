// A deterministic in-process market for the stream tests: a real engine with two symbols
// (BTCUSDT = 0, ETHUSDT = 1, both at scale 8 with a tick of 0.01 and a step of 0.00001), five
// funded accounts, and a seeded random order flow (limit GTC and IOC orders, icebergs, market
// orders, stop-limit orders, cancels) whose every envelope goes through a StreamEncoder into a
// MarketData, as spotex-gateway's event feed does it. The REST depth snapshot is served by the
// real PublicApi route (/api/v3/depth) through an http::Router, the same code path as the
// gateway's.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "gateway/http/router.h"
#include "gateway/market/public_api.h"
#include "gateway/streams/encoder.h"

namespace spotex::gateway::streams::test {

inline constexpr int64_t kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
inline constexpr int kSymbols = 2;
inline const char* const kSymbolNames[kSymbols] = {"BTCUSDT", "ETHUSDT"};
inline constexpr int kAccounts = 5;

// A 64-bit LCG: deterministic across platforms and standard libraries.
class Rng {
 public:
  explicit Rng(uint64_t seed) : x_(seed * 2654435761ULL + 1) {}
  // Uniform in [0, n), n > 0.
  int64_t Below(int64_t n) {
    x_ = x_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int64_t>((x_ >> 33) % static_cast<uint64_t>(n));
  }

 private:
  uint64_t x_;
};

class MarketSim {
 public:
  MarketSim() {
    for (const char* name : {"BTC", "USDT", "ETH"}) {
      engine::AddAsset a;
      (void)a.name.Assign(name);
      Run(a);
    }
    for (int s = 0; s < kSymbols; ++s) {
      engine::AddSymbol add;
      (void)add.config.name.Assign(kSymbolNames[s]);
      add.config.base_asset = s == 0 ? 0 : 2;
      add.config.quote_asset = 1;
      auto& f = add.config.filters;
      f.tick_size = engine::Price{1'000'000};
      f.step_size = engine::Qty{1'000};
      f.min_price = engine::Price{1'000'000};
      f.max_price = engine::Price{100'000'000'000'000};
      f.min_qty = engine::Qty{1'000};
      f.max_qty = engine::Qty{900'000'000'000};
      add.config.default_stp = engine::StpMode::kNone;
      Run(add);
      market_.AddSymbol(SymbolInfo{static_cast<engine::SymbolId>(s), kSymbolNames[s],
                                   s == 0 ? "BTC" : "ETH", "USDT", 8, 8},
                        0, {}, {});
    }
    for (engine::AccountId a = 1; a <= kAccounts; ++a) {
      Run(engine::OpenAccount{a});
      for (engine::AssetId asset : {0u, 2u}) {
        Run(engine::Deposit{a, asset, engine::Amount{1'000'000'00000000}});
      }
      Run(engine::Deposit{a, 1, engine::Amount{1'000'000'000'00000000}});
    }
    api_.Register(router_);
  }

  // One random command, applied to the engine and through the encoder; returns its messages.
  std::vector<StreamMessage> Step(Rng& rng) {
    const auto symbol = static_cast<engine::SymbolId>(rng.Below(kSymbols));
    const auto account = static_cast<engine::AccountId>(1 + rng.Below(kAccounts));
    int64_t& mid = mid_[symbol];
    mid = std::clamp<int64_t>(mid + rng.Below(3) - 1, 900, 1100);
    const int64_t r = rng.Below(100);
    if (r < 22) {
      auto open = engine_.OpenOrders(account, symbol);
      if (!open.empty()) {
        engine::CancelOrder c;
        c.ref = engine::OrderRef{account, symbol,
                                 open[static_cast<size_t>(rng.Below(std::ssize(open)))].order_id,
                                 {}};
        return Apply(c);
      }
    }
    engine::NewOrder o;
    o.account = account;
    o.symbol = symbol;
    o.side = rng.Below(2) == 0 ? engine::Side::kBuy : engine::Side::kSell;
    const int64_t sign = o.side == engine::Side::kBuy ? -1 : 1;
    o.qty = engine::Qty{(1 + rng.Below(300)) * 100'000};  // 0.001 .. 0.3
    if (r < 75) {  // resting (sometimes crossing) limit orders
      o.type = engine::OrderType::kLimit;
      o.tif = engine::TimeInForce::kGtc;
      o.price = engine::Price{(mid + sign * (rng.Below(40) - 2)) * 100'000'000};
      if (rng.Below(10) == 0) o.iceberg_qty = engine::Qty{o.qty.v / (2 + rng.Below(4)) + 1'000};
      if (o.iceberg_qty.v >= o.qty.v) o.iceberg_qty = engine::Qty{0};
    } else if (r < 85) {
      o.type = engine::OrderType::kLimit;
      o.tif = engine::TimeInForce::kIoc;
      o.price = engine::Price{(mid - sign * rng.Below(5)) * 100'000'000};
    } else if (r < 95) {
      o.type = engine::OrderType::kMarket;
    } else {  // a stop-limit order that a later trade may trigger
      o.type = engine::OrderType::kStopLossLimit;
      o.tif = engine::TimeInForce::kGtc;
      o.stop_price = engine::Price{(mid - sign * (1 + rng.Below(4))) * 100'000'000};
      o.price = o.stop_price;
    }
    return Apply(engine::PlaceOrder{o});
  }

  // Applies one command; its envelope goes through the encoder.
  std::vector<StreamMessage> Apply(engine::CommandBody body) {
    proto::Envelope env = Run(body);
    return encoder_.Apply(env);
  }

  // GET /api/v3/depth?symbol=<symbol>&limit=5000 through the gateway's route.
  http::Response RestDepth(const std::string& symbol) {
    std::optional<http::Response> answer;
    http::Request req(http::Method::kGet, "GET", "/api/v3/depth?symbol=" + symbol + "&limit=5000",
                      {}, "", "127.0.0.1", "127.0.0.1");
    router_.Dispatch(std::move(req),
                     http::Responder::ToCallback([&](http::Response r) { answer = std::move(r); }));
    EXPECT_TRUE(answer.has_value()) << "the depth route did not answer at once";
    return answer.value_or(http::Response{});
  }

  engine::Engine& engine() { return engine_; }
  MarketData& market() { return market_; }
  size_t accepted() const { return accepted_; }
  size_t rejected() const { return rejected_; }

 private:
  proto::Envelope Run(engine::CommandBody body) {
    ++seq_;
    engine::Command c{seq_, kT0 + static_cast<int64_t>(seq_) * 7, body};
    auto result = engine_.Apply(c);
    (result.code == engine::RejectCode::kNone ? accepted_ : rejected_) += 1;
    std::vector<std::byte> bytes;
    proto::AppendEnvelope(0, c, result, bytes);
    auto env = proto::Envelope::Parse(bytes);
    EXPECT_TRUE(env.has_value());
    return std::move(*env);
  }

  engine::Engine engine_;
  MarketData market_;
  StreamEncoder encoder_{market_};
  PublicApi api_{market_, [] { return kT0; }};
  http::Router router_;
  uint64_t seq_ = 0;
  int64_t mid_[kSymbols] = {1000, 1000};
  size_t accepted_ = 0, rejected_ = 0;
};

}  // namespace spotex::gateway::streams::test
