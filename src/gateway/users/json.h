// Small JSON writers shared by the account endpoints (internal to spotex_users).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/user_store.h"
#include "gateway/http/error.h"

namespace spotex::gateway::users {

// ["READ","TRADE"] for the db::kPermission* bits (Binance lists permissions as an array).
inline void AppendPermissions(std::string& out, uint32_t permissions) {
  out += '[';
  if ((permissions & db::kPermissionRead) != 0) {
    out += "\"READ\"";
  }
  if ((permissions & db::kPermissionTrade) != 0) {
    out += (permissions & db::kPermissionRead) != 0 ? ",\"TRADE\"" : "\"TRADE\"";
  }
  out += ']';
}

// null, or an array of strings.
inline void AppendStringList(std::string& out, const std::optional<std::vector<std::string>>& v) {
  if (!v.has_value()) {
    out += "null";
    return;
  }
  out += '[';
  for (size_t i = 0; i < v->size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    http::AppendJsonString(out, (*v)[i]);
  }
  out += ']';
}

}  // namespace spotex::gateway::users
