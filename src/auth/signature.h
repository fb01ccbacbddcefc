// Request signatures as Binance clients make them (BINANCE_API.md §2): what is signed, and
// verification of HMAC-SHA256 (hex) and Ed25519 (base64) signatures. RSA keys are not
// supported. Pure functions over bytes: no I/O, no clock, no allocation beyond the results.
//
// REST: the signed bytes are the raw query string followed, with no separator, by the raw
// request body, with the `signature=...` pair taken out. SignedPayload() finds that pair in
// either place (ccxt POSTs a form body with `signature` last in the body; @binance/spot puts
// everything, `signature` last, in the query and sends an empty body) and returns the exact
// signed bytes. Never decode and re-encode the parameters before verifying: the two clients
// encode differently, and only the bytes on the wire are what the client signed.
//
// Thread safety: every function may be called concurrently from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <expected>
#include <span>
#include <string>
#include <string_view>

#include "auth/errors.h"

namespace spotex::auth {

// Limits (STYLE.md §5). The HTTP layer's own request-size limit should be at or below these.
inline constexpr size_t kSignedPayloadBytesMax = 64 * 1024;  // query + body
inline constexpr size_t kSignatureParamBytesMax = 512;       // raw (percent-encoded) value
inline constexpr size_t kWsApiParamsMax = 64;
inline constexpr size_t kPublicKeyPemBytesMax = 4096;

inline constexpr size_t kHmacSignatureBytes = 32;     // 64 hex digits on the wire
inline constexpr size_t kEd25519SignatureBytes = 64;  // 88 base64 characters on the wire
inline constexpr size_t kEd25519PublicKeyBytes = 32;

// ---------------------------------------------------------------------------------------------
// What is signed.

enum class SignaturePlacement { kQuery, kBody };

struct SignedRequest {
  std::string payload;    // the exact bytes the client signed
  std::string signature;  // the `signature` value, percent-decoded ('+' is kept as '+')
  SignaturePlacement placement = SignaturePlacement::kQuery;
};

// Splits a REST request into its signed payload and its signature.
//
// `raw_query` is the request target after '?' (empty if none) and `raw_body` the body, both
// exactly as received. The body is only searched for `signature` as form data; the HTTP layer
// passes the raw body of any content type (it is part of the signed bytes either way).
// A parameter is `signature` if its name, percent-decoded, is exactly "signature". The pair is
// removed together with the '&' that joined it to its neighbour (the one before it, or the one
// after it when it comes first), so "a=1&signature=s&b=2" signs "a=1&b=2".
//
// Errors: kTooManyParameters if query + body exceed kSignedPayloadBytesMax; kSignatureMissing
// if no `signature` is sent, its value is empty, or its percent-encoding is broken;
// kDuplicateParameter if it is sent more than once (in one place or both); kInvalidSignature
// if the value is longer than kSignatureParamBytesMax.
[[nodiscard]] std::expected<SignedRequest, ApiError> SignedPayload(std::string_view raw_query,
                                                                   std::string_view raw_body);

// One `params` entry of a WebSocket API request. `value` is the JSON string's content, or the
// JSON number/boolean text exactly as received (e.g. "1645423376532").
struct WsApiParam {
  std::string_view key;
  std::string_view value;
};

// The two payloads a WebSocket API signature may be over: every param except `signature`,
// sorted by key (bytewise), joined as key=value with '&'. ccxt signs the values as UTF-8
// (`raw`); @binance/spot runs each value through encodeURIComponent (`uri_encoded`). Accept a
// signature that matches either; for plain alphanumeric values the two are equal.
struct WsApiSignedPayloads {
  std::string raw;
  std::string uri_encoded;
};

// Errors: kTooManyParameters beyond kWsApiParamsMax params or kSignedPayloadBytesMax bytes;
// kDuplicateParameter if a key repeats.
[[nodiscard]] std::expected<WsApiSignedPayloads, ApiError> WsApiSignedPayload(
    std::span<const WsApiParam> params);

// ---------------------------------------------------------------------------------------------
// Verification.

// Why a signature was refused. Both map to -1022 for the client (ToApiError); the distinction
// is for logs and metrics.
enum class SignatureError {
  kMalformed,  // wrong length, not hex / not base64
  kMismatch,   // well formed, but not a signature of this payload by this key
};
constexpr ApiError ToApiError(SignatureError) { return errors::kInvalidSignature; }
std::string_view Describe(SignatureError error);

// The decoded bytes of a signature that verified. They identify the request for the replay
// cache: decoding first means the same signature spelt in upper- and lowercase hex (or with
// and without base64 padding) is one key, not two.
class VerifiedSignature {
 public:
  std::string_view ReplayKey() const {
    return {reinterpret_cast<const char*>(bytes_.data()), size_};
  }

 private:
  friend class SignatureBuilder;
  std::array<unsigned char, kEd25519SignatureBytes> bytes_{};
  size_t size_ = 0;
};

// HMAC-SHA256 keyed with `secret` (the 64-character API secret, used as bytes) over `payload`,
// compared in constant time with `signature_hex`: exactly 64 hex digits, any letter case
// (Binance: HMAC signatures are not case-sensitive).
[[nodiscard]] std::expected<VerifiedSignature, SignatureError> VerifyHmac(
    std::string_view secret, std::string_view payload, std::string_view signature_hex);

// Lowercase hex HMAC-SHA256 of `payload` under `secret`: what a client sends. For tests and
// tools; the server only verifies.
[[nodiscard]] std::string ComputeHmacHex(std::string_view secret, std::string_view payload);

struct Ed25519PublicKey {
  std::array<unsigned char, kEd25519PublicKeyBytes> bytes{};

  friend bool operator==(const Ed25519PublicKey&, const Ed25519PublicKey&) = default;
};

enum class PublicKeyError {
  kTooLong,       // more than kPublicKeyPemBytesMax bytes
  kNotPem,        // neither a PEM block nor 32 raw bytes
  kNotPublicKey,  // a PEM block of another kind ("PRIVATE KEY", "RSA PUBLIC KEY", ...)
  kBadBase64,     // the PEM body is not base64, or text follows the END line
  kNotEd25519,    // SubjectPublicKeyInfo of another algorithm (RSA, EC, X25519, ...)
  kWrongLength,   // raw key that is not 32 bytes
  kInvalidKey,    // 32 bytes that are not a usable Ed25519 point (small order, non-canonical)
};
std::string_view Describe(PublicKeyError error);

// Parses the PEM a user uploads, as `openssl pkey -pubout` writes it:
//   -----BEGIN PUBLIC KEY-----
//   MCowBQYDK2VwAyEA<43 more base64 characters>
//   -----END PUBLIC KEY-----
// i.e. a DER SubjectPublicKeyInfo with the Ed25519 OID 1.3.101.112 (RFC 8410). Surrounding
// whitespace and CRLF line ends are accepted; anything else around the block is not.
[[nodiscard]] std::expected<Ed25519PublicKey, PublicKeyError> ParseEd25519PublicKeyPem(
    std::string_view pem);

// A key given as its 32 raw bytes (RFC 8032 encoding).
[[nodiscard]] std::expected<Ed25519PublicKey, PublicKeyError> Ed25519PublicKeyFromRaw(
    std::span<const unsigned char> raw);

// PEM if the text (after leading whitespace) starts with "-----BEGIN", else 32 raw bytes.
[[nodiscard]] std::expected<Ed25519PublicKey, PublicKeyError> ParseEd25519PublicKey(
    std::string_view pem_or_raw);

// The PEM form of `key` (64-column base64, '\n' line ends, trailing newline).
[[nodiscard]] std::string ToPem(const Ed25519PublicKey& key);

// Pure Ed25519 (RFC 8032, no pre-hash) over `payload`. `signature_base64` is standard base64
// (RFC 4648 §4, case-sensitive), padded or not, AFTER percent-decoding: clients percent-encode
// it ('+' as %2B, '/' as %2F, '=' as %3D), and SignedPayload() already decodes the value.
// Non-canonical signatures and small-order keys are refused (libsodium's strict checks).
[[nodiscard]] std::expected<VerifiedSignature, SignatureError> VerifyEd25519(
    const Ed25519PublicKey& public_key, std::string_view payload,
    std::string_view signature_base64);

}  // namespace spotex::auth
