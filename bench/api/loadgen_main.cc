#include "loadgen_main.h"

#include <arpa/inet.h>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "apps/flags.h"
#include "bench_cli.h"
#include "load_generator.h"
#include "market_maker.h"
#include "rate_search.h"
#include "workload.h"

namespace spotex::bench {
namespace {

constexpr int64_t kNsPerS = 1'000'000'000;
constexpr int64_t kMakerHeadStartNs = 2 * kNsPerS;

struct Options {
  LoadConfig load;
  int64_t rate = 500;
  int64_t duration_s = 20;
  int64_t warmup_s = 5;
  uint64_t seed = 1;
  MixOptions mix;
  MakerOptions maker;
  int64_t makers = 0;
  std::vector<ApiUser> users;
  std::optional<SearchOptions> search;
  int64_t search_pause_s = 3;
};

constexpr const char* kUsage =
    "usage: %s --url http://127.0.0.1:PORT [--rate 500] [--duration-s 20]\n"
    "         [--warmup-s 5] [--connections 128] [--users FILE] [--mix full|public]\n"
    "         [--read-fraction 0.2] [--read-weights depth=1,trades=1,ticker24hr=1,account=1,\n"
    "         openOrders=1] [--cancel-fraction 0.1] [--open-per-user 8] [--mid-price 30000.00]\n"
    "         [--makers 0] [--maker-levels 5] [--maker-qty 0.00100] [--maker-refresh-ms 200]\n"
    "         [--search-p99-ms X [--search-start 500] [--search-step 500]\n"
    "         [--search-max 100000] [--search-resolution 100] [--search-pause-s 3]]\n"
    "         [--drain-s 5] [--seed N] [--cpu-pids name=pid,...]\n";

// "30000.00" → units at `decimals` decimals; -1 if malformed or more decimals than that.
int64_t ParseFixed(std::string_view text, int decimals) {
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || frac.size() > static_cast<size_t>(decimals) || whole.size() > 12) {
    return -1;
  }
  int64_t v = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') {
      return -1;
    }
    v = v * 10 + (c - '0');
  }
  for (int i = 0; i < decimals; ++i) {
    char c = i < static_cast<int>(frac.size()) ? frac[static_cast<size_t>(i)] : '0';
    if (c < '0' || c > '9') {
      return -1;
    }
    v = v * 10 + (c - '0');
  }
  return v;
}

bool ParseFraction(const std::string& text, double& out) {
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return !text.empty() && end == text.c_str() + text.size() && out >= 0.0 && out <= 1.0;
}

// Parses the flags into `o`; an error text on failure.
std::optional<std::string> ParseOptions(int argc, char** argv, Options& o) {
  apps::Flags flags;
  if (auto err = apps::Flags::Parse(
          argc, argv,
          {"url", "rate", "duration-s", "warmup-s", "connections", "users", "mix", "read-fraction",
           "read-weights", "cancel-fraction", "open-per-user", "mid-price", "makers",
           "maker-levels", "maker-qty", "maker-refresh-ms", "search-p99-ms", "search-start",
           "search-step", "search-max", "search-resolution", "search-pause-s", "drain-s", "seed",
           "cpu-pids"},
          flags)) {
    return err;
  }
  if (!flags.positional().empty()) {
    return "unexpected argument " + flags.positional().front();
  }
  if (auto url = ParseHttpUrl(flags.Get("url", "http://127.0.0.1:8080"))) {
    o.load.addr = url->addr;
    o.load.host = std::move(url->host);
  } else {
    return "--url must be http://<IPv4 or localhost>:<port>";
  }
  auto rate = flags.GetInt("rate", 500);
  auto duration = flags.GetInt("duration-s", 20);
  auto warmup = flags.GetInt("warmup-s", 5);
  auto connections = flags.GetInt("connections", 128);
  auto drain = flags.GetInt("drain-s", 5);
  auto seed = flags.GetInt("seed", 1);
  auto open = flags.GetInt("open-per-user", 8);
  auto makers = flags.GetInt("makers", 0);
  auto levels = flags.GetInt("maker-levels", 5);
  auto refresh = flags.GetInt("maker-refresh-ms", 200);
  auto start = flags.GetInt("search-start", 500);
  auto step = flags.GetInt("search-step", 500);
  auto max = flags.GetInt("search-max", 100'000);
  auto resolution = flags.GetInt("search-resolution", 100);
  auto pause = flags.GetInt("search-pause-s", 3);
  if (!rate || *rate < 1 || *rate > kRateMax || !duration || *duration < 1 ||
      *duration > 3600 || !warmup || *warmup < 0 || *warmup > 3600 || !connections ||
      *connections < 1 || *connections > kConnectionsMax || !drain || *drain < 0 ||
      *drain > 600 || !seed || !open || *open < 1 || *open > 100 || !makers || *makers < 0 ||
      *makers > kMakersMax || !levels || *levels < 1 || *levels > kMakerLevelsMax ||
      !refresh || *refresh < 1 || *refresh > 60'000 || !start || *start < 1 ||
      *start > kRateMax || !step || *step < 1 || *step > kRateMax || !max || *max < 1 ||
      *max > kRateMax || !resolution || *resolution < 1 || *resolution > kRateMax || !pause ||
      *pause < 0 || *pause > 600) {
    return "a numeric flag is malformed or out of range";
  }
  o.rate = *rate;
  o.duration_s = *duration;
  o.warmup_s = *warmup;
  o.load.connections = *connections;
  o.load.drain_s = *drain;
  o.seed = static_cast<uint64_t>(*seed);
  o.mix.open_per_user_max = static_cast<size_t>(*open);
  o.makers = *makers;
  o.maker.levels = static_cast<int>(*levels);
  o.maker.refresh_ms = *refresh;
  o.search_pause_s = *pause;
  std::string bound = flags.Get("search-p99-ms");
  if (!bound.empty()) {
    char* end = nullptr;
    double ms = std::strtod(bound.c_str(), &end);
    if (end != bound.c_str() + bound.size() || !(ms > 0.0) || ms > 600'000.0) {
      return "--search-p99-ms must be a number of milliseconds above 0";
    }
    o.search = SearchOptions{*start, *step, *max, *resolution, ms};
  }
  int64_t top_rate = o.search ? std::max(*max, *start) : o.rate;
  if (top_rate * (o.duration_s + o.warmup_s) > kScheduledMax) {
    return "rate × (warmup + duration) above " + std::to_string(kScheduledMax);
  }
  std::string mix = flags.Get("mix", "full");
  if (mix != "full" && mix != "public") {
    return "--mix must be full or public";
  }
  o.mix.public_only = mix == "public";
  if (!ParseFraction(flags.Get("read-fraction", "0.2"), o.mix.read_fraction) ||
      !ParseFraction(flags.Get("cancel-fraction", "0.1"), o.mix.cancel_fraction)) {
    return "--read-fraction and --cancel-fraction are numbers in 0..1";
  }
  if (std::string weights = flags.Get("read-weights"); !weights.empty()) {
    auto parsed = ParseReadWeights(weights);
    if (!parsed) {
      return parsed.error();
    }
    o.mix.read_weights = *parsed;
  }
  o.mix.mid_price_ticks = ParseFixed(flags.Get("mid-price", "30000.00"), o.mix.price_decimals);
  if (o.mix.mid_price_ticks < 100) {
    return "--mid-price must be a price with at most 2 decimals, at least 1.00";
  }
  o.maker.symbol = o.mix.symbol;
  o.maker.mid_price_ticks = o.mix.mid_price_ticks;
  o.maker.price_decimals = o.mix.price_decimals;
  o.maker.qty_decimals = o.mix.qty_decimals;
  o.maker.qty_steps = ParseFixed(flags.Get("maker-qty", "0.00100"), o.maker.qty_decimals);
  if (o.maker.qty_steps < o.mix.qty_steps_min || o.maker.qty_steps > 100'000'000) {
    return "--maker-qty must be a quantity with at most 5 decimals, 0.00020 .. 1000";
  }
  if (o.maker.first_offset_ticks + o.maker.step_ticks * o.maker.levels >=
      o.maker.mid_price_ticks) {
    return "--maker-levels reach below a price of 0";
  }
  if (!ParseCpuPids(flags.Get("cpu-pids"), o.load.cpu_pids, kCpuPidsMax)) {
    return "--cpu-pids is name=pid[,name=pid...], at most " + std::to_string(kCpuPidsMax);
  }
  std::string users_path = flags.Get("users");
  if (users_path.empty() != o.mix.public_only) {
    return "--mix full needs --users FILE; --mix public takes none";
  }
  if (users_path.empty() && o.makers > 0) {
    return "--makers needs --users FILE";
  }
  if (!users_path.empty()) {
    std::ifstream in(users_path, std::ios::binary);
    if (!in) {
      return "cannot read " + users_path;
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto users = ParseUsersJson(text);
    if (!users) {
      return users.error();
    }
    o.users = std::move(*users);
    if (!o.mix.public_only && static_cast<int64_t>(o.users.size()) <= o.makers) {
      return "--makers " + std::to_string(o.makers) + " leaves no user of the " +
             std::to_string(o.users.size()) + " in --users for the measured traffic";
    }
  }
  return std::nullopt;
}

// Letters and digits, fresh per process: client order id prefixes never repeat across runs.
std::string RunId() {
  std::random_device rd;
  std::string id = "b";
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  for (int i = 0; i < 8; ++i) {
    id.push_back(kAlphabet[rd() % 36]);
  }
  return id;
}

void PrintLine(std::string_view head, const PhaseReport& r) {
  std::printf("%.*s offered=%lld achieved=%.0f p50_ms=%.2f p99_ms=%.2f p999_ms=%.2f errors=%llu",
              static_cast<int>(head.size()), head.data(), static_cast<long long>(r.rate),
              r.achieved, r.all.p50_ms, r.all.p99_ms, r.all.p999_ms,
              static_cast<unsigned long long>(r.error_count));
}

}  // namespace

int LoadgenMain(int argc, char** argv, std::string_view program, std::string_view line_prefix) {
  std::signal(SIGPIPE, SIG_IGN);
  Options o;
  o.load.program = std::string(program);
  if (auto err = ParseOptions(argc, argv, o)) {
    std::fprintf(stderr, "%s: %s\n", o.load.program.c_str(), err->c_str());
    std::fprintf(stderr, kUsage, o.load.program.c_str());
    return 2;
  }
  std::string run_id = RunId();
  std::vector<MarketMaker> makers;
  for (int64_t m = 0; m < o.makers; ++m) {
    makers.emplace_back(o.users.back(), o.maker, o.load.host, run_id + "m" + std::to_string(m));
    o.users.pop_back();
  }
  Workload workload(std::move(o.users), o.mix, o.seed, o.load.host, run_id);
  LoadGenerator generator(o.load, std::move(workload), std::move(makers));
  if (!generator.Connect()) {
    return 2;
  }
  if (o.makers > 0) {
    generator.Idle(kMakerHeadStartNs);
  }
  if (!o.search) {
    PhaseReport r = generator.RunPhase(o.rate, o.warmup_s, o.duration_s);
    PrintPhase(r, program);
    PrintLine(line_prefix, r);
    std::printf("\n");
    std::fflush(stdout);
    return 0;
  }
  RateSearch search(*o.search);
  while (auto rate = search.NextRate()) {
    PhaseReport r = generator.RunPhase(*rate, o.warmup_s, o.duration_s);
    Probe probe{*rate, r.achieved, r.all.p99_ms, r.error_count,
                ProbePasses(*o.search, *rate, r.achieved, r.all.p99_ms, r.error_count)};
    search.Record(probe);
    PrintPhase(r, program);
    PrintLine("probe", r);
    std::printf(" pass=%d\n", probe.passed ? 1 : 0);
    std::fflush(stdout);
    if (search.NextRate()) {
      generator.Idle(o.search_pause_s * kNsPerS);
    }
  }
  auto best = search.Best();
  std::printf("%.*s max_rate=%lld p99_ms=%.2f bound_ms=%g\n", static_cast<int>(line_prefix.size()),
              line_prefix.data(), static_cast<long long>(best ? best->rate : 0),
              best ? best->p99_ms : 0.0, o.search->bound_p99_ms);
  std::fflush(stdout);
  return 0;
}

}  // namespace spotex::bench
