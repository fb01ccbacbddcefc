#include "db/migrate.h"

#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <system_error>

namespace spotex::db {

namespace {

namespace fs = std::filesystem;

MigrateError Error(MigrateErrorCode code, std::string message, std::string sqlstate = {}) {
  return MigrateError{code, std::move(message), std::move(sqlstate)};
}

MigrateError DbError(const std::string& what, const PgError& e) {
  return Error(MigrateErrorCode::kDatabase, what + ": " + e.message, e.sqlstate);
}

std::string Sha256Hex(const std::string& bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * sizeof digest);
  for (unsigned char b : digest) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 15]);
  }
  return hex;
}

// "0001_users_and_keys" -> 1; nullopt if the stem breaks the naming rule.
std::optional<int64_t> ParseVersion(const std::string& stem) {
  size_t digits = 0;
  while (digits < stem.size() && stem[digits] >= '0' && stem[digits] <= '9') ++digits;
  if (digits < 4 || digits > 9 || digits + 1 >= stem.size() || stem[digits] != '_') {
    return std::nullopt;
  }
  for (size_t i = digits + 1; i < stem.size(); ++i) {
    char c = stem[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return std::nullopt;
  }
  if (stem.size() > 128) return std::nullopt;
  int64_t version = 0;
  std::from_chars(stem.data(), stem.data() + digits, version);
  if (version <= 0) return std::nullopt;
  return version;
}

std::expected<std::string, MigrateError> ReadMigrationFile(const fs::path& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec || size > kMigrationFileBytesMax) {
    return std::unexpected(
        Error(MigrateErrorCode::kFiles, "cannot read " + path.string() + " or it is larger than " +
                                            std::to_string(kMigrationFileBytesMax) + " bytes"));
  }
  std::ifstream in(path, std::ios::binary);
  std::string sql(size, '\0');
  in.read(sql.data(), static_cast<std::streamsize>(size));
  if (!in || in.gcount() != static_cast<std::streamsize>(size)) {
    return std::unexpected(Error(MigrateErrorCode::kFiles, "cannot read " + path.string()));
  }
  return sql;
}

// The migration lock, held by this session from Acquire() until the scope ends.
class AdvisoryLock {
 public:
  explicit AdvisoryLock(PgConnection& conn) : conn_(conn) {}
  ~AdvisoryLock() {
    if (held_ && conn_.ok()) (void)conn_.Exec("SELECT pg_advisory_unlock($1)", kMigrationLockKey);
  }
  AdvisoryLock(const AdvisoryLock&) = delete;
  AdvisoryLock& operator=(const AdvisoryLock&) = delete;

  std::expected<void, MigrateError> Acquire(int64_t timeout_ms) {
    auto saved = conn_.Exec("SELECT current_setting('lock_timeout')");
    if (!saved) return std::unexpected(DbError("reading lock_timeout", saved.error()));
    std::string previous(saved->Text(0, 0));
    auto set = conn_.Exec("SELECT set_config('lock_timeout', $1, false)",
                          std::to_string(timeout_ms) + "ms");
    if (!set) return std::unexpected(DbError("setting lock_timeout", set.error()));
    auto lock = conn_.Exec("SELECT pg_advisory_lock($1)", kMigrationLockKey);
    auto restore = conn_.Exec("SELECT set_config('lock_timeout', $1, false)", previous);
    if (!lock) {
      // lock_timeout, or the session's statement_timeout if that is shorter.
      if (lock.error().sqlstate == kSqlStateLockNotAvailable ||
          lock.error().sqlstate == kSqlStateQueryCanceled) {
        return std::unexpected(Error(
            MigrateErrorCode::kLockTimeout,
            "another migrator held the migration lock too long (" + lock.error().message + ")",
            lock.error().sqlstate));
      }
      return std::unexpected(DbError("taking the migration lock", lock.error()));
    }
    held_ = true;
    if (!restore) return std::unexpected(DbError("restoring lock_timeout", restore.error()));
    return {};
  }

 private:
  PgConnection& conn_;
  bool held_ = false;
};

std::expected<void, MigrateError> EnsureHistoryTable(PgConnection& conn) {
  auto exists = conn.Exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (!exists) return std::unexpected(DbError("looking for schema_migrations", exists.error()));
  auto found = exists->Bool(0, 0);
  if (!found) return std::unexpected(DbError("looking for schema_migrations", found.error()));
  if (*found) return {};
  auto created = conn.Exec(
      "CREATE TABLE schema_migrations ("
      " version bigint PRIMARY KEY CHECK (version > 0),"
      " name text NOT NULL,"
      " checksum text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),"
      " applied_at timestamptz NOT NULL DEFAULT now())");
  if (!created) return std::unexpected(DbError("creating schema_migrations", created.error()));
  return {};
}

struct AppliedRow {
  std::string name;
  std::string checksum;
};

std::expected<std::map<int64_t, AppliedRow>, MigrateError> ReadHistory(PgConnection& conn) {
  auto res =
      conn.Exec("SELECT version, name, checksum FROM schema_migrations ORDER BY version LIMIT $1",
                static_cast<int64_t>(kMigrationFilesMax) + 1);
  if (!res) return std::unexpected(DbError("reading schema_migrations", res.error()));
  if (static_cast<size_t>(res->rows()) > kMigrationFilesMax) {
    return std::unexpected(Error(MigrateErrorCode::kHistoryMismatch,
                                 "schema_migrations holds more rows than files may exist"));
  }
  std::map<int64_t, AppliedRow> out;
  for (int r = 0; r < res->rows(); ++r) {
    auto version = res->Int64(r, 0);
    if (!version) return std::unexpected(DbError("reading schema_migrations", version.error()));
    out[*version] = AppliedRow{std::string(res->Text(r, 1)), std::string(res->Text(r, 2))};
  }
  return out;
}

// Every applied row has its file, unchanged; every pending file is newer than the newest
// applied one.
std::expected<void, MigrateError> VerifyHistory(const std::vector<MigrationFile>& files,
                                                const std::map<int64_t, AppliedRow>& applied) {
  std::map<int64_t, const MigrationFile*> by_version;
  for (const auto& f : files) by_version[f.version] = &f;
  for (const auto& [version, row] : applied) {
    auto it = by_version.find(version);
    if (it == by_version.end()) {
      return std::unexpected(Error(MigrateErrorCode::kHistoryMismatch,
                                   "migration " + row.name +
                                       " is applied but its file is missing (is this binary "
                                       "older than the database?)"));
    }
    const MigrationFile& f = *it->second;
    if (f.name != row.name) {
      return std::unexpected(
          Error(MigrateErrorCode::kHistoryMismatch, "migration version " + std::to_string(version) +
                                                        " was applied as " + row.name +
                                                        " but the file is " + f.name));
    }
    if (f.checksum != row.checksum) {
      return std::unexpected(Error(
          MigrateErrorCode::kChecksumMismatch,
          "migration " + f.name + " changed after it was applied (applied sha256 " + row.checksum +
              ", file " + f.checksum + "); applied migrations must never change: add a new one"));
    }
  }
  int64_t newest = applied.empty() ? 0 : applied.rbegin()->first;
  for (const auto& f : files) {
    if (!applied.contains(f.version) && f.version < newest) {
      return std::unexpected(Error(MigrateErrorCode::kHistoryMismatch,
                                   "migration " + f.name +
                                       " is pending but older than the applied version " +
                                       std::to_string(newest) + "; give it a higher number"));
    }
  }
  return {};
}

std::expected<void, MigrateError> ApplyOne(PgConnection& conn, const MigrationFile& f) {
  auto tx = PgTransaction::Begin(conn);
  if (!tx) return std::unexpected(DbError("BEGIN for " + f.name, tx.error()));
  if (auto run = conn.ExecScript(f.sql); !run) {
    return std::unexpected(Error(MigrateErrorCode::kMigrationFailed,
                                 f.name + ": " + run.error().message, run.error().sqlstate));
  }
  if (!conn.in_transaction()) {
    return std::unexpected(Error(MigrateErrorCode::kMigrationFailed,
                                 f.name + " ended the migrator's transaction (BEGIN/COMMIT in a "
                                          "migration file?); it is NOT recorded as applied"));
  }
  auto rec =
      conn.Exec("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                f.version, f.name, f.checksum);
  if (!rec) return std::unexpected(DbError("recording " + f.name, rec.error()));
  if (auto done = tx->Commit(); !done) {
    return std::unexpected(Error(MigrateErrorCode::kMigrationFailed,
                                 f.name + ": COMMIT: " + done.error().message,
                                 done.error().sqlstate));
  }
  return {};
}

}  // namespace

std::expected<std::vector<MigrationFile>, MigrateError> LoadMigrations(const std::string& dir) {
  if (sodium_init() < 0) return std::unexpected(Error(MigrateErrorCode::kFiles, "libsodium init"));
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    return std::unexpected(Error(MigrateErrorCode::kFiles,
                                 "cannot list migrations directory " + dir + ": " + ec.message()));
  }
  std::vector<MigrationFile> files;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    const fs::path& path = it->path();
    if (path.extension() != ".sql" || path.filename().string().starts_with(".")) continue;
    if (files.size() >= kMigrationFilesMax) {
      return std::unexpected(
          Error(MigrateErrorCode::kFiles,
                "more than " + std::to_string(kMigrationFilesMax) + " migration files in " + dir));
    }
    MigrationFile f;
    f.name = path.stem().string();
    f.path = path.string();
    auto version = ParseVersion(f.name);
    if (!version) {
      return std::unexpected(
          Error(MigrateErrorCode::kFiles, "migration file " + f.path +
                                              " is not named NNNN_name.sql (4-9 digits, > 0, then "
                                              "[a-z0-9_])"));
    }
    f.version = *version;
    auto sql = ReadMigrationFile(path);
    if (!sql) return std::unexpected(std::move(sql.error()));
    f.sql = std::move(*sql);
    f.checksum = Sha256Hex(f.sql);
    files.push_back(std::move(f));
  }
  if (ec) {
    return std::unexpected(
        Error(MigrateErrorCode::kFiles, "listing " + dir + " failed: " + ec.message()));
  }
  std::sort(files.begin(), files.end(),
            [](const MigrationFile& a, const MigrationFile& b) { return a.version < b.version; });
  for (size_t i = 1; i < files.size(); ++i) {
    if (files[i].version == files[i - 1].version) {
      return std::unexpected(
          Error(MigrateErrorCode::kFiles,
                "migrations " + files[i - 1].name + " and " + files[i].name + " share a version"));
    }
  }
  return files;
}

std::expected<MigrateReport, MigrateError> Migrate(PgConnection& conn, const std::string& dir,
                                                   const MigrateOptions& options) {
  if (options.lock_timeout_ms <= 0) {
    return std::unexpected(Error(MigrateErrorCode::kDatabase, "lock_timeout_ms must be > 0"));
  }
  if (conn.in_transaction()) {
    return std::unexpected(
        Error(MigrateErrorCode::kDatabase, "Migrate needs a connection outside a transaction"));
  }
  auto files = LoadMigrations(dir);
  if (!files) return std::unexpected(std::move(files.error()));

  AdvisoryLock lock(conn);
  if (auto locked = lock.Acquire(options.lock_timeout_ms); !locked) {
    return std::unexpected(std::move(locked.error()));
  }
  // Everything below runs with the lock held, so it sees the history as it is.
  if (auto table = EnsureHistoryTable(conn); !table) return std::unexpected(table.error());
  auto applied = ReadHistory(conn);
  if (!applied) return std::unexpected(std::move(applied.error()));
  if (auto ok = VerifyHistory(*files, *applied); !ok) return std::unexpected(ok.error());

  MigrateReport report;
  report.already_applied = applied->size();
  report.schema_version = applied->empty() ? 0 : applied->rbegin()->first;
  for (const auto& f : *files) {
    if (applied->contains(f.version)) continue;
    if (auto ok = ApplyOne(conn, f); !ok) return std::unexpected(ok.error());
    AppliedMigration done{f.version, f.name};
    report.applied.push_back(done);
    report.schema_version = f.version;
    if (options.on_applied) options.on_applied(done);
  }
  return report;
}

}  // namespace spotex::db
