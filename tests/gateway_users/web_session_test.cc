// The browser's cookie session (POST/DELETE /api/v1/web/session) over real HTTP: the token only
// in an HttpOnly SameSite=Strict cookie, the cookie accepted on /api/v1 only with the CSRF
// header and a same-origin Origin, logout clearing it. The fixture's requests carry "Host: t".
#include "users_fixture.h"

namespace spotex::gateway::users::testing {
namespace {

// The token of a Set-Cookie value "spotex_session=<token>; ...".
std::string CookieToken(const std::string& set_cookie) {
  const std::string prefix = "spotex_session=";
  if (!set_cookie.starts_with(prefix)) return {};
  return set_cookie.substr(prefix.size(), set_cookie.find(';') - prefix.size());
}

TEST_F(UsersTest, WebSessionCookieLoginUseAndLogout) {
  const std::string email = NewEmail("web");
  const int64_t id = RegisterUser(email);
  auto login = Call("POST", "/api/v1/web/session",
                    "email=" + email + "&password=" + Encode("correct horse battery"));
  ASSERT_EQ(login.status, 200) << login.body;
  const std::string set_cookie = login.Header("set-cookie");
  const std::string token = CookieToken(set_cookie);
  ASSERT_EQ(token.size(), 43u) << set_cookie;
  EXPECT_NE(set_cookie.find("; Path=/; HttpOnly; SameSite=Strict; Max-Age=86400"),
            std::string::npos)
      << set_cookie;
  EXPECT_EQ(set_cookie.find("Secure"), std::string::npos);  // plain HTTP, no trusted proxy
  EXPECT_EQ(login.body.find(token), std::string::npos) << "token leaked into the body";
  EXPECT_EQ(login.body.find("\"token\""), std::string::npos);
  EXPECT_EQ(spotex::testing::JsonField(login.body, "userId"), std::to_string(id));
  EXPECT_EQ(spotex::testing::JsonField(login.body, "email"), email);
  EXPECT_FALSE(spotex::testing::JsonField(login.body, "expiresAt").empty());

  const std::string cookie = "Cookie: spotex_session=" + token + "\r\n";
  const std::string csrf = "X-Spotex-CSRF: 1\r\n";
  auto me = Call("GET", "/api/v1/me", "", cookie + csrf);
  EXPECT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(spotex::testing::JsonField(me.body, "email"), email);
  EXPECT_EQ(Call("GET", "/api/v1/me", "", cookie + csrf + "Origin: http://t\r\n").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/apiKeys", "", cookie + csrf).status, 200);

  // The cookie alone (what a cross-site form or image would send) is not a credential.
  auto bare = Call("GET", "/api/v1/me", "", cookie);
  EXPECT_EQ(bare.status, 401);
  EXPECT_EQ(spotex::testing::JsonField(bare.body, "code"), "-1002");
  EXPECT_EQ(Call("POST", "/api/v1/apiKeys", "type=HMAC_SHA256&permissions=READ", cookie).status,
            401);
  // Another origin, even with the header.
  auto cross = Call("GET", "/api/v1/me", "", cookie + csrf + "Origin: http://evil.test\r\n");
  EXPECT_EQ(cross.status, 401);
  EXPECT_EQ(Call("DELETE", "/api/v1/web/session", "", cookie).status, 401);

  // Logout revokes the session and clears the cookie.
  auto out = Call("DELETE", "/api/v1/web/session", "", cookie + csrf);
  EXPECT_EQ(out.status, 200) << out.body;
  EXPECT_EQ(out.body, "{}");
  EXPECT_EQ(out.Header("set-cookie"),
            "spotex_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
  EXPECT_EQ(Call("GET", "/api/v1/me", "", cookie + csrf).status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/me", "", Bearer(token)).status, 401);
}

// GET /api/v1/web/session: the page's "am I signed in?" is answered 200 either way, so a
// signed-out visitor's page load logs no 401; a cookie without the CSRF header counts as none.
TEST_F(UsersTest, WebSessionStateAnswersSignedOutWithoutAnError) {
  const std::string email = NewEmail("webstate");
  const int64_t id = RegisterUser(email);
  const std::string csrf = "X-Spotex-CSRF: 1\r\n";
  auto none = Call("GET", "/api/v1/web/session", "", csrf);
  EXPECT_EQ(none.status, 200) << none.body;
  EXPECT_EQ(none.body, "{\"signedIn\":false}");
  auto unknown = Call("GET", "/api/v1/web/session", "",
                      "Cookie: spotex_session=" + std::string(43, 'A') + "\r\n" + csrf);
  EXPECT_EQ(unknown.status, 200) << unknown.body;
  EXPECT_EQ(unknown.body, "{\"signedIn\":false}");
  EXPECT_EQ(spotex::testing::JsonField(Call("GET", "/api/v1/web/session?x=1", "", csrf).body,
                                       "code"),
            "-1104");

  auto login = Call("POST", "/api/v1/web/session",
                    "email=" + email + "&password=" + Encode("correct horse battery"));
  ASSERT_EQ(login.status, 200) << login.body;
  const std::string set_cookie = login.Header("set-cookie");
  const std::string cookie =
      "Cookie: " + set_cookie.substr(0, set_cookie.find(';')) + "\r\n";
  auto in = Call("GET", "/api/v1/web/session", "", cookie + csrf);
  EXPECT_EQ(in.status, 200) << in.body;
  EXPECT_EQ(spotex::testing::JsonField(in.body, "signedIn"), "true");
  EXPECT_EQ(spotex::testing::JsonField(in.body, "userId"), std::to_string(id));
  EXPECT_EQ(spotex::testing::JsonField(in.body, "email"), email);
  EXPECT_EQ(spotex::testing::JsonField(in.body, "status"), "ACTIVE");
  EXPECT_EQ(Call("GET", "/api/v1/web/session", "", cookie).body, "{\"signedIn\":false}");
}

TEST_F(UsersTest, WebSessionLoginErrorsAreTheBearerLoginErrors) {
  const std::string email = NewEmail("weberr");
  RegisterUser(email);
  for (const std::string path : {"/api/v1/session", "/api/v1/web/session"}) {
    auto wrong = Call("POST", path, "email=" + email + "&password=wrong-password-1");
    EXPECT_EQ(wrong.status, 401) << path << " " << wrong.body;
    EXPECT_EQ(spotex::testing::JsonField(wrong.body, "code"), "-7002") << path;
    EXPECT_TRUE(wrong.Header("set-cookie").empty());
    auto missing = Call("POST", path, "email=" + email);
    EXPECT_EQ(spotex::testing::JsonField(missing.body, "code"), "-1102") << path;
  }
}

}  // namespace
}  // namespace spotex::gateway::users::testing
