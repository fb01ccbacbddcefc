// Cold archive of closed history months (`spotex-admin archive` / `unarchive`,
// docs/reconcile-and-archive.md).
//
// Archive: every month strictly before `before` that still has partitions (<table>_yYYYYmMM,
// made by history_ensure_month()) is exported, one gzip-compressed CSV with a header line per
// partitioned table plus manifest.json, into <dir>/<YYYY-MM>/. Each file is read back
// (decompressed, rows counted, SHA-256 recomputed) before, in the same transaction that held
// the month's partitions read-locked during the export, the month's ledger sums are added to
// ledger_carried, history_archives gets one row per table, and the partitions are detached and
// dropped (kept detached with keep_detached). A month is refused unless it is closed: before
// the current UTC month and before the month of the recorder's position (the time of the last
// recorded event), so no row can still arrive in it. Any refusal happens before anything is
// written.
//
// Unarchive: the reverse for one month, from the files history_archives names (verified first):
// each table is re-created from its parent, loaded with COPY FROM, attached; the month's ledger
// sums are subtracted from ledger_carried and its history_archives rows deleted. The files stay.
//
// Not thread-safe: one call at a time per connection.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/pg.h"

namespace spotex::admin {

struct Month {
  int year = 0;   // 1970..9999
  int month = 0;  // 1..12
  auto operator<=>(const Month&) const = default;
};

// "YYYY-MM" exactly (1970-01 .. 9999-12), else nullopt.
std::optional<Month> ParseMonth(std::string_view text);
std::string ToString(Month m);         // "2026-10"
std::string PartitionSuffix(Month m);  // "_y2026m10"
Month NextMonth(Month m);
int64_t MonthStartMs(Month m);  // UTC
Month MonthOfMs(int64_t ms);    // UTC

struct ArchiveOptions {
  std::string dir;             // the archive directory; created if missing
  bool keep_detached = false;  // detach only; the tables stay (named as before)
  int64_t now_ms = 0;          // the current time (0: the clock's)
  uint32_t shard = 0;          // the recorder position to respect
};

struct ArchivedTable {
  std::string table;      // "ledger"
  std::string partition;  // "ledger_y2026m08"
  std::string path;       // absolute path of the .csv.gz
  int64_t rows = 0;
  std::string sha256;  // of the uncompressed CSV, header included
  std::optional<int64_t> min_time_ms, max_time_ms;
};

struct ArchivedMonth {
  Month month;
  std::string manifest_path;
  std::vector<ArchivedTable> tables;
};

// Archives every month before `before`; returns what was archived (empty: nothing to do).
// An error names what was refused or failed; months archived before it stay archived.
[[nodiscard]] std::expected<std::vector<ArchivedMonth>, std::string> ArchiveBefore(
    db::PgConnection& pg, Month before, const ArchiveOptions& options);

// Re-attaches one archived month from its files.
[[nodiscard]] std::expected<ArchivedMonth, std::string> Unarchive(db::PgConnection& pg,
                                                                  Month month);

// Reads a .csv.gz back: data rows (header excluded) and the SHA-256 (hex) of its uncompressed
// bytes. For the archive's verification and for tests.
struct CsvGzStats {
  int64_t rows = 0;
  std::string sha256;
};
[[nodiscard]] std::expected<CsvGzStats, std::string> ReadCsvGz(const std::string& path);

}  // namespace spotex::admin
