// The account endpoints of /api/v1 (docs/api-v1.md): registration, login sessions, the
// caller's profile and API keys. Web-UI style: parameters as a form body or query string,
// authentication by `Authorization: Bearer <session token>` or, from the browser, the
// `spotex_session` cookie with the CSRF header (gateway/auth/web_session.h), JSON answers,
// errors as Binance's {"code":...,"msg":...}. "(Bearer)" and "(session)" below accept both.
//
//   POST   /api/v1/users     email, password              -> {"userId","email"}
//   POST   /api/v1/session   email, password              -> {"token","expiresAt","userId"}
//   DELETE /api/v1/session   (Bearer)                     -> {}
//   POST   /api/v1/web/session  email, password           -> {"userId","email","expiresAt"}
//                                                         + Set-Cookie spotex_session (HttpOnly)
//   DELETE /api/v1/web/session  (session)                 -> {} + Set-Cookie clearing it
//   GET    /api/v1/web/session  (session, optional)       -> {"signedIn":true,"userId","email",
//                                                            "status"} or {"signedIn":false}
//   GET    /api/v1/me        (Bearer)                     -> {"userId","email","status"}
//   GET    /api/v1/apiKeys   (Bearer)                     -> [{"id","apiKey","type",...}]
//   POST   /api/v1/apiKeys   (Bearer) type, publicKey, permissions, ipAllowList, label
//                                                         -> {"id","apiKey","secretKey",...}
//   DELETE /api/v1/apiKeys   (Bearer) id                  -> {}
//
// Handlers parse and check their parameters on the I/O thread (cheap), then hand the rest
// (hashing, database, session store, engine) to the WorkerPool, which answers.
//
// Thread safety: Register() once before the server starts; the handlers are thread-safe. The
// service, session store and pool must outlive the server that calls the handlers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gateway/api/ports.h"
#include "gateway/http/router.h"
#include "gateway/users/user_service.h"
#include "gateway/users/worker_pool.h"

namespace spotex::gateway::users {

struct UserApiOptions {
  // Lifetime of a login session (Redis TTL); 1 minute .. 30 days.
  std::chrono::seconds session_ttl{std::chrono::hours(24)};
  // Peers (IP addresses as the server prints them) whose `X-Forwarded-Proto: https` marks the
  // client connection as TLS: the session cookie then gets `Secure`.
  std::vector<std::string> trusted_proxies;
  // Called on a pool thread after a session was deleted (logout), with its token: ends the
  // session's user streams on this replica. Optional; must be thread-safe.
  std::function<void(const std::string& token)> on_session_ended;
};

class UserApi {
 public:
  using Clock = std::function<int64_t()>;  // ms since the epoch

  UserApi(UserService& service, SessionStore& sessions, WorkerPool& workers, Clock clock,
          UserApiOptions options = {});

  // Adds the routes above to `router`. False if one of them was already taken.
  [[nodiscard]] bool Register(http::Router& router);

 private:
  void CreateUser(http::Request&& request, http::Responder responder);
  void Login(http::Request&& request, http::Responder responder);
  void Logout(http::Request&& request, http::Responder responder);
  void WebLogin(http::Request&& request, http::Responder responder);
  void WebLogout(http::Request&& request, http::Responder responder);
  // Login and logout, answering with the token in the body or (cookie) in Set-Cookie.
  void StartSession(http::Request&& request, http::Responder responder, bool cookie);
  void EndSession(http::Request&& request, http::Responder responder, bool cookie);
  // The client reached the proxy over TLS (X-Forwarded-Proto https from a trusted proxy).
  bool FromTls(const http::Request& request) const;
  void Me(http::Request&& request, http::Responder responder);
  void WebSessionState(http::Request&& request, http::Responder responder);
  // The session's user; with signed_out_ok no or a dead session is {"signedIn":false}, not -1002.
  void Profile(http::Request&& request, http::Responder responder, bool signed_out_ok);
  void ListKeys(http::Request&& request, http::Responder responder);
  void CreateKey(http::Request&& request, http::Responder responder);
  void DeleteKey(http::Request&& request, http::Responder responder);

  // On a pool thread: the live session's user id, or -1002 / -1001.
  http::Result<int64_t> SessionUser(const std::string& token);

  UserService& service_;
  SessionStore& sessions_;
  WorkerPool& workers_;
  Clock clock_;
  UserApiOptions options_;
};

// The session token of `Authorization: Bearer <token>`, else of the spotex_session cookie under
// the CSRF rule (gateway/auth/web_session.h), if it is well formed (auth::SessionTokenHash);
// else -1002 (HTTP 401). Exposed for tests.
[[nodiscard]] http::Result<std::string> BearerToken(const http::Request& request);

}  // namespace spotex::gateway::users
