#include "gateway/http/router.h"

#include <utility>

namespace spotex::http {

bool Router::Add(Method method, std::string path, Handler handler) {
  return Insert(method, std::move(path), /*prefix=*/false, std::move(handler));
}

bool Router::AddPrefix(Method method, std::string prefix, Handler handler) {
  return Insert(method, std::move(prefix), /*prefix=*/true, std::move(handler));
}

bool Router::Insert(Method method, std::string path, bool prefix, Handler handler) {
  if (!handler) {
    return false;
  }
  for (const Route& route : routes_) {
    if (route.method == method && route.prefix == prefix && route.path == path) {
      return false;
    }
  }
  routes_.push_back(Route{method, std::move(path), prefix, std::move(handler)});
  return true;
}

void Router::Dispatch(Request&& request, Responder responder) const {
  const std::string_view path = request.path();
  const Route* exact = nullptr;
  const Route* best_prefix = nullptr;
  bool path_known = false;
  std::string allow;
  for (const Route& route : routes_) {
    const bool matches = route.prefix ? path.starts_with(route.path) : path == route.path;
    if (!matches) {
      continue;
    }
    path_known = true;
    if (route.method != request.method()) {
      const std::string_view name = MethodName(route.method);
      if (allow.find(name) == std::string::npos) {
        allow += allow.empty() ? "" : ", ";
        allow += name;
      }
      continue;
    }
    if (!route.prefix) {
      exact = &route;
    } else if (best_prefix == nullptr || route.path.size() > best_prefix->path.size()) {
      best_prefix = &route;
    }
  }
  const Route* chosen = exact != nullptr ? exact : best_prefix;
  if (chosen != nullptr) {
    chosen->handler(std::move(request), std::move(responder));
    return;
  }
  if (path_known) {
    Response response = Response::FromError(errors::UnsupportedOperation(405));
    response.headers.emplace_back("Allow", std::move(allow));
    responder.Send(std::move(response));
    return;
  }
  responder.Send(Response::FromError(errors::UnsupportedOperation(404)));
}

Handler Router::ToHandler() && {
  auto frozen = std::make_shared<const Router>(std::move(*this));
  return [frozen](Request&& request, Responder responder) {
    frozen->Dispatch(std::move(request), std::move(responder));
  };
}

}  // namespace spotex::http
