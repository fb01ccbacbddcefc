// Ledger reconciliation (`spotex-admin reconcile`, docs/reconcile-and-archive.md): the engine's
// live balances against the history the recorder wrote to PostgreSQL (db/migrations/
// 0002_history.sql): per account and asset the ledger's sums (live partitions + ledger_carried)
// and the balances table; per asset the ledger against deposits minus withdrawals; per event
// the entries summing to zero.
//
// Consistency: the engine moves on while we read. Each all_balances page carries the engine's
// seq S at which it was taken; once the recorder has applied at least S, the ledger entries with
// seq <= S are exactly the movements the engine had applied at S, so every account is compared
// at its own page's S, with no need for the engine to stand still. A balances-table row whose
// seq is after S has moved on and is not compared (it is compared on the next run).
//
// Not thread-safe: one call at a time per connection.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <string>
#include <vector>

#include "db/pg.h"

namespace spotex::admin {

// Sends one live-state query to the engine (docs/engine-service.md) and returns its JSON
// answer, or an error text (transport failure or an {"error":...} answer).
using EngineQuery = std::function<std::expected<std::string, std::string>(const std::string&)>;

struct ReconcileOptions {
  uint32_t shard = 0;
  int64_t wait_ms = 10000;      // how long to wait for the recorder to reach the engine's seq
  size_t page_accounts = 1000;  // accounts per all_balances page (1..1000)
  size_t list_max = 1000;       // at most this many differences of each kind are listed
};

// One (account, asset) whose engine, ledger and balances-table values disagree. Amounts are
// integer units of the asset's scale. Engine account 0 (fees) is ledger account -1.
struct BalanceDifference {
  int64_t account = 0;  // the engine's id (0 = the fee account)
  std::string asset;
  int scale = 0;
  __int128 engine_free = 0, engine_locked = 0;
  __int128 ledger_free = 0, ledger_locked = 0;
  bool has_table_row = false;  // a balances-table row exists (never for the fee account)
  int64_t table_free = 0, table_locked = 0;
  std::string problem;  // "ledger", "balances table", "ledger, balances table", ...
};

// An asset whose ledger does not balance: users + fee account must equal minus the outside
// world (deposits - withdrawals), and the outside world takes only deposits and withdrawals.
struct AssetDifference {
  std::string asset;
  int scale = 0;
  __int128 users_and_fees = 0;      // Σ accounts > 0 and -1 (live + carried)
  __int128 net_deposits = 0;        // -Σ account 0 (live + carried)
  int64_t outside_other_kinds = 0;  // entries of account 0 that are not deposit/withdrawal
};

// An event whose entries of one asset do not sum to zero.
struct UnbalancedEvent {
  int64_t seq = 0;
  int32_t idx = 0;
  std::string asset;
  int scale = 0;
  __int128 sum = 0;
};

struct ReconcileReport {
  uint64_t engine_seq_min = 0, engine_seq_max = 0;  // seqs of the first/last page
  uint64_t recorder_seq = 0;
  size_t accounts = 0;  // engine accounts compared (fee account included)
  size_t assets = 0;
  size_t balance_differences = 0, asset_differences = 0, unbalanced_events = 0;  // totals
  std::vector<BalanceDifference> balances;  // listed (at most list_max)
  std::vector<AssetDifference> asset_totals;
  std::vector<UnbalancedEvent> events;
  size_t differences() const { return balance_differences + asset_differences + unbalanced_events; }
};

// Runs the whole reconciliation. An error means it could not be done (engine or database
// unreachable, recorder not caught up within wait_ms, a malformed answer) — not that
// differences were found.
[[nodiscard]] std::expected<ReconcileReport, std::string> Reconcile(
    db::PgConnection& pg, const EngineQuery& engine, const ReconcileOptions& options);

// The report as a human table ending with the line
// `reconcile accounts=<N> assets=<N> differences=<N>`, or as one JSON object.
std::string FormatReport(const ReconcileReport& report);
std::string FormatReportJson(const ReconcileReport& report);

// Exact decimal text of `units` at `scale` (any __int128; used for sums that may not fit
// int64).
std::string FormatUnits(__int128 units, int scale);

}  // namespace spotex::admin
