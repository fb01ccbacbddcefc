// Crash recovery (issue 3 §5): drives random commands through NATS while killing spotex-engine
// with SIGKILL at random moments and restarting it, then checks against an in-process engine fed
// the command stream as stored:
//   * the service's state hash equals the in-process engine's;
//   * every answer a caller received is exactly the envelope of the command it sent;
//   * the event stream is gap-free (one envelope per command seq) and no event id appears twice
//     with different content (each envelope equals the in-process one byte for byte).
// SPOTEX_CRASH_COMMANDS (default 100000) and SPOTEX_CRASH_KILLS (default 12) size it;
// SPOTEX_CRASH_SEED picks the workload and the kill moments.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "bus/subjects.h"
#include "engine/engine.h"
#include "harness.h"
#include "proto/codec.h"
#include "proto/envelope.h"
#include "service/command_client.h"
#include "workload.h"

namespace spotex::testing {
namespace {

uint64_t EnvU64(const char* name, uint64_t def) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::strtoull(v, nullptr, 10) : def;
}

struct Answer {
  uint64_t seq;
  std::string bytes;
};

class CrashRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nats_ = std::make_unique<NatsServer>(dir_.path());
    ASSERT_TRUE(nats_->ok()) << ReadFile(dir_.path() + "/nats.log");
    engine_ = std::make_unique<EngineProcess>(
        *nats_, dir_.path() + "/engine", dir_.path() + "/engine.log",
        EngineOptions{std::string(SPOTEX_SOURCE_DIR) + "/etc/markets.toml", 7000, 1});
    engine_->Start();
    auto client = service::CommandClient::Connect(nats_->config(), 0);
    ASSERT_TRUE(client) << client.error().message;
    client_ = std::move(*client);
  }

  uint64_t StreamLast() {
    auto r = client_->nats().LastSeq(bus::CommandStream(0));
    return r ? *r : 0;
  }

  // Waits until the engine has applied everything in the command stream.
  bool WaitCaughtUp(int64_t timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      auto st = client_->Query("status", 500);
      uint64_t last = StreamLast();
      if (st && !JsonField(*st, "logSeq").empty() && last > 0 &&
          std::stoull(JsonField(*st, "logSeq")) == last) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  void Submit(uint64_t i, const std::vector<std::byte>& bytes) {
    std::string id = "crash:" + std::to_string(i);
    for (int attempt = 0;; ++attempt) {
      auto r = client_->Submit(bytes, id, [this, i](std::span<const std::byte> env) {
        auto parsed = proto::Envelope::Parse(env);
        std::lock_guard lock(mu_);
        answers_[i] = Answer{parsed ? parsed->header().seq : 0,
                             std::string(reinterpret_cast<const char*>(env.data()), env.size())};
        ++answered_;
      });
      if (r) return;
      ASSERT_LT(attempt, 100) << r.error().message;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  TempDir dir_;
  std::unique_ptr<NatsServer> nats_;
  std::unique_ptr<EngineProcess> engine_;
  std::unique_ptr<service::CommandClient> client_;
  std::mutex mu_;
  std::map<uint64_t, Answer> answers_;
  std::atomic<uint64_t> answered_{0};
};

TEST_F(CrashRecoveryTest, SigkillAtRandomMomentsLosesNothingAndDuplicatesNothing) {
  const uint64_t commands = EnvU64("SPOTEX_CRASH_COMMANDS", 100000);
  const uint64_t kills = EnvU64("SPOTEX_CRASH_KILLS", 12);
  const uint64_t seed = EnvU64("SPOTEX_CRASH_SEED", 20261126);
  std::mt19937_64 rng(seed);
  Workload workload(seed);
  ASSERT_TRUE(WaitCaughtUp(20000)) << ReadFile(engine_->log_path());

  std::vector<std::vector<std::byte>> all = workload.Prologue();
  while (all.size() < commands) all.push_back(workload.Next());
  // Chunks of commands in flight together; at least two chunks per kill.
  const uint64_t kChunk = std::clamp<uint64_t>(all.size() / (2 * kills + 2), 100, 2500);
  const uint64_t chunks = (all.size() + kChunk - 1) / kChunk;
  ASSERT_GT(chunks, kills) << "too few commands for the kills";
  std::set<uint64_t> kill_chunks;
  while (kill_chunks.size() < kills) kill_chunks.insert(1 + rng() % (chunks - 1));

  uint64_t killed = 0;
  for (uint64_t c = 0; c < chunks; ++c) {
    uint64_t begin = c * kChunk, end = std::min<uint64_t>(all.size(), begin + kChunk);
    bool kill = kill_chunks.contains(c);
    uint64_t kill_at = begin + rng() % (end - begin);
    for (uint64_t i = begin; i < end; ++i) {
      if (kill && i == kill_at) {
        // Let some of what was sent be in flight inside the engine, then crash it.
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 20000));
        engine_->Kill(SIGKILL);
        ++killed;
      }
      Submit(i, all[i]);
      if (HasFatalFailure()) return;
    }
    if (kill) {
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 50));
      engine_->Start();
      ASSERT_TRUE(WaitCaughtUp(60000)) << ReadFile(engine_->log_path());
      // Answers of commands journaled before the crash but not yet answered are lost (their
      // callers would time out); everything after the restart is answered.
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      client_->DropPending();
    } else {
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (client_->pending() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      ASSERT_EQ(client_->pending(), 0u) << "commands of chunk " << c << " never answered\n"
                                        << ReadFile(engine_->log_path());
    }
  }
  ASSERT_TRUE(WaitCaughtUp(60000));
  EXPECT_EQ(killed, kills);

  // The in-process engine, fed the command stream exactly as stored (bytes, seq, timestamp).
  const uint64_t last = StreamLast();
  auto cmds = ReadStream(client_->nats(), bus::CommandStream(0), bus::CommandSubject(0), last);
  ASSERT_EQ(cmds.size(), last);
  ASSERT_EQ(last, all.size() + 9);  // the 9 market commands, then each of ours exactly once
  engine::Engine reference;
  std::vector<std::string> expected(last + 1);
  std::vector<std::string> msg_ids(last + 1);
  uint64_t malformed = 0;
  for (const auto& m : cmds) {
    ASSERT_EQ(m.seq, &m - cmds.data() + 1u);
    std::vector<std::byte> env;
    auto cmd = proto::DecodeCommand(
        {reinterpret_cast<const std::byte*>(m.data.data()), m.data.size()}, m.seq, m.time_ms);
    if (cmd) {
      proto::AppendEnvelope(0, *cmd, reference.Apply(*cmd), env);
    } else {
      ++malformed;
      proto::AppendMalformedEnvelope(0, m.seq, m.time_ms, cmd.error(), env);
    }
    expected[m.seq].assign(reinterpret_cast<const char*>(env.data()), env.size());
    msg_ids[m.seq] = m.msg_id;
  }
  EXPECT_GT(malformed, 0u);
  EXPECT_EQ(reference.CheckInvariants(), "");

  // 1. Same state.
  auto st = client_->Query("status", 2000);
  ASSERT_TRUE(st);
  char hash[24];
  std::snprintf(hash, sizeof hash, "%016llx",
                static_cast<unsigned long long>(reference.StateHash()));
  EXPECT_EQ(JsonField(*st, "stateHash"), hash) << *st;

  // 2. Every answer received is the envelope of the caller's own command.
  uint64_t checked = 0;
  for (const auto& [i, a] : answers_) {
    ASSERT_GE(a.seq, 1u);
    ASSERT_LE(a.seq, last);
    ASSERT_EQ(msg_ids[a.seq], "crash:" + std::to_string(i)) << "answer to the wrong caller";
    ASSERT_EQ(a.bytes, expected[a.seq])
        << "answer differs from the replayed envelope, seq " << a.seq;
    ++checked;
  }
  EXPECT_GT(checked, all.size() * 9 / 10);

  // 3. The event stream: every command's envelope, contents as replayed, batch ids naming
  //    their seqs.
  auto evts = ReadEventEnvelopes(client_->nats(), 0);
  ASSERT_TRUE(evts.ok) << evts.error;
  std::vector<int> seen(last + 1, 0);
  for (const auto& e : evts.envelopes) {
    ASSERT_GE(e.seq, 1u);
    ASSERT_LE(e.seq, last);
    ASSERT_EQ(e.bytes, expected[e.seq])
        << "event " << e.seq << " (batch " << e.batch_id << ") differs from the replay";
    ++seen[e.seq];
  }
  uint64_t duplicates = 0;
  for (uint64_t s = 1; s <= last; ++s) {
    ASSERT_GE(seen[s], 1) << "gap in the event stream at seq " << s;
    duplicates += static_cast<uint64_t>(seen[s] - 1);
  }
  std::string log = ReadFile(engine_->log_path());
  auto count = [&](std::string_view what) {
    size_t n = 0;
    for (size_t at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++n;
    return n;
  };
  std::printf(
      "commands %llu (+9 markets), malformed %llu, kills %llu, answers checked %llu, "
      "envelopes %llu in %llu batches (identical duplicates %llu), snapshots loaded %zu, torn "
      "tails cut %zu\n",
      static_cast<unsigned long long>(all.size()), static_cast<unsigned long long>(malformed),
      static_cast<unsigned long long>(killed), static_cast<unsigned long long>(checked),
      static_cast<unsigned long long>(evts.envelopes.size()),
      static_cast<unsigned long long>(evts.messages), static_cast<unsigned long long>(duplicates),
      count("loaded snapshot"), count("cut a torn tail"));
}

}  // namespace
}  // namespace spotex::testing
