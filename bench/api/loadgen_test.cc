// The pure parts spotex-loadgen adds to the API load generator: percentiles, the rate search,
// the read mix weights and the market maker's ladder (the requests it builds, signed as the
// server checks them, and how it reads openOrders answers).
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "auth/signature.h"
#include "bench_cli.h"
#include "market_maker.h"
#include "rate_search.h"
#include "workload.h"

namespace spotex::bench {
namespace {

TEST(Percentiles, NearestRank) {
  std::vector<uint32_t> v;
  for (uint32_t i = 1000; i >= 1; --i) {
    v.push_back(i * 1000);  // 1..1000 ms, unsorted
  }
  LatencySummary s = Summarize(v);
  EXPECT_EQ(s.count, 1000u);
  EXPECT_DOUBLE_EQ(s.p50_ms, 500.0);
  EXPECT_DOUBLE_EQ(s.p90_ms, 900.0);
  EXPECT_DOUBLE_EQ(s.p99_ms, 990.0);
  EXPECT_DOUBLE_EQ(s.p999_ms, 999.0);
  EXPECT_DOUBLE_EQ(s.max_ms, 1000.0);
  std::vector<uint32_t> one{2500};
  EXPECT_DOUBLE_EQ(Summarize(one).p999_ms, 2.5);
  std::vector<uint32_t> none;
  EXPECT_DOUBLE_EQ(Summarize(none).p99_ms, 0.0);
}

TEST(RateSearch, PassCriterion) {
  SearchOptions o;
  o.bound_p99_ms = 20;
  EXPECT_TRUE(ProbePasses(o, 1000, 995, 19.9, 0));
  EXPECT_FALSE(ProbePasses(o, 1000, 995, 20.0, 0));  // p99 must stay below the bound
  EXPECT_FALSE(ProbePasses(o, 1000, 995, 5.0, 1));   // any error fails
  EXPECT_FALSE(ProbePasses(o, 1000, 900, 5.0, 0));   // did not keep up
}

// Drives a search against a server whose p99 crosses the bound at `knee` requests/s.
std::vector<int64_t> Drive(SearchOptions o, int64_t knee, std::optional<Probe>& best) {
  RateSearch search(o);
  std::vector<int64_t> rates;
  while (auto rate = search.NextRate()) {
    rates.push_back(*rate);
    EXPECT_LT(rates.size(), 50u);
    if (rates.size() >= 50) {
      break;
    }
    bool pass = *rate <= knee;
    search.Record(Probe{*rate, static_cast<double>(*rate), pass ? 5.0 : 80.0, 0, pass});
  }
  best = search.Best();
  return rates;
}

TEST(RateSearch, ClimbsThenBisects) {
  std::optional<Probe> best;
  auto rates = Drive({500, 500, 100'000, 100, 20.0}, 1730, best);
  EXPECT_EQ(rates, (std::vector<int64_t>{500, 1000, 1500, 2000, 1700, 1800}));
  ASSERT_TRUE(best);
  EXPECT_EQ(best->rate, 1700);
}

TEST(RateSearch, StartFailsBisectsDown) {
  std::optional<Probe> best;
  auto rates = Drive({1000, 500, 100'000, 100, 20.0}, 260, best);
  EXPECT_EQ(rates, (std::vector<int64_t>{1000, 500, 200, 300}));
  ASSERT_TRUE(best);
  EXPECT_EQ(best->rate, 200);
  Drive({1000, 500, 100'000, 100, 20.0}, 50, best);
  EXPECT_FALSE(best);  // nothing passed: the caller prints max_rate=0
}

TEST(RateSearch, StopsAtMax) {
  std::optional<Probe> best;
  auto rates = Drive({500, 1000, 2000, 100, 20.0}, 1'000'000, best);
  EXPECT_EQ(rates, (std::vector<int64_t>{500, 1500, 2000}));
  EXPECT_EQ(best->rate, 2000);
}

TEST(ReadWeights, ParseAndMix) {
  auto w = ParseReadWeights("trades=3,account=1");
  ASSERT_TRUE(w.has_value()) << w.error();
  EXPECT_EQ(*w, (std::array<uint32_t, kReadKindCount>{0, 3, 0, 1, 0}));
  EXPECT_FALSE(ParseReadWeights("klines=1").has_value());
  EXPECT_FALSE(ParseReadWeights("depth=0").has_value());
  EXPECT_FALSE(ParseReadWeights("depth=x").has_value());
  EXPECT_FALSE(ParseReadWeights("depth").has_value());

  MixOptions mix;
  mix.read_fraction = 1.0;
  mix.read_weights = *w;
  Workload wl({{"k", "s"}}, mix, 3, "h", "r");
  std::map<RequestKind, int> seen;
  for (int i = 0; i < 4000; ++i) {
    std::string msg;
    ++seen[wl.Next(1, msg).kind];
    if (seen.size() == 1 && msg.starts_with("GET /api/v3/trades")) {
      EXPECT_NE(msg.find("symbol=BTCUSDT&limit=50"), std::string::npos);
    }
  }
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_NEAR(seen[RequestKind::kTrades], 3000, 200);
  EXPECT_NEAR(seen[RequestKind::kAccount], 1000, 200);
}

struct Req {
  std::string method, target, body;
};
Req SplitRequest(const std::string& msg) {
  Req r;
  size_t sp1 = msg.find(' ');
  size_t sp2 = msg.find(' ', sp1 + 1);
  r.method = msg.substr(0, sp1);
  r.target = msg.substr(sp1 + 1, sp2 - sp1 - 1);
  r.body = msg.substr(msg.find("\r\n\r\n") + 4);
  return r;
}

// The value of `name` in a form or query string.
std::string Param(const std::string& params, const std::string& name) {
  size_t at = ("&" + params).find("&" + name + "=");
  if (at == std::string::npos) {
    return {};
  }
  size_t begin = at + name.size() + 1;
  return params.substr(begin, params.find('&', begin) - begin);
}

constexpr std::string_view kSecret = "maker-secret-0123456789";

TEST(MarketMaker, SyncsThenFillsTheLadderInsideOut) {
  MakerOptions o;
  o.levels = 3;
  o.refresh_ms = 100;
  MarketMaker m({"mkey", std::string(kSecret)}, o, "127.0.0.1:1", "runm0");
  ASSERT_TRUE(m.Ready(0));
  std::string msg;
  EXPECT_EQ(m.Next(1'700'000'000'000, msg), MakerRequest::kSync);
  EXPECT_FALSE(m.Ready(0));  // one request in flight
  Req sync = SplitRequest(msg);
  EXPECT_EQ(sync.method, "GET");
  EXPECT_TRUE(sync.target.starts_with("/api/v3/openOrders?symbol=BTCUSDT&timestamp="));
  std::string key;
  // The ask at level 1 still rests; another run's and another maker's ids are ignored.
  ASSERT_TRUE(m.OnResponse(10, 200,
                           R"([{"clientOrderId":"runm0-S1-4","price":"30000.02"},)"
                           R"({"clientOrderId":"runm1-B0-1"},{"clientOrderId":"xrunm0-B0-2"}])",
                           key));
  EXPECT_EQ(m.Resting(), 1);
  std::vector<std::pair<std::string, std::string>> placed;  // side, price
  std::set<std::string> ids;
  while (m.Ready(10)) {
    ASSERT_EQ(m.Next(1'700'000'000'001, msg), MakerRequest::kPlace);
    Req r = SplitRequest(msg);
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/api/v3/order");
    EXPECT_EQ(Param(r.body, "type"), "LIMIT");
    EXPECT_EQ(Param(r.body, "timeInForce"), "GTC");
    EXPECT_EQ(Param(r.body, "quantity"), "0.00100");
    auto signed_request = auth::SignedPayload("", r.body);
    ASSERT_TRUE(signed_request.has_value()) << msg;
    EXPECT_TRUE(auth::VerifyHmac(kSecret, signed_request->payload, signed_request->signature)
                    .has_value());
    std::string id = Param(r.body, "newClientOrderId");
    EXPECT_TRUE(ids.insert(id).second);
    EXPECT_LE(id.size(), 36u);
    placed.emplace_back(Param(r.body, "side"), Param(r.body, "price"));
    ASSERT_TRUE(m.OnResponse(11, 200, R"({"status":"NEW"})", key));
  }
  // Innermost first, bids below the mid and asks above, the resting ask not placed again.
  EXPECT_EQ(placed, (std::vector<std::pair<std::string, std::string>>{
                        {"BUY", "29999.99"},
                        {"SELL", "30000.01"},
                        {"BUY", "29999.98"},
                        {"BUY", "29999.97"},
                        {"SELL", "30000.03"}}));
  EXPECT_EQ(m.Resting(), 6);
  EXPECT_EQ(m.placed(), 5u);
  // The cycle ends; the next sync is due refresh_ms later.
  EXPECT_FALSE(m.Ready(110));
  EXPECT_TRUE(m.Ready(111));
  EXPECT_EQ(m.Next(1'700'000'000'200, msg), MakerRequest::kSync);
}

TEST(MarketMaker, ErrorsAreKeyedAndTheCycleGoesOn) {
  MakerOptions o;
  o.levels = 1;
  o.refresh_ms = 50;
  MarketMaker m({"mkey", std::string(kSecret)}, o, "h", "p");
  std::string msg, key;
  m.Next(1, msg);
  EXPECT_FALSE(m.OnResponse(0, 429, R"({"code":-1015,"msg":"Too many new orders"})", key));
  EXPECT_EQ(key, "maker-openOrders:429/-1015");
  EXPECT_FALSE(m.Ready(49));
  ASSERT_TRUE(m.Ready(50));
  EXPECT_EQ(m.Next(2, msg), MakerRequest::kSync);
  ASSERT_TRUE(m.OnResponse(50, 200, "[]", key));
  EXPECT_EQ(m.Next(3, msg), MakerRequest::kPlace);
  EXPECT_FALSE(m.OnResponse(51, 400, R"({"code":-2010,"msg":"insufficient balance"})", key));
  EXPECT_EQ(key, "maker-order:400/-2010");
  EXPECT_EQ(m.Next(4, msg), MakerRequest::kPlace);
  m.OnTransportError(52);  // the cycle restarts after refresh_ms
  EXPECT_FALSE(m.Ready(101));
  EXPECT_TRUE(m.Ready(102));
  EXPECT_EQ(m.Next(5, msg), MakerRequest::kSync);
}

// The load tools' --url and --cpu-pids (bench/common/bench_cli.h).
TEST(BenchCli, ParsesTheTargetUrl) {
  auto url = ParseHttpUrl("http://127.0.0.1:8080/");
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(url->host, "127.0.0.1:8080");
  EXPECT_EQ(ntohs(url->addr.sin_port), 8080);
  auto local = ParseHttpUrl("http://localhost:1");
  ASSERT_TRUE(local.has_value());
  EXPECT_EQ(ntohl(local->addr.sin_addr.s_addr), 0x7f000001u);
  for (const char* bad : {"https://127.0.0.1:1", "http://127.0.0.1", "http://127.0.0.1:0",
                          "http://127.0.0.1:65536", "http://127.0.0.1:80/api", "http://host:80",
                          "http://127.0.0.1:8x"}) {
    EXPECT_FALSE(ParseHttpUrl(bad).has_value()) << bad;
  }
  CpuPids pids;
  EXPECT_TRUE(ParseCpuPids("engine=12,gateway=34", pids, 2));
  EXPECT_EQ(pids, (CpuPids{{"engine", 12}, {"gateway", 34}}));
  CpuPids more = pids;
  EXPECT_FALSE(ParseCpuPids("x=1", more, 2));  // over the bound
  for (const char* bad : {"=1", "a", "a=0", "a=-1", "a=1x"}) {
    CpuPids out;
    EXPECT_FALSE(ParseCpuPids(bad, out, 16)) << bad;
  }
}

}  // namespace
}  // namespace spotex::bench
