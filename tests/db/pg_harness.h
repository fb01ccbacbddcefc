// A real, throwaway PostgreSQL 15 server for tests (DESIGN.md §1 principle 5: no mocks): its
// own cluster in a temporary directory, on a free loopback port, stopped and removed by the
// destructor, also when the test failed.
//
// As root the cluster belongs to the `postgres` system user (PostgreSQL refuses to run as
// root): the temporary directory is 0711 so that user can pass through it, the data and socket
// directories are chowned to it, initdb and pg_ctl run under `runuser -u postgres --`, and the
// server under `setpriv` (which execs in place, so the postmaster is our child). The
// postmaster gets SIGINT (fast shutdown) if the thread that started it dies, so a crashed test
// does not leave it running; only its directory is left behind then.
//
// Authentication is the production shape: the `spotex` role logs in over TCP 127.0.0.1 with a
// password (scram-sha-256) read from a file; the cluster superuser (`postgres`) only through
// the Unix socket, for set-up.
//
// Reused by other tests (the gateway's): link the `spotex_pg_harness` library.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <vector>

#include "db/pg.h"

namespace spotex::testing {

class PgServer {
 public:
  static constexpr const char* kRole = "spotex";
  static constexpr const char* kSuperuser = "postgres";

  // initdb, start, wait until it answers, create the `spotex` role with a random password.
  // Binaries from $SPOTEX_PG_BINDIR, default /usr/lib/postgresql/15/bin. Takes a few seconds.
  // On failure returns what went wrong, with the end of the server's log.
  static std::expected<std::unique_ptr<PgServer>, std::string> Start();

  // pg_ctl stop -m fast (SIGKILL if that does not finish within 60 s), then removes the
  // directory (kept if SPOTEX_KEEP_TEST_DIRS is set).
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  const std::string& password_file() const { return password_file_; }  // the spotex role's
  const std::string& log_path() const { return log_path_; }
  pid_t pid() const { return pid_; }

  // Connection parameters for role `spotex` over TCP 127.0.0.1 with its password.
  db::PgConnParams Params(const std::string& dbname) const;
  // A superuser connection through the Unix socket (trust), for set-up only.
  std::expected<db::PgConnection, std::string> ConnectSuperuser(
      const std::string& dbname = "postgres") const;
  // Creates a fresh, empty database owned by `spotex` and returns its name (t1, t2, ...).
  std::expected<std::string, std::string> CreateDatabase();

 private:
  PgServer() = default;
  std::expected<void, std::string> Init();
  std::expected<void, std::string> Launch();
  std::expected<void, std::string> CreateRole();
  void Stop();

  std::string bindir_;
  std::string dir_, data_dir_, socket_dir_, password_file_, log_path_;
  std::string password_;
  int port_ = 0;
  pid_t pid_ = -1;
  int databases_ = 0;
};

// Runs argv (as the postgres system user when `as_postgres` and we are root), in directory /,
// output appended to `log_path`; waits at most timeout_ms (then SIGKILL). Returns the exit
// code, or -1 if it could not run, was killed or timed out.
int RunCommand(const std::vector<std::string>& argv, const std::string& log_path, bool as_postgres,
               int64_t timeout_ms);

}  // namespace spotex::testing
