// Shared set-up of the gateway authentication tests: a migrated database in a real PostgreSQL
// (tests/db harness), users and keys created the way the key-creation code must create them
// (secret sealed with context = api_key), and requests built byte for byte as ccxt and
// @binance/spot send them (BINANCE_API.md §2, §11.2). Clocks are fake and moved by hand.
#pragma once

#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "auth/keys.h"
#include "auth/replay_cache.h"
#include "auth/signature.h"
#include "db/migrate.h"
#include "db/pool.h"
#include "db/user_store.h"
#include "db_fixture.h"
#include "gateway/auth/authenticator.h"
#include "gateway/auth/key_directory.h"
#include "gateway/http/message.h"
#include "gateway/http/params.h"

namespace spotex::testing {

// Web sessions in a map; can be made unreachable. Counts lookups.
class FakeSessionStore final : public gateway::SessionStore {
 public:
  std::expected<std::string, std::string> Create(int64_t user_id, std::chrono::seconds) override {
    std::lock_guard lock(mu_);
    std::string token = auth::GenerateSessionToken();
    sessions_[token] = user_id;
    return token;
  }
  std::expected<std::optional<int64_t>, std::string> Find(std::string_view token) override {
    std::lock_guard lock(mu_);
    ++find_calls_;
    if (down_) return std::unexpected(std::string("store down"));
    auto it = sessions_.find(std::string(token));
    if (it == sessions_.end()) return std::optional<int64_t>();
    return std::optional<int64_t>(it->second);
  }
  std::expected<void, std::string> Delete(std::string_view token) override {
    std::lock_guard lock(mu_);
    sessions_.erase(std::string(token));
    return {};
  }
  void SetDown(bool down) {
    std::lock_guard lock(mu_);
    down_ = down;
  }
  int find_calls() {
    std::lock_guard lock(mu_);
    return find_calls_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, int64_t> sessions_;
  bool down_ = false;
  int find_calls_ = 0;
};

// A replay cache that cannot answer (Redis down).
class UnavailableReplayCache final : public auth::ReplayCache {
 public:
  auth::ReplayVerdict FirstSeen(std::string_view, int64_t) override {
    return auth::ReplayVerdict::kUnavailable;
  }
};

// Percent-encodes what a base64 signature may hold, as both clients do.
inline std::string PercentEncodeBase64(std::string_view b64) {
  std::string out;
  for (char c : b64) {
    if (c == '+') {
      out += "%2B";
    } else if (c == '/') {
      out += "%2F";
    } else if (c == '=') {
      out += "%3D";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

struct TestKey {
  std::string api_key;
  int64_t key_id = 0;
  int64_t user_id = 0;
  bool ed25519 = false;
  std::string hmac_secret;  // kHmac
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> ed25519_secret{};  // kEd25519

  // The `signature` value as sent (hex for HMAC; base64 then percent-encoded for Ed25519).
  std::string Sign(std::string_view payload) const {
    if (!ed25519) return auth::ComputeHmacHex(hmac_secret, payload);
    std::array<unsigned char, crypto_sign_BYTES> sig{};
    crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(payload.data()),
                         payload.size(), ed25519_secret.data());
    std::array<char, sodium_base64_ENCODED_LEN(crypto_sign_BYTES,
                                               sodium_base64_VARIANT_ORIGINAL)>
        b64{};
    sodium_bin2base64(b64.data(), b64.size(), sig.data(), sig.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    return PercentEncodeBase64(b64.data());
  }
};

class GatewayAuthTest : public DbTest {
 protected:
  static constexpr int64_t kStartUs = 1'700'000'000'000'000;  // 2023-11-14, wall clock
  static constexpr const char* kClientIp = "127.0.0.1";

  void SetUp() override {
    DbTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_EQ(sodium_init() >= 0, true);
    auto conn = Connect();
    ASSERT_TRUE(conn);
    conn_.emplace(std::move(*conn));
    auto migrated = db::Migrate(*conn_, SPOTEX_MIGRATIONS_DIR);
    ASSERT_TRUE(migrated) << migrated.error().message;
    store_.emplace(*conn_);

    std::string master(auth::kMasterKeyBytes, '\0');
    randombytes_buf(master.data(), master.size());
    ASSERT_TRUE(keyring_.Add(1, auth::Secret(master)));

    pool_ = std::make_unique<db::PgPool>(Params(), 2, std::chrono::milliseconds(2000));
    pg_keys_ = std::make_unique<gateway::PgKeyDirectory>(*pool_, keyring_);
    keys_ = std::make_unique<gateway::CachingKeyDirectory>(*pg_keys_, gateway::KeyCacheOptions{},
                                                          [this] { return steady_ms_.load(); });
    replays_ = std::make_unique<auth::InMemoryReplayCache>(
        1000, [this] { return now_us_.load() / 1000; });
    authenticator_ = MakeAuthenticator({});
  }

  std::unique_ptr<gateway::Authenticator> MakeAuthenticator(gateway::AuthenticatorOptions options,
                                                            gateway::KeyDirectory* keys = nullptr,
                                                            auth::ReplayCache* replays = nullptr) {
    return std::make_unique<gateway::Authenticator>(
        keys != nullptr ? *keys : *keys_, replays != nullptr ? *replays : *replays_, &sessions_,
        [this] { return now_us_.load(); }, options);
  }

  int64_t NewUser(const std::string& email) {
    auto id = store_->CreateUser(email, "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA");
    EXPECT_TRUE(id) << id.error().message;
    return id.value_or(-1);
  }

  // A key made as src/gateway/users must make it: EncryptSecret(..., context = api_key).
  TestKey NewHmacKey(int64_t user_id, uint32_t permissions = db::kPermissionsAll,
                     std::optional<std::vector<std::string>> allow = std::nullopt) {
    TestKey key;
    key.api_key = auth::GenerateApiKeyId();
    key.user_id = user_id;
    auth::Secret secret = auth::GenerateHmacSecret();
    key.hmac_secret = std::string(secret.view());
    auto sealed = auth::EncryptSecret(keyring_, secret.view(), key.api_key);
    EXPECT_TRUE(sealed.has_value());
    db::NewApiKey row;
    row.user_id = user_id;
    row.kind = db::ApiKeyKind::kHmac;
    row.api_key = key.api_key;
    row.secret_ciphertext = sealed.value_or("");
    row.permissions = permissions;
    row.ip_allowlist = std::move(allow);
    auto id = store_->CreateApiKey(row);
    EXPECT_TRUE(id) << id.error().message;
    key.key_id = id.value_or(-1);
    return key;
  }

  TestKey NewEd25519Key(int64_t user_id, uint32_t permissions = db::kPermissionsAll) {
    TestKey key;
    key.api_key = auth::GenerateApiKeyId();
    key.user_id = user_id;
    key.ed25519 = true;
    std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> pk{};
    crypto_sign_keypair(pk.data(), key.ed25519_secret.data());
    db::NewApiKey row;
    row.user_id = user_id;
    row.kind = db::ApiKeyKind::kEd25519;
    row.api_key = key.api_key;
    row.public_key = std::string(reinterpret_cast<const char*>(pk.data()), pk.size());
    row.permissions = permissions;
    auto id = store_->CreateApiKey(row);
    EXPECT_TRUE(id) << id.error().message;
    key.key_id = id.value_or(-1);
    return key;
  }

  std::string Now() const { return std::to_string(now_us_.load() / 1000); }

  static http::Request MakeRequest(http::Method method, std::string target, std::string body,
                                   http::HeaderList headers, std::string client_ip = kClientIp) {
    std::string name(http::MethodName(method));
    return http::Request(method, std::move(name), std::move(target), std::move(headers),
                         std::move(body), client_ip, std::move(client_ip));
  }

  // ccxt GET/DELETE (and @binance/spot GET/DELETE/POST): everything in the query, signature
  // last, empty body. POST from @binance/spot carries Content-Type: application/json.
  static http::Request QuerySigned(http::Method method, const TestKey& key, std::string params,
                                   std::string client_ip = kClientIp) {
    std::string target = "/api/v3/order?" + params + "&signature=" + key.Sign(params);
    http::HeaderList headers{{"X-MBX-APIKEY", key.api_key}};
    if (method == http::Method::kPost) headers.emplace_back("Content-Type", "application/json");
    return MakeRequest(method, std::move(target), "", std::move(headers), std::move(client_ip));
  }

  // ccxt POST: form body with signature last, empty query.
  static http::Request BodySigned(const TestKey& key, std::string params,
                                  std::string client_ip = kClientIp) {
    std::string body = params + "&signature=" + key.Sign(params);
    return MakeRequest(http::Method::kPost, "/api/v3/order", std::move(body),
                       {{"X-MBX-APIKEY", key.api_key},
                        {"Content-Type", "application/x-www-form-urlencoded"}},
                       std::move(client_ip));
  }

  // A web UI request: `Authorization: Bearer <token>`, no API key.
  static http::Request SessionRequest(http::Method method, std::string target,
                                      const std::string& token) {
    return MakeRequest(method, std::move(target), "", {{"Authorization", "Bearer " + token}});
  }

  // Parses and authenticates like the gateway's pipeline does.
  std::expected<gateway::Caller, http::Error> Run(
      const http::Request& request, auth::SecurityType security = auth::SecurityType::kTrade,
      gateway::Authenticator* authenticator = nullptr) {
    auto params = http::Params::FromRequest(request);
    EXPECT_TRUE(params.has_value()) << params.error().msg;
    if (!params) return std::unexpected(params.error());
    last_params_.emplace(std::move(*params));
    return (authenticator != nullptr ? *authenticator : *authenticator_)
        .Authenticate(request, *last_params_, security);
  }

  std::optional<db::PgConnection> conn_;
  std::optional<db::UserStore> store_;
  auth::MasterKeyring keyring_;
  std::unique_ptr<db::PgPool> pool_;
  std::unique_ptr<gateway::PgKeyDirectory> pg_keys_;
  std::unique_ptr<gateway::CachingKeyDirectory> keys_;
  std::unique_ptr<auth::InMemoryReplayCache> replays_;
  FakeSessionStore sessions_;
  std::unique_ptr<gateway::Authenticator> authenticator_;
  std::atomic<int64_t> now_us_{kStartUs};
  std::atomic<int64_t> steady_ms_{1'000'000};
  std::optional<http::Params> last_params_;
};

// gtest-readable comparison of an error with an expected Binance code and message.
#define EXPECT_AUTH_ERROR(result, expected_error)                                   \
  do {                                                                               \
    auto&& r_ = (result);                                                            \
    ASSERT_FALSE(r_.has_value()) << "accepted, expected " << (expected_error).code; \
    EXPECT_EQ(r_.error().code, (expected_error).code) << r_.error().msg;             \
    EXPECT_EQ(r_.error().msg, (expected_error).msg);                                 \
    EXPECT_EQ(r_.error().http_status, (expected_error).http_status);                 \
  } while (0)

}  // namespace spotex::testing
