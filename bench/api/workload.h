// What the API load generator (api_bench.cc) sends: signed Binance requests as ccxt builds
// them, spread round-robin over many users, and the outcome of each answer.
//
// Mix. A fraction `read_fraction` of requests are reads, split by `read_weights` between the
// public GET depth (limit 20), GET trades (limit 50) and GET ticker/24hr and the signed
// private GET account and GET openOrders (equal weights by default). The rest are
// order operations on one symbol: GTC LIMIT orders of random side within a few ticks of a fixed
// mid price (buys at mid-3..mid+2 ticks, sells at mid-2..mid+3, so most cross and trade), and
// cancels by origClientOrderId of the user's own earlier orders that answered NEW or
// PARTIALLY_FILLED, as far as the workload knows: each answer to the user's openOrders read
// replaces that knowledge (orders filled since drop out). A user with `open_per_user_max`
// such orders cancels its oldest before placing more, and a fraction `cancel_fraction` of order
// operations cancel when there is something to cancel: the book stays bounded (at most users ×
// open_per_user_max of our orders, below the symbol's MAX_NUM_ORDERS per user).
//
// A cancel may reach an order that was filled since it was placed: Binance answers -2011
// ("Unknown order sent."), HTTP 400. That is a race of the workload, not a server error, and
// is reported apart (Outcome::kCancelRaced).
//
// Signing (BINANCE_API.md §2, ccxt's placement): POST puts every parameter in a form body
// with `signature` last and an empty query; GET and DELETE put them in the query with
// `signature` last. The signature is the lowercase hex HMAC-SHA256 of the payload under the
// API secret; `recvWindow=10000` as ccxt sends; `timestamp` is the wall clock in ms. The
// requests the server's replay cache checks (POST, and DELETE if configured) are never
// byte-identical: each new order has a fresh newClientOrderId and each order is cancelled at
// most once. GETs may repeat within a millisecond; the replay cache never checks them.
//
// The public mix (`public_only`) needs no users: GET depth, ticker/24hr and time.
//
// Thread safety: none; one Workload per event loop.
#pragma once

#include <array>
#include <cstdint>
#include <iterator>
#include <deque>
#include <expected>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace spotex::bench {

struct ApiUser {
  std::string api_key;
  std::string api_secret;
};

inline constexpr size_t kUsersMax = 100'000;
inline constexpr size_t kUsersFileBytesMax = 64 * 1024 * 1024;
inline constexpr size_t kCredentialBytesMax = 512;
inline constexpr size_t kResyncOrdersMax = 1000;  // ids taken from one openOrders answer

// Reads a JSON array of objects, each with string members "apiKey" and "apiSecret" (others,
// such as "email" or "userId", are ignored): the format of var/demo/users.json and of the file
// run_api_bench.sh writes. Errors name what is wrong; an empty array is an error.
[[nodiscard]] std::expected<std::vector<ApiUser>, std::string> ParseUsersJson(
    std::string_view json);

// `params` + "&signature=" + the hex HMAC-SHA256 of `params` under `secret`.
[[nodiscard]] std::string SignParams(std::string_view params, std::string_view secret);

// Appends a signed request (a complete HTTP/1.1 message, keep-alive) to `out`, placed as ccxt
// places it: POST puts `params` + signature in a form body, GET and DELETE in the query.
// `params` is the full parameter string, timestamp and recvWindow included.
void AppendSignedRequest(std::string_view method, std::string_view path, std::string_view params,
                         const ApiUser& user, std::string_view host, std::string& out);

// "30000.00" for 3000000 ticks with 2 decimals; "0.00020" for 20 with 5.
[[nodiscard]] std::string FormatFixed(int64_t units, int decimals);

enum class RequestKind : uint8_t {
  kNewOrder,
  kCancelOrder,
  kDepth,
  kTrades,
  kTicker,
  kAccount,
  kOpenOrders,
  kTime,
  kCount,
};
std::string_view Name(RequestKind kind);

enum class Outcome : uint8_t { kOk, kCancelRaced, kError };

// The read kinds `MixOptions::read_weights` weighs, in this order.
inline constexpr RequestKind kReadKinds[] = {RequestKind::kDepth, RequestKind::kTrades,
                                             RequestKind::kTicker, RequestKind::kAccount,
                                             RequestKind::kOpenOrders};
inline constexpr size_t kReadKindCount = std::size(kReadKinds);
inline constexpr uint32_t kReadWeightMax = 1000;

// "depth=2,account=1" → weights over kReadKinds (kinds not named get 0); an error text if a
// name is unknown, a weight is not 0..kReadWeightMax or all weights are 0.
[[nodiscard]] std::expected<std::array<uint32_t, kReadKindCount>, std::string> ParseReadWeights(
    std::string_view text);

// The Binance error code of an error body {"code":-NNNN,...}, or "" if there is none.
[[nodiscard]] std::string ErrorCode(std::string_view body);

struct MixOptions {
  bool public_only = false;
  double read_fraction = 0.2;    // 0..1
  std::array<uint32_t, kReadKindCount> read_weights{1, 1, 1, 1, 1};  // over kReadKinds
  double cancel_fraction = 0.1;  // of order operations, 0..1
  size_t open_per_user_max = 8;  // 1..100
  std::string symbol = "BTCUSDT";
  int64_t mid_price_ticks = 3'000'000;  // 30000.00 at tick 0.01
  int price_decimals = 2;               // tick 0.01
  int qty_decimals = 5;                 // step 0.00001
  int64_t qty_steps_min = 20;           // 0.00020: 6 USDT at 30000 > minNotional 5
  int64_t qty_steps_max = 100;
  int64_t recv_window_ms = 10'000;
};

// One request on its way: what the outcome needs to know about it.
struct RequestTag {
  RequestKind kind = RequestKind::kTime;
  uint32_t user = 0;
  uint64_t order_seq = 0;  // kNewOrder: its client order id's number; kOpenOrders: the next
                           // number at the time it was built
};

class Workload {
 public:
  // `users` must be non-empty unless options.public_only. `host` goes in the Host header.
  // `run_id` (letters and digits, at most 12) prefixes every newClientOrderId, so runs against
  // the same users never reuse an id.
  Workload(std::vector<ApiUser> users, MixOptions options, uint64_t seed, std::string host,
           std::string run_id);

  // Writes the next request (a complete HTTP/1.1 message, keep-alive) to `out` (replacing its
  // contents) and returns its tag. `now_ms` is the wall clock for `timestamp`.
  RequestTag Next(int64_t now_ms, std::string& out);

  // Records the answer to a request built by Next(): `status` the HTTP status, `body` the
  // response body. Returns how to count it; `error_key` (when kError) is e.g. "400/-2010".
  Outcome OnResponse(const RequestTag& tag, int status, std::string_view body,
                     std::string& error_key);

  // Our orders believed open now (NEW/PARTIALLY_FILLED answers not yet cancelled).
  size_t TrackedOpenOrders() const { return tracked_open_; }

 private:
  struct UserState {
    std::deque<uint64_t> open;  // order seqs, oldest first
  };

  RequestKind PickKind(UserState* user);  // null: public mix
  // The user's open orders from an openOrders answer, plus those placed since it was asked.
  void Resync(UserState& user, uint64_t first_unlisted_seq, std::string_view body);
  void BuildNewOrder(uint32_t user, int64_t ts, uint64_t seq, std::string& out);
  void BuildCancel(uint32_t user, int64_t ts, uint64_t seq, std::string& out);
  void BuildSignedGet(uint32_t user, std::string_view path, std::string_view params, int64_t ts,
                      std::string& out);
  void BuildGet(std::string_view target, const ApiUser* user, std::string& out);
  std::string ClientOrderId(uint64_t seq) const;

  std::vector<ApiUser> users_;
  std::vector<UserState> state_;
  MixOptions options_;
  std::mt19937_64 rng_;
  std::string host_;
  std::string run_id_;
  uint64_t next_user_ = 0;
  uint64_t next_order_seq_ = 1;
  size_t tracked_open_ = 0;
};

}  // namespace spotex::bench
