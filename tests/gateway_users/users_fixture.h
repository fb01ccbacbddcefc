// One real stack per test suite for the account endpoints: a PostgreSQL 15 (pg_harness) with
// the schema migrated, a nats-server and a spotex-engine (service harness) with the default
// markets, and an http::Server on a free loopback port serving UserApi and AdminApi. Tests
// share it and stay apart by using fresh emails (users.id, which is also the engine account,
// is never reused), so the expensive servers start once per suite.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "../gateway/test_client.h"
#include "auth/keys.h"
#include "auth/password.h"
#include "db/migrate.h"
#include "db/pool.h"
#include "gateway/api/ports.h"
#include "gateway/http/router.h"
#include "gateway/http/server.h"
#include "gateway/users/admin_api.h"
#include "gateway/users/engine_accounts.h"
#include "gateway/users/user_api.h"
#include "gateway/users/user_service.h"
#include "gateway/users/worker_pool.h"
#include "harness.h"
#include "pg_harness.h"
#include "service/command_client.h"

namespace spotex::gateway::users::testing {

// Sessions in memory, as the Redis store keeps them: only the token's hash is a key.
class FakeSessionStore : public SessionStore {
 public:
  std::expected<std::string, std::string> Create(int64_t user_id,
                                                 std::chrono::seconds ttl) override {
    std::string token = auth::GenerateSessionToken();
    std::lock_guard lock(mu_);
    sessions_[*auth::SessionTokenHash(token)] = user_id;
    last_ttl_ = ttl;
    return token;
  }
  std::expected<std::optional<int64_t>, std::string> Find(std::string_view token) override {
    auto hash = auth::SessionTokenHash(token);
    std::lock_guard lock(mu_);
    if (!hash || !sessions_.contains(*hash)) {
      return std::optional<int64_t>();
    }
    return std::optional<int64_t>(sessions_[*hash]);
  }
  std::expected<void, std::string> Delete(std::string_view token) override {
    auto hash = auth::SessionTokenHash(token);
    std::lock_guard lock(mu_);
    if (hash) {
      sessions_.erase(*hash);
    }
    return {};
  }
  std::chrono::seconds last_ttl() {
    std::lock_guard lock(mu_);
    return last_ttl_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, int64_t> sessions_;
  std::chrono::seconds last_ttl_{0};
};

inline constexpr int64_t kNowMs = 1'750'000'000'000;
inline constexpr const char* kAdminToken = "admin-token-for-tests-0123456789";

struct Stack {
  spotex::testing::TempDir dir;
  std::unique_ptr<spotex::testing::PgServer> pg;
  std::string dbname;
  std::unique_ptr<db::PgPool> pool;
  std::unique_ptr<spotex::testing::NatsServer> nats;
  std::unique_ptr<spotex::testing::EngineProcess> engine;
  std::unique_ptr<service::CommandClient> client;
  auth::MasterKeyring keyring;
  std::unique_ptr<auth::PasswordHasher> hasher;
  FakeSessionStore sessions;
  std::unique_ptr<WorkerPool> workers;
  std::unique_ptr<EngineAccounts> engine_accounts;
  std::unique_ptr<UserService> service;
  std::unique_ptr<UserApi> user_api;
  std::unique_ptr<AdminApi> admin_api;
  std::unique_ptr<http::Server> server;

  ~Stack() {
    // The server first (no handler runs after it), then the pool (drains its tasks), then
    // what the tasks used.
    server.reset();
    workers.reset();
  }
};

class UsersTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto s = std::make_unique<Stack>();
    std::string error = Start(*s);
    if (error.empty()) {
      stack_ = std::move(s);
    } else {
      start_error_ = error;
    }
  }
  static void TearDownTestSuite() { stack_.reset(); }

  void SetUp() override { ASSERT_NE(stack_, nullptr) << start_error_; }

  static std::string Start(Stack& s) {
    auto pg = spotex::testing::PgServer::Start();
    if (!pg) return "PostgreSQL did not start: " + pg.error();
    s.pg = std::move(*pg);
    auto name = s.pg->CreateDatabase();
    if (!name) return name.error();
    s.dbname = *name;
    auto conn = db::PgConnection::Connect(s.pg->Params(s.dbname));
    if (!conn) return conn.error().message;
    auto migrated = db::Migrate(*conn, SPOTEX_MIGRATIONS_DIR);
    if (!migrated) return migrated.error().message;
    s.pool = std::make_unique<db::PgPool>(s.pg->Params(s.dbname), 4);

    s.nats = std::make_unique<spotex::testing::NatsServer>(s.dir.path());
    if (!s.nats->ok()) return "nats-server did not start";
    s.engine = std::make_unique<spotex::testing::EngineProcess>(
        *s.nats, s.dir.path() + "/engine", s.dir.path() + "/engine.log",
        spotex::testing::EngineOptions{std::string(SPOTEX_SOURCE_DIR) + "/etc/markets.toml",
                                       200000, 300});
    s.engine->Start();
    auto client = service::CommandClient::Connect(s.nats->config(), 0);
    if (!client) return client.error().message;
    s.client = std::move(*client);
    bool ready = false;
    for (int i = 0; i < 200 && !ready; ++i) {
      auto st = s.client->Query("status", 500);
      ready = st && spotex::testing::JsonField(*st, "logSeq") == "9";
      if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!ready) return "the engine did not list its markets";

    if (!s.keyring.Add(1, auth::Secret(std::string(32, '\x5a')))) return "keyring";
    s.hasher = std::make_unique<auth::PasswordHasher>(auth::kPasswordTestOnlyMin, 2);
    s.workers = std::make_unique<WorkerPool>(4, 64);
    s.engine_accounts = std::make_unique<EngineAccounts>(*s.client, 10000);
    s.service =
        std::make_unique<UserService>(*s.pool, s.keyring, *s.hasher, *s.engine_accounts);
    s.user_api = std::make_unique<UserApi>(*s.service, s.sessions, *s.workers,
                                           [] { return kNowMs; });
    auto token = AdminToken::FromString(kAdminToken);
    if (!token) return token.error();
    s.admin_api = std::make_unique<AdminApi>(*s.service, *s.workers, *token);
    http::Router router;
    if (!s.user_api->Register(router) || !s.admin_api->Register(router)) return "routes";
    auto server = http::Server::Start(http::ServerConfig{}, std::move(router).ToHandler());
    if (!server) return server.error();
    s.server = std::move(*server);
    return {};
  }

  // One request on a fresh connection. `body` is sent as a form.
  static http::testing::ParsedResponse Call(const std::string& method, const std::string& target,
                                            const std::string& body = {},
                                            const std::string& headers = {}) {
    http::testing::TestClient client;
    EXPECT_TRUE(client.Connect(stack_->server->port()));
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: t\r\n" + headers;
    if (!body.empty()) {
      request += "Content-Type: application/x-www-form-urlencoded\r\n";
    }
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    auto response = client.RoundTrip(request);
    EXPECT_TRUE(response.has_value()) << method << " " << target;
    return response.value_or(http::testing::ParsedResponse{});
  }
  static std::string Bearer(const std::string& token) {
    return "Authorization: Bearer " + token + "\r\n";
  }
  static std::string Admin(const std::string& token = kAdminToken) {
    return "X-Spotex-Admin-Token: " + token + "\r\n";
  }

  // A fresh, unique email.
  static std::string NewEmail(const std::string& tag) {
    static std::atomic<int> n{0};
    return tag + std::to_string(++n) + "@example.com";
  }

  // Registers `email` with `password`; returns its user id (0 after a test failure).
  static int64_t RegisterUser(const std::string& email,
                              const std::string& password = "correct horse battery") {
    auto r = Call("POST", "/api/v1/users", "email=" + email + "&password=" + Encode(password));
    EXPECT_EQ(r.status, 200) << r.body;
    return std::atoll(spotex::testing::JsonField(r.body, "userId").c_str());
  }
  // Logs in; returns the token ("" after a test failure).
  static std::string LoginToken(const std::string& email,
                                const std::string& password = "correct horse battery") {
    auto r = Call("POST", "/api/v1/session", "email=" + email + "&password=" + Encode(password));
    EXPECT_EQ(r.status, 200) << r.body;
    return spotex::testing::JsonField(r.body, "token");
  }
  // Form-encodes a value.
  static std::string Encode(std::string_view v) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : v) {
      if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
        out += static_cast<char>(c);
      } else {
        out += '%';
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
    }
    return out;
  }
  static std::string Balances(int64_t account) {
    auto r = stack_->client->Query("balances " + std::to_string(account), 5000);
    return r ? *r : r.error().message;
  }

  static inline std::unique_ptr<Stack> stack_;
  static inline std::string start_error_;
};

}  // namespace spotex::gateway::users::testing
