// UTF-8 well-formedness (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF),
// shared by the request parser (which refuses invalid text) and the JSON writer (which replaces
// it). Thread-safe: no state.
#pragma once

#include <cstddef>
#include <string_view>

namespace spotex::utf8 {

// Length (2..4) of the valid multi-byte sequence at the start of `s`, or 0 when `s` does not
// start with one (an ASCII byte, a continuation byte, a bad or truncated sequence, or empty).
size_t SequenceLength(std::string_view s);

// True when all of `text` is well-formed UTF-8.
bool IsValid(std::string_view text);

}  // namespace spotex::utf8
