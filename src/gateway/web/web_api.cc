#include "gateway/web/web_api.h"

#include <set>
#include <utility>

#include "auth/keys.h"
#include "gateway/auth/authenticator.h"
#include "gateway/auth/web_session.h"
#include "service/log.h"

namespace spotex::gateway::web {
namespace {

http::Error Unauthorized(int status) {
  return http::Error{-1002, "You are not authorized to execute this request.", status};
}

std::string ConfigJson(const std::vector<std::string>& symbols) {
  std::string out = "{\"demoSymbols\":[";
  for (size_t i = 0; i < symbols.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    http::AppendJsonString(out, symbols[i]);
  }
  out += "]}";
  return out;
}

}  // namespace

std::expected<std::vector<std::string>, std::string> ParseDemoSymbols(std::string_view text) {
  std::vector<std::string> out;
  std::set<std::string, std::less<>> seen;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view one = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (one.empty() || one.size() > 20) {
      return std::unexpected("bad symbol '" + std::string(one) + "'");
    }
    for (char c : one) {
      if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
        return std::unexpected("bad symbol '" + std::string(one) + "'");
      }
    }
    if (!seen.insert(std::string(one)).second) {
      return std::unexpected("duplicate symbol '" + std::string(one) + "'");
    }
    if (out.size() >= kDemoSymbolsMax) {
      return std::unexpected("more than " + std::to_string(kDemoSymbolsMax) + " symbols");
    }
    out.emplace_back(one);
  }
  return out;
}

WebApi::WebApi(SessionStore& sessions, userdata::UserStreamHub& hub, WebApiOptions options)
    : sessions_(sessions), hub_(hub), config_json_(ConfigJson(options.demo_symbols)) {}

bool WebApi::Register(http::Router& router) {
  return router.Add(http::Method::kGet, std::string(kConfigPath),
                    [this](http::Request&&, http::Responder respond) {
                      respond(http::Response::Json(200, config_json_));
                    });
}

std::optional<std::expected<http::WsHandlers, http::Response>> WebApi::Accept(
    const http::WsRequest& request, const std::shared_ptr<http::WsConnection>& connection) {
  const std::string_view target = request.target;
  if (target.substr(0, target.find('?')) != kUserStreamPath) {
    return std::nullopt;
  }
  // A page of another origin could open this socket with the user's cookie: the Origin a
  // browser always sends on a WebSocket handshake must name this host.
  const auto origin = http::FindHeader(request.headers, "Origin");
  const auto host = http::FindHeader(request.headers, "Host");
  if (!origin.has_value() || !host.has_value() || !SameOrigin(*origin, *host)) {
    return std::unexpected(http::Response::FromError(Unauthorized(403)));
  }
  const auto token = CookieValue(request.headers, kSessionCookie);
  if (!token.has_value() || token->size() > kAuthorizationBytesMax ||
      !auth::SessionTokenHash(*token).has_value()) {
    return std::unexpected(http::Response::FromError(Unauthorized(401)));
  }
  auto user = sessions_.Find(*token);
  if (!user) {
    service::Log(service::LogLevel::kWarn, "web", "session store: " + user.error());
    return std::unexpected(http::Response::FromError(InternalError()));
  }
  if (!user->has_value() || **user <= 0) {
    return std::unexpected(http::Response::FromError(Unauthorized(401)));
  }
  const auto id =
      hub_.Subscribe(**user, connection, userdata::Framing::kSession, std::string(*token));
  http::WsHandlers h;
  h.on_message = [](std::string_view) {};  // nothing to ask on a user stream
  h.on_close = [this, id](uint16_t, std::string_view) { hub_.Unsubscribe(id); };
  return h;
}

size_t WebApi::ExpireStale() {
  size_t ended = 0;
  for (const std::string& token : hub_.SessionTokens()) {
    auto user = sessions_.Find(token);
    if (!user) {
      service::Log(service::LogLevel::kWarn, "web", "session store: " + user.error());
      return ended;  // keep every stream: the store may answer again soon
    }
    if (!user->has_value()) {
      hub_.EndSession(token);
      ++ended;
    }
  }
  return ended;
}

}  // namespace spotex::gateway::web
