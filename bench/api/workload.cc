#include "workload.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "auth/signature.h"

namespace spotex::bench {
namespace {

// A minimal JSON reader for the users file: enough to walk any valid document and take the
// string members of the top-level array's objects.
class JsonScanner {
 public:
  explicit JsonScanner(std::string_view text) : s_(text) {}

  void SkipSpace() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) {
      ++i_;
    }
  }
  bool Consume(char c) {
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool AtEnd() {
    SkipSpace();
    return i_ >= s_.size();
  }
  size_t position() const { return i_; }

  // A string; escapes other than \" \\ \/ are refused (credentials are plain ASCII).
  std::expected<std::string, std::string> String() {
    if (!Consume('"')) {
      return Fail("string expected");
    }
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c == '\\') {
        if (i_ >= s_.size()) {
          break;
        }
        char e = s_[i_++];
        if (e != '"' && e != '\\' && e != '/') {
          // Skip other escapes (e.g. in an email): \uXXXX or a one-letter escape.
          if (e == 'u') {
            i_ += 4;
          }
          out.push_back('?');
          continue;
        }
        c = e;
      }
      if (out.size() >= kCredentialBytesMax) {
        return Fail("string too long");
      }
      out.push_back(c);
    }
    if (i_ >= s_.size()) {
      return Fail("unterminated string");
    }
    ++i_;
    return out;
  }

  // Any value, nested at most 32 deep.
  std::expected<void, std::string> SkipValue(int depth = 0) {
    if (depth > 32) {
      return Fail("nested too deep");
    }
    SkipSpace();
    if (i_ >= s_.size()) {
      return Fail("value expected");
    }
    char c = s_[i_];
    if (c == '"') {
      auto s = String();
      if (!s) {
        return std::unexpected(s.error());
      }
      return {};
    }
    if (c == '{' || c == '[') {
      char close = c == '{' ? '}' : ']';
      ++i_;
      if (Consume(close)) {
        return {};
      }
      do {
        if (c == '{') {
          if (auto k = String(); !k) {
            return std::unexpected(k.error());
          }
          if (!Consume(':')) {
            return Fail("':' expected");
          }
        }
        if (auto v = SkipValue(depth + 1); !v) {
          return v;
        }
      } while (Consume(','));
      if (!Consume(close)) {
        return Fail("',' or end of container expected");
      }
      return {};
    }
    // number, true, false, null
    size_t start = i_;
    while (i_ < s_.size() &&
           std::string_view(",}] \n\r\t").find(s_[i_]) == std::string_view::npos) {
      ++i_;
    }
    if (i_ == start) {
      return Fail("value expected");
    }
    return {};
  }

  std::unexpected<std::string> Fail(std::string_view why) const {
    return std::unexpected("users file: " + std::string(why) + " at byte " + std::to_string(i_));
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

std::expected<ApiUser, std::string> ParseUser(JsonScanner& in) {
  ApiUser user;
  if (!in.Consume('{')) {
    return in.Fail("object expected");
  }
  if (!in.Consume('}')) {
    do {
      auto key = in.String();
      if (!key) {
        return std::unexpected(key.error());
      }
      if (!in.Consume(':')) {
        return in.Fail("':' expected");
      }
      if (*key == "apiKey" || *key == "apiSecret") {
        auto value = in.String();
        if (!value) {
          return std::unexpected(value.error());
        }
        (*key == "apiKey" ? user.api_key : user.api_secret) = std::move(*value);
      } else if (auto v = in.SkipValue(); !v) {
        return std::unexpected(v.error());
      }
    } while (in.Consume(','));
    if (!in.Consume('}')) {
      return in.Fail("',' or '}' expected");
    }
  }
  if (user.api_key.empty() || user.api_secret.empty()) {
    return in.Fail("user without apiKey or apiSecret");
  }
  return user;
}

}  // namespace

std::expected<std::vector<ApiUser>, std::string> ParseUsersJson(std::string_view json) {
  if (json.size() > kUsersFileBytesMax) {
    return std::unexpected("users file: larger than " + std::to_string(kUsersFileBytesMax));
  }
  JsonScanner in(json);
  std::vector<ApiUser> users;
  if (!in.Consume('[')) {
    return in.Fail("a JSON array expected");
  }
  if (!in.Consume(']')) {
    do {
      if (users.size() >= kUsersMax) {
        return in.Fail("more than " + std::to_string(kUsersMax) + " users");
      }
      auto user = ParseUser(in);
      if (!user) {
        return std::unexpected(user.error());
      }
      users.push_back(std::move(*user));
    } while (in.Consume(','));
    if (!in.Consume(']')) {
      return in.Fail("',' or ']' expected");
    }
  }
  if (!in.AtEnd()) {
    return in.Fail("text after the array");
  }
  if (users.empty()) {
    return std::unexpected("users file: no users");
  }
  return users;
}

std::string SignParams(std::string_view params, std::string_view secret) {
  std::string out;
  out.reserve(params.size() + 11 + 64);
  out.append(params);
  out.append("&signature=");
  out.append(auth::ComputeHmacHex(secret, params));
  return out;
}

void AppendSignedRequest(std::string_view method, std::string_view path, std::string_view params,
                         const ApiUser& user, std::string_view host, std::string& out) {
  std::string signed_params = SignParams(params, user.api_secret);
  out.append(method).append(" ").append(path);
  if (method != "POST") {
    out.append("?").append(signed_params);
  }
  out.append(" HTTP/1.1\r\nHost: ").append(host);
  out.append("\r\nX-MBX-APIKEY: ").append(user.api_key);
  if (method == "POST") {
    out.append("\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ");
    out.append(std::to_string(signed_params.size())).append("\r\n\r\n").append(signed_params);
  } else {
    out.append("\r\n\r\n");
  }
}

std::string FormatFixed(int64_t units, int decimals) {
  int64_t scale = 1;
  for (int i = 0; i < decimals; ++i) {
    scale *= 10;
  }
  char buf[48];
  const char* sign = units < 0 ? "-" : "";
  uint64_t u = units < 0 ? 0 - static_cast<uint64_t>(units) : static_cast<uint64_t>(units);
  uint64_t s = static_cast<uint64_t>(scale);
  if (decimals == 0) {
    std::snprintf(buf, sizeof buf, "%s%llu", sign, static_cast<unsigned long long>(u));
  } else {
    std::snprintf(buf, sizeof buf, "%s%llu.%0*llu", sign, static_cast<unsigned long long>(u / s),
                  decimals, static_cast<unsigned long long>(u % s));
  }
  return buf;
}

std::string ErrorCode(std::string_view body) {
  size_t at = body.find("\"code\":");
  if (at == std::string_view::npos) {
    return {};
  }
  size_t begin = at + 7;
  size_t end = begin;
  while (end < body.size() && end - begin < 8 &&
         (body[end] == '-' || (body[end] >= '0' && body[end] <= '9'))) {
    ++end;
  }
  return std::string(body.substr(begin, end - begin));
}

std::expected<std::array<uint32_t, kReadKindCount>, std::string> ParseReadWeights(
    std::string_view text) {
  std::array<uint32_t, kReadKindCount> weights{};
  uint64_t total = 0;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? "" : text.substr(comma + 1);
    size_t eq = item.find('=');
    std::string_view name = item.substr(0, eq);
    size_t k = 0;
    while (k < kReadKindCount && Name(kReadKinds[k]) != name) {
      ++k;
    }
    if (eq == std::string_view::npos || k == kReadKindCount) {
      return std::unexpected("read weights: expected depth|trades|ticker24hr|account|openOrders"
                             "=N, got '" + std::string(item) + "'");
    }
    std::string_view num = item.substr(eq + 1);
    uint32_t w = 0;
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), w);
    if (ec != std::errc() || p != num.data() + num.size() || w > kReadWeightMax) {
      return std::unexpected("read weights: '" + std::string(item) + "': weight 0.." +
                             std::to_string(kReadWeightMax) + " expected");
    }
    weights[k] = w;
    total += w;
  }
  if (total == 0) {
    return std::unexpected("read weights: all zero");
  }
  return weights;
}

std::string_view Name(RequestKind kind) {
  switch (kind) {
    case RequestKind::kNewOrder:
      return "order";
    case RequestKind::kCancelOrder:
      return "cancel";
    case RequestKind::kDepth:
      return "depth";
    case RequestKind::kTrades:
      return "trades";
    case RequestKind::kTicker:
      return "ticker24hr";
    case RequestKind::kAccount:
      return "account";
    case RequestKind::kOpenOrders:
      return "openOrders";
    case RequestKind::kTime:
      return "time";
    case RequestKind::kCount:
      break;
  }
  return "?";
}

Workload::Workload(std::vector<ApiUser> users, MixOptions options, uint64_t seed, std::string host,
                   std::string run_id)
    : users_(std::move(users)),
      state_(users_.size()),
      options_(std::move(options)),
      rng_(seed),
      host_(std::move(host)),
      run_id_(std::move(run_id)) {}

RequestKind Workload::PickKind(UserState* user) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  if (options_.public_only) {
    static constexpr RequestKind kPublic[] = {RequestKind::kDepth, RequestKind::kTicker,
                                              RequestKind::kTime};
    return kPublic[rng_() % 3];
  }
  if (unit(rng_) < options_.read_fraction) {
    uint64_t total = 0;
    for (uint32_t w : options_.read_weights) {
      total += w;
    }
    if (total > 0) {
      uint64_t pick = rng_() % total;
      for (size_t i = 0; i < kReadKindCount; ++i) {
        if (pick < options_.read_weights[i]) {
          return kReadKinds[i];
        }
        pick -= options_.read_weights[i];
      }
    }
  }
  if (!user->open.empty() &&
      (user->open.size() >= options_.open_per_user_max || unit(rng_) < options_.cancel_fraction)) {
    return RequestKind::kCancelOrder;
  }
  return RequestKind::kNewOrder;
}

std::string Workload::ClientOrderId(uint64_t seq) const {
  return run_id_ + "-" + std::to_string(seq);
}

RequestTag Workload::Next(int64_t now_ms, std::string& out) {
  out.clear();
  RequestTag tag;
  if (options_.public_only) {
    tag.kind = PickKind(nullptr);
    switch (tag.kind) {
      case RequestKind::kDepth:
        BuildGet("/api/v3/depth?symbol=" + options_.symbol + "&limit=20", nullptr, out);
        break;
      case RequestKind::kTicker:
        BuildGet("/api/v3/ticker/24hr?symbol=" + options_.symbol, nullptr, out);
        break;
      default:
        tag.kind = RequestKind::kTime;
        BuildGet("/api/v3/time", nullptr, out);
        break;
    }
    return tag;
  }
  tag.user = static_cast<uint32_t>(next_user_++ % users_.size());
  UserState& user = state_[tag.user];
  tag.kind = PickKind(&user);
  int64_t ts = now_ms;
  switch (tag.kind) {
    case RequestKind::kNewOrder:
      tag.order_seq = next_order_seq_++;
      BuildNewOrder(tag.user, ts, tag.order_seq, out);
      break;
    case RequestKind::kCancelOrder: {
      uint64_t seq = user.open.front();
      user.open.pop_front();
      --tracked_open_;
      BuildCancel(tag.user, ts, seq, out);
      break;
    }
    case RequestKind::kDepth:
      BuildGet("/api/v3/depth?symbol=" + options_.symbol + "&limit=20", &users_[tag.user], out);
      break;
    case RequestKind::kTrades:
      BuildGet("/api/v3/trades?symbol=" + options_.symbol + "&limit=50", &users_[tag.user], out);
      break;
    case RequestKind::kTicker:
      BuildGet("/api/v3/ticker/24hr?symbol=" + options_.symbol, &users_[tag.user], out);
      break;
    case RequestKind::kAccount:
      BuildSignedGet(tag.user, "/api/v3/account", "", ts, out);
      break;
    case RequestKind::kOpenOrders:
      tag.order_seq = next_order_seq_;  // orders from here on may be missing from the answer
      BuildSignedGet(tag.user, "/api/v3/openOrders", "symbol=" + options_.symbol + "&", ts, out);
      break;
    case RequestKind::kTime:
    case RequestKind::kCount:
      tag.kind = RequestKind::kTime;
      BuildGet("/api/v3/time", nullptr, out);
      break;
  }
  return tag;
}

void Workload::BuildNewOrder(uint32_t user, int64_t ts, uint64_t seq, std::string& out) {
  bool buy = (rng_() & 1) != 0;
  // Buys at mid-3..mid+2 ticks, sells at mid-2..mid+3: the ranges overlap, so most orders
  // trade, and the rest rest within three ticks of the mid price.
  int64_t offset = static_cast<int64_t>(rng_() % 6);
  int64_t price =
      buy ? options_.mid_price_ticks + 2 - offset : options_.mid_price_ticks - 2 + offset;
  int64_t span = options_.qty_steps_max - options_.qty_steps_min + 1;
  int64_t qty = options_.qty_steps_min + static_cast<int64_t>(rng_() % static_cast<uint64_t>(span));
  std::string params;
  params.reserve(256);
  params.append("symbol=").append(options_.symbol);
  params.append(buy ? "&side=BUY" : "&side=SELL");
  params.append("&type=LIMIT&timeInForce=GTC&quantity=")
      .append(FormatFixed(qty, options_.qty_decimals));
  params.append("&price=").append(FormatFixed(price, options_.price_decimals));
  params.append("&newClientOrderId=").append(ClientOrderId(seq));
  params.append("&timestamp=").append(std::to_string(ts));
  params.append("&recvWindow=").append(std::to_string(options_.recv_window_ms));
  AppendSignedRequest("POST", "/api/v3/order", params, users_[user], host_, out);
}

void Workload::BuildCancel(uint32_t user, int64_t ts, uint64_t seq, std::string& out) {
  std::string params = "symbol=" + options_.symbol + "&origClientOrderId=" + ClientOrderId(seq) +
                       "&timestamp=" + std::to_string(ts) +
                       "&recvWindow=" + std::to_string(options_.recv_window_ms);
  AppendSignedRequest("DELETE", "/api/v3/order", params, users_[user], host_, out);
}

void Workload::BuildSignedGet(uint32_t user, std::string_view path, std::string_view params,
                              int64_t ts, std::string& out) {
  std::string query(params);
  query.append("timestamp=").append(std::to_string(ts));
  query.append("&recvWindow=").append(std::to_string(options_.recv_window_ms));
  AppendSignedRequest("GET", path, query, users_[user], host_, out);
}

void Workload::BuildGet(std::string_view target, const ApiUser* user, std::string& out) {
  out.append("GET ").append(target).append(" HTTP/1.1\r\nHost: ").append(host_);
  // Clients such as @binance/spot send the key on public endpoints too.
  if (user != nullptr) {
    out.append("\r\nX-MBX-APIKEY: ").append(user->api_key);
  }
  out.append("\r\n\r\n");
}

void Workload::Resync(UserState& user, uint64_t first_unlisted_seq, std::string_view body) {
  // Our ids in the answer: "clientOrderId":"<run_id>-<seq>".
  const std::string needle = "\"clientOrderId\":\"" + run_id_ + "-";
  std::deque<uint64_t> open;
  for (size_t at = body.find(needle); at != std::string_view::npos;
       at = body.find(needle, at + needle.size())) {
    uint64_t seq = 0;
    const char* begin = body.data() + at + needle.size();
    auto [p, ec] = std::from_chars(begin, body.data() + body.size(), seq);
    if (ec == std::errc() && p < body.data() + body.size() && *p == '"' &&
        seq < first_unlisted_seq && open.size() < kResyncOrdersMax) {
      open.push_back(seq);
    }
  }
  std::sort(open.begin(), open.end());
  // Orders placed after the request was built are not in the answer: keep them.
  for (uint64_t seq : user.open) {
    if (seq >= first_unlisted_seq) {
      open.push_back(seq);
    }
  }
  tracked_open_ = tracked_open_ - user.open.size() + open.size();
  user.open = std::move(open);
}

Outcome Workload::OnResponse(const RequestTag& tag, int status, std::string_view body,
                             std::string& error_key) {
  if (status >= 200 && status < 300) {
    if (tag.kind == RequestKind::kNewOrder &&
        (body.find("\"status\":\"NEW\"") != std::string_view::npos ||
         body.find("\"status\":\"PARTIALLY_FILLED\"") != std::string_view::npos)) {
      state_[tag.user].open.push_back(tag.order_seq);
      ++tracked_open_;
    }
    if (tag.kind == RequestKind::kOpenOrders) {
      Resync(state_[tag.user], tag.order_seq, body);
    }
    return Outcome::kOk;
  }
  std::string code = ErrorCode(body);
  if (tag.kind == RequestKind::kCancelOrder && status == 400 && code == "-2011") {
    return Outcome::kCancelRaced;
  }
  error_key = std::string(Name(tag.kind)) + ":" + std::to_string(status);
  if (!code.empty()) {
    error_key += "/" + code;
  }
  return Outcome::kError;
}

}  // namespace spotex::bench
