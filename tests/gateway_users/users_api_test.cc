// The account and admin endpoints over real HTTP against a real PostgreSQL, nats-server and
// spotex-engine (users_fixture.h): registration, sessions, API keys and their sealed secrets,
// admin money movements and freezing, and the errors of bad input.
#include <sodium.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "auth/signature.h"
#include "db/user_store.h"
#include "gateway/users/demo_users.h"
#include "users_fixture.h"

namespace spotex::gateway::users::testing {
namespace {

using spotex::testing::JsonField;

TEST_F(UsersTest, RegisterLoginMeLogout) {
  const std::string email = NewEmail("alice");
  auto reg = Call("POST", "/api/v1/users", "email=" + email + "&password=correct+horse+battery");
  ASSERT_EQ(reg.status, 200) << reg.body;
  const std::string id = JsonField(reg.body, "userId");
  EXPECT_EQ(reg.body, "{\"userId\":" + id + ",\"email\":\"" + email + "\"}");

  auto login = Call("POST", "/api/v1/session", "email=" + email + "&password=correct+horse+battery");
  ASSERT_EQ(login.status, 200) << login.body;
  const std::string token = JsonField(login.body, "token");
  EXPECT_EQ(token.size(), auth::kSessionTokenChars);
  EXPECT_EQ(JsonField(login.body, "expiresAt"), std::to_string(kNowMs + 24 * 3600 * 1000));
  EXPECT_EQ(JsonField(login.body, "userId"), id);
  EXPECT_EQ(stack_->sessions.last_ttl(), std::chrono::hours(24));

  auto me = Call("GET", "/api/v1/me", "", Bearer(token));
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.body, "{\"userId\":" + id + ",\"email\":\"" + email + "\",\"status\":\"ACTIVE\"}");

  auto out = Call("DELETE", "/api/v1/session", "", Bearer(token));
  EXPECT_EQ(out.status, 200) << out.body;
  EXPECT_EQ(out.body, "{}");
  auto after = Call("GET", "/api/v1/me", "", Bearer(token));
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(after.body,
            "{\"code\":-1002,\"msg\":\"You are not authorized to execute this request.\"}");
}

TEST_F(UsersTest, RegistrationOpensTheEngineAccount) {
  const int64_t id = RegisterUser(NewEmail("opened"));
  std::string answer;
  for (int i = 0; i < 100; ++i) {
    auto r = stack_->client->Query("has_account " + std::to_string(id), 2000);
    answer = r ? *r : "";
    if (answer.find("true") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(answer, "{\"exists\":true}");
}

TEST_F(UsersTest, DuplicateEmailIgnoringCase) {
  const std::string email = NewEmail("bob");
  RegisterUser(email);
  std::string upper = email;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto again = Call("POST", "/api/v1/users", "email=" + upper + "&password=another+good+one");
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.body, "{\"code\":-7001,\"msg\":\"This email address is already registered.\"}");
  // Login is case-insensitive too.
  EXPECT_FALSE(LoginToken(upper).empty());
}

TEST_F(UsersTest, WrongPasswordAndUnknownEmailGetTheSameAnswer) {
  const std::string email = NewEmail("carol");
  RegisterUser(email);
  auto wrong = Call("POST", "/api/v1/session", "email=" + email + "&password=not+the+password");
  auto unknown = Call("POST", "/api/v1/session",
                      "email=" + NewEmail("nobody") + "&password=correct+horse+battery");
  auto malformed = Call("POST", "/api/v1/session", "email=no-at-sign&password=whatever1");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body, "{\"code\":-7002,\"msg\":\"Invalid email or password.\"}");
  EXPECT_EQ(unknown.status, wrong.status);
  EXPECT_EQ(unknown.body, wrong.body);
  EXPECT_EQ(malformed.body, wrong.body);
}

TEST_F(UsersTest, UnauthenticatedRequestsAreRefused) {
  const std::string refused =
      "{\"code\":-1002,\"msg\":\"You are not authorized to execute this request.\"}";
  for (const std::string& headers :
       {std::string(), Bearer("short"), Bearer(auth::GenerateSessionToken()),
        std::string("Authorization: Basic dXNlcjpwYXNz\r\n")}) {
    for (const auto& [method, target] : {std::pair{"GET", "/api/v1/me"},
                                         std::pair{"GET", "/api/v1/apiKeys"},
                                         std::pair{"POST", "/api/v1/apiKeys"},
                                         std::pair{"DELETE", "/api/v1/apiKeys?id=1"}}) {
      auto r = Call(method, target, "", headers);
      EXPECT_EQ(r.status, 401) << method << " " << target << " " << headers;
      EXPECT_EQ(r.body, refused);
    }
  }
}

TEST_F(UsersTest, HmacKeyLifecycleShowsTheSecretOnce) {
  const std::string email = NewEmail("dave");
  const int64_t user_id = RegisterUser(email);
  const std::string token = LoginToken(email);

  auto created = Call("POST", "/api/v1/apiKeys",
                      "type=HMAC&permissions=READ%2CTRADE&ipAllowList=10.1.2.3%2F8%2C+1.2.3.4"
                      "&label=my+bot",
                      Bearer(token));
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(created.Header("cache-control"), "no-store");
  const std::string api_key = JsonField(created.body, "apiKey");
  const std::string secret = JsonField(created.body, "secretKey");
  const std::string key_id = JsonField(created.body, "id");
  EXPECT_TRUE(auth::IsWellFormedApiKeyId(api_key)) << created.body;
  EXPECT_EQ(secret.size(), auth::kHmacSecretChars);
  EXPECT_NE(created.body.find("\"type\":\"HMAC\",\"permissions\":[\"READ\",\"TRADE\"],"
                              "\"ipAllowList\":[\"10.0.0.0/8\",\"1.2.3.4\"],\"label\":\"my bot\""),
            std::string::npos)
      << created.body;

  // Stored sealed under context = api_key, and nowhere in the clear.
  {
    auto lease = stack_->pool->Acquire();
    ASSERT_TRUE(lease);
    db::UserStore store(**lease);
    auto stored = store.FindApiKey(api_key);
    ASSERT_TRUE(stored) << stored.error().message;
    EXPECT_EQ(stored->user_id, user_id);
    EXPECT_EQ(stored->permissions, db::kPermissionRead | db::kPermissionTrade);
    EXPECT_EQ(stored->secret_ciphertext.find(secret), std::string::npos);
    auto opened = auth::DecryptSecret(stack_->keyring, stored->secret_ciphertext, api_key);
    ASSERT_TRUE(opened);
    EXPECT_EQ(opened->view(), secret);
    EXPECT_FALSE(auth::DecryptSecret(stack_->keyring, stored->secret_ciphertext, "other"));
  }

  // Listed without any secret.
  auto list = Call("GET", "/api/v1/apiKeys", "", Bearer(token));
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.body.find(secret), std::string::npos);
  EXPECT_EQ(list.body.find("secret"), std::string::npos);
  EXPECT_NE(list.body.find("{\"id\":" + key_id + ",\"apiKey\":\"" + api_key +
                           "\",\"type\":\"HMAC\",\"permissions\":[\"READ\",\"TRADE\"]"),
            std::string::npos)
      << list.body;

  // A default key is READ only, unrestricted.
  auto plain = Call("POST", "/api/v1/apiKeys", "", Bearer(token));
  ASSERT_EQ(plain.status, 200) << plain.body;
  EXPECT_NE(plain.body.find("\"permissions\":[\"READ\"],\"ipAllowList\":null"), std::string::npos)
      << plain.body;

  auto deleted = Call("DELETE", "/api/v1/apiKeys?id=" + key_id, "", Bearer(token));
  EXPECT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(deleted.body, "{}");
  list = Call("GET", "/api/v1/apiKeys", "", Bearer(token));
  EXPECT_EQ(list.body.find(api_key), std::string::npos) << list.body;
  auto again = Call("DELETE", "/api/v1/apiKeys", "id=" + key_id, Bearer(token));
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.body, "{\"code\":-7006,\"msg\":\"Unknown API key.\"}");
}

TEST_F(UsersTest, Ed25519KeyStoresOnlyThePublicKey) {
  const std::string email = NewEmail("erin");
  const std::string token = LoginToken((RegisterUser(email), email));
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  ASSERT_EQ(sodium_init() >= 0, true);
  crypto_sign_keypair(pk, sk);
  auth::Ed25519PublicKey key;
  std::copy(pk, pk + sizeof pk, key.bytes.begin());
  std::string pem = auth::ToPem(key);
  // The form layer refuses control characters: the PEM travels with spaces for line breaks.
  std::replace(pem.begin(), pem.end(), '\n', ' ');

  auto created = Call("POST", "/api/v1/apiKeys",
                      "type=ED25519&permissions=TRADE&publicKey=" + Encode(pem), Bearer(token));
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(created.body.find("secretKey"), std::string::npos);
  EXPECT_NE(created.body.find("\"type\":\"ED25519\",\"permissions\":[\"TRADE\"]"),
            std::string::npos)
      << created.body;
  const std::string api_key = JsonField(created.body, "apiKey");
  auto lease = stack_->pool->Acquire();
  ASSERT_TRUE(lease);
  db::UserStore store(**lease);
  auto stored = store.FindApiKey(api_key);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->public_key, std::string(reinterpret_cast<char*>(pk), sizeof pk));
  EXPECT_TRUE(stored->secret_ciphertext.empty());

  // Only the base64 body of the PEM works too.
  std::string body = auth::ToPem(key);
  body = body.substr(body.find('\n') + 1);
  body = body.substr(0, body.find("-----"));
  std::erase(body, '\n');
  auto bare = Call("POST", "/api/v1/apiKeys", "type=ED25519&publicKey=" + Encode(body),
                   Bearer(token));
  EXPECT_EQ(bare.status, 200) << bare.body;

  const std::string invalid =
      "{\"code\":-1130,\"msg\":\"Data sent for parameter 'publicKey' is not valid.\"}";
  for (const std::string& bad :
       {std::string("-----BEGIN PUBLIC KEY----- AAAA -----END PUBLIC KEY-----"),
        std::string("not a key at all"),
        std::string("-----BEGIN PRIVATE KEY----- MC4CAQAwBQYDK2VwBCIEIA== -----END PRIVATE KEY-----")}) {
    auto r = Call("POST", "/api/v1/apiKeys", "type=ED25519&publicKey=" + Encode(bad), Bearer(token));
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(r.body, invalid) << bad;
  }
  auto missing = Call("POST", "/api/v1/apiKeys", "type=ED25519", Bearer(token));
  EXPECT_EQ(JsonField(missing.body, "code"), "-1102");
  auto with_hmac = Call("POST", "/api/v1/apiKeys", "type=HMAC&publicKey=" + Encode(pem),
                        Bearer(token));
  EXPECT_EQ(JsonField(with_hmac.body, "code"), "-1130");
}

TEST_F(UsersTest, AnotherUsersKeyCannotBeDeleted) {
  const std::string a = NewEmail("frank"), b = NewEmail("grace");
  RegisterUser(a);
  RegisterUser(b);
  const std::string ta = LoginToken(a), tb = LoginToken(b);
  auto created = Call("POST", "/api/v1/apiKeys", "", Bearer(ta));
  ASSERT_EQ(created.status, 200);
  const std::string id = JsonField(created.body, "id");
  auto stolen = Call("DELETE", "/api/v1/apiKeys?id=" + id, "", Bearer(tb));
  EXPECT_EQ(stolen.status, 400);
  EXPECT_EQ(stolen.body, "{\"code\":-7006,\"msg\":\"Unknown API key.\"}");
  EXPECT_EQ(Call("GET", "/api/v1/apiKeys", "", Bearer(tb)).body, "[]");
  EXPECT_NE(Call("GET", "/api/v1/apiKeys", "", Bearer(ta)).body.find("\"id\":" + id),
            std::string::npos);
}

TEST_F(UsersTest, AdminTokenMissingOrWrongIsRefused) {
  const int64_t id = RegisterUser(NewEmail("henry"));
  const std::string body = "userId=" + std::to_string(id) + "&asset=BTC&amount=1";
  const std::string refused =
      "{\"code\":-1002,\"msg\":\"You are not authorized to execute this request.\"}";
  for (const std::string& headers :
       {std::string(), Admin("wrong-token-wrong-token-wrong"), Admin("x"),
        Admin(std::string(kAdminToken) + "x"), Admin(std::string(kAdminToken).substr(1))}) {
    for (const char* path :
         {"/api/v1/admin/deposit", "/api/v1/admin/withdraw", "/api/v1/admin/freeze"}) {
      auto r = Call("POST", path, body, headers);
      EXPECT_EQ(r.status, 401) << path << " " << headers;
      EXPECT_EQ(r.body, refused);
    }
  }
  EXPECT_EQ(Balances(id).find("BTC"), std::string::npos) << Balances(id);
  EXPECT_FALSE(AdminToken::FromString("short").has_value());
}

TEST_F(UsersTest, DepositAndWithdrawMoveEngineBalances) {
  const int64_t id = RegisterUser(NewEmail("ivan"));
  const std::string user = "userId=" + std::to_string(id);
  auto dep = Call("POST", "/api/v1/admin/deposit", user + "&asset=BTC&amount=1.5", Admin());
  ASSERT_EQ(dep.status, 200) << dep.body;
  EXPECT_NE(dep.body.find("{\"userId\":" + std::to_string(id) +
                          ",\"asset\":\"BTC\",\"amount\":\"1.50000000\",\"seq\":"),
            std::string::npos)
      << dep.body;
  EXPECT_NE(Balances(id).find("{\"asset\":\"BTC\",\"free\":\"1.50000000\""), std::string::npos)
      << Balances(id);

  auto wd = Call("POST", "/api/v1/admin/withdraw", user + "&asset=BTC&amount=0.5", Admin());
  ASSERT_EQ(wd.status, 200) << wd.body;
  EXPECT_NE(Balances(id).find("{\"asset\":\"BTC\",\"free\":\"1.00000000\""), std::string::npos);

  auto over = Call("POST", "/api/v1/admin/withdraw", user + "&asset=BTC&amount=1.00000001",
                   Admin());
  EXPECT_EQ(over.status, 400);
  EXPECT_EQ(over.body,
            "{\"code\":-2010,\"msg\":\"Account has insufficient balance for requested action.\"}");
  EXPECT_NE(Balances(id).find("{\"asset\":\"BTC\",\"free\":\"1.00000000\""), std::string::npos);

  // Nothing of an asset never deposited.
  auto none = Call("POST", "/api/v1/admin/withdraw", user + "&asset=ETH&amount=1", Admin());
  EXPECT_EQ(JsonField(none.body, "code"), "-2010");

  auto unknown_asset = Call("POST", "/api/v1/admin/deposit", user + "&asset=DOGE&amount=1",
                            Admin());
  EXPECT_EQ(unknown_asset.body,
            "{\"code\":-1130,\"msg\":\"Data sent for parameter 'asset' is not valid.\"}");
  auto unknown_user = Call("POST", "/api/v1/admin/deposit",
                           "userId=999999999&asset=BTC&amount=1", Admin());
  EXPECT_EQ(unknown_user.body, "{\"code\":-7007,\"msg\":\"Unknown user.\"}");
  auto precise = Call("POST", "/api/v1/admin/deposit", user + "&asset=BTC&amount=0.000000001",
                      Admin());
  EXPECT_EQ(JsonField(precise.body, "code"), "-1111");
  auto zero = Call("POST", "/api/v1/admin/deposit", user + "&asset=BTC&amount=0", Admin());
  EXPECT_EQ(JsonField(zero.body, "code"), "-1130");
  auto negative = Call("POST", "/api/v1/admin/deposit", user + "&asset=BTC&amount=-1", Admin());
  EXPECT_EQ(JsonField(negative.body, "code"), "-1100");
  EXPECT_NE(Balances(id).find("{\"asset\":\"BTC\",\"free\":\"1.00000000\""), std::string::npos);
}

TEST_F(UsersTest, FrozenUserCannotLogInOrWithdraw) {
  const std::string email = NewEmail("judy");
  const int64_t id = RegisterUser(email);
  const std::string old_session = LoginToken(email);
  const std::string user = "userId=" + std::to_string(id);
  ASSERT_EQ(Call("POST", "/api/v1/admin/deposit", user + "&asset=USDT&amount=100", Admin()).status,
            200);

  auto frozen = Call("POST", "/api/v1/admin/freeze", user + "&frozen=true", Admin());
  ASSERT_EQ(frozen.status, 200) << frozen.body;
  EXPECT_NE(frozen.body.find("\"status\":\"FROZEN\""), std::string::npos);

  auto login = Call("POST", "/api/v1/session", "email=" + email + "&password=correct+horse+battery");
  EXPECT_EQ(login.status, 403);
  EXPECT_EQ(login.body, "{\"code\":-7003,\"msg\":\"This account is frozen.\"}");
  // A wrong password still gets the generic answer: frozen says nothing to a guesser.
  auto guess = Call("POST", "/api/v1/session", "email=" + email + "&password=wrong+password");
  EXPECT_EQ(JsonField(guess.body, "code"), "-7002");
  EXPECT_NE(Call("GET", "/api/v1/me", "", Bearer(old_session)).body.find("\"status\":\"FROZEN\""),
            std::string::npos);
  EXPECT_EQ(JsonField(Call("POST", "/api/v1/apiKeys", "", Bearer(old_session)).body, "code"),
            "-7003");
  // The engine account is frozen too.
  auto wd = Call("POST", "/api/v1/admin/withdraw", user + "&asset=USDT&amount=1", Admin());
  EXPECT_EQ(wd.body, "{\"code\":-2010,\"msg\":\"This action is disabled on this account.\"}");

  ASSERT_EQ(Call("POST", "/api/v1/admin/freeze", user + "&frozen=false", Admin()).status, 200);
  EXPECT_FALSE(LoginToken(email).empty());
  EXPECT_EQ(Call("POST", "/api/v1/admin/withdraw", user + "&asset=USDT&amount=1", Admin()).status,
            200);

  // A user that does not exist cannot be frozen.
  auto unknown = Call("POST", "/api/v1/admin/freeze", "userId=999999999&frozen=true", Admin());
  EXPECT_EQ(JsonField(unknown.body, "code"), "-7007");
}

TEST_F(UsersTest, BadInputGetsBinanceErrors) {
  auto code = [](const http::testing::ParsedResponse& r) { return JsonField(r.body, "code"); };
  EXPECT_EQ(code(Call("POST", "/api/v1/users", "email=a%40b.io")), "-1102");
  EXPECT_EQ(Call("POST", "/api/v1/users", "password=long+enough+pass").body,
            "{\"code\":-1102,\"msg\":\"Mandatory parameter 'email' was not sent, was "
            "empty/null, or malformed.\"}");
  EXPECT_EQ(code(Call("POST", "/api/v1/users", "email=not-an-email&password=long+enough+pass")),
            "-1100");
  EXPECT_EQ(code(Call("POST", "/api/v1/users", "email=a%20b%40c.io&password=long+enough+pass")),
            "-1100");
  EXPECT_EQ(code(Call("POST", "/api/v1/users", "email=x%40y.io&password=%FF%FE%FD%FC%FB%FA%F9%F8")),
            "-1100");
  EXPECT_EQ(Call("POST", "/api/v1/users", "email=" + NewEmail("k") + "&password=short").body,
            "{\"code\":-7004,\"msg\":\"Password rejected: password must be at least 8 "
            "characters.\"}");
  EXPECT_EQ(code(Call("POST", "/api/v1/users",
                      "email=" + NewEmail("k") + "&password=" + std::string(129, 'x'))),
            "-7004");
  EXPECT_EQ(Call("POST", "/api/v1/users",
                 "email=" + NewEmail("k") + "&password=long+enough+pass&admin=true")
                .body,
            "{\"code\":-1104,\"msg\":\"Not all sent parameters were read; read '2' parameter(s) "
            "but was sent '3'.\"}");
  EXPECT_EQ(code(Call("POST", "/api/v1/session", "email=x%40y.io")), "-1102");

  const std::string email = NewEmail("kate");
  RegisterUser(email);
  const std::string auth = Bearer(LoginToken(email));
  EXPECT_EQ(code(Call("POST", "/api/v1/apiKeys", "type=RSA", auth)), "-1100");
  EXPECT_EQ(code(Call("POST", "/api/v1/apiKeys", "permissions=READ%2CWITHDRAW", auth)), "-1130");
  EXPECT_EQ(code(Call("POST", "/api/v1/apiKeys", "permissions=READ%2CREAD", auth)), "-1130");
  EXPECT_EQ(code(Call("POST", "/api/v1/apiKeys", "ipAllowList=300.1.1.1", auth)), "-1130");
  EXPECT_EQ(code(Call("POST", "/api/v1/apiKeys", "label=" + std::string(129, 'l'), auth)),
            "-1130");
  EXPECT_EQ(code(Call("POST", "/api/v1/apiKeys", "color=red", auth)), "-1104");
  EXPECT_EQ(code(Call("DELETE", "/api/v1/apiKeys?id=abc", "", auth)), "-1100");
  EXPECT_EQ(code(Call("DELETE", "/api/v1/apiKeys", "", auth)), "-1102");
  EXPECT_EQ(code(Call("GET", "/api/v1/me?x=1", "", auth)), "-1104");
  EXPECT_EQ(Call("GET", "/api/v1/apiKeys", "", auth).body, "[]");

  EXPECT_EQ(code(Call("POST", "/api/v1/admin/deposit", "asset=BTC&amount=1", Admin())), "-1102");
  EXPECT_EQ(code(Call("POST", "/api/v1/admin/deposit", "userId=1&asset=BTC&amount=1&x=2",
                      Admin())),
            "-1104");
  EXPECT_EQ(code(Call("POST", "/api/v1/admin/deposit", "userId=-1&asset=BTC&amount=1", Admin())),
            "-1100");
  EXPECT_EQ(code(Call("POST", "/api/v1/admin/freeze", "userId=1&frozen=maybe", Admin())), "-1100");
}

TEST_F(UsersTest, DemoUsersAreCreatedOnceWithTheirCredentials) {
  DemoUsersOptions options;
  options.path = stack_->dir.path() + "/var/demo/users.json";
  options.emails = {NewEmail("demo"), NewEmail("demo")};
  auto outcome = CreateDemoUsers(*stack_->service, options);
  ASSERT_TRUE(outcome) << outcome.error();
  ASSERT_TRUE(outcome->created);
  ASSERT_EQ(outcome->users.size(), 2u);

  struct stat st {};
  ASSERT_EQ(::stat(options.path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string text = spotex::testing::ReadFile(options.path);
  EXPECT_EQ(text, DemoUsersJson(outcome->users));
  EXPECT_EQ(text.front(), '[');
  for (const DemoUser& u : outcome->users) {
    EXPECT_NE(text.find("{\"email\":\"" + u.email + "\",\"password\":\"" + u.password +
                        "\",\"apiKey\":\"" + u.api_key + "\",\"apiSecret\":\"" + u.api_secret +
                        "\",\"userId\":" + std::to_string(u.user_id) + "}"),
              std::string::npos)
        << text;
    EXPECT_EQ(u.api_secret.size(), auth::kHmacSecretChars);
    // The credentials work and the key is READ+TRADE, sealed for the authenticator.
    EXPECT_FALSE(LoginToken(u.email, u.password).empty());
    auto lease = stack_->pool->Acquire();
    ASSERT_TRUE(lease);
    db::UserStore store(**lease);
    auto key = store.FindApiKey(u.api_key);
    ASSERT_TRUE(key);
    EXPECT_EQ(key->permissions, db::kPermissionRead | db::kPermissionTrade);
    auto secret = auth::DecryptSecret(stack_->keyring, key->secret_ciphertext, u.api_key);
    ASSERT_TRUE(secret);
    EXPECT_EQ(secret->view(), u.api_secret);
    const std::string balances = Balances(u.user_id);
    EXPECT_NE(balances.find("{\"asset\":\"BTC\",\"free\":\"10.00000000\""), std::string::npos)
        << balances;
    EXPECT_NE(balances.find("{\"asset\":\"USDT\",\"free\":\"1000000.00000000\""),
              std::string::npos);
  }

  // Idempotent: the file is there, nothing is done.
  auto again = CreateDemoUsers(*stack_->service, options);
  ASSERT_TRUE(again) << again.error();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(spotex::testing::ReadFile(options.path), text);

  // The file lost but the users still there: refused, no duplicates.
  std::filesystem::remove(options.path);
  auto lost = CreateDemoUsers(*stack_->service, options);
  ASSERT_FALSE(lost);
  EXPECT_NE(lost.error().find("already exists in the database"), std::string::npos)
      << lost.error();
  EXPECT_FALSE(std::filesystem::exists(options.path));
}

}  // namespace
}  // namespace spotex::gateway::users::testing
