#include "gateway/wsapi/envelope.h"

#include <charconv>
#include <set>
#include <utility>

#include "auth/signature.h"

namespace spotex::gateway::wsapi {
namespace {

http::Error InvalidJson(std::string msg = "Invalid JSON request") {
  return http::Error{-1135, std::move(msg), 400};
}

// A strict RFC 8259 reader over one frame, just enough for the envelope: it decodes strings
// and hands out the exact text of numbers and arrays. Depth is bounded (kDepthMax).
class Reader {
 public:
  explicit Reader(std::string_view text) : s_(text) {}

  void Ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) {
      ++i_;
    }
  }
  bool AtEnd() {
    Ws();
    return i_ == s_.size();
  }
  char Peek() {
    Ws();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  bool Eat(char c) {
    if (Peek() != c) return false;
    ++i_;
    return true;
  }

  // A string literal, decoded to UTF-8. False on bad escapes, raw control characters, lone
  // surrogates or a missing closing quote.
  bool String(std::string& out) {
    out.clear();
    if (!Eat('"')) return false;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i_ >= s_.size()) return false;
      const char e = s_[i_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t low = 0;
            if (i_ + 2 > s_.size() || s_[i_] != '\\' || s_[i_ + 1] != 'u') return false;
            i_ += 2;
            if (!Hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  // A number token (JSON grammar); `out` is its exact text.
  bool Number(std::string_view& out) {
    Ws();
    const size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    if (i_ >= s_.size()) return false;
    if (s_[i_] == '0') {
      ++i_;
    } else if (s_[i_] >= '1' && s_[i_] <= '9') {
      while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
    } else {
      return false;
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (i_ >= s_.size() || !IsDigit(s_[i_])) return false;
      while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (i_ >= s_.size() || !IsDigit(s_[i_])) return false;
      while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
    }
    out = s_.substr(start, i_ - start);
    return true;
  }

  bool Literal(std::string_view word) {
    Ws();
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  // Skips any value; `out` is its exact text.
  bool Value(int depth, std::string_view& out) {
    if (depth > kDepthMax) return false;
    Ws();
    const size_t start = i_;
    std::string scratch;
    std::string_view token;
    bool ok = false;
    switch (Peek()) {
      case '"': ok = String(scratch); break;
      case '{': ok = Container(depth, '}', true); break;
      case '[': ok = Container(depth, ']', false); break;
      case 't': ok = Literal("true"); break;
      case 'f': ok = Literal("false"); break;
      case 'n': ok = Literal("null"); break;
      default: ok = Number(token); break;
    }
    if (!ok) return false;
    out = s_.substr(start, i_ - start);
    return true;
  }

 private:
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  bool Container(int depth, char close, bool object) {
    ++i_;  // the opening bracket
    if (Eat(close)) return true;
    for (;;) {
      std::string_view skipped;
      if (object) {
        std::string key;
        if (!String(key) || !Eat(':')) return false;
      }
      if (!Value(depth + 1, skipped)) return false;
      if (Eat(close)) return true;
      if (!Eat(',')) return false;
    }
  }

  bool Hex4(uint32_t& v) {
    if (i_ + 4 > s_.size()) return false;
    v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<uint32_t>(c - 'A' + 10);
      else return false;
    }
    return true;
  }

  static void AppendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

bool IdCharOk(char c) { return c >= 0x20 && c < 0x7F; }

// The id member: its JSON text to echo, or an error.
std::expected<std::string, http::Error> ReadId(Reader& r) {
  const std::string_view bad = "Invalid 'id' in JSON request; expected a string, an integer or null.";
  switch (r.Peek()) {
    case 'n':
      if (r.Literal("null")) return std::string("null");
      return std::unexpected(InvalidJson());
    case '"': {
      std::string id;
      if (!r.String(id)) return std::unexpected(InvalidJson());
      if (id.size() > kIdCharsMax) return std::unexpected(InvalidJson(std::string(bad)));
      for (char c : id) {
        if (!IdCharOk(c)) return std::unexpected(InvalidJson(std::string(bad)));
      }
      std::string out;
      http::AppendJsonString(out, id);
      return out;
    }
    default: {
      std::string_view token;
      if (r.Peek() != '-' && (r.Peek() < '0' || r.Peek() > '9')) {
        std::string_view skipped;
        if (!r.Value(1, skipped)) return std::unexpected(InvalidJson());
        return std::unexpected(InvalidJson(std::string(bad)));
      }
      if (!r.Number(token)) return std::unexpected(InvalidJson());
      int64_t v = 0;
      auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
      if (ec != std::errc() || p != token.data() + token.size()) {
        return std::unexpected(InvalidJson(std::string(bad)));
      }
      return std::to_string(v);
    }
  }
}

bool NameOk(std::string_view name) {
  if (name.empty() || name.size() > kNameBytesMax) return false;
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return false;
  }
  return true;
}

std::expected<std::vector<Param>, http::Error> ReadParams(Reader& r) {
  std::vector<Param> params;
  if (r.Peek() != '{') {
    std::string_view skipped;
    if (!r.Value(1, skipped)) return std::unexpected(InvalidJson());
    return std::unexpected(InvalidJson("Invalid 'params' in JSON request; expected an object."));
  }
  r.Eat('{');
  if (r.Eat('}')) return params;
  std::set<std::string, std::less<>> seen;
  for (;;) {
    Param p;
    if (!r.String(p.name) || !r.Eat(':')) return std::unexpected(InvalidJson());
    bool skip = false;
    switch (r.Peek()) {
      case '"':
        if (!r.String(p.value)) return std::unexpected(InvalidJson());
        p.kind = ValueKind::kString;
        break;
      case 't':
      case 'f':
        if (r.Literal("true")) {
          p.value = "true";
        } else if (r.Literal("false")) {
          p.value = "false";
        } else {
          return std::unexpected(InvalidJson());
        }
        p.kind = ValueKind::kBool;
        break;
      case 'n':
        if (!r.Literal("null")) return std::unexpected(InvalidJson());
        skip = true;
        break;
      case '[': {
        std::string_view text;
        if (!r.Value(2, text)) return std::unexpected(InvalidJson());
        p.value = std::string(text);
        p.kind = ValueKind::kArray;
        break;
      }
      case '{': {
        std::string_view text;
        if (!r.Value(2, text)) return std::unexpected(InvalidJson());
        if (!NameOk(p.name)) return std::unexpected(http::errors::IllegalCharacters());
        return std::unexpected(
            InvalidJson("JSON sent for parameter '" + p.name + "' is not valid."));
      }
      default: {
        std::string_view token;
        if (!r.Number(token)) return std::unexpected(InvalidJson());
        p.value = std::string(token);
        p.kind = ValueKind::kNumber;
        break;
      }
    }
    if (!NameOk(p.name)) return std::unexpected(http::errors::IllegalCharacters());
    if (!skip) {
      if (!seen.insert(p.name).second) return std::unexpected(http::errors::DuplicateParameter());
      if (params.size() >= auth::kWsApiParamsMax) {
        return std::unexpected(http::errors::TooManyParameters());
      }
      params.push_back(std::move(p));
    }
    if (r.Eat('}')) return params;
    if (!r.Eat(',')) return std::unexpected(InvalidJson());
  }
}

void AppendRateLimits(std::string& out, std::string_view rate_limits_json) {
  if (!rate_limits_json.empty()) {
    out.append(",\"rateLimits\":").append(rate_limits_json);
  }
}

}  // namespace

std::optional<std::string_view> Request::Find(std::string_view name) const {
  for (const Param& p : params) {
    if (p.name == name) return std::string_view(p.value);
  }
  return std::nullopt;
}

std::expected<Request, EnvelopeError> ParseRequest(std::string_view text) {
  Reader r(text);
  Request request;
  bool have_method = false;
  bool method_ok = false;
  std::optional<http::Error> deferred;  // reported after the id is known
  if (!r.Eat('{')) return std::unexpected(EnvelopeError{"null", InvalidJson()});
  if (!r.Eat('}')) {
    for (;;) {
      std::string key;
      if (!r.String(key) || !r.Eat(':')) return std::unexpected(EnvelopeError{"null", InvalidJson()});
      if (key == "id") {
        auto id = ReadId(r);
        if (!id.has_value()) {
          if (id.error().msg == "Invalid JSON request") {
            return std::unexpected(EnvelopeError{"null", id.error()});
          }
          if (!deferred.has_value()) deferred = id.error();
        } else {
          request.id_json = std::move(*id);
        }
      } else if (key == "method") {
        have_method = true;
        if (r.Peek() == '"') {
          if (!r.String(request.method)) {
            return std::unexpected(EnvelopeError{"null", InvalidJson()});
          }
          method_ok = true;
        } else {
          std::string_view skipped;
          if (!r.Value(1, skipped)) return std::unexpected(EnvelopeError{"null", InvalidJson()});
        }
      } else if (key == "params") {
        // Syntax first (the whole value), then the rules on a reader of its own, so that a rule
        // broken half-way does not leave the outer reader inside the object.
        std::string_view params_text;
        if (!r.Value(1, params_text)) return std::unexpected(EnvelopeError{"null", InvalidJson()});
        Reader inner(params_text);
        auto params = ReadParams(inner);
        if (!params.has_value()) {
          if (params.error().code == -1135 && params.error().msg == "Invalid JSON request") {
            return std::unexpected(EnvelopeError{"null", params.error()});
          }
          if (!deferred.has_value()) deferred = params.error();
        } else {
          request.params = std::move(*params);
        }
      } else {
        std::string_view skipped;
        if (!r.Value(1, skipped)) return std::unexpected(EnvelopeError{"null", InvalidJson()});
      }
      if (r.Eat('}')) break;
      if (!r.Eat(',')) return std::unexpected(EnvelopeError{"null", InvalidJson()});
    }
  }
  if (!r.AtEnd()) return std::unexpected(EnvelopeError{"null", InvalidJson()});
  if (deferred.has_value()) {
    // A bad id is reported with a null id.
    const bool id_error = deferred->msg.starts_with("Invalid 'id'");
    return std::unexpected(EnvelopeError{id_error ? "null" : request.id_json, *deferred});
  }
  (void)have_method;
  if (!method_ok || request.method.empty() || request.method.size() > kMethodBytesMax) {
    return std::unexpected(
        EnvelopeError{request.id_json, http::errors::MandatoryParameter("method")});
  }
  if (request.method.starts_with("v3/")) request.method.erase(0, 3);
  return request;
}

std::string SuccessResponse(std::string_view id_json, std::string_view result_json,
                            std::string_view rate_limits_json) {
  std::string out;
  out.reserve(48 + result_json.size() + rate_limits_json.size());
  out.append("{\"id\":").append(id_json).append(",\"status\":200,\"result\":").append(result_json);
  AppendRateLimits(out, rate_limits_json);
  out.push_back('}');
  return out;
}

std::string ErrorResponse(std::string_view id_json, const http::Error& error,
                          std::string_view rate_limits_json) {
  return ErrorResponseRaw(id_json, error.http_status, http::ErrorBody(error), rate_limits_json);
}

std::string ErrorResponseRaw(std::string_view id_json, int status, std::string_view error_json,
                             std::string_view rate_limits_json) {
  std::string out;
  out.append("{\"id\":").append(id_json).append(",\"status\":").append(std::to_string(status));
  out.append(",\"error\":").append(error_json);
  AppendRateLimits(out, rate_limits_json);
  out.push_back('}');
  return out;
}

std::string RateLimitsJson(const RateLimitConfig& config, const RateLimitCounts& counts) {
  std::string out = "[";
  auto add = [&out](std::string_view type, std::string_view interval, int num, int64_t limit,
                    int64_t count) {
    if (out.size() > 1) out.push_back(',');
    out.append("{\"rateLimitType\":\"").append(type).append("\",\"interval\":\"").append(interval);
    out.append("\",\"intervalNum\":").append(std::to_string(num));
    out.append(",\"limit\":").append(std::to_string(limit));
    out.append(",\"count\":").append(std::to_string(count)).append("}");
  };
  if (counts.weight_1m) add("REQUEST_WEIGHT", "MINUTE", 1, config.weight_per_minute, *counts.weight_1m);
  if (counts.orders_10s) add("ORDERS", "SECOND", 10, config.orders_per_10s, *counts.orders_10s);
  if (counts.orders_1d) add("ORDERS", "DAY", 1, config.orders_per_day, *counts.orders_1d);
  out.push_back(']');
  return out;
}

RateLimitCounts CountsFromHeaders(const std::vector<std::pair<std::string, std::string>>& headers) {
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& c : out) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
  };
  auto number = [](std::string_view s) -> std::optional<int64_t> {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
  };
  RateLimitCounts counts;
  for (const auto& [name, value] : headers) {
    const std::string n = lower(name);
    if (n == "x-mbx-used-weight-1m") counts.weight_1m = number(value);
    else if (n == "x-mbx-order-count-10s") counts.orders_10s = number(value);
    else if (n == "x-mbx-order-count-1d") counts.orders_1d = number(value);
  }
  return counts;
}

}  // namespace spotex::gateway::wsapi
