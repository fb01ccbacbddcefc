// (method, path) -> handler. Built once before the server starts, then read-only and shared by
// every I/O thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/http/server.h"

namespace spotex::http {

class Router {
 public:
  // Routes requests for exactly `path` (no query, no percent-decoding) with `method` to
  // `handler`. False, and nothing changes, if that (method, path) already has a handler or
  // `handler` is empty.
  [[nodiscard]] bool Add(Method method, std::string path, Handler handler);

  // Routes every path that starts with `prefix` ("/ws/" for "/ws/<anything>"). Exact routes
  // win over prefixes; among prefixes the longest wins. Same return value as Add.
  [[nodiscard]] bool AddPrefix(Method method, std::string prefix, Handler handler);

  // Dispatches `request`: a matching route gets it; a known path with another method gets 405
  // with an Allow header; anything else 404. Both errors are -1020 "This operation is not
  // supported." Thread-safe once no more routes are added.
  void Dispatch(Request&& request, Responder responder) const;

  // The pattern of the route Dispatch would give `path` to (also for a known path with another
  // method, which gets 405), or empty when the path is unknown. The view points into this
  // router. Dispatch notes it on the Responder (Responder::NoteRoute) before calling the
  // route's handler or answering 405. Thread-safe once no more routes are added.
  std::string_view Match(Method method, std::string_view path) const;

  // A Handler for Server::Start that dispatches through a shared, frozen copy of this router.
  Handler ToHandler() &&;
  // The frozen copy itself (for Match), to build the Handler with ToHandler(router).
  std::shared_ptr<const Router> Freeze() &&;
  static Handler ToHandler(std::shared_ptr<const Router> frozen);

 private:
  struct Route {
    Method method;
    std::string path;
    bool prefix;
    Handler handler;
  };

  bool Insert(Method method, std::string path, bool prefix, Handler handler);
  // The route for `method` and `path` (exact before the longest prefix), or null; `any_method`
  // is then the first route of that path with another method, or null.
  const Route* Find(Method method, std::string_view path, const Route** any_method,
                           std::string* allow) const;

  std::vector<Route> routes_;
};

}  // namespace spotex::http
