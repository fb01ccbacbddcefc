#include "db/pg.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "core/assert.h"

namespace spotex::db {

namespace {

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

// libpq messages end with a newline; ours should not.
std::string Trimmed(const char* text) {
  std::string s = text == nullptr ? "" : text;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

PgError ClientError(std::string message) { return PgError{"", "", std::move(message)}; }

// Checks one connection part: present, bounded, no NUL (libpq takes C strings).
std::optional<PgError> CheckPart(const char* name, const std::string& value, size_t max_bytes,
                                 bool may_be_empty) {
  if ((!may_be_empty && value.empty()) || value.size() > max_bytes || HasNul(value)) {
    return ClientError(std::string("connection parameter ") + name + " is empty, longer than " +
                       std::to_string(max_bytes) + " bytes or holds a NUL byte");
  }
  return std::nullopt;
}

std::optional<PgError> CheckParams(const PgConnParams& p) {
  if (auto e = CheckPart("host", p.host, kPgIdentifierBytesMax, false)) return e;
  if (auto e = CheckPart("dbname", p.dbname, kPgIdentifierBytesMax, false)) return e;
  if (auto e = CheckPart("user", p.user, kPgIdentifierBytesMax, false)) return e;
  if (auto e = CheckPart("password", p.password, kPgPasswordBytesMax, true)) return e;
  if (auto e = CheckPart("application_name", p.application_name, 63, true)) return e;
  if (p.port < 1 || p.port > 65535) {
    return ClientError("connection parameter port must be in 1..65535");
  }
  static constexpr std::string_view kSslModes[] = {"disable", "allow",     "prefer",
                                                   "require", "verify-ca", "verify-full"};
  bool ssl_ok = false;
  for (auto m : kSslModes) ssl_ok |= p.sslmode == m;
  if (!ssl_ok) return ClientError("connection parameter sslmode is not a libpq sslmode");
  if (p.connect_timeout_s < 1 || p.connect_timeout_s > 3600 || p.statement_timeout_ms < 0 ||
      p.idle_in_transaction_timeout_ms < 0) {
    return ClientError("connection timeouts must be positive (connect: 1..3600 s)");
  }
  return std::nullopt;
}

// Server notices (e.g. "relation already exists, skipping") would go to stderr by default.
void DiscardNotice(void*, const char*) {}

}  // namespace

PgExpected<std::string> ReadPasswordFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return std::unexpected(
        ClientError("cannot open password file " + path + ": " + std::strerror(errno)));
  }
  std::string buf(kPgSecretFileBytesMax, '\0');
  size_t n = std::fread(buf.data(), 1, buf.size(), f);
  bool read_error = std::ferror(f) != 0;
  std::fclose(f);
  if (read_error) return std::unexpected(ClientError("cannot read password file " + path));
  buf.resize(n);
  if (auto eol = buf.find('\n'); eol != std::string::npos) buf.resize(eol);
  while (!buf.empty() && (buf.back() == '\r' || buf.back() == ' ' || buf.back() == '\t')) {
    buf.pop_back();
  }
  if (buf.empty() || HasNul(buf) || buf.size() > kPgPasswordBytesMax) {
    return std::unexpected(ClientError("password file " + path +
                                       " is empty, holds a NUL byte or its first line is longer "
                                       "than " +
                                       std::to_string(kPgPasswordBytesMax) + " bytes"));
  }
  return buf;
}

PgParam ToPgParam(std::string_view v) {
  PgParam p;
  p.value.assign(v);
  p.has_nul = HasNul(v);
  return p;
}

PgParam ToPgParam(PgBytes v) {
  PgParam p;
  p.value.assign(v.bytes);
  p.binary = true;
  return p;
}

// The array literal {"a","b"}: every element quoted, with " and \ escaped by a backslash, so
// any text (commas, braces, the word NULL) round-trips as itself.
PgParam ToPgParam(const PgTextArray& v) {
  PgParam p;
  p.value.push_back('{');
  for (size_t i = 0; i < v.items.size(); ++i) {
    if (i > 0) p.value.push_back(',');
    p.value.push_back('"');
    for (char c : v.items[i]) {
      if (c == '"' || c == '\\') p.value.push_back('\\');
      p.value.push_back(c);
    }
    p.value.push_back('"');
    p.has_nul |= HasNul(v.items[i]);
  }
  p.value.push_back('}');
  return p;
}

PgParam ToPgParam(bool v) {
  PgParam p;
  p.value = v ? "true" : "false";
  return p;
}

PgParam ToPgParam(PgNull) {
  PgParam p;
  p.is_null = true;
  return p;
}

// ---------------------------------------------------------------------------------------------
// PgResult

PgResult::~PgResult() {
  if (res_ != nullptr) PQclear(res_);
}

PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    if (res_ != nullptr) PQclear(res_);
    res_ = std::exchange(other.res_, nullptr);
  }
  return *this;
}

int PgResult::rows() const { return res_ == nullptr ? 0 : PQntuples(res_); }
int PgResult::columns() const { return res_ == nullptr ? 0 : PQnfields(res_); }

int64_t PgResult::affected_rows() const {
  if (res_ == nullptr) return 0;
  std::string_view s = PQcmdTuples(res_);
  int64_t n = 0;
  std::from_chars(s.data(), s.data() + s.size(), n);
  return n;
}

std::string_view PgResult::command_tag() const {
  return res_ == nullptr ? std::string_view() : std::string_view(PQcmdStatus(res_));
}

int PgResult::Column(const char* name) const {
  return res_ == nullptr ? -1 : PQfnumber(res_, name);
}

void PgResult::CheckCell(int row, int col) const {
  SPOTEX_ASSERT(res_ != nullptr);
  SPOTEX_ASSERT(row >= 0 && row < rows());
  SPOTEX_ASSERT(col >= 0 && col < columns());
}

PgError PgResult::CellError(int row, int col, std::string_view what) const {
  const char* name = PQfname(res_, col);
  return ClientError("row " + std::to_string(row) + " column " + (name ? name : "?") + ": " +
                     std::string(what));
}

bool PgResult::IsNull(int row, int col) const {
  CheckCell(row, col);
  return PQgetisnull(res_, row, col) != 0;
}

std::string_view PgResult::Text(int row, int col) const {
  CheckCell(row, col);
  return std::string_view(PQgetvalue(res_, row, col),
                          static_cast<size_t>(PQgetlength(res_, row, col)));
}

PgExpected<int64_t> PgResult::Int64(int row, int col) const {
  if (IsNull(row, col)) return std::unexpected(CellError(row, col, "NULL, not an integer"));
  std::string_view s = Text(row, col);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return std::unexpected(CellError(row, col, "not a 64-bit integer"));
  }
  return v;
}

PgExpected<bool> PgResult::Bool(int row, int col) const {
  if (IsNull(row, col)) return std::unexpected(CellError(row, col, "NULL, not a boolean"));
  std::string_view s = Text(row, col);
  if (s == "t") return true;
  if (s == "f") return false;
  return std::unexpected(CellError(row, col, "not a boolean"));
}

PgExpected<std::string> PgResult::Bytes(int row, int col) const {
  if (IsNull(row, col)) return std::unexpected(CellError(row, col, "NULL, not bytea"));
  std::string_view s = Text(row, col);
  if (!s.starts_with("\\x")) return std::unexpected(CellError(row, col, "not hex bytea"));
  size_t n = 0;
  unsigned char* raw =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(res_, row, col)), &n);
  if (raw == nullptr) return std::unexpected(CellError(row, col, "bytea decoding failed"));
  std::string out(reinterpret_cast<const char*>(raw), n);
  PQfreemem(raw);
  return out;
}

// Parses the text output of a one-dimensional text[]: {a,"b c","d\"e"}. The server quotes an
// element when it needs to (empty, spaces, commas, braces, quotes, backslashes, the word NULL)
// and then escapes quotes and backslashes with a backslash; an unquoted NULL is SQL NULL, which
// callers here never store.
PgExpected<std::vector<std::string>> PgResult::TextArray(int row, int col) const {
  if (IsNull(row, col)) return std::unexpected(CellError(row, col, "NULL, not an array"));
  std::string_view s = Text(row, col);
  std::vector<std::string> out;
  if (s.size() < 2 || s.front() != '{' || s.back() != '}') {
    return std::unexpected(CellError(row, col, "not a one-dimensional array"));
  }
  if (s == "{}") return out;
  size_t i = 1;
  const size_t end = s.size() - 1;
  while (true) {
    std::string item;
    if (s[i] == '"') {
      ++i;
      while (i < end && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < end) ++i;
        item.push_back(s[i++]);
      }
      if (i >= end) return std::unexpected(CellError(row, col, "unterminated array element"));
      ++i;  // closing quote
    } else {
      size_t start = i;
      while (i < end && s[i] != ',') {
        if (s[i] == '{' || s[i] == '"' || s[i] == '\\') {
          return std::unexpected(CellError(row, col, "not a one-dimensional text array"));
        }
        ++i;
      }
      item.assign(s.substr(start, i - start));
      if (item == "NULL") return std::unexpected(CellError(row, col, "array holds a NULL"));
    }
    out.push_back(std::move(item));
    if (i == end) return out;
    if (s[i] != ',') return std::unexpected(CellError(row, col, "malformed array"));
    ++i;
  }
}

// ---------------------------------------------------------------------------------------------
// PgConnection

PgExpected<PgConnection> PgConnection::Connect(const PgConnParams& params) {
  if (auto err = CheckParams(params)) return std::unexpected(*err);
  std::string where =
      params.user + "@" + params.host + ":" + std::to_string(params.port) + "/" + params.dbname;
  std::string port = std::to_string(params.port);
  std::string timeout = std::to_string(params.connect_timeout_s);
  // Server settings for this session, from integers only (nothing to quote).
  std::string options = "-c statement_timeout=" + std::to_string(params.statement_timeout_ms) +
                        " -c idle_in_transaction_session_timeout=" +
                        std::to_string(params.idle_in_transaction_timeout_ms) +
                        " -c bytea_output=hex";
  std::vector<const char*> keys = {"host",
                                   "port",
                                   "dbname",
                                   "user",
                                   "application_name",
                                   "sslmode",
                                   "connect_timeout",
                                   "options",
                                   "client_encoding"};
  std::vector<const char*> values = {params.host.c_str(),
                                     port.c_str(),
                                     params.dbname.c_str(),
                                     params.user.c_str(),
                                     params.application_name.c_str(),
                                     params.sslmode.c_str(),
                                     timeout.c_str(),
                                     options.c_str(),
                                     "UTF8"};
  if (!params.password.empty()) {
    keys.push_back("password");
    values.push_back(params.password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  // expand_dbname = 0: dbname is a name, never parsed as a conninfo string or URI.
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), 0);
  if (conn == nullptr) {
    return std::unexpected(ClientError("connecting to " + where + ": no memory"));
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    PgError err = ClientError("connecting to " + where + ": " + Trimmed(PQerrorMessage(conn)));
    PQfinish(conn);
    return std::unexpected(std::move(err));
  }
  PQsetNoticeProcessor(conn, DiscardNotice, nullptr);
  return PgConnection(conn, std::move(where));
}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

PgConnection& PgConnection::operator=(PgConnection&& other) noexcept {
  if (this != &other) {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = std::exchange(other.conn_, nullptr);
    where_ = std::move(other.where_);
  }
  return *this;
}

bool PgConnection::ok() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }

bool PgConnection::in_transaction() const {
  if (conn_ == nullptr) return false;
  auto s = PQtransactionStatus(conn_);
  return s == PQTRANS_INTRANS || s == PQTRANS_INERROR;
}

PgExpected<PgResult> PgConnection::Check(PGresult* res) {
  if (res == nullptr) {
    return std::unexpected(ClientError(where_ + ": " + Trimmed(PQerrorMessage(conn_))));
  }
  PgResult owned(res);
  switch (PQresultStatus(res)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY:
      return owned;
    case PGRES_COPY_IN:
      // A script's COPY FROM STDIN: we have no data to send; end it as failed.
      PQputCopyEnd(conn_, "COPY FROM STDIN is not supported here");
      while (PGresult* more = PQgetResult(conn_)) PQclear(more);
      return std::unexpected(ClientError(where_ + ": COPY FROM STDIN is not supported"));
    default:
      break;
  }
  const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  const char* constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
  PgError err;
  err.sqlstate = state == nullptr ? "" : state;
  err.constraint = constraint == nullptr ? "" : constraint;
  err.message = Trimmed(PQresultErrorMessage(res));
  if (err.message.empty()) err.message = Trimmed(PQerrorMessage(conn_));
  if (err.message.empty()) err.message = PQresStatus(PQresultStatus(res));
  return std::unexpected(std::move(err));
}

PgExpected<int64_t> PgConnection::CopyIn(const char* copy_sql, std::string_view data) {
  SPOTEX_ASSERT(conn_ != nullptr && copy_sql != nullptr);
  PGresult* start = PQexec(conn_, copy_sql);
  if (start == nullptr || PQresultStatus(start) != PGRES_COPY_IN) {
    auto r = Check(start);  // an error, or a statement that was not COPY FROM STDIN
    if (!r) return std::unexpected(std::move(r.error()));
    return std::unexpected(ClientError(where_ + ": not a COPY FROM STDIN statement"));
  }
  PQclear(start);
  // libpq buffers what it is given; chunks bound that buffer for large batches.
  constexpr size_t kChunkBytes = 1 << 20;
  bool sent = true;
  for (size_t at = 0; at < data.size() && sent; at += kChunkBytes) {
    const size_t n = std::min(kChunkBytes, data.size() - at);
    sent = PQputCopyData(conn_, data.data() + at, static_cast<int>(n)) == 1;
  }
  if (!sent) {
    PgError err = ClientError(where_ + ": COPY: " + Trimmed(PQerrorMessage(conn_)));
    PQputCopyEnd(conn_, "client failed to send the data");
    while (PGresult* more = PQgetResult(conn_)) PQclear(more);
    return std::unexpected(std::move(err));
  }
  if (PQputCopyEnd(conn_, nullptr) != 1) {
    PgError err = ClientError(where_ + ": COPY end: " + Trimmed(PQerrorMessage(conn_)));
    while (PGresult* more = PQgetResult(conn_)) PQclear(more);
    return std::unexpected(std::move(err));
  }
  auto r = Check(PQgetResult(conn_));
  while (PGresult* more = PQgetResult(conn_)) PQclear(more);
  if (!r) return std::unexpected(std::move(r.error()));
  return r->affected_rows();
}

PgExpected<PgResult> PgConnection::ExecParams(const char* sql, std::span<const PgParam> params) {
  SPOTEX_ASSERT(conn_ != nullptr && sql != nullptr);
  SPOTEX_ASSERT(params.size() <= kPgParamsMax);
  std::array<const char*, kPgParamsMax> values{};
  std::array<int, kPgParamsMax> lengths{};
  std::array<int, kPgParamsMax> formats{};
  for (size_t i = 0; i < params.size(); ++i) {
    const PgParam& p = params[i];
    if (p.has_nul) {
      return std::unexpected(ClientError("parameter $" + std::to_string(i + 1) +
                                         " holds a NUL byte, which text cannot carry"));
    }
    values[i] = p.is_null ? nullptr : p.value.c_str();
    lengths[i] = static_cast<int>(p.value.size());
    formats[i] = p.binary ? 1 : 0;
  }
  PGresult* res = PQexecParams(conn_, sql, static_cast<int>(params.size()), nullptr, values.data(),
                               lengths.data(), formats.data(), 0);
  return Check(res);
}

PgExpected<void> PgConnection::ExecScript(const std::string& sql) {
  SPOTEX_ASSERT(conn_ != nullptr);
  if (HasNul(sql)) return std::unexpected(ClientError("script holds a NUL byte"));
  auto res = Check(PQexec(conn_, sql.c_str()));
  if (!res) return std::unexpected(std::move(res.error()));
  return {};
}

// ---------------------------------------------------------------------------------------------
// PgTransaction

PgExpected<PgTransaction> PgTransaction::Begin(PgConnection& conn) {
  auto res = conn.Exec("BEGIN");
  if (!res) return std::unexpected(std::move(res.error()));
  return PgTransaction(&conn);
}

PgTransaction::~PgTransaction() {
  if (conn_ != nullptr && conn_->ok()) {
    (void)conn_->Exec("ROLLBACK");
  }
}

PgExpected<void> PgTransaction::Commit() {
  SPOTEX_ASSERT(conn_ != nullptr);
  PgConnection* conn = std::exchange(conn_, nullptr);
  auto res = conn->Exec("COMMIT");
  if (!res) {
    if (conn->in_transaction()) (void)conn->Exec("ROLLBACK");
    return std::unexpected(std::move(res.error()));
  }
  // COMMIT of a transaction that already failed succeeds with the tag ROLLBACK.
  if (res->command_tag() == "ROLLBACK") {
    return std::unexpected(
        ClientError("transaction was rolled back (an earlier statement failed)"));
  }
  return {};
}

}  // namespace spotex::db
