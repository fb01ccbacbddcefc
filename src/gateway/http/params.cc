#include "gateway/http/params.h"

#include <utility>

#include "core/decimal.h"
#include "core/utf8.h"
#include "gateway/http/ascii.h"

namespace spotex::http {
namespace {

// Binance's legal ranges, quoted in -1100 messages.
constexpr std::string_view kUnsignedPattern = "^[0-9]{1,20}$";
constexpr std::string_view kSignedPattern = "^-?[0-9]{1,20}$";
constexpr std::string_view kDecimalPattern = "^([0-9]{1,20})(\\.[0-9]{1,20})?$";
constexpr size_t kLongDigitsMax = 20;

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

bool HasControlCharacter(std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      return true;
    }
  }
  return false;
}

// Decodes one name or value and checks what it may contain.
bool DecodeComponent(std::string_view raw, size_t bytes_max, std::string& out) {
  out.clear();
  return PercentDecode(raw, out) && out.size() <= bytes_max && IsValidUtf8(out) &&
         !HasControlCharacter(out);
}

}  // namespace

bool PercentDecode(std::string_view raw, std::string& out) {
  out.reserve(out.size() + raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c != '%') {
      out.push_back(c);
    } else {
      if (raw.size() - i < 3) {
        return false;
      }
      const int high = HexValue(raw[i + 1]);
      const int low = HexValue(raw[i + 2]);
      if (high < 0 || low < 0) {
        return false;
      }
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    }
  }
  return true;
}

bool IsValidUtf8(std::string_view text) { return utf8::IsValid(text); }

bool Params::IsFormContentType(std::string_view content_type) {
  constexpr std::string_view kForm = "application/x-www-form-urlencoded";
  while (!content_type.empty() && (content_type.front() == ' ' || content_type.front() == '\t')) {
    content_type.remove_prefix(1);
  }
  if (!ascii::StartsWithIgnoreCase(content_type, kForm)) {
    return false;
  }
  const std::string_view rest = content_type.substr(kForm.size());
  return rest.empty() || rest.front() == ';' || rest.front() == ' ' || rest.front() == '\t';
}

Result<Params> Params::Parse(std::string_view query, std::string_view form_body,
                             const ParamLimits& limits) {
  Params params;
  size_t pairs = 0;
  if (Result<void> parsed = params.ParseInto(query, /*is_body=*/false, limits, pairs); !parsed) {
    return std::unexpected(std::move(parsed.error()));
  }
  if (Result<void> parsed = params.ParseInto(form_body, /*is_body=*/true, limits, pairs); !parsed) {
    return std::unexpected(std::move(parsed.error()));
  }
  params.raw_query_ = query;
  params.raw_body_ = form_body;
  return params;
}

Result<Params> Params::FromRequest(const Request& request, const ParamLimits& limits) {
  std::string_view form_body;
  const bool body_allowed = request.method() != Method::kGet && request.method() != Method::kHead;
  const std::optional<std::string_view> content_type = request.Header("Content-Type");
  if (body_allowed && content_type.has_value() && IsFormContentType(*content_type)) {
    form_body = request.body();
  }
  Result<Params> params = Parse(request.query(), form_body, limits);
  if (params.has_value()) {
    params->raw_body_ = request.body();
  }
  return params;
}

Result<void> Params::ParseInto(std::string_view raw, bool is_body, const ParamLimits& limits,
                               size_t& pairs) {
  std::string name;
  std::string value;
  size_t pos = 0;
  while (pos < raw.size()) {
    size_t end = raw.find('&', pos);
    if (end == std::string_view::npos) {
      end = raw.size();
    }
    const std::string_view segment = raw.substr(pos, end - pos);
    pos = end + 1;
    if (segment.empty()) {
      continue;
    }
    if (++pairs > limits.params_max) {
      return std::unexpected(errors::TooManyParameters());
    }
    const size_t equals = segment.find('=');
    const std::string_view raw_name = segment.substr(0, equals);
    const std::string_view raw_value =
        equals == std::string_view::npos ? std::string_view() : segment.substr(equals + 1);
    if (!DecodeComponent(raw_name, limits.name_bytes_max, name) || name.empty() ||
        !DecodeComponent(raw_value, limits.value_bytes_max, value)) {
      return std::unexpected(errors::IllegalCharacters());
    }
    Param* existing = Find(name);
    if (existing == nullptr) {
      params_.push_back(Param{std::move(name), std::move(value), !is_body, is_body, false});
      continue;
    }
    if ((is_body && existing->in_body) || (!is_body && existing->in_query)) {
      return std::unexpected(errors::DuplicateParameter());
    }
    // Only a body pair can meet a query pair here (the query is parsed first): the query wins.
    existing->in_body = true;
  }
  return {};
}

Params::Param* Params::Find(std::string_view name) {
  for (Param& param : params_) {
    if (param.name == name) {
      return &param;
    }
  }
  return nullptr;
}

const Params::Param* Params::Find(std::string_view name) const {
  for (const Param& param : params_) {
    if (param.name == name) {
      return &param;
    }
  }
  return nullptr;
}

size_t Params::read_count() const {
  size_t count = 0;
  for (const Param& param : params_) {
    count += param.read ? 1 : 0;
  }
  return count;
}

bool Params::Has(std::string_view name) const { return Find(name) != nullptr; }

std::optional<std::string_view> Params::Peek(std::string_view name) const {
  const Param* param = Find(name);
  if (param == nullptr || param->value.empty()) {
    return std::nullopt;
  }
  return std::string_view(param->value);
}

void Params::MarkRead(std::string_view name) {
  if (Param* param = Find(name); param != nullptr) {
    param->read = true;
  }
}

std::optional<std::string_view> Params::Take(std::string_view name) {
  Param* param = Find(name);
  if (param == nullptr) {
    return std::nullopt;
  }
  param->read = true;
  if (param->value.empty()) {
    return std::nullopt;
  }
  return std::string_view(param->value);
}

Result<std::string_view> Params::GetString(std::string_view name) {
  const std::optional<std::string_view> value = Take(name);
  if (!value.has_value()) {
    return std::unexpected(errors::MandatoryParameter(name));
  }
  return *value;
}

std::optional<std::string_view> Params::GetOptionalString(std::string_view name) {
  return Take(name);
}

Result<std::optional<int64_t>> Params::GetOptionalLong(std::string_view name, LongRange range) {
  const std::optional<std::string_view> text = Take(name);
  if (!text.has_value()) {
    return std::optional<int64_t>();
  }
  const bool signed_allowed = range.min < 0;
  std::string_view digits = *text;
  const bool negative = signed_allowed && digits.front() == '-';
  if (negative) {
    digits.remove_prefix(1);
  }
  bool syntax_ok = !digits.empty() && digits.size() <= kLongDigitsMax;
  for (const char c : digits) {
    syntax_ok = syntax_ok && c >= '0' && c <= '9';
  }
  if (!syntax_ok) {
    return std::unexpected(
        errors::IllegalCharacters(name, signed_allowed ? kSignedPattern : kUnsignedPattern));
  }
  // Accumulate the magnitude in 128 bits: 20 digits cannot overflow it.
  unsigned __int128 magnitude = 0;
  for (const char c : digits) {
    magnitude = magnitude * 10 + static_cast<unsigned>(c - '0');
  }
  const auto int64_max = static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max());
  if (magnitude > int64_max + (negative ? 1 : 0)) {
    return std::unexpected(errors::ParameterOverflow(name));
  }
  const int64_t value = negative ? static_cast<int64_t>(-static_cast<__int128>(magnitude))
                                 : static_cast<int64_t>(magnitude);
  if (value < range.min || value > range.max) {
    return std::unexpected(errors::IllegalCharacters(
        name, "[" + std::to_string(range.min) + ", " + std::to_string(range.max) + "]"));
  }
  return std::optional<int64_t>(value);
}

Result<int64_t> Params::GetLong(std::string_view name, LongRange range) {
  Result<std::optional<int64_t>> value = GetOptionalLong(name, range);
  if (!value.has_value()) {
    return std::unexpected(std::move(value.error()));
  }
  if (!value->has_value()) {
    return std::unexpected(errors::MandatoryParameter(name));
  }
  return **value;
}

Result<std::optional<int64_t>> Params::GetOptionalDecimal(std::string_view name, int scale) {
  const std::optional<std::string_view> text = Take(name);
  if (!text.has_value()) {
    return std::optional<int64_t>();
  }
  const std::expected<int64_t, core::DecimalError> units = core::ParseDecimal(*text, scale);
  if (units.has_value()) {
    return std::optional<int64_t>(*units);
  }
  switch (units.error()) {
    case core::DecimalError::kSyntax:
      return std::unexpected(errors::IllegalCharacters(name, kDecimalPattern));
    case core::DecimalError::kTooPrecise:
      return std::unexpected(errors::TooMuchPrecision(name));
    case core::DecimalError::kOutOfRange:
      return std::unexpected(errors::ParameterOverflow(name));
  }
  return std::unexpected(errors::IllegalCharacters(name, kDecimalPattern));
}

Result<int64_t> Params::GetDecimal(std::string_view name, int scale) {
  Result<std::optional<int64_t>> value = GetOptionalDecimal(name, scale);
  if (!value.has_value()) {
    return std::unexpected(std::move(value.error()));
  }
  if (!value->has_value()) {
    return std::unexpected(errors::MandatoryParameter(name));
  }
  return **value;
}

Result<std::optional<bool>> Params::GetOptionalBool(std::string_view name) {
  const std::optional<std::string_view> text = Take(name);
  if (!text.has_value()) {
    return std::optional<bool>();
  }
  if (ascii::EqualsIgnoreCase(*text, "true")) {
    return std::optional<bool>(true);
  }
  if (ascii::EqualsIgnoreCase(*text, "false")) {
    return std::optional<bool>(false);
  }
  return std::unexpected(errors::IllegalCharacters(name, "true, false"));
}

Result<bool> Params::GetBool(std::string_view name) {
  Result<std::optional<bool>> value = GetOptionalBool(name);
  if (!value.has_value()) {
    return std::unexpected(std::move(value.error()));
  }
  if (!value->has_value()) {
    return std::unexpected(errors::MandatoryParameter(name));
  }
  return **value;
}

Error Params::EnumError(std::string_view name, const std::vector<std::string_view>& legal) {
  std::string range;
  for (const std::string_view entry : legal) {
    if (!range.empty()) {
      range += ", ";
    }
    range += entry;
  }
  return errors::IllegalCharacters(name, range);
}

Result<void> Params::CheckAllRead() const {
  const size_t read = read_count();
  if (read < params_.size()) {
    return std::unexpected(errors::NotAllParametersRead(read, params_.size()));
  }
  return {};
}

}  // namespace spotex::http
