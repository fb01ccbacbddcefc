// Control messages of a market-stream connection (BINANCE_API.md §8): the client's text frames
// SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY ["combined",bool] and
// GET_PROPERTY ["combined"] (and, beyond Binance, the property "checksum": depthUpdates carry
// "cs", docs/streams.md), their replies, Binance's error replies, and the per-connection
// subscription state they act on. Socket-free: the transport (src/gateway/ws) feeds frames in
// and sends the replies out.
//
// Replies: {"result":null,"id":<id>} (LIST_SUBSCRIPTIONS: the names; GET_PROPERTY: the value),
// with the request's id echoed with its JSON type (integer, string or null). Errors:
//   {"code":3,"msg":"Invalid JSON: <reason>"}          not JSON, or over kMaxControlMessageBytes
//   {"code":2,"msg":"Invalid request: <reason>"}       bad method, id, params, stream name, limits
//   {"code":1,"msg":"Invalid value type: expected Boolean"}   SET_PROPERTY with a non-boolean
//   {"code":0,"msg":"Unknown property","id":<id>}      SET/GET_PROPERTY of another property
// As in Binance's table, only the code-0 error carries the id.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/streams/stream_name.h"

namespace spotex::gateway::streams {

// A SUBSCRIBE of 1024 long names fits well within this.
inline constexpr size_t kMaxControlMessageBytes = 64 * 1024;
// Streams per connection (Binance's limit), and names per SUBSCRIBE/UNSUBSCRIBE.
inline constexpr size_t kMaxStreamsPerConnection = 1024;
inline constexpr size_t kMaxParamsPerMessage = 1024;
// A string id: 0 to 36 ASCII letters or digits.
inline constexpr size_t kMaxIdChars = 36;

enum class Method : uint8_t {
  kSubscribe,
  kUnsubscribe,
  kListSubscriptions,
  kSetProperty,
  kGetProperty,
  kResume,  // beyond Binance: {"method":"RESUME","params":["<stream>",<from id>],"id":…}
};

struct ControlRequest {
  Method method = Method::kSubscribe;
  // The id as JSON, ready to echo: "null", "42", "-7", "\"a1b2\"". A missing id is null.
  std::string id_json = "null";
  std::vector<std::string> params;  // SUBSCRIBE / UNSUBSCRIBE: the stream names, unvalidated
  std::string property;             // SET_PROPERTY / GET_PROPERTY
  bool value = false;               // SET_PROPERTY
  int64_t from_id = 0;              // RESUME: the first id wanted (params[0] is the stream)
};

struct ControlError {
  int code = 2;
  std::string msg;
  std::string id_json;  // empty = the reply carries no id
  // {"code":…,"msg":"…"[,"id":…]}
  std::string Json() const;
};

// Parses one text frame. Pure; thread-safe.
[[nodiscard]] std::expected<ControlRequest, ControlError> ParseControl(std::string_view text);

// The subscriptions and properties of one connection.
// Thread safety: none; one object per connection, used by the thread serving that connection.
class Subscriptions {
 public:
  struct Outcome {
    std::string reply;               // the text frame to send back
    std::vector<StreamKey> added;    // newly subscribed (SUBSCRIBE)
    std::vector<StreamKey> removed;  // no longer subscribed (UNSUBSCRIBE)
    // RESUME of a depth or trade stream: the owner looks the history up, then (on success)
    // subscribes the stream with Add(), replies and replays; `reply` is empty then.
    struct Resume {
      StreamKey key;
      int64_t from_id = 0;
      std::string id_json;
    };
    std::optional<Resume> resume;
  };

  // `combined`: the connection came in on /stream (payloads wrapped as {"stream","data"}).
  explicit Subscriptions(bool combined = false) : combined_(combined) {}

  // Parses and applies one client text frame. SUBSCRIBE and UNSUBSCRIBE are all-or-nothing: an
  // invalid name, or a SUBSCRIBE that would exceed kMaxStreamsPerConnection, changes nothing.
  Outcome Handle(std::string_view text, const SymbolKnown& known);
  Outcome Apply(const ControlRequest& request, const SymbolKnown& known);

  // Subscribes a stream named in the connect URL. False (and nothing changed) when the
  // connection already holds kMaxStreamsPerConnection streams; true if added or already there.
  bool Add(const StreamKey& key);

  bool combined() const { return combined_; }
  // SET_PROPERTY ["checksum",true]: depthUpdates carry "cs" (StreamMessage::checksum).
  bool checksum() const { return checksum_; }
  bool Contains(const StreamKey& key) const { return set_.contains(key); }
  // In subscription order.
  const std::vector<StreamKey>& streams() const { return order_; }

 private:
  std::vector<StreamKey> order_;
  std::set<StreamKey> set_;
  bool combined_;
  bool checksum_ = false;
};

}  // namespace spotex::gateway::streams
