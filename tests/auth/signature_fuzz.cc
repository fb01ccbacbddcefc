// Fuzz entry point for everything in spotex_auth that reads client- or user-supplied bytes:
// signed-payload extraction, HMAC/Ed25519 verification, PEM parsing, timestamp/recvWindow
// parsing, IP allow-lists, session tokens, master key files and sealed secrets. Besides "does
// not crash" (and ASan/UBSan being quiet) it checks properties that must hold for any input,
// and aborts if one does not.
//
// The input is split at NUL bytes into: query, body, PEM text, a signature string, and one
// more field fed to the small parsers.
//
// With libFuzzer (clang): the compiler needs the C++23 <expected> of libstdc++ 12, which
// requires __cpp_concepts >= 202002L. The clang 14 on Debian 12 reports 201907L, so use
// clang 16 or newer (e.g. from apt.llvm.org):
//   clang++-16 -std=c++2b -O1 -g -fsanitize=fuzzer,address,undefined -Isrc
//       tests/auth/signature_fuzz.cc src/auth/*.cc $(pkg-config --cflags --libs libsodium)
//       -o auth_signature_fuzz      (one command line)
//   ./auth_signature_fuzz -max_total_time=600 -max_len=8192 corpus_dir/
// With g++ (no libFuzzer), fuzz_driver.cc provides main(): the ctest `auth_fuzz_smoke` runs it
// for a few seconds under the sanitizers of the debug preset.
#include <sodium.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "auth/ip_allow_list.h"
#include "auth/keys.h"
#include "auth/password.h"
#include "auth/signature.h"
#include "auth/timestamp.h"

namespace {

using namespace spotex::auth;  // NOLINT(google-build-using-namespace): test harness

constexpr std::string_view kSecret =
    "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz property violated: %s\n", what);
    std::abort();
  }
}

std::vector<std::string_view> SplitFields(std::string_view in, size_t count) {
  std::vector<std::string_view> fields;
  for (size_t i = 0; i + 1 < count; ++i) {
    const size_t nul = in.find('\0');
    if (nul == std::string_view::npos) {
      break;
    }
    fields.push_back(in.substr(0, nul));
    in.remove_prefix(nul + 1);
  }
  fields.push_back(in);
  fields.resize(count);
  return fields;
}

std::string Upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'f') {
      c = static_cast<char>(c - 'a' + 'A');
    }
  }
  return s;
}

// Fixed Ed25519 key pair made from a constant seed, so runs are reproducible.
struct FixedKeys {
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> pk{};
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> sk{};
  MasterKeyring ring;
  FixedKeys() {
    Check(sodium_init() >= 0, "sodium_init");
    std::array<unsigned char, crypto_sign_SEEDBYTES> seed{};
    seed.fill(7);
    crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data());
    Check(ring.Add(1, Secret(std::string(kMasterKeyBytes, 'm'))), "ring");
  }
};

const FixedKeys& Keys() {
  static const FixedKeys keys;
  return keys;
}

void FuzzSignedPayload(std::string_view query, std::string_view body) {
  auto parts = SignedPayload(query, body);
  auto again = SignedPayload(query, body);
  Check(parts.has_value() == again.has_value(), "SignedPayload deterministic");
  if (!parts.has_value()) {
    Check(parts.error().code == -1101 || parts.error().code == -1102 || parts.error().code == -1022,
          "SignedPayload error codes");
    return;
  }
  Check(parts->payload == again->payload && parts->signature == again->signature,
        "SignedPayload same result");
  Check(!parts->signature.empty(), "signature non-empty");
  // The payload is the input minus at least "signature=x".
  Check(parts->payload.size() + 11 <= query.size() + body.size(), "payload shorter than input");
  // Whatever the payload, a correct signature of it verifies and a wrong one does not.
  const std::string sig = ComputeHmacHex(kSecret, parts->payload);
  auto lower = VerifyHmac(kSecret, parts->payload, sig);
  auto upper = VerifyHmac(kSecret, parts->payload, Upper(sig));
  Check(lower.has_value() && upper.has_value(), "HMAC round trip");
  Check(lower->ReplayKey() == upper->ReplayKey(), "replay key ignores hex case");
  Check(!VerifyHmac(kSecret, parts->payload + "x", sig).has_value(), "HMAC tamper");
  auto client = VerifyHmac(kSecret, parts->payload, parts->signature);
  Check(!client.has_value() || parts->signature.size() == 64, "HMAC sig length");

  const FixedKeys& keys = Keys();
  std::array<unsigned char, crypto_sign_BYTES> ed{};
  crypto_sign_detached(ed.data(), nullptr,
                       reinterpret_cast<const unsigned char*>(parts->payload.data()),
                       parts->payload.size(), keys.sk.data());
  std::string b64(sodium_base64_ENCODED_LEN(ed.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(b64.data(), b64.size(), ed.data(), ed.size(), sodium_base64_VARIANT_ORIGINAL);
  b64.resize(b64.find('\0'));
  auto key = Ed25519PublicKeyFromRaw(keys.pk);
  Check(key.has_value(), "fixed key valid");
  Check(VerifyEd25519(*key, parts->payload, b64).has_value(), "Ed25519 round trip");
  Check(!VerifyEd25519(*key, parts->payload + "x", b64).has_value(), "Ed25519 tamper");
}

void FuzzPublicKey(std::string_view pem, std::string_view payload, std::string_view signature) {
  auto key = ParseEd25519PublicKey(pem);
  if (!key.has_value()) {
    return;
  }
  auto back = ParseEd25519PublicKeyPem(ToPem(*key));
  Check(back.has_value() && *back == *key, "PEM round trip");
  auto verified = VerifyEd25519(*key, payload, signature);
  Check(!verified.has_value() || signature.size() == 86 || signature.size() == 88,
        "Ed25519 sig length");
}

void FuzzSmallParsers(std::string_view field) {
  constexpr int64_t kNowUs = 1'767'225'600'000'000;
  auto ts = ParseTimestampUs(field);
  auto rw = ParseRecvWindowUs(field);
  if (rw.has_value()) {
    Check(*rw >= 0 && *rw <= kRecvWindowMaxMs * 1000, "recvWindow range");
  }
  if (ts.has_value() && rw.has_value()) {
    auto ok = CheckTimestampUs(*ts, *rw, kNowUs);
    if (ok.has_value()) {
      Check(ReplayExpiryMs(*ts, *rw) >= kNowUs / 1000, "replay expiry covers the window");
    }
  }
  auto list = IpAllowList::Parse(field);
  if (list.has_value()) {
    auto again = IpAllowList::Parse(list->ToString());
    Check(again.has_value() && again->ToString() == list->ToString(), "IP list round trip");
  }
  (void)IpAllowList().Allows(field);
  if (auto hash = SessionTokenHash(field); hash.has_value()) {
    Check(hash->size() == 64, "token hash size");
  }
  (void)ParseMasterKey(field);
  (void)CheckPasswordPolicy(field, "user");
  (void)CheckApiKeyHeader(field);
  Check(!DecryptSecret(Keys().ring, field, "ctx").has_value(), "forged sealed secret");
  const std::vector<WsApiParam> params = {{"a", field}, {field, "b"}, {"signature", field}};
  (void)WsApiSignedPayload(params);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string_view> f = SplitFields(in, 5);
  FuzzSignedPayload(f[0], f[1]);
  FuzzPublicKey(f[2], f[0], f[3]);
  (void)VerifyHmac(kSecret, f[0], f[3]);
  FuzzSmallParsers(f[4]);
  return 0;
}
