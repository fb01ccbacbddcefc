// The errors of the account and admin endpoints that Binance has no code for (docs/api-v1.md).
// Spotex's own codes are in -7001..-7099, a range Binance's spot API does not use, so a client
// that maps Binance codes never mistakes one of them for a Binance condition. Where Binance has
// a code for the condition (-1002 not authorized, -1100 bad format, -1102 missing, -1104
// unread, -1130 invalid value, -2010 insufficient balance) that code is used instead.
#pragma once

#include "gateway/http/error.h"

namespace spotex::gateway::users::errors {

// -1002, HTTP 401: no or wrong admin token; no, malformed, unknown or expired session token.
inline http::Error Unauthorized() {
  return http::Error{-1002, "You are not authorized to execute this request.", 401};
}
// -7001, HTTP 400: another user has this email (compared ignoring case).
inline http::Error EmailTaken() {
  return http::Error{-7001, "This email address is already registered.", 400};
}
// -7002, HTTP 401: login with an unknown email or a wrong password (the same answer for both).
inline http::Error BadCredentials() {
  return http::Error{-7002, "Invalid email or password.", 401};
}
// -7003, HTTP 403: the user is frozen: no login, no new API keys.
inline http::Error AccountFrozen() {
  return http::Error{-7003, "This account is frozen.", 403};
}
// -7004, HTTP 400: the new password breaks the policy; `reason` is auth::Describe's text.
inline http::Error PasswordRejected(std::string_view reason) {
  return http::Error{-7004, "Password rejected: " + std::string(reason) + ".", 400};
}
// -7005, HTTP 400: the user already has db::kApiKeysPerUserMax live keys.
inline http::Error TooManyApiKeys() {
  return http::Error{-7005, "Too many API keys; delete one first.", 400};
}
// -7006, HTTP 400: no live key with this id belongs to the caller.
inline http::Error UnknownApiKey() { return http::Error{-7006, "Unknown API key.", 400}; }
// -7007, HTTP 400: the admin endpoints name a user that does not exist.
inline http::Error UnknownUser() { return http::Error{-7007, "Unknown user.", 400}; }

}  // namespace spotex::gateway::users::errors
