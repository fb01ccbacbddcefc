// engine_bench: replays one XC workload (shared/bench/xc, see its README) through
// spotex::engine::Engine and prints one result line:
//
//   engine workload=<name> cmds_per_s=<N> p50_ns=<N> p99_ns=<N> p9999_ns=<N> volume_ok=<0|1>
//       digest_ok=<0|1>
//
// usage: engine_bench WORKLOAD.bin NAME EXPECTED_VOLUME EXPECTED_DIGEST_HEX
//
// Two passes over fresh engines: pass 1 times the whole benchmark phase (throughput), pass 2
// times each Apply (latency). Setup and prefill are untimed. The engine runs as in production:
// fees on, balance checks on, every event generated. Exit 1 when the traded volume or the
// final book digest differs from the generator's (or Engine::CheckInvariants fails after
// pass 1), 2 on a usage or setup error.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "engine/command.h"
#include "engine/engine.h"
#include "engine/event.h"
#include "engine/reject.h"
#include "engine/types.h"

namespace spotex::engine {
namespace {

// The XC file format (shared/bench/xc/common.h), re-declared: a 40-byte header followed by
// n_fill + n_bench 32-byte records, all little-endian.
#pragma pack(push, 1)
struct XcHeader {
  char magic[8];     // "XCWL0001"
  uint64_t n_fill;   // prefill commands, untimed
  uint64_t n_bench;  // benchmark commands, timed
  uint32_t n_symbols;
  uint32_t pad;
  uint64_t max_id;  // order ids are dense in 1..max_id
};
struct XcCmd {
  uint8_t type;  // XcType
  uint8_t side;  // 0 bid, 1 ask
  uint8_t tif;   // 0 GTC, 1 IOC, 2 FOK
  uint8_t pad;
  uint32_t symbol;
  uint64_t id;
  uint64_t price;  // place: limit; move: new price
  uint32_t qty;    // place: size; reduce: reduce-by
  uint32_t uid;
};
#pragma pack(pop)
static_assert(sizeof(XcHeader) == 40);
static_assert(sizeof(XcCmd) == 32);
static_assert(std::endian::native == std::endian::little, "XC files are little-endian");

enum XcType : uint8_t { kXcPlace = 1, kXcCancel = 2, kXcMove = 3, kXcReduce = 4 };

constexpr TimeMs kEpochMs = 1'700'000'000'000;
constexpr int64_t kFeeRateE8 = 100'000;                 // 0.1 %
constexpr int64_t kLimit = 1'000'000'000'000;           // max price and max qty: effectively off
constexpr int64_t kDepositMax = 1'000'000'000'000'000;  // per account and asset
// Keeps Σ deposits of one asset far from int64 overflow however many accounts hold it.
constexpr int64_t kAssetSupplyMax = int64_t{1} << 62;

struct Workload {
  XcHeader header;
  std::vector<XcCmd> cmds;
};

std::optional<Workload> LoadWorkload(const char* path) {
  FILE* f = std::fopen(path, "rb");
  if (f == nullptr) {
    std::perror(path);
    return std::nullopt;
  }
  Workload w;
  bool ok = std::fread(&w.header, sizeof(w.header), 1, f) == 1 &&
            std::memcmp(w.header.magic, "XCWL0001", 8) == 0 && w.header.n_symbols > 0;
  if (ok) {
    w.cmds.resize(w.header.n_fill + w.header.n_bench);
    ok = std::fread(w.cmds.data(), sizeof(XcCmd), w.cmds.size(), f) == w.cmds.size();
  }
  std::fclose(f);
  for (const XcCmd& c : w.cmds) {
    ok = ok && c.type >= kXcPlace && c.type <= kXcReduce && c.symbol < w.header.n_symbols &&
         c.id >= 1 && c.id <= w.header.max_id && c.uid < UINT32_MAX;
  }
  if (!ok) {
    std::fprintf(stderr, "%s: bad or truncated XC workload\n", path);
    return std::nullopt;
  }
  return w;
}

// FNV-1a 64 over little-endian 64-bit words, as `Digest` in shared/bench/xc/common.h.
struct Fnv1a {
  uint64_t h = 1469598103934665603ull;
  void Add(uint64_t x) {
    for (int i = 0; i < 8; ++i) {
      h ^= (x >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  }
};

// Drives one fresh engine through a workload.
class Replayer {
 public:
  struct Counters {
    uint64_t volume = 0;   // Σ Trade.qty over every event
    uint64_t trades = 0;   // Trade events
    uint64_t skipped = 0;  // commands naming an order that is not open (expected: 0)
    uint64_t rejects = 0;  // rejected commands (expected: 0), by ApplyResult::code below
    std::array<uint64_t, static_cast<size_t>(RejectCode::kCount)> by_code{};
  };

  explicit Replayer(const Workload& w)
      : w_(w),
        engine_ids_(w.header.max_id + 1, 0),
        live_(w.header.max_id + 1),
        xc_of_engine_(w.cmds.size() + 16, 0),
        order_depth_max_(w.header.max_id + 1) {}

  // Lists assets and symbols, sets fees, opens and funds every account. False on a reject.
  bool Setup() { return ListMarkets() && FundAccounts(); }
  // Replays cmds [begin, end). With `latency_ns`, times each Apply into (*latency_ns)[k++].
  void Replay(size_t begin, size_t end, uint32_t* latency_ns);
  // FNV-1a over every level of every book (symbol, side, price, qty), ascending.
  uint64_t BookDigest() const;

  const Engine& engine() const { return engine_; }
  const Counters& counters() const { return n_; }

 private:
  Command Next(CommandBody body) {
    ++seq_;
    return Command{
        .seq = seq_, .time_ms = kEpochMs + static_cast<TimeMs>(seq_ / 1000), .body = body};
  }
  bool ListMarkets();   // assets, symbols, default fees
  bool FundAccounts();  // accounts and deposits for every user in the workload
  // Applies an untimed setup command; false on a reject.
  bool ApplySetup(CommandBody body);
  // Builds the engine command for `c`; nullopt when it names an order that is not open.
  bool Translate(const XcCmd& c, Command* out);
  // Counts trades and rejects of one applied command and updates the order-id table.
  void Tally(const XcCmd& c, const ApplyResult& r);

  const Workload& w_;
  Engine engine_;
  // What a client knows of one of its open orders, from the order events.
  struct Live {
    Side side = Side::kBuy;
    Qty qty;
    Qty executed_qty;
  };
  std::vector<OrderId> engine_ids_;     // XC order id -> current engine order id (0: none)
  std::vector<Live> live_;              // XC order id -> its open order's state
  std::vector<uint64_t> xc_of_engine_;  // engine order id -> XC order id
  std::vector<SymbolId> symbol_ids_;    // XC symbol -> engine symbol
  std::vector<AssetId> base_ids_;       // XC symbol -> engine base asset
  AssetId usd_id_ = 0;
  size_t order_depth_max_;  // "all levels": a book has at most one level per order
  Seq seq_ = 0;
  Command cmd_;  // reused for every benchmark command
  Counters n_;
};

bool Replayer::ApplySetup(CommandBody body) {
  const ApplyResult r = engine_.Apply(Next(body));
  if (r.code != RejectCode::kNone) {
    std::fprintf(stderr, "setup command %zu rejected: %.*s\n", body.index(),
                 static_cast<int>(ToString(r.code).size()), ToString(r.code).data());
    return false;
  }
  return true;
}

bool Replayer::ListMarkets() {
  AddAsset usd{.scale = 0};
  bool ok = usd.name.Assign("USD") && ApplySetup(usd);
  usd_id_ = engine_.FindAsset("USD").value_or(0);
  for (uint32_t s = 0; ok && s < w_.header.n_symbols; ++s) {
    const std::string base_name = "B" + std::to_string(s);
    AddAsset base{.scale = 0};
    ok = base.name.Assign(base_name) && ApplySetup(base);
    base_ids_.push_back(engine_.FindAsset(base_name).value_or(0));
    SymbolConfig cfg{.base_asset = base_ids_.back(),
                     .quote_asset = usd_id_,
                     .default_stp = StpMode::kNone};  // XC expects self-trades to match
    SymbolFilters& f = cfg.filters;                   // notional and percent-price stay 0: off
    f.min_price = Price(1), f.max_price = Price(kLimit), f.tick_size = Price(1);
    f.min_qty = Qty(1), f.max_qty = Qty(kLimit), f.step_size = Qty(1);
    f.max_num_orders = f.max_num_algo_orders = 0;  // no limit
    const std::string name = "S" + std::to_string(s);
    ok = ok && cfg.name.Assign(name) && ApplySetup(AddSymbol{cfg});
    const std::optional<SymbolId> id = engine_.FindSymbol(name);
    ok = ok && id.has_value();
    symbol_ids_.push_back(id.value_or(0));
  }
  return ok && ApplySetup(SetFees{.account = kDefaultsAccount,
                                  .maker_rate_e8 = kFeeRateE8,
                                  .taker_rate_e8 = kFeeRateE8});
}

bool Replayer::FundAccounts() {
  // Every (user, symbol) pair that occurs; a user gets USD plus the bases it trades.
  std::vector<uint64_t> pairs;
  pairs.reserve(w_.cmds.size());
  for (const XcCmd& c : w_.cmds) {
    pairs.push_back(uint64_t{c.uid} << 32 | c.symbol);
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  auto first_of_user = [&](size_t i) { return i == 0 || pairs[i] >> 32 != pairs[i - 1] >> 32; };
  std::vector<uint64_t> holders(w_.header.n_symbols, 0);
  uint64_t users = 0;
  for (size_t i = 0; i < pairs.size(); ++i) {
    ++holders[pairs[i] & 0xffffffff];
    users += first_of_user(i) ? 1 : 0;
  }
  auto amount = [](uint64_t n) {
    return Amount(std::min<int64_t>(kDepositMax, kAssetSupplyMax / static_cast<int64_t>(n)));
  };
  bool ok = true;
  for (size_t i = 0; ok && i < pairs.size(); ++i) {
    const AccountId account = (pairs[i] >> 32) + 1;  // 0 is the fee account
    const uint32_t s = pairs[i] & 0xffffffff;
    if (first_of_user(i)) {
      ok = ApplySetup(OpenAccount{account}) && ApplySetup(Deposit{account, usd_id_, amount(users)});
    }
    ok = ok && ApplySetup(Deposit{account, base_ids_[s], amount(holders[s])});
  }
  return ok;
}

bool Replayer::Translate(const XcCmd& c, Command* out) {
  // Builds the command in place in a reused Command: a client library would not copy a
  // few hundred bytes of variant around per order either.
  const AccountId account = AccountId{c.uid} + 1;
  const SymbolId symbol = symbol_ids_[c.symbol];
  ++seq_;
  out->seq = seq_;
  out->time_ms = kEpochMs + static_cast<TimeMs>(seq_ / 1000);
  if (c.type == kXcPlace) {
    static constexpr TimeInForce kTif[] = {TimeInForce::kGtc, TimeInForce::kIoc, TimeInForce::kFok};
    NewOrder& n = out->body.emplace<PlaceOrder>().order;
    n.account = account;
    n.symbol = symbol;
    n.side = c.side == 0 ? Side::kBuy : Side::kSell;
    n.type = OrderType::kLimit;
    n.tif = c.tif < 3 ? kTif[c.tif] : TimeInForce::kNone;  // kNone: rejected, counted
    n.price = Price(static_cast<int64_t>(c.price));
    n.qty = Qty(c.qty);
    return true;
  }
  // cancel, move and reduce name a resting order: what a client knows from its order events.
  const OrderId id = engine_ids_[c.id];
  if (id == 0) {
    --seq_;
    return false;
  }
  const Live& o = live_[c.id];
  const OrderRef ref{.account = account, .symbol = symbol, .order_id = id};
  const Qty remaining = o.qty - o.executed_qty;
  if (c.type == kXcMove) {
    CancelReplace& cr = out->body.emplace<CancelReplace>();
    cr.cancel.ref = ref;
    cr.order.account = account;
    cr.order.symbol = symbol;
    cr.order.side = o.side;
    cr.order.type = OrderType::kLimit;
    cr.order.tif = TimeInForce::kGtc;
    cr.order.price = Price(static_cast<int64_t>(c.price));
    cr.order.qty = remaining;
    cr.mode = CancelReplaceMode::kStopOnFailure;
    return true;
  }
  if (c.type == kXcReduce && int64_t{c.qty} < remaining.v) {
    AmendOrder& a = out->body.emplace<AmendOrder>();
    a.ref = ref;
    a.new_qty = o.qty - Qty(c.qty);
    return true;
  }
  out->body.emplace<CancelOrder>().ref = ref;  // cancel, or a reduce to zero
  return true;
}

void Replayer::Tally(const XcCmd& c, const ApplyResult& r) {
  if (r.code != RejectCode::kNone) {
    ++n_.rejects;
    ++n_.by_code[static_cast<size_t>(r.code)];
  }
  if (c.type == kXcPlace || (c.type == kXcMove && r.order_id != 0)) {
    engine_ids_[c.id] = r.order_id;
  }
  // Follow every order event, as a client following its executionReports would.
  for (EventReader e(r.events); !e.Done(); e.Next()) {
    switch (e.header().type) {
      case EventType::kTrade:
        n_.volume += static_cast<uint64_t>(e.As<Trade>().qty.v);
        ++n_.trades;
        break;
      case EventType::kOrderAccepted: {
        const OrderAccepted& a = e.As<OrderAccepted>();
        if (static_cast<size_t>(a.order_id) >= xc_of_engine_.size()) {
          xc_of_engine_.resize(static_cast<size_t>(a.order_id) * 2 + 16, 0);
        }
        xc_of_engine_[static_cast<size_t>(a.order_id)] = c.id;
        live_[c.id] = Live{.side = a.side, .qty = a.qty, .executed_qty = Qty(0)};
        break;
      }
      case EventType::kOrderUpdate: {
        const OrderUpdate& u = e.As<OrderUpdate>();
        const uint64_t xc = xc_of_engine_[static_cast<size_t>(u.order_id)];
        if (engine_ids_[xc] != u.order_id) break;
        live_[xc].executed_qty = u.executed_qty;
        if (u.status != OrderStatus::kNew && u.status != OrderStatus::kPartiallyFilled) {
          engine_ids_[xc] = 0;
        }
        break;
      }
      case EventType::kOrderAmended: {
        const OrderAmended& a = e.As<OrderAmended>();
        const uint64_t xc = xc_of_engine_[static_cast<size_t>(a.order_id)];
        if (engine_ids_[xc] != a.order_id) break;
        live_[xc].qty = a.new_qty;
        if (a.status == OrderStatus::kFilled) engine_ids_[xc] = 0;
        break;
      }
      default:
        break;
    }
  }
}

void Replayer::Replay(size_t begin, size_t end, uint32_t* latency_ns) {
  using Clock = std::chrono::steady_clock;
  for (size_t i = begin; i < end; ++i) {
    const XcCmd& c = w_.cmds[i];
    if (!Translate(c, &cmd_)) {
      ++n_.skipped;
      continue;
    }
    if (latency_ns == nullptr) {
      Tally(c, engine_.Apply(cmd_));
      continue;
    }
    const Clock::time_point t0 = Clock::now();
    const ApplyResult r = engine_.Apply(cmd_);
    const Clock::time_point t1 = Clock::now();
    const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
    *latency_ns++ = static_cast<uint32_t>(std::clamp<int64_t>(ns, 0, UINT32_MAX));
    Tally(c, r);
  }
}

uint64_t Replayer::BookDigest() const {
  Fnv1a d;
  for (uint32_t s = 0; s < w_.header.n_symbols; ++s) {
    const std::optional<BookView> book = engine_.Book(symbol_ids_[s], order_depth_max_);
    if (!book) {
      continue;
    }
    // Bids come best (highest) first; the digest wants every side ascending by price.
    for (auto it = book->bids.rbegin(); it != book->bids.rend(); ++it) {
      d.Add(s), d.Add(0), d.Add(static_cast<uint64_t>(it->price.v));
      d.Add(static_cast<uint64_t>(it->qty.v));
    }
    for (const LevelView& l : book->asks) {
      d.Add(s), d.Add(1), d.Add(static_cast<uint64_t>(l.price.v));
      d.Add(static_cast<uint64_t>(l.qty.v));
    }
  }
  return d.h;
}

struct PassResult {
  double bench_s = 0;
  size_t samples = 0;  // benchmark commands applied (not skipped)
  Replayer::Counters n;
  uint64_t digest = 0;
  std::string invariants;  // CheckInvariants() when asked; empty = consistent
  // The engine-thread part of a snapshot of the final state (spotex-engine's stall): pass 1.
  double serialize_ms = 0;
  size_t snapshot_bytes = 0;
  // What spotex-engine's thread actually stalls for: fork() of this process (the child writes
  // the snapshot from its copy-on-write image).
  double fork_ms = 0;
};

// One fresh engine: setup, untimed prefill, then the benchmark phase (timed as a whole when
// `latency_ns` is null, else per Apply). Prints rejects by code on stderr.
std::optional<PassResult> RunPass(const Workload& w, uint32_t* latency_ns, bool check) {
  Replayer rp(w);
  if (!rp.Setup()) {
    return std::nullopt;
  }
  const size_t n_fill = w.header.n_fill;
  rp.Replay(0, n_fill, nullptr);
  const uint64_t skipped_fill = rp.counters().skipped;
  // SPOTEX_BENCH_CMDS=N replays only the first N benchmark commands: for profiling under
  // valgrind; volume and digest then do not match and the run exits 1.
  size_t end = w.cmds.size();
  if (const char* limit = std::getenv("SPOTEX_BENCH_CMDS")) {
    end = std::min(end, n_fill + static_cast<size_t>(std::strtoull(limit, nullptr, 10)));
  }
  const auto t0 = std::chrono::steady_clock::now();
  rp.Replay(n_fill, end, latency_ns);
  const auto t1 = std::chrono::steady_clock::now();
  PassResult p{.bench_s = std::chrono::duration<double>(t1 - t0).count(),
               .samples = (end - n_fill) - (rp.counters().skipped - skipped_fill),
               .n = rp.counters(),
               .digest = rp.BookDigest(),
               .invariants = check ? rp.engine().CheckInvariants() : std::string()};
  if (check) {
    const auto s0 = std::chrono::steady_clock::now();
    const std::vector<std::byte> snapshot = rp.engine().Serialize();
    const auto s1 = std::chrono::steady_clock::now();
    p.serialize_ms = std::chrono::duration<double, std::milli>(s1 - s0).count();
    p.snapshot_bytes = snapshot.size();
    const auto f0 = std::chrono::steady_clock::now();
    const pid_t child = ::fork();
    if (child == 0) {
      ::_exit(0);
    }
    const auto f1 = std::chrono::steady_clock::now();
    if (child > 0) {
      ::waitpid(child, nullptr, 0);
    }
    p.fork_ms = std::chrono::duration<double, std::milli>(f1 - f0).count();
  }
  for (size_t code = 0; code < p.n.by_code.size(); ++code) {
    if (p.n.by_code[code] != 0) {
      const std::string_view name = ToString(static_cast<RejectCode>(code));
      std::fprintf(stderr, "  reject %.*s: %" PRIu64 "\n", static_cast<int>(name.size()),
                   name.data(), p.n.by_code[code]);
    }
  }
  return p;
}

uint32_t Percentile(const std::vector<uint32_t>& sorted, double q) {
  return sorted.empty() ? 0
                        : sorted[static_cast<size_t>(q * static_cast<double>(sorted.size() - 1))];
}

int Main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s WORKLOAD.bin NAME EXPECTED_VOLUME EXPECTED_DIGEST_HEX\n",
                 argv[0]);
    return 2;
  }
  const char* name = argv[2];
  const uint64_t want_volume = std::strtoull(argv[3], nullptr, 10);
  const uint64_t want_digest = std::strtoull(argv[4], nullptr, 16);
  const std::optional<Workload> w = LoadWorkload(argv[1]);
  if (!w) {
    return 2;
  }
  const uint64_t n_bench = w->header.n_bench;

  const std::optional<PassResult> p1 = RunPass(*w, nullptr, /*check=*/true);
  std::vector<uint32_t> latency_ns(n_bench, 0);
  const std::optional<PassResult> p2 = p1 ? RunPass(*w, latency_ns.data(), false) : std::nullopt;
  if (!p2) {
    return 2;
  }
  latency_ns.resize(p2->samples);  // skipped commands have no sample
  std::sort(latency_ns.begin(), latency_ns.end());

  const bool volume_ok = p1->n.volume == want_volume && p2->n.volume == want_volume;
  const bool digest_ok = p1->digest == want_digest && p2->digest == want_digest;
  const uint64_t cmds_per_s =
      p1->bench_s > 0 ? static_cast<uint64_t>(static_cast<double>(p1->samples) / p1->bench_s) : 0;
  std::fprintf(stderr,
               "%s: fill_cmds=%" PRIu64 " bench_cmds=%" PRIu64 " symbols=%u trades=%" PRIu64
               " volume=%" PRIu64 "/%" PRIu64 " digest=%016" PRIx64 "/%016" PRIx64
               " skipped=%" PRIu64 "/%" PRIu64 " rejects=%" PRIu64 "/%" PRIu64
               " pass1_s=%.3f pass2_s=%.3f invariants=%s\n",
               name, w->header.n_fill, n_bench, w->header.n_symbols, p1->n.trades, p1->n.volume,
               p2->n.volume, p1->digest, p2->digest, p1->n.skipped, p2->n.skipped, p1->n.rejects,
               p2->n.rejects, p1->bench_s, p2->bench_s,
               p1->invariants.empty() ? "ok" : p1->invariants.c_str());
  std::printf("engine workload=%s cmds_per_s=%" PRIu64
              " p50_ns=%u p99_ns=%u p9999_ns=%u"
              " volume_ok=%d digest_ok=%d\n",
              name, cmds_per_s, Percentile(latency_ns, 0.5), Percentile(latency_ns, 0.99),
              Percentile(latency_ns, 0.9999), volume_ok ? 1 : 0, digest_ok ? 1 : 0);
  std::fprintf(stderr,
               "%s: snapshot of the final state: %zu bytes, serialised in %.1f ms; fork() of "
               "the process holding it: %.2f ms\n",
               name, p1->snapshot_bytes, p1->serialize_ms, p1->fork_ms);
  if (!p1->invariants.empty()) {
    std::fprintf(stderr, "%s: engine invariants broken after pass 1\n", name);
  }
  return volume_ok && digest_ok && p1->invariants.empty() ? 0 : 1;
}

}  // namespace
}  // namespace spotex::engine

int main(int argc, char** argv) { return spotex::engine::Main(argc, argv); }
