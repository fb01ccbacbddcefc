// The pieces of a WebSocket client that the fan-out benchmark (ws_bench.cc) needs, apart from
// its sockets so that they can be unit-tested: an incremental reader of server frames
// (RFC 6455 §5.2: unmasked, possibly fragmented), the masked pong a client owes for each
// ping, and the fields of a market-stream payload (trade / depthUpdate) the benchmark measures.
//
// Thread safety: none; one FrameReader per connection.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace spotex::bench {

// Largest message the reader accepts (after reassembling fragments). A market-stream message
// is a few hundred bytes; a depthUpdate of a busy book a few KiB.
inline constexpr size_t kWsMessageBytesMax = 1024 * 1024;

enum class WsOpcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// One complete message (data) or control frame.
struct WsMessage {
  WsOpcode opcode = WsOpcode::kText;
  std::string_view payload;  // valid until the next Feed()/Next() call
};

class FrameReader {
 public:
  enum class State { kMessage, kNeedMore, kError };

  // Appends bytes read from the socket.
  void Feed(std::string_view bytes) { buffer_.append(bytes); }

  // The next complete message or control frame in what was fed: kMessage fills `out`;
  // kNeedMore when the rest has not arrived; kError on a masked server frame, a reserved
  // opcode, a control frame over 125 bytes or fragmented, or a message over
  // kWsMessageBytesMax (error() says which). After kError the reader stays in error.
  State Next(WsMessage& out);

  std::string_view error() const { return error_; }
  // Bytes fed and not yet consumed (a partial frame).
  size_t buffered() const { return buffer_.size() - pos_; }

 private:
  State Fail(std::string_view why);

  std::string buffer_;
  size_t pos_ = 0;         // first unconsumed byte of buffer_
  std::string fragments_;  // data of a fragmented message so far
  WsOpcode fragment_opcode_ = WsOpcode::kText;
  bool in_fragmented_ = false;
  std::string message_;  // the reassembled message handed out last
  std::string error_;
};

// The masked client pong that answers a ping with `payload` (at most 125 bytes). The masking
// key is zero: RFC 6455 requires a client to mask, not an unpredictable key from a benchmark.
std::string PongFrame(std::string_view payload);

// What the benchmark reads from one market-stream payload (raw, or the "data" of a combined
// envelope: the first "e" found wins). Fields absent from the payload are -1.
struct StreamFields {
  enum class Kind : uint8_t { kOther, kTrade, kDepthUpdate };
  Kind kind = Kind::kOther;
  int64_t event_ms = -1;       // "E"
  int64_t trade_time_ms = -1;  // "T" (trade)
  int64_t trade_id = -1;       // "t" (trade)
  int64_t first_update = -1;   // "U" (depthUpdate)
  int64_t last_update = -1;    // "u" (depthUpdate)
};

// Scans `json` for the keys above (top-level keys of the payload come before its arrays in the
// gateway's encoding, so the scan stops at the first '['). Never fails: unknown shapes give
// Kind::kOther.
StreamFields ParseStreamFields(std::string_view json);

}  // namespace spotex::bench
