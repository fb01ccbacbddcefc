// Signed payloads for each client's placement of `signature`, HMAC and Ed25519 verification,
// and public-key parsing, with known answers from Binance's docs, RFC 8032 and OpenSSL.
#include "auth/signature.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <string>
#include <vector>

#include "test_util.h"

namespace spotex::auth {
namespace {

using testing::Base64;
using testing::FromHex;
using testing::PercentEncode;

// Binance's documented example key (rest-api.md "SIGNED endpoint examples").
constexpr std::string_view kDocSecret =
    "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
constexpr std::string_view kDocApiKey =
    "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
constexpr std::string_view kDocPayload =
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&"
    "timestamp=1499827319559";
constexpr std::string_view kDocSignature =
    "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71";

std::string Upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    }
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// HMAC known answers.

TEST(HmacTest, BinanceDocumentedExampleVerifies) {
  EXPECT_EQ(ComputeHmacHex(kDocSecret, kDocPayload), kDocSignature);
  EXPECT_TRUE(VerifyHmac(kDocSecret, kDocPayload, kDocSignature).has_value());
}

TEST(HmacTest, BinanceExampleAsRequestBodyAndAsQueryString) {
  const std::string with_sig =
      std::string(kDocPayload) + "&signature=" + std::string(kDocSignature);
  for (const bool in_body : {true, false}) {
    auto parts = in_body ? SignedPayload("", with_sig) : SignedPayload(with_sig, "");
    ASSERT_TRUE(parts.has_value());
    EXPECT_EQ(parts->payload, kDocPayload);
    EXPECT_EQ(parts->signature, kDocSignature);
    EXPECT_EQ(parts->placement, in_body ? SignaturePlacement::kBody : SignaturePlacement::kQuery);
    EXPECT_TRUE(VerifyHmac(kDocSecret, parts->payload, parts->signature).has_value());
  }
}

TEST(HmacTest, BinanceMixedQueryAndBodyExampleHasNoSeparator) {
  // Example 3 of the docs: no '&' between "GTC" and "quantity=1".
  auto parts =
      SignedPayload("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC",
                    "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559&signature="
                    "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77");
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->payload,
            "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTCquantity=1&price=0.1&recvWindow="
            "5000&timestamp=1499827319559");
  EXPECT_TRUE(VerifyHmac(kDocSecret, parts->payload, parts->signature).has_value());
}

TEST(HmacTest, UppercaseAndMixedCaseHexAccepted) {
  const std::string upper = Upper(std::string(kDocSignature));
  std::string mixed(kDocSignature);
  for (size_t i = 0; i < mixed.size(); i += 2) {
    mixed[i] = Upper(std::string(1, mixed[i]))[0];
  }
  auto lower_v = VerifyHmac(kDocSecret, kDocPayload, kDocSignature);
  auto upper_v = VerifyHmac(kDocSecret, kDocPayload, upper);
  auto mixed_v = VerifyHmac(kDocSecret, kDocPayload, mixed);
  ASSERT_TRUE(lower_v.has_value());
  ASSERT_TRUE(upper_v.has_value());
  ASSERT_TRUE(mixed_v.has_value());
  // One request, one replay key, whatever the letter case.
  EXPECT_EQ(lower_v->ReplayKey(), upper_v->ReplayKey());
  EXPECT_EQ(lower_v->ReplayKey(), mixed_v->ReplayKey());
  EXPECT_EQ(lower_v->ReplayKey(), FromHex(kDocSignature));
}

TEST(HmacTest, TamperedPayloadSignatureOrSecretIsAMismatch) {
  std::string payload(kDocPayload);
  payload.back() = '8';  // another timestamp
  EXPECT_EQ(VerifyHmac(kDocSecret, payload, kDocSignature).error(), SignatureError::kMismatch);
  std::string sig(kDocSignature);
  sig[10] = sig[10] == '0' ? '1' : '0';
  EXPECT_EQ(VerifyHmac(kDocSecret, kDocPayload, sig).error(), SignatureError::kMismatch);
  std::string secret(kDocSecret);
  secret[0] = 'M';
  EXPECT_EQ(VerifyHmac(secret, kDocPayload, kDocSignature).error(), SignatureError::kMismatch);
  EXPECT_EQ(VerifyHmac(kDocSecret, std::string(kDocPayload) + "&", kDocSignature).error(),
            SignatureError::kMismatch);
}

TEST(HmacTest, WrongLengthOrNonHexIsMalformed) {
  const std::string sig(kDocSignature);
  EXPECT_EQ(VerifyHmac(kDocSecret, kDocPayload, sig.substr(0, 63)).error(),
            SignatureError::kMalformed);
  EXPECT_EQ(VerifyHmac(kDocSecret, kDocPayload, sig + "0").error(), SignatureError::kMalformed);
  EXPECT_EQ(VerifyHmac(kDocSecret, kDocPayload, sig.substr(0, 62)).error(),
            SignatureError::kMalformed);
  EXPECT_EQ(VerifyHmac(kDocSecret, kDocPayload, "").error(), SignatureError::kMalformed);
  std::string bad = sig;
  bad[5] = 'g';
  EXPECT_EQ(VerifyHmac(kDocSecret, kDocPayload, bad).error(), SignatureError::kMalformed);
  bad = sig;
  bad[63] = ' ';
  EXPECT_EQ(VerifyHmac(kDocSecret, kDocPayload, bad).error(), SignatureError::kMalformed);
  EXPECT_EQ(ToApiError(SignatureError::kMalformed), errors::kInvalidSignature);
  EXPECT_EQ(ToApiError(SignatureError::kMismatch).code, -1022);
}

// ---------------------------------------------------------------------------------------------
// Each client's placement of `signature` (BINANCE_API.md §2 table, §11.2).

TEST(SignedPayloadTest, CcxtGetAndDeleteSignLastInQuery) {
  const std::string signed_part =
      "timestamp=1767225600000&symbol=BTCUSDT&orderId=42&recvWindow=10000";
  const std::string sig = ComputeHmacHex(kDocSecret, signed_part);
  auto parts = SignedPayload(signed_part + "&signature=" + sig, "");
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->payload, signed_part);
  EXPECT_EQ(parts->placement, SignaturePlacement::kQuery);
  EXPECT_TRUE(VerifyHmac(kDocSecret, parts->payload, parts->signature).has_value());
}

TEST(SignedPayloadTest, CcxtPostSignsLastInFormBodyWithEmptyQuery) {
  const std::string body =
      "timestamp=1767225600000&symbol=BTCUSDT&side=BUY&newClientOrderId=x-TKT5PX2F1234567890abcd"
      "ef01234&newOrderRespType=FULL&type=LIMIT&quantity=0.01&price=65000&timeInForce=GTC&"
      "recvWindow=10000";
  const std::string sig = ComputeHmacHex(kDocSecret, body);
  auto parts = SignedPayload("", body + "&signature=" + sig);
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->payload, body);
  EXPECT_EQ(parts->placement, SignaturePlacement::kBody);
  EXPECT_TRUE(VerifyHmac(kDocSecret, parts->payload, parts->signature).has_value());
}

TEST(SignedPayloadTest, BinanceSpotPostSignsLastInQueryWithEmptyBody) {
  // @binance/spot: every param in the query, timestamp then signature appended; empty body
  // (sent with Content-Type: application/json). Arrays are percent-encoded JSON.
  const std::string query =
      "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=65000&"
      "symbols=%5B%22BTCUSDT%22%2C%22ETHUSDT%22%5D&timestamp=1767225600000";
  const std::string sig = ComputeHmacHex(kDocSecret, query);
  auto parts = SignedPayload(query + "&signature=" + sig, "");
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->payload, query);  // verified over the raw bytes, %-escapes and all
  EXPECT_EQ(parts->placement, SignaturePlacement::kQuery);
  EXPECT_TRUE(VerifyHmac(kDocSecret, parts->payload, parts->signature).has_value());
  // Decoding and re-encoding would change the bytes and break the signature.
  EXPECT_FALSE(VerifyHmac(kDocSecret,
                          "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&"
                          "price=65000&symbols=[\"BTCUSDT\",\"ETHUSDT\"]&timestamp=1767225600000",
                          parts->signature)
                   .has_value());
}

TEST(SignedPayloadTest, SignatureAnywhereIsRemovedWithOneAmpersand) {
  struct Case {
    std::string_view query;
    std::string_view body;
    std::string_view payload;
  };
  const std::vector<Case> cases = {
      {"a=1&signature=s&b=2", "", "a=1&b=2"},
      {"signature=s&a=1", "", "a=1"},
      {"signature=s", "", ""},
      {"signature=s", "a=1&b=2", "a=1&b=2"},
      {"a=1", "signature=s&b=2", "a=1b=2"},
      {"a=1", "b=2&signature=s", "a=1b=2"},
      {"a=1&", "signature=s", "a=1&"},
      {"a=1&signature=s&", "", "a=1&"},
      {"&signature=s", "", ""},
      {"%73ignature=s&a=1", "", "a=1"},  // an escaped name is still `signature`
      {"a=1&signaturex=2&signature=s", "", "a=1&signaturex=2"},
      {"a=1&Signature=2&signature=s", "", "a=1&Signature=2"},  // names are case-sensitive
  };
  for (const Case& c : cases) {
    auto parts = SignedPayload(c.query, c.body);
    ASSERT_TRUE(parts.has_value()) << c.query << " | " << c.body;
    EXPECT_EQ(parts->payload, c.payload) << c.query << " | " << c.body;
    EXPECT_EQ(parts->signature, "s");
  }
}

TEST(SignedPayloadTest, MissingEmptyOrDuplicateSignatureIsRefused) {
  EXPECT_EQ(SignedPayload("a=1&timestamp=2", "").error(), errors::kSignatureMissing);
  EXPECT_EQ(SignedPayload("", "").error(), errors::kSignatureMissing);
  EXPECT_EQ(SignedPayload("a=1&signature=", "").error(), errors::kSignatureMissing);
  EXPECT_EQ(SignedPayload("a=1&signature", "").error(), errors::kSignatureMissing);
  EXPECT_EQ(SignedPayload("signature=%zz", "").error(), errors::kSignatureMissing);
  EXPECT_EQ(SignedPayload("signature=ab%2", "").error(), errors::kSignatureMissing);
  EXPECT_EQ(SignedPayload("signature=a&signature=b", "").error(), errors::kDuplicateParameter);
  EXPECT_EQ(SignedPayload("signature=a", "signature=a").error(), errors::kDuplicateParameter);
  EXPECT_EQ(SignedPayload("signature=a&%73ignature=a", "").error(), errors::kDuplicateParameter);
  EXPECT_EQ(errors::kSignatureMissing.code, -1102);
  EXPECT_EQ(errors::kDuplicateParameter.code, -1101);
}

TEST(SignedPayloadTest, OversizedInputIsRefusedBeforeParsing) {
  const std::string big(kSignedPayloadBytesMax, 'a');
  EXPECT_EQ(SignedPayload(big + "&signature=s", "").error(), errors::kTooManyParameters);
  EXPECT_EQ(SignedPayload(big.substr(0, 10), big).error(), errors::kTooManyParameters);
  EXPECT_TRUE(SignedPayload(big.substr(0, kSignedPayloadBytesMax - 12), "&signature=s"));
  const std::string long_sig(kSignatureParamBytesMax + 1, 'A');
  EXPECT_EQ(SignedPayload("signature=" + long_sig, "").error(), errors::kInvalidSignature);
}

TEST(SignedPayloadTest, SignatureValueIsPercentDecodedButPlusIsKept) {
  auto parts = SignedPayload("a=1&signature=ab%2Bc%2Fd%3D%3d", "");
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->signature, "ab+c/d==");
  parts = SignedPayload("a=1&signature=ab+c", "");
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->signature, "ab+c");
}

// ---------------------------------------------------------------------------------------------
// WebSocket API payloads (Binance's web-socket-api.md HMAC example).

TEST(WsApiTest, DocumentedHmacExample) {
  const std::vector<WsApiParam> params = {
      {"symbol", "BTCUSDT"},      {"side", "SELL"},
      {"type", "LIMIT"},          {"timeInForce", "GTC"},
      {"quantity", "0.01000000"}, {"price", "52000.00"},
      {"recvWindow", "100"},      {"timestamp", "1645423376532"},
      {"apiKey", kDocApiKey},     {"signature", "ignored"},
  };
  auto payloads = WsApiSignedPayload(params);
  ASSERT_TRUE(payloads.has_value());
  EXPECT_EQ(payloads->raw,
            "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&price="
            "52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce="
            "GTC&timestamp=1645423376532&type=LIMIT");
  EXPECT_EQ(payloads->uri_encoded, payloads->raw);
  EXPECT_TRUE(VerifyHmac(kDocSecret, payloads->raw,
                         "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"));
}

TEST(WsApiTest, NonAsciiExampleSignsRawUtf8AndTheEncodedFormDiffers) {
  const std::vector<WsApiParam> params = {
      {"symbol", "１２３４５６"}, {"side", "BUY"},
      {"type", "LIMIT"},          {"timeInForce", "GTC"},
      {"quantity", "1.00000000"}, {"price", "0.10000000"},
      {"recvWindow", "5000"},     {"timestamp", "1645423376532"},
      {"apiKey", kDocApiKey},
  };
  auto payloads = WsApiSignedPayload(params);
  ASSERT_TRUE(payloads.has_value());
  constexpr std::string_view kSig =
      "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd";
  EXPECT_TRUE(VerifyHmac(kDocSecret, payloads->raw, kSig).has_value());
  EXPECT_NE(payloads->uri_encoded, payloads->raw);
  EXPECT_NE(payloads->uri_encoded.find("symbol=%EF%BC%91"), std::string::npos);
  EXPECT_FALSE(VerifyHmac(kDocSecret, payloads->uri_encoded, kSig).has_value());
}

TEST(WsApiTest, EncodeUriComponentKeepsItsUnreservedSet) {
  const std::vector<WsApiParam> params = {{"a", "A-z_0.9!~*'()"}, {"b", "x y/z+&="}};
  auto payloads = WsApiSignedPayload(params);
  ASSERT_TRUE(payloads.has_value());
  EXPECT_EQ(payloads->uri_encoded, "a=A-z_0.9!~*'()&b=x%20y%2Fz%2B%26%3D");
}

TEST(WsApiTest, DuplicateKeysAndTooManyParamsAreRefused) {
  const std::vector<WsApiParam> dup = {{"a", "1"}, {"b", "2"}, {"a", "3"}};
  EXPECT_EQ(WsApiSignedPayload(dup).error(), errors::kDuplicateParameter);
  std::vector<std::string> keys;
  for (size_t i = 0; i <= kWsApiParamsMax; ++i) {
    keys.push_back("k" + std::to_string(i));
  }
  std::vector<WsApiParam> many;
  for (const std::string& k : keys) {
    many.push_back({k, "v"});
  }
  EXPECT_EQ(WsApiSignedPayload(many).error(), errors::kTooManyParameters);
  many.pop_back();
  EXPECT_TRUE(WsApiSignedPayload(many).has_value());
}

// ---------------------------------------------------------------------------------------------
// Ed25519.

struct Rfc8032Vector {
  std::string_view public_key_hex;
  std::string_view message_hex;
  std::string_view signature_hex;
};

// RFC 8032 §7.1, TEST 1 to 3.
constexpr Rfc8032Vector kRfc8032[] = {
    {"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701c"
     "f9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0"
     "f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f76098"
     "4dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

std::span<const unsigned char> Bytes(const std::string& s) {
  return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

TEST(Ed25519Test, Rfc8032VectorsVerifyAndTamperedOnesDoNot) {
  for (const Rfc8032Vector& v : kRfc8032) {
    auto key = Ed25519PublicKeyFromRaw(Bytes(FromHex(v.public_key_hex)));
    ASSERT_TRUE(key.has_value());
    const std::string message = FromHex(v.message_hex);
    const std::string sig = FromHex(v.signature_hex);
    const std::string b64 = Base64(Bytes(sig).data(), sig.size());
    ASSERT_EQ(b64.size(), 88u);
    auto verified = VerifyEd25519(*key, message, b64);
    ASSERT_TRUE(verified.has_value()) << v.public_key_hex;
    EXPECT_EQ(verified->ReplayKey(), sig);
    EXPECT_EQ(VerifyEd25519(*key, message + "x", b64).error(), SignatureError::kMismatch);
    std::string bad_sig = sig;
    bad_sig[0] = static_cast<char>(bad_sig[0] ^ 1);
    EXPECT_EQ(VerifyEd25519(*key, message, Base64(Bytes(bad_sig).data(), 64)).error(),
              SignatureError::kMismatch);
  }
}

// Made with OpenSSL 3.0 (`openssl genpkey -algorithm ed25519`, `openssl pkey -pubout`,
// `openssl pkeyutl -sign -rawin`): an independent implementation, and the PEM format users
// upload.
constexpr std::string_view kOpenSslPem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEA9y/I/Q9TGMgGee9MgjQuKV095MbwFc0M9mmILqXNpzU=\n"
    "-----END PUBLIC KEY-----\n";
constexpr std::string_view kOpenSslPayload =
    "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=0.01000000&price=52000.00&"
    "recvWindow=5000&timestamp=1767225600000";
constexpr std::string_view kOpenSslSignature =
    "Xh6xYNK16yVBqvfimu6ioANup1vEMw/QzJsPs5uNem0D7BBFduh33AoEz4pXM/H9q25qWcc9hg41yZA7CYeQDg==";

TEST(Ed25519Test, OpenSslSignedRequestVerifiesThroughSignedPayload) {
  auto key = ParseEd25519PublicKeyPem(kOpenSslPem);
  ASSERT_TRUE(key.has_value()) << Describe(key.error());
  EXPECT_EQ(key->bytes[0], 0xf7);
  // As @binance/spot sends it: in the query, base64 percent-encoded.
  const std::string query =
      std::string(kOpenSslPayload) + "&signature=" + PercentEncode(kOpenSslSignature);
  ASSERT_NE(query.find("%2F"), std::string::npos);
  auto parts = SignedPayload(query, "");
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->signature, kOpenSslSignature);
  EXPECT_TRUE(VerifyEd25519(*key, parts->payload, parts->signature).has_value());
  // As ccxt sends it: in the form body.
  parts = SignedPayload("", query);
  ASSERT_TRUE(parts.has_value());
  EXPECT_TRUE(VerifyEd25519(*key, parts->payload, parts->signature).has_value());
}

TEST(Ed25519Test, GeneratedKeyRoundTripAndCaseSensitivity) {
  ASSERT_GE(sodium_init(), 0);
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> pk{};
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> sk{};
  crypto_sign_keypair(pk.data(), sk.data());
  auto key = Ed25519PublicKeyFromRaw(pk);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(ParseEd25519PublicKeyPem(ToPem(*key)), key);

  const std::string payload = "symbol=ETHUSDT&side=BUY&timestamp=1767225600000";
  std::array<unsigned char, crypto_sign_BYTES> sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(payload.data()),
                       payload.size(), sk.data());
  const std::string padded = Base64(sig.data(), sig.size());
  const std::string unpadded =
      Base64(sig.data(), sig.size(), sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
  auto a = VerifyEd25519(*key, payload, padded);
  auto b = VerifyEd25519(*key, payload, unpadded);
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(a->ReplayKey(), b->ReplayKey());

  // Base64 is case-sensitive: flipping the case of a letter changes the bytes.
  std::string flipped = padded;
  for (char& c : flipped) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
      break;
    }
  }
  EXPECT_FALSE(VerifyEd25519(*key, payload, flipped).has_value());
  // Another key does not verify it.
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> pk2{};
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> sk2{};
  crypto_sign_keypair(pk2.data(), sk2.data());
  EXPECT_EQ(VerifyEd25519(*Ed25519PublicKeyFromRaw(pk2), payload, padded).error(),
            SignatureError::kMismatch);
  sodium_memzero(sk.data(), sk.size());
  sodium_memzero(sk2.data(), sk2.size());
}

TEST(Ed25519Test, MalformedSignatures) {
  auto key = ParseEd25519PublicKeyPem(kOpenSslPem);
  ASSERT_TRUE(key.has_value());
  const std::string sig(kOpenSslSignature);
  for (const std::string& bad : {
           sig.substr(0, 87),
           sig + "=",
           sig.substr(0, 84),
           std::string(),
           sig.substr(0, 86) + "A=",                  // non-zero trailing bits
           "%" + sig.substr(1),                       // still percent-encoded
           sig.substr(0, 10) + "-" + sig.substr(11),  // URL-safe alphabet
           std::string(88, '='),
       }) {
    EXPECT_EQ(VerifyEd25519(*key, kOpenSslPayload, bad).error(), SignatureError::kMalformed) << bad;
  }
  // An HMAC-style hex string is not an Ed25519 signature.
  EXPECT_EQ(VerifyEd25519(*key, kDocPayload, kDocSignature).error(), SignatureError::kMalformed);
}

// ---------------------------------------------------------------------------------------------
// Public keys.

TEST(PublicKeyTest, PemVariantsAccepted) {
  const std::string pem(kOpenSslPem);
  std::string crlf;
  for (const char c : pem) {
    if (c == '\n') {
      crlf += "\r\n";
    } else {
      crlf += c;
    }
  }
  std::string wrapped =  // body split over lines
      "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA9y/I/Q9TGMgGee9M\ngjQuKV095MbwFc0M9mmILqXNpzU=\n"
      "-----END PUBLIC KEY-----";
  auto want = ParseEd25519PublicKeyPem(pem);
  ASSERT_TRUE(want.has_value());
  for (const std::string& text :
       {crlf, "\n  " + pem + "\n\n", wrapped, pem.substr(0, pem.size() - 1)}) {
    auto key = ParseEd25519PublicKeyPem(text);
    ASSERT_TRUE(key.has_value()) << text;
    EXPECT_EQ(*key, *want);
    EXPECT_EQ(ParseEd25519PublicKey(text), want);
  }
  EXPECT_EQ(ToPem(*want), pem);
}

TEST(PublicKeyTest, BadPemsAreRefusedWithTheirReason) {
  struct Case {
    std::string text;
    PublicKeyError error;
  };
  const std::vector<Case> cases = {
      {"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
       PublicKeyError::kNotPublicKey},
      {"-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n",
       PublicKeyError::kNotPublicKey},
      // X25519 (OID 1.3.101.110): same shape, other algorithm.
      {"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VuAyEABjXjp9A1tIrhOP4U13bEa6Qb0H4jS05soXzdd0wS1EI=\n"
       "-----END PUBLIC KEY-----\n",
       PublicKeyError::kNotEd25519},
      {"-----BEGIN PUBLIC KEY-----\n"
       "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDX0k/8026RyAwFA8JzsHTLSFYF\n"
       "c5Qde3xmhaQUzV8Br2vGWqHfqVmZj6eCJxOK9GPjuM+2zwAm+PR9TLFWDlym+7K5\n"
       "X+grPSUpKYb4pwO6VYV1rQe0TRtKGa+jnC4pCn3/4ddm3p7Tic4kc0Top14tBmYh\n"
       "8dhh8c5ieI8koDjpLQIDAQAB\n-----END PUBLIC KEY-----\n",
       PublicKeyError::kNotEd25519},
      {"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA9y/I/Q9TGMgGee9MgjQuKV095MbwFc0M9mmILqXNpzU\n"
       "-----END PUBLIC KEY-----\n",
       PublicKeyError::kBadBase64},  // padding missing
      {"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA9y/I/Q9TGMgGee9MgjQuKV095MbwFc0M9mmILqXNpz*=\n"
       "-----END PUBLIC KEY-----\n",
       PublicKeyError::kBadBase64},
      {"-----BEGIN PUBLIC KEY-----\nProc-Type: 4,ENCRYPTED\n\nMCowBQYDK2VwAyEA9y/I/Q9TGMgGee9M"
       "gjQuKV095MbwFc0M9mmILqXNpzU=\n-----END PUBLIC KEY-----\n",
       PublicKeyError::kBadBase64},
      {std::string(kOpenSslPem) + std::string(kOpenSslPem), PublicKeyError::kBadBase64},
      {std::string(kOpenSslPem) + "junk", PublicKeyError::kBadBase64},
      {"-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n", PublicKeyError::kBadBase64},
      {"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA9y/I/Q9TGMgGee9MgjQuKV095MbwFc0M9mmILqXNpzU=\n",
       PublicKeyError::kNotPem},
      {"MCowBQYDK2VwAyEA9y/I/Q9TGMgGee9MgjQuKV095MbwFc0M9mmILqXNpzU=", PublicKeyError::kNotPem},
      {"", PublicKeyError::kNotPem},
      {"-----BEGIN PUBLIC KEY\n", PublicKeyError::kNotPem},
      {std::string(kPublicKeyPemBytesMax + 1, ' '), PublicKeyError::kTooLong},
  };
  for (const Case& c : cases) {
    auto key = ParseEd25519PublicKeyPem(c.text);
    ASSERT_FALSE(key.has_value()) << c.text;
    EXPECT_EQ(key.error(), c.error) << c.text << " -> " << Describe(key.error());
  }
}

TEST(PublicKeyTest, RawKeysOfWrongLengthOrInvalidPointsAreRefused) {
  const std::string good = FromHex(kRfc8032[0].public_key_hex);
  EXPECT_TRUE(ParseEd25519PublicKey(good).has_value());
  EXPECT_EQ(Ed25519PublicKeyFromRaw(Bytes(good.substr(0, 31))).error(),
            PublicKeyError::kWrongLength);
  EXPECT_EQ(ParseEd25519PublicKey(good + "x").error(), PublicKeyError::kNotPem);
  // The identity point (order 1): every signature with R = identity, S = 0 would verify.
  std::string identity(32, '\0');
  identity[0] = 1;
  EXPECT_EQ(Ed25519PublicKeyFromRaw(Bytes(identity)).error(), PublicKeyError::kInvalidKey);
  // A non-canonical encoding (y = p, i.e. 2^255 - 19).
  const std::string non_canonical =
      FromHex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
  EXPECT_EQ(Ed25519PublicKeyFromRaw(Bytes(non_canonical)).error(), PublicKeyError::kInvalidKey);
}

}  // namespace
}  // namespace spotex::auth
