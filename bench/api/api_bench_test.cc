// The pure parts of the API load generator: signing (checked against BINANCE_API.md §2's worked
// example and against the server's own verification), the requests it builds, the users file
// and the incremental HTTP response reader.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "auth/signature.h"
#include "http_response.h"
#include "workload.h"

namespace spotex::bench {
namespace {

constexpr std::string_view kSecret =
    "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

TEST(SignParams, BinanceWorkedExample) {
  std::string payload =
      "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&"
      "timestamp=1499827319559";
  EXPECT_EQ(
      SignParams(payload, kSecret),
      payload + "&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71");
}

TEST(FormatFixed, Decimals) {
  EXPECT_EQ(FormatFixed(3'000'000, 2), "30000.00");
  EXPECT_EQ(FormatFixed(3'000'001, 2), "30000.01");
  EXPECT_EQ(FormatFixed(20, 5), "0.00020");
  EXPECT_EQ(FormatFixed(100, 5), "0.00100");
  EXPECT_EQ(FormatFixed(7, 0), "7");
}

// Splits "METHOD target HTTP/1.1\r\nheaders\r\n\r\nbody".
struct Parsed {
  std::string method, target, headers, body;
};
Parsed Split(const std::string& msg) {
  Parsed p;
  size_t sp1 = msg.find(' ');
  size_t sp2 = msg.find(' ', sp1 + 1);
  size_t end = msg.find("\r\n\r\n");
  p.method = msg.substr(0, sp1);
  p.target = msg.substr(sp1 + 1, sp2 - sp1 - 1);
  p.headers = msg.substr(0, end);
  p.body = msg.substr(end + 4);
  return p;
}

std::vector<ApiUser> TwoUsers() {
  return {{"key-one", std::string(kSecret)}, {"key-two", "another-secret-of-the-second-user"}};
}

// Every signed request verifies with the server's own functions under its user's secret.
TEST(Workload, SignedRequestsVerifyAsTheServerChecksThem) {
  auto users = TwoUsers();
  MixOptions mix;
  mix.read_fraction = 0.5;
  mix.cancel_fraction = 0.5;
  Workload w(users, mix, 7, "127.0.0.1:1", "brun");
  int signed_count = 0;
  std::set<std::string> kinds;
  for (int i = 0; i < 400; ++i) {
    std::string msg;
    RequestTag tag = w.Next(1'700'000'000'000 + i / 10, msg);
    kinds.insert(std::string(Name(tag.kind)));
    Parsed p = Split(msg);
    const ApiUser& user = users[tag.user];
    ASSERT_NE(p.headers.find("\r\nX-MBX-APIKEY: " + user.api_key), std::string::npos) << msg;
    ASSERT_NE(p.headers.find("\r\nHost: 127.0.0.1:1"), std::string::npos);
    size_t q = p.target.find('?');
    std::string query = q == std::string::npos ? "" : p.target.substr(q + 1);
    if (tag.kind == RequestKind::kNewOrder) {
      EXPECT_EQ(p.method, "POST");
      EXPECT_EQ(p.target, "/api/v3/order");
      EXPECT_NE(p.headers.find("Content-Length: " + std::to_string(p.body.size())),
                std::string::npos);
      EXPECT_TRUE(p.body.starts_with("symbol=BTCUSDT&side="));
      EXPECT_NE(p.body.find("&type=LIMIT&timeInForce=GTC&quantity=0.00"), std::string::npos);
      EXPECT_NE(p.body.find("&recvWindow=10000&signature="), std::string::npos);
    }
    if (tag.kind == RequestKind::kDepth || tag.kind == RequestKind::kTicker ||
        tag.kind == RequestKind::kTrades) {
      EXPECT_EQ(msg.find("signature="), std::string::npos);
      continue;
    }
    auto signed_request = auth::SignedPayload(query, p.body);
    ASSERT_TRUE(signed_request.has_value()) << msg;
    EXPECT_TRUE(
        auth::VerifyHmac(user.api_secret, signed_request->payload, signed_request->signature)
            .has_value())
        << msg;
    EXPECT_FALSE(auth::VerifyHmac(users[1 - tag.user].api_secret, signed_request->payload,
                                  signed_request->signature)
                     .has_value());
    ++signed_count;
    std::string key;
    // Orders answer NEW, so later order operations find something to cancel.
    if (tag.kind == RequestKind::kNewOrder) {
      EXPECT_EQ(w.OnResponse(tag, 200, R"({"symbol":"BTCUSDT","status":"NEW"})", key),
                Outcome::kOk);
    }
    if (tag.kind == RequestKind::kCancelOrder) {
      EXPECT_EQ(p.method, "DELETE");
      EXPECT_TRUE(p.target.starts_with("/api/v3/order?symbol=BTCUSDT&origClientOrderId=brun-"));
    }
  }
  EXPECT_GT(signed_count, 100);
  EXPECT_EQ(kinds.size(), 7u);  // order, cancel, depth, trades, ticker, account, openOrders
}

// Every new order carries its own client order id, so no two POSTs are byte-identical (the
// replay cache would refuse the second), even within one millisecond.
TEST(Workload, OrdersNeverRepeatWithinAMillisecond) {
  MixOptions mix;
  mix.read_fraction = 0.0;
  mix.cancel_fraction = 0.0;
  Workload w({{"k", "s"}}, mix, 1, "h", "run1");
  std::set<std::string> bodies;
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    std::string msg;
    RequestTag tag = w.Next(1000, msg);  // the same wall-clock millisecond every time
    ASSERT_EQ(tag.kind, RequestKind::kNewOrder);
    EXPECT_TRUE(bodies.insert(msg).second);
    size_t at = msg.find("newClientOrderId=");
    std::string id = msg.substr(at + 17, msg.find('&', at) - at - 17);
    EXPECT_TRUE(id.starts_with("run1-")) << id;
    EXPECT_LE(id.size(), 36u);  // Binance's limit
    EXPECT_TRUE(ids.insert(id).second);
  }
}

TEST(Workload, OpenOrdersAreBoundedAndCancelledOldestFirst) {
  MixOptions mix;
  mix.read_fraction = 0.0;
  mix.cancel_fraction = 0.0;
  mix.open_per_user_max = 3;
  Workload w({{"k", "s"}}, mix, 1, "h", "r");
  std::string key;
  std::vector<uint64_t> placed;
  for (int i = 0; i < 3; ++i) {
    std::string msg;
    RequestTag tag = w.Next(1000, msg);
    ASSERT_EQ(tag.kind, RequestKind::kNewOrder);
    placed.push_back(tag.order_seq);
    EXPECT_EQ(w.OnResponse(tag, 200, R"({"status":"PARTIALLY_FILLED"})", key), Outcome::kOk);
  }
  EXPECT_EQ(w.TrackedOpenOrders(), 3u);
  std::string msg;
  RequestTag tag = w.Next(1000, msg);
  ASSERT_EQ(tag.kind, RequestKind::kCancelOrder);
  EXPECT_NE(msg.find("origClientOrderId=r-" + std::to_string(placed[0]) + "&"), std::string::npos);
  EXPECT_EQ(w.TrackedOpenOrders(), 2u);
  // A filled order is not tracked; a cancel that raced a fill is not an error.
  EXPECT_EQ(w.OnResponse(tag, 400, R"({"code":-2011,"msg":"Unknown order sent."})", key),
            Outcome::kCancelRaced);
  tag = w.Next(1000, msg);
  ASSERT_EQ(tag.kind, RequestKind::kNewOrder);
  EXPECT_EQ(w.OnResponse(tag, 200, R"({"status":"FILLED"})", key), Outcome::kOk);
  EXPECT_EQ(w.TrackedOpenOrders(), 2u);
  EXPECT_EQ(w.OnResponse(tag, 429, R"({"code":-1003,"msg":"Too many requests"})", key),
            Outcome::kError);
  EXPECT_EQ(key, "order:429/-1003");
}

// An openOrders answer replaces what the workload believes open: filled orders drop out,
// orders placed after the read was built stay, other runs' ids are ignored.
TEST(Workload, OpenOrdersAnswerResyncsTrackedOrders) {
  MixOptions mix;
  mix.read_fraction = 0.0;
  mix.cancel_fraction = 0.0;
  mix.open_per_user_max = 3;
  Workload w({{"k", "s"}}, mix, 1, "h", "r");
  std::string key;
  std::string msg;
  std::vector<uint64_t> seqs;
  for (int i = 0; i < 3; ++i) {
    RequestTag tag = w.Next(1000, msg);
    seqs.push_back(tag.order_seq);
    w.OnResponse(tag, 200, R"({"status":"NEW"})", key);
  }
  RequestTag read{RequestKind::kOpenOrders, 0, seqs[2]};  // built before the third order
  std::string body = R"([{"symbol":"BTCUSDT","clientOrderId":"r-)" + std::to_string(seqs[1]) +
                     R"(","status":"NEW"},{"clientOrderId":"other-1"},{"clientOrderId":"r-)" +
                     std::to_string(seqs[0] + 1000) + R"("}])";
  EXPECT_EQ(w.OnResponse(read, 200, body, key), Outcome::kOk);
  EXPECT_EQ(w.TrackedOpenOrders(), 2u);  // seqs[1] from the answer, seqs[2] placed since
  RequestTag tag = w.Next(1000, msg);
  ASSERT_EQ(tag.kind, RequestKind::kNewOrder);
  w.OnResponse(tag, 200, R"({"status":"NEW"})", key);
  tag = w.Next(1000, msg);  // three open: the oldest, seqs[1], is cancelled (not seqs[0])
  ASSERT_EQ(tag.kind, RequestKind::kCancelOrder);
  EXPECT_NE(msg.find("origClientOrderId=r-" + std::to_string(seqs[1]) + "&"), std::string::npos)
      << msg;
}

TEST(Workload, PricesAndQuantitiesStayInTheirBands) {
  MixOptions mix;
  mix.read_fraction = 0.0;
  mix.cancel_fraction = 0.0;
  Workload w({{"k", "s"}}, mix, 3, "h", "r");
  for (int i = 0; i < 300; ++i) {
    std::string msg;
    w.Next(1000, msg);
    size_t at = msg.find("&price=");
    double price = std::stod(msg.substr(at + 7));
    bool buy = msg.find("side=BUY") != std::string::npos;
    EXPECT_GE(price, buy ? 29999.97 : 29999.98 - 0.001) << msg;
    EXPECT_LE(price, buy ? 30000.02 + 0.001 : 30000.03 + 0.001) << msg;
    double qty = std::stod(msg.substr(msg.find("&quantity=") + 10));
    EXPECT_GE(qty * price, 5.0);  // minNotional
    EXPECT_LE(qty, 0.001 + 1e-12);
  }
}

TEST(Workload, PublicMixIsUnsigned) {
  MixOptions mix;
  mix.public_only = true;
  Workload w({}, mix, 1, "h", "r");
  for (int i = 0; i < 30; ++i) {
    std::string msg;
    RequestTag tag = w.Next(1000, msg);
    EXPECT_TRUE(tag.kind == RequestKind::kDepth || tag.kind == RequestKind::kTicker ||
                tag.kind == RequestKind::kTime);
    EXPECT_TRUE(msg.starts_with("GET /api/v3/")) << msg;
    EXPECT_EQ(msg.find("signature"), std::string::npos);
    EXPECT_EQ(msg.find("X-MBX-APIKEY"), std::string::npos);
  }
}

TEST(ParseUsersJson, DemoUsersFormat) {
  auto users = ParseUsersJson(R"([
    {"email":"a@x","password":"p\"w","apiKey":"K1","apiSecret":"S1","userId":7},
    {"apiSecret":"S2","apiKey":"K2","extra":{"nested":[1,2,{"a":null}]},"ok":true}
  ])");
  ASSERT_TRUE(users.has_value()) << users.error();
  ASSERT_EQ(users->size(), 2u);
  EXPECT_EQ((*users)[0].api_key, "K1");
  EXPECT_EQ((*users)[0].api_secret, "S1");
  EXPECT_EQ((*users)[1].api_key, "K2");
  EXPECT_EQ((*users)[1].api_secret, "S2");
}

TEST(ParseUsersJson, Refusals) {
  EXPECT_FALSE(ParseUsersJson("").has_value());
  EXPECT_FALSE(ParseUsersJson("[]").has_value());
  EXPECT_FALSE(ParseUsersJson(R"({"apiKey":"K","apiSecret":"S"})").has_value());
  EXPECT_FALSE(ParseUsersJson(R"([{"apiKey":"K"}])").has_value());
  EXPECT_FALSE(ParseUsersJson(R"([{"apiKey":"K","apiSecret":"S"}] x)").has_value());
  EXPECT_FALSE(ParseUsersJson(R"([{"apiKey":"K","apiSecret":"S")").has_value());
  EXPECT_FALSE(ParseUsersJson(R"([{"apiKey":1,"apiSecret":"S"}])").has_value());
}

TEST(HttpResponseReader, ContentLengthInPieces) {
  HttpResponseReader r;
  std::string msg =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n"
      "{\"a\":1}";
  for (size_t i = 0; i + 1 < msg.size(); ++i) {
    ASSERT_EQ(r.Feed(msg.substr(i, 1)), HttpResponseReader::State::kNeedMore) << i;
  }
  ASSERT_EQ(r.Feed(msg.substr(msg.size() - 1)), HttpResponseReader::State::kComplete);
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.body(), "{\"a\":1}");
  EXPECT_TRUE(r.keep_alive());
  EXPECT_EQ(r.Next(), HttpResponseReader::State::kNeedMore);
  EXPECT_FALSE(r.Partial());
}

TEST(HttpResponseReader, ChunkedAndBackToBack) {
  HttpResponseReader r;
  std::string two =
      "HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
      "5\r\n{\"cod\r\n6;x=y\r\ne\":-1}\r\n0\r\nTrailer: t\r\n\r\n"
      "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(r.Feed(two), HttpResponseReader::State::kComplete);
  EXPECT_EQ(r.status(), 400);
  EXPECT_EQ(r.body(), "{\"code\":-1}");
  ASSERT_EQ(r.Next(), HttpResponseReader::State::kComplete);
  EXPECT_EQ(r.status(), 204);
  EXPECT_EQ(r.body(), "");
  EXPECT_FALSE(r.keep_alive());
}

TEST(HttpResponseReader, Http10ClosesAndErrorsStick) {
  HttpResponseReader r;
  ASSERT_EQ(r.Feed("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"),
            HttpResponseReader::State::kComplete);
  EXPECT_FALSE(r.keep_alive());
  r.Reset();
  EXPECT_EQ(r.Feed("HTTP/1.1 200 OK\r\n\r\n"), HttpResponseReader::State::kError);  // no length
  EXPECT_EQ(r.Feed("more"), HttpResponseReader::State::kError);
  r.Reset();
  EXPECT_EQ(r.Feed("SMTP ready\r\n\r\n"), HttpResponseReader::State::kError);
  r.Reset();
  EXPECT_EQ(r.Feed("HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n"),
            HttpResponseReader::State::kError);
  r.Reset();
  EXPECT_EQ(r.Feed(std::string(HttpResponseReader::kHeaderBytesMax + 10, 'a')),
            HttpResponseReader::State::kError);
}

}  // namespace
}  // namespace spotex::bench
