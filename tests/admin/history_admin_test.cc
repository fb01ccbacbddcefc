// spotex-admin reconcile / archive / unarchive against a real PostgreSQL (tests/db/pg_harness.h)
// with the history schema, and for reconcile a real engine (tests/service/harness.h). The
// recorder is not part of this test: the ledger and balances rows are inserted by SQL, mirroring
// the commands the test sent to the engine, by the conventions of 0002_history.sql.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "admin/archive.h"
#include "db/migrate.h"
#include "engine/command.h"
#include "harness.h"
#include "pg_harness.h"
#include "proto/codec.h"
#include "proto/envelope.h"
#include "service/command_client.h"

namespace spotex::testing {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kUnit = 100'000'000;  // scale 8
constexpr int kBTC = 0, kUSDT = 3;      // etc/markets.toml's ids (the engine's)

struct CmdRun {
  int exit_code;
  std::string out;  // stdout and stderr
};

CmdRun Shell(const std::string& cmd) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = ::pclose(p);
  return CmdRun{WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

admin::Month PrevMonth(admin::Month m) {
  return m.month == 1 ? admin::Month{m.year - 1, 12} : admin::Month{m.year, m.month - 1};
}

class HistoryAdminTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto s = PgServer::Start();
    ASSERT_TRUE(s.has_value()) << s.error();
    pg_server_ = s->release();
  }
  static void TearDownTestSuite() {
    delete pg_server_;
    pg_server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(pg_server_, nullptr);
    auto name = pg_server_->CreateDatabase();
    ASSERT_TRUE(name.has_value()) << name.error();
    dbname_ = *name;
    auto c = db::PgConnection::Connect(pg_server_->Params(dbname_));
    ASSERT_TRUE(c.has_value()) << c.error().message;
    pg_.emplace(std::move(*c));
    auto m = db::Migrate(*pg_, SPOTEX_MIGRATIONS_DIR);
    ASSERT_TRUE(m.has_value()) << m.error().message;
    Sql("INSERT INTO assets VALUES (0, 'BTC', 8), (1, 'ETH', 8), (2, 'BNB', 8), (3, 'USDT', 8)");
    current_ = admin::MonthOfMs(NowMs());
    m1_ = PrevMonth(current_);
    m2_ = PrevMonth(m1_);
    for (auto month : {m2_, m1_, current_}) {
      Sql("SELECT history_ensure_month('" + admin::ToString(month) + "-01'::date)");
    }
  }

  void Sql(const std::string& sql) {
    auto r = pg_->ExecParams(sql.c_str(), {});
    ASSERT_TRUE(r.has_value()) << sql << ": " << r.error().message;
  }
  std::string One(const std::string& sql) {
    auto r = pg_->ExecParams(sql.c_str(), {});
    if (!r || r->rows() < 1) return "<error " + (r ? std::string() : r.error().message) + ">";
    return std::string(r->Text(0, 0));
  }

  void StartEngine() {
    nats_ = std::make_unique<NatsServer>(dir_.path());
    ASSERT_TRUE(nats_->ok());
    engine_ = std::make_unique<EngineProcess>(
        *nats_, dir_.path() + "/engine", dir_.path() + "/engine.log",
        EngineOptions{std::string(SPOTEX_SOURCE_DIR) + "/etc/markets.toml", 200000, 300});
    engine_->Start();
    auto c = service::CommandClient::Connect(nats_->config(), 0);
    ASSERT_TRUE(c.has_value());
    client_ = std::move(*c);
    for (int i = 0; i < 100; ++i) {
      auto q = client_->Query("status", 1000);
      if (q && q->find("logSeq") != std::string::npos) break;
      usleep(100'000);
    }
  }

  // Sends one command; returns its seq (0 if rejected or lost).
  uint64_t Send(const engine::CommandBody& body) {
    auto bytes = proto::EncodeCommand(engine::Command{0, 0, body});
    auto reply = client_->Call(bytes, "t" + std::to_string(++msg_id_), 5000);
    if (!reply) return 0;
    auto env = proto::Envelope::Parse(*reply);
    if (!env || env->header().code != engine::RejectCode::kNone) return 0;
    return env->header().seq;
  }
  uint64_t EngineSeq() {
    auto q = client_->Query("status", 5000);
    return q ? std::stoull(JsonField(*q, "engineSeq")) : 0;
  }

  std::string PgFlags() {
    return " --pg-host 127.0.0.1 --pg-port " + std::to_string(pg_server_->port()) +
           " --pg-user spotex --pg-dbname " + dbname_ + " --pg-password-file " +
           pg_server_->password_file();
  }
  CmdRun Admin(const std::string& args) {
    std::string nats = nats_ ? " --nats-url " + nats_->url() +
                                   " --nats-user spotex --nats-password-file " +
                                   nats_->password_file()
                             : std::string(" --nats-url nats://127.0.0.1:1");
    return Shell(std::string(SPOTEX_ADMIN_BIN) + nats + PgFlags() + " " + args);
  }

  // One ledger entry.
  void Leg(uint64_t seq, int idx, int leg, int64_t time_ms, int64_t account, int asset, int bucket,
           int kind, int64_t amount) {
    auto r = pg_->Exec(
        "INSERT INTO ledger (seq, idx, leg, time_ms, account_id, asset_id, bucket, kind, amount) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        static_cast<int64_t>(seq), idx, leg, time_ms, account, asset, bucket, kind, amount);
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }
  void Balance(int64_t account, int asset, int64_t free, int64_t locked, uint64_t seq) {
    auto r = pg_->Exec(
        "INSERT INTO balances (account_id, asset_id, free, locked, seq, update_time_ms) "
        "VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT (account_id, asset_id) DO UPDATE SET "
        "free = EXCLUDED.free, locked = EXCLUDED.locked, seq = EXCLUDED.seq",
        account, asset, free, locked, static_cast<int64_t>(seq));
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }
  void Position(uint64_t seq) {
    auto r = pg_->Exec(
        "INSERT INTO recorder_positions (shard, command_seq, stream_seq) VALUES (0, $1, $1) "
        "ON CONFLICT (shard) DO UPDATE SET command_seq = EXCLUDED.command_seq",
        static_cast<int64_t>(seq));
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }

  // A digest of every row of a table in [from, to) of time_ms, to compare contents.
  std::string Digest(const std::string& table) {
    return One(
        "SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), 'empty') || "
        "count(*) FROM " +
        table + " t");
  }
  int Partitions() {
    return std::stoi(
        One("SELECT count(*) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE p.relname IN (SELECT name FROM history_partitioned_tables)"));
  }

  // The workload of the live tests: deposits and a withdrawal in m2, a resting sell in m1, the
  // trade that fills it now; the ledger and balances rows that mirror them.
  void Workload() {
    int64_t t2 = admin::MonthStartMs(m2_) + 1000, t1 = admin::MonthStartMs(m1_) + 1000;
    int64_t t0 = NowMs();
    ASSERT_GT(Send(engine::OpenAccount{1}), 0u);
    ASSERT_GT(Send(engine::OpenAccount{2}), 0u);
    uint64_t d1 = Send(engine::Deposit{1, kUSDT, engine::Amount{10000 * kUnit}});
    uint64_t d2 = Send(engine::Deposit{2, kBTC, engine::Amount{1 * kUnit}});
    uint64_t w1 = Send(engine::Withdraw{1, kUSDT, engine::Amount{500 * kUnit}});
    ASSERT_TRUE(d1 && d2 && w1);
    engine::NewOrder sell;
    sell.account = 2;
    sell.symbol = 0;  // BTCUSDT
    sell.side = engine::Side::kSell;
    sell.tif = engine::TimeInForce::kGtc;
    sell.price = engine::Price{20000 * kUnit};
    sell.qty = engine::Qty{kUnit / 10};
    ASSERT_TRUE(sell.client_order_id.Assign("sell-1"));
    uint64_t s = Send(engine::PlaceOrder{sell});
    engine::NewOrder buy = sell;
    buy.account = 1;
    buy.side = engine::Side::kBuy;
    ASSERT_TRUE(buy.client_order_id.Assign("buy-1"));
    uint64_t b = Send(engine::PlaceOrder{buy});
    ASSERT_TRUE(s && b);
    // The engine agrees with what the rows below say (commission 0.1% of what is received).
    auto b1 = client_->Query("balances 1", 5000);
    ASSERT_TRUE(b1.has_value());
    EXPECT_NE(b1->find("{\"asset\":\"BTC\",\"free\":\"0.09990000\",\"locked\":\"0.00000000\"}"),
              std::string::npos)
        << *b1;
    EXPECT_NE(b1->find("{\"asset\":\"USDT\",\"free\":\"7500.00000000\",\"locked\":\"0.00000000\"}"),
              std::string::npos)
        << *b1;
    auto b2 = client_->Query("balances 2", 5000);
    ASSERT_TRUE(b2.has_value());
    EXPECT_NE(b2->find("{\"asset\":\"USDT\",\"free\":\"1998.00000000\""), std::string::npos) << *b2;

    Leg(d1, 0, 0, t2, 1, kUSDT, 0, 1, 10000 * kUnit);
    Leg(d1, 0, 1, t2, 0, kUSDT, 0, 1, -10000 * kUnit);
    Leg(d2, 0, 0, t2, 2, kBTC, 0, 1, kUnit);
    Leg(d2, 0, 1, t2, 0, kBTC, 0, 1, -kUnit);
    Leg(w1, 0, 0, t2 + 1, 1, kUSDT, 0, 2, -500 * kUnit);
    Leg(w1, 0, 1, t2 + 1, 0, kUSDT, 0, 2, 500 * kUnit);
    Leg(s, 0, 0, t1, 2, kBTC, 0, 3, -kUnit / 10);  // lock the sell's 0.1 BTC
    Leg(s, 0, 1, t1, 2, kBTC, 1, 3, kUnit / 10);
    // The fill: unlock + payment for the maker; trade legs; commissions to the fee account.
    Leg(b, 1, 0, t0, 2, kBTC, 1, 3, -kUnit / 10);
    Leg(b, 1, 1, t0, 2, kBTC, 0, 3, kUnit / 10);
    Leg(b, 1, 2, t0, 2, kBTC, 0, 4, -kUnit / 10);
    Leg(b, 1, 3, t0, 1, kBTC, 0, 4, kUnit / 10);
    Leg(b, 1, 4, t0, 1, kUSDT, 0, 4, -2000 * kUnit);
    Leg(b, 1, 5, t0, 2, kUSDT, 0, 4, 2000 * kUnit);
    Leg(b, 1, 6, t0, 1, kBTC, 0, 5, -kUnit / 10000);
    Leg(b, 1, 7, t0, -1, kBTC, 0, 5, kUnit / 10000);
    Leg(b, 1, 8, t0, 2, kUSDT, 0, 5, -2 * kUnit);
    Leg(b, 1, 9, t0, -1, kUSDT, 0, 5, 2 * kUnit);
    Balance(1, kUSDT, 7500 * kUnit, 0, b);
    Balance(1, kBTC, kUnit / 10 - kUnit / 10000, 0, b);
    Balance(2, kBTC, kUnit - kUnit / 10, 0, b);
    Balance(2, kUSDT, 1998 * kUnit, 0, b);
    // Other history rows in the past months, one with a client id CSV must quote.
    Sql("INSERT INTO orders (order_id, time_ms, account_id, symbol_id, client_order_id, side, "
        "type, time_in_force, stp_mode, price, qty, quote_qty, stop_price, iceberg_qty, status, "
        "working, update_time_ms, seq, last_seq) VALUES (1, " +
        std::to_string(t1) +
        ", 2, 0, E'odd,\"id\"\\nline', 1, 0, 1, 1, 2000000000000, 10000000, 0, 0, 0, 0, true, " +
        std::to_string(t1) + ", " + std::to_string(s) + ", " + std::to_string(s) + ")");
    Sql("INSERT INTO order_events (seq, idx, time_ms, order_id, account_id, symbol_id, "
        "exec_type, status, executed_qty, cum_quote_qty) VALUES (" +
        std::to_string(s) + ", 0, " + std::to_string(t1) + ", 1, 2, 0, 0, 0, 0, 0)");
    Position(EngineSeq());
  }

  static PgServer* pg_server_;
  TempDir dir_;
  std::string dbname_;
  std::optional<db::PgConnection> pg_;
  std::unique_ptr<NatsServer> nats_;
  std::unique_ptr<EngineProcess> engine_;
  std::unique_ptr<service::CommandClient> client_;
  uint64_t msg_id_ = 0;
  admin::Month current_, m1_, m2_;
};

PgServer* HistoryAdminTest::pg_server_ = nullptr;

TEST_F(HistoryAdminTest, ReconcileFindsEveryKindOfDifference) {
  StartEngine();
  Workload();
  auto ok = Admin("reconcile");
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("reconcile accounts=3 assets=4 differences=0"), std::string::npos)
      << ok.out;

  // A missing entry: the fee account's BTC commission. The account differs and its event no
  // longer balances.
  Sql("DELETE FROM ledger WHERE account_id = -1 AND asset_id = 0");
  auto missing = Admin("reconcile");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("differences=3"), std::string::npos) << missing.out;
  EXPECT_NE(missing.out.find("0.00010000"), std::string::npos) << missing.out;
  EXPECT_NE(missing.out.find("unbalanced event"), std::string::npos) << missing.out;
  EXPECT_NE(missing.out.find("asset BTC"), std::string::npos) << missing.out;
  Sql("INSERT INTO ledger SELECT seq, idx, 7, time_ms, -1, 0, 0, 5, 10000 FROM ledger "
      "WHERE account_id = 1 AND kind = 5 AND asset_id = 0");

  // A wrong balance in the balances table only.
  Sql("UPDATE balances SET free = free + 1 WHERE account_id = 2 AND asset_id = 3");
  auto wrong = Admin("reconcile --json 1");
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.out.find("\"differences\":1,"), std::string::npos) << wrong.out;
  EXPECT_NE(wrong.out.find("\"account\":2,\"asset\":\"USDT\",\"engineFree\":\"1998.00000000\""),
            std::string::npos)
      << wrong.out;
  EXPECT_NE(wrong.out.find("\"tableFree\":\"1998.00000001\""), std::string::npos) << wrong.out;
  EXPECT_NE(wrong.out.find("\"problem\":\"balances table\""), std::string::npos) << wrong.out;
  Sql("UPDATE balances SET free = free - 1 WHERE account_id = 2 AND asset_id = 3");

  // An unbalanced event on the outside world only: no account differs, the event and the
  // asset's totals do.
  Sql("UPDATE ledger SET amount = amount - 5 WHERE account_id = 0 AND asset_id = 0");
  auto unbalanced = Admin("reconcile");
  EXPECT_EQ(unbalanced.exit_code, 1);
  EXPECT_NE(unbalanced.out.find("differences=2"), std::string::npos) << unbalanced.out;
  EXPECT_NE(unbalanced.out.find("unbalanced event seq"), std::string::npos) << unbalanced.out;
  EXPECT_NE(unbalanced.out.find("sum -0.00000005"), std::string::npos) << unbalanced.out;
  Sql("UPDATE ledger SET amount = amount + 5 WHERE account_id = 0 AND asset_id = 0");

  // An asset's total off without any unbalanced event: the outside world's carried sum.
  Sql("INSERT INTO ledger_carried VALUES (0, 3, 0, 700000000)");
  auto total = Admin("reconcile");
  EXPECT_EQ(total.exit_code, 1);
  EXPECT_NE(total.out.find("differences=1"), std::string::npos) << total.out;
  EXPECT_NE(total.out.find("asset USDT: users+fees 9500.00000000, deposits-withdrawals "
                           "9493.00000000"),
            std::string::npos)
      << total.out;
  Sql("DELETE FROM ledger_carried");

  // The engine account unknown to the ledger: a deposit the recorder has not written.
  ASSERT_GT(Send(engine::OpenAccount{3}), 0u);
  uint64_t d3 = Send(engine::Deposit{3, kUSDT, engine::Amount{kUnit}});
  ASSERT_GT(d3, 0u);
  // The recorder is behind: reconcile waits, then says so.
  auto behind = Admin("reconcile --wait-ms 200");
  EXPECT_EQ(behind.exit_code, 1);
  EXPECT_NE(behind.out.find("did not catch up within 200 ms"), std::string::npos) << behind.out;
  Position(d3);
  auto unrecorded = Admin("reconcile");
  EXPECT_EQ(unrecorded.exit_code, 1);
  EXPECT_NE(unrecorded.out.find("accounts=4 assets=4 differences=1"), std::string::npos)
      << unrecorded.out;
  EXPECT_NE(unrecorded.out.find("no balances row"), std::string::npos) << unrecorded.out;
  Leg(d3, 0, 0, NowMs(), 3, kUSDT, 0, 1, kUnit);
  Leg(d3, 0, 1, NowMs(), 0, kUSDT, 0, 1, -kUnit);
  Balance(3, kUSDT, kUnit, 0, d3);
  EXPECT_EQ(Admin("reconcile").exit_code, 0);

  // Rows past the engine's seq (the recorder ahead of the pages read) are not compared: a
  // later movement of account 1 in the ledger and the balances table.
  uint64_t later = EngineSeq() + 10;
  Leg(later, 0, 0, NowMs(), 1, kUSDT, 0, 1, kUnit);
  Leg(later, 0, 1, NowMs(), 0, kUSDT, 0, 1, -kUnit);
  Balance(1, kUSDT, 7501 * kUnit, 0, later);
  Position(later);
  auto ahead = Admin("reconcile");
  EXPECT_EQ(ahead.exit_code, 0) << ahead.out;
}

TEST_F(HistoryAdminTest, ArchiveRoundTrip) {
  StartEngine();
  Workload();
  const std::vector<std::string> tables = {"ledger", "orders", "order_events", "trades"};
  std::map<std::string, std::string> before;
  for (const auto& t : tables) before[t] = Digest(t);
  int parts = Partitions();
  ASSERT_EQ(parts, 18);

  std::string dir = dir_.path() + "/archive";
  auto r = Admin("archive --before " + admin::ToString(current_) + " --archive-dir " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("archive months=2 tables=12"), std::string::npos) << r.out;
  // The past months' partitions are gone, the current month's stay.
  EXPECT_EQ(Partitions(), 6);
  EXPECT_EQ(One("SELECT count(*) FROM ledger"), "10");
  EXPECT_EQ(One("SELECT count(*) FROM history_archives"), "12");
  // ledger_carried holds the past months' sums: account 2's BTC is 1 - 0.1 free, 0.1 locked.
  EXPECT_EQ(One("SELECT amount FROM ledger_carried WHERE account_id = 2 AND asset_id = 0 "
                "AND bucket = 1"),
            "10000000");
  EXPECT_EQ(One("SELECT amount FROM ledger_carried WHERE account_id = 0 AND asset_id = 3"),
            "-950000000000");
  // Files: verified by reading back; the manifest says what they hold.
  for (auto m : {m2_, m1_}) {
    std::string mdir = dir + "/" + admin::ToString(m);
    ASSERT_TRUE(fs::exists(mdir + "/manifest.json"));
    std::ifstream in(mdir + "/manifest.json");
    std::string manifest((std::istreambuf_iterator<char>(in)), {});
    EXPECT_NE(manifest.find("\"name\":\"client_order_id\",\"type\":\"text\""), std::string::npos)
        << manifest;
    auto st = admin::ReadCsvGz(mdir + "/ledger.csv.gz");
    ASSERT_TRUE(st.has_value()) << st.error();
    EXPECT_EQ(st->rows, m == m2_ ? 6 : 2);
    EXPECT_EQ(One("SELECT sha256 FROM history_archives WHERE table_name = 'ledger' AND month = '" +
                  admin::ToString(m) + "-01'"),
              st->sha256);
    EXPECT_NE(manifest.find(st->sha256), std::string::npos);
  }
  auto orders = admin::ReadCsvGz(dir + "/" + admin::ToString(m1_) + "/orders.csv.gz");
  ASSERT_TRUE(orders.has_value());
  EXPECT_EQ(orders->rows, 1);  // the quoted newline is inside one record

  // The engine still reconciles with live ledger + carried.
  auto rec = Admin("reconcile");
  EXPECT_EQ(rec.exit_code, 0) << rec.out;
  EXPECT_NE(rec.out.find("differences=0"), std::string::npos) << rec.out;

  // Nothing left to archive: a second run does nothing.
  auto again = Admin("archive --before " + admin::ToString(current_) + " --archive-dir " + dir);
  EXPECT_EQ(again.exit_code, 0) << again.out;
  EXPECT_NE(again.out.find("archive months=0 tables=0"), std::string::npos) << again.out;

  // Unarchive both months: identical rows, carried back to zero, reconcile still zero.
  for (auto m : {m1_, m2_}) {
    auto u = Admin("unarchive --month " + admin::ToString(m));
    ASSERT_EQ(u.exit_code, 0) << u.out;
  }
  EXPECT_EQ(Partitions(), parts);
  for (const auto& t : tables) EXPECT_EQ(Digest(t), before[t]) << t;
  EXPECT_EQ(One("SELECT count(*) FROM ledger_carried"), "0");
  EXPECT_EQ(One("SELECT count(*) FROM history_archives"), "0");
  EXPECT_EQ(Admin("reconcile").exit_code, 0);
  auto twice = Admin("unarchive --month " + admin::ToString(m1_));
  EXPECT_EQ(twice.exit_code, 1);
  EXPECT_NE(twice.out.find("is not archived"), std::string::npos) << twice.out;
}

// The recorder's position for the no-engine tests: an event now (current month).
class ArchiveOnlyTest : public HistoryAdminTest {
 protected:
  void SetUp() override {
    HistoryAdminTest::SetUp();
    Leg(1, 0, 0, admin::MonthStartMs(m2_) + 5, 1, kUSDT, 0, 1, 42);
    Leg(1, 0, 1, admin::MonthStartMs(m2_) + 5, 0, kUSDT, 0, 1, -42);
    Leg(2, 0, 0, admin::MonthStartMs(m1_) + 5, 1, kUSDT, 0, 2, -2);
    Leg(2, 0, 1, admin::MonthStartMs(m1_) + 5, 0, kUSDT, 0, 2, 2);
    Leg(3, 0, 0, NowMs(), 1, kUSDT, 0, 2, -1);
    Leg(3, 0, 1, NowMs(), 0, kUSDT, 0, 2, 1);
    Position(3);
  }
  // Nothing changed: every partition, no archive rows, nothing carried.
  void ExpectUnchanged() {
    EXPECT_EQ(Partitions(), 18);
    EXPECT_EQ(One("SELECT count(*) FROM history_archives"), "0");
    EXPECT_EQ(One("SELECT count(*) FROM ledger_carried"), "0");
    EXPECT_EQ(One("SELECT count(*) FROM ledger"), "6");
  }
};

TEST_F(ArchiveOnlyTest, RefusalsChangeNothing) {
  std::string dir = dir_.path() + "/archive";
  // The current month (and anything after it).
  auto cur = Admin("archive --before " + admin::ToString(admin::NextMonth(current_)) +
                   " --archive-dir " + dir);
  EXPECT_EQ(cur.exit_code, 1);
  EXPECT_NE(cur.out.find("would include the current month"), std::string::npos) << cur.out;
  ExpectUnchanged();
  // Bad month text.
  for (std::string bad : {"2026-13", "2026-1", "26-01", "2026/01", "x", "2026-00", "1969-12"}) {
    auto r = Admin("archive --before " + bad + " --archive-dir " + dir);
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_NE(r.out.find("must be a month YYYY-MM"), std::string::npos) << r.out;
  }
  EXPECT_EQ(Admin("unarchive --month 2026-13").exit_code, 2);
  EXPECT_EQ(Admin("archive --before " + admin::ToString(current_)).exit_code, 2);  // no dir
  ExpectUnchanged();
  // An archive directory that cannot be created (a path through a regular file).
  std::ofstream(dir_.path() + "/file") << "x";
  auto nodir = Admin("archive --before " + admin::ToString(current_) + " --archive-dir " +
                     dir_.path() + "/file/sub");
  EXPECT_EQ(nodir.exit_code, 1);
  EXPECT_NE(nodir.out.find("cannot create"), std::string::npos) << nodir.out;
  ExpectUnchanged();
  // A month the recorder has not finished: its last event is in m1.
  Position(2);
  auto open = Admin("archive --before " + admin::ToString(current_) + " --archive-dir " + dir);
  EXPECT_EQ(open.exit_code, 1);
  EXPECT_NE(open.out.find("month " + admin::ToString(m1_) + " is not closed"), std::string::npos)
      << open.out;
  ExpectUnchanged();
  EXPECT_FALSE(fs::exists(dir + "/" + admin::ToString(m2_) + "/ledger.csv.gz"));
  // But m2 alone is closed.
  auto m2 = Admin("archive --before " + admin::ToString(m1_) + " --archive-dir " + dir);
  EXPECT_EQ(m2.exit_code, 0) << m2.out;
  EXPECT_NE(m2.out.find("archive months=1 tables=6"), std::string::npos) << m2.out;
}

TEST_F(ArchiveOnlyTest, KeepDetachedAndCorruptFile) {
  std::string dir = dir_.path() + "/archive";
  auto r = Admin("archive --before " + admin::ToString(current_) + " --archive-dir " + dir +
                 " --keep-detached 1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::string part = "ledger" + admin::PartitionSuffix(m2_);
  EXPECT_EQ(One("SELECT relispartition FROM pg_class WHERE relname = '" + part + "'"), "f");
  EXPECT_EQ(One("SELECT count(*) FROM " + part), "2");
  EXPECT_EQ(One("SELECT amount FROM ledger_carried WHERE account_id = 1"), "40");
  // A file that no longer matches its record is refused before anything changes.
  std::string path = dir + "/" + admin::ToString(m1_) + "/ledger.csv.gz";
  fs::copy_file(dir + "/" + admin::ToString(m2_) + "/ledger.csv.gz", path,
                fs::copy_options::overwrite_existing);
  auto bad = Admin("unarchive --month " + admin::ToString(m1_));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("does not match its archive record"), std::string::npos) << bad.out;
  EXPECT_EQ(One("SELECT count(*) FROM history_archives"), "12");
  // The kept table is attached as it is.
  auto u = Admin("unarchive --month " + admin::ToString(m2_));
  ASSERT_EQ(u.exit_code, 0) << u.out;
  EXPECT_EQ(One("SELECT relispartition FROM pg_class WHERE relname = '" + part + "'"), "t");
  EXPECT_EQ(One("SELECT amount FROM ledger_carried WHERE account_id = 1"), "-2");
}

// docs/reconcile-and-archive.md's recipe: an archived month read through file_fdw.
TEST_F(ArchiveOnlyTest, FileFdwReadsAnArchivedMonth) {
  std::string dir = dir_.path() + "/archive";
  auto r = Admin("archive --before " + admin::ToString(current_) + " --archive-dir " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto su = pg_server_->ConnectSuperuser(dbname_);
  ASSERT_TRUE(su.has_value()) << su.error();
  std::string path = dir + "/" + admin::ToString(m2_) + "/ledger.csv.gz";
  // The archive directory must be readable by the server's user.
  for (fs::path p = path; p != p.root_path(); p = p.parent_path()) {
    fs::permissions(p, fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add);
  }
  std::string sql =
      "CREATE EXTENSION IF NOT EXISTS file_fdw;"
      "CREATE SERVER archive FOREIGN DATA WRAPPER file_fdw;"
      "CREATE FOREIGN TABLE ledger_archived (seq bigint, idx integer, leg smallint, "
      "time_ms bigint, account_id bigint, asset_id integer, bucket smallint, kind smallint, "
      "amount bigint) SERVER archive OPTIONS (program 'gzip -dc " +
      path + "', format 'csv', header 'true');";
  auto made = su->ExecScript(sql);
  ASSERT_TRUE(made.has_value()) << made.error().message;
  auto sum = su->Exec(
      "SELECT count(*), sum(amount) FILTER (WHERE account_id = 1) "
      "FROM ledger_archived");
  ASSERT_TRUE(sum.has_value()) << sum.error().message;
  EXPECT_EQ(sum->Text(0, 0), "2");
  EXPECT_EQ(sum->Text(0, 1), "42");
}

}  // namespace
}  // namespace spotex::testing
