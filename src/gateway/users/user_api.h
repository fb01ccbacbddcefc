// The account endpoints of /api/v1 (docs/api-v1.md): registration, login sessions, the
// caller's profile and API keys. Web-UI style: parameters as a form body or query string,
// authentication by `Authorization: Bearer <session token>`, JSON answers, errors as Binance's
// {"code":...,"msg":...}.
//
//   POST   /api/v1/users     email, password              -> {"userId","email"}
//   POST   /api/v1/session   email, password              -> {"token","expiresAt","userId"}
//   DELETE /api/v1/session   (Bearer)                     -> {}
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

#include "gateway/api/ports.h"
#include "gateway/http/router.h"
#include "gateway/users/user_service.h"
#include "gateway/users/worker_pool.h"

namespace spotex::gateway::users {

struct UserApiOptions {
  // Lifetime of a login session (Redis TTL); 1 minute .. 30 days.
  std::chrono::seconds session_ttl{std::chrono::hours(24)};
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
  void Me(http::Request&& request, http::Responder responder);
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

// The token of `Authorization: Bearer <token>` if it is well formed (auth::SessionTokenHash),
// else -1002 (HTTP 401). Exposed for tests.
[[nodiscard]] http::Result<std::string> BearerToken(const http::Request& request);

}  // namespace spotex::gateway::users
