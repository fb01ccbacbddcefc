#include "admin/archive.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

namespace spotex::admin {

namespace {

namespace fs = std::filesystem;

std::string PgMsg(const db::PgError& e) { return "database: " + e.message; }

// A history table name as history_partitioned_tables holds it: safe to put in double quotes.
bool SafeTableName(std::string_view s) {
  if (s.empty() || s.size() > 40) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
  }
  return true;
}

std::string Quoted(const std::string& ident) { return "\"" + ident + "\""; }

std::string Hex(const unsigned char* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += d[p[i] >> 4];
    out += d[p[i] & 15];
  }
  return out;
}

// Runs a statement built from validated identifiers (no outside value in it).
db::PgExpected<db::PgResult> Run(db::PgConnection& pg, const std::string& sql) {
  return pg.ExecParams(sql.c_str(), {});
}

std::string JsonStr(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out + "\"";
}

// fsync a file or directory so the archive is on disk before the rows are dropped.
bool SyncPath(const std::string& path, bool dir) {
  int fd = ::open(path.c_str(), dir ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

struct Exported {
  int64_t rows = 0;
  std::string sha256;
};

// COPY <partition> TO STDOUT as CSV with a header into a gzip file at `path`.
std::expected<Exported, std::string> ExportPartition(db::PgConnection& pg,
                                                     const std::string& partition,
                                                     const std::string& path) {
  gzFile gz = gzopen(path.c_str(), "wb6");
  if (gz == nullptr) return std::unexpected("cannot write " + path);
  crypto_hash_sha256_state sha;
  crypto_hash_sha256_init(&sha);
  PGconn* conn = pg.raw();
  std::string sql = "COPY " + Quoted(partition) + " TO STDOUT (FORMAT csv, HEADER true)";
  PGresult* res = PQexec(conn, sql.c_str());
  if (PQresultStatus(res) != PGRES_COPY_OUT) {
    std::string err = PQerrorMessage(conn);
    PQclear(res);
    gzclose(gz);
    return std::unexpected("COPY " + partition + ": " + err);
  }
  PQclear(res);
  int64_t lines = 0;
  bool write_ok = true;
  for (;;) {
    char* buf = nullptr;
    int n = PQgetCopyData(conn, &buf, 0);
    if (n > 0) {
      crypto_hash_sha256_update(&sha, reinterpret_cast<const unsigned char*>(buf),
                                static_cast<unsigned long long>(n));
      if (write_ok && gzwrite(gz, buf, static_cast<unsigned>(n)) != n) write_ok = false;
      ++lines;
      PQfreemem(buf);
      continue;
    }
    break;  // -1 done, -2 error: PQgetResult tells
  }
  bool copy_ok = true;
  std::string err;
  while (PGresult* r = PQgetResult(conn)) {
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      copy_ok = false;
      err = PQresultErrorMessage(r);
    }
    PQclear(r);
  }
  if (gzclose(gz) != Z_OK) write_ok = false;
  if (!copy_ok) return std::unexpected("COPY " + partition + ": " + err);
  if (!write_ok || !SyncPath(path, false)) return std::unexpected("cannot write " + path);
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&sha, digest);
  return Exported{lines - 1, Hex(digest, sizeof digest)};
}

// COPY <table> FROM STDIN from a .csv.gz whose header must match the table's columns.
std::expected<void, std::string> ImportFile(db::PgConnection& pg, const std::string& table,
                                            const std::string& path) {
  gzFile gz = gzopen(path.c_str(), "rb");
  if (gz == nullptr) return std::unexpected("cannot read " + path);
  PGconn* conn = pg.raw();
  std::string sql = "COPY " + Quoted(table) + " FROM STDIN (FORMAT csv, HEADER MATCH)";
  PGresult* res = PQexec(conn, sql.c_str());
  if (PQresultStatus(res) != PGRES_COPY_IN) {
    std::string err = PQerrorMessage(conn);
    PQclear(res);
    gzclose(gz);
    return std::unexpected("COPY " + table + ": " + err);
  }
  PQclear(res);
  std::vector<char> buf(1 << 16);
  bool read_ok = true;
  for (;;) {
    int n = gzread(gz, buf.data(), static_cast<unsigned>(buf.size()));
    if (n < 0) {
      read_ok = false;
      break;
    }
    if (n == 0) break;
    if (PQputCopyData(conn, buf.data(), n) != 1) break;
  }
  gzclose(gz);
  PQputCopyEnd(conn, read_ok ? nullptr : "archive file unreadable");
  bool ok = true;
  std::string err;
  while (PGresult* r = PQgetResult(conn)) {
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      ok = false;
      err = PQresultErrorMessage(r);
    }
    PQclear(r);
  }
  if (!read_ok) return std::unexpected("cannot read " + path);
  if (!ok) return std::unexpected("COPY " + table + " FROM " + path + ": " + err);
  return {};
}

struct Partition {
  std::string table, name;
};

// The month's partitions that exist, by month.
std::expected<std::map<Month, std::vector<Partition>>, std::string> ListPartitions(
    db::PgConnection& pg) {
  auto r = pg.Exec(
      "SELECT p.relname, c.relname FROM pg_inherits i "
      "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
      "JOIN history_partitioned_tables h ON h.name = p.relname "
      "WHERE c.relnamespace = p.relnamespace "
      "AND p.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) "
      "ORDER BY 1, 2");
  if (!r) return std::unexpected(PgMsg(r.error()));
  std::map<Month, std::vector<Partition>> out;
  for (int i = 0; i < r->rows(); ++i) {
    std::string table(r->Text(i, 0)), name(r->Text(i, 1));
    // <table>_yYYYYmMM, as history_ensure_month() names them; anything else is left alone.
    if (!SafeTableName(table) || name.size() != table.size() + 9 || !name.starts_with(table)) {
      continue;
    }
    std::string_view suffix = std::string_view(name).substr(table.size());
    if (!suffix.starts_with("_y") || suffix[6] != 'm') continue;
    auto m = ParseMonth(std::string(suffix.substr(2, 4)) + "-" + std::string(suffix.substr(7, 2)));
    if (!m || PartitionSuffix(*m) != suffix) continue;
    out[*m].push_back(Partition{table, name});
  }
  return out;
}

// When the recorder's position is: the time of the last event it recorded for `shard`.
std::expected<int64_t, std::string> RecorderTimeMs(db::PgConnection& pg, uint32_t shard) {
  auto pos = pg.Exec("SELECT command_seq FROM recorder_positions WHERE shard = $1",
                     static_cast<int64_t>(shard));
  if (!pos) return std::unexpected(PgMsg(pos.error()));
  if (pos->rows() != 1) {
    return std::unexpected("the recorder has no position for shard " + std::to_string(shard) +
                           ": no month can be known to be closed");
  }
  auto seq = pos->Int64(0, 0);
  if (!seq) return std::unexpected(PgMsg(seq.error()));
  auto t = pg.Exec(
      "SELECT greatest("
      "(SELECT time_ms FROM ledger WHERE seq <= $1 ORDER BY seq DESC LIMIT 1),"
      "(SELECT time_ms FROM order_events WHERE seq <= $1 ORDER BY seq DESC LIMIT 1))",
      *seq);
  if (!t) return std::unexpected(PgMsg(t.error()));
  if (t->IsNull(0, 0)) return std::unexpected("the recorder has recorded no event yet");
  auto ms = t->Int64(0, 0);
  if (!ms) return std::unexpected(PgMsg(ms.error()));
  return *ms;
}

}  // namespace

std::optional<Month> ParseMonth(std::string_view s) {
  if (s.size() != 7 || s[4] != '-') return std::nullopt;
  int v[6];
  for (int i : {0, 1, 2, 3, 5, 6}) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  for (int i = 0; i < 4; ++i) v[i] = s[i] - '0';
  v[4] = s[5] - '0';
  v[5] = s[6] - '0';
  Month m{v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3], v[4] * 10 + v[5]};
  if (m.year < 1970 || m.month < 1 || m.month > 12) return std::nullopt;
  return m;
}

std::string ToString(Month m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", m.year, m.month);
  return buf;
}

std::string PartitionSuffix(Month m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "_y%04dm%02d", m.year, m.month);
  return buf;
}

Month NextMonth(Month m) {
  return m.month == 12 ? Month{m.year + 1, 1} : Month{m.year, m.month + 1};
}

int64_t MonthStartMs(Month m) {
  using namespace std::chrono;
  sys_days d = year{m.year} / month{static_cast<unsigned>(m.month)} / day{1};
  return duration_cast<milliseconds>(d.time_since_epoch()).count();
}

Month MonthOfMs(int64_t ms) {
  using namespace std::chrono;
  auto d = floor<days>(sys_time<milliseconds>(milliseconds(ms)));
  year_month_day ymd(d);
  return Month{static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month()))};
}

std::expected<CsvGzStats, std::string> ReadCsvGz(const std::string& path) {
  gzFile gz = gzopen(path.c_str(), "rb");
  if (gz == nullptr) return std::unexpected("cannot read " + path);
  crypto_hash_sha256_state sha;
  crypto_hash_sha256_init(&sha);
  std::vector<char> buf(1 << 16);
  int64_t records = 0;
  bool in_quotes = false, pending = false;  // pending: a record has started
  for (;;) {
    int n = gzread(gz, buf.data(), static_cast<unsigned>(buf.size()));
    if (n < 0) {
      gzclose(gz);
      return std::unexpected("corrupt gzip data in " + path);
    }
    if (n == 0) break;
    crypto_hash_sha256_update(&sha, reinterpret_cast<const unsigned char*>(buf.data()),
                              static_cast<unsigned long long>(n));
    // CSV records end at a newline outside quotes ("" inside quotes toggles twice).
    for (int i = 0; i < n; ++i) {
      char c = buf[static_cast<size_t>(i)];
      pending = true;
      if (c == '"') {
        in_quotes = !in_quotes;
      } else if (c == '\n' && !in_quotes) {
        ++records;
        pending = false;
      }
    }
  }
  int rc = gzclose(gz);
  if (rc != Z_OK) return std::unexpected("corrupt gzip data in " + path);
  if (pending || in_quotes) return std::unexpected("truncated CSV in " + path);
  if (records < 1) return std::unexpected("no header line in " + path);
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&sha, digest);
  return CsvGzStats{records - 1, Hex(digest, sizeof digest)};
}

std::expected<std::vector<ArchivedMonth>, std::string> ArchiveBefore(db::PgConnection& pg,
                                                                     Month before,
                                                                     const ArchiveOptions& o) {
  if (sodium_init() < 0) return std::unexpected("libsodium failed to initialise");
  int64_t now_ms = o.now_ms != 0 ? o.now_ms
                                 : std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count();
  Month current = MonthOfMs(now_ms);
  if (before > current) {
    return std::unexpected("refusing: --before " + ToString(before) +
                           " would include the current month " + ToString(current) +
                           ", which is still being written");
  }
  if (o.dir.empty()) return std::unexpected("no archive directory");
  auto parts = ListPartitions(pg);
  if (!parts) return std::unexpected(parts.error());
  std::vector<Month> months;
  for (const auto& [m, list] : *parts) {
    if (m < before) months.push_back(m);
  }
  std::vector<ArchivedMonth> done;
  if (months.empty()) return done;
  auto pos_ms = RecorderTimeMs(pg, o.shard);
  if (!pos_ms) return std::unexpected("refusing: " + pos_ms.error());
  for (Month m : months) {
    if (MonthStartMs(NextMonth(m)) > *pos_ms) {
      return std::unexpected("refusing: month " + ToString(m) +
                             " is not closed: the recorder's last event is at " +
                             std::to_string(*pos_ms) + " ms, before the month's end");
    }
  }
  // The directory: every month's subdirectory must be creatable before anything is exported.
  std::error_code ec;
  fs::path root = fs::absolute(o.dir, ec);
  if (ec) return std::unexpected("bad archive directory " + o.dir);
  for (Month m : months) {
    fs::create_directories(root / ToString(m), ec);
    if (ec) {
      return std::unexpected("cannot create " + (root / ToString(m)).string() + ": " +
                             ec.message());
    }
    std::string probe = (root / ToString(m) / ".probe").string();
    FILE* f = std::fopen(probe.c_str(), "w");
    if (f == nullptr) return std::unexpected("cannot write in " + (root / ToString(m)).string());
    std::fclose(f);
    fs::remove(probe, ec);
  }

  for (Month m : months) {
    const auto& list = parts->at(m);
    fs::path mdir = root / ToString(m);
    auto begin = pg.Exec("BEGIN");
    if (!begin) return std::unexpected(PgMsg(begin.error()));
    struct Rollback {
      db::PgConnection& pg;
      ~Rollback() {
        if (pg.in_transaction()) (void)pg.Exec("ROLLBACK");
      }
    } rollback{pg};
    // A big month may take long: no statement or idle timeout inside this transaction.
    for (const char* s :
         {"SET LOCAL statement_timeout = 0", "SET LOCAL idle_in_transaction_session_timeout = 0"}) {
      if (auto r = pg.Exec(s); !r) return std::unexpected(PgMsg(r.error()));
    }
    std::string lock = "LOCK TABLE ";
    for (size_t i = 0; i < list.size(); ++i) lock += (i ? ", " : "") + Quoted(list[i].name);
    lock += " IN SHARE MODE";
    if (auto r = Run(pg, lock); !r) return std::unexpected(PgMsg(r.error()));

    ArchivedMonth am;
    am.month = m;
    std::string manifest =
        "{\"format\":\"spotex-history-archive/1\",\"month\":" + JsonStr(ToString(m)) +
        ",\"fromTimeMs\":" + std::to_string(MonthStartMs(m)) +
        ",\"toTimeMs\":" + std::to_string(MonthStartMs(NextMonth(m))) +
        ",\"csv\":{\"header\":true,\"delimiter\":\",\",\"quote\":\"\\\"\","
        "\"null\":\"\",\"compression\":\"gzip\"},\"tables\":[";
    for (size_t i = 0; i < list.size(); ++i) {
      const auto& p = list[i];
      auto stats = Run(pg, "SELECT count(*), min(time_ms), max(time_ms) FROM " + Quoted(p.name));
      if (!stats) return std::unexpected(PgMsg(stats.error()));
      auto count = stats->Int64(0, 0);
      if (!count) return std::unexpected(PgMsg(count.error()));
      ArchivedTable t;
      t.table = p.table;
      t.partition = p.name;
      t.path = (mdir / (p.table + ".csv.gz")).string();
      if (!stats->IsNull(0, 1)) {
        t.min_time_ms = stats->Int64(0, 1).value_or(0);
        t.max_time_ms = stats->Int64(0, 2).value_or(0);
      }
      auto cols = pg.Exec(
          "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
          "WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
          p.name);
      if (!cols) return std::unexpected(PgMsg(cols.error()));
      std::string tmp = t.path + ".tmp";
      auto ex = ExportPartition(pg, p.name, tmp);
      if (!ex) return std::unexpected(ex.error());
      if (ex->rows != *count) {
        return std::unexpected("export of " + p.name + " has " + std::to_string(ex->rows) +
                               " rows, the table " + std::to_string(*count));
      }
      // Verify what is on disk, not what we meant to write.
      auto back = ReadCsvGz(tmp);
      if (!back) return std::unexpected("verifying " + tmp + ": " + back.error());
      if (back->rows != ex->rows || back->sha256 != ex->sha256) {
        return std::unexpected("verifying " + tmp + ": read back " + std::to_string(back->rows) +
                               " rows sha256 " + back->sha256 + ", wrote " +
                               std::to_string(ex->rows) + " rows sha256 " + ex->sha256);
      }
      fs::rename(tmp, t.path, ec);
      if (ec) return std::unexpected("cannot rename " + tmp + ": " + ec.message());
      t.rows = ex->rows;
      t.sha256 = ex->sha256;
      if (i) manifest += ',';
      manifest += "{\"table\":" + JsonStr(t.table) + ",\"partition\":" + JsonStr(t.partition) +
                  ",\"file\":" + JsonStr(t.table + ".csv.gz") + ",\"columns\":[";
      for (int c = 0; c < cols->rows(); ++c) {
        if (c) manifest += ',';
        manifest += "{\"name\":" + JsonStr(cols->Text(c, 0)) +
                    ",\"type\":" + JsonStr(cols->Text(c, 1)) + "}";
      }
      manifest += "],\"rows\":" + std::to_string(t.rows) + ",\"sha256\":" + JsonStr(t.sha256) +
                  ",\"minTimeMs\":" +
                  (t.min_time_ms ? std::to_string(*t.min_time_ms) : std::string("null")) +
                  ",\"maxTimeMs\":" +
                  (t.max_time_ms ? std::to_string(*t.max_time_ms) : std::string("null")) + "}";
      am.tables.push_back(std::move(t));
    }
    manifest += "]}\n";
    am.manifest_path = (mdir / "manifest.json").string();
    {
      std::string tmp = am.manifest_path + ".tmp";
      FILE* f = std::fopen(tmp.c_str(), "w");
      if (f == nullptr) return std::unexpected("cannot write " + tmp);
      bool ok = std::fwrite(manifest.data(), 1, manifest.size(), f) == manifest.size();
      ok = std::fclose(f) == 0 && ok && SyncPath(tmp, false);
      if (!ok) return std::unexpected("cannot write " + tmp);
      fs::rename(tmp, am.manifest_path, ec);
      if (ec || !SyncPath(mdir.string(), true)) {
        return std::unexpected("cannot write " + am.manifest_path);
      }
    }

    // The files are verified and on disk: move the month out of the live tables.
    std::string date = ToString(m) + "-01";
    for (const auto& t : am.tables) {
      if (t.table == "ledger") {
        auto r = Run(pg,
                     "INSERT INTO ledger_carried (account_id, asset_id, bucket, amount) "
                     "SELECT account_id, asset_id, bucket, sum(amount) FROM " +
                         Quoted(t.partition) +
                         " GROUP BY 1, 2, 3 ON CONFLICT (account_id, asset_id, bucket) "
                         "DO UPDATE SET amount = ledger_carried.amount + EXCLUDED.amount");
        if (!r) return std::unexpected(PgMsg(r.error()));
        if (auto z = pg.Exec("DELETE FROM ledger_carried WHERE amount = 0"); !z) {
          return std::unexpected(PgMsg(z.error()));
        }
      }
      auto ins = pg.Exec(
          "INSERT INTO history_archives (month, table_name, path, rows, sha256) "
          "VALUES ($1::date, $2, $3, $4, $5)",
          date, t.table, t.path, t.rows, t.sha256);
      if (!ins) return std::unexpected(PgMsg(ins.error()));
      auto det =
          Run(pg, "ALTER TABLE " + Quoted(t.table) + " DETACH PARTITION " + Quoted(t.partition));
      if (!det) return std::unexpected(PgMsg(det.error()));
      if (!o.keep_detached) {
        if (auto d = Run(pg, "DROP TABLE " + Quoted(t.partition)); !d) {
          return std::unexpected(PgMsg(d.error()));
        }
      }
    }
    auto commit = pg.Exec("COMMIT");
    if (!commit) return std::unexpected(PgMsg(commit.error()));
    done.push_back(std::move(am));
  }
  return done;
}

std::expected<ArchivedMonth, std::string> Unarchive(db::PgConnection& pg, Month m) {
  if (sodium_init() < 0) return std::unexpected("libsodium failed to initialise");
  std::string date = ToString(m) + "-01";
  auto rows = pg.Exec(
      "SELECT a.table_name, a.path, a.rows, a.sha256 FROM history_archives a "
      "JOIN history_partitioned_tables h ON h.name = a.table_name "
      "WHERE a.month = $1::date ORDER BY a.table_name",
      date);
  if (!rows) return std::unexpected(PgMsg(rows.error()));
  if (rows->rows() == 0) return std::unexpected("month " + ToString(m) + " is not archived");
  ArchivedMonth am;
  am.month = m;
  for (int i = 0; i < rows->rows(); ++i) {
    ArchivedTable t;
    t.table = std::string(rows->Text(i, 0));
    if (!SafeTableName(t.table)) return std::unexpected("bad table name " + t.table);
    t.partition = t.table + PartitionSuffix(m);
    t.path = std::string(rows->Text(i, 1));
    t.rows = rows->Int64(i, 2).value_or(-1);
    t.sha256 = std::string(rows->Text(i, 3));
    // Verify every file before touching the database.
    auto st = ReadCsvGz(t.path);
    if (!st) return std::unexpected(st.error());
    if (st->rows != t.rows || st->sha256 != t.sha256) {
      return std::unexpected(t.path + " does not match its archive record (" +
                             std::to_string(st->rows) + " rows sha256 " + st->sha256 +
                             ", recorded " + std::to_string(t.rows) + " rows sha256 " + t.sha256 +
                             ")");
    }
    am.tables.push_back(std::move(t));
  }
  auto begin = pg.Exec("BEGIN");
  if (!begin) return std::unexpected(PgMsg(begin.error()));
  struct Rollback {
    db::PgConnection& pg;
    ~Rollback() {
      if (pg.in_transaction()) (void)pg.Exec("ROLLBACK");
    }
  } rollback{pg};
  for (const char* s :
       {"SET LOCAL statement_timeout = 0", "SET LOCAL idle_in_transaction_session_timeout = 0"}) {
    if (auto r = pg.Exec(s); !r) return std::unexpected(PgMsg(r.error()));
  }
  const std::string from = std::to_string(MonthStartMs(m));
  const std::string to = std::to_string(MonthStartMs(NextMonth(m)));
  for (const auto& t : am.tables) {
    auto exists =
        pg.Exec("SELECT relispartition FROM pg_class WHERE oid = to_regclass($1)", t.partition);
    if (!exists) return std::unexpected(PgMsg(exists.error()));
    if (exists->rows() == 1) {
      if (exists->Text(0, 0) == "t") {
        return std::unexpected(t.partition + " is already attached");
      }
      // Kept detached by `archive --keep-detached`: attach it as it is, if it is complete.
    } else {
      auto c = Run(pg, "CREATE TABLE " + Quoted(t.partition) + " (LIKE " + Quoted(t.table) +
                           " INCLUDING DEFAULTS INCLUDING CONSTRAINTS)");
      if (!c) return std::unexpected(PgMsg(c.error()));
      if (auto im = ImportFile(pg, t.partition, t.path); !im) return std::unexpected(im.error());
    }
    auto count = Run(pg, "SELECT count(*) FROM " + Quoted(t.partition));
    if (!count) return std::unexpected(PgMsg(count.error()));
    if (count->Int64(0, 0).value_or(-1) != t.rows) {
      return std::unexpected(t.partition + " has " + std::string(count->Text(0, 0)) +
                             " rows, the archive " + std::to_string(t.rows));
    }
    auto at = Run(pg, "ALTER TABLE " + Quoted(t.table) + " ATTACH PARTITION " +
                          Quoted(t.partition) + " FOR VALUES FROM (" + from + ") TO (" + to + ")");
    if (!at) return std::unexpected(PgMsg(at.error()));
    if (t.table == "ledger") {
      // Sums that cancel to zero were deleted from ledger_carried by archive: re-add the
      // month's sums as negative carried amounts first, then fold them in.
      auto up = Run(pg,
                    "INSERT INTO ledger_carried (account_id, asset_id, bucket, amount) "
                    "SELECT account_id, asset_id, bucket, -sum(amount) FROM " +
                        Quoted(t.partition) +
                        " GROUP BY 1, 2, 3 ON CONFLICT (account_id, asset_id, bucket) "
                        "DO UPDATE SET amount = ledger_carried.amount + EXCLUDED.amount");
      if (!up) return std::unexpected(PgMsg(up.error()));
      if (auto z = pg.Exec("DELETE FROM ledger_carried WHERE amount = 0"); !z) {
        return std::unexpected(PgMsg(z.error()));
      }
    }
  }
  if (auto d = pg.Exec("DELETE FROM history_archives WHERE month = $1::date", date); !d) {
    return std::unexpected(PgMsg(d.error()));
  }
  auto commit = pg.Exec("COMMIT");
  if (!commit) return std::unexpected(PgMsg(commit.error()));
  return am;
}

}  // namespace spotex::admin
