#include "gateway/userdata/stream_endings.h"

#include <optional>

#include "auth/keys.h"

namespace spotex::gateway::userdata {
namespace {

constexpr std::string_view kListenKeyPrefix = "listenKey ";
constexpr std::string_view kSessionPrefix = "session ";
constexpr size_t kDigestChars = 64;

bool IsDigest(std::string_view s) {
  return s.size() == kDigestChars && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

std::string ListenKeyEndedMessage(std::string_view listen_key) {
  return std::string(kListenKeyPrefix) + auth::Sha256Hex(listen_key);
}

std::string SessionEndedMessage(std::string_view token) {
  const std::optional<std::string> hash = auth::SessionTokenHash(token);
  return hash ? std::string(kSessionPrefix) + *hash : std::string();
}

size_t ApplyStreamEnded(UserStreamHub& hub, std::string_view message, int64_t now_ms) {
  size_t matched = 0;
  if (message.starts_with(kListenKeyPrefix)) {
    const std::string_view digest = message.substr(kListenKeyPrefix.size());
    if (!IsDigest(digest)) return 0;
    for (const std::string& key : hub.ListenKeys()) {
      if (auth::Sha256Hex(key) == digest) {
        hub.Expire(key, now_ms);
        ++matched;
      }
    }
  } else if (message.starts_with(kSessionPrefix)) {
    const std::string_view digest = message.substr(kSessionPrefix.size());
    if (!IsDigest(digest)) return 0;
    for (const std::string& token : hub.SessionTokens()) {
      if (auth::SessionTokenHash(token) == digest) {
        hub.EndSession(token);
        ++matched;
      }
    }
  }
  return matched;
}

}  // namespace spotex::gateway::userdata
