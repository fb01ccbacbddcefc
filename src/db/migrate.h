// Forward-only schema migrations: numbered SQL files (db/migrations/NNNN_name.sql) applied in
// order, each in its own transaction, recorded with a checksum in schema_migrations.
//
// Rules (docs/database.md):
//  * A file is named <version>_<name>.sql: version 4 to 9 digits (> 0, unique), name of
//    [a-z0-9_]. Other files in the directory (README, editor backups) are ignored; a .sql file
//    with another name is an error.
//  * An applied file never changes: its SHA-256 is stored when applied and compared on every
//    run; a changed, renamed or removed applied file stops the run before anything is applied.
//  * A pending file must be newer than every applied one (no filling gaps after the fact).
//  * A file must not contain BEGIN/COMMIT (it runs inside the migrator's transaction).
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <string>
#include <vector>

#include "db/pg.h"

namespace spotex::db {

inline constexpr size_t kMigrationFilesMax = 10000;
inline constexpr size_t kMigrationFileBytesMax = 4 << 20;
// The session-level advisory lock every migrator holds while it runs ("spotexmg").
inline constexpr int64_t kMigrationLockKey = 0x73706f7465786d67;

struct MigrationFile {
  int64_t version = 0;
  std::string name;  // the file name without ".sql", e.g. "0001_users_and_keys"
  std::string path;
  std::string sql;
  std::string checksum;  // SHA-256 of the file's bytes, lower-case hex
};

enum class MigrateErrorCode {
  kFiles,             // the directory or a file cannot be read, or a name breaks the rules
  kChecksumMismatch,  // an applied file's content changed
  kHistoryMismatch,   // an applied file is missing or renamed, or a pending one is out of order
  kLockTimeout,       // another migrator held the lock longer than lock_timeout_ms
  kMigrationFailed,   // a file's SQL failed (that file's changes are rolled back)
  kDatabase,          // anything else the server or connection reported
};

struct MigrateError {
  MigrateErrorCode code;
  std::string message;
  std::string sqlstate;  // when the server reported it
};

struct AppliedMigration {
  int64_t version = 0;
  std::string name;
};

struct MigrateReport {
  std::vector<AppliedMigration> applied;  // by this run, in order
  size_t already_applied = 0;             // found applied (and verified) before this run
  int64_t schema_version = 0;             // the highest applied version after this run
};

struct MigrateOptions {
  // Bounds the wait for another migrator's lock (server-side lock_timeout); > 0.
  int64_t lock_timeout_ms = 60000;
  // Called after each file is committed (e.g. to print progress). May be empty.
  std::function<void(const AppliedMigration&)> on_applied;
};

// Reads and checks the migration files of `dir`, sorted by version.
[[nodiscard]] std::expected<std::vector<MigrationFile>, MigrateError> LoadMigrations(
    const std::string& dir);

// Brings the database of `conn` up to date with the files of `dir`: takes the advisory lock
// (waiting at most options.lock_timeout_ms for another migrator), creates schema_migrations if
// missing, verifies every applied file, then applies each pending file in its own transaction.
// Idempotent: a second run applies nothing. `conn` must not be inside a transaction. On error,
// the files applied before it stay applied (each was committed) and are reported through
// options.on_applied.
[[nodiscard]] std::expected<MigrateReport, MigrateError> Migrate(
    PgConnection& conn, const std::string& dir, const MigrateOptions& options = {});

}  // namespace spotex::db
