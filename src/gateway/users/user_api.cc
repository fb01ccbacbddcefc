#include "gateway/users/user_api.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>
#include <utility>

#include "gateway/auth/web_session.h"
#include "gateway/users/errors.h"
#include "gateway/users/json.h"
#include "service/log.h"

namespace spotex::gateway::users {
namespace {

using http::Params;
using http::Responder;
using http::Response;

void Fail(Responder& responder, const http::Error& error) {
  responder.Send(Response::FromError(error));
}

// Parses the request's parameters; on an error answers it and returns nullopt.
std::optional<Params> ParamsOf(const http::Request& request, Responder& responder) {
  auto params = Params::FromRequest(request);
  if (!params) {
    Fail(responder, params.error());
    return std::nullopt;
  }
  return std::move(*params);
}

// CheckAllRead; on an error answers it and returns false.
bool AllRead(const Params& params, Responder& responder) {
  if (auto all = params.CheckAllRead(); !all) {
    Fail(responder, all.error());
    return false;
  }
  return true;
}

std::string KeyJson(const db::ApiKeyInfo& k) {
  std::string out = "{\"id\":" + std::to_string(k.id) + ",\"apiKey\":";
  http::AppendJsonString(out, k.api_key);
  out += ",\"type\":";
  http::AppendJsonString(out, db::ToString(k.kind));
  out += ",\"permissions\":";
  AppendPermissions(out, k.permissions);
  out += ",\"ipAllowList\":";
  AppendStringList(out, k.ip_allowlist);
  out += ",\"label\":";
  http::AppendJsonString(out, k.label);
  out += ",\"createdAt\":" + std::to_string(k.created_at_ms) + "}";
  return out;
}

}  // namespace

http::Result<std::string> BearerToken(const http::Request& request) {
  // The Bearer header or the browser's cookie under the CSRF rule (gateway/auth/web_session.h).
  const std::optional<std::string_view> token = SessionToken(request);
  if (!token.has_value() || !auth::SessionTokenHash(*token).has_value()) {
    return std::unexpected(errors::Unauthorized());
  }
  return std::string(*token);
}

UserApi::UserApi(UserService& service, SessionStore& sessions, WorkerPool& workers, Clock clock,
                 UserApiOptions options)
    : service_(service),
      sessions_(sessions),
      workers_(workers),
      clock_(std::move(clock)),
      options_(options) {
  options_.session_ttl = std::clamp(options_.session_ttl, std::chrono::seconds(60),
                                    std::chrono::seconds(30L * 24 * 3600));
}

bool UserApi::Register(http::Router& router) {
  using M = http::Method;
  auto bind = [this](void (UserApi::*fn)(http::Request&&, Responder)) {
    return [this, fn](http::Request&& request, Responder responder) {
      (this->*fn)(std::move(request), std::move(responder));
    };
  };
  bool ok = router.Add(M::kPost, "/api/v1/users", bind(&UserApi::CreateUser));
  ok = router.Add(M::kPost, "/api/v1/session", bind(&UserApi::Login)) && ok;
  ok = router.Add(M::kDelete, "/api/v1/session", bind(&UserApi::Logout)) && ok;
  ok = router.Add(M::kPost, "/api/v1/web/session", bind(&UserApi::WebLogin)) && ok;
  ok = router.Add(M::kDelete, "/api/v1/web/session", bind(&UserApi::WebLogout)) && ok;
  ok = router.Add(M::kGet, "/api/v1/web/session", bind(&UserApi::WebSessionState)) && ok;
  ok = router.Add(M::kGet, "/api/v1/me", bind(&UserApi::Me)) && ok;
  ok = router.Add(M::kGet, "/api/v1/apiKeys", bind(&UserApi::ListKeys)) && ok;
  ok = router.Add(M::kPost, "/api/v1/apiKeys", bind(&UserApi::CreateKey)) && ok;
  ok = router.Add(M::kDelete, "/api/v1/apiKeys", bind(&UserApi::DeleteKey)) && ok;
  return ok;
}

http::Result<int64_t> UserApi::SessionUser(const std::string& token) {
  auto user = sessions_.Find(token);
  if (!user) {
    service::Log(service::LogLevel::kWarn, "users", "session store: " + user.error());
    return std::unexpected(BackendUnavailable());
  }
  if (!user->has_value()) {
    return std::unexpected(errors::Unauthorized());
  }
  return **user;
}

void UserApi::CreateUser(http::Request&& request, Responder responder) {
  auto params = ParamsOf(request, responder);
  if (!params) {
    return;
  }
  auto email = params->GetString("email");
  auto password = email ? params->GetString("password") : email;
  if (!email || !password) {
    Fail(responder, !email ? email.error() : password.error());
    return;
  }
  if (auto ok = ValidateEmail(*email); !ok) {
    Fail(responder, ok.error());
    return;
  }
  if (auto ok = ValidateNewPassword(*password, *email); !ok) {
    Fail(responder, ok.error());
    return;
  }
  if (!AllRead(*params, responder)) {
    return;
  }
  workers_.Run(std::move(responder), [this, p = std::move(*params)](Responder& r) mutable {
    auto user = service_.Register(*p.GetString("email"), *p.GetString("password"));
    if (!user) {
      Fail(r, user.error());
      return;
    }
    std::string body = "{\"userId\":" + std::to_string(user->id) + ",\"email\":";
    http::AppendJsonString(body, user->email);
    body += '}';
    r.Send(Response::Json(200, std::move(body)));
  });
}

void UserApi::Login(http::Request&& request, Responder responder) {
  StartSession(std::move(request), std::move(responder), false);
}

void UserApi::WebLogin(http::Request&& request, Responder responder) {
  StartSession(std::move(request), std::move(responder), true);
}

bool UserApi::FromTls(const http::Request& request) const {
  const auto proto = request.Header("X-Forwarded-Proto");
  if (!proto.has_value() || *proto != "https") {
    return false;
  }
  return std::find(options_.trusted_proxies.begin(), options_.trusted_proxies.end(),
                   request.peer_ip()) != options_.trusted_proxies.end();
}

void UserApi::StartSession(http::Request&& request, Responder responder, bool cookie) {
  auto params = ParamsOf(request, responder);
  if (!params) {
    return;
  }
  auto email = params->GetString("email");
  auto password = email ? params->GetString("password") : email;
  if (!email || !password) {
    Fail(responder, !email ? email.error() : password.error());
    return;
  }
  if (!AllRead(*params, responder)) {
    return;
  }
  const bool secure = cookie && FromTls(request);
  workers_.Run(std::move(responder), [this, p = std::move(*params), cookie,
                                      secure](Responder& r) mutable {
    auto user = service_.CheckLogin(*p.GetString("email"), *p.GetString("password"));
    if (!user) {
      Fail(r, user.error());
      return;
    }
    const int64_t now_ms = clock_();
    auto token = sessions_.Create(user->id, options_.session_ttl);
    if (!token) {
      service::Log(service::LogLevel::kWarn, "users", "session store: " + token.error());
      Fail(r, BackendUnavailable());
      return;
    }
    const int64_t expires_ms =
        now_ms + std::chrono::duration_cast<std::chrono::milliseconds>(options_.session_ttl)
                     .count();
    if (cookie) {
      // The browser's session: the token only in the HttpOnly cookie, never in the body.
      std::string body = "{\"userId\":" + std::to_string(user->id) + ",\"email\":";
      http::AppendJsonString(body, user->email);
      body += ",\"expiresAt\":" + std::to_string(expires_ms) + "}";
      Response response = Response::Json(200, std::move(body));
      response.headers.emplace_back("Set-Cookie",
                                    SessionCookie(*token, options_.session_ttl.count(), secure));
      response.headers.emplace_back("Cache-Control", "no-store");
      r.Send(std::move(response));
      return;
    }
    std::string body = "{\"token\":";
    http::AppendJsonString(body, *token);
    body += ",\"expiresAt\":" + std::to_string(expires_ms) +
            ",\"userId\":" + std::to_string(user->id) + "}";
    r.Send(Response::Json(200, std::move(body)));
  });
}

void UserApi::Logout(http::Request&& request, Responder responder) {
  EndSession(std::move(request), std::move(responder), false);
}

void UserApi::WebLogout(http::Request&& request, Responder responder) {
  EndSession(std::move(request), std::move(responder), true);
}

void UserApi::EndSession(http::Request&& request, Responder responder, bool cookie) {
  auto token = BearerToken(request);
  if (!token) {
    Fail(responder, token.error());
    return;
  }
  auto params = ParamsOf(request, responder);
  if (!params || !AllRead(*params, responder)) {
    return;
  }
  const bool secure = cookie && FromTls(request);
  workers_.Run(std::move(responder), [this, t = std::move(*token), cookie, secure](Responder& r) {
    // Ending a session that no longer exists is not an error: logging out twice, or after
    // the session expired, leaves the client where it wanted to be.
    if (auto done = sessions_.Delete(t); !done) {
      service::Log(service::LogLevel::kWarn, "users", "session store: " + done.error());
      Fail(r, BackendUnavailable());
      return;
    }
    if (options_.on_session_ended) {
      options_.on_session_ended(t);  // this replica's session user streams close at once
    }
    Response response = Response::Json(200, "{}");
    if (cookie) {
      response.headers.emplace_back("Set-Cookie", SessionCookie("", 0, secure));
    }
    r.Send(std::move(response));
  });
}

void UserApi::Me(http::Request&& request, Responder responder) {
  Profile(std::move(request), std::move(responder), false);
}

void UserApi::WebSessionState(http::Request&& request, Responder responder) {
  Profile(std::move(request), std::move(responder), true);
}

void UserApi::Profile(http::Request&& request, Responder responder, bool signed_out_ok) {
  // The page asks on every load whether it is signed in; "no" is an answer there, not an error
  // (a 401 would be one more error in the browser's console for every signed-out visitor).
  static constexpr std::string_view kSignedOut = "{\"signedIn\":false}";
  auto token = BearerToken(request);
  if (!token && !(signed_out_ok && token.error() == errors::Unauthorized())) {
    Fail(responder, token.error());
    return;
  }
  auto params = ParamsOf(request, responder);
  if (!params || !AllRead(*params, responder)) {
    return;
  }
  if (!token) {
    responder.Send(Response::Json(200, std::string(kSignedOut)));
    return;
  }
  workers_.Run(std::move(responder), [this, t = std::move(*token), signed_out_ok](Responder& r) {
    auto user_id = SessionUser(t);
    auto user = user_id ? service_.FindUser(*user_id) : std::unexpected(user_id.error());
    if (!user) {
      // A session of a user that no longer exists cannot happen (users are never deleted),
      // but if it did, it would authorize nothing.
      const http::Error error =
          user.error() == errors::UnknownUser() ? errors::Unauthorized() : user.error();
      if (signed_out_ok && error == errors::Unauthorized()) {
        r.Send(Response::Json(200, std::string(kSignedOut)));
      } else {
        Fail(r, error);
      }
      return;
    }
    std::string body = signed_out_ok ? "{\"signedIn\":true,\"userId\":" : "{\"userId\":";
    body += std::to_string(user->id) + ",\"email\":";
    http::AppendJsonString(body, user->email);
    body += ",\"status\":";
    http::AppendJsonString(body, user->status == db::UserStatus::kFrozen ? "FROZEN" : "ACTIVE");
    body += '}';
    r.Send(Response::Json(200, std::move(body)));
  });
}

void UserApi::ListKeys(http::Request&& request, Responder responder) {
  auto token = BearerToken(request);
  if (!token) {
    Fail(responder, token.error());
    return;
  }
  auto params = ParamsOf(request, responder);
  if (!params || !AllRead(*params, responder)) {
    return;
  }
  workers_.Run(std::move(responder), [this, t = std::move(*token)](Responder& r) {
    auto user_id = SessionUser(t);
    auto keys = user_id ? service_.ListApiKeys(*user_id) : std::unexpected(user_id.error());
    if (!keys) {
      Fail(r, keys.error());
      return;
    }
    std::string body = "[";
    for (const db::ApiKeyInfo& k : *keys) {
      if (body.size() > 1) {
        body += ',';
      }
      body += KeyJson(k);
    }
    body += ']';
    r.Send(Response::Json(200, std::move(body)));
  });
}

void UserApi::CreateKey(http::Request&& request, Responder responder) {
  auto token = BearerToken(request);
  if (!token) {
    Fail(responder, token.error());
    return;
  }
  auto params = ParamsOf(request, responder);
  if (!params) {
    return;
  }
  auto key_request = ReadApiKeyRequest(*params);
  if (!key_request) {
    Fail(responder, key_request.error());
    return;
  }
  if (!AllRead(*params, responder)) {
    return;
  }
  workers_.Run(std::move(responder), [this, t = std::move(*token),
                                      k = std::move(*key_request)](Responder& r) mutable {
    auto user_id = SessionUser(t);
    auto key = user_id ? service_.CreateApiKey(*user_id, std::move(k))
                       : std::unexpected(user_id.error());
    if (!key) {
      Fail(r, key.error());
      return;
    }
    std::string body = "{\"id\":" + std::to_string(key->id) + ",\"apiKey\":";
    http::AppendJsonString(body, key->api_key);
    if (!key->secret.empty()) {
      // The only time the secret is ever shown.
      body += ",\"secretKey\":";
      http::AppendJsonString(body, key->secret.view());
    }
    body += ",\"type\":";
    http::AppendJsonString(body, db::ToString(key->request.kind));
    body += ",\"permissions\":";
    AppendPermissions(body, key->request.permissions);
    body += ",\"ipAllowList\":";
    AppendStringList(body, key->request.ip_allowlist);
    body += ",\"label\":";
    http::AppendJsonString(body, key->request.label);
    body += '}';
    Response response = Response::Json(200, std::move(body));
    response.headers.emplace_back("Cache-Control", "no-store");
    r.Send(std::move(response));
  });
}

void UserApi::DeleteKey(http::Request&& request, Responder responder) {
  auto token = BearerToken(request);
  if (!token) {
    Fail(responder, token.error());
    return;
  }
  auto params = ParamsOf(request, responder);
  if (!params) {
    return;
  }
  auto id = params->GetLong("id", http::LongRange{1, INT64_MAX});
  if (!id) {
    Fail(responder, id.error());
    return;
  }
  if (!AllRead(*params, responder)) {
    return;
  }
  workers_.Run(std::move(responder), [this, t = std::move(*token), key_id = *id](Responder& r) {
    auto user_id = SessionUser(t);
    auto done = user_id ? service_.DeleteApiKey(*user_id, key_id)
                        : std::unexpected(user_id.error());
    if (!done) {
      Fail(r, done.error());
      return;
    }
    r.Send(Response::Json(200, "{}"));
  });
}

}  // namespace spotex::gateway::users
