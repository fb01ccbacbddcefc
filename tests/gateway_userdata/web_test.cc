// The gateway's web screen backend (src/gateway/web) over a real loopback http::Server: the
// static files with their security and cache headers, HEAD, what is never served (dotfiles,
// links, traversal), 404 without a web root; GET /api/v1/web/config; and the session user
// stream at /api/v1/web/userStream: cookie + same-origin Origin required, the account's
// events as a listenKey stream has them, closed when the session ends.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "../gateway/test_client.h"
#include "auth/keys.h"
#include "gateway/http/router.h"
#include "gateway/http/server.h"
#include "gateway/userdata/user_stream_hub.h"
#include "gateway/web/static_site.h"
#include "gateway/web/web_api.h"

namespace spotex::gateway::web {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

class MapSessions final : public SessionStore {
 public:
  std::expected<std::string, std::string> Create(int64_t user, std::chrono::seconds) override {
    std::lock_guard lock(mu_);
    std::string token = auth::GenerateSessionToken();
    map_[token] = user;
    return token;
  }
  std::expected<std::optional<int64_t>, std::string> Find(std::string_view token) override {
    std::lock_guard lock(mu_);
    auto it = map_.find(std::string(token));
    if (it == map_.end()) return std::optional<int64_t>();
    return std::optional<int64_t>(it->second);
  }
  std::expected<void, std::string> Delete(std::string_view token) override {
    std::lock_guard lock(mu_);
    map_.erase(std::string(token));
    return {};
  }

 private:
  std::mutex mu_;
  std::map<std::string, int64_t> map_;
};

void Write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

constexpr int64_t kUser = 7;

class WebTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("spotex-web-test-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    Write(root_ / "index.html", "<!doctype html><title>Spotex</title>");
    Write(root_ / "assets" / "index-3f2a.js", "console.log(1)");
    Write(root_ / "assets" / "index-3f2a.css", "body{}");
    Write(root_ / "favicon.svg", "<svg/>");
    Write(root_ / ".env", "SECRET=1");
    Write(root_ / "assets" / ".hidden.js", "x");
    Write(root_ / "notes.exe", "MZ");
    Write(fs::temp_directory_path() / ("spotex-web-outside-" + std::to_string(::getpid())),
          "outside");
    fs::create_symlink(
        fs::temp_directory_path() / ("spotex-web-outside-" + std::to_string(::getpid())),
        root_ / "link.txt");
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(root_);
    fs::remove(fs::temp_directory_path() / ("spotex-web-outside-" + std::to_string(::getpid())));
  }

  void Start(bool with_site) {
    http::Router router;
    if (with_site) {
      auto site = StaticSite::Load(root_.string());
      ASSERT_TRUE(site.has_value()) << site.error();
      ASSERT_TRUE(StaticSite::Register(*site, router));
    }
    ASSERT_TRUE(api_.Register(router));
    http::ServerConfig config;
    config.linger_timeout = 100ms;
    config.websocket.paths = {std::string(kUserStreamPath)};
    auto started = http::Server::Start(
        config, std::move(router).ToHandler(),
        [this](const http::WsRequest& request, const std::shared_ptr<http::WsConnection>& ws)
            -> std::expected<http::WsHandlers, http::Response> {
          if (auto r = api_.Accept(request, ws)) return std::move(*r);
          return std::unexpected(http::Response::Json(404, "{}"));
        });
    ASSERT_TRUE(started.has_value()) << (started ? "" : started.error());
    server_ = std::move(*started);
  }

  http::testing::ParsedResponse Get(const std::string& target, const std::string& method = "GET",
                                    const std::string& headers = {}) {
    http::testing::TestClient client;
    EXPECT_TRUE(client.Connect(server_->port()));
    EXPECT_TRUE(client.Send(method + " " + target + " HTTP/1.1\r\nHost: t\r\n" + headers + "\r\n"));
    auto r = client.ReadResponse(http::testing::TestClient::kDefaultDeadline, method == "HEAD");
    EXPECT_TRUE(r.has_value()) << target;
    return r.value_or(http::testing::ParsedResponse{});
  }
  // A refused upgrade of the user stream: the HTTP answer.
  http::testing::ParsedResponse Upgrade(const std::string& origin, const std::string& cookie) {
    std::string headers =
        "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    if (!origin.empty()) headers += "Origin: " + origin + "\r\n";
    if (!cookie.empty()) headers += "Cookie: " + cookie + "\r\n";
    return Get(std::string(kUserStreamPath), "GET", headers);
  }

  // A WebSocket handshake on the user stream; the HTTP status of the answer (101 when upgraded).
  struct Ws {
    asio::io_context io;
    websocket::stream<tcp::socket> ws{io};
    beast::flat_buffer buffer;
    int status = 0;
  };
  std::unique_ptr<Ws> Open(const std::string& origin, const std::string& cookie) {
    auto c = std::make_unique<Ws>();
    beast::error_code ec;
    c->ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()),
                               ec);
    EXPECT_FALSE(ec);
    c->ws.set_option(
        websocket::stream_base::decorator([origin, cookie](websocket::request_type& r) {
          if (!origin.empty()) r.set(beast::http::field::origin, origin);
          if (!cookie.empty()) r.set(beast::http::field::cookie, cookie);
        }));
    websocket::response_type response;
    c->ws.handshake(response, "127.0.0.1:" + std::to_string(server_->port()),
                    std::string(kUserStreamPath), ec);
    c->status = static_cast<int>(response.result_int());
    return c;
  }
  std::string Origin() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

  fs::path root_;
  MapSessions sessions_;
  userdata::UserStreamHub hub_;
  WebApi api_{sessions_, hub_, WebApiOptions{{"BTCUSDT", "ETHBTC"}}};
  std::unique_ptr<http::Server> server_;
};

TEST_F(WebTest, ServesTheScreenWithItsHeaders) {
  Start(true);
  for (const std::string path : {"/", "/index.html"}) {
    auto r = Get(path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, "<!doctype html><title>Spotex</title>");
    EXPECT_EQ(r.Header("content-type"), "text/html; charset=utf-8");
    EXPECT_EQ(r.Header("cache-control"), "no-cache");
    EXPECT_EQ(r.Header("content-security-policy"), kContentSecurityPolicy);
    EXPECT_NE(r.Header("content-security-policy").find("frame-ancestors 'none'"),
              std::string::npos);
    EXPECT_EQ(r.Header("x-content-type-options"), "nosniff");
    EXPECT_EQ(r.Header("referrer-policy"), "no-referrer");
    EXPECT_EQ(r.Header("x-frame-options"), "DENY");
  }
  auto js = Get("/assets/index-3f2a.js?v=1");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.Header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js.Header("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(js.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(Get("/assets/index-3f2a.css").Header("content-type"), "text/css; charset=utf-8");
  auto icon = Get("/favicon.svg");
  EXPECT_EQ(icon.Header("content-type"), "image/svg+xml");
  EXPECT_EQ(icon.Header("cache-control"), "no-cache");
  // HEAD: the GET headers, no body.
  auto head = Get("/assets/index-3f2a.js", "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("content-length"), "14");
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.Header("content-security-policy"), kContentSecurityPolicy);
  // The API's 404 keeps Binance's shape.
  auto api = Get("/api/v3/nothing");
  EXPECT_EQ(api.status, 404);
  EXPECT_EQ(api.body, "{\"code\":-1020,\"msg\":\"This operation is not supported.\"}");
  EXPECT_EQ(StaticSite::ContentType("a.woff2"), "font/woff2");
  EXPECT_EQ(StaticSite::ContentType("a.js.map"), "application/json");
  EXPECT_EQ(StaticSite::ContentType("a.png"), "image/png");
  EXPECT_EQ(StaticSite::ContentType("favicon.ico"), "image/x-icon");
}

TEST_F(WebTest, NeverServesDotfilesLinksOrTraversal) {
  Start(true);
  for (const std::string path :
       {"/.env", "/assets/.hidden.js", "/notes.exe", "/link.txt", "/assets/../index.html",
        "/assets/%2e%2e/index.html", "/..%2fspotex-web-outside", "//index.html",
        "/assets/index-3f2a.js/", "/ASSETS/index-3f2a.js"}) {
    auto r = Get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.body, "{\"code\":-1020,\"msg\":\"This operation is not supported.\"}") << path;
  }
}

TEST_F(WebTest, WithoutAWebRootNothingIsServed) {
  Start(false);
  auto r = Get("/");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "{\"code\":-1020,\"msg\":\"This operation is not supported.\"}");
  EXPECT_EQ(Get("/index.html").status, 404);
}

TEST_F(WebTest, LoadLimitsAndMissingIndex) {
  EXPECT_FALSE(StaticSite::Load((root_ / "assets").string()).has_value());  // no index.html
  EXPECT_FALSE(StaticSite::Load((root_ / "missing").string()).has_value());
  StaticSiteLimits small;
  small.max_total_bytes = 40;
  EXPECT_FALSE(StaticSite::Load(root_.string(), small).has_value());
  StaticSiteLimits few;
  few.max_files = 2;
  EXPECT_FALSE(StaticSite::Load(root_.string(), few).has_value());
  auto ok = StaticSite::Load(root_.string());
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ((*ok)->files(), 4u);  // index.html, two assets, favicon.svg
}

TEST_F(WebTest, ConfigListsTheDemoSymbols) {
  Start(false);
  auto r = Get("/api/v1/web/config");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"demoSymbols\":[\"BTCUSDT\",\"ETHBTC\"]}");
  EXPECT_EQ(ParseDemoSymbols("")->size(), 0u);
  EXPECT_EQ(ParseDemoSymbols("BTCUSDT,ETHUSDT,ETHBTC")->size(), 3u);
  EXPECT_FALSE(ParseDemoSymbols("btcusdt").has_value());
  EXPECT_FALSE(ParseDemoSymbols("BTCUSDT,,ETHBTC").has_value());
  EXPECT_FALSE(ParseDemoSymbols("BTCUSDT,BTCUSDT").has_value());
  EXPECT_FALSE(ParseDemoSymbols("A\"B").has_value());
}

TEST_F(WebTest, SessionUserStreamDeliversTheAccountsEvents) {
  Start(false);
  auto token = sessions_.Create(kUser, 3600s);
  ASSERT_TRUE(token);
  auto c = Open(Origin(), "spotex_session=" + *token);
  ASSERT_EQ(c->status, 101);
  for (int i = 0; i < 500 && hub_.subscribers(kUser) == 0; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(hub_.subscribers(kUser), 1u);
  // What the event feed publishes after an order: the same payloads a listenKey stream gets,
  // unwrapped.
  const std::string report =
      "{\"e\":\"executionReport\",\"E\":1,\"s\":\"BTCUSDT\",\"c\":\"web1\",\"S\":\"BUY\","
      "\"o\":\"LIMIT\",\"x\":\"NEW\",\"X\":\"NEW\",\"i\":12}";
  hub_.Publish(kUser + 1, {"{\"e\":\"balanceUpdate\",\"other\":true}"});
  hub_.Publish(kUser, {report});
  beast::error_code ec;
  c->ws.read(c->buffer, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(beast::buffers_to_string(c->buffer.data()), report);
  // Listen-key expiry checks leave it alone; the session's end closes it.
  EXPECT_TRUE(hub_.ListenKeys().empty());
  ASSERT_TRUE(sessions_.Delete(*token));
  EXPECT_EQ(api_.ExpireStale(), 1u);
  c->buffer.consume(c->buffer.size());
  c->ws.read(c->buffer, ec);
  EXPECT_EQ(ec, websocket::error::closed) << ec.message();
  EXPECT_EQ(c->ws.reason().code, 1000);
  EXPECT_EQ(c->ws.reason().reason, "session ended");
  EXPECT_EQ(hub_.subscribers(kUser), 0u);
}

TEST_F(WebTest, SessionUserStreamRefusals) {
  Start(false);
  auto token = sessions_.Create(kUser, 3600s);
  ASSERT_TRUE(token);
  const std::string cookie = "spotex_session=" + *token;
  // The fixture's raw requests carry "Host: t".
  auto cross = Upgrade("http://evil.test", cookie);
  EXPECT_EQ(cross.status, 403);
  EXPECT_EQ(cross.body,
            "{\"code\":-1002,\"msg\":\"You are not authorized to execute this request.\"}");
  EXPECT_EQ(Upgrade("", cookie).status, 403);  // a browser always sends Origin
  EXPECT_EQ(Upgrade("http://t", "").status, 401);
  EXPECT_EQ(Upgrade("http://t", "spotex_session=" + auth::GenerateSessionToken()).status, 401);
  EXPECT_EQ(Upgrade("http://t", "spotex_session=short").status, 401);
  EXPECT_EQ(hub_.subscriptions(), 0u);
  // Logout on this replica closes it at once.
  auto c = Open(Origin(), cookie);
  ASSERT_EQ(c->status, 101);
  for (int i = 0; i < 500 && hub_.subscribers(kUser) == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(hub_.EndSession(*token), 1u);
  beast::error_code ec;
  c->ws.read(c->buffer, ec);
  EXPECT_EQ(ec, websocket::error::closed) << ec.message();
}

}  // namespace
}  // namespace spotex::gateway::web
