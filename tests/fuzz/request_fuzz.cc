// Fuzz target (libFuzzer interface) for what the gateway does with a signed request before any
// endpoint logic: parameter parsing (http::Params) and authentication (gateway::Authenticator:
// API key, signature placement, HMAC, timestamp, recvWindow, replay cache).
//
// Input: "<method byte><query>\n<body>" (no newline: all query). Properties checked:
//   1. nothing crashes, leaks or trips a sanitizer;
//   2. the request as sent is accepted or refused with one of the authenticator's documented
//      codes, never anything else;
//   3. the same parameters correctly signed by the key's owner (HMAC over the query + body,
//      `signature` appended where ccxt or @binance/spot would put it) are never refused as a bad
//      signature (-1022) the first time: signing and verification agree on every input.
//
// Built with clang's libFuzzer by tests/fuzz/run.sh (ctest: request_fuzz), which runs it for a
// bounded time; also reproducible by hand:
//   tests/fuzz/run.sh --seconds 60      (binary and corpus under build/fuzz/)
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "auth/replay_cache.h"
#include "auth/signature.h"
#include "gateway/auth/authenticator.h"
#include "gateway/auth/key_directory.h"
#include "gateway/http/message.h"
#include "gateway/http/params.h"

namespace {

using namespace spotex;

constexpr std::string_view kApiKey =
    "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
constexpr std::string_view kSecret =
    "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
constexpr int64_t kNowUs = 1'499'827'319'559'000;  // the server clock: BINANCE_API.md's example

void Check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "request_fuzz: property violated: %s\n", what);
    std::abort();
  }
}

struct World {
  gateway::InMemoryKeyDirectory keys;
  auth::InMemoryReplayCache replays{1 << 16, [] { return kNowUs / 1000; }};
  std::unique_ptr<gateway::Authenticator> authenticator;

  World() {
    auto key = std::make_shared<gateway::ResolvedKey>();
    key->key_id = 1;
    key->user_id = 7;
    key->hmac_secret = auth::Secret(kSecret);
    key->permissions =
        auth::Permissions().With(auth::Permission::kRead).With(auth::Permission::kTrade);
    keys.Put(std::string(kApiKey), key);
    authenticator = std::make_unique<gateway::Authenticator>(keys, replays, nullptr,
                                                             [] { return kNowUs; });
  }
};

bool KnownCode(int code) {
  switch (code) {
    case -1001: case -1008: case -1021: case -1022: case -1100: case -1101: case -1102:
    case -1131: case -2014: case -2015:
      return true;
    default:
      return false;
  }
}

http::Method MethodOf(uint8_t b) {
  switch (b % 4) {
    case 0: return http::Method::kGet;
    case 1: return http::Method::kPost;
    case 2: return http::Method::kDelete;
    default: return http::Method::kPut;
  }
}

std::expected<gateway::Caller, http::Error> Authenticate(World& world, http::Method method,
                                                         std::string_view query,
                                                         std::string_view body,
                                                         bool form_body) {
  std::string target = "/api/v3/order";
  if (!query.empty()) {
    target += '?';
    target.append(query);
  }
  http::HeaderList headers = {{"X-MBX-APIKEY", std::string(kApiKey)}};
  headers.emplace_back("Content-Type", form_body ? "application/x-www-form-urlencoded"
                                                 : "application/json");
  http::Request request(method, std::string(http::MethodName(method)), std::move(target),
                        std::move(headers), std::string(body), "127.0.0.1", "127.0.0.1");
  auto params = http::Params::FromRequest(request);
  if (!params) return std::unexpected(params.error());
  return world.authenticator->Authenticate(request, *params, auth::SecurityType::kTrade);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();
  if (size == 0) return 0;
  const http::Method method = MethodOf(data[0]);
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t nl = input.find('\n');
  std::string_view query = input.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
  const bool form = method != http::Method::kGet && (data[0] & 4) != 0;

  // 2. As sent.
  auto as_sent = Authenticate(*world, method, query, body, form);
  if (!as_sent) {
    // Parameter errors come from http::Params (-1100 / -1101 / -1102 and its range errors).
    Check(KnownCode(as_sent.error().code) || as_sent.error().code == -1108 ||
              as_sent.error().code == -1104,
          "unexpected error code");
  } else {
    Check(as_sent->account == 7, "wrong account");
  }

  // 3. Correctly signed by the owner. Only for inputs that do not already name a signature
  // (percent-escapes could spell one) and that a sender could have produced: the signature
  // goes last in the body for a ccxt-style form POST, last in the query otherwise.
  if (input.find("signature") != std::string_view::npos || input.find('%') != std::string_view::npos) {
    return 0;
  }
  std::string q(query), b(body);
  const bool in_body = form && !b.empty();
  std::string payload = q + b;
  std::string pair = "signature=" + auth::ComputeHmacHex(kSecret, payload);
  std::string& where = in_body ? b : q;
  if (!where.empty()) where += '&';
  where += pair;
  auto signed_ok = Authenticate(*world, method, q, b, form);
  if (!signed_ok && signed_ok.error().code == -1022) {
    // A replay of an earlier input is the one legitimate -1022.
    auto again = auth::SignedPayload(q, b);
    Check(again.has_value() && again->payload == payload,
          "signature placement and payload disagree");
  }
  return 0;
}
