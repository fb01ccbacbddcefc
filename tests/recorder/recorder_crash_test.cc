// The recorder's exactly-once under crashes (issue 6 §5): random commands go through a real
// engine while spotex-recorder is killed with SIGKILL at random moments (small runs, so most
// kills land inside a transaction) and restarted, sometimes after a pause that builds a
// backlog. Once it caught up, PostgreSQL is compared with the event stream read directly from
// EVT_0: the same trades, two fills per trade with the right accounts, every order once, one
// order_events row per order event, one prevented match per event, the events counter equal to
// the stream's event records, and per account and asset the ledger's free and locked sums and
// the balances table equal to the last balances the stream reported. No row is missing and none
// is duplicated.
// SPOTEX_RECORDER_CRASH_COMMANDS (default 20000) and SPOTEX_RECORDER_CRASH_KILLS (default 10)
// size it; SPOTEX_RECORDER_CRASH_SEED picks the workload and the kill moments.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "engine/event.h"
#include "proto/envelope.h"
#include "recorder_stack.h"
#include "workload.h"

namespace spotex::testing {
namespace {

uint64_t EnvU64(const char* name, uint64_t def) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::strtoull(v, nullptr, 10) : def;
}

// What the event stream says PostgreSQL must hold.
struct Expected {
  uint64_t last_seq = 0;
  uint64_t events = 0;
  std::set<int64_t> trades;
  std::set<std::tuple<int64_t, bool, int64_t>> fills;  // trade id, is buyer, account
  std::set<int64_t> orders;
  std::set<std::pair<int64_t, int64_t>> order_events;  // (seq, idx)
  std::set<int64_t> prevented;
  // (account, asset) -> (free, locked) after the last command that changed it.
  std::map<std::pair<int64_t, int64_t>, std::pair<int64_t, int64_t>> balances;
};

Expected FromStream(const EventStreamContents& stream) {
  Expected x;
  for (const auto& e : stream.envelopes) {
    auto env = proto::Envelope::Parse(
        {reinterpret_cast<const std::byte*>(e.bytes.data()), e.bytes.size()});
    EXPECT_TRUE(env.has_value());
    if (!env) continue;
    EXPECT_EQ(env->header().seq, x.last_seq + 1) << "stream not gap-free";
    x.last_seq = env->header().seq;
    x.events += env->header().event_count;
    const auto seq = static_cast<int64_t>(env->header().seq);
    for (auto r = env->reader(); !r.Done(); r.Next()) {
      const auto idx = static_cast<int64_t>(r.header().index);
      if (const auto* t = r.If<engine::Trade>()) {
        x.trades.insert(t->trade_id);
        x.fills.emplace(t->trade_id, true, static_cast<int64_t>(t->buyer));
        x.fills.emplace(t->trade_id, false, static_cast<int64_t>(t->seller));
      } else if (const auto* a = r.If<engine::OrderAccepted>()) {
        x.orders.insert(a->order_id);
        x.order_events.emplace(seq, idx);
      } else if (r.If<engine::OrderUpdate>() != nullptr ||
                 r.If<engine::OrderAmended>() != nullptr) {
        x.order_events.emplace(seq, idx);
      } else if (const auto* p = r.If<engine::PreventedMatch>()) {
        x.prevented.insert(p->prevented_match_id);
      } else if (const auto* b = r.If<engine::BalanceChanged>()) {
        x.balances[{static_cast<int64_t>(b->account), static_cast<int64_t>(b->asset)}] = {
            b->free.v, b->locked.v};
      }
    }
  }
  return x;
}

template <typename Row, typename F>
std::vector<Row> Rows(db::PgConnection& conn, const char* sql, F f) {
  std::vector<Row> out;
  auto r = conn.Exec(sql);
  EXPECT_TRUE(r) << sql << ": " << (r ? "" : r.error().message);
  if (!r) return out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(f(*r, i));
  return out;
}

int64_t Int(const db::PgResult& r, int row, int col) { return r.Int64(row, col).value_or(-999); }

TEST(RecorderCrashTest, SigkillMidBatchRepeatedlyLosesAndDuplicatesNothing) {
  const uint64_t commands = EnvU64("SPOTEX_RECORDER_CRASH_COMMANDS", 20000);
  const uint64_t kills = EnvU64("SPOTEX_RECORDER_CRASH_KILLS", 10);
  const uint64_t seed = EnvU64("SPOTEX_RECORDER_CRASH_SEED", 20261126);
  SCOPED_TRACE("seed " + std::to_string(seed));
  RecorderStack stack;
  ASSERT_TRUE(stack.ok()) << stack.error();
  std::mt19937_64 rng(seed);
  Workload workload(seed);
  std::vector<std::vector<std::byte>> all = workload.Prologue();
  while (all.size() < commands) all.push_back(workload.Next());

  // Small runs: most of the recorder's time is inside a transaction, where the kills land.
  const std::vector<std::string> flags = {"--max-batch-events", "150", "--max-batch-delay-ms", "5"};
  stack.StartRecorder(flags);
  // The killer: each life of the recorder commits at least once (so it makes progress and is
  // busy writing), then dies at a random moment within the next 0.4 s; sometimes the restart waits,
  // so that it comes back behind a backlog. The load flows meanwhile. The killer alone uses the
  // database connection until it is joined.
  uint64_t killed = 0, stuck = 0;
  std::atomic<bool> killer_done{false};
  std::thread killer([&] {
    for (uint64_t k = 0; k < kills; ++k) {
      const uint64_t from = stack.ReadPosition().command_seq;
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (stack.ReadPosition().command_seq == from &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      if (stack.ReadPosition().command_seq == from) ++stuck;
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 400));
      int status = stack.StopRecorder(SIGKILL);
      EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
          << "the recorder exited by itself: " << status << "\n"
          << stack.recorder_log();
      ++killed;
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 2 == 0 ? 0 : rng() % 400));
      stack.StartRecorder(flags);
    }
    killer_done = true;
  });
  // Paced load (about 4,000 commands/s), so that the kills happen while commands flow; it goes
  // on past the planned commands until the last kill (a recorder that caught up with a stream
  // that no longer grows would not commit again).
  bool sent = true;
  const size_t kChunk = 200;
  for (size_t begin = 0; sent && (begin < all.size() || !killer_done); begin += kChunk) {
    while (all.size() < begin + kChunk) all.push_back(workload.Next());
    std::vector<std::vector<std::byte>> part(
        all.begin() + static_cast<ptrdiff_t>(begin),
        all.begin() + static_cast<ptrdiff_t>(std::min(all.size(), begin + kChunk)));
    auto t0 = std::chrono::steady_clock::now();
    sent = stack.SubmitAll(part, "rc" + std::to_string(begin) + ":");
    std::this_thread::sleep_until(t0 + std::chrono::milliseconds(50));
  }
  killer.join();
  ASSERT_TRUE(sent) << "commands not answered";
  EXPECT_EQ(stuck, 0u) << "a life of the recorder committed nothing\n" << stack.recorder_log();
  ASSERT_TRUE(stack.WaitEngineCaughtUp(60000));
  const uint64_t last = stack.CommandLast();
  ASSERT_TRUE(stack.WaitPosition(last, 120000))
      << "recorder did not catch up to " << last << "; at " << stack.ReadPosition().command_seq
      << "\n"
      << stack.recorder_log();
  // A last kill after catching up, then a clean stop: nothing changes.
  stack.StopRecorder(SIGKILL);
  stack.StartRecorder(flags);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  int status = stack.StopRecorder(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  auto stream = ReadEventEnvelopes(stack.client().nats(), 0);
  ASSERT_TRUE(stream.ok) << stream.error;
  Expected x = FromStream(stream);
  ASSERT_EQ(x.last_seq, last);
  EXPECT_GT(x.trades.size(), 100u);
  auto& db = stack.db();
  Position pos = stack.ReadPosition();
  EXPECT_EQ(pos.command_seq, last);
  EXPECT_EQ(pos.stream_seq, stream.messages);
  EXPECT_EQ(pos.events, x.events) << "events applied more or less than once";

  // Trades: the same ids, each once.
  auto trades = Rows<int64_t>(db, "SELECT trade_id FROM trades ORDER BY trade_id",
                              [](const db::PgResult& r, int i) { return Int(r, i, 0); });
  EXPECT_EQ(trades.size(), x.trades.size());
  EXPECT_EQ(std::set<int64_t>(trades.begin(), trades.end()), x.trades);
  // Fills: two per trade, the buyer's and the seller's.
  auto fills = Rows<std::tuple<int64_t, bool, int64_t>>(
      db, "SELECT trade_id, is_buyer, account_id FROM fills", [](const db::PgResult& r, int i) {
        return std::tuple<int64_t, bool, int64_t>{Int(r, i, 0), r.Bool(i, 1).value_or(false),
                                                  Int(r, i, 2)};
      });
  EXPECT_EQ(fills.size(), 2 * x.trades.size());
  EXPECT_EQ(decltype(x.fills)(fills.begin(), fills.end()), x.fills);
  // Orders: each once.
  auto orders = Rows<int64_t>(db, "SELECT order_id FROM orders",
                              [](const db::PgResult& r, int i) { return Int(r, i, 0); });
  EXPECT_EQ(orders.size(), x.orders.size());
  EXPECT_EQ(std::set<int64_t>(orders.begin(), orders.end()), x.orders);
  // Order events: one row per order event, keyed by its event id.
  auto oe = Rows<std::pair<int64_t, int64_t>>(db, "SELECT seq, idx FROM order_events",
                                              [](const db::PgResult& r, int i) {
                                                return std::pair{Int(r, i, 0), Int(r, i, 1)};
                                              });
  EXPECT_EQ(oe.size(), x.order_events.size());
  EXPECT_EQ(decltype(x.order_events)(oe.begin(), oe.end()), x.order_events);
  // Prevented matches.
  auto pm = Rows<int64_t>(db, "SELECT prevented_match_id FROM prevented_matches",
                          [](const db::PgResult& r, int i) { return Int(r, i, 0); });
  EXPECT_EQ(std::set<int64_t>(pm.begin(), pm.end()), x.prevented);
  EXPECT_EQ(pm.size(), x.prevented.size());

  // Balances: the ledger's sums and the balances table are the stream's last values (the
  // stream's BalanceChanged carries absolute values, so its last one per account and asset is
  // the engine's final balance).
  std::map<std::pair<int64_t, int64_t>, std::pair<int64_t, int64_t>> ledger, table;
  auto sums = Rows<std::tuple<int64_t, int64_t, int64_t, int64_t>>(
      db,
      "SELECT account_id, asset_id, bucket, sum(amount)::bigint FROM ledger WHERE account_id <> 0 "
      "GROUP BY 1, 2, 3",
      [](const db::PgResult& r, int i) {
        return std::tuple{Int(r, i, 0), Int(r, i, 1), Int(r, i, 2), Int(r, i, 3)};
      });
  for (const auto& [account, asset, bucket, sum] : sums) {
    // The engine's fee account (0) is the ledger's account -1.
    auto& b = ledger[{account == -1 ? 0 : account, asset}];
    (bucket == 0 ? b.first : b.second) = sum;
  }
  auto rows = Rows<std::tuple<int64_t, int64_t, int64_t, int64_t>>(
      db, "SELECT account_id, asset_id, free, locked FROM balances",
      [](const db::PgResult& r, int i) {
        return std::tuple{Int(r, i, 0), Int(r, i, 1), Int(r, i, 2), Int(r, i, 3)};
      });
  for (const auto& [account, asset, free, locked] : rows) table[{account, asset}] = {free, locked};
  size_t checked = 0;
  for (const auto& [key, value] : x.balances) {
    if (key.first != 0) {  // the fee account has no balances row
      EXPECT_EQ(table[key], value)
          << "balances row of account " << key.first << " asset " << key.second;
    }
    EXPECT_EQ(ledger[key], value) << "ledger sums of account " << key.first << " asset "
                                  << key.second;
    ++checked;
  }
  EXPECT_GT(checked, 40u);
  // Per event and asset the ledger balances to zero.
  auto unbalanced =
      Rows<int64_t>(db,
                    "SELECT count(*) FROM (SELECT seq, idx, asset_id FROM ledger GROUP BY 1, 2, 3 "
                    "HAVING sum(amount) <> 0) u",
                    [](const db::PgResult& r, int i) { return Int(r, i, 0); });
  ASSERT_EQ(unbalanced.size(), 1u);
  EXPECT_EQ(unbalanced[0], 0) << "ledger events whose entries do not sum to zero";
  EXPECT_EQ(killed, kills);
  // How many kills PostgreSQL saw inside a transaction (the client vanished mid-batch).
  const std::string pg_log = stack.pg_log();
  size_t mid_batch = 0;
  for (size_t at = 0; (at = pg_log.find("with an open transaction", at)) != std::string::npos;
       ++at) {
    ++mid_batch;
  }
  std::printf("kills: %llu, inside a transaction: %zu\n", static_cast<unsigned long long>(killed),
              mid_batch);
  // Each kill has a fair chance (about half here) to land inside one; with many kills, none at
  // all means the test no longer exercises what it is for.
  // spotex-admin reconcile: the engine's live balances against the ledger and the balances
  // table, and per asset the ledger against deposits minus withdrawals.
  auto [rc, out] = stack.RunAdmin({"reconcile"}, 120000);
  EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << rc << "\n" << out;
  EXPECT_NE(out.find("differences=0"), std::string::npos) << out;
  if (kills >= 8) {
    EXPECT_GE(mid_batch, 1u) << "no kill landed inside a transaction";
  }
}

}  // namespace
}  // namespace spotex::testing
