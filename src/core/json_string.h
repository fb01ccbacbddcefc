// JSON string literals for the JSON the services write by hand (HTTP answers, log lines), one
// escaping for all of them. No allocation beyond `out`'s growth; thread-safe (no state).
#pragma once

#include <string>
#include <string_view>

namespace spotex::json {

// Appends `text` to `out` as a JSON string literal, quotes included: quote, backslash and
// control characters escaped (\n, \t, \u0001, ...), DEL escaped, valid UTF-8 copied, each byte
// of an invalid UTF-8 sequence replaced by U+FFFD (escaped as \ufffd), so the output is always
// valid JSON in valid UTF-8 whatever the input.
void AppendString(std::string& out, std::string_view text);

}  // namespace spotex::json
