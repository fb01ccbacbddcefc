// The projection alone (no database): hand-made event records for the rules a random workload
// cannot pin down — the ledger identity check, zero amounts, the fee account, months.
#include "store/projection.h"

#include <gtest/gtest.h>

#include "proto/envelope.h"

namespace spotex::store::test {
namespace {

constexpr int64_t kT = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

// One envelope whose records the test appends to `events`.
proto::Envelope Wrap(uint64_t seq, const engine::EventBuffer& events) {
  engine::ApplyResult r;
  r.events = events.bytes();
  const engine::Command cmd{seq, kT, engine::Deposit{}};
  std::vector<std::byte> bytes;
  proto::AppendEnvelope(0, cmd, r, bytes);
  auto env = proto::Envelope::Parse(bytes);
  EXPECT_TRUE(env.has_value());
  return std::move(*env);
}

std::expected<void, std::string> ProjectOne(const ProjectionState& state, const proto::Envelope& e,
                                            ProjectedBatch& out) {
  const proto::Envelope* p = &e;
  return Project(state, std::span<const proto::Envelope* const>(&p, 1), out);
}

TEST(ProjectionTest, DepositIsTwoEntriesAndTheBalance) {
  engine::EventBuffer ev;
  auto& t = ev.Append<engine::Transfer>(7);
  t.account = 3;
  t.asset = 1;
  t.amount = engine::Amount{500};
  t.time_ms = kT;
  auto& b = ev.Append<engine::BalanceChanged>(7);
  b.account = 3;
  b.asset = 1;
  b.free = engine::Amount{500};
  b.delta_free = engine::Amount{500};
  ProjectedBatch out;
  ASSERT_TRUE(ProjectOne({}, Wrap(7, ev), out));
  ASSERT_EQ(out.ledger.size(), 2u);
  EXPECT_EQ(out.ledger[0].account_id, 3);
  EXPECT_EQ(out.ledger[0].amount, 500);
  EXPECT_EQ(out.ledger[0].kind, LedgerKind::kDeposit);
  EXPECT_EQ(out.ledger[1].account_id, kLedgerOutsideAccount);
  EXPECT_EQ(out.ledger[1].amount, -500);
  EXPECT_EQ(out.ledger[1].leg, 1);
  ASSERT_EQ(out.balances.size(), 1u);
  EXPECT_EQ(out.balances[0].free, 500);
  EXPECT_EQ(out.months, std::set<int32_t>{MonthOf(kT)});
}

TEST(ProjectionTest, BalanceChangeTheEntriesDoNotExplainIsRefused) {
  engine::EventBuffer ev;
  auto& t = ev.Append<engine::Transfer>(7);
  t.account = 3;
  t.asset = 1;
  t.amount = engine::Amount{500};
  auto& b = ev.Append<engine::BalanceChanged>(7);
  b.account = 3;
  b.asset = 1;
  b.free = engine::Amount{501};
  b.delta_free = engine::Amount{501};
  ProjectedBatch out;
  auto r = ProjectOne({}, Wrap(7, ev), out);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("changed by 501 but its entries sum to 500"), std::string::npos);
  // Entries with no balance change at all are refused too.
  engine::EventBuffer only;
  auto& t2 = only.Append<engine::Transfer>(8);
  t2.account = 3;
  t2.asset = 1;
  t2.amount = engine::Amount{5};
  EXPECT_FALSE(ProjectOne({}, Wrap(8, only), out));
}

TEST(ProjectionTest, LockedChangeIsALockPairAndZeroCommissionNoEntry) {
  ProjectionState state;
  state.symbols[0] = SymbolAssets{0, 1};
  state.open_orders[10] = OpenOrderState{kT - 5, -1, 0, true};
  state.open_orders[11] = OpenOrderState{kT - 9, 4, 0, true};
  engine::EventBuffer ev;
  auto& tr = ev.Append<engine::Trade>(9);
  tr.trade_id = 1;
  tr.symbol = 0;
  tr.price = engine::Price{100};
  tr.qty = engine::Qty{2};
  tr.quote_qty = engine::Amount{200};
  tr.buyer_order_id = 10;
  tr.seller_order_id = 11;
  tr.buyer = 1;
  tr.seller = 2;
  tr.buyer_commission = engine::Qty{0};
  tr.seller_commission = engine::Amount{1};
  tr.time_ms = kT;
  // Buyer: quote paid from the order's reserve (locked -200), base +2 free.
  for (auto [acct, asset, df, dl] :
       {std::tuple{1, 1, 0, -200}, std::tuple{1, 0, 2, 0}, std::tuple{2, 0, 0, -2},
        std::tuple{2, 1, 199, 0}, std::tuple{0, 1, 1, 0}}) {
    auto& b = ev.Append<engine::BalanceChanged>(9);
    b.account = static_cast<engine::AccountId>(acct);
    b.asset = static_cast<engine::AssetId>(asset);
    b.free = engine::Amount{1000 + df};
    b.locked = engine::Amount{1000 + dl};
    b.delta_free = engine::Amount{df};
    b.delta_locked = engine::Amount{dl};
  }
  ProjectedBatch out;
  auto r = ProjectOne(state, Wrap(9, ev), out);
  ASSERT_TRUE(r) << r.error();
  // 4 trade legs + 2 seller commission entries + 2 lock pairs.
  ASSERT_EQ(out.ledger.size(), 10u);
  int64_t fee = 0, locks = 0;
  for (const LedgerRow& l : out.ledger) {
    EXPECT_NE(l.amount, 0);
    if (l.account_id == kLedgerFeeAccount) fee += l.amount;
    if (l.kind == LedgerKind::kLock) ++locks;
  }
  EXPECT_EQ(fee, 1);
  EXPECT_EQ(locks, 4);
  ASSERT_EQ(out.fills.size(), 2u);
  EXPECT_EQ(out.fills[1].order_list_id, 4);
  EXPECT_EQ(out.fills[1].commission_asset, 1u);
  EXPECT_EQ(out.balances.size(), 4u);  // not the fee account's
  ASSERT_EQ(out.klines.size(), 1u);
  EXPECT_EQ(out.klines[0].volume, 2);
  EXPECT_EQ(out.klines[0].taker_buy_volume, 2);  // the buyer was the taker
}

TEST(ProjectionTest, MonthsAreUtcCalendarMonths) {
  EXPECT_EQ(MonthStartDate(MonthOf(kT)), "2026-01-01");
  EXPECT_EQ(MonthStartDate(MonthOf(kT - 1)), "2025-12-01");
  EXPECT_EQ(MonthStartDate(MonthOf(1'769'904'000'000)), "2026-02-01");  // Feb 1 00:00
}

}  // namespace
}  // namespace spotex::store::test
