// log_bench: the command log end to end (issue 3 §6). Every command goes the production way:
// publish to CMD_<shard> (JetStream, Nats-Msg-Id) → stream → the engine's journal (group
// commit, fdatasync) → engine → event envelope on EVT_<shard> → reply to the caller. It needs
// a running nats-server and spotex-engine (bench/run_log_bench.sh starts both on a temp dir).
//
// Set-up (untimed): opens --accounts accounts and deposits large USDT and BTC balances.
// Phase 1, throughput (closed loop): keeps --window commands in flight for --duration seconds
//   after a --warmup; counts the replies received in the timed window (→ cmds_per_s).
// Phase 2, latency (open loop): sends at a fixed offered --rate for --duration seconds on a
//   precomputed schedule t_i = start + i / rate; latency = reply receipt − t_i (the scheduled
//   time, not the actual send time, so a stalled sender or log is charged in full).
//   Commands unanswered after --timeout-ms are failures, reported and excluded from the
//   percentiles; any failure makes the exit status 1.
// The order flow (both phases): random accounts place GTC limit orders on BTCUSDT near a fixed
// mid price on both sides (most rest, some cross and trade) and cancel their own earlier orders
// by client order id; the reply's result code is checked and accepted/rejected are reported.
// Also printed, to show what limits the figures: each process's CPU time per command (the
// bench's own and those named by --cpu-pid, from /proc), the phase-2 latency per second and
// split at the stream's timestamp, and whether the engine finished a snapshot in each phase.
//
// Last line: log cmds_per_s=<N> p50_us=<N> p99_us=<N> p999_us=<N> (-1 for a phase not run)
//
// usage: log_bench [--nats-url URL] [--shard N] [--accounts N] [--account-base ID]
//                  [--window W] [--rate R] [--duration S] [--warmup S] [--timeout-ms MS]
//                  [--seed N] [--phases 12|1|2] [--cpu-pid NAME=PID ...]
// Exit: 0 ok, 1 failures (lost or unparsable replies), 2 usage or set-up error.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "engine/command.h"
#include "engine/event.h"
#include "engine/reject.h"
#include "engine/types.h"
#include "proto/codec.h"
#include "proto/envelope.h"
#include "service/command_client.h"

namespace spotex::bench {
namespace {

using Clock = std::chrono::steady_clock;
using engine::RejectCode;

// BTCUSDT as etc/markets.toml lists it (checked against the engine at start): symbol 0, base
// BTC (asset 0) and quote USDT (asset 3), both scale 8; tick 0.01 USDT, step 0.00001 BTC.
constexpr engine::SymbolId kSymbol = 0;
constexpr engine::AssetId kBtc = 0;
constexpr engine::AssetId kUsdt = 3;
constexpr std::string_view kExpectedSymbol = R"({"id":0,"baseScale":8,"quoteScale":8})";
constexpr int64_t kTick = 1'000'000;              // 0.01 USDT in 1e-8 units
constexpr int64_t kMid = 30'000LL * 100'000'000;  // 30,000 USDT per BTC
constexpr int64_t kLot = 100'000;                 // 0.001 BTC (a multiple of the 0.00001 step)
// An asset's net deposits must fit in int64 (9.2e18 units): with 1 M USDT (1e14 units) each,
// about 92,000 accounts fit on one engine.
constexpr int64_t kDepositUsdt = 1'000'000LL * 100'000'000;  // 1 M USDT per account
constexpr int64_t kDepositBtc = 100LL * 100'000'000;         // 100 BTC per account
// An account with this many orders of its own still tracked cancels the oldest first, so the
// book stays bounded (and below the symbol's MAX_NUM_ORDERS of 200).
constexpr size_t kMaxOpenPerAccount = 50;
// The mix: this share of commands cancel (when the account has an order to cancel); of the
// orders, this share cross the mid.
constexpr uint64_t kCancelPercent = 40;
constexpr uint64_t kCrossPercent = 12;

struct Options {
  std::string url = "nats://127.0.0.1:4222";
  uint32_t shard = 0;
  int64_t accounts = 1000;
  int64_t account_base = 1;
  int64_t window = 2000;
  int64_t rate = 10000;
  int64_t duration_s = 10;
  int64_t warmup_s = 1;
  int64_t timeout_ms = 5000;
  int64_t seed = 1;
  bool throughput = true;  // --phases 12 (default), 1 or 2
  bool latency = true;
  std::vector<std::pair<std::string, int64_t>> cpu_pids;  // --cpu-pid name=pid
};

bool ParseInt(std::string_view s, int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParseOptions(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string_view name = argv[i];
    if (!name.starts_with("--") || i + 1 >= argc) return false;
    std::string_view value = argv[++i];
    int64_t v = 0;
    if (name == "--nats-url") {
      o.url = value;
      continue;
    }
    if (name == "--phases") {
      if (value != "1" && value != "2" && value != "12") return false;
      o.throughput = value.find('1') != std::string_view::npos;
      o.latency = value.find('2') != std::string_view::npos;
      continue;
    }
    if (name == "--cpu-pid") {
      auto eq = value.find('=');
      if (eq == std::string_view::npos || !ParseInt(value.substr(eq + 1), v) || v <= 0) {
        return false;
      }
      o.cpu_pids.emplace_back(std::string(value.substr(0, eq)), v);
      continue;
    }
    if (!ParseInt(value, v)) return false;
    if (name == "--shard" && v >= 0) {
      o.shard = static_cast<uint32_t>(v);
    } else if (name == "--accounts" && v > 0) {
      o.accounts = v;
    } else if (name == "--account-base" && v > 0) {
      o.account_base = v;
    } else if (name == "--window" && v > 0) {
      o.window = v;
    } else if (name == "--rate" && v > 0) {
      o.rate = v;
    } else if (name == "--duration" && v > 0) {
      o.duration_s = v;
    } else if (name == "--warmup" && v >= 0) {
      o.warmup_s = v;
    } else if (name == "--timeout-ms" && v > 0) {
      o.timeout_ms = v;
    } else if (name == "--seed") {
      o.seed = v;
    } else {
      return false;
    }
  }
  return true;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// CPU time of the processes on the path (from /proc), sampled around each phase, to show what
// limits the figures: every process's share, and the whole machine's (other load included).
class CpuMeter {
 public:
  explicit CpuMeter(const std::vector<std::pair<std::string, int64_t>>& pids) {
    for (const auto& [name, pid] : pids) {
      procs_.emplace_back(name, "/proc/" + std::to_string(pid) + "/stat");
    }
    procs_.emplace_back("log_bench", "/proc/self/stat");
  }

  struct Sample {
    Clock::time_point at;
    std::vector<double> proc_s;  // user + system seconds, per process (-1 = unreadable)
    double machine_busy_s = 0;   // all CPUs, everything but idle, iowait and steal
    double steal_s = 0;          // time the hypervisor gave our vCPUs to someone else
  };

  Sample Take() const {
    Sample s;
    s.at = Clock::now();
    for (const auto& p : procs_) s.proc_s.push_back(ProcSeconds(p.second));
    MachineSeconds(s.machine_busy_s, s.steal_s);
    return s;
  }

  void Print(const char* phase, const Sample& a, const Sample& b, uint64_t commands) const {
    double wall = std::chrono::duration<double>(b.at - a.at).count();
    if (wall <= 0) return;
    std::string line;
    double ours = 0;
    for (size_t i = 0; i < procs_.size(); ++i) {
      if (a.proc_s[i] < 0 || b.proc_s[i] < 0) continue;
      double cpu = b.proc_s[i] - a.proc_s[i];
      ours += cpu;
      char buf[160];
      std::snprintf(buf, sizeof buf, " %s=%.2f cores (%.1f us/cmd)", procs_[i].first.c_str(),
                    cpu / wall, commands > 0 ? 1e6 * cpu / static_cast<double>(commands) : 0.0);
      line += buf;
    }
    double machine = (b.machine_busy_s - a.machine_busy_s) / wall;
    double steal = (b.steal_s - a.steal_s) / wall;
    std::printf(
        "%s cpu:%s; these together %.2f cores, whole machine busy %.2f of %u cores,"
        " stolen by the hypervisor %.2f\n",
        phase, line.c_str(), ours / wall, machine, std::thread::hardware_concurrency(), steal);
  }

 private:
  static double Ticks() { return static_cast<double>(sysconf(_SC_CLK_TCK)); }

  static double ProcSeconds(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "r");
    if (f == nullptr) return -1;
    char buf[1024];
    size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    const char* p = std::strrchr(buf, ')');
    if (p == nullptr) return -1;
    // After "(comm)": state is field 3; utime and stime are fields 14 and 15.
    unsigned long long utime = 0, stime = 0;
    if (std::sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                    &stime) != 2) {
      return -1;
    }
    return static_cast<double>(utime + stime) / Ticks();
  }

  static void MachineSeconds(double& busy, double& steal) {
    std::FILE* f = std::fopen("/proc/stat", "r");
    if (f == nullptr) return;
    unsigned long long v[8] = {};
    int got = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                          &v[3], &v[4], &v[5], &v[6], &v[7]);
    std::fclose(f);
    if (got != 8) return;
    // user nice system idle iowait irq softirq steal
    busy = static_cast<double>(v[0] + v[1] + v[2] + v[5] + v[6]) / Ticks();
    steal = static_cast<double>(v[7]) / Ticks();
  }

  std::vector<std::pair<std::string, std::string>> procs_;
};

// What the replies said, summed over a phase. Updated on the client's reply thread.
struct ReplyStats {
  std::atomic<uint64_t> replies{0};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> bad_envelope{0};  // unparsable, or a malformed-command envelope
  std::atomic<uint64_t> trades{0};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(RejectCode::kCount) + 1> by_code{};

  // Returns the command's log time (ms since the epoch, when JetStream stored it); -1 for a bad
  // envelope.
  int64_t Record(std::span<const std::byte> bytes) {
    replies.fetch_add(1, std::memory_order_relaxed);
    auto env = proto::Envelope::Parse(bytes);
    if (!env || env->header().malformed) {
      bad_envelope.fetch_add(1, std::memory_order_relaxed);
      return -1;
    }
    RejectCode code = env->header().code;
    if (code == RejectCode::kNone) {
      accepted.fetch_add(1, std::memory_order_relaxed);
    } else {
      rejected.fetch_add(1, std::memory_order_relaxed);
    }
    by_code[std::min(static_cast<size_t>(code), by_code.size() - 1)].fetch_add(
        1, std::memory_order_relaxed);
    uint64_t n = 0;
    for (auto r = env->reader(); !r.Done(); r.Next()) {
      n += r.header().type == engine::EventType::kTrade;
    }
    if (n > 0) trades.fetch_add(n, std::memory_order_relaxed);
    return env->header().time_ms;
  }

  void Print(const char* phase) const {
    std::printf("%s: replies=%" PRIu64 " accepted=%" PRIu64 " rejected=%" PRIu64
                " bad_envelopes=%" PRIu64 " trades=%" PRIu64 "\n",
                phase, replies.load(), accepted.load(), rejected.load(), bad_envelope.load(),
                trades.load());
    std::string codes;
    for (size_t c = 1; c < by_code.size(); ++c) {
      if (uint64_t n = by_code[c].load(); n > 0) {
        codes += ' ';
        codes += engine::ToString(static_cast<RejectCode>(c));
        codes += '=';
        codes += std::to_string(n);
      }
    }
    if (!codes.empty()) std::printf("%s: rejections by reason:%s\n", phase, codes.c_str());
  }
};

// The order flow: GTC limit orders of random accounts near a fixed mid, and cancels of the
// accounts' earlier orders by client order id. Single-threaded (the sender's).
class OrderFlow {
 public:
  enum Kind { kRest, kCross, kCancel, kKinds };

  OrderFlow(uint64_t seed, std::string run, int64_t account_base, int64_t accounts)
      : rng_(seed),
        run_(std::move(run)),
        account_base_(account_base),
        open_(static_cast<size_t>(accounts)) {}

  engine::CommandBody Next() {
    size_t a = rng_() % open_.size();
    auto account = static_cast<engine::AccountId>(account_base_ + static_cast<int64_t>(a));
    auto& mine = open_[a];
    uint64_t r = rng_() % 100;
    if (!mine.empty() && (r < kCancelPercent || mine.size() >= kMaxOpenPerAccount)) {
      engine::CancelOrder c;
      c.ref.account = account;
      c.ref.symbol = kSymbol;
      SetId(c.ref.orig_client_order_id, mine.front());
      mine.pop_front();
      ++made_[kCancel];
      return c;
    }
    engine::NewOrder o;
    o.account = account;
    o.symbol = kSymbol;
    o.side = rng_() % 2 == 0 ? engine::Side::kBuy : engine::Side::kSell;
    o.type = engine::OrderType::kLimit;
    o.tif = engine::TimeInForce::kGtc;
    // Resting: 1..50 ticks away from the mid on its own side. Crossing: 3 ticks over the mid,
    // which takes the best levels of the other side (it rests if they are gone).
    const bool cross = rng_() % 100 < kCrossPercent;
    int64_t ticks = cross ? -3 : 1 + static_cast<int64_t>(rng_() % 50);
    int64_t sign = o.side == engine::Side::kBuy ? -1 : 1;
    o.price = core::Price(kMid + sign * ticks * kTick);
    o.qty = core::Qty(kLot * (1 + static_cast<int64_t>(rng_() % 10)));
    uint64_t id = next_order_++;
    SetId(o.client_order_id, id);
    mine.push_back(id);
    ++made_[cross ? kCross : kRest];
    return engine::PlaceOrder{o};
  }

  uint64_t made(Kind k) const { return made_[k]; }

 private:
  void SetId(engine::ClientOrderId& cid, uint64_t n) const {
    std::string s = "lb" + run_ + "-" + std::to_string(n);
    if (!cid.Assign(s)) std::abort();  // cannot happen: [a-z0-9-], at most 31 characters
  }

  std::mt19937_64 rng_;
  std::string run_;
  int64_t account_base_;
  std::vector<std::deque<uint64_t>> open_;
  uint64_t next_order_ = 1;
  std::array<uint64_t, kKinds> made_{};
};

// Nearest-rank percentile of sorted samples, in microseconds (rounded).
int64_t PercentileUs(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return -1;
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return (sorted[rank - 1] + 500) / 1000;
}

class Bench {
 public:
  Bench(const Options& o, std::string run) : o_(o), run_(std::move(run)), cpu_(o.cpu_pids) {}

  bool Connect() {
    auto c = service::CommandClient::Connect(
        bus::NatsConfig{.url = o_.url, .name = "log_bench", .retry_forever = false}, o_.shard);
    if (!c) {
      std::fprintf(stderr, "log_bench: %s\n", c.error().message.c_str());
      return false;
    }
    client_ = std::move(*c);
    auto sym = client_->Query("symbol BTCUSDT", 5000);
    if (!sym || *sym != kExpectedSymbol) {
      std::fprintf(stderr, "log_bench: symbol BTCUSDT is %s, expected %s\n",
                   sym ? sym->c_str() : sym.error().message.c_str(), kExpectedSymbol.data());
      return false;
    }
    return true;
  }

  // Opens the accounts and funds them; every reply must be a success (an account that already
  // exists is fine: the bench may run against a stack that has seen it before).
  bool Setup() {
    auto t0 = Clock::now();
    struct State {
      std::mutex mu;
      std::condition_variable cv;
      int64_t waiting = 0;
      uint64_t bad = 0;
    };
    auto st = std::make_shared<State>();  // shared with callbacks that may outlive this call
    auto done = [st](std::span<const std::byte> bytes) {
      auto env = proto::Envelope::Parse(bytes);
      bool ok = env && !env->header().malformed &&
                (env->header().code == RejectCode::kNone ||
                 env->header().code == RejectCode::kDuplicateAccount);
      std::lock_guard lock(st->mu);
      st->bad += !ok;
      if (--st->waiting == 0) st->cv.notify_one();
    };
    for (int64_t i = 0; i < o_.accounts; ++i) {
      auto account = static_cast<engine::AccountId>(o_.account_base + i);
      engine::CommandBody bodies[] = {
          engine::OpenAccount{account},
          engine::Deposit{account, kUsdt, core::Amount(kDepositUsdt)},
          engine::Deposit{account, kBtc, core::Amount(kDepositBtc)},
      };
      for (const auto& body : bodies) {
        {
          std::lock_guard lock(st->mu);
          ++st->waiting;
        }
        if (!Submit(body, done)) {
          std::lock_guard lock(st->mu);
          --st->waiting;
          ++st->bad;
        }
      }
    }
    std::unique_lock lock(st->mu);
    bool all = st->cv.wait_for(lock, std::chrono::milliseconds(o_.timeout_ms * 6),
                               [&] { return st->waiting == 0; });
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("setup: %" PRId64 " accounts opened and funded (%" PRId64
                " commands) in %.2f s; unanswered=%" PRId64 " failed=%" PRIu64 "\n",
                o_.accounts, 3 * o_.accounts, s, st->waiting, st->bad);
    if (!all || st->bad > 0) {
      lock.unlock();
      client_->DropPending();
      std::fprintf(stderr, "log_bench: set-up failed\n");
      return false;
    }
    return true;
  }

  // Phase 1: closed loop, `window` commands in flight. Returns replies per second.
  double Throughput(OrderFlow& flow) {
    struct State {
      std::mutex mu;
      std::condition_variable cv;
      std::atomic<int64_t> inflight{0};
      std::atomic<bool> counting{false};
      std::atomic<uint64_t> counted{0};
    };
    auto shared = std::make_shared<State>();  // callbacks may outlive this call
    State& st = *shared;
    const int64_t w = o_.window;
    // The sender refills in bursts once this many slots are free (fewer wake-ups).
    const int64_t refill = std::max<int64_t>(1, w / 32);
    ReplyStats& stats = phase1_;
    auto done = [shared, &stats, w, refill](std::span<const std::byte> bytes) {
      stats.Record(bytes);
      if (shared->counting.load(std::memory_order_relaxed)) {
        shared->counted.fetch_add(1, std::memory_order_relaxed);
      }
      if (shared->inflight.fetch_sub(1) == w - refill + 1) {
        std::lock_guard lock(shared->mu);
        shared->cv.notify_one();
      }
    };
    auto start = Clock::now();
    auto count_from = start + std::chrono::seconds(o_.warmup_s);
    auto end = count_from + std::chrono::seconds(o_.duration_s);
    bool counting = false;
    Clock::time_point counted_at;
    CpuMeter::Sample cpu_from;
    uint64_t sent = 0, send_errors = 0;
    for (;;) {
      auto now = Clock::now();
      if (!counting && now >= count_from) {
        counting = true;
        counted_at = now;
        cpu_from = cpu_.Take();
        st.counting = true;
      }
      if (now >= end) break;
      int64_t free = w - st.inflight.load();
      if (free < refill) {
        std::unique_lock lock(st.mu);
        st.cv.wait_for(lock, std::chrono::milliseconds(10),
                       [&] { return w - st.inflight.load() >= refill; });
        continue;
      }
      for (int64_t i = 0; i < free; ++i) {
        st.inflight.fetch_add(1);
        ++sent;
        if (!Submit(flow.Next(), done)) {
          st.inflight.fetch_sub(1);
          ++send_errors;
        }
      }
    }
    st.counting = false;
    uint64_t counted = st.counted.load();
    CpuMeter::Sample cpu_to = cpu_.Take();
    double secs = std::chrono::duration<double>(Clock::now() - counted_at).count();
    // Drain, so that phase 2 starts on a quiet log.
    auto drain_until = Clock::now() + std::chrono::milliseconds(o_.timeout_ms);
    while (st.inflight.load() > 0 && Clock::now() < drain_until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    int64_t lost = st.inflight.load();
    if (lost > 0) client_->DropPending();
    failures_ += static_cast<uint64_t>(lost) + send_errors;
    double rate = static_cast<double>(counted) / secs;
    std::printf("phase 1 (throughput, closed loop): window=%" PRId64 " warmup=%" PRId64
                " s timed=%.2f s sent=%" PRIu64 " replies_in_window=%" PRIu64
                " cmds_per_s=%.0f mean_latency_us=%.0f (window / rate) send_errors=%" PRIu64
                " unanswered_after_%" PRId64 "ms=%" PRId64 "\n",
                w, o_.warmup_s, secs, sent, counted, rate, 1e6 * static_cast<double>(w) / rate,
                send_errors, o_.timeout_ms, lost);
    phase1_.Print("phase 1");
    if (counting) cpu_.Print("phase 1", cpu_from, cpu_to, counted);
    return rate;
  }

  // Phase 2: open loop at `rate`; fills the latency samples (ns, -1 = unanswered).
  std::vector<int64_t> Latency(OrderFlow& flow) {
    const int64_t n = o_.rate * o_.duration_s;
    const double period_ns = 1e9 / static_cast<double>(o_.rate);
    // Written by the reply thread, read here after the drain; atomics because a late reply may
    // still be delivered while the samples are read.
    struct State {
      explicit State(size_t n) : lat(n), stored_ms(n) {
        for (auto& l : lat) l.store(-1, std::memory_order_relaxed);
        for (auto& l : stored_ms) l.store(-1, std::memory_order_relaxed);
      }
      std::vector<std::atomic<int64_t>> lat;
      // The stream's timestamp of the command (wall clock, ms), to split the latency into
      // "until stored in the stream" and "from the stream to the reply".
      std::vector<std::atomic<int64_t>> stored_ms;
      std::atomic<int64_t> answered{0};
    };
    auto shared = std::make_shared<State>(static_cast<size_t>(n));  // callbacks may outlive us
    auto& lat = shared->lat;
    auto& answered = shared->answered;
    ReplyStats& stats = phase2_;
    CpuMeter::Sample cpu_from = cpu_.Take();
    const int64_t start = NowNs() + 1'000'000;  // 1 ms from now: the schedule's origin
    const int64_t wall_start_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count() +
                                  1000;
    uint64_t send_errors = 0;
    int64_t max_lag = 0;
    uint64_t late_sends = 0;  // sent more than 1 ms after their scheduled time
    for (int64_t i = 0; i < n; ++i) {
      const int64_t due = start + static_cast<int64_t>(static_cast<double>(i) * period_ns);
      int64_t now = NowNs();
      if (now < due) {
        std::this_thread::sleep_for(std::chrono::nanoseconds(due - now));
        now = NowNs();
      }
      max_lag = std::max(max_lag, now - due);
      late_sends += now - due > 1'000'000;
      bool ok = Submit(flow.Next(), [shared, i, due, &stats](std::span<const std::byte> b) {
        int64_t t = NowNs();
        int64_t stored = stats.Record(b);
        shared->stored_ms[static_cast<size_t>(i)].store(stored, std::memory_order_relaxed);
        shared->lat[static_cast<size_t>(i)].store(t - due, std::memory_order_relaxed);
        shared->answered.fetch_add(1, std::memory_order_release);
      });
      send_errors += !ok;
    }
    const int64_t sent_end = NowNs();
    CpuMeter::Sample cpu_to = cpu_.Take();
    auto drain_until = Clock::now() + std::chrono::milliseconds(o_.timeout_ms);
    while (answered.load(std::memory_order_acquire) + static_cast<int64_t>(send_errors) < n &&
           Clock::now() < drain_until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    client_->DropPending();
    std::vector<int64_t> out(static_cast<size_t>(n));
    uint64_t unanswered = 0, too_late = 0;
    const int64_t timeout_ns = o_.timeout_ms * 1'000'000;
    for (size_t i = 0; i < out.size(); ++i) {
      out[i] = lat[i].load(std::memory_order_relaxed);
      if (out[i] < 0) {
        ++unanswered;
      } else if (out[i] > timeout_ns) {
        ++too_late;
        out[i] = -1;
      }
    }
    uint64_t failed = unanswered + too_late;
    failures_ += failed;
    double offered_s = static_cast<double>(sent_end - start) / 1e9;
    std::printf("phase 2 (latency, open loop): rate=%" PRId64 "/s duration=%" PRId64
                " s scheduled=%" PRId64 " sending_took=%.2f s max_send_lag_us=%" PRId64
                " sends_over_1ms_late=%" PRIu64 " send_errors=%" PRIu64
                " failures(unanswered or over %" PRId64 " ms)=%" PRIu64 "\n",
                o_.rate, o_.duration_s, n, offered_s, max_lag / 1000, late_sends, send_errors,
                o_.timeout_ms, failed);
    phase2_.Print("phase 2");
    cpu_.Print("phase 2", cpu_from, cpu_to, static_cast<uint64_t>(n));
    // Per second of the schedule: the median and the worst (ms), to tell a steady queue from
    // stalls (a snapshot, a descheduled process, an fdatasync stuck behind other I/O).
    std::string p50s, maxs;
    for (int64_t sec = 0; sec < o_.duration_s; ++sec) {
      std::vector<int64_t> v;
      for (int64_t i = sec * o_.rate; i < (sec + 1) * o_.rate; ++i) {
        if (out[static_cast<size_t>(i)] >= 0) v.push_back(out[static_cast<size_t>(i)]);
      }
      std::sort(v.begin(), v.end());
      char buf[64];
      std::snprintf(buf, sizeof buf, " %.1f", v.empty() ? -1.0 : v[v.size() / 2] / 1e6);
      p50s += buf;
      std::snprintf(buf, sizeof buf, " %.1f", v.empty() ? -1.0 : v.back() / 1e6);
      maxs += buf;
    }
    std::printf("phase 2 per second, median ms:%s\nphase 2 per second, max ms:%s\n", p50s.c_str(),
                maxs.c_str());
    // The split at the stream's timestamp (ms resolution, so each part is +-0.5 ms): scheduled
    // send -> stored in CMD_<shard> (client, publish, JetStream store) and stored -> reply
    // received (delivery to the engine, journal + fdatasync, apply, event publish, reply).
    std::vector<int64_t> to_stream, to_reply;
    for (size_t i = 0; i < out.size(); ++i) {
      int64_t stored = shared->stored_ms[i].load(std::memory_order_relaxed);
      if (out[i] < 0 || stored < 0) continue;
      int64_t due_wall_us =
          wall_start_us + static_cast<int64_t>(static_cast<double>(i) * period_ns / 1000.0);
      int64_t a = stored * 1000 + 500 - due_wall_us;
      to_stream.push_back(a * 1000);
      to_reply.push_back(out[i] - a * 1000);
    }
    std::sort(to_stream.begin(), to_stream.end());
    std::sort(to_reply.begin(), to_reply.end());
    std::printf(
        "phase 2 split (us): scheduled->stored p50=%" PRId64 " p99=%" PRId64 " p99.9=%" PRId64
        "; stored->reply p50=%" PRId64 " p99=%" PRId64 " p99.9=%" PRId64 "\n",
        PercentileUs(to_stream, 0.5), PercentileUs(to_stream, 0.99), PercentileUs(to_stream, 0.999),
        PercentileUs(to_reply, 0.5), PercentileUs(to_reply, 0.99), PercentileUs(to_reply, 0.999));
    std::erase(out, -1);
    return out;
  }

  // The engine's log and snapshot sequence numbers (its `status` query); zeros if it fails.
  struct EngineSeqs {
    uint64_t log_seq = 0, snapshot_seq = 0;
  };
  EngineSeqs Status() {
    EngineSeqs out;
    auto answer = client_->Query("status", 5000);
    if (!answer) return out;
    auto field = [&](std::string_view key) -> uint64_t {
      auto at = answer->find(key);
      uint64_t v = 0;
      if (at != std::string::npos) {
        const char* p = answer->data() + at + key.size();
        std::from_chars(p, answer->data() + answer->size(), v);
      }
      return v;
    };
    out.log_seq = field("\"logSeq\":");
    out.snapshot_seq = field("\"snapshotSeq\":");
    return out;
  }
  // Prints whether the engine finished a snapshot between two status answers (taking one can
  // pause the engine thread, and writing it competes for CPU and disk: it shows in the tails).
  static void PrintSnapshots(const char* phase, const EngineSeqs& a, const EngineSeqs& b) {
    std::printf("%s engine: log seq %" PRIu64 " -> %" PRIu64 ", snapshot seq %" PRIu64
                " -> %" PRIu64 " (%s)\n",
                phase, a.log_seq, b.log_seq, a.snapshot_seq, b.snapshot_seq,
                a.snapshot_seq == b.snapshot_seq
                    ? "no snapshot finished; one started late in the phase may still be writing"
                    : "a snapshot finished during the phase");
  }

  uint64_t failures() const { return failures_; }
  uint64_t bad_envelopes() const { return phase1_.bad_envelope + phase2_.bad_envelope; }
  void Close() { client_.reset(); }

 private:
  bool Submit(const engine::CommandBody& body, service::CommandClient::Callback done) {
    auto bytes = proto::EncodeCommand(engine::Command{0, 0, body});
    std::string id = "bench:" + run_ + ":" + std::to_string(next_msg_++);
    auto r = client_->Submit(bytes, id, std::move(done));
    if (!r && send_error_reports_++ < 5) {
      std::fprintf(stderr, "log_bench: submit failed: %s\n", r.error().message.c_str());
    }
    return r.has_value();
  }

  Options o_;
  std::string run_;
  CpuMeter cpu_;
  ReplyStats phase1_, phase2_;
  std::unique_ptr<service::CommandClient> client_;
  uint64_t next_msg_ = 0;
  uint64_t failures_ = 0;
  int send_error_reports_ = 0;
};

int Main(int argc, char** argv) {
  Options o;
  if (!ParseOptions(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: log_bench [--nats-url URL] [--shard N] [--accounts N] [--account-base ID]"
                 "\n                 [--window W] [--rate R] [--duration S] [--warmup S]"
                 " [--timeout-ms MS] [--seed N]\n"
                 "                 [--phases 12|1|2] (both, throughput only, latency only)\n"
                 "                 [--cpu-pid NAME=PID]... (processes whose CPU time to report)\n");
    return 2;
  }
  std::random_device rd;
  char run[16];
  std::snprintf(run, sizeof run, "%08x", static_cast<unsigned>(rd()));
  std::printf("log_bench: nats=%s shard=%u accounts=%" PRId64 " window=%" PRId64 " rate=%" PRId64
              "/s duration=%" PRId64 " s timeout=%" PRId64 " ms run=%s\n",
              o.url.c_str(), o.shard, o.accounts, o.window, o.rate, o.duration_s, o.timeout_ms,
              run);
  std::fflush(stdout);

  Bench bench(o, run);
  if (!bench.Connect() || !bench.Setup()) return 2;
  std::fflush(stdout);
  OrderFlow flow(static_cast<uint64_t>(o.seed), run, o.account_base, o.accounts);

  double cmds_per_s = 0;
  auto seqs = bench.Status();
  if (o.throughput) {
    cmds_per_s = bench.Throughput(flow);
    auto after = bench.Status();
    Bench::PrintSnapshots("phase 1", seqs, after);
    seqs = after;
    std::fflush(stdout);
  }
  std::vector<int64_t> lat;
  if (o.latency) {
    lat = bench.Latency(flow);
    Bench::PrintSnapshots("phase 2", seqs, bench.Status());
  }
  std::sort(lat.begin(), lat.end());
  std::printf("order flow: rest=%" PRIu64 " cross=%" PRIu64 " cancel=%" PRIu64 "\n",
              flow.made(OrderFlow::kRest), flow.made(OrderFlow::kCross),
              flow.made(OrderFlow::kCancel));
  int64_t p50 = PercentileUs(lat, 0.50), p99 = PercentileUs(lat, 0.99),
          p999 = PercentileUs(lat, 0.999);
  if (!lat.empty()) {
    std::printf("phase 2 latency (us, from scheduled send): samples=%zu min=%" PRId64
                " p50=%" PRId64 " p90=%" PRId64 " p99=%" PRId64 " p99.9=%" PRId64 " max=%" PRId64
                "\n",
                lat.size(), PercentileUs(lat, 0.0), p50, PercentileUs(lat, 0.90), p99, p999,
                (lat.back() + 500) / 1000);
  }
  bench.Close();
  int status = 0;
  if (bench.failures() > 0 || bench.bad_envelopes() > 0) {
    std::printf("FAILURES: %" PRIu64 " commands unanswered or late, %" PRIu64
                " unparsable replies (excluded from the figures)\n",
                bench.failures(), bench.bad_envelopes());
    status = 1;
  }
  std::printf("log cmds_per_s=%.0f p50_us=%" PRId64 " p99_us=%" PRId64 " p999_us=%" PRId64 "\n",
              cmds_per_s, p50, p99, p999);
  return status;
}

}  // namespace
}  // namespace spotex::bench

int main(int argc, char** argv) { return spotex::bench::Main(argc, argv); }
