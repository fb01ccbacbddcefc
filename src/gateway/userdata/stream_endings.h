// Ends of user streams, told to every gateway replica (docs/user-data-streams.md).
//
// A listenKey deleted or a session logged out on one replica must end the streams of that key
// or session on every replica, not only on the one that handled the request. The replica that
// handles it ends its own streams at once and publishes a StreamEnded message on
// bus::kStreamEndedSubject (core NATS); every replica applies what it receives with
// ApplyStreamEnded. The message names the key or session by its SHA-256 only, so a reader of
// the subject learns nothing it could use to open a stream:
//
//   "listenKey <hex SHA-256 of the listenKey>"
//   "session <auth::SessionTokenHash of the token>"
//
// Core NATS delivers at most once: a replica that misses a message (disconnected at that
// moment) still ends the stream at its periodic check against the stores (ListenKeyApi and
// WebApi ExpireStale, every 30 s), which also covers keys and sessions that run out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/userdata/user_stream_hub.h"

namespace spotex::gateway::userdata {

// The message for a deleted listenKey / an ended session. The session's is empty when `token`
// is not a well-formed session token (no stream can have it).
std::string ListenKeyEndedMessage(std::string_view listen_key);
std::string SessionEndedMessage(std::string_view token);

// Ends this replica's streams of the listenKey or session `message` names: listenKeyExpired
// (event time `now_ms`) and close for a listenKey's, close 1000 "session ended" for a
// session's. Returns how many keys or sessions matched (0 or 1); a malformed message or one
// that names nothing here changes nothing.
size_t ApplyStreamEnded(UserStreamHub& hub, std::string_view message, int64_t now_ms);

}  // namespace spotex::gateway::userdata
