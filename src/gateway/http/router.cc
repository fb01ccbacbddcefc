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

const Router::Route* Router::Find(Method method, std::string_view path, const Route** any_method,
                                  std::string* allow) const {
  const Route* exact = nullptr;
  const Route* best_prefix = nullptr;
  *any_method = nullptr;
  for (const Route& route : routes_) {
    const bool matches = route.prefix ? path.starts_with(route.path) : path == route.path;
    if (!matches) {
      continue;
    }
    if (route.method != method) {
      if (*any_method == nullptr) {
        *any_method = &route;
      }
      if (allow != nullptr) {
        const std::string_view name = MethodName(route.method);
        if (allow->find(name) == std::string::npos) {
          *allow += allow->empty() ? "" : ", ";
          *allow += name;
        }
      }
      continue;
    }
    if (!route.prefix) {
      exact = &route;
    } else if (best_prefix == nullptr || route.path.size() > best_prefix->path.size()) {
      best_prefix = &route;
    }
  }
  return exact != nullptr ? exact : best_prefix;
}

std::string_view Router::Match(Method method, std::string_view path) const {
  const Route* any_method = nullptr;
  const Route* chosen = Find(method, path, &any_method, nullptr);
  if (chosen != nullptr) {
    return chosen->path;
  }
  return any_method != nullptr ? std::string_view(any_method->path) : std::string_view();
}

void Router::Dispatch(Request&& request, Responder responder) const {
  const Route* any_method = nullptr;
  std::string allow;
  const Route* chosen = Find(request.method(), request.path(), &any_method, &allow);
  if (chosen != nullptr) {
    responder.NoteRoute(chosen->path);
    chosen->handler(std::move(request), std::move(responder));
    return;
  }
  if (any_method != nullptr) {
    responder.NoteRoute(any_method->path);
    Response response = Response::FromError(errors::UnsupportedOperation(405));
    response.headers.emplace_back("Allow", std::move(allow));
    responder.Send(std::move(response));
    return;
  }
  responder.Send(Response::FromError(errors::UnsupportedOperation(404)));
}

std::shared_ptr<const Router> Router::Freeze() && {
  return std::make_shared<const Router>(std::move(*this));
}

Handler Router::ToHandler(std::shared_ptr<const Router> frozen) {
  return [frozen = std::move(frozen)](Request&& request, Responder responder) {
    frozen->Dispatch(std::move(request), std::move(responder));
  };
}

Handler Router::ToHandler() && { return ToHandler(std::move(*this).Freeze()); }

}  // namespace spotex::http
