// Every NATS subject, stream and header name Spotex uses, in one place (DESIGN.md §3).
//
// Per engine shard <s> (a small integer):
//   stream CMD_<s>  subject spotex.cmd.<s>    commands, in log order; the stream sequence is the
//                                             command's seq and its timestamp the command's time
//   stream EVT_<s>  subject spotex.evt.<s>    event batches: the envelopes of consecutive
//                                             commands (proto/envelope.h)
//   core   spotex.query.<s>                   live-state queries, request/reply (service/query.h)
//
// Between gateway replicas:
//   core   spotex.gateway.stream-ended        a listenKey was deleted or a session ended: every
//                                             replica closes its streams of it at once
//                                             (gateway/userdata/stream_endings.h)
#pragma once

#include <cstdint>
#include <string>

namespace spotex::bus {

inline std::string CommandStream(uint32_t shard) { return "CMD_" + std::to_string(shard); }
inline std::string CommandSubject(uint32_t shard) { return "spotex.cmd." + std::to_string(shard); }
inline std::string EventStream(uint32_t shard) { return "EVT_" + std::to_string(shard); }
inline std::string EventSubject(uint32_t shard) { return "spotex.evt." + std::to_string(shard); }
inline std::string QuerySubject(uint32_t shard) { return "spotex.query." + std::to_string(shard); }
inline constexpr const char* kStreamEndedSubject = "spotex.gateway.stream-ended";

// JetStream's de-duplication header: a publisher's retry with the same id within the stream's
// duplicate window is stored once.
inline constexpr const char* kMsgIdHeader = "Nats-Msg-Id";
// On a command: the core-NATS subject where the engine answers with the command's event
// envelope once the command is durable (journal fsynced). Absent = nobody waits.
inline constexpr const char* kReplyHeader = "Spotex-Reply";

// Nats-Msg-Id of the event batch holding the envelopes of commands first..last. Event `i` of
// command `seq` has the id "<shard>:<seq>:<i>"; the envelopes carry them (docs/adr/0002).
inline std::string BatchId(uint32_t shard, uint64_t first_seq, uint64_t last_seq) {
  return std::to_string(shard) + ":" + std::to_string(first_seq) + "-" + std::to_string(last_seq);
}

// De-duplication windows. Commands: a client's retry of a publish (same Nats-Msg-Id) within
// this window is stored once. Events: only the engine's own in-flight republish races need it
// (a restart republishes after the last stored batch), so it is short; long windows cost
// nats-server memory and garbage-collection time for every message id they keep.
inline constexpr int64_t kCommandDedupWindowMs = 2 * 60 * 1000;
inline constexpr int64_t kEventDedupWindowMs = 60 * 1000;

}  // namespace spotex::bus
