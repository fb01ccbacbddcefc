// Binance-style errors the auth library reports (BINANCE_API.md §2 and §5).
//
// Messages are Binance's exact texts: ccxt maps errors by code AND by message, so a paraphrase
// would change which exception a client sees. Every message has static storage, so reporting
// an error never allocates.
#pragma once

#include <string_view>

namespace spotex::auth {

// One error as the HTTP/WebSocket layer sends it: {"code":code,"msg":msg} with `http_status`.
struct ApiError {
  int code = 0;
  std::string_view msg;  // static storage
  int http_status = 0;

  friend constexpr bool operator==(const ApiError&, const ApiError&) = default;
};

namespace errors {

// -1021: the timestamp is older than recvWindow (or too far in the future, see below).
inline constexpr ApiError kTimestampOutsideRecvWindow{
    -1021, "Timestamp for this request is outside of the recvWindow.", 400};
// -1021: the timestamp is 1000 ms or more ahead of the server's clock.
inline constexpr ApiError kTimestampAhead{
    -1021, "Timestamp for this request was 1000ms ahead of the server's time.", 400};
// -1022: the signature does not verify, cannot be decoded, or was already used (replay).
inline constexpr ApiError kInvalidSignature{-1022, "Signature for this request is not valid.", 400};
// -1100: recvWindow is not a decimal number of milliseconds with at most 3 decimals.
inline constexpr ApiError kRecvWindowIllegal{
    -1100,
    "Illegal characters found in parameter 'recvWindow'; legal range is "
    "'^[0-9]{1,10}(\\.[0-9]{1,3})?$'.",
    400};
// -1101: `signature` sent more than once (query and body, or twice in one of them).
inline constexpr ApiError kDuplicateParameter{-1101, "Duplicate values for a parameter detected.",
                                              400};
// -1101: the signed payload (query + body) is larger than kSignedPayloadBytesMax.
inline constexpr ApiError kTooManyParameters{-1101, "Too many parameters sent for this endpoint.",
                                             400};
// -1102: no `signature`, an empty one, or one whose percent-encoding is broken.
inline constexpr ApiError kSignatureMissing{
    -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.", 400};
// -1102: no `timestamp`, an empty one, or one that is not an unsigned integer.
inline constexpr ApiError kTimestampMissing{
    -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.", 400};
// -1131: recvWindow above 60000 ms.
inline constexpr ApiError kBadRecvWindow{-1131, "recvWindow must be less than 60000", 400};
// -2014: the X-MBX-APIKEY value does not look like an API key.
inline constexpr ApiError kApiKeyFormatInvalid{-2014, "API-key format invalid.", 401};
// -2015: unknown key, key not allowed from this IP, or key lacking the permission.
inline constexpr ApiError kRejectedApiKey{-2015, "Invalid API-key, IP, or permissions for action.",
                                          401};

}  // namespace errors
}  // namespace spotex::auth
