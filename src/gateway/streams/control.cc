#include "gateway/streams/control.h"

#include <simdjson.h>

#include <algorithm>

namespace spotex::gateway::streams {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

std::unexpected<ControlError> Request(std::string msg) {
  return std::unexpected(ControlError{2, "Invalid request: " + std::move(msg), ""});
}

// Printable, JSON-safe excerpt of client text for an error message.
std::string Excerpt(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) {
    out += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? c : '?';
  }
  return out;
}

std::expected<std::string, ControlError> IdJson(element id) {
  switch (id.type()) {
    case element_type::NULL_VALUE:
      return std::string("null");
    case element_type::INT64:
      return std::to_string(int64_t(id));
    case element_type::UINT64:
      return std::to_string(uint64_t(id));
    case element_type::STRING: {
      std::string_view s = id;
      const bool ok =
          s.size() <= kMaxIdChars && std::all_of(s.begin(), s.end(), [](char c) {
            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
          });
      if (ok) return "\"" + std::string(s) + "\"";
      break;
    }
    default:
      break;
  }
  return Request(
      "request ID must be an integer, an alphanumeric string of up to 36 "
      "characters, or null");
}

std::expected<Method, ControlError> ParseMethod(element m) {
  if (m.type() != element_type::STRING) return Request("method must be a string");
  std::string_view s = m;
  if (s == "SUBSCRIBE") return Method::kSubscribe;
  if (s == "UNSUBSCRIBE") return Method::kUnsubscribe;
  if (s == "LIST_SUBSCRIPTIONS") return Method::kListSubscriptions;
  if (s == "SET_PROPERTY") return Method::kSetProperty;
  if (s == "GET_PROPERTY") return Method::kGetProperty;
  if (s == "RESUME") return Method::kResume;  // ours; Binance's error text below lists its own
  return Request("unknown variant `" + Excerpt(s) +
                 "`, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, "
                 "`SET_PROPERTY`, `GET_PROPERTY`");
}

// Fills the method-specific fields from `params` (absent = an empty array).
std::expected<void, ControlError> ParseParams(ControlRequest& r, const element* params) {
  simdjson::dom::array arr;
  if (params != nullptr && params->type() != element_type::NULL_VALUE) {
    if (params->type() != element_type::ARRAY) return Request("params must be an array");
    arr = *params;
  }
  const size_t n = params != nullptr && params->type() == element_type::ARRAY ? arr.size() : 0;
  if (n > kMaxParamsPerMessage) return Request("too many parameters");
  switch (r.method) {
    case Method::kSubscribe:
    case Method::kUnsubscribe:
      if (n == 0) return {};
      for (element e : arr) {
        if (e.type() != element_type::STRING) return Request("stream name must be a string");
        r.params.emplace_back(std::string_view(e));
      }
      return {};
    case Method::kListSubscriptions:
      return {};
    case Method::kResume:
      if (n < 2) return Request("missing parameter");
      if (n > 2) return Request("too many parameters");
      if (arr.at(0).type() != element_type::STRING) return Request("stream name must be a string");
      if (arr.at(1).type() != element_type::INT64 && arr.at(1).type() != element_type::UINT64) {
        return Request("RESUME needs an integer id");
      }
      if (arr.at(1).type() == element_type::UINT64 || int64_t(arr.at(1)) < 0) {
        return Request("RESUME id out of range");
      }
      r.params.emplace_back(std::string_view(arr.at(0)));
      r.from_id = int64_t(arr.at(1));
      return {};
    case Method::kSetProperty:
    case Method::kGetProperty: {
      const size_t want = r.method == Method::kSetProperty ? 2 : 1;
      if (n < want) return Request("missing parameter");
      if (n > want) return Request("too many parameters");
      if (arr.at(0).type() != element_type::STRING) {
        return Request("property name must be a string");
      }
      r.property = std::string_view(arr.at(0));
      if (r.property != "combined" && r.property != "checksum")
        return std::unexpected(ControlError{0, "Unknown property", r.id_json});
      if (want == 2) {
        if (arr.at(1).type() != element_type::BOOL) {
          return std::unexpected(ControlError{1, "Invalid value type: expected Boolean", ""});
        }
        r.value = bool(arr.at(1));
      }
      return {};
    }
  }
  return {};
}

std::string Result(std::string_view result, const std::string& id_json) {
  return "{\"result\":" + std::string(result) + ",\"id\":" + id_json + "}";
}

}  // namespace

std::string ControlError::Json() const {
  std::string out = "{\"code\":" + std::to_string(code) + ",\"msg\":\"" + msg + "\"";
  if (!id_json.empty()) out += ",\"id\":" + id_json;
  out += '}';
  return out;
}

std::expected<ControlRequest, ControlError> ParseControl(std::string_view text) {
  if (text.size() > kMaxControlMessageBytes) {
    return std::unexpected(ControlError{
        3,
        "Invalid JSON: message longer than " + std::to_string(kMaxControlMessageBytes) + " bytes",
        ""});
  }
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  element doc;
  if (auto err = parser.parse(padded).get(doc); err != simdjson::SUCCESS) {
    return std::unexpected(
        ControlError{3, std::string("Invalid JSON: ") + simdjson::error_message(err), ""});
  }
  if (doc.type() != element_type::OBJECT) return Request("expected a JSON object");
  std::optional<element> method, params, id;
  for (auto field : simdjson::dom::object(doc)) {
    if (field.key == "method") {
      method = field.value;
    } else if (field.key == "params") {
      params = field.value;
    } else if (field.key == "id") {
      id = field.value;
    }
  }
  ControlRequest r;
  if (id) {
    auto id_json = IdJson(*id);
    if (!id_json) return std::unexpected(id_json.error());
    r.id_json = std::move(*id_json);
  }
  if (!method) return Request("missing field `method`");
  auto m = ParseMethod(*method);
  if (!m) return std::unexpected(m.error());
  r.method = *m;
  if (auto p = ParseParams(r, params ? &*params : nullptr); !p) {
    return std::unexpected(p.error());
  }
  return r;
}

bool Subscriptions::Add(const StreamKey& key) {
  if (set_.contains(key)) return true;
  if (set_.size() >= kMaxStreamsPerConnection) return false;
  set_.insert(key);
  order_.push_back(key);
  return true;
}

Subscriptions::Outcome Subscriptions::Handle(std::string_view text, const SymbolKnown& known) {
  auto request = ParseControl(text);
  if (!request) return Outcome{request.error().Json(), {}, {}};
  return Apply(*request, known);
}

Subscriptions::Outcome Subscriptions::Apply(const ControlRequest& r, const SymbolKnown& known) {
  Outcome out;
  switch (r.method) {
    case Method::kSubscribe:
    case Method::kUnsubscribe: {
      std::vector<StreamKey> keys;
      std::set<StreamKey> seen;
      for (const auto& name : r.params) {
        auto key = ParseStreamName(name, known);
        if (!key) return Outcome{ControlError{2, "Invalid request: " + key.error(), ""}.Json()};
        if (seen.insert(*key).second) keys.push_back(std::move(*key));
      }
      if (r.method == Method::kSubscribe) {
        size_t fresh = 0;
        for (const auto& k : keys) fresh += set_.contains(k) ? 0 : 1;
        if (set_.size() + fresh > kMaxStreamsPerConnection) {
          return Outcome{ControlError{2,
                                      "Invalid request: too many streams for one connection "
                                      "(at most " +
                                          std::to_string(kMaxStreamsPerConnection) + ")",
                                      ""}
                             .Json()};
        }
        for (auto& k : keys) {
          if (!set_.contains(k)) {
            (void)Add(k);
            out.added.push_back(std::move(k));
          }
        }
      } else {
        for (auto& k : keys) {
          if (set_.erase(k) > 0) {
            std::erase(order_, k);
            out.removed.push_back(std::move(k));
          }
        }
      }
      out.reply = Result("null", r.id_json);
      return out;
    }
    case Method::kListSubscriptions: {
      std::string list = "[";
      for (const auto& k : order_) {
        if (list.size() > 1) list += ',';
        list += '"' + k.Name() + '"';
      }
      list += ']';
      out.reply = Result(list, r.id_json);
      return out;
    }
    case Method::kSetProperty:
      (r.property == "checksum" ? checksum_ : combined_) = r.value;
      out.reply = Result("null", r.id_json);
      return out;
    case Method::kResume: {
      auto key = ParseStreamName(r.params.at(0), known);
      if (!key) return Outcome{ControlError{2, "Invalid request: " + key.error(), ""}.Json()};
      if (key->kind != StreamKind::kDepth && key->kind != StreamKind::kTrade) {
        return Outcome{ControlError{2,
                                    "Invalid request: only <symbol>@depth, <symbol>@depth@100ms "
                                    "and <symbol>@trade can be resumed",
                                    ""}
                           .Json()};
      }
      out.resume = Outcome::Resume{std::move(*key), r.from_id, r.id_json};
      return out;
    }
    case Method::kGetProperty:
      out.reply =
          Result((r.property == "checksum" ? checksum_ : combined_) ? "true" : "false", r.id_json);
      return out;
  }
  return out;
}

}  // namespace spotex::gateway::streams
