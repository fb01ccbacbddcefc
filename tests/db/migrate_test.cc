// Migrations against a real server: from empty, idempotence, every way the history and the
// files can disagree, a failing file, and two migrators at once.
#include "db/migrate.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "db_fixture.h"

namespace spotex::testing {
namespace {

namespace fs = std::filesystem;
using db::MigrateErrorCode;

// A scratch migrations directory, removed at the end.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (fs::temp_directory_path() / "spotex-mig-XXXXXX").string();
    EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  void Write(const std::string& name, const std::string& sql) const {
    std::ofstream(path_ + "/" + name, std::ios::binary | std::ios::trunc) << sql;
  }
  void Remove(const std::string& name) const { fs::remove(path_ + "/" + name); }
  // The repository's migrations, copied.
  void CopyRepoMigrations() const {
    for (const auto& e : fs::directory_iterator(SPOTEX_MIGRATIONS_DIR)) {
      fs::copy_file(e.path(), fs::path(path_) / e.path().filename());
    }
  }

 private:
  std::string path_;
};

int64_t QueryInt(db::PgConnection& conn, const char* sql) {
  auto res = conn.Exec(sql);
  EXPECT_TRUE(res) << res.error().message;
  if (!res || res->rows() != 1) return -1;
  return res->Int64(0, 0).value_or(-1);
}

class MigrateTest : public DbTest {};

TEST_F(MigrateTest, FromEmptyCreatesTablesIndexesAndHistory) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  std::vector<std::string> progress;
  db::MigrateOptions options;
  options.on_applied = [&](const db::AppliedMigration& m) { progress.push_back(m.name); };
  auto report = db::Migrate(*conn, SPOTEX_MIGRATIONS_DIR, options);
  ASSERT_TRUE(report) << report.error().message;
  auto files = db::LoadMigrations(SPOTEX_MIGRATIONS_DIR);
  ASSERT_TRUE(files);
  ASSERT_FALSE(files->empty());
  EXPECT_EQ(report->applied.size(), files->size());
  EXPECT_EQ(report->already_applied, 0u);
  EXPECT_EQ(report->schema_version, files->back().version);
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.front(), "0001_users_and_keys");

  for (const char* table : {"users", "api_keys", "schema_migrations"}) {
    auto res = conn->Exec("SELECT to_regclass($1) IS NOT NULL", table);
    ASSERT_TRUE(res);
    EXPECT_TRUE(res->Bool(0, 0).value()) << table;
  }
  for (const char* index :
       {"users_email_lower_key", "api_keys_api_key_key", "api_keys_user_live_idx"}) {
    auto res = conn->Exec("SELECT count(*) FROM pg_indexes WHERE indexname = $1", index);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->Int64(0, 0).value(), 1) << index;
  }
  // The recorded checksum is the file's SHA-256 (as LoadMigrations computes it).
  auto row = conn->Exec("SELECT name, checksum FROM schema_migrations WHERE version = 1");
  ASSERT_TRUE(row);
  ASSERT_EQ(row->rows(), 1);
  EXPECT_EQ(row->Text(0, 0), "0001_users_and_keys");
  EXPECT_EQ(row->Text(0, 1), files->front().checksum);
  EXPECT_EQ(files->front().checksum.size(), 64u);
  // The lock is released when Migrate returns.
  EXPECT_EQ(QueryInt(*conn, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"), 0);
}

TEST_F(MigrateTest, SecondRunAppliesNothing) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  auto first = db::Migrate(*conn, SPOTEX_MIGRATIONS_DIR);
  ASSERT_TRUE(first) << first.error().message;
  auto applied_at = conn->Exec("SELECT applied_at::text FROM schema_migrations WHERE version = 1");
  ASSERT_TRUE(applied_at);
  std::string before(applied_at->Text(0, 0));
  auto second = db::Migrate(*conn, SPOTEX_MIGRATIONS_DIR);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(second->applied.empty());
  EXPECT_EQ(second->already_applied, first->applied.size());
  EXPECT_EQ(second->schema_version, first->schema_version);
  auto again = conn->Exec("SELECT applied_at::text FROM schema_migrations WHERE version = 1");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->Text(0, 0), before);
}

TEST_F(MigrateTest, ChangedAppliedFileStopsBeforeApplyingAnything) {
  ScratchDir dir;
  dir.CopyRepoMigrations();
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(db::Migrate(*conn, dir.path()));
  // Edit an applied file (even a comment counts) and add a new one.
  std::ofstream(dir.path() + "/0001_users_and_keys.sql", std::ios::app) << "-- edited\n";
  dir.Write("9000_new_table.sql", "CREATE TABLE new_table (x int);\n");
  auto report = db::Migrate(*conn, dir.path());
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, MigrateErrorCode::kChecksumMismatch);
  EXPECT_NE(report.error().message.find("0001_users_and_keys"), std::string::npos);
  auto res = conn->Exec("SELECT to_regclass('new_table') IS NULL");
  ASSERT_TRUE(res);
  EXPECT_TRUE(res->Bool(0, 0).value()) << "a pending file ran despite the mismatch";
}

TEST_F(MigrateTest, MissingOrRenamedAppliedFileIsAnError) {
  ScratchDir dir;
  dir.Write("0001_a.sql", "CREATE TABLE a (x int);\n");
  dir.Write("0002_b.sql", "CREATE TABLE b (x int);\n");
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(db::Migrate(*conn, dir.path()));
  dir.Remove("0002_b.sql");
  auto missing = db::Migrate(*conn, dir.path());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, MigrateErrorCode::kHistoryMismatch);
  dir.Write("0002_renamed.sql", "CREATE TABLE b (x int);\n");
  auto renamed = db::Migrate(*conn, dir.path());
  ASSERT_FALSE(renamed);
  EXPECT_EQ(renamed.error().code, MigrateErrorCode::kHistoryMismatch);
}

TEST_F(MigrateTest, PendingFileOlderThanAppliedIsRefused) {
  ScratchDir dir;
  dir.Write("0001_a.sql", "CREATE TABLE a (x int);\n");
  dir.Write("0003_c.sql", "CREATE TABLE c (x int);\n");
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(db::Migrate(*conn, dir.path()));
  dir.Write("0002_b.sql", "CREATE TABLE b (x int);\n");
  auto report = db::Migrate(*conn, dir.path());
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, MigrateErrorCode::kHistoryMismatch);
  EXPECT_EQ(QueryInt(*conn, "SELECT count(*) FROM schema_migrations"), 2);
}

TEST_F(MigrateTest, FailingFileIsRolledBackAndEarlierOnesStay) {
  ScratchDir dir;
  dir.Write("0001_a.sql", "CREATE TABLE a (x int);\n");
  dir.Write("0002_b.sql",
            "CREATE TABLE b (x int);\nINSERT INTO b VALUES (1);\nSELECT nope FROM b;\n");
  dir.Write("0003_c.sql", "CREATE TABLE c (x int);\n");
  auto conn = Connect();
  ASSERT_TRUE(conn);
  std::vector<int64_t> progress;
  db::MigrateOptions options;
  options.on_applied = [&](const db::AppliedMigration& m) { progress.push_back(m.version); };
  auto report = db::Migrate(*conn, dir.path(), options);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, MigrateErrorCode::kMigrationFailed);
  EXPECT_EQ(report.error().sqlstate, "42703");  // undefined_column
  EXPECT_NE(report.error().message.find("0002_b"), std::string::npos);
  EXPECT_EQ(progress, std::vector<int64_t>{1});
  EXPECT_FALSE(conn->in_transaction());
  auto tables = conn->Exec(
      "SELECT to_regclass('a') IS NOT NULL, to_regclass('b') IS NULL, to_regclass('c') IS NULL");
  ASSERT_TRUE(tables);
  EXPECT_TRUE(tables->Bool(0, 0).value());
  EXPECT_TRUE(tables->Bool(0, 1).value());
  EXPECT_TRUE(tables->Bool(0, 2).value());
  EXPECT_EQ(QueryInt(*conn, "SELECT count(*) FROM schema_migrations"), 1);
  // The failed file was never applied, so fixing it is allowed.
  dir.Write("0002_b.sql", "CREATE TABLE b (x int);\n");
  auto fixed = db::Migrate(*conn, dir.path());
  ASSERT_TRUE(fixed) << fixed.error().message;
  EXPECT_EQ(fixed->applied.size(), 2u);
  EXPECT_EQ(fixed->schema_version, 3);
}

TEST_F(MigrateTest, FileThatEndsTheTransactionIsReported) {
  ScratchDir dir;
  dir.Write("0001_a.sql", "CREATE TABLE a (x int);\nCOMMIT;\n");
  auto conn = Connect();
  ASSERT_TRUE(conn);
  auto report = db::Migrate(*conn, dir.path());
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, MigrateErrorCode::kMigrationFailed);
  EXPECT_EQ(QueryInt(*conn, "SELECT count(*) FROM schema_migrations"), 0);
}

TEST_F(MigrateTest, BadFileNamesAndDuplicateVersionsAreRejected) {
  for (const char* bad : {"1_short.sql", "0001-dash.sql", "0001_Upper.sql", "0000_zero.sql",
                          "0001_.sql", "abcd_x.sql"}) {
    ScratchDir dir;
    dir.Write(bad, "SELECT 1;\n");
    auto files = db::LoadMigrations(dir.path());
    ASSERT_FALSE(files) << bad;
    EXPECT_EQ(files.error().code, MigrateErrorCode::kFiles) << bad;
  }
  ScratchDir dup;
  dup.Write("0001_a.sql", "SELECT 1;\n");
  dup.Write("01_b.sql.orig", "not a migration");
  dup.Write("README", "ignored");
  auto ok = db::LoadMigrations(dup.path());
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->size(), 1u);
  dup.Write("00001_b.sql", "SELECT 1;\n");
  auto twice = db::LoadMigrations(dup.path());
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, MigrateErrorCode::kFiles);
  auto none = db::LoadMigrations(dup.path() + "/missing");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, MigrateErrorCode::kFiles);
}

// Polls `sql` (one integer) until it equals `want`, at most 30 s.
bool WaitForValue(db::PgConnection& conn, const char* sql, int64_t want) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (QueryInt(conn, sql) == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Two migrators start while a third session holds the lock, so both are certainly running at
// once; when it is released, exactly one applies everything and the other finds it done.
TEST_F(MigrateTest, ConcurrentMigratorsApplyEachFileOnce) {
  ScratchDir dir;
  dir.CopyRepoMigrations();
  dir.Write("9001_counter.sql",
            "CREATE TABLE applied_counter (n int);\nINSERT INTO applied_counter VALUES (1);\n");
  auto holder = Connect();
  ASSERT_TRUE(holder);
  auto locked = holder->Exec("SELECT pg_advisory_lock($1)", db::kMigrationLockKey);
  ASSERT_TRUE(locked) << locked.error().message;

  std::array<std::optional<std::expected<db::MigrateReport, db::MigrateError>>, 2> results;
  std::array<std::thread, 2> threads;
  const auto params = Params();
  for (size_t i = 0; i < threads.size(); ++i) {
    threads[i] = std::thread([&, i] {
      auto conn = db::PgConnection::Connect(params);
      if (!conn) {
        results[i] = std::unexpected(
            db::MigrateError{MigrateErrorCode::kDatabase, conn.error().message, ""});
        return;
      }
      results[i] = db::Migrate(*conn, dir.path());
    });
  }
  bool both_waiting = WaitForValue(
      *holder, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted", 2);
  ASSERT_TRUE(holder->Exec("SELECT pg_advisory_unlock($1)", db::kMigrationLockKey));
  for (auto& t : threads) t.join();
  EXPECT_TRUE(both_waiting) << "the migrators did not wait for the advisory lock";

  auto files = db::LoadMigrations(dir.path());
  ASSERT_TRUE(files);
  size_t applied_total = 0;
  for (auto& r : results) {
    ASSERT_TRUE(r.has_value());
    ASSERT_TRUE(r->has_value()) << (*r).error().message;
    applied_total += (**r).applied.size();
    EXPECT_TRUE((**r).applied.empty() || (**r).applied.size() == files->size());
  }
  EXPECT_EQ(applied_total, files->size());
  EXPECT_EQ(QueryInt(*holder, "SELECT count(*) FROM schema_migrations"),
            static_cast<int64_t>(files->size()));
  EXPECT_EQ(QueryInt(*holder, "SELECT count(*) FROM applied_counter"), 1);
}

TEST_F(MigrateTest, LockHeldTooLongIsATimeout) {
  auto holder = Connect();
  ASSERT_TRUE(holder);
  ASSERT_TRUE(holder->Exec("SELECT pg_advisory_lock($1)", db::kMigrationLockKey));
  auto conn = Connect();
  ASSERT_TRUE(conn);
  db::MigrateOptions options;
  options.lock_timeout_ms = 200;
  auto report = db::Migrate(*conn, SPOTEX_MIGRATIONS_DIR, options);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, MigrateErrorCode::kLockTimeout);
  // The session's own lock_timeout is restored afterwards.
  auto setting = conn->Exec("SELECT current_setting('lock_timeout')");
  ASSERT_TRUE(setting);
  EXPECT_EQ(setting->Text(0, 0), "0");
  EXPECT_EQ(QueryInt(*conn, "SELECT count(*) FROM pg_tables WHERE tablename = 'users'"), 0);
  // A session statement_timeout shorter than the lock timeout ends the wait the same way.
  auto params = Params();
  params.statement_timeout_ms = 200;
  auto short_conn = db::PgConnection::Connect(params);
  ASSERT_TRUE(short_conn) << short_conn.error().message;
  auto cut = db::Migrate(*short_conn, SPOTEX_MIGRATIONS_DIR);
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, MigrateErrorCode::kLockTimeout) << cut.error().message;
}

}  // namespace
}  // namespace spotex::testing
