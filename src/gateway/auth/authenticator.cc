#include "gateway/auth/authenticator.h"

#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "auth/errors.h"
#include "auth/signature.h"
#include "auth/timestamp.h"
#include "gateway/auth/web_session.h"

namespace spotex::gateway {
namespace {

constexpr std::string_view kApiKeyHeader = "X-MBX-APIKEY";

http::Error ToHttp(const auth::ApiError& error) {
  return http::Error{error.code, std::string(error.msg), error.http_status};
}

std::unexpected<http::Error> Refuse(const auth::ApiError& error) {
  return std::unexpected(ToHttp(error));
}

// `recvWindow` (optional) and then the -1021 window for `timestamp_us`. Reads recvWindow.
std::expected<int64_t, http::Error> CheckTiming(http::Params& params, int64_t timestamp_us,
                                                int64_t now_us) {
  auto recv_window_us = auth::ParseRecvWindowUs(params.GetOptionalString("recvWindow"));
  if (!recv_window_us.has_value()) {
    return Refuse(recv_window_us.error());
  }
  if (auto in_window = auth::CheckTimestampUs(timestamp_us, *recv_window_us, now_us);
      !in_window.has_value()) {
    return Refuse(in_window.error());
  }
  return *recv_window_us;
}

std::expected<auth::VerifiedSignature, auth::SignatureError> Verify(
    const ResolvedKey& key, std::string_view payload, std::string_view signature) {
  switch (key.kind) {
    case db::ApiKeyKind::kHmac:
      return auth::VerifyHmac(key.hmac_secret.view(), payload, signature);
    case db::ApiKeyKind::kEd25519:
      return auth::VerifyEd25519(key.ed25519_key, payload, signature);
  }
  return std::unexpected(auth::SignatureError::kMalformed);
}

}  // namespace

http::Error InternalError() {
  return http::Error{-1001, "Internal error; unable to process your request. Please try again.",
                     500};
}

Authenticator::Authenticator(KeyDirectory& keys, auth::ReplayCache& replays,
                             SessionStore* sessions, Clock now_us, Options options)
    : keys_(keys),
      replays_(replays),
      sessions_(sessions),
      now_us_(std::move(now_us)),
      options_(options) {}

int64_t Authenticator::SystemClockUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool Authenticator::ChecksReplays(http::Method method) const {
  switch (method) {
    case http::Method::kPost:
    case http::Method::kPut:
    case http::Method::kPatch:
    case http::Method::kOther:
      return true;
    case http::Method::kDelete:
      return options_.replay_check_delete;
    case http::Method::kGet:
    case http::Method::kHead:
    case http::Method::kOptions:
      return false;
  }
  return true;
}

std::expected<Caller, http::Error> Authenticator::Authenticate(const http::Request& request,
                                                               http::Params& params,
                                                               auth::SecurityType security) {
  const std::optional<std::string_view> api_key = request.Header(kApiKeyHeader);
  if (!api_key.has_value() && sessions_ != nullptr) {
    // The Bearer header, or the cookie with the CSRF header (web_session.h).
    if (const auto token = SessionToken(request); token.has_value()) {
      return AuthenticateSession(request, params, *token);
    }
  }
  if (auto well_formed = auth::CheckApiKeyHeader(api_key); !well_formed.has_value()) {
    return Refuse(well_formed.error());
  }
  return AuthenticateApiKey(request, params, security, *api_key);
}

std::expected<Caller, http::Error> Authenticator::AuthenticateApiKey(
    const http::Request& request, http::Params& params, auth::SecurityType security,
    std::string_view api_key) {
  const KeyLookupResult found = keys_.Find(api_key);
  if (!found.has_value()) {
    if (found.error().code == KeyLookupErrorCode::kNotFound) {
      return Refuse(auth::errors::kRejectedApiKey);
    }
    return std::unexpected(InternalError());  // the key may be fine: do not say -2015
  }
  const ResolvedKey& key = **found;
  if (!key.ip_allow_list.Allows(request.client_ip()) || !auth::Allows(key.permissions, security)) {
    return Refuse(auth::errors::kRejectedApiKey);
  }

  // -1102 for `signature` first, then `timestamp`; both before any cryptography.
  auto signed_request = auth::SignedPayload(request.query(), request.body());
  if (!signed_request.has_value()) {
    return Refuse(signed_request.error());
  }
  params.MarkRead("signature");
  const std::optional<std::string_view> timestamp_text = params.GetOptionalString("timestamp");
  if (!timestamp_text.has_value()) {
    return Refuse(auth::errors::kTimestampMissing);
  }
  auto timestamp_us = auth::ParseTimestampUs(*timestamp_text);
  if (!timestamp_us.has_value()) {
    return Refuse(timestamp_us.error());
  }

  auto verified = Verify(key, signed_request->payload, signed_request->signature);
  if (!verified.has_value()) {
    return Refuse(auth::ToApiError(verified.error()));
  }
  auto recv_window_us = CheckTiming(params, *timestamp_us, now_us_());
  if (!recv_window_us.has_value()) {
    return std::unexpected(std::move(recv_window_us.error()));
  }

  if (ChecksReplays(request.method())) {
    switch (replays_.FirstSeen(verified->ReplayKey(),
                               auth::ReplayExpiryMs(*timestamp_us, *recv_window_us))) {
      case auth::ReplayVerdict::kFirstSeen:
        break;
      case auth::ReplayVerdict::kReplayed:
        return Refuse(auth::errors::kInvalidSignature);
      case auth::ReplayVerdict::kUnavailable:
        return std::unexpected(http::errors::ServerBusy());
    }
  }
  return Caller{key.user_id, key.key_id, key.permissions.bits(), std::string(request.client_ip())};
}

std::expected<Caller, http::Error> Authenticator::AuthenticateSession(
    const http::Request& request, http::Params& params, std::string_view token) {
  params.MarkRead("signature");  // not needed on this path; ignored if sent
  // A token that cannot be well formed is never looked up (docs/auth.md §5).
  if (token.size() > kAuthorizationBytesMax || !auth::SessionTokenHash(token).has_value()) {
    return Refuse(auth::errors::kRejectedApiKey);
  }
  auto user = sessions_->Find(token);
  if (!user.has_value()) {
    return std::unexpected(InternalError());
  }
  if (!user->has_value() || **user <= 0) {
    return Refuse(auth::errors::kRejectedApiKey);
  }

  // Optional here, but checked like a signed request's when sent.
  const std::optional<std::string_view> timestamp_text = params.GetOptionalString("timestamp");
  if (timestamp_text.has_value()) {
    auto timestamp_us = auth::ParseTimestampUs(*timestamp_text);
    if (!timestamp_us.has_value()) {
      return Refuse(timestamp_us.error());
    }
    if (auto timing = CheckTiming(params, *timestamp_us, now_us_()); !timing.has_value()) {
      return std::unexpected(std::move(timing.error()));
    }
  } else if (auto recv_window = auth::ParseRecvWindowUs(params.GetOptionalString("recvWindow"));
             !recv_window.has_value()) {
    return Refuse(recv_window.error());
  }
  return Caller{**user, 0, db::kPermissionRead | db::kPermissionTrade,
                std::string(request.client_ip())};
}

}  // namespace spotex::gateway
