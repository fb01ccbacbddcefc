// The signed trading endpoints against a real nats-server and spotex-engine, over real HTTP:
// TradingApi on an http::Server (port 0) with a fake authenticator ("acct-<n>" = account n)
// and a fake order-count limiter.
#include "gateway/trading/trading_api.h"

#include <gtest/gtest.h>

#include <csignal>

#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "../gateway/test_client.h"
#include "engine/command.h"
#include "gateway/http/server.h"
#include "harness.h"
#include "proto/codec.h"
#include "proto/envelope.h"

namespace spotex::gateway {
namespace {

using spotex::http::testing::ParsedResponse;
using spotex::http::testing::TestClient;
namespace t = spotex::testing;

// "acct-<n>" is account n with read and trade rights; "ro-<n>" read only; anything else -2015.
class FakeAuth : public RequestAuthenticator {
 public:
  std::expected<Caller, http::Error> Authenticate(const http::Request& req, http::Params& params,
                                                  auth::SecurityType security) override {
    const http::Error rejected{-2015, "Invalid API-key, IP, or permissions for action.", 401};
    auto key = req.Header("X-MBX-APIKEY");
    if (!key) {
      return std::unexpected(rejected);
    }
    Caller c;
    std::string k(*key);
    if (k.starts_with("acct-")) {
      c.permissions = 3;
      c.account = std::stoll(k.substr(5));
    } else if (k.starts_with("ro-")) {
      c.permissions = 1;
      c.account = std::stoll(k.substr(3));
    } else {
      return std::unexpected(rejected);
    }
    if (security == auth::SecurityType::kTrade && (c.permissions & 2) == 0) {
      return std::unexpected(rejected);
    }
    params.MarkRead("timestamp");
    params.MarkRead("signature");
    params.MarkRead("recvWindow");
    return c;
  }
};

class FakeLimiter : public RateLimiter {
 public:
  LimitVerdict ChargeRequest(std::string_view, int) override { return {}; }
  LimitVerdict ChargeOrder(int64_t account) override {
    std::lock_guard lock(mu_);
    LimitVerdict v;
    int n = ++counts_[account];
    v.headers.emplace_back("X-MBX-ORDER-COUNT-10S", std::to_string(n));
    if (refused_.contains(account)) {
      v.allowed = false;
      v.error = http::Error{-1015, "Too many new orders; current limit is 1 orders per 10 SECOND.",
                            429};
      v.retry_after_s = 10;
      v.headers.emplace_back("Retry-After", "10");
    }
    return v;
  }
  void Refuse(int64_t account) {
    std::lock_guard lock(mu_);
    refused_.insert(account);
  }
  int charged(int64_t account) {
    std::lock_guard lock(mu_);
    return counts_[account];
  }

 private:
  std::mutex mu_;
  std::map<int64_t, int> counts_;
  std::set<int64_t> refused_;
};

class TradingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nats_ = std::make_unique<t::NatsServer>(dir_.path());
    ASSERT_TRUE(nats_->ok());
    engine_ = std::make_unique<t::EngineProcess>(
        *nats_, dir_.path() + "/engine", dir_.path() + "/engine.log",
        t::EngineOptions{std::string(SPOTEX_SOURCE_DIR) + "/etc/markets.toml", 200000, 300});
    engine_->Start();
    auto client = service::CommandClient::Connect(nats_->config(), 0);
    ASSERT_TRUE(client);
    client_ = std::move(*client);
    for (int i = 0; i < 200; ++i) {
      auto st = client_->Query("status", 500);
      if (st && t::JsonField(*st, "logSeq") == "9") {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (engine::AccountId a : {1, 2}) {
      Send(engine::OpenAccount{a});
      Send(engine::Deposit{a, 0, engine::Amount{10'00000000}});             // 10 BTC
      Send(engine::Deposit{a, 3, engine::Amount{1'000'000'00000000}});      // 1M USDT
    }
    auto symbols = client_->Query("symbols", 2000);
    ASSERT_TRUE(symbols);
    auto parsed = ParseSymbols(*symbols);
    ASSERT_TRUE(parsed) << parsed.error();
    symbols_ = *parsed;
    StartApi(10'000);
  }

  void TearDown() override {
    if (server_) {
      server_->Stop(std::chrono::milliseconds(1000));
    }
    server_.reset();
    api_.reset();
  }

  void StartApi(int64_t timeout_ms) {
    if (server_) {
      server_->Stop(std::chrono::milliseconds(1000));
    }
    server_.reset();
    api_.reset();
    TradingOptions options;
    options.order_timeout_ms = timeout_ms;
    api_ = std::make_unique<TradingApi>(
        *client_, auth_, limiter_, history_,
        [this](std::string_view name) -> std::optional<SymbolRecord> {
          for (const auto& s : symbols_) {
            if (s.info.name == name) {
              return s;
            }
          }
          return std::nullopt;
        },
        [this](uint32_t id) -> std::optional<SymbolRecord> {
          for (const auto& s : symbols_) {
            if (s.info.id == id) {
              return s;
            }
          }
          return std::nullopt;
        },
        [] {
          return std::vector<AssetEntry>{{"BTC", 8}, {"ETH", 8}, {"BNB", 8}, {"USDT", 8}};
        },
        [] { return int64_t{1767225600000}; }, options);
    http::Router router;
    api_->Register(router);
    auto server = http::Server::Start(http::ServerConfig{}, std::move(router).ToHandler());
    ASSERT_TRUE(server) << server.error();
    server_ = std::move(*server);
  }

  engine::RejectCode Send(engine::CommandBody body) {
    auto r = client_->Call(proto::EncodeCommand(engine::Command{0, 0, body}), {}, 10000);
    auto env = r ? proto::Envelope::Parse(*r) : std::unexpected(proto::EnvelopeError::kTruncated);
    if (!env) {
      ADD_FAILURE() << (r ? "bad envelope" : r.error().message);
      return engine::RejectCode::kInvalidParameter;
    }
    return env->header().code;
  }

  // One request; POST parameters go in a form body (as ccxt sends them), others in the query.
  ParsedResponse Call(const std::string& method, const std::string& path,
                      const std::string& params, const std::string& key = "acct-1") {
    TestClient c;
    EXPECT_TRUE(c.Connect(server_->port()));
    std::string target = path;
    std::string body;
    if (method == "POST") {
      body = params;
    } else if (!params.empty()) {
      target += "?" + params;
    }
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: x\r\nX-MBX-APIKEY: " + key +
                      "\r\n";
    if (!body.empty()) {
      req += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n";
    }
    req += "\r\n" + body;
    auto r = c.RoundTrip(req);
    EXPECT_TRUE(r.has_value()) << method << " " << target;
    return r.value_or(ParsedResponse{});
  }

  // An order of account `key`; returns the response.
  ParsedResponse Limit(const std::string& side, const std::string& price, const std::string& qty,
                       const std::string& extra = "", const std::string& key = "acct-1") {
    return Call("POST", "/api/v3/order",
                "symbol=BTCUSDT&side=" + side + "&type=LIMIT&timeInForce=GTC&quantity=" + qty +
                    "&price=" + price + extra + "&timestamp=1&signature=x",
                key);
  }

  std::string Balance(const std::string& key, const std::string& asset) {
    auto r = Call("GET", "/api/v3/account", "timestamp=1", key);
    auto at = r.body.find("{\"asset\":\"" + asset + "\"");
    if (at == std::string::npos) {
      return "?";
    }
    return r.body.substr(at, r.body.find('}', at) - at + 1);
  }

  std::string LogSeq() { return t::JsonField(client_->Query("status", 2000).value_or(""), "logSeq"); }

  t::TempDir dir_;
  std::unique_ptr<t::NatsServer> nats_;
  std::unique_ptr<t::EngineProcess> engine_;
  std::unique_ptr<service::CommandClient> client_;
  std::vector<SymbolRecord> symbols_;
  FakeAuth auth_;
  FakeLimiter limiter_;
  AccountHistory history_;
  std::unique_ptr<TradingApi> api_;
  std::unique_ptr<http::Server> server_;
};

std::string Field(const std::string& json, const std::string& key) {
  return t::JsonField(json, key);
}

TEST_F(TradingTest, PlacesLimitOrdersWithEachResponseType) {
  auto ack = Limit("SELL", "65000", "0.01", "&newOrderRespType=ACK&newClientOrderId=my-ack");
  ASSERT_EQ(ack.status, 200) << ack.body;
  const std::string id = Field(ack.body, "orderId");
  EXPECT_EQ(ack.body, "{\"symbol\":\"BTCUSDT\",\"orderId\":" + id +
                          ",\"orderListId\":-1,\"clientOrderId\":\"my-ack\",\"transactTime\":" +
                          Field(ack.body, "transactTime") + "}");
  EXPECT_EQ(limiter_.charged(1), 1);
  EXPECT_EQ(ack.Header("x-mbx-order-count-10s"), "1");

  auto result = Limit("SELL", "65000.01", "0.01", "&newOrderRespType=RESULT");
  ASSERT_EQ(result.status, 200) << result.body;
  EXPECT_NE(result.body.find("\"price\":\"65000.01000000\",\"origQty\":\"0.01000000\","
                             "\"executedQty\":\"0.00000000\""),
            std::string::npos)
      << result.body;
  EXPECT_NE(result.body.find("\"status\":\"NEW\",\"timeInForce\":\"GTC\",\"type\":\"LIMIT\","
                             "\"side\":\"SELL\""),
            std::string::npos);
  EXPECT_EQ(result.body.find("fills"), std::string::npos);

  auto full = Limit("SELL", "65000.02", "0.01");  // FULL is the LIMIT default
  ASSERT_EQ(full.status, 200) << full.body;
  EXPECT_NE(full.body.find("\"fills\":[]"), std::string::npos) << full.body;

  // Query it back: open (from the engine) and by client id.
  auto get = Call("GET", "/api/v3/order", "symbol=BTCUSDT&origClientOrderId=my-ack");
  ASSERT_EQ(get.status, 200) << get.body;
  EXPECT_NE(get.body.find("\"orderId\":" + id + ",\"orderListId\":-1,\"clientOrderId\":\"my-ack\","
                          "\"price\":\"65000.00000000\""),
            std::string::npos)
      << get.body;
  EXPECT_NE(get.body.find("\"isWorking\":true"), std::string::npos);
  auto open = Call("GET", "/api/v3/openOrders", "symbol=BTCUSDT");
  ASSERT_EQ(open.status, 200);
  EXPECT_EQ(std::count(open.body.begin(), open.body.end(), '{'), 3) << open.body;
  // Locked balance: 0.03 BTC.
  EXPECT_EQ(Balance("acct-1", "BTC"),
            "{\"asset\":\"BTC\",\"free\":\"9.97000000\",\"locked\":\"0.03000000\"}");
}

TEST_F(TradingTest, MarketOrderFillsWithCommissionAndBalancesMoveExactly) {
  ASSERT_EQ(Limit("SELL", "65000", "0.01").status, 200);
  auto m = Call("POST", "/api/v3/order",
                "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01&timestamp=1&signature=x",
                "acct-2");
  ASSERT_EQ(m.status, 200) << m.body;
  EXPECT_NE(m.body.find("\"status\":\"FILLED\""), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("\"cummulativeQuoteQty\":\"650.00000000\""), std::string::npos);
  EXPECT_NE(m.body.find("\"fills\":[{\"price\":\"65000.00000000\",\"qty\":\"0.01000000\","
                        "\"commission\":\"0.00001000\",\"commissionAsset\":\"BTC\",\"tradeId\":"),
            std::string::npos)
      << m.body;
  // Buyer: +0.01 BTC - 0.00001 commission, -650 USDT. Seller: -0.01 BTC, +650 - 0.65 USDT.
  EXPECT_EQ(Balance("acct-2", "BTC"),
            "{\"asset\":\"BTC\",\"free\":\"10.00999000\",\"locked\":\"0.00000000\"}");
  EXPECT_EQ(Balance("acct-2", "USDT"),
            "{\"asset\":\"USDT\",\"free\":\"999350.00000000\",\"locked\":\"0.00000000\"}");
  EXPECT_EQ(Balance("acct-1", "BTC"),
            "{\"asset\":\"BTC\",\"free\":\"9.99000000\",\"locked\":\"0.00000000\"}");
  EXPECT_EQ(Balance("acct-1", "USDT"),
            "{\"asset\":\"USDT\",\"free\":\"1000649.35000000\",\"locked\":\"0.00000000\"}");
  auto account = Call("GET", "/api/v3/account", "timestamp=1", "acct-2");
  EXPECT_TRUE(account.body.starts_with("{\"makerCommission\":10,\"takerCommission\":10,"))
      << account.body;
  EXPECT_NE(account.body.find("{\"asset\":\"ETH\",\"free\":\"0.00000000\""), std::string::npos);
  auto omit = Call("GET", "/api/v3/account", "omitZeroBalances=true", "acct-2");
  EXPECT_EQ(omit.body.find("ETH"), std::string::npos) << omit.body;
  // An account the engine does not know: empty balances, not an error.
  auto fresh = Call("GET", "/api/v3/account", "", "acct-77");
  ASSERT_EQ(fresh.status, 200) << fresh.body;
  EXPECT_NE(fresh.body.find("{\"asset\":\"BTC\",\"free\":\"0.00000000\",\"locked\":\"0.00000000\"}"),
            std::string::npos);

  auto trades = Call("GET", "/api/v3/myTrades", "symbol=BTCUSDT", "acct-2");
  ASSERT_EQ(trades.status, 200) << trades.body;
  EXPECT_NE(trades.body.find("\"price\":\"65000.00000000\",\"qty\":\"0.01000000\",\"quoteQty\":"
                             "\"650.00000000\",\"commission\":\"0.00001000\",\"commissionAsset\":"
                             "\"BTC\""),
            std::string::npos)
      << trades.body;
  EXPECT_NE(trades.body.find("\"isBuyer\":true,\"isMaker\":false,\"isBestMatch\":true"),
            std::string::npos);
  auto maker = Call("GET", "/api/v3/myTrades", "symbol=BTCUSDT", "acct-1");
  EXPECT_NE(maker.body.find("\"commission\":\"0.65000000\",\"commissionAsset\":\"USDT\""),
            std::string::npos)
      << maker.body;
  EXPECT_NE(maker.body.find("\"isBuyer\":false,\"isMaker\":true"), std::string::npos);
  EXPECT_EQ(Call("GET", "/api/v3/myTrades", "symbol=BTCUSDT&fromId=999999", "acct-1").body, "[]");
  EXPECT_EQ(Call("GET", "/api/v3/myTrades", "symbol=BTCUSDT&startTime=0&endTime=86400001").body,
            "{\"code\":-1127,\"msg\":\"More than 24 hours between startTime and endTime.\"}");

  // The filled order is no longer in the engine: GET order and allOrders use the history.
  const std::string id = Field(m.body, "orderId");
  auto get = Call("GET", "/api/v3/order", "symbol=BTCUSDT&orderId=" + id, "acct-2");
  ASSERT_EQ(get.status, 200) << get.body;
  EXPECT_NE(get.body.find("\"status\":\"FILLED\""), std::string::npos) << get.body;
  auto all = Call("GET", "/api/v3/allOrders", "symbol=BTCUSDT", "acct-2");
  ASSERT_EQ(all.status, 200);
  EXPECT_NE(all.body.find("\"orderId\":" + id), std::string::npos) << all.body;

  // The event stream carries the same envelopes the replies did: applying them changes nothing.
  auto stream = t::ReadEventEnvelopes(client_->nats(), 0);
  ASSERT_TRUE(stream.ok) << stream.error;
  for (const auto& e : stream.envelopes) {
    auto env = proto::Envelope::Parse(std::as_bytes(std::span(e.bytes)));
    ASSERT_TRUE(env);
    history_.Apply(*env);
  }
  EXPECT_EQ(Call("GET", "/api/v3/myTrades", "symbol=BTCUSDT", "acct-2").body, trades.body);
  EXPECT_EQ(Call("GET", "/api/v3/allOrders", "symbol=BTCUSDT", "acct-2").body, all.body);
}

TEST_F(TradingTest, CancelsAndOtherAccountsOrdersLookNonexistent) {
  auto a = Limit("SELL", "70000", "0.01", "&newClientOrderId=first");
  auto b = Limit("SELL", "70001", "0.01", "&newClientOrderId=second");
  ASSERT_EQ(a.status, 200);
  ASSERT_EQ(b.status, 200);
  const std::string id = Field(a.body, "orderId");
  // Account 2 cannot see or cancel account 1's order.
  EXPECT_EQ(Call("GET", "/api/v3/order", "symbol=BTCUSDT&orderId=" + id, "acct-2").body,
            "{\"code\":-2013,\"msg\":\"Order does not exist.\"}");
  EXPECT_EQ(Call("DELETE", "/api/v3/order", "symbol=BTCUSDT&orderId=" + id, "acct-2").body,
            "{\"code\":-2011,\"msg\":\"Unknown order sent.\"}");
  EXPECT_EQ(Call("DELETE", "/api/v3/order", "symbol=BTCUSDT&origClientOrderId=first", "acct-2")
                .body,
            "{\"code\":-2011,\"msg\":\"Unknown order sent.\"}");

  auto c1 = Call("DELETE", "/api/v3/order",
                 "symbol=BTCUSDT&orderId=" + id + "&newClientOrderId=cancel-1");
  ASSERT_EQ(c1.status, 200) << c1.body;
  EXPECT_EQ(c1.body, "{\"symbol\":\"BTCUSDT\",\"origClientOrderId\":\"first\",\"orderId\":" + id +
                         ",\"orderListId\":-1,\"clientOrderId\":\"cancel-1\",\"transactTime\":" +
                         Field(c1.body, "transactTime") +
                         ",\"price\":\"70000.00000000\",\"origQty\":\"0.01000000\","
                         "\"executedQty\":\"0.00000000\",\"origQuoteOrderQty\":\"0.00000000\","
                         "\"cummulativeQuoteQty\":\"0.00000000\",\"status\":\"CANCELED\","
                         "\"timeInForce\":\"GTC\",\"type\":\"LIMIT\",\"side\":\"SELL\","
                         "\"selfTradePreventionMode\":\"EXPIRE_MAKER\"}");
  auto c2 = Call("DELETE", "/api/v3/order", "symbol=BTCUSDT&origClientOrderId=second");
  ASSERT_EQ(c2.status, 200) << c2.body;
  EXPECT_NE(c2.body.find("\"origClientOrderId\":\"second\""), std::string::npos);
  // Cancelling again: already final.
  EXPECT_EQ(Call("DELETE", "/api/v3/order", "symbol=BTCUSDT&orderId=" + id).body,
            "{\"code\":-2011,\"msg\":\"Unknown order sent.\"}");
  // The finished order is still queryable, as CANCELED.
  auto get = Call("GET", "/api/v3/order", "symbol=BTCUSDT&orderId=" + id);
  EXPECT_NE(get.body.find("\"status\":\"CANCELED\""), std::string::npos) << get.body;

  // Cancel all: two open orders, then none.
  ASSERT_EQ(Limit("SELL", "71000", "0.01").status, 200);
  ASSERT_EQ(Limit("BUY", "60000", "0.01").status, 200);
  auto all = Call("DELETE", "/api/v3/openOrders", "symbol=BTCUSDT");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_TRUE(all.body.starts_with("[{\"symbol\":\"BTCUSDT\",\"origClientOrderId\":"));
  EXPECT_EQ(std::count(all.body.begin(), all.body.end(), '{'), 2) << all.body;
  EXPECT_EQ(Call("GET", "/api/v3/openOrders", "symbol=BTCUSDT").body, "[]");
  EXPECT_EQ(Call("DELETE", "/api/v3/openOrders", "symbol=BTCUSDT").body,
            "{\"code\":-2011,\"msg\":\"Unknown order sent.\"}");
}

TEST_F(TradingTest, CancelReplaceSuccessAndBothFailureShapes) {
  auto a = Limit("SELL", "70000", "0.01", "&newClientOrderId=old");
  ASSERT_EQ(a.status, 200);
  const std::string base =
      "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=0.02&price=70500";
  auto ok = Call("POST", "/api/v3/order/cancelReplace",
                 base + "&cancelReplaceMode=STOP_ON_FAILURE&cancelOrigClientOrderId=old"
                        "&newClientOrderId=new&newOrderRespType=RESULT");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_TRUE(ok.body.starts_with("{\"cancelResult\":\"SUCCESS\",\"newOrderResult\":\"SUCCESS\","
                                  "\"cancelResponse\":{\"symbol\":\"BTCUSDT\","
                                  "\"origClientOrderId\":\"old\""))
      << ok.body;
  EXPECT_NE(ok.body.find("\"newOrderResponse\":{\"symbol\":\"BTCUSDT\""), std::string::npos);
  EXPECT_NE(ok.body.find("\"clientOrderId\":\"new\""), std::string::npos);
  EXPECT_NE(ok.body.find("\"price\":\"70500.00000000\""), std::string::npos);

  auto stop = Call("POST", "/api/v3/order/cancelReplace",
                   base + "&cancelReplaceMode=STOP_ON_FAILURE&cancelOrigClientOrderId=old");
  EXPECT_EQ(stop.status, 400);
  EXPECT_EQ(stop.body,
            "{\"code\":-2022,\"msg\":\"Order cancel-replace failed.\",\"data\":{\"cancelResult\":"
            "\"FAILURE\",\"newOrderResult\":\"NOT_ATTEMPTED\",\"cancelResponse\":{\"code\":-2011,"
            "\"msg\":\"Unknown order sent.\"},\"newOrderResponse\":null}}");

  auto partial = Call("POST", "/api/v3/order/cancelReplace",
                      base + "&cancelReplaceMode=ALLOW_FAILURE&cancelOrigClientOrderId=old");
  EXPECT_EQ(partial.status, 409) << partial.body;
  EXPECT_TRUE(partial.body.starts_with(
      "{\"code\":-2021,\"msg\":\"Order cancel-replace partially failed.\",\"data\":{"
      "\"cancelResult\":\"FAILURE\",\"newOrderResult\":\"SUCCESS\",\"cancelResponse\":{\"code\":"
      "-2011,\"msg\":\"Unknown order sent.\"},\"newOrderResponse\":{"))
      << partial.body;
}

TEST_F(TradingTest, OcoPlaceQueryCancel) {
  auto oco = Call("POST", "/api/v3/orderList/oco",
                  "symbol=BTCUSDT&side=SELL&quantity=0.01&listClientOrderId=my-oco"
                  "&aboveType=LIMIT_MAKER&abovePrice=70000&belowType=STOP_LOSS_LIMIT"
                  "&belowStopPrice=60000&belowPrice=59990&belowTimeInForce=GTC&timestamp=1");
  ASSERT_EQ(oco.status, 200) << oco.body;
  const std::string list_id = Field(oco.body, "orderListId");
  EXPECT_NE(oco.body.find("\"contingencyType\":\"OCO\",\"listStatusType\":\"EXEC_STARTED\","
                          "\"listOrderStatus\":\"EXECUTING\",\"listClientOrderId\":\"my-oco\""),
            std::string::npos)
      << oco.body;
  EXPECT_NE(oco.body.find("\"orderReports\":[{"), std::string::npos);
  EXPECT_NE(oco.body.find("\"type\":\"LIMIT_MAKER\""), std::string::npos);
  EXPECT_NE(oco.body.find("\"type\":\"STOP_LOSS_LIMIT\""), std::string::npos);
  EXPECT_EQ(limiter_.charged(1), 2);

  auto get = Call("GET", "/api/v3/orderList", "orderListId=" + list_id);
  ASSERT_EQ(get.status, 200) << get.body;
  EXPECT_NE(get.body.find("\"listClientOrderId\":\"my-oco\""), std::string::npos);
  auto by_cid = Call("GET", "/api/v3/orderList", "origClientOrderId=my-oco");
  EXPECT_EQ(by_cid.body, get.body);
  EXPECT_EQ(Call("GET", "/api/v3/orderList", "orderListId=" + list_id, "acct-2").body,
            "{\"code\":-2013,\"msg\":\"Order list does not exist.\"}");
  auto open = Call("GET", "/api/v3/openOrderList", "");
  EXPECT_NE(open.body.find("\"orderListId\":" + list_id), std::string::npos) << open.body;
  auto all = Call("GET", "/api/v3/allOrderList", "limit=10");
  EXPECT_NE(all.body.find("\"orderListId\":" + list_id), std::string::npos);

  auto del = Call("DELETE", "/api/v3/orderList", "symbol=BTCUSDT&orderListId=" + list_id);
  ASSERT_EQ(del.status, 200) << del.body;
  EXPECT_NE(del.body.find("\"listStatusType\":\"ALL_DONE\",\"listOrderStatus\":\"ALL_DONE\""),
            std::string::npos)
      << del.body;
  EXPECT_NE(del.body.find("\"status\":\"CANCELED\""), std::string::npos);
  EXPECT_EQ(Call("GET", "/api/v3/openOrderList", "").body, "[]");
  EXPECT_EQ(Call("GET", "/api/v3/openOrders", "symbol=BTCUSDT").body, "[]");
}

TEST_F(TradingTest, BinanceErrorsForBadRequests) {
  struct Case {
    const char* method;
    const char* path;
    const char* params;
    int status;
    const char* body;
  } cases[] = {
      {"POST", "/api/v3/order",
       "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=60000&bogus=1",
       400,
       "{\"code\":-1104,\"msg\":\"Not all sent parameters were read; read '6' parameter(s) but "
       "was sent '7'.\"}"},
      {"POST", "/api/v3/order", "side=BUY&type=LIMIT", 400,
       "{\"code\":-1102,\"msg\":\"Mandatory parameter 'symbol' was not sent, was empty/null, or "
       "malformed.\"}"},
      {"POST", "/api/v3/order",
       "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=abc&price=60000", 400,
       "{\"code\":-1100,\"msg\":\"Illegal characters found in parameter 'quantity'; legal range "
       "is '^([0-9]{1,20})(\\\\.[0-9]{1,20})?$'.\"}"},
      {"POST", "/api/v3/order",
       "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.000000001&price=60000",
       400, "{\"code\":-1111,\"msg\":\"Parameter 'quantity' has too much precision.\"}"},
      {"POST", "/api/v3/order",
       "symbol=NOPE&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=1", 400,
       "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}"},
      {"POST", "/api/v3/order",
       "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=60000.000000001",
       400, "{\"code\":-1111,\"msg\":\"Parameter 'price' has too much precision.\"}"},
      {"POST", "/api/v3/order",
       "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=60000.001", 400,
       "{\"code\":-1013,\"msg\":\"Filter failure: PRICE_FILTER\"}"},
      {"POST", "/api/v3/order",
       "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.000011&price=60000", 400,
       "{\"code\":-1013,\"msg\":\"Filter failure: LOT_SIZE\"}"},
      {"POST", "/api/v3/order",
       "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.00001&price=100", 400,
       "{\"code\":-1013,\"msg\":\"Filter failure: NOTIONAL\"}"},
      {"POST", "/api/v3/order",
       "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=100&price=60000", 400,
       "{\"code\":-2010,\"msg\":\"Account has insufficient balance for requested action.\"}"},
      {"GET", "/api/v3/order", "symbol=BTCUSDT", 400,
       "{\"code\":-1102,\"msg\":\"Param 'origClientOrderId' or 'orderId' must be sent, but both "
       "were empty/null!\"}"},
      {"GET", "/api/v3/order", "symbol=BTCUSDT&orderId=12345", 400,
       "{\"code\":-2013,\"msg\":\"Order does not exist.\"}"},
      {"GET", "/api/v3/openOrders", "symbol=NOPE", 400,
       "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}"},
      {"GET", "/api/v3/allOrders", "symbol=BTCUSDT&limit=1001", 400, nullptr},
  };
  for (const auto& c : cases) {
    auto r = Call(c.method, c.path, c.params);
    EXPECT_EQ(r.status, c.status) << c.path << "?" << c.params << " -> " << r.body;
    if (c.body != nullptr) {
      EXPECT_EQ(r.body, c.body) << c.params;
    } else {
      EXPECT_TRUE(r.body.starts_with("{\"code\":-1")) << r.body;
    }
  }
  // Only the insufficient-balance order passed validation and was counted.
  EXPECT_EQ(limiter_.charged(1), 1);
  // Keys: unknown, and a read-only key on a TRADE endpoint.
  EXPECT_EQ(Call("GET", "/api/v3/account", "", "nobody").status, 401);
  EXPECT_EQ(Call("DELETE", "/api/v3/openOrders", "symbol=BTCUSDT", "ro-1").body,
            "{\"code\":-2015,\"msg\":\"Invalid API-key, IP, or permissions for action.\"}");
  EXPECT_EQ(Call("GET", "/api/v3/openOrders", "symbol=BTCUSDT", "ro-1").status, 200);
}

TEST_F(TradingTest, TestOrderNeverReachesTheEngine) {
  const std::string before = LogSeq();
  auto r = Call("POST", "/api/v3/order/test",
                "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=60000");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{}");
  auto rates = Call("POST", "/api/v3/order/test",
                    "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01&computeCommissionRates=true");
  EXPECT_TRUE(rates.body.starts_with("{\"standardCommissionForOrder\":{\"maker\":\"0.00100000\","
                                     "\"taker\":\"0.00100000\"}"))
      << rates.body;
  auto bad = Call("POST", "/api/v3/order/test",
                  "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=0.000000001");
  EXPECT_EQ(bad.body, "{\"code\":-1111,\"msg\":\"Parameter 'price' has too much precision.\"}");
  EXPECT_EQ(LogSeq(), before);
  EXPECT_EQ(limiter_.charged(1), 0);
  EXPECT_EQ(Call("GET", "/api/v3/openOrders", "symbol=BTCUSDT").body, "[]");
}

TEST_F(TradingTest, RefusedOrderCountIs429WithHeaders) {
  limiter_.Refuse(1);
  const std::string before = LogSeq();
  auto r = Limit("BUY", "60000", "0.01");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body,
            "{\"code\":-1015,\"msg\":\"Too many new orders; current limit is 1 orders per 10 "
            "SECOND.\"}");
  EXPECT_EQ(r.Header("retry-after"), "10");
  EXPECT_EQ(r.Header("x-mbx-order-count-10s"), "1");
  EXPECT_EQ(LogSeq(), before);
}

TEST_F(TradingTest, EngineDownAnswersUnknownStatusWithinTheTimeout) {
  StartApi(1500);
  engine_->Kill(SIGKILL);
  const auto start = std::chrono::steady_clock::now();
  auto r = Limit("BUY", "60000", "0.01");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body,
            "{\"code\":-1007,\"msg\":\"Timeout waiting for response from backend server. Send "
            "status unknown; execution status unknown.\"}");
  EXPECT_GE(elapsed, std::chrono::milliseconds(1400));
  auto q = Call("GET", "/api/v3/openOrders", "symbol=BTCUSDT");
  EXPECT_EQ(q.status, 500) << q.body;
}

// The engine stalls past a third of the timeout, so the gateway publishes the command again:
// with the same Nats-Msg-Id, so the stream keeps one copy and the engine applies it once.
TEST_F(TradingTest, AStallPastTheRepublishPointPlacesTheOrderOnce) {
  StartApi(6000);
  const int64_t before = std::stoll(LogSeq());
  ASSERT_EQ(::kill(engine_->pid(), SIGSTOP), 0);
  std::thread resume([pid = engine_->pid()] {
    std::this_thread::sleep_for(std::chrono::milliseconds(3000));  // after the 2 s republish
    ::kill(pid, SIGCONT);
  });
  auto r = Limit("BUY", "60000", "0.01", "&newClientOrderId=stalled-1");
  resume.join();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Field(r.body, "status"), "NEW") << r.body;
  EXPECT_EQ(std::stoll(LogSeq()), before + 1);  // one command, not two
  auto open = Call("GET", "/api/v3/openOrders", "symbol=BTCUSDT");
  ASSERT_EQ(open.status, 200);
  EXPECT_EQ(std::count(open.body.begin(), open.body.end(), '{'), 1) << open.body;
}

TEST(AccountHistoryTest, ApplyingAnEnvelopeTwiceChangesNothing) {
  // Built through the real engine types: an accepted order, filled against nothing else.
  AccountHistory h(HistoryLimits{.orders_max = 2, .trades_max = 2, .lists_max = 2});
  EXPECT_FALSE(h.FindOrder(1, 0, 5, "").has_value());
  OrderRecord o;
  o.order_id = 5;
  o.account = 1;
  o.client_order_id = "abc";
  h.Seed(o);
  h.Seed(o);
  EXPECT_EQ(h.Orders(1, 0).size(), 1u);
  EXPECT_TRUE(h.FindOrder(1, 0, 0, "abc").has_value());
  EXPECT_FALSE(h.FindOrder(2, 0, 5, "").has_value());
  EXPECT_FALSE(h.FindOrder(1, 0, 5, "other").has_value());
  // Finished orders beyond the limit are forgotten, oldest first.
  for (int64_t id = 10; id < 14; ++id) {
    OrderRecord f = o;
    f.order_id = id;
    f.status = engine::OrderStatus::kFilled;
    h.Seed(f);
  }
  EXPECT_FALSE(h.FindOrder(1, 0, 10, "").has_value());
  EXPECT_TRUE(h.FindOrder(1, 0, 13, "").has_value());
  EXPECT_TRUE(h.FindOrder(1, 0, 5, "").has_value());  // still open: kept
}

}  // namespace
}  // namespace spotex::gateway
