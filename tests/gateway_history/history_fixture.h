// A migrated history database with helpers that insert rows by SQL the way spotex-recorder
// writes them (db/migrations/0002_history.sql), for the historical-query tests. One real
// PostgreSQL per test process (DbTest), a fresh database per test.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "db/migrate.h"
#include "db/pool.h"
#include "db_fixture.h"
#include "gateway/history/history_store.h"

namespace spotex::testing {

// 2026-11-02 00:00:00 UTC (a Monday), the tests' base time.
inline constexpr int64_t kT0 = 1793577600000;
inline constexpr int64_t kMin = 60'000;
inline constexpr int64_t kHour = 3'600'000;
inline constexpr int64_t kDay = 86'400'000;
// Symbol 1 = BTCUSDT (BTC asset 1 scale 8, USDT asset 2 scale 8).
inline constexpr uint32_t kBtcUsdt = 1;

class HistoryDbTest : public DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    auto conn = Connect();
    ASSERT_TRUE(conn.has_value());
    conn_.emplace(std::move(*conn));
    auto migrated = db::Migrate(*conn_, SPOTEX_MIGRATIONS_DIR);
    ASSERT_TRUE(migrated.has_value()) << migrated.error().message;
    Sql("SELECT history_ensure_month('2026-10-01'), history_ensure_month('2026-11-01'),"
        " history_ensure_month('2026-12-01')");
    Sql("INSERT INTO assets VALUES (1, 'BTC', 8), (2, 'USDT', 8)");
    Sql("INSERT INTO symbols (symbol_id, name, base_asset, quote_asset) VALUES"
        " (1, 'BTCUSDT', 1, 2), (2, 'ETHUSDT', 1, 2)");
    pool_ = std::make_unique<db::PgPool>(Params(), 4);
    store_ = std::make_unique<gateway::HistoryStore>(*pool_);
  }
  void TearDown() override {
    store_.reset();
    pool_.reset();
    conn_.reset();
  }

  void Sql(const std::string& sql) {
    auto r = conn_->ExecScript(sql);
    ASSERT_TRUE(r.has_value()) << r.error().message << "\n" << sql;
  }

  // An order (LIMIT GTC BUY unless said otherwise) with its latest state.
  struct Order {
    int64_t id;
    int64_t time_ms;
    uint64_t account = 7;
    uint32_t symbol = kBtcUsdt;
    std::string client_id;
    int status = 2;  // FILLED
    int64_t executed = 100'000'000;
    int64_t update_ms = 0;  // 0: time_ms + 1
    int side = 0;
    int64_t list_id = -1;
  };
  void InsertOrder(const Order& o) {
    const std::string cid = o.client_id.empty() ? "c" + std::to_string(o.id) : o.client_id;
    const int64_t upd = o.update_ms ? o.update_ms : o.time_ms + 1;
    Sql("INSERT INTO orders (order_id, time_ms, account_id, symbol_id, order_list_id,"
        " client_order_id, side, type, time_in_force, stp_mode, price, qty, quote_qty,"
        " stop_price, iceberg_qty, status, working, working_time_ms, executed_qty,"
        " cum_quote_qty, update_time_ms, seq, last_seq) VALUES (" +
        std::to_string(o.id) + "," + std::to_string(o.time_ms) + "," + std::to_string(o.account) +
        "," + std::to_string(o.symbol) + "," + std::to_string(o.list_id) + ",'" + cid + "'," +
        std::to_string(o.side) + ",0,1,1,6500000000000,100000000,0,0,0," +
        std::to_string(o.status) + ",true," + std::to_string(o.time_ms) + "," +
        std::to_string(o.executed) + "," +
        std::to_string(o.executed / 100'000'000 * 6500000000000) + "," + std::to_string(upd) + "," +
        std::to_string(o.id) + "," + std::to_string(o.id) + ")");
  }

  // A trade and its two fills (buyer `buyer`, seller `seller`); the taker is the seller when
  // buyer_is_maker.
  struct Trade {
    int64_t id;
    int64_t time_ms;
    int64_t price = 6500000000000;
    int64_t qty = 1'000'000;
    int64_t buyer_order = 1, seller_order = 2;
    uint64_t buyer = 7, seller = 8;
    bool buyer_is_maker = true;
    uint32_t symbol = kBtcUsdt;
  };
  void InsertTrade(const Trade& t) {
    const std::string quote = std::to_string(t.price / 100'000'000 * t.qty);
    Sql("INSERT INTO trades VALUES (" + std::to_string(t.id) + "," + std::to_string(t.time_ms) +
        "," + std::to_string(t.symbol) + "," + std::to_string(t.price) + "," +
        std::to_string(t.qty) + "," + quote + "," + (t.buyer_is_maker ? "true" : "false") + "," +
        std::to_string(t.buyer_order) + "," + std::to_string(t.seller_order) + "," +
        std::to_string(t.buyer) + "," + std::to_string(t.seller) + "," + std::to_string(t.id) +
        ",0)");
    auto fill = [&](uint64_t account, int64_t order, bool buyer) {
      const bool maker = buyer == t.buyer_is_maker;
      Sql("INSERT INTO fills (account_id, symbol_id, trade_id, time_ms, order_id, is_buyer,"
          " is_maker, price, qty, quote_qty, commission, commission_asset) VALUES (" +
          std::to_string(account) + "," + std::to_string(t.symbol) + "," + std::to_string(t.id) +
          "," + std::to_string(t.time_ms) + "," + std::to_string(order) + "," +
          (buyer ? "true" : "false") + "," + (maker ? "true" : "false") + "," +
          std::to_string(t.price) + "," + std::to_string(t.qty) + "," + quote + ",10," +
          (buyer ? "1" : "2") + ")");
    };
    fill(t.buyer, t.buyer_order, true);
    fill(t.seller, t.seller_order, false);
  }

  void InsertBar(int64_t open_time_ms, int64_t open, int64_t high, int64_t low, int64_t close,
                 int64_t volume, int64_t trades, int64_t first_id, uint32_t symbol = kBtcUsdt) {
    Sql("INSERT INTO klines_1m VALUES (" + std::to_string(symbol) + "," +
        std::to_string(open_time_ms) + "," + std::to_string(open) + "," + std::to_string(high) +
        "," + std::to_string(low) + "," + std::to_string(close) + "," + std::to_string(volume) +
        "," + std::to_string(volume * 10) + "," + std::to_string(trades) + "," +
        std::to_string(volume / 2) + "," + std::to_string(volume * 5) + "," +
        std::to_string(first_id) + "," + std::to_string(first_id + trades - 1) + ")");
  }

  std::optional<db::PgConnection> conn_;
  std::unique_ptr<db::PgPool> pool_;
  std::unique_ptr<gateway::HistoryStore> store_;
};

}  // namespace spotex::testing
