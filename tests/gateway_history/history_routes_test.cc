// The historical endpoints through the real router, with the history in a real PostgreSQL
// (rows inserted by SQL) and the recent window from a real nats-server + spotex-engine:
// TradingApi (allOrders, myTrades, GET order, order lists, myPreventedMatches) over real HTTP,
// merged with what the gateway saw itself; PublicApi (aggTrades, historicalTrades, klines)
// dispatched through its router.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "../gateway/test_client.h"
#include "engine/command.h"
#include "gateway/api/request_limits.h"
#include "gateway/http/server.h"
#include "gateway/market/public_api.h"
#include "gateway/trading/trading_api.h"
#include "harness.h"
#include "history_fixture.h"
#include "proto/codec.h"
#include "proto/envelope.h"

namespace spotex::testing {
namespace {

using gateway::Caller;
using spotex::http::testing::ParsedResponse;
using spotex::http::testing::TestClient;

// "acct-<n>" is account n with every right; anything else -2015.
class KeyIsAccount : public gateway::RequestAuthenticator {
 public:
  std::expected<Caller, http::Error> Authenticate(const http::Request& req, http::Params& params,
                                                  auth::SecurityType) override {
    auto key = req.Header("X-MBX-APIKEY");
    if (!key || !key->starts_with("acct-")) {
      return std::unexpected(
          http::Error{-2015, "Invalid API-key, IP, or permissions for action.", 401});
    }
    Caller c;
    c.permissions = 3;
    c.account = std::stoll(std::string(key->substr(5)));
    params.MarkRead("timestamp");
    params.MarkRead("signature");
    return c;
  }
};

class NoLimits : public gateway::RateLimiter {
 public:
  gateway::LimitVerdict ChargeRequest(std::string_view, int) override { return {}; }
  gateway::LimitVerdict ChargeOrder(int64_t) override { return {}; }
};

constexpr int64_t kOld = kT0 - 20 * kDay;  // long before the gateway started

class HistoryRoutesTest : public HistoryDbTest {
 protected:
  void SetUp() override {
    HistoryDbTest::SetUp();
    if (HasFatalFailure()) return;
    nats_ = std::make_unique<NatsServer>(dir_.path());
    ASSERT_TRUE(nats_->ok());
    engine_ = std::make_unique<EngineProcess>(
        *nats_, dir_.path() + "/engine", dir_.path() + "/engine.log",
        EngineOptions{std::string(SPOTEX_SOURCE_DIR) + "/etc/markets.toml", 200000, 300});
    engine_->Start();
    auto client = service::CommandClient::Connect(nats_->config(), 0);
    ASSERT_TRUE(client);
    client_ = std::move(*client);
    for (int i = 0; i < 200; ++i) {
      auto st = client_->Query("status", 500);
      if (st && JsonField(*st, "logSeq") == "9") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (engine::AccountId a : {1, 2}) {
      Send(engine::OpenAccount{a});
      Send(engine::Deposit{a, 0, engine::Amount{10'00000000}});
      Send(engine::Deposit{a, 3, engine::Amount{1'000'000'00000000}});
    }
    auto symbols = client_->Query("symbols", 2000);
    ASSERT_TRUE(symbols);
    auto parsed = gateway::ParseSymbols(*symbols);
    ASSERT_TRUE(parsed) << parsed.error();
    symbols_ = *parsed;
    for (const auto& s : symbols_) {
      if (s.info.name == "BTCUSDT") btc_ = s.info.id;
    }
    gateway::TradingOptions options;
    options.history_store = store_.get();
    api_ = std::make_unique<gateway::TradingApi>(
        *client_, auth_, limiter_, history_,
        [this](std::string_view name) -> std::optional<gateway::SymbolRecord> {
          for (const auto& s : symbols_) {
            if (s.info.name == name) return s;
          }
          return std::nullopt;
        },
        [this](uint32_t id) -> std::optional<gateway::SymbolRecord> {
          for (const auto& s : symbols_) {
            if (s.info.id == id) return s;
          }
          return std::nullopt;
        },
        [] {
          return std::vector<gateway::AssetEntry>{{"BTC", 8}, {"USDT", 8}};
        },
        [] { return kT0; }, options);
    http::Router router;
    api_->Register(router);
    auto server = http::Server::Start(http::ServerConfig{}, std::move(router).ToHandler());
    ASSERT_TRUE(server) << server.error();
    server_ = std::move(*server);
  }

  void TearDown() override {
    if (server_) server_->Stop(std::chrono::milliseconds(1000));
    server_.reset();
    api_.reset();
    HistoryDbTest::TearDown();
  }

  void Send(engine::CommandBody body) {
    auto r = client_->Call(proto::EncodeCommand(engine::Command{0, 0, body}), {}, 10000);
    ASSERT_TRUE(r.has_value());
  }

  ParsedResponse Call(const std::string& method, const std::string& path, const std::string& params,
                      const std::string& key = "acct-1") {
    TestClient c;
    EXPECT_TRUE(c.Connect(server_->port()));
    std::string target = path, body;
    if (method == "POST") {
      body = params;
    } else if (!params.empty()) {
      target += "?" + params;
    }
    std::string req =
        method + " " + target + " HTTP/1.1\r\nHost: x\r\nX-MBX-APIKEY: " + key + "\r\n";
    if (!body.empty()) {
      req += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n";
    }
    auto r = c.RoundTrip(req + "\r\n" + body);
    EXPECT_TRUE(r.has_value()) << method << " " << target;
    return r.value_or(ParsedResponse{});
  }
  std::string Get(const std::string& path, const std::string& params,
                  const std::string& key = "acct-1") {
    return Call("GET", path, params, key).body;
  }

  // Old, finished orders of account 1 only PostgreSQL knows (ids 900001..900005).
  void InsertOldOrders() {
    for (int64_t i = 1; i <= 5; ++i) {
      InsertOrder({.id = 900000 + i,
                   .time_ms = kOld + i * kMin,
                   .account = 1,
                   .symbol = btc_,
                   .client_id = "old-" + std::to_string(i)});
    }
  }

  TempDir dir_;
  std::unique_ptr<NatsServer> nats_;
  std::unique_ptr<EngineProcess> engine_;
  std::unique_ptr<service::CommandClient> client_;
  std::vector<gateway::SymbolRecord> symbols_;
  uint32_t btc_ = 0;
  KeyIsAccount auth_;
  NoLimits limiter_;
  gateway::AccountHistory history_;
  std::unique_ptr<gateway::TradingApi> api_;
  std::unique_ptr<http::Server> server_;
};

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST_F(HistoryRoutesTest, AllOrdersAndGetOrderMergePostgresWithRecentState) {
  InsertOldOrders();
  // A recent order, cancelled: the gateway saw both; PostgreSQL lags with its NEW state.
  auto placed = Call("POST", "/api/v3/order",
                     "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=0.01&"
                     "price=70000&newClientOrderId=recent&timestamp=1&signature=x");
  ASSERT_EQ(placed.status, 200) << placed.body;
  const int64_t id = std::stoll(JsonField(placed.body, "orderId"));
  ASSERT_EQ(Call("DELETE", "/api/v3/order",
                 "symbol=BTCUSDT&orderId=" + std::to_string(id) + "&timestamp=1")
                .status,
            200);
  InsertOrder({.id = id,
               .time_ms = kT0 - 5,
               .account = 1,
               .symbol = btc_,
               .client_id = "recent",
               .status = 0,
               .executed = 0,
               .update_ms = kT0 - 5});

  auto all = Get("/api/v3/allOrders", "symbol=BTCUSDT&timestamp=1");
  EXPECT_EQ(Count(all, "\"orderId\":"), 6u) << all;
  EXPECT_EQ(Count(all, "\"orderId\":" + std::to_string(id) + ","), 1u) << all;
  EXPECT_NE(all.find("\"clientOrderId\":\"recent\""), std::string::npos);
  EXPECT_EQ(all.find("\"status\":\"NEW\""), std::string::npos) << "stale state won: " << all;
  // Ascending by id: the recent order (small id) first, then the old ones.
  EXPECT_LT(all.find("\"orderId\":" + std::to_string(id)), all.find("\"orderId\":900001"));
  // orderId + limit: the oldest `limit` from that id.
  auto page = Get("/api/v3/allOrders", "symbol=BTCUSDT&orderId=900002&limit=2&timestamp=1");
  EXPECT_EQ(Count(page, "\"orderId\":"), 2u) << page;
  EXPECT_LT(page.find("900002"), page.find("900003"));
  // A time window that only PostgreSQL covers.
  auto window =
      Get("/api/v3/allOrders", "symbol=BTCUSDT&startTime=" + std::to_string(kOld + 2 * kMin) +
                                   "&endTime=" + std::to_string(kOld + 3 * kMin) + "&timestamp=1");
  EXPECT_EQ(Count(window, "\"orderId\":"), 2u) << window;
  EXPECT_EQ(Get("/api/v3/allOrders", "symbol=BTCUSDT&startTime=0&endTime=86400001&timestamp=1"),
            "{\"code\":-1127,\"msg\":\"More than 24 hours between startTime and endTime.\"}");
  // Another account sees none of it.
  EXPECT_EQ(Get("/api/v3/allOrders", "symbol=BTCUSDT&timestamp=1", "acct-2"), "[]");

  // GET order of an order no longer open, by id and by client id; another account's: -2013.
  auto by_id = Get("/api/v3/order", "symbol=BTCUSDT&orderId=900003&timestamp=1");
  EXPECT_NE(by_id.find("\"orderId\":900003,\"orderListId\":-1,\"clientOrderId\":\"old-3\""),
            std::string::npos)
      << by_id;
  EXPECT_NE(by_id.find("\"status\":\"FILLED\""), std::string::npos);
  EXPECT_NE(by_id.find("\"time\":" + std::to_string(kOld + 3 * kMin)), std::string::npos);
  auto by_cid = Get("/api/v3/order", "symbol=BTCUSDT&origClientOrderId=old-4&timestamp=1");
  EXPECT_NE(by_cid.find("\"orderId\":900004"), std::string::npos) << by_cid;
  auto recent = Get("/api/v3/order", "symbol=BTCUSDT&orderId=" + std::to_string(id));
  EXPECT_NE(recent.find("\"status\":\"CANCELED\""), std::string::npos) << recent;
  const std::string missing = "{\"code\":-2013,\"msg\":\"Order does not exist.\"}";
  EXPECT_EQ(Get("/api/v3/order", "symbol=BTCUSDT&orderId=900003", "acct-2"), missing);
  EXPECT_EQ(Get("/api/v3/order", "symbol=BTCUSDT&origClientOrderId=old-3", "acct-2"), missing);
  EXPECT_EQ(Get("/api/v3/order", "symbol=BTCUSDT&orderId=900003&origClientOrderId=old-4"), missing);
}

TEST_F(HistoryRoutesTest, MyTradesPagesAndWindowsOverBothSources) {
  // Three old trades of account 1 (buyer) with account 2 in PostgreSQL, one hour apart.
  for (int64_t i = 1; i <= 3; ++i) {
    InsertTrade({.id = 900000 + i,
                 .time_ms = kOld + i * kHour,
                 .buyer_order = 800000 + i,
                 .seller_order = 700000 + i,
                 .buyer = 1,
                 .seller = 2,
                 .symbol = btc_});
  }
  // A trade right now through the engine: in memory, and (already recorded) in PostgreSQL.
  ASSERT_EQ(Call("POST", "/api/v3/order",
                 "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=0.01&price=65000"
                 "&timestamp=1",
                 "acct-2")
                .status,
            200);
  auto buy = Call("POST", "/api/v3/order",
                  "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01&timestamp=1");
  ASSERT_EQ(buy.status, 200) << buy.body;
  const std::string trade_id = JsonField(buy.body, "tradeId");
  ASSERT_FALSE(trade_id.empty()) << buy.body;
  const std::string mine = Get("/api/v3/myTrades", "symbol=BTCUSDT&timestamp=1");
  const std::string recent_time = JsonField(mine.substr(mine.find("\"id\":" + trade_id)), "time");
  InsertTrade({.id = std::stoll(trade_id),
               .time_ms = std::stoll(recent_time),
               .buyer_order = std::stoll(JsonField(buy.body, "orderId")),
               .seller_order = std::stoll(JsonField(buy.body, "orderId")) + 1'000'000,
               .buyer = 1,
               .seller = 2,
               .symbol = btc_});

  auto all = Get("/api/v3/myTrades", "symbol=BTCUSDT&timestamp=1");
  EXPECT_EQ(Count(all, "\"id\":"), 4u) << all;
  EXPECT_EQ(Count(all, "\"id\":" + trade_id + ","), 1u) << "duplicate: " << all;
  auto from = Get("/api/v3/myTrades", "symbol=BTCUSDT&fromId=900002&limit=1&timestamp=1");
  EXPECT_EQ(Count(from, "\"id\":"), 1u) << from;
  EXPECT_NE(from.find("\"id\":900002"), std::string::npos);
  // One bound implies a 24-hour window: from 1 h after the first old trade, the next two.
  auto start =
      Get("/api/v3/myTrades", "symbol=BTCUSDT&startTime=" + std::to_string(kOld + 2 * kHour));
  EXPECT_EQ(Count(start, "\"id\":"), 2u) << start;
  auto by_order = Get("/api/v3/myTrades", "symbol=BTCUSDT&orderId=800002");
  EXPECT_EQ(Count(by_order, "\"id\":"), 1u) << by_order;
  EXPECT_EQ(Get("/api/v3/myTrades", "symbol=BTCUSDT&fromId=1&startTime=1"),
            "{\"code\":-1128,\"msg\":\"Combination of optional parameters invalid.\"}");
  EXPECT_EQ(Get("/api/v3/myTrades", "symbol=BTCUSDT&fromId="),
            "{\"code\":-1105,\"msg\":\"Parameter 'fromId' was empty.\"}");
  EXPECT_EQ(Get("/api/v3/allOrders", "symbol=BTCUSDT&startTime="),
            "{\"code\":-1105,\"msg\":\"Parameter 'startTime' was empty.\"}");
  EXPECT_EQ(Get("/api/v3/myTrades", "symbol=BTCUSDT&startTime=0&endTime=86400001"),
            "{\"code\":-1127,\"msg\":\"More than 24 hours between startTime and endTime.\"}");
  // Account 2 sees its own side of each; account 3 nothing.
  auto seller = Get("/api/v3/myTrades", "symbol=BTCUSDT", "acct-2");
  EXPECT_EQ(Count(seller, "\"isBuyer\":false"), 4u) << seller;
  EXPECT_EQ(Get("/api/v3/myTrades", "symbol=BTCUSDT", "acct-3"), "[]");
}

TEST_F(HistoryRoutesTest, OrderListsAndPreventedMatches) {
  InsertOldOrders();
  Sql("INSERT INTO order_lists VALUES (700001, 1, " + std::to_string(btc_) +
      ", 'old-list', 1, 900001, 900002, " + std::to_string(kOld) + ", " + std::to_string(kOld + 9) +
      ")");
  auto list = Get("/api/v3/orderList", "orderListId=700001&timestamp=1");
  EXPECT_NE(list.find("\"orderListId\":700001,\"contingencyType\":\"OCO\",\"listStatusType\":"
                      "\"ALL_DONE\""),
            std::string::npos)
      << list;
  EXPECT_NE(list.find("\"clientOrderId\":\"old-1\""), std::string::npos) << list;
  EXPECT_NE(Get("/api/v3/orderList", "origClientOrderId=old-list").find("700001"),
            std::string::npos);
  EXPECT_EQ(Get("/api/v3/orderList", "orderListId=700001", "acct-2"),
            "{\"code\":-2013,\"msg\":\"Order list does not exist.\"}");
  auto all = Get("/api/v3/allOrderList", "fromId=700001&timestamp=1");
  EXPECT_EQ(Count(all, "\"orderListId\":700001"), 1u) << all;
  EXPECT_EQ(Get("/api/v3/allOrderList", "", "acct-2"), "[]");

  Sql("INSERT INTO prevented_matches VALUES (1, " + std::to_string(kOld) + ", 1, " +
      std::to_string(btc_) + ", 3, 900002, 900001, 6500000000000, 1000, 1, 0), (2, " +
      std::to_string(kOld + 1) + ", 1, " + std::to_string(btc_) +
      ", 3, 900003, 900001, 6500000000000, 2000, 2, 0)");
  auto one = Get("/api/v3/myPreventedMatches", "symbol=BTCUSDT&preventedMatchId=2&timestamp=1");
  EXPECT_EQ(Count(one, "\"preventedMatchId\":"), 1u) << one;
  EXPECT_NE(one.find("\"takerOrderId\":900003,\"makerSymbol\":\"BTCUSDT\",\"makerOrderId\":900001"),
            std::string::npos)
      << one;
  auto by_maker = Get("/api/v3/myPreventedMatches", "symbol=BTCUSDT&orderId=900001");
  EXPECT_EQ(Count(by_maker, "\"preventedMatchId\":"), 2u) << by_maker;
  auto from = Get("/api/v3/myPreventedMatches",
                  "symbol=BTCUSDT&orderId=900001&fromPreventedMatchId=2&limit=5");
  EXPECT_EQ(Count(from, "\"preventedMatchId\":2"), 1u) << from;
  EXPECT_EQ(Count(from, "\"preventedMatchId\":1,"), 0u) << from;
  EXPECT_EQ(Get("/api/v3/myPreventedMatches", "symbol=BTCUSDT&orderId=900001", "acct-2"), "[]");
  EXPECT_EQ(Get("/api/v3/myPreventedMatches", "symbol=BTCUSDT"),
            "{\"code\":-1102,\"msg\":\"Param 'preventedMatchId' or 'orderId' must be sent, but "
            "both were empty/null!\"}");
  EXPECT_EQ(Get("/api/v3/myPreventedMatches", "symbol=BTCUSDT&preventedMatchId=1&orderId=2"),
            "{\"code\":-1128,\"msg\":\"Combination of optional parameters invalid.\"}");
}

// PublicApi through its router (no engine needed: memory holds nothing, PostgreSQL does).
class PublicHistoryTest : public HistoryDbTest {
 protected:
  std::string Get(const std::string& target) {
    std::promise<http::Response> answer;
    auto responder = http::Responder::ToCallback(
        [&answer](http::Response r) { answer.set_value(std::move(r)); });
    router_.Dispatch(
        http::Request(http::Method::kGet, "GET", target, {}, "", "127.0.0.1", "127.0.0.1"),
        std::move(responder));
    auto f = answer.get_future();
    if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return "timeout";
    return f.get().body;
  }
  void Start() {
    gateway::SymbolRecord r;
    r.info.name = "BTCUSDT";
    r.info.id = kBtcUsdt;
    r.info.base_scale = 8;
    r.info.quote_scale = 8;
    market_.AddSymbol(r.info, 0, {}, {});
    api_ = std::make_unique<gateway::PublicApi>(market_, [] { return kT0 + kDay; });
    api_->SetSymbols({r});
    api_->SetHistory(store_.get());
    api_->Register(router_);
  }
  gateway::MarketData market_;
  std::unique_ptr<gateway::PublicApi> api_;
  http::Router router_;
};

TEST_F(PublicHistoryTest, AggTradesHistoricalTradesAndKlinesFromPostgres) {
  for (int64_t id = 1; id <= 4; ++id) {
    // 1-2 one taker (order 50), 3-4 another (51).
    InsertTrade({.id = id,
                 .time_ms = kT0 + id * 1000,
                 .buyer_order = id <= 2 ? 50 : 51,
                 .seller_order = 60 + id,
                 .buyer_is_maker = false});
  }
  InsertBar(kT0, 100'00000000, 120'00000000, 90'00000000, 110'00000000, 5, 2, 1);
  InsertBar(kT0 + 2 * kMin, 111'00000000, 111'00000000, 111'00000000, 111'00000000, 1, 1, 3);
  Start();
  auto aggs = Get("/api/v3/aggTrades?symbol=BTCUSDT&fromId=1");
  EXPECT_EQ(Count(aggs, "\"a\":"), 2u) << aggs;
  EXPECT_NE(aggs.find("{\"a\":1,\"p\":\"65000.00000000\",\"q\":\"0.02000000\",\"f\":1,\"l\":2,"),
            std::string::npos)
      << aggs;
  auto mid = Get("/api/v3/aggTrades?symbol=BTCUSDT&fromId=2");
  EXPECT_EQ(mid.find("\"a\":1"), std::string::npos) << mid;
  EXPECT_NE(mid.find("\"a\":3,"), std::string::npos) << mid;
  auto window = Get("/api/v3/aggTrades?symbol=BTCUSDT&startTime=" + std::to_string(kT0 + 3000) +
                    "&endTime=" + std::to_string(kT0 + 3000));
  EXPECT_EQ(Count(window, "\"a\":3,"), 1u) << window;
  EXPECT_EQ(Get("/api/v3/aggTrades?symbol=BTCUSDT&fromId=1&startTime=1"),
            "{\"code\":-1128,\"msg\":\"Combination of optional parameters invalid.\"}");
  EXPECT_EQ(Get("/api/v3/aggTrades?symbol=NOPE&fromId=1"),
            "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}");

  auto hist = Get("/api/v3/historicalTrades?symbol=BTCUSDT&fromId=3&limit=1");
  EXPECT_EQ(Count(hist, "\"id\":"), 1u) << hist;
  EXPECT_NE(hist.find("{\"id\":3,"), std::string::npos) << hist;

  // Minutes 0 and 2 with trades: three 1m bars (minute 1 flat at 110), one 5m bar.
  auto k1 = Get("/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=" + std::to_string(kT0));
  EXPECT_EQ(Count(k1, "],["), 2u) << k1;
  EXPECT_NE(k1.find("[" + std::to_string(kT0 + kMin) +
                    ",\"110.00000000\",\"110.00000000\",\"110.00000000\",\"110.00000000\","
                    "\"0.00000000\""),
            std::string::npos)
      << k1;
  auto k5 = Get("/api/v3/klines?symbol=BTCUSDT&interval=5m");
  EXPECT_EQ(k5, "[[" + std::to_string(kT0) +
                    ",\"100.00000000\",\"120.00000000\",\"90.00000000\",\"111.00000000\","
                    "\"0.00000006\"," +
                    std::to_string(kT0 + 5 * kMin - 1) +
                    ",\"0.00000060\",3,\"0.00000002\",\"0.00000030\",\"0\"]]");
  EXPECT_EQ(Get("/api/v3/uiKlines?symbol=BTCUSDT&interval=5m"), k5);
  EXPECT_EQ(Get("/api/v3/klines?symbol=BTCUSDT&interval=7m"),
            "{\"code\":-1120,\"msg\":\"Invalid interval.\"}");
}

TEST(HistoryWeights, FollowBinance) {
  auto weight = [](std::string_view query) {
    auto params = http::Params::Parse(query, "");
    return gateway::RequestWeight(http::Method::kGet, "/api/v3/myPreventedMatches",
                                  params ? &*params : nullptr);
  };
  EXPECT_EQ(weight("symbol=BTCUSDT&preventedMatchId=1"), 2);
  EXPECT_EQ(weight("symbol=BTCUSDT&orderId=1"), 20);
}

}  // namespace
}  // namespace spotex::testing
