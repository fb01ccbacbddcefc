// Helpers shared by the auth tests.
#pragma once

#include <sodium.h>

#include <string>
#include <string_view>

namespace spotex::auth::testing {

// Percent-encodes every byte outside [A-Za-z0-9-_.~], as clients encode a base64 signature.
inline std::string PercentEncode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

inline std::string Base64(const unsigned char* data, size_t size,
                          int variant = sodium_base64_VARIANT_ORIGINAL) {
  std::string out(sodium_base64_ENCODED_LEN(size, variant), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, variant);
  out.resize(out.find('\0'));
  return out;
}

inline std::string FromHex(std::string_view hex) {
  std::string out(hex.size() / 2, '\0');
  size_t size = 0;
  sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), hex.data(), hex.size(),
                 nullptr, &size, nullptr);
  out.resize(size);
  return out;
}

}  // namespace spotex::auth::testing
