// The recorder benchmark's client (run by run_recorder_bench.sh against a stack of its own).
//
//   recorder_bench load    --commands N        fill the event stream: N random commands (the
//                                              service tests' workload) through the engine,
//                                              while the recorder is stopped
//   recorder_bench catchup                     with the recorder just started on that backlog:
//                                              polls recorder_positions until it reaches the
//                                              command log's end; prints events_per_s (events
//                                              committed between the first and the last
//                                              position it saw, over that time)
//   recorder_bench lag --rate R --duration S   with the recorder running: R orders/s, open loop,
//                                              for S seconds; each command's recording delay is
//                                              the time its position was first seen committed
//                                              minus its command time (the command log's
//                                              timestamp, from the envelope the engine answers);
//                                              prints lag_p50_ms / lag_p99_ms / lag_max_ms
// Common flags: --nats-url --nats-user --nats-password-file --pg-port --pg-password-file
// (--pg-host 127.0.0.1, user and database spotex). Results go to stdout as key=value words,
// progress to stderr. Positions are polled every 10 ms, which bounds the lag's resolution.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "apps/flags.h"
#include "bus/subjects.h"
#include "db/pg.h"
#include "proto/envelope.h"
#include "service/command_client.h"
#include "workload.h"

namespace {

using namespace spotex;
using Clock = std::chrono::steady_clock;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Pos {
  uint64_t command_seq = 0;
  uint64_t events = 0;
};

Pos ReadPos(db::PgConnection& conn) {
  Pos p;
  auto r = conn.Exec("SELECT command_seq, events FROM recorder_positions WHERE shard = 0");
  if (r && r->rows() == 1) {
    p.command_seq = static_cast<uint64_t>(r->Int64(0, 0).value_or(0));
    p.events = static_cast<uint64_t>(r->Int64(0, 1).value_or(0));
  }
  return p;
}

int Load(service::CommandClient& client, uint64_t commands) {
  testing::Workload w(42, 0.0);
  auto all = w.Prologue();
  while (all.size() < commands) all.push_back(w.Next());
  auto t0 = Clock::now();
  for (size_t i = 0; i < all.size(); ++i) {
    while (client.pending() >= 20000) std::this_thread::sleep_for(std::chrono::microseconds(200));
    if (!client.Submit(all[i], "load:" + std::to_string(i), [](auto) {})) {
      std::fprintf(stderr, "submit failed\n");
      return 1;
    }
  }
  auto deadline = Clock::now() + std::chrono::seconds(300);
  while (client.pending() > 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::fprintf(stderr, "load: %zu commands in %.1f s (%.0f/s), %zu unanswered\n", all.size(), secs,
               static_cast<double>(all.size()) / secs, client.pending());
  return client.pending() == 0 ? 0 : 1;
}

int Catchup(service::CommandClient& client, db::PgConnection& conn, int64_t timeout_s) {
  auto last = client.nats().LastSeq(bus::CommandStream(0));
  if (!last) return 1;
  Pos start = ReadPos(conn), first{}, now{};
  Clock::time_point t_first{}, t_now{};
  bool moved = false;
  auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  while (Clock::now() < deadline) {
    now = ReadPos(conn);
    t_now = Clock::now();
    if (!moved && now.command_seq != start.command_seq) {
      moved = true;
      first = now;
      t_first = t_now;
    }
    if (now.command_seq >= *last) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (now.command_seq < *last || !moved) {
    std::fprintf(stderr, "catchup: stuck at %llu of %llu\n",
                 static_cast<unsigned long long>(now.command_seq),
                 static_cast<unsigned long long>(*last));
    return 1;
  }
  double secs = std::chrono::duration<double>(t_now - t_first).count();
  double rate = secs > 0 ? static_cast<double>(now.events - first.events) / secs : 0;
  std::fprintf(stderr, "catchup: %llu events (%llu commands) in %.2f s after the first commit\n",
               static_cast<unsigned long long>(now.events - first.events),
               static_cast<unsigned long long>(now.command_seq - first.command_seq), secs);
  std::printf("events_per_s=%.0f\n", rate);
  return 0;
}

int Lag(service::CommandClient& client, db::PgConnection& conn, int64_t rate, int64_t duration_s) {
  testing::Workload w(7, 0.0);
  std::mutex mu;
  std::unordered_map<uint64_t, int64_t> time_ms;  // command seq -> command time
  std::atomic<bool> sending{true};
  Clock::time_point give_up{};  // set before `sending` turns false
  std::vector<int64_t> delays;
  std::thread poller([&] {
    uint64_t seen = ReadPos(conn).command_seq;
    while (true) {
      bool last_round = !sending;
      Pos p = ReadPos(conn);
      int64_t now = NowMs();
      if (p.command_seq > seen) {
        std::lock_guard lock(mu);
        for (uint64_t s = seen + 1; s <= p.command_seq; ++s) {
          auto it = time_ms.find(s);
          if (it == time_ms.end()) continue;
          delays.push_back(now - it->second);
          time_ms.erase(it);
        }
        seen = p.command_seq;
      }
      if (last_round) {
        std::lock_guard lock(mu);
        if (time_ms.empty() || Clock::now() > give_up) break;  // done, or a stuck recorder
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  auto t0 = Clock::now();
  const int64_t total = rate * duration_s;
  int64_t sent = 0;
  bool overloaded = false;
  while (sent < total) {
    // Open loop: what the clock says should have been sent by now.
    auto due = static_cast<int64_t>(std::chrono::duration<double>(Clock::now() - t0).count() *
                                    static_cast<double>(rate));
    for (; sent < std::min(due, total); ++sent) {
      auto cmd = w.Next();
      auto cb = [&mu, &time_ms](std::span<const std::byte> env) {
        auto e = proto::Envelope::Parse(env);
        if (!e) return;
        std::lock_guard lock(mu);
        time_ms[e->header().seq] = e->header().time_ms;
      };
      if (!client.Submit(cmd, "lag:" + std::to_string(sent), cb)) overloaded = true;
    }
    if (client.pending() > 200000) overloaded = true;
    if (overloaded) break;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  // Answers, then the recorder, catch up (bounded).
  auto deadline = Clock::now() + std::chrono::seconds(120);
  while (client.pending() > 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  give_up = Clock::now() + std::chrono::seconds(60);
  sending = false;
  poller.join();
  std::sort(delays.begin(), delays.end());
  auto pct = [&](double q) {
    return delays.empty()
               ? -1
               : delays[std::min(delays.size() - 1,
                                 static_cast<size_t>(q * static_cast<double>(delays.size())))];
  };
  std::fprintf(stderr, "lag: %lld commands offered at %lld/s in %.1f s%s; %zu delays measured\n",
               static_cast<long long>(sent), static_cast<long long>(rate), secs,
               overloaded ? " (OVERLOADED: stopped early)" : "", delays.size());
  std::printf("lag_p50_ms=%lld lag_p99_ms=%lld lag_max_ms=%lld\n", static_cast<long long>(pct(0.5)),
              static_cast<long long>(pct(0.99)),
              static_cast<long long>(delays.empty() ? -1 : delays.back()));
  return overloaded ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  apps::Flags flags;
  if (auto err = apps::Flags::Parse(argc, argv,
                                    {"nats-url", "nats-user", "nats-password-file", "pg-port",
                                     "pg-password-file", "commands", "rate", "duration", "timeout"},
                                    flags);
      err || flags.positional().size() != 1) {
    std::fprintf(stderr, "usage: recorder_bench load|catchup|lag [flags] (see the source)\n");
    return 2;
  }
  bus::NatsConfig nc;
  nc.url = flags.Get("nats-url", "nats://127.0.0.1:4222");
  nc.user = flags.Get("nats-user", "spotex");
  nc.name = "recorder_bench";
  nc.retry_forever = false;
  if (auto f = flags.Get("nats-password-file"); !f.empty()) {
    auto pw = bus::ReadSecretFile(f);
    if (!pw) return 2;
    nc.password = *pw;
  }
  auto client = service::CommandClient::Connect(nc, 0);
  if (!client) {
    std::fprintf(stderr, "%s\n", client.error().message.c_str());
    return 1;
  }
  const std::string mode = flags.positional()[0];
  if (mode == "load")
    return Load(**client, static_cast<uint64_t>(*flags.GetInt("commands", 200000)));
  db::PgConnParams pg;
  pg.port = static_cast<int>(*flags.GetInt("pg-port", 5432));
  pg.application_name = "recorder_bench";
  if (auto f = flags.Get("pg-password-file"); !f.empty()) {
    auto pw = db::ReadPasswordFile(f);
    if (!pw) return 2;
    pg.password = *pw;
  }
  auto conn = db::PgConnection::Connect(pg);
  if (!conn) {
    std::fprintf(stderr, "%s\n", conn.error().message.c_str());
    return 1;
  }
  if (mode == "catchup") return Catchup(**client, *conn, *flags.GetInt("timeout", 600));
  if (mode == "lag") {
    return Lag(**client, *conn, *flags.GetInt("rate", 10000), *flags.GetInt("duration", 20));
  }
  return 2;
}
