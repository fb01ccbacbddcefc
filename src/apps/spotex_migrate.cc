// spotex-migrate: brings a PostgreSQL database up to date with db/migrations (forward-only,
// checksummed, one transaction per file, an advisory lock against concurrent runs). See
// docs/database.md.
//
// Exit codes: 0 up to date (whether or not something was applied), 1 could not connect or a
// migration failed, 2 bad command line, password file or migrations directory, 3 the
// database's history disagrees with the files (an applied file changed, vanished or was
// renamed, or a new file is numbered below an applied one): a person must look.
#include <cstdio>
#include <string>

#include "apps/flags.h"
#include "db/migrate.h"
#include "db/pg.h"

#ifndef SPOTEX_DEFAULT_MIGRATIONS_DIR
#define SPOTEX_DEFAULT_MIGRATIONS_DIR "db/migrations"
#endif

namespace {

using namespace spotex;

constexpr const char* kUsage =
    "usage: spotex-migrate [--host HOST] [--port PORT] [--user USER] [--dbname DB]\n"
    "                      [--password-file FILE] [--migrations DIR]\n"
    "                      [--lock-timeout-ms MS] [--statement-timeout-ms MS]\n"
    "defaults: --host 127.0.0.1 --port 5432 --user spotex --dbname spotex\n"
    "          --migrations " SPOTEX_DEFAULT_MIGRATIONS_DIR
    "\n"
    "          --lock-timeout-ms 60000 (wait for another migrator)\n"
    "          --statement-timeout-ms 600000 (per statement; 0 = none)\n"
    "exit codes: 0 up to date, 1 connection or migration failed, 2 usage,\n"
    "            3 applied migrations and files disagree\n";

int ExitCode(db::MigrateErrorCode code) {
  switch (code) {
    case db::MigrateErrorCode::kChecksumMismatch:
    case db::MigrateErrorCode::kHistoryMismatch:
      return 3;
    case db::MigrateErrorCode::kFiles:
      return 2;
    default:
      return 1;
  }
}

int Usage(const std::string& error) {
  std::fprintf(stderr, "spotex-migrate: %s\n%s", error.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
      std::printf("%s", kUsage);
      return 0;
    }
  }
  apps::Flags flags;
  if (auto err = apps::Flags::Parse(argc, argv,
                                    {"host", "port", "user", "dbname", "password-file",
                                     "migrations", "lock-timeout-ms", "statement-timeout-ms"},
                                    flags)) {
    return Usage(*err);
  }
  if (!flags.positional().empty()) return Usage("unexpected argument " + flags.positional()[0]);
  auto port = flags.GetInt("port", 5432);
  auto lock_timeout = flags.GetInt("lock-timeout-ms", 60000);
  auto statement_timeout = flags.GetInt("statement-timeout-ms", 600000);
  if (!port || *port < 1 || *port > 65535) return Usage("--port must be in 1..65535");
  if (!lock_timeout || *lock_timeout < 1) return Usage("--lock-timeout-ms must be > 0");
  if (!statement_timeout || *statement_timeout < 0) {
    return Usage("--statement-timeout-ms must be >= 0");
  }

  db::PgConnParams params;
  params.host = flags.Get("host", "127.0.0.1");
  params.port = static_cast<int>(*port);
  params.user = flags.Get("user", "spotex");
  params.dbname = flags.Get("dbname", "spotex");
  params.application_name = "spotex-migrate";
  params.statement_timeout_ms = *statement_timeout;
  if (auto file = flags.Get("password-file"); !file.empty()) {
    auto password = db::ReadPasswordFile(file);
    if (!password) return Usage(password.error().message);
    params.password = std::move(*password);
  }
  const std::string dir = flags.Get("migrations", SPOTEX_DEFAULT_MIGRATIONS_DIR);

  auto conn = db::PgConnection::Connect(params);
  params.password.clear();
  if (!conn) {
    std::fprintf(stderr, "spotex-migrate: error: %s\n", conn.error().message.c_str());
    return 1;
  }
  std::printf("spotex-migrate: %s, migrations in %s\n", conn->where().c_str(), dir.c_str());
  db::MigrateOptions options;
  options.lock_timeout_ms = *lock_timeout;
  options.on_applied = [](const db::AppliedMigration& m) {
    std::printf("applied %s\n", m.name.c_str());
    std::fflush(stdout);
  };
  auto report = db::Migrate(*conn, dir, options);
  if (!report) {
    const auto& e = report.error();
    std::string state = e.sqlstate.empty() ? "" : " (SQLSTATE " + e.sqlstate + ")";
    std::fprintf(stderr, "spotex-migrate: error: %s%s\n", e.message.c_str(), state.c_str());
    return ExitCode(e.code);
  }
  std::printf("spotex-migrate: %zu applied, %zu already applied; schema version %lld\n",
              report->applied.size(), report->already_applied,
              static_cast<long long>(report->schema_version));
  return 0;
}
