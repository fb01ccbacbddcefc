// The BTCUSDT market the gateway's encoder and order tests start from: assets BTC (0) and USDT
// (1), symbol BTCUSDT with 8-decimal amounts, tick 0.01, step 0.00001, prices 0.01..1,000,000,
// quantities 0.00001..9,000, no default self-trade prevention. Each test applies these commands
// in order through its own engine, then adds fees, accounts and deposits of its own.
#pragma once

#include <vector>

#include "engine/command.h"

namespace spotex::testing {

inline std::vector<engine::CommandBody> BtcUsdtMarket() {
  engine::AddAsset btc, usdt;
  (void)btc.name.Assign("BTC");
  (void)usdt.name.Assign("USDT");
  engine::AddSymbol s;
  (void)s.config.name.Assign("BTCUSDT");
  s.config.base_asset = 0;
  s.config.quote_asset = 1;
  auto& f = s.config.filters;
  f.tick_size = engine::Price{1'000'000};
  f.step_size = engine::Qty{1'000};
  f.min_price = engine::Price{1'000'000};
  f.max_price = engine::Price{100'000'000'000'000};
  f.min_qty = engine::Qty{1'000};
  f.max_qty = engine::Qty{900'000'000'000};
  s.config.default_stp = engine::StpMode::kNone;
  return {btc, usdt, s};
}

}  // namespace spotex::testing
