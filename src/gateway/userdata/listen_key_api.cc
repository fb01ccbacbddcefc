#include "gateway/userdata/listen_key_api.h"

#include <utility>

#include "auth/errors.h"
#include "auth/keys.h"
#include "gateway/auth/authenticator.h"
#include "gateway/http/params.h"
#include "service/log.h"

namespace spotex::gateway::userdata {

namespace {

constexpr std::string_view kPath = "/api/v3/userDataStream";

http::Error ToHttp(const auth::ApiError& e) {
  return http::Error{e.code, std::string(e.msg), e.http_status};
}

void LogStoreError(const std::string& message) {
  service::Log(service::LogLevel::kWarn, "gateway", message);
}

}  // namespace

http::Error ListenKeyNotFound() {
  return http::Error{-1125, "This listenKey does not exist.", 400};
}

std::optional<ListenKeyTarget> ParseListenKeyTarget(std::string_view target) {
  const size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  if (path.starts_with("/ws/")) {
    std::string_view key = path.substr(4);
    if (key.ends_with('/')) {
      key.remove_suffix(1);
    }
    if (IsListenKeyFormat(key)) {
      return ListenKeyTarget{std::string(key), false};
    }
    return std::nullopt;
  }
  if (path != "/stream" && path != "/stream/") {
    return std::nullopt;
  }
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (pair.starts_with("streams=")) {
      std::string_view key = pair.substr(8);
      if (IsListenKeyFormat(key)) {
        return ListenKeyTarget{std::string(key), true};
      }
      return std::nullopt;
    }
    if (amp == std::string_view::npos) {
      break;
    }
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

ListenKeyApi::ListenKeyApi(KeyDirectory& keys, ListenKeyStore& store, UserStreamHub& hub,
                           Clock now_ms, OnDeleted on_deleted)
    : keys_(keys),
      store_(store),
      hub_(hub),
      now_ms_(std::move(now_ms)),
      on_deleted_(std::move(on_deleted)) {}

bool ListenKeyApi::Register(http::Router& router) {
  for (http::Method m : {http::Method::kPost, http::Method::kPut, http::Method::kDelete}) {
    if (!router.Add(m, std::string(kPath), [this](http::Request&& req, http::Responder respond) {
          respond(Handle(req));
        })) {
      return false;
    }
  }
  return true;
}

std::expected<int64_t, http::Error> ListenKeyApi::Account(const http::Request& request) {
  // USER_STREAM: the API key alone (BINANCE_API.md §2), checked like a signed request's.
  const std::optional<std::string_view> api_key = request.Header("X-MBX-APIKEY");
  if (auto ok = auth::CheckApiKeyHeader(api_key); !ok) {
    return std::unexpected(ToHttp(ok.error()));
  }
  const KeyLookupResult found = keys_.Find(*api_key);
  if (!found) {
    if (found.error().code == KeyLookupErrorCode::kNotFound) {
      return std::unexpected(ToHttp(auth::errors::kRejectedApiKey));
    }
    return std::unexpected(InternalError());
  }
  const ResolvedKey& key = **found;
  if (!key.ip_allow_list.Allows(request.client_ip()) ||
      !auth::Allows(key.permissions, auth::SecurityType::kUserStream)) {
    return std::unexpected(ToHttp(auth::errors::kRejectedApiKey));
  }
  return key.user_id;
}

http::Response ListenKeyApi::Handle(const http::Request& request) {
  auto params = http::Params::FromRequest(request);
  if (!params) {
    return http::Response::FromError(params.error());
  }
  auto account = Account(request);
  if (!account) {
    return http::Response::FromError(account.error());
  }
  // Older clients may sign anyway: what a signature would carry is ignored, not refused.
  for (std::string_view name : {"timestamp", "signature", "recvWindow"}) {
    params->MarkRead(name);
  }
  if (request.method() == http::Method::kPost) {
    if (auto all = params->CheckAllRead(); !all) {
      return http::Response::FromError(all.error());
    }
    auto key = store_.Create(*account);
    if (!key) {
      LogStoreError(key.error());
      return http::Response::FromError(InternalError());
    }
    return http::Response::Json(200, "{\"listenKey\":\"" + *key + "\"}");
  }
  auto key = params->GetString("listenKey");
  if (!key) {
    return http::Response::FromError(key.error());
  }
  if (auto all = params->CheckAllRead(); !all) {
    return http::Response::FromError(all.error());
  }
  const bool deleting = request.method() == http::Method::kDelete;
  auto done = deleting ? store_.Delete(*account, *key) : store_.KeepAlive(*account, *key);
  if (!done) {
    LogStoreError(done.error());
    return http::Response::FromError(InternalError());
  }
  if (!*done) {
    return http::Response::FromError(ListenKeyNotFound());
  }
  if (deleting) {
    hub_.Expire(*key, now_ms_());  // this replica's connections at once
    if (on_deleted_) on_deleted_(std::string(*key));  // the other replicas' (stream_endings.h)
  }
  return http::Response::Json(200, "{}");
}

std::optional<std::expected<http::WsHandlers, http::Response>> ListenKeyApi::Accept(
    const http::WsRequest& request, const std::shared_ptr<http::WsConnection>& connection) {
  auto target = ParseListenKeyTarget(request.target);
  if (!target) {
    return std::nullopt;
  }
  auto account = store_.Find(target->key);
  if (!account) {
    LogStoreError(account.error());
    return std::unexpected(http::Response::FromError(InternalError()));
  }
  if (!account->has_value()) {
    return std::unexpected(http::Response::FromError(ListenKeyNotFound()));
  }
  const UserStreamHub::SubscriberId id = hub_.Subscribe(
      **account, connection, target->combined ? Framing::kCombined : Framing::kRaw, target->key);
  http::WsHandlers h;
  h.on_message = [](std::string_view) {};  // nothing to ask on a user data stream
  h.on_close = [this, id](uint16_t, std::string_view) { hub_.Unsubscribe(id); };
  return h;
}

size_t ListenKeyApi::ExpireStale() {
  const std::vector<std::string> keys = hub_.ListenKeys();
  if (keys.empty()) {
    return 0;
  }
  auto accounts = store_.FindMany(keys);
  if (!accounts) {
    LogStoreError(accounts.error());  // keep every key: the store may answer again soon
    return 0;
  }
  size_t expired = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!(*accounts)[i].has_value()) {
      hub_.Expire(keys[i], now_ms_());
      ++expired;
    }
  }
  return expired;
}

}  // namespace spotex::gateway::userdata
