// The history projection's writer: applies engine event envelopes to the PostgreSQL schema of
// db/migrations/0002_history.sql, exactly once.
//
// Exactly-once: Apply() writes the rows of a run of envelopes and the new recorder position
// (recorder_positions: last command seq, the EVT_<shard> stream message that carried it, events
// applied) in ONE transaction. Envelopes whose command seq is at or below the committed
// position are skipped, so a caller that crashed (or lost its connection) after COMMIT and
// redelivers the same stream messages changes nothing; one that crashed before COMMIT left
// nothing behind. Position() is what to resume after.
//
// What each event becomes (docs/history.md has the table): OrderAccepted -> orders (+ its first
// order_events row); OrderUpdate / OrderAmended -> order_events and the order's latest state;
// Trade -> trades, two fills, ledger trade legs and commissions; Transfer -> ledger deposit or
// withdrawal; BalanceChanged -> balances (absolute values) and one lock entry per bucket change
// not explained by the command's trades and transfers; PreventedMatch -> prevented_matches;
// OrderList -> order_lists; AssetAdded / SymbolAdded / SymbolStatusChanged -> assets / symbols;
// trades also update klines_1m. Rejected and malformed commands write nothing but advance the
// position.
//
// Thread-safety: none; one writer per thread (the recorder has one).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "db/pg.h"
#include "proto/envelope.h"

namespace spotex::store {

// The most envelopes one Apply() takes (its rows are held in memory until COMMIT); a caller
// with more splits them.
inline constexpr size_t kApplyEnvelopesMax = 200'000;

struct RecorderPosition {
  uint64_t command_seq = 0;  // last command whose envelope is applied (0: none)
  uint64_t stream_seq = 0;   // EVT_<shard> message that carried it
  uint64_t events = 0;       // event records applied so far
};

struct WriteStats {
  size_t envelopes = 0;  // applied (skipped ones not counted)
  size_t skipped = 0;    // at or below the position: already applied
  size_t events = 0;     // event records in the applied envelopes
  size_t rows = 0;       // rows inserted or updated
};

class HistoryWriter {
 public:
  // Connects and loads what the writer needs to continue (position, open orders' placement
  // times, partitions that exist). The schema must be migrated.
  [[nodiscard]] static db::PgExpected<std::unique_ptr<HistoryWriter>> Open(
      const db::PgConnParams& params, uint32_t shard);
  virtual ~HistoryWriter() = default;

  // The committed position.
  virtual const RecorderPosition& position() const = 0;

  // Applies `envelopes` (consecutive commands in seq order, as the stream carries them) and
  // moves the position to (last envelope's seq, stream_seq) in one transaction; at most
  // kApplyEnvelopesMax envelopes (more is an error that changes nothing). On an error
  // nothing is applied, position() is unchanged, and the writer must be re-opened (the
  // connection may be broken); the caller then resumes after position().
  [[nodiscard]] virtual db::PgExpected<WriteStats> Apply(
      std::span<const proto::Envelope* const> envelopes, uint64_t stream_seq) = 0;
};

}  // namespace spotex::store
