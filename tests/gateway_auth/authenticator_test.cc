// gateway::Authenticator against a real PostgreSQL: requests as ccxt and @binance/spot send
// them, every refusal in Binance's order, replays, the key cache and web sessions.
#include "gateway/auth/authenticator.h"

#include <gtest/gtest.h>

#include "auth/errors.h"
#include "auth_fixture.h"

namespace spotex::testing {
namespace {

namespace ae = auth::errors;
using auth::SecurityType;
using http::Method;

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// ---------------------------------------------------------------------------------------------
// Accepted requests, as each client places the signature.

TEST_F(GatewayAuthTest, CcxtGetWithHmacInQuery) {
  const int64_t user = NewUser("a@example.com");
  const TestKey key = NewHmacKey(user);
  auto caller = Run(QuerySigned(Method::kGet, key,
                                "symbol=BTCUSDT&timestamp=" + Now() + "&recvWindow=10000"),
                    SecurityType::kUserData);
  ASSERT_TRUE(caller.has_value()) << caller.error().msg;
  EXPECT_EQ(caller->account, user);
  EXPECT_EQ(caller->api_key_id, key.key_id);
  EXPECT_EQ(caller->permissions, db::kPermissionsAll);
  EXPECT_EQ(caller->client_ip, kClientIp);
  // timestamp, recvWindow and signature were read; symbol is the endpoint's to read.
  EXPECT_EQ(last_params_->read_count(), 3u);
  EXPECT_EQ(last_params_->size(), 4u);
}

TEST_F(GatewayAuthTest, CcxtPostWithFormBody) {
  const TestKey key = NewHmacKey(NewUser("a@example.com"));
  const std::string params = "timestamp=" + Now() +
                             "&symbol=BTCUSDT&side=BUY&newClientOrderId=x-R4BD3S82abc"
                             "&newOrderRespType=FULL&type=LIMIT&quantity=0.001&price=30000"
                             "&timeInForce=GTC&recvWindow=10000";
  auto caller = Run(BodySigned(key, params));
  ASSERT_TRUE(caller.has_value()) << caller.error().msg;
  EXPECT_EQ(caller->api_key_id, key.key_id);
  EXPECT_EQ(last_params_->read_count(), 3u);
}

TEST_F(GatewayAuthTest, BinanceSpotPostEverythingInQueryWithJsonContentType) {
  const TestKey key = NewHmacKey(NewUser("a@example.com"));
  const http::Request request = QuerySigned(
      Method::kPost, key,
      "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=30000&timestamp=" +
          Now());
  ASSERT_EQ(request.Header("Content-Type"), "application/json");
  ASSERT_TRUE(request.body().empty());
  auto caller = Run(request);
  ASSERT_TRUE(caller.has_value()) << caller.error().msg;
  EXPECT_EQ(last_params_->read_count(), 2u);  // no recvWindow sent
}

TEST_F(GatewayAuthTest, Ed25519FromBothClients) {
  const int64_t user = NewUser("a@example.com");
  const TestKey key = NewEd25519Key(user);
  auto get = Run(QuerySigned(Method::kGet, key, "symbol=BTCUSDT&timestamp=" + Now()),
                 SecurityType::kUserData);
  ASSERT_TRUE(get.has_value()) << get.error().msg;
  EXPECT_EQ(get->api_key_id, key.key_id);
  auto post = Run(BodySigned(key, "timestamp=" + Now() + "&symbol=BTCUSDT&side=SELL"));
  ASSERT_TRUE(post.has_value()) << post.error().msg;
  auto spot_post =
      Run(QuerySigned(Method::kPost, key, "symbol=BTCUSDT&side=BUY&timestamp=" + Now()));
  ASSERT_TRUE(spot_post.has_value()) << spot_post.error().msg;
}

TEST_F(GatewayAuthTest, Ed25519SignatureOfAnotherPayloadIsRefused) {
  const TestKey key = NewEd25519Key(NewUser("a@example.com"));
  const std::string params = "symbol=BTCUSDT&timestamp=" + Now();
  const std::string target = "/api/v3/order?" + params + "&signature=" + key.Sign(params + "0");
  EXPECT_AUTH_ERROR(Run(MakeRequest(Method::kGet, target, "", {{"X-MBX-APIKEY", key.api_key}}),
                        SecurityType::kUserData),
                    ae::kInvalidSignature);
}

TEST_F(GatewayAuthTest, UppercaseHexHmacIsAccepted) {
  const TestKey key = NewHmacKey(NewUser("a@example.com"));
  const std::string params = "symbol=BTCUSDT&timestamp=" + Now();
  const std::string target = "/api/v3/order?" + params + "&signature=" + Upper(key.Sign(params));
  auto caller = Run(MakeRequest(Method::kGet, target, "", {{"x-mbx-apikey", key.api_key}}),
                    SecurityType::kUserData);
  EXPECT_TRUE(caller.has_value()) << caller.error().msg;
}

TEST_F(GatewayAuthTest, MicrosecondTimestampIsAccepted) {
  const TestKey key = NewHmacKey(NewUser("a@example.com"));
  auto caller = Run(QuerySigned(Method::kGet, key,
                                "symbol=BTCUSDT&timestamp=" + std::to_string(now_us_.load())),
                    SecurityType::kUserData);
  EXPECT_TRUE(caller.has_value()) << caller.error().msg;
}

// ---------------------------------------------------------------------------------------------
// Refusals, and which one wins when a request has several faults.

TEST_F(GatewayAuthTest, ApiKeyHeaderFormatComesFirst) {
  const std::string bad_sig = "symbol=BTCUSDT&timestamp=" + Now() + "&signature=" +
                              std::string(64, '0');
  const std::string target = "/api/v3/order?" + bad_sig;
  // Absent, empty, too short, a non-alphanumeric character: -2014 even with a bad signature.
  EXPECT_AUTH_ERROR(Run(MakeRequest(Method::kGet, target, "", {})), ae::kApiKeyFormatInvalid);
  for (const std::string& header :
       {std::string(""), std::string("abc"), std::string(63, 'a') + "-", std::string(65, 'a')}) {
    SCOPED_TRACE(header);
    EXPECT_AUTH_ERROR(Run(MakeRequest(Method::kGet, target, "", {{"X-MBX-APIKEY", header}})),
                      ae::kApiKeyFormatInvalid);
  }
  EXPECT_EQ(ae::kApiKeyFormatInvalid.http_status, 401);
}

TEST_F(GatewayAuthTest, UnknownKeyBeforeSignature) {
  TestKey stranger;
  stranger.api_key = auth::GenerateApiKeyId();
  stranger.hmac_secret = std::string(64, 's');
  // Neither a signature nor a timestamp, and an unknown key: -2015 (HTTP 401).
  EXPECT_AUTH_ERROR(Run(MakeRequest(Method::kGet, "/api/v3/account", "",
                                    {{"X-MBX-APIKEY", stranger.api_key}})),
                    ae::kRejectedApiKey);
  EXPECT_AUTH_ERROR(Run(QuerySigned(Method::kGet, stranger, "timestamp=" + Now())),
                    ae::kRejectedApiKey);
}

TEST_F(GatewayAuthTest, ReadOnlyKeyOnTradeEndpoint) {
  const TestKey key = NewHmacKey(NewUser("a@example.com"), db::kPermissionRead);
  const std::string params = "symbol=BTCUSDT&side=BUY&timestamp=" + Now();
  EXPECT_AUTH_ERROR(Run(BodySigned(key, params), SecurityType::kTrade), ae::kRejectedApiKey);
  // Before the missing signature too.
  EXPECT_AUTH_ERROR(Run(MakeRequest(Method::kPost, "/api/v3/order?symbol=BTCUSDT", "",
                                    {{"X-MBX-APIKEY", key.api_key}}),
                        SecurityType::kTrade),
                    ae::kRejectedApiKey);
  EXPECT_TRUE(Run(QuerySigned(Method::kGet, key, "timestamp=" + Now()), SecurityType::kUserData)
                  .has_value());
  // A trade-only key cannot read.
  const TestKey trade_only = NewHmacKey(NewUser("b@example.com"), db::kPermissionTrade);
  EXPECT_AUTH_ERROR(
      Run(QuerySigned(Method::kGet, trade_only, "timestamp=" + Now()), SecurityType::kUserData),
      ae::kRejectedApiKey);
  EXPECT_TRUE(Run(BodySigned(trade_only, "timestamp=" + Now()), SecurityType::kTrade).has_value());
}

TEST_F(GatewayAuthTest, IpAllowList) {
  const TestKey key =
      NewHmacKey(NewUser("a@example.com"), db::kPermissionsAll,
                 std::vector<std::string>{"10.0.0.0/8", "2001:db8::7"});
  const std::string params = "symbol=BTCUSDT&timestamp=" + Now();
  EXPECT_TRUE(Run(QuerySigned(Method::kGet, key, params, "10.1.2.3"), SecurityType::kUserData)
                  .has_value());
  EXPECT_TRUE(Run(QuerySigned(Method::kGet, key, params, "::ffff:10.9.9.9"),
                  SecurityType::kUserData)
                  .has_value());
  EXPECT_TRUE(Run(QuerySigned(Method::kGet, key, params, "2001:db8::7"), SecurityType::kUserData)
                  .has_value());
  for (const char* ip : {"127.0.0.1", "11.0.0.1", "2001:db8::8", "not-an-ip"}) {
    SCOPED_TRACE(ip);
    EXPECT_AUTH_ERROR(Run(QuerySigned(Method::kGet, key, params, ip), SecurityType::kUserData),
                      ae::kRejectedApiKey);
  }
  // The allow-list is checked before the signature.
  EXPECT_AUTH_ERROR(Run(MakeRequest(Method::kGet, "/api/v3/account?timestamp=1", "",
                                    {{"X-MBX-APIKEY", key.api_key}}, "192.168.0.1"),
                        SecurityType::kUserData),
                    ae::kRejectedApiKey);
}

TEST_F(GatewayAuthTest, MissingSignatureThenMissingTimestamp) {
  const TestKey key = NewHmacKey(NewUser("a@example.com"));
  const http::HeaderList headers{{"X-MBX-APIKEY", key.api_key}};
  // Neither: the signature is reported first.
  EXPECT_AUTH_ERROR(Run(MakeRequest(Method::kGet, "/api/v3/account?symbol=BTCUSDT", "", headers)),
                    ae::kSignatureMissing);
  EXPECT_AUTH_ERROR(
      Run(MakeRequest(Method::kGet, "/api/v3/account?timestamp=" + Now() + "&signature=", "",
                      headers)),
      ae::kSignatureMissing);
  // A wrong signature without a timestamp: -1102 timestamp, before verifying anything.
  EXPECT_AUTH_ERROR(Run(MakeRequest(Method::kGet,
                                    "/api/v3/account?symbol=BTCUSDT&signature=" +
                                        std::string(64, 'a'),
                                    "", headers)),
                    ae::kTimestampMissing);
  for (const std::string& ts : {std::string("abc"), std::string("-1"), std::string(20, '9')}) {
    SCOPED_TRACE(ts);
    EXPECT_AUTH_ERROR(Run(QuerySigned(Method::kGet, key, "timestamp=" + ts)),
                      ae::kTimestampMissing);
  }
  // `signature` in both the query and the body.
  const std::string params = "timestamp=" + Now();
  const std::string sig = key.Sign(params);
  EXPECT_AUTH_ERROR(Run(MakeRequest(Method::kPost, "/api/v3/order?signature=" + sig,
                                    params + "&signature=" + sig,
                                    {{"X-MBX-APIKEY", key.api_key},
                                     {"Content-Type", "application/x-www-form-urlencoded"}})),
                    ae::kDuplicateParameter);
}

TEST_F(GatewayAuthTest, WrongSignatures) {
  const TestKey key = NewHmacKey(NewUser("a@example.com"));
  const std::string params = "symbol=BTCUSDT&side=BUY&timestamp=" + Now();
  const std::string good = key.Sign(params);
  const http::HeaderList headers{{"X-MBX-APIKEY", key.api_key}};
  std::string flipped = good;
  flipped[10] = flipped[10] == '0' ? '1' : '0';
  for (const std::string& sig : {flipped, good.substr(0, 63), good + "0", std::string(64, 'g'),
                                 NewHmacKey(NewUser("b@example.com")).Sign(params)}) {
    SCOPED_TRACE(sig);
    EXPECT_AUTH_ERROR(
        Run(MakeRequest(Method::kGet, "/api/v3/order?" + params + "&signature=" + sig, "",
                        headers)),
        ae::kInvalidSignature);
  }
  // Tampered parameter after signing.
  EXPECT_AUTH_ERROR(Run(MakeRequest(Method::kGet,
                                    "/api/v3/order?symbol=BTCUSDT&side=SELL&timestamp=" + Now() +
                                        "&signature=" + good,
                                    "", headers)),
                    ae::kInvalidSignature);
  // A wrong signature AND an expired timestamp / bad recvWindow: -1022 comes first.
  const std::string old = "timestamp=" + std::to_string(now_us_.load() / 1000 - 60'000);
  EXPECT_AUTH_ERROR(Run(MakeRequest(Method::kGet, "/api/v3/order?" + old + "&signature=" + flipped,
                                    "", headers)),
                    ae::kInvalidSignature);
  EXPECT_AUTH_ERROR(
      Run(MakeRequest(Method::kGet,
                      "/api/v3/order?recvWindow=70000&" + params + "&signature=" + flipped, "",
                      headers)),
      ae::kInvalidSignature);
  EXPECT_EQ(ae::kInvalidSignature.http_status, 400);
}

TEST_F(GatewayAuthTest, TimestampAndRecvWindow) {
  const TestKey key = NewHmacKey(NewUser("a@example.com"));
  const int64_t now_ms = now_us_.load() / 1000;
  auto at = [&](int64_t ts_ms, std::string extra = "") {
    return Run(QuerySigned(Method::kGet, key,
                           "symbol=BTCUSDT" + extra + "&timestamp=" + std::to_string(ts_ms)),
               SecurityType::kUserData);
  };
  EXPECT_TRUE(at(now_ms - 5000).has_value());  // default window, inclusive
  EXPECT_AUTH_ERROR(at(now_ms - 5001), ae::kTimestampOutsideRecvWindow);
  EXPECT_TRUE(at(now_ms - 10000, "&recvWindow=10000").has_value());
  EXPECT_AUTH_ERROR(at(now_ms - 10001, "&recvWindow=10000"), ae::kTimestampOutsideRecvWindow);
  EXPECT_TRUE(at(now_ms + 999).has_value());
  EXPECT_AUTH_ERROR(at(now_ms + 1000), ae::kTimestampAhead);
  EXPECT_AUTH_ERROR(at(now_ms + 1000, "&recvWindow=60000"), ae::kTimestampAhead);
  EXPECT_AUTH_ERROR(at(now_ms, "&recvWindow=60001"), ae::kBadRecvWindow);
  EXPECT_AUTH_ERROR(at(now_ms, "&recvWindow=abc"), ae::kRecvWindowIllegal);
  EXPECT_AUTH_ERROR(at(now_ms, "&recvWindow=5000.1234"), ae::kRecvWindowIllegal);
  EXPECT_TRUE(at(now_ms - 6000, "&recvWindow=6000.346").has_value());
  // The clock moves: the same signed request expires.
  const http::Request request =
      QuerySigned(Method::kGet, key, "symbol=BTCUSDT&timestamp=" + std::to_string(now_ms));
  EXPECT_TRUE(Run(request, SecurityType::kUserData).has_value());
  now_us_ += 5'001'000;
  EXPECT_AUTH_ERROR(Run(request, SecurityType::kUserData), ae::kTimestampOutsideRecvWindow);
}

// ---------------------------------------------------------------------------------------------
// Replays.

TEST_F(GatewayAuthTest, ReplayedPostIsRefusedInBothPlacements) {
  const TestKey key = NewHmacKey(NewUser("a@example.com"));
  const http::Request ccxt = BodySigned(key, "timestamp=" + Now() + "&symbol=BTCUSDT&side=BUY");
  EXPECT_TRUE(Run(ccxt).has_value());
  EXPECT_AUTH_ERROR(Run(ccxt), ae::kInvalidSignature);

  const http::Request spot =
      QuerySigned(Method::kPost, key, "symbol=BTCUSDT&side=SELL&timestamp=" + Now());
  EXPECT_TRUE(Run(spot).has_value());
  EXPECT_AUTH_ERROR(Run(spot), ae::kInvalidSignature);
  // The same signature in uppercase hex is the same request.
  std::string target(spot.target());
  const size_t at = target.find("signature=") + 10;
  target.replace(at, 64, Upper(target.substr(at, 64)));
  EXPECT_AUTH_ERROR(Run(MakeRequest(Method::kPost, target, "",
                                    {{"X-MBX-APIKEY", key.api_key},
                                     {"Content-Type", "application/json"}})),
                    ae::kInvalidSignature);
  // Once the window is over the timestamp check refuses it anyway.
  now_us_ += 6'000'000;
  EXPECT_AUTH_ERROR(Run(spot), ae::kTimestampOutsideRecvWindow);
}

TEST_F(GatewayAuthTest, ReplayedEd25519PostIsRefused) {
  const TestKey key = NewEd25519Key(NewUser("a@example.com"));
  const http::Request request = BodySigned(key, "timestamp=" + Now() + "&symbol=BTCUSDT");
  EXPECT_TRUE(Run(request).has_value());
  EXPECT_AUTH_ERROR(Run(request), ae::kInvalidSignature);
}

TEST_F(GatewayAuthTest, ReplayAllowedForGetAndByDefaultForDelete) {
  const TestKey key = NewHmacKey(NewUser("a@example.com"));
  const http::Request get = QuerySigned(Method::kGet, key, "symbol=BTCUSDT&timestamp=" + Now());
  const http::Request del =
      QuerySigned(Method::kDelete, key, "symbol=BTCUSDT&orderId=7&timestamp=" + Now());
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(Run(get, SecurityType::kUserData).has_value());
    EXPECT_TRUE(Run(del).has_value());  // @binance/spot retries a cancel with the same query
  }
  EXPECT_EQ(replays_->size(), 0u);
  // Opt-in: DELETE is checked too.
  auto strict = MakeAuthenticator({.replay_check_delete = true});
  EXPECT_TRUE(Run(del, SecurityType::kTrade, strict.get()).has_value());
  EXPECT_AUTH_ERROR(Run(del, SecurityType::kTrade, strict.get()), ae::kInvalidSignature);
  EXPECT_TRUE(Run(get, SecurityType::kUserData, strict.get()).has_value());
}

TEST_F(GatewayAuthTest, ReplayCacheUnavailableRefusesStateChangesOnly) {
  const TestKey key = NewHmacKey(NewUser("a@example.com"));
  UnavailableReplayCache down;
  auto authenticator = MakeAuthenticator({}, nullptr, &down);
  auto post = Run(BodySigned(key, "timestamp=" + Now() + "&symbol=BTCUSDT"), SecurityType::kTrade,
                  authenticator.get());
  EXPECT_AUTH_ERROR(post, http::errors::ServerBusy());
  EXPECT_EQ(http::errors::ServerBusy().http_status, 503);
  EXPECT_TRUE(Run(QuerySigned(Method::kGet, key, "timestamp=" + Now()), SecurityType::kUserData,
                  authenticator.get())
                  .has_value());
}

TEST_F(GatewayAuthTest, RefusedRequestRecordsNoReplayEntry) {
  const TestKey key = NewHmacKey(NewUser("a@example.com"));
  // Signed correctly but too far ahead: refused before the replay cache.
  const std::string future = std::to_string(now_us_.load() / 1000 + 1500);
  const http::Request request = BodySigned(key, "timestamp=" + future + "&symbol=BTCUSDT");
  EXPECT_AUTH_ERROR(Run(request), ae::kTimestampAhead);
  EXPECT_EQ(replays_->size(), 0u);
  now_us_ += 1'000'000;  // now it is inside the window, and has never been used
  EXPECT_TRUE(Run(request).has_value());
}

// ---------------------------------------------------------------------------------------------
// Key lifecycle, the cache, the database.

TEST_F(GatewayAuthTest, DeletedKeyIsRefusedAfterThePositiveTtl) {
  const int64_t user = NewUser("a@example.com");
  const TestKey key = NewHmacKey(user);
  auto get = [&] {
    return Run(QuerySigned(Method::kGet, key, "symbol=BTCUSDT&timestamp=" + Now()),
               SecurityType::kUserData);
  };
  EXPECT_TRUE(get().has_value());
  ASSERT_TRUE(store_->DeleteApiKey(user, key.key_id));
  // Another replica deleted it: this one still has it cached for up to 10 s.
  steady_ms_ += 9'999;
  EXPECT_TRUE(get().has_value());
  steady_ms_ += 1;
  EXPECT_AUTH_ERROR(get(), ae::kRejectedApiKey);
}

TEST_F(GatewayAuthTest, InvalidateForgetsADeletedKeyAtOnce) {
  const int64_t user = NewUser("a@example.com");
  const TestKey key = NewHmacKey(user);
  const std::string params = "symbol=BTCUSDT&timestamp=" + Now();
  EXPECT_TRUE(Run(QuerySigned(Method::kGet, key, params), SecurityType::kUserData).has_value());
  ASSERT_TRUE(store_->DeleteApiKey(user, key.key_id));
  keys_->Invalidate(key.api_key);
  EXPECT_AUTH_ERROR(Run(QuerySigned(Method::kGet, key, params), SecurityType::kUserData),
                    ae::kRejectedApiKey);
}

TEST_F(GatewayAuthTest, UnknownKeyIsRememberedForTheNegativeTtl) {
  const int64_t user = NewUser("a@example.com");
  TestKey key = NewHmacKey(user);  // a template for the material
  key.api_key = auth::GenerateApiKeyId();
  const std::string params = "symbol=BTCUSDT&timestamp=" + Now();
  EXPECT_AUTH_ERROR(Run(QuerySigned(Method::kGet, key, params), SecurityType::kUserData),
                    ae::kRejectedApiKey);
  EXPECT_EQ(keys_->negative_size(), 1u);
  // The key now gets created (elsewhere) with this very string.
  auto sealed = auth::EncryptSecret(keyring_, key.hmac_secret, key.api_key);
  ASSERT_TRUE(sealed);
  db::NewApiKey row;
  row.user_id = user;
  row.api_key = key.api_key;
  row.secret_ciphertext = *sealed;
  row.permissions = db::kPermissionsAll;
  ASSERT_TRUE(store_->CreateApiKey(row));
  steady_ms_ += 1'999;
  EXPECT_AUTH_ERROR(Run(QuerySigned(Method::kGet, key, params), SecurityType::kUserData),
                    ae::kRejectedApiKey);
  steady_ms_ += 1;
  EXPECT_TRUE(Run(QuerySigned(Method::kGet, key, params), SecurityType::kUserData).has_value());
}

TEST_F(GatewayAuthTest, FrozenUserStillAuthenticates) {
  const int64_t user = NewUser("a@example.com");
  const TestKey key = NewHmacKey(user);
  ASSERT_TRUE(store_->SetUserStatus(user, db::UserStatus::kFrozen));
  auto caller = Run(QuerySigned(Method::kDelete, key, "symbol=BTCUSDT&orderId=1&timestamp=" + Now()));
  ASSERT_TRUE(caller.has_value()) << caller.error().msg;
  EXPECT_EQ(caller->account, user);
  auto found = keys_->Find(key.api_key);
  ASSERT_TRUE(found);
  EXPECT_TRUE((*found)->user_frozen);
}

TEST_F(GatewayAuthTest, DatabaseDownIsInternalErrorNotRejectedKey) {
  const TestKey key = NewHmacKey(NewUser("a@example.com"));
  // A pool pointing at a port nobody listens on (the harness's server is elsewhere).
  db::PgConnParams params = Params();
  params.port = server().port() == 1 ? 2 : 1;
  params.connect_timeout_s = 2;
  db::PgPool dead_pool(params, 1, std::chrono::milliseconds(500));
  gateway::PgKeyDirectory dead_pg(dead_pool, keyring_);
  gateway::CachingKeyDirectory dead(dead_pg, {}, [this] { return steady_ms_.load(); });
  auto authenticator = MakeAuthenticator({}, &dead);
  const http::Request request = QuerySigned(Method::kGet, key, "timestamp=" + Now());
  for (int i = 0; i < 2; ++i) {
    auto result = Run(request, SecurityType::kUserData, authenticator.get());
    EXPECT_AUTH_ERROR(result, gateway::InternalError());
    EXPECT_EQ(result.error().code, -1001);
    EXPECT_EQ(result.error().http_status, 500);
  }
  EXPECT_EQ(dead.negative_size(), 0u);  // an outage is never cached
  EXPECT_EQ(dead.positive_size(), 0u);
  // The key format is still checked first.
  EXPECT_AUTH_ERROR(Run(MakeRequest(Method::kGet, "/api/v3/account", "", {{"X-MBX-APIKEY", "x"}}),
                        SecurityType::kUserData, authenticator.get()),
                    ae::kApiKeyFormatInvalid);
}

TEST_F(GatewayAuthTest, CachedKeySurvivesADatabaseOutage) {
  const TestKey key = NewHmacKey(NewUser("a@example.com"));
  gateway::InMemoryKeyDirectory backing;
  auto resolved = pg_keys_->Find(key.api_key);
  ASSERT_TRUE(resolved);
  backing.Put(key.api_key, *resolved);
  gateway::CachingKeyDirectory cached(backing, {}, [this] { return steady_ms_.load(); });
  auto authenticator = MakeAuthenticator({}, &cached);
  const http::Request request = QuerySigned(Method::kGet, key, "timestamp=" + Now());
  EXPECT_TRUE(Run(request, SecurityType::kUserData, authenticator.get()).has_value());
  backing.SetUnavailable(true);
  EXPECT_TRUE(Run(request, SecurityType::kUserData, authenticator.get()).has_value());
  steady_ms_ += 10'000;
  EXPECT_AUTH_ERROR(Run(request, SecurityType::kUserData, authenticator.get()),
                    gateway::InternalError());
  backing.SetUnavailable(false);  // not cached: the next request asks again
  EXPECT_TRUE(Run(request, SecurityType::kUserData, authenticator.get()).has_value());
}

TEST_F(GatewayAuthTest, SecretSealedWithAnotherContextIsAServerFault) {
  const int64_t user = NewUser("a@example.com");
  const std::string api_key = auth::GenerateApiKeyId();
  auto sealed = auth::EncryptSecret(keyring_, std::string(64, 's'), "some-other-context");
  ASSERT_TRUE(sealed);
  db::NewApiKey row;
  row.user_id = user;
  row.api_key = api_key;
  row.secret_ciphertext = *sealed;
  row.permissions = db::kPermissionsAll;
  ASSERT_TRUE(store_->CreateApiKey(row));
  auto found = pg_keys_->Find(api_key);
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().code, gateway::KeyLookupErrorCode::kBadRecord);
  TestKey key;
  key.api_key = api_key;
  key.hmac_secret = std::string(64, 's');
  EXPECT_AUTH_ERROR(Run(QuerySigned(Method::kGet, key, "timestamp=" + Now()),
                        SecurityType::kUserData),
                    gateway::InternalError());
}

// ---------------------------------------------------------------------------------------------
// Web sessions.

TEST_F(GatewayAuthTest, SessionAuthenticatesWithReadAndTrade) {
  const int64_t user = NewUser("a@example.com");
  auto token = sessions_.Create(user, std::chrono::seconds(3600));
  ASSERT_TRUE(token);
  auto caller = Run(SessionRequest(Method::kPost, "/api/v3/order?symbol=BTCUSDT", *token));
  ASSERT_TRUE(caller.has_value()) << caller.error().msg;
  EXPECT_EQ(caller->account, user);
  EXPECT_EQ(caller->api_key_id, 0);
  EXPECT_EQ(caller->permissions, db::kPermissionRead | db::kPermissionTrade);
  // Scheme is case-insensitive; no replay check without a signature.
  auto again = Run(MakeRequest(Method::kPost, "/api/v3/order?symbol=BTCUSDT", "",
                               {{"authorization", "bearer  " + *token}}));
  EXPECT_TRUE(again.has_value());
}

TEST_F(GatewayAuthTest, SessionTimestampIsCheckedWhenSent) {
  auto token = sessions_.Create(NewUser("a@example.com"), std::chrono::seconds(3600));
  ASSERT_TRUE(token);
  const int64_t now_ms = now_us_.load() / 1000;
  auto with = [&](std::string query) {
    return Run(SessionRequest(Method::kGet, "/api/v3/account?" + query, *token),
               SecurityType::kUserData);
  };
  ASSERT_TRUE(with("timestamp=" + std::to_string(now_ms) + "&recvWindow=1000").has_value());
  EXPECT_EQ(last_params_->read_count(), 2u);
  EXPECT_AUTH_ERROR(with("timestamp=" + std::to_string(now_ms - 5001)),
                    ae::kTimestampOutsideRecvWindow);
  EXPECT_AUTH_ERROR(with("timestamp=" + std::to_string(now_ms + 1000)), ae::kTimestampAhead);
  EXPECT_AUTH_ERROR(with("timestamp=x"), ae::kTimestampMissing);
  EXPECT_AUTH_ERROR(with("recvWindow=60001"), ae::kBadRecvWindow);
  EXPECT_AUTH_ERROR(with("timestamp=" + std::to_string(now_ms) + "&recvWindow=1.2345"),
                    ae::kRecvWindowIllegal);
}

TEST_F(GatewayAuthTest, SessionRefusals) {
  const int64_t user = NewUser("a@example.com");
  auto token = sessions_.Create(user, std::chrono::seconds(3600));
  ASSERT_TRUE(token);
  // Unknown (well formed) token: asked, refused.
  const int asked = sessions_.find_calls();
  EXPECT_AUTH_ERROR(Run(SessionRequest(Method::kGet, "/api/v3/account", auth::GenerateSessionToken()),
                        SecurityType::kUserData),
                    ae::kRejectedApiKey);
  EXPECT_EQ(sessions_.find_calls(), asked + 1);
  // Malformed tokens are refused without asking the store.
  for (const std::string& bad : {std::string("short"), std::string(43, '!'), *token + "A",
                                 std::string(300, 'A')}) {
    EXPECT_AUTH_ERROR(Run(SessionRequest(Method::kGet, "/api/v3/account", bad),
                          SecurityType::kUserData),
                      ae::kRejectedApiKey);
  }
  EXPECT_EQ(sessions_.find_calls(), asked + 1);
  // Logged out.
  ASSERT_TRUE(sessions_.Delete(*token));
  EXPECT_AUTH_ERROR(Run(SessionRequest(Method::kGet, "/api/v3/account", *token),
                        SecurityType::kUserData),
                    ae::kRejectedApiKey);
  // Store down: -1001, not -2015.
  auto token2 = sessions_.Create(user, std::chrono::seconds(3600));
  ASSERT_TRUE(token2);
  sessions_.SetDown(true);
  EXPECT_AUTH_ERROR(Run(SessionRequest(Method::kGet, "/api/v3/account", *token2),
                        SecurityType::kUserData),
                    gateway::InternalError());
  sessions_.SetDown(false);
  // Another scheme is not a session: no API key either, so -2014.
  EXPECT_AUTH_ERROR(Run(MakeRequest(Method::kGet, "/api/v3/account", "",
                                    {{"Authorization", "Basic " + *token2}}),
                        SecurityType::kUserData),
                    ae::kApiKeyFormatInvalid);
}

TEST_F(GatewayAuthTest, SessionNeedsAStoreAndLosesToAnApiKey) {
  const int64_t user = NewUser("a@example.com");
  auto token = sessions_.Create(user, std::chrono::seconds(3600));
  ASSERT_TRUE(token);
  gateway::Authenticator keys_only(*keys_, *replays_, nullptr, [this] { return now_us_.load(); });
  EXPECT_AUTH_ERROR(Run(SessionRequest(Method::kGet, "/api/v3/account", *token),
                        SecurityType::kUserData, &keys_only),
                    ae::kApiKeyFormatInvalid);
  // Both headers: the API key path runs (and here fails for the missing signature).
  const TestKey key = NewHmacKey(user);
  EXPECT_AUTH_ERROR(Run(MakeRequest(Method::kGet, "/api/v3/account", "",
                                    {{"Authorization", "Bearer " + *token},
                                     {"X-MBX-APIKEY", key.api_key}}),
                        SecurityType::kUserData),
                    ae::kSignatureMissing);
}

}  // namespace
}  // namespace spotex::testing
