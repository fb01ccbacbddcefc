// Live-state queries, answered from the engine's memory over core-NATS request/reply on
// spotex.query.<shard> (docs/engine-service.md lists them with examples).
//
// A request is one line of space-separated words; the reply is one JSON object. Errors are
// {"error":"..."}: a query never changes state and never fails the engine.
//   status                                  shard, last seq, state hash, snapshot seq, ...
//   assets | symbols                        the markets
//   asset <name> | symbol <name>            one asset (id, scale) / symbol (id, scales)
//   balances <account>                      free/locked per asset
//   all_balances <from> <limit>             every account's balances, one page: accounts at
//                                           positions from.. in opening order (fee account 0
//                                           first), "next" position or null, "seq" of the state
//   open_orders <account> [<symbol>]        open orders, order-id order
//   order <account> <symbol> <orderId>      one open order (by id)
//   order_by_client_id <account> <symbol> <clientOrderId>
//   book <symbol> [<depth>]                 top levels with the book's update id
//   has_account <account>
// Decimals are printed exactly with the asset's scale (prices and notionals in the quote
// asset's, quantities in the base asset's).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/engine.h"

namespace spotex::service {

// Bounds of one all_balances page: at most this many accounts, and the page ends after the
// account that brings the reply to this many bytes (so a reply stays far below NATS's 1 MiB
// payload limit unless one account alone holds thousands of assets).
inline constexpr size_t kAllBalancesLimitMax = 1000;
inline constexpr size_t kAllBalancesReplyBytes = 256 * 1024;

// What the service adds to the engine's own state for `status`.
struct ServiceStatus {
  uint32_t shard = 0;
  uint64_t log_seq = 0;       // last command of the log applied (malformed ones included)
  uint64_t journal_seq = 0;   // last command durable in the journal
  uint64_t snapshot_seq = 0;  // seq of the newest snapshot written
  uint64_t commands = 0;      // commands processed since start
  uint64_t malformed = 0;     // malformed commands since start
};

std::string AnswerQuery(const engine::Engine& engine, const ServiceStatus& status,
                        std::string_view request);

}  // namespace spotex::service
