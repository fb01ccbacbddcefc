#include "auth/signature.h"

#include <sodium.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "auth/sodium_init.h"
#include "core/assert.h"

namespace spotex::auth {

// Builds VerifiedSignature values; the only code allowed to (see the friend declaration).
class SignatureBuilder {
 public:
  static VerifiedSignature Make(std::span<const unsigned char> bytes) {
    SPOTEX_ASSERT(bytes.size() <= kEd25519SignatureBytes);
    VerifiedSignature v;
    std::copy(bytes.begin(), bytes.end(), v.bytes_.begin());
    v.size_ = bytes.size();
    return v;
  }
};

namespace {

constexpr std::string_view kSignatureName = "signature";

int HexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// Percent-decodes `in` ('+' stays '+': a base64 '+' sent unencoded is still a '+', and no
// valid signature or name here contains a space). Returns nullopt on a broken escape.
std::optional<std::string> PercentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) {
      return std::nullopt;
    }
    const int hi = HexValue(in[i + 1]);
    const int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

bool IsSignatureName(std::string_view name) {
  if (name == kSignatureName) {
    return true;
  }
  // An escaped name ("%73ignature") is still `signature` to any form decoder, so it must be
  // found here too or it would be signed over and then also read as the signature.
  if (name.find('%') == std::string_view::npos || name.size() > 3 * kSignatureName.size()) {
    return false;
  }
  const std::optional<std::string> decoded = PercentDecode(name);
  return decoded.has_value() && *decoded == kSignatureName;
}

// Where one `signature` pair sits: [begin, end) of the pair within its source.
struct PairLocation {
  int source = 0;  // 0 = query, 1 = body
  size_t begin = 0;
  size_t end = 0;
  std::string_view value;
};

// Finds the `signature` pairs in `text`; counts all of them, remembers the last.
void FindSignaturePairs(std::string_view text, int source, int& count, PairLocation& found) {
  size_t pos = 0;
  while (true) {
    size_t amp = text.find('&', pos);
    if (amp == std::string_view::npos) {
      amp = text.size();
    }
    const std::string_view pair = text.substr(pos, amp - pos);
    const size_t eq = pair.find('=');
    const std::string_view name = pair.substr(0, eq);
    if (IsSignatureName(name)) {
      ++count;
      found.source = source;
      found.begin = pos;
      found.end = amp;
      found.value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    }
    if (amp == text.size()) {
      return;
    }
    pos = amp + 1;
  }
}

// `text` without the pair at [begin, end) and the '&' that joined it to a neighbour.
std::string WithoutPair(std::string_view text, size_t begin, size_t end) {
  std::string out;
  out.reserve(text.size());
  if (begin > 0) {
    out.append(text.substr(0, begin - 1));  // drop the '&' before the pair
    out.append(text.substr(end));
  } else if (end < text.size()) {
    out.append(text.substr(end + 1));  // first pair: drop the '&' after it
  }
  return out;
}

bool IsUriComponentUnreserved(unsigned char c) {
  // encodeURIComponent leaves A-Z a-z 0-9 - _ . ! ~ * ' ( ) as they are.
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::string_view("-_.!~*'()").find(static_cast<char>(c)) != std::string_view::npos;
}

void AppendUriComponent(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsUriComponentUnreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
}

}  // namespace

std::expected<SignedRequest, ApiError> SignedPayload(std::string_view raw_query,
                                                     std::string_view raw_body) {
  if (raw_query.size() > kSignedPayloadBytesMax ||
      raw_body.size() > kSignedPayloadBytesMax - raw_query.size()) {
    return std::unexpected(errors::kTooManyParameters);
  }
  int count = 0;
  PairLocation found;
  FindSignaturePairs(raw_query, 0, count, found);
  FindSignaturePairs(raw_body, 1, count, found);
  if (count == 0) {
    return std::unexpected(errors::kSignatureMissing);
  }
  if (count > 1) {
    return std::unexpected(errors::kDuplicateParameter);
  }
  if (found.value.empty()) {
    return std::unexpected(errors::kSignatureMissing);
  }
  if (found.value.size() > kSignatureParamBytesMax) {
    return std::unexpected(errors::kInvalidSignature);
  }
  std::optional<std::string> signature = PercentDecode(found.value);
  if (!signature.has_value() || signature->empty()) {
    return std::unexpected(errors::kSignatureMissing);
  }

  SignedRequest out;
  out.signature = std::move(*signature);
  if (found.source == 0) {
    out.placement = SignaturePlacement::kQuery;
    out.payload = WithoutPair(raw_query, found.begin, found.end);
    out.payload.append(raw_body);
  } else {
    out.placement = SignaturePlacement::kBody;
    out.payload.reserve(raw_query.size() + raw_body.size());
    out.payload.append(raw_query);
    out.payload.append(WithoutPair(raw_body, found.begin, found.end));
  }
  return out;
}

std::expected<WsApiSignedPayloads, ApiError> WsApiSignedPayload(
    std::span<const WsApiParam> params) {
  if (params.size() > kWsApiParamsMax) {
    return std::unexpected(errors::kTooManyParameters);
  }
  std::vector<WsApiParam> sorted;
  sorted.reserve(params.size());
  size_t bytes = 0;
  for (const WsApiParam& p : params) {
    if (p.key == kSignatureName) {
      continue;
    }
    bytes += p.key.size() + p.value.size() + 2;
    if (bytes > kSignedPayloadBytesMax) {
      return std::unexpected(errors::kTooManyParameters);
    }
    sorted.push_back(p);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const WsApiParam& a, const WsApiParam& b) { return a.key < b.key; });
  WsApiSignedPayloads out;
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (i > 0 && sorted[i].key == sorted[i - 1].key) {
      return std::unexpected(errors::kDuplicateParameter);
    }
    if (i > 0) {
      out.raw.push_back('&');
      out.uri_encoded.push_back('&');
    }
    out.raw.append(sorted[i].key).append("=").append(sorted[i].value);
    out.uri_encoded.append(sorted[i].key).append("=");
    AppendUriComponent(out.uri_encoded, sorted[i].value);
  }
  return out;
}

std::string_view Describe(SignatureError error) {
  switch (error) {
    case SignatureError::kMalformed:
      return "signature is not in the key type's encoding or has the wrong length";
    case SignatureError::kMismatch:
      return "signature does not match the payload and key";
  }
  return "unknown signature error";
}

namespace {

void HmacSha256(std::string_view secret, std::string_view payload,
                std::array<unsigned char, kHmacSignatureBytes>& mac) {
  internal::EnsureSodium();
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()),
                              secret.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(payload.data()),
                                payload.size());
  crypto_auth_hmacsha256_final(&state, mac.data());
  // The state holds the key XORed with the pads: as good as the secret.
  sodium_memzero(&state, sizeof(state));
}

}  // namespace

std::expected<VerifiedSignature, SignatureError> VerifyHmac(std::string_view secret,
                                                            std::string_view payload,
                                                            std::string_view signature_hex) {
  if (signature_hex.size() != 2 * kHmacSignatureBytes) {
    return std::unexpected(SignatureError::kMalformed);
  }
  internal::EnsureSodium();
  std::array<unsigned char, kHmacSignatureBytes> sent{};
  size_t sent_size = 0;
  // hex_end == nullptr: any non-hex character fails the whole decode.
  if (sodium_hex2bin(sent.data(), sent.size(), signature_hex.data(), signature_hex.size(), nullptr,
                     &sent_size, nullptr) != 0 ||
      sent_size != sent.size()) {
    return std::unexpected(SignatureError::kMalformed);
  }
  std::array<unsigned char, kHmacSignatureBytes> mac{};
  HmacSha256(secret, payload, mac);
  const bool equal = sodium_memcmp(mac.data(), sent.data(), mac.size()) == 0;
  sodium_memzero(mac.data(), mac.size());
  if (!equal) {
    return std::unexpected(SignatureError::kMismatch);
  }
  return SignatureBuilder::Make(sent);
}

std::string ComputeHmacHex(std::string_view secret, std::string_view payload) {
  std::array<unsigned char, kHmacSignatureBytes> mac{};
  HmacSha256(secret, payload, mac);
  std::string hex(2 * mac.size() + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), mac.data(), mac.size());
  hex.pop_back();  // the terminating NUL
  sodium_memzero(mac.data(), mac.size());
  return hex;
}

// ---------------------------------------------------------------------------------------------
// Ed25519.

namespace {

// DER SubjectPublicKeyInfo for Ed25519 (RFC 8410 §4): SEQUENCE { SEQUENCE { OID 1.3.101.112 },
// BIT STRING (0 unused bits) { 32 key bytes } }. Everything but the key is this fixed prefix.
constexpr std::array<unsigned char, 12> kEd25519SpkiPrefix = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                                              0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
constexpr size_t kEd25519SpkiBytes = kEd25519SpkiPrefix.size() + kEd25519PublicKeyBytes;

constexpr std::string_view kPemBegin = "-----BEGIN ";
constexpr std::string_view kPemDashes = "-----";
constexpr std::string_view kPublicKeyLabel = "PUBLIC KEY";
constexpr std::string_view kWhitespace = " \t\r\n";

std::string_view Trim(std::string_view s) {
  const size_t first = s.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) {
    return {};
  }
  const size_t last = s.find_last_not_of(kWhitespace);
  return s.substr(first, last - first + 1);
}

}  // namespace

std::string_view Describe(PublicKeyError error) {
  switch (error) {
    case PublicKeyError::kTooLong:
      return "public key text is too long";
    case PublicKeyError::kNotPem:
      return "not a PEM public key (-----BEGIN PUBLIC KEY-----) or 32 raw bytes";
    case PublicKeyError::kNotPublicKey:
      return "PEM block is not a PUBLIC KEY (never upload a private key)";
    case PublicKeyError::kBadBase64:
      return "PEM body is not valid base64";
    case PublicKeyError::kNotEd25519:
      return "public key is not an Ed25519 key";
    case PublicKeyError::kWrongLength:
      return "raw Ed25519 public key must be 32 bytes";
    case PublicKeyError::kInvalidKey:
      return "bytes are not a valid Ed25519 public key";
  }
  return "unknown public key error";
}

std::expected<Ed25519PublicKey, PublicKeyError> Ed25519PublicKeyFromRaw(
    std::span<const unsigned char> raw) {
  if (raw.size() != kEd25519PublicKeyBytes) {
    return std::unexpected(PublicKeyError::kWrongLength);
  }
  internal::EnsureSodium();
  // Refuses non-canonical encodings, points off the curve or outside the prime-order subgroup,
  // and small-order points (for which any signature of anything could verify).
  if (crypto_core_ed25519_is_valid_point(raw.data()) != 1) {
    return std::unexpected(PublicKeyError::kInvalidKey);
  }
  Ed25519PublicKey key;
  std::copy(raw.begin(), raw.end(), key.bytes.begin());
  return key;
}

std::expected<Ed25519PublicKey, PublicKeyError> ParseEd25519PublicKeyPem(std::string_view pem) {
  if (pem.size() > kPublicKeyPemBytesMax) {
    return std::unexpected(PublicKeyError::kTooLong);
  }
  std::string_view text = Trim(pem);
  if (!text.starts_with(kPemBegin)) {
    return std::unexpected(PublicKeyError::kNotPem);
  }
  text.remove_prefix(kPemBegin.size());
  const size_t label_end = text.find(kPemDashes);
  if (label_end == std::string_view::npos) {
    return std::unexpected(PublicKeyError::kNotPem);
  }
  const std::string_view label = text.substr(0, label_end);
  if (label.find_first_of("\r\n") != std::string_view::npos) {
    return std::unexpected(PublicKeyError::kNotPem);
  }
  if (label != kPublicKeyLabel) {
    return std::unexpected(PublicKeyError::kNotPublicKey);
  }
  text.remove_prefix(label_end + kPemDashes.size());
  const std::string end_line = std::string("-----END ") + std::string(kPublicKeyLabel) + "-----";
  const size_t end_at = text.find(end_line);
  if (end_at == std::string_view::npos) {
    return std::unexpected(PublicKeyError::kNotPem);
  }
  if (end_at + end_line.size() != text.size()) {
    return std::unexpected(PublicKeyError::kBadBase64);  // a second block or trailing junk
  }
  // The body: base64 lines; only whitespace may separate them (no RFC 1421 headers).
  std::string body;
  for (const char c : text.substr(0, end_at)) {
    if (kWhitespace.find(c) == std::string_view::npos) {
      body.push_back(c);
    }
  }
  internal::EnsureSodium();
  std::vector<unsigned char> der(body.size() / 4 * 3 + 3);
  size_t der_size = 0;
  if (body.empty() || sodium_base642bin(der.data(), der.size(), body.data(), body.size(), nullptr,
                                        &der_size, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return std::unexpected(PublicKeyError::kBadBase64);
  }
  if (der_size != kEd25519SpkiBytes ||
      !std::equal(kEd25519SpkiPrefix.begin(), kEd25519SpkiPrefix.end(), der.begin())) {
    return std::unexpected(PublicKeyError::kNotEd25519);
  }
  return Ed25519PublicKeyFromRaw(std::span<const unsigned char>(
      der.data() + kEd25519SpkiPrefix.size(), kEd25519PublicKeyBytes));
}

std::expected<Ed25519PublicKey, PublicKeyError> ParseEd25519PublicKey(std::string_view pem_or_raw) {
  if (pem_or_raw.size() > kPublicKeyPemBytesMax) {
    return std::unexpected(PublicKeyError::kTooLong);
  }
  if (Trim(pem_or_raw).starts_with("-----BEGIN")) {
    return ParseEd25519PublicKeyPem(pem_or_raw);
  }
  if (pem_or_raw.size() == kEd25519PublicKeyBytes) {
    return Ed25519PublicKeyFromRaw(std::span<const unsigned char>(
        reinterpret_cast<const unsigned char*>(pem_or_raw.data()), pem_or_raw.size()));
  }
  return std::unexpected(PublicKeyError::kNotPem);
}

std::string ToPem(const Ed25519PublicKey& key) {
  internal::EnsureSodium();
  std::array<unsigned char, kEd25519SpkiBytes> der{};
  std::copy(kEd25519SpkiPrefix.begin(), kEd25519SpkiPrefix.end(), der.begin());
  std::copy(key.bytes.begin(), key.bytes.end(), der.begin() + kEd25519SpkiPrefix.size());
  std::string b64(sodium_base64_ENCODED_LEN(der.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(b64.data(), b64.size(), der.data(), der.size(), sodium_base64_VARIANT_ORIGINAL);
  b64.resize(b64.find('\0'));
  // 44 DER bytes are 60 base64 characters: one line, under the 64-column PEM limit.
  return "-----BEGIN PUBLIC KEY-----\n" + b64 + "\n-----END PUBLIC KEY-----\n";
}

std::expected<VerifiedSignature, SignatureError> VerifyEd25519(const Ed25519PublicKey& public_key,
                                                               std::string_view payload,
                                                               std::string_view signature_base64) {
  // 64 bytes are 88 base64 characters with padding, 86 without.
  const bool padded = signature_base64.size() == 88;
  if (!padded && signature_base64.size() != 86) {
    return std::unexpected(SignatureError::kMalformed);
  }
  internal::EnsureSodium();
  std::array<unsigned char, kEd25519SignatureBytes> sig{};
  size_t sig_size = 0;
  // b64_end == nullptr: any invalid character fails the decode; libsodium also refuses
  // non-zero trailing bits, so each signature has exactly one accepted spelling per variant.
  if (sodium_base642bin(sig.data(), sig.size(), signature_base64.data(), signature_base64.size(),
                        nullptr, &sig_size, nullptr,
                        padded ? sodium_base64_VARIANT_ORIGINAL
                               : sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0 ||
      sig_size != sig.size()) {
    return std::unexpected(SignatureError::kMalformed);
  }
  if (crypto_sign_verify_detached(sig.data(),
                                  reinterpret_cast<const unsigned char*>(payload.data()),
                                  payload.size(), public_key.bytes.data()) != 0) {
    return std::unexpected(SignatureError::kMismatch);
  }
  return SignatureBuilder::Make(sig);
}

}  // namespace spotex::auth
