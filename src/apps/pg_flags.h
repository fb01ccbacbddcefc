// --pg-host, --pg-user, --pg-dbname and --pg-password-file, which every Spotex program that
// reads or writes PostgreSQL takes the same way (the port is checked by each program with its
// other numeric flags).
#pragma once

#include <expected>
#include <string>

#include "apps/flags.h"
#include "db/pg.h"

namespace spotex::apps {

// The connection the flags describe; the error text to print (the program then exits 2) when
// the password file cannot be read. The caller sets what differs: statement timeout, pool.
inline std::expected<db::PgConnParams, std::string> PgFromFlags(const Flags& flags, int port,
                                                                std::string application_name) {
  db::PgConnParams pg;
  pg.host = flags.Get("pg-host", "127.0.0.1");
  pg.port = port;
  pg.user = flags.Get("pg-user", "spotex");
  pg.dbname = flags.Get("pg-dbname", "spotex");
  pg.application_name = std::move(application_name);
  if (const std::string file = flags.Get("pg-password-file"); !file.empty()) {
    auto password = db::ReadPasswordFile(file);
    if (!password) {
      return std::unexpected(password.error().message);
    }
    pg.password = std::move(*password);
  }
  return pg;
}

}  // namespace spotex::apps
