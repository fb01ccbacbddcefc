// The browser's session cookie on the signed /api/v3 endpoints (gateway/auth/web_session.h):
// accepted like a Bearer session only with the X-Spotex-CSRF header and a same-origin (or
// absent) Origin; otherwise ignored, so the request has no credential at all.
#include <gtest/gtest.h>

#include "auth/errors.h"
#include "auth_fixture.h"
#include "gateway/auth/authenticator.h"
#include "gateway/auth/web_session.h"

namespace spotex::testing {
namespace {

namespace ae = auth::errors;
using auth::SecurityType;
using http::Method;

TEST_F(GatewayAuthTest, SessionCookieNeedsTheCsrfHeaderAndTheSameOrigin) {
  const int64_t user = NewUser("cookie@example.com");
  auto token = sessions_.Create(user, std::chrono::seconds(3600));
  ASSERT_TRUE(token);
  const std::string cookie = "theme=dark; spotex_session=" + *token + "; other=1";
  auto call = [&](http::HeaderList headers) {
    headers.emplace_back("Host", "exchange.test:8080");
    headers.emplace_back("Cookie", cookie);
    return Run(MakeRequest(Method::kGet, "/api/v3/account", "", std::move(headers)),
               SecurityType::kUserData);
  };
  auto ok = call({{"X-Spotex-CSRF", "1"}});
  ASSERT_TRUE(ok.has_value()) << ok.error().msg;
  EXPECT_EQ(ok->account, user);
  EXPECT_EQ(ok->api_key_id, 0);
  EXPECT_EQ(ok->permissions, db::kPermissionRead | db::kPermissionTrade);
  auto same_origin = call({{"X-Spotex-CSRF", "1"}, {"Origin", "http://exchange.test:8080"}});
  EXPECT_TRUE(same_origin.has_value());

  // Without the CSRF header, or from another origin, the cookie is not a credential.
  EXPECT_AUTH_ERROR(call({}), ae::kApiKeyFormatInvalid);
  EXPECT_AUTH_ERROR(call({{"X-Spotex-CSRF", ""}}), ae::kApiKeyFormatInvalid);
  for (const char* origin : {"http://evil.test", "http://exchange.test:8081", "null",
                             "http://exchange.test:8080.evil.test"}) {
    SCOPED_TRACE(origin);
    EXPECT_AUTH_ERROR(call({{"X-Spotex-CSRF", "1"}, {"Origin", origin}}), ae::kApiKeyFormatInvalid);
  }
  // Logged out: refused like a Bearer session.
  ASSERT_TRUE(sessions_.Delete(*token));
  EXPECT_AUTH_ERROR(call({{"X-Spotex-CSRF", "1"}}), ae::kRejectedApiKey);
}

TEST(WebSession, CookieParsingAndSameOrigin) {
  http::HeaderList h{{"cookie", "a=1;spotex_session=\"tok\" ; b=2"}};
  EXPECT_EQ(gateway::CookieValue(h, "spotex_session"), "tok");
  EXPECT_EQ(gateway::CookieValue(h, "b"), "2");
  EXPECT_FALSE(gateway::CookieValue(h, "spotex").has_value());
  EXPECT_TRUE(gateway::SameOrigin("https://Ex.test", "ex.test"));
  EXPECT_TRUE(gateway::SameOrigin("http://127.0.0.1:9000", "127.0.0.1:9000"));
  EXPECT_FALSE(gateway::SameOrigin("ws://127.0.0.1:9000", "127.0.0.1:9000"));
  EXPECT_FALSE(gateway::SameOrigin("http://user@127.0.0.1:9000", "127.0.0.1:9000"));
  EXPECT_EQ(gateway::SessionCookie("abc", 60, false),
            "spotex_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=60");
  EXPECT_EQ(gateway::SessionCookie("", 0, true),
            "spotex_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure");
}

}  // namespace
}  // namespace spotex::testing
