// Operator endpoints of /api/v1/admin (docs/api-v1.md), protected by a shared token read from
// the secrets directory (file `admin-token`) and sent as `X-Spotex-Admin-Token`:
//
//   POST /api/v1/admin/deposit   userId, asset, amount   -> {"userId","asset","amount","seq"}
//   POST /api/v1/admin/withdraw  userId, asset, amount   -> {"userId","asset","amount","seq"}
//   POST /api/v1/admin/freeze    userId, frozen          -> {"userId","status","seq"}
//
// Money moves only through engine commands on the command log (journaled, replicated, replayed
// like any other); the answer comes once the engine made the command durable. Asset names and
// scales are the engine's (`assets` query). Freezing sets the user's status in PostgreSQL (no
// login, no new keys, and the authenticator refuses its keys) and then freezes the engine
// account (no orders, no withdrawals).
//
// Thread safety: Register() once before the server starts; the handlers are thread-safe.
#pragma once

#include <array>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/http/router.h"
#include "gateway/users/user_service.h"
#include "gateway/users/worker_pool.h"

namespace spotex::gateway::users {

inline constexpr std::string_view kAdminTokenFile = "admin-token";
inline constexpr std::string_view kAdminTokenHeader = "X-Spotex-Admin-Token";
inline constexpr size_t kAdminTokenBytesMin = 16;
inline constexpr size_t kAdminTokenBytesMax = 256;

// The admin token, kept only as its BLAKE2b-256 digest. Matches() hashes the presented value
// and compares the digests with sodium_memcmp, so the comparison takes the same time whatever
// the value and its length. Copyable; a const AdminToken may be shared by threads.
class AdminToken {
 public:
  // 16..256 printable ASCII characters without spaces; else an error text.
  [[nodiscard]] static std::expected<AdminToken, std::string> FromString(std::string_view token);
  // Reads <secrets_dir>/admin-token (its first line, trailing whitespace cut).
  [[nodiscard]] static std::expected<AdminToken, std::string> Load(const std::string& secrets_dir);

  // Whether `presented` (the header's value; nullopt when absent) is the token.
  [[nodiscard]] bool Matches(std::optional<std::string_view> presented) const;

 private:
  AdminToken() = default;
  std::array<unsigned char, 32> digest_{};
};

class AdminApi {
 public:
  AdminApi(UserService& service, WorkerPool& workers, AdminToken token)
      : service_(service), workers_(workers), token_(token) {}

  // Adds the routes above. False if one was already taken.
  [[nodiscard]] bool Register(http::Router& router);

 private:
  void Transfer(http::Request&& request, http::Responder responder, bool deposit);
  void Freeze(http::Request&& request, http::Responder responder);

  UserService& service_;
  WorkerPool& workers_;
  const AdminToken token_;
};

}  // namespace spotex::gateway::users
