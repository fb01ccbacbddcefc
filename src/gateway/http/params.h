// Binance request parameters (BINANCE_API.md §1): `name=value` pairs from the query string and,
// except for GET/HEAD, from an application/x-www-form-urlencoded body, both percent-decoded.
//
// Rules, each with Binance's error (docs/gateway-http.md):
// - a pair whose name or value has a bad %-escape, invalid UTF-8 or a control character after
//   decoding, or an empty name: -1100 "Illegal characters found in a parameter."
//   ('+' decodes to a space, as in every form encoding; empty segments ("a=1&&b=2") are skipped)
// - the same name twice in the query, or twice in the body: -1101 "Duplicate values for a
//   parameter detected."; in the query AND the body: no error, the query's value wins.
// - more than ParamLimits::params_max pairs: -1101 "Too many parameters sent for this endpoint."
// - mandatory parameter absent or empty: -1102; parameters nobody read: -1104 (CheckAllRead).
// An empty value counts as not sent ("symbol=" is the same as no symbol), as on Binance.
//
// The raw query and body are kept byte-exact for signature verification (§2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/http/error.h"
#include "gateway/http/message.h"

namespace spotex::http {

struct ParamLimits {
  // Pairs across query and body, counting every occurrence.
  size_t params_max = 64;
  // Decoded name length; Binance's longest names are about 30 characters.
  size_t name_bytes_max = 64;
  // Decoded value length.
  size_t value_bytes_max = 16 * 1024;
};

// Inclusive range of GetLong.
struct LongRange {
  int64_t min = 0;
  int64_t max = std::numeric_limits<int64_t>::max();
};

template <typename E>
struct EnumName {
  std::string_view name;  // as sent, case-sensitive ("BUY")
  E value;
};

class Params {
 public:
  // Parses `query` (the raw query string, no '?') and `form_body` (a form-encoded body, or empty
  // when the request has none or it is not a form). Pure; thread-safe.
  [[nodiscard]] static Result<Params> Parse(std::string_view query, std::string_view form_body,
                                            const ParamLimits& limits = {});

  // Parse() with the request's query and, unless it is GET or HEAD, its body when the
  // Content-Type is application/x-www-form-urlencoded. Any other body is left unparsed (still
  // in raw_body()): @binance/spot sends `Content-Type: application/json` with an empty body.
  [[nodiscard]] static Result<Params> FromRequest(const Request& request,
                                                  const ParamLimits& limits = {});

  // True for "application/x-www-form-urlencoded", case-insensitive, with optional parameters
  // ("; charset=UTF-8").
  static bool IsFormContentType(std::string_view content_type);

  // Byte-exact inputs of Parse. The body is the raw request body even when it was not parsed.
  std::string_view raw_query() const { return raw_query_; }
  std::string_view raw_body() const { return raw_body_; }

  // Distinct parameter names sent, and how many of them were read so far.
  size_t size() const { return params_.size(); }
  size_t read_count() const;

  // True if `name` was sent (even empty). Does not count as reading it.
  bool Has(std::string_view name) const;

  // The value of `name` without counting it as read; nullopt when absent or empty. For layers
  // in front of the endpoint (request weights) that must not hide a parameter from -1104.
  std::optional<std::string_view> Peek(std::string_view name) const;

  // Counts `name` as read without looking at it (e.g. `signature`, checked over the raw bytes).
  void MarkRead(std::string_view name);

  // The getters below count `name` as read, whatever they return. String views stay valid
  // while this Params lives (moving it keeps them valid too).

  // Mandatory: -1102 when absent or empty.
  [[nodiscard]] Result<std::string_view> GetString(std::string_view name);
  [[nodiscard]] std::optional<std::string_view> GetOptionalString(std::string_view name);

  // Decimal integer in `range`. Syntax ^[0-9]{1,20}$ (^-?[0-9]{1,20}$ when range.min < 0),
  // else -1100 with that pattern as the legal range; beyond int64: -1108; outside `range`:
  // -1100 with legal range '[min, max]'.
  [[nodiscard]] Result<int64_t> GetLong(std::string_view name, LongRange range = {});
  [[nodiscard]] Result<std::optional<int64_t>> GetOptionalLong(std::string_view name,
                                                               LongRange range = {});

  // Exact decimal as a count of 10^-scale units (core::ParseDecimal): bad syntax (sign,
  // exponent, spaces, ...) -1100 with Binance's pattern as legal range; a non-zero digit past
  // `scale`: -1111; beyond int64: -1108. Precondition: 0 <= scale <= 18.
  [[nodiscard]] Result<int64_t> GetDecimal(std::string_view name, int scale);
  [[nodiscard]] Result<std::optional<int64_t>> GetOptionalDecimal(std::string_view name, int scale);

  // "true" or "false", case-insensitive; else -1100 with legal range 'true, false'.
  [[nodiscard]] Result<bool> GetBool(std::string_view name);
  [[nodiscard]] Result<std::optional<bool>> GetOptionalBool(std::string_view name);

  // One of `names` (exact match). Otherwise `invalid` if given (e.g. -1117 "Invalid side."),
  // else -1100 listing the legal names.
  template <typename E>
  [[nodiscard]] Result<E> GetEnum(std::string_view name, std::span<const EnumName<E>> names,
                                  std::optional<Error> invalid = std::nullopt);
  template <typename E>
  [[nodiscard]] Result<std::optional<E>> GetOptionalEnum(
      std::string_view name, std::span<const EnumName<E>> names,
      std::optional<Error> invalid = std::nullopt);

  // -1104 "Not all sent parameters were read; read 'R' parameter(s) but was sent 'S'." when
  // some sent parameter was never read. Call after the endpoint read everything it knows.
  [[nodiscard]] Result<void> CheckAllRead() const;

 private:
  struct Param {
    std::string name;
    std::string value;  // the query's when sent in both
    bool in_query = false;
    bool in_body = false;
    bool read = false;
  };

  Params() = default;
  Result<void> ParseInto(std::string_view raw, bool is_body, const ParamLimits& limits,
                         size_t& pairs);
  Param* Find(std::string_view name);
  const Param* Find(std::string_view name) const;
  // Marks `name` read; its value, or nullopt when absent or empty.
  std::optional<std::string_view> Take(std::string_view name);
  static Error EnumError(std::string_view name, const std::vector<std::string_view>& legal);

  std::vector<Param> params_;
  std::string raw_query_;
  std::string raw_body_;
};

// Percent-decodes one form component into `out` ('+' is a space). False on a '%' not followed
// by two hex digits. Exposed for tests.
[[nodiscard]] bool PercentDecode(std::string_view raw, std::string& out);

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF, nothing truncated.
[[nodiscard]] bool IsValidUtf8(std::string_view text);

// --- template definitions ---

template <typename E>
Result<std::optional<E>> Params::GetOptionalEnum(std::string_view name,
                                                 std::span<const EnumName<E>> names,
                                                 std::optional<Error> invalid) {
  const std::optional<std::string_view> text = Take(name);
  if (!text.has_value()) {
    return std::optional<E>();
  }
  for (const EnumName<E>& entry : names) {
    if (entry.name == *text) {
      return std::optional<E>(entry.value);
    }
  }
  if (invalid.has_value()) {
    return std::unexpected(std::move(*invalid));
  }
  std::vector<std::string_view> legal;
  legal.reserve(names.size());
  for (const EnumName<E>& entry : names) {
    legal.push_back(entry.name);
  }
  return std::unexpected(EnumError(name, legal));
}

template <typename E>
Result<E> Params::GetEnum(std::string_view name, std::span<const EnumName<E>> names,
                          std::optional<Error> invalid) {
  Result<std::optional<E>> value = GetOptionalEnum(name, names, std::move(invalid));
  if (!value.has_value()) {
    return std::unexpected(std::move(value.error()));
  }
  if (!value->has_value()) {
    return std::unexpected(errors::MandatoryParameter(name));
  }
  return **value;
}

}  // namespace spotex::http
