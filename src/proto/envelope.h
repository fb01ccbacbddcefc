// Event envelope: everything one command did, as published on EVT_<shard> and sent back to the
// caller that waits for the command (docs/adr/0002-one-envelope-per-command.md).
//
// Layout, version 1 (all integers little-endian; the engine's platform is x86-64 and the event
// records are its fixed, zero-filled layout from engine/event.h, sizes static_asserted in
// envelope.cc):
//   offset size  field
//   0      4     magic "SPXE"
//   4      2     format version (= 1)
//   6      1     flags: bit 0 = the command bytes were malformed (not applied)
//   7      1     decode error (proto::DecodeError) when malformed, else 0
//   8      4     shard
//   12     4     number of event records
//   16     8     command seq (the command stream's sequence number)
//   24     8     command time, ms since the epoch (the command stream's timestamp)
//   32     2     result code (engine::RejectCode; 0 = applied)
//   34     2     cancel part's code (cancel-replace only)
//   36     2     new-order part's code (cancel-replace only)
//   38     2     zero
//   40     8     new order id (0 if none)
//   48     8     new order list id (0 if none)
//   56     4     bytes of event records that follow
//   60     4     zero
//   64     ...   the event records, exactly as engine::EventBuffer holds them
// Event `i` of the envelope has the id "<shard>:<seq>:<i>" (its header's index).
//
// Event batch: one message on EVT_<shard> carries the envelopes of consecutive commands (one
// engine batch, split so that no message exceeds kMaxBatchMessageBytes):
//   0  4 magic "SPXB"   4  2 version (= 1)   6  2 zero   8  4 envelope count   12  4 zero
//   16 8 seq of the first envelope           24 8 seq of the last envelope
//   32 ... the envelopes back to back (each delimited by its own header)
// Its Nats-Msg-Id is "<shard>:<first seq>-<last seq>".
// A malformed command yields an envelope with the malformed flag, its decode error, result code
// kInvalidParameter and one CommandRejected record (command_index 0xFF).
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "engine/event.h"
#include "proto/codec.h"

namespace spotex::proto {

inline constexpr uint32_t kEnvelopeHeaderBytes = 64;
inline constexpr uint16_t kEnvelopeVersion = 1;

struct EnvelopeHeader {
  bool malformed = false;
  DecodeError decode_error = DecodeError::kTruncated;  // valid when malformed
  uint32_t shard = 0;
  uint32_t event_count = 0;
  uint64_t seq = 0;
  int64_t time_ms = 0;
  engine::RejectCode code = engine::RejectCode::kNone;
  engine::RejectCode cancel_code = engine::RejectCode::kNone;
  engine::RejectCode new_order_code = engine::RejectCode::kNone;
  int64_t order_id = 0;
  int64_t order_list_id = 0;
};

// Appends the envelope of an applied command to `out`.
void AppendEnvelope(uint32_t shard, const engine::Command& cmd, const engine::ApplyResult& result,
                    std::vector<std::byte>& out);
// Appends the envelope of command bytes that did not decode.
void AppendMalformedEnvelope(uint32_t shard, uint64_t seq, int64_t time_ms, DecodeError error,
                             std::vector<std::byte>& out);

inline constexpr uint32_t kBatchHeaderBytes = 32;
// Well under nats-server's default max_payload (1 MiB).
inline constexpr size_t kMaxBatchMessageBytes = 512 * 1024;

// Writes the batch header for `count` envelopes with seqs first..last into out[0, 32).
void WriteBatchHeader(uint32_t count, uint64_t first_seq, uint64_t last_seq, std::byte* out);

enum class EnvelopeError : uint8_t { kTruncated, kBadMagic, kBadVersion, kBadRecord };
std::string_view ToString(EnvelopeError e);

// A decoded envelope. The records are copied into 8-byte-aligned storage, so engine::EventReader
// can walk them whatever the alignment of the received bytes.
class Envelope {
 public:
  const EnvelopeHeader& header() const { return header_; }
  std::span<const std::byte> events() const {
    return {reinterpret_cast<const std::byte*>(storage_.data()), events_bytes_};
  }
  engine::EventReader reader() const { return engine::EventReader(events()); }

  // Validates everything: sizes, record headers (size, type, index sequence, seq), so a reader
  // can walk the records without further checks.
  static std::expected<Envelope, EnvelopeError> Parse(std::span<const std::byte> bytes);
  // Size of the envelope that starts at `bytes` (from its header), or 0 if unreadable.
  static size_t SizeAt(std::span<const std::byte> bytes);

 private:
  EnvelopeHeader header_;
  std::vector<uint64_t> storage_;
  size_t events_bytes_ = 0;
};

// A parsed event batch: its envelopes in order (each validated; seqs strictly increasing from
// first to last as the header says).
struct EventBatch {
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  std::vector<Envelope> envelopes;
  // The raw bytes of each envelope (views into the parsed message).
  std::vector<std::span<const std::byte>> raw;
};
std::expected<EventBatch, EnvelopeError> ParseBatch(std::span<const std::byte> bytes);

}  // namespace spotex::proto
