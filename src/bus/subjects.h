// Every NATS subject, stream and header name Spotex uses, in one place (DESIGN.md §3).
//
// Per engine shard <s> (a small integer):
//   stream CMD_<s>  subject spotex.cmd.<s>    commands, in log order; the stream sequence is the
//                                             command's seq and its timestamp the command's time
//   stream EVT_<s>  subject spotex.evt.<s>    one event envelope per command (proto/envelope.h)
//   core   spotex.query.<s>                   live-state queries, request/reply (service/query.h)
#pragma once

#include <cstdint>
#include <string>

namespace spotex::bus {

inline std::string CommandStream(uint32_t shard) { return "CMD_" + std::to_string(shard); }
inline std::string CommandSubject(uint32_t shard) { return "spotex.cmd." + std::to_string(shard); }
inline std::string EventStream(uint32_t shard) { return "EVT_" + std::to_string(shard); }
inline std::string EventSubject(uint32_t shard) { return "spotex.evt." + std::to_string(shard); }
inline std::string QuerySubject(uint32_t shard) { return "spotex.query." + std::to_string(shard); }

// JetStream's de-duplication header: a publisher's retry with the same id within the stream's
// duplicate window is stored once.
inline constexpr const char* kMsgIdHeader = "Nats-Msg-Id";
// On a command: the core-NATS subject where the engine answers with the command's event
// envelope once the command is durable (journal fsynced). Absent = nobody waits.
inline constexpr const char* kReplyHeader = "Spotex-Reply";

// Event id of the envelope of command `seq` (the Nats-Msg-Id on EVT_<shard>). Event `i` of that
// command has the id "<shard>:<seq>:<i>"; the envelope carries all of them (docs/adr/0002).
inline std::string EnvelopeId(uint32_t shard, uint64_t seq) {
  return std::to_string(shard) + ":" + std::to_string(seq);
}

}  // namespace spotex::bus
