// Events are compared and de-duplicated byte for byte (the event stream drops a re-published
// envelope by id and the crash test compares envelopes), so the bytes of an event may depend only
// on the command's values, never on padding bytes of the command struct.
#include <gtest/gtest.h>

#include <cstring>
#include <new>
#include <vector>

#include "engine/engine.h"
#include "engine/event.h"

namespace spotex::engine {
namespace {

std::vector<std::byte> SymbolAddedBytes(unsigned char fill) {
  Engine e;
  AddAsset btc, usdt;
  (void)btc.name.Assign("BTC");
  (void)usdt.name.Assign("USDT");
  e.Apply(Command{1, 0, btc});
  e.Apply(Command{2, 0, usdt});
  // A command whose padding holds `fill`, as a decoded command's may: default-initialised
  // (not value-initialised, which would zero the padding) in storage filled beforehand.
  alignas(AddSymbol) unsigned char raw[sizeof(AddSymbol)];
  std::memset(raw, fill, sizeof raw);
  auto* add = new (raw) AddSymbol;
  auto& c = add->config;
  (void)c.name.Assign("BTCUSDT");
  c.base_asset = 0;
  c.quote_asset = 1;
  c.filters.tick_size = Price{1'000'000};
  c.filters.step_size = Qty{1'000};
  c.filters.min_price = Price{1'000'000};
  c.filters.max_price = Price{100'000'000'000'000};
  c.filters.min_qty = Qty{1'000};
  c.filters.max_qty = Qty{900'000'000'000};
  auto r = e.Apply(Command{3, 0, *add});
  EXPECT_EQ(r.code, RejectCode::kNone);
  return {r.events.begin(), r.events.end()};
}

TEST(EventBytes, SymbolAddedDoesNotCarryTheCommandsPaddingBytes) {
  auto zero = SymbolAddedBytes(0x00);
  auto junk = SymbolAddedBytes(0xA5);
  ASSERT_FALSE(zero.empty());
  EXPECT_EQ(zero, junk);
}

}  // namespace
}  // namespace spotex::engine
