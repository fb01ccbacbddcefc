// A thin RAII layer over libpq (the PostgreSQL C client): one connection, parameterised
// statements, and a result wrapper with typed getters. Nothing here knows about users or keys.
//
// Every statement that carries a value goes through Exec(), which sends the SQL text and the
// values separately (PQexecParams): a value is never spliced into SQL. The one exception is
// ExecScript(), which runs a trusted multi-statement file (a migration) and takes no values.
#pragma once

#include <libpq-fe.h>

#include <array>
#include <concepts>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace spotex::db {

// What failed. `sqlstate` is the server's five-character SQLSTATE ("23505" unique violation,
// "55P03" lock not available, ...) when the server reported the error, or "" for a client-side
// failure (connection refused, bad parameter, unexpected column type). Never holds a password.
struct PgError {
  std::string sqlstate;
  std::string constraint;  // the violated constraint's name, for integrity errors
  std::string message;
};
template <typename T>
using PgExpected = std::expected<T, PgError>;

// SQLSTATEs the stores act on.
inline constexpr std::string_view kSqlStateUniqueViolation = "23505";
inline constexpr std::string_view kSqlStateForeignKeyViolation = "23503";
inline constexpr std::string_view kSqlStateCheckViolation = "23514";
inline constexpr std::string_view kSqlStateLockNotAvailable = "55P03";
inline constexpr std::string_view kSqlStateQueryCanceled = "57014";  // e.g. statement_timeout

// Limits on what a caller can hand us.
inline constexpr size_t kPgParamsMax = 64;
inline constexpr size_t kPgIdentifierBytesMax = 255;  // host, dbname, user
inline constexpr size_t kPgPasswordBytesMax = 1024;
inline constexpr size_t kPgSecretFileBytesMax = 4096;

// Where and as whom to connect. Each part is passed to libpq as its own keyword/value pair
// (PQconnectdbParams), so no part is ever quoted into a conninfo string.
struct PgConnParams {
  std::string host = "127.0.0.1";  // name, address, or a Unix-socket directory ("/...")
  int port = 5432;
  std::string dbname = "spotex";
  std::string user = "spotex";
  std::string password;  // from ReadPasswordFile(); never logged, never in an error
  std::string application_name = "spotex";
  std::string sslmode = "prefer";
  int connect_timeout_s = 5;             // bounds connecting (libpq's minimum effective value is 2)
  int64_t statement_timeout_ms = 30000;  // server-side bound on each statement; 0 = none
  int64_t idle_in_transaction_timeout_ms = 60000;  // 0 = none
};

// Reads a secret file: its first line, trailing whitespace and CR cut. At most
// kPgSecretFileBytesMax bytes are read. Errors name the path, never the content.
[[nodiscard]] PgExpected<std::string> ReadPasswordFile(const std::string& path);

// A binary parameter (bytea): its bytes are sent as they are, NULs included.
struct PgBytes {
  std::string_view bytes;
};
// A one-dimensional text[] parameter. Elements must not contain NUL.
struct PgTextArray {
  const std::vector<std::string>& items;
};
// An SQL NULL parameter (std::nullopt works too).
struct PgNull {};

// One parameter as libpq wants it: text (format 0) or binary (format 1), or NULL.
struct PgParam {
  std::string value;
  bool is_null = false;
  bool binary = false;
  bool has_nul = false;  // a text value with a NUL byte: refused by Exec (libpq would cut it)
};

// Converters from C++ values to parameters. Integers travel as decimal text.
PgParam ToPgParam(std::string_view v);
inline PgParam ToPgParam(const std::string& v) { return ToPgParam(std::string_view(v)); }
inline PgParam ToPgParam(const char* v) { return ToPgParam(std::string_view(v)); }
PgParam ToPgParam(PgBytes v);
PgParam ToPgParam(const PgTextArray& v);
PgParam ToPgParam(bool v);
PgParam ToPgParam(PgNull);
inline PgParam ToPgParam(std::nullopt_t) { return ToPgParam(PgNull{}); }
template <typename T>
requires std::integral<T> &&(!std::same_as<T, bool>)&&(!std::same_as<T, char>)PgParam
    ToPgParam(T v) {
  PgParam p;
  p.value = std::to_string(v);
  return p;
}
template <typename T>
PgParam ToPgParam(const std::optional<T>& v) {
  return v ? ToPgParam(*v) : ToPgParam(PgNull{});
}

// The result of one successful statement. Rows and columns are 0-based; asking for a row or
// column out of range is a bug (asserts). Owns its PGresult. Move-only.
class PgResult {
 public:
  explicit PgResult(PGresult* res) : res_(res) {}
  ~PgResult();
  PgResult(PgResult&& other) noexcept : res_(std::exchange(other.res_, nullptr)) {}
  PgResult& operator=(PgResult&& other) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;

  int rows() const;
  int columns() const;
  // Rows an INSERT/UPDATE/DELETE touched (0 for other statements).
  int64_t affected_rows() const;
  // The command tag ("INSERT 0 1", "COMMIT", "ROLLBACK", ...).
  std::string_view command_tag() const;
  // The index of a column by name, or -1.
  int Column(const char* name) const;

  bool IsNull(int row, int col) const;
  // The text form of a value ("" for NULL). Valid while this result lives.
  std::string_view Text(int row, int col) const;
  // Typed getters: an error if the value is NULL or not of the type.
  [[nodiscard]] PgExpected<int64_t> Int64(int row, int col) const;
  [[nodiscard]] PgExpected<bool> Bool(int row, int col) const;
  // A bytea value, decoded from the server's hex output.
  [[nodiscard]] PgExpected<std::string> Bytes(int row, int col) const;
  // A one-dimensional text[] value (NULL elements are an error).
  [[nodiscard]] PgExpected<std::vector<std::string>> TextArray(int row, int col) const;

 private:
  void CheckCell(int row, int col) const;
  PgError CellError(int row, int col, std::string_view what) const;

  PGresult* res_;
};

// One connection. Not thread-safe: use it from one thread at a time (one per thread, or a
// pool). Move-only; the destructor closes it.
class PgConnection {
 public:
  // Connects and checks the server's answer. The password is handed to libpq and not kept by
  // this object. Errors say where it tried to connect (never the password).
  [[nodiscard]] static PgExpected<PgConnection> Connect(const PgConnParams& params);

  ~PgConnection();
  PgConnection(PgConnection&& other) noexcept
      : conn_(std::exchange(other.conn_, nullptr)), where_(std::move(other.where_)) {}
  PgConnection& operator=(PgConnection&& other) noexcept;
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // "user@host:port/dbname", for logs.
  const std::string& where() const { return where_; }
  // False once the connection broke (then every call fails; make a new connection).
  bool ok() const;
  // True inside a transaction block (BEGIN without COMMIT/ROLLBACK yet).
  bool in_transaction() const;

  // Runs one statement with $1..$N bound to `args` (at most kPgParamsMax), text results.
  // `sql` is a constant statement: values go in `args`, never into `sql`.
  template <typename... Args>
  [[nodiscard]] PgExpected<PgResult> Exec(const char* sql, const Args&... args) {
    static_assert(sizeof...(Args) <= kPgParamsMax, "too many parameters");
    std::array<PgParam, sizeof...(Args)> params = {ToPgParam(args)...};
    return ExecParams(sql, params);
  }
  [[nodiscard]] PgExpected<PgResult> ExecParams(const char* sql, std::span<const PgParam> params);

  // Runs a trusted script of one or more statements with no parameters (simple-query protocol).
  // For migration files only; never for anything holding an outside value.
  [[nodiscard]] PgExpected<void> ExecScript(const std::string& sql);

  // COPY ... FROM STDIN: runs `copy_sql` (a constant COPY statement, text or csv format) and
  // streams `data` (whole rows in that format) to it. Returns the number of rows copied. A
  // server error (bad row, constraint) comes back as the statement's PgError.
  [[nodiscard]] PgExpected<int64_t> CopyIn(const char* copy_sql, std::string_view data);

  PGconn* raw() const { return conn_; }

 private:
  PgConnection(PGconn* conn, std::string where) : conn_(conn), where_(std::move(where)) {}
  PgExpected<PgResult> Check(PGresult* res);

  PGconn* conn_;
  std::string where_;
};

// A transaction that rolls back unless committed. Begin() issues BEGIN; the destructor issues
// ROLLBACK if Commit() did not succeed (a broken connection aborts it server-side anyway).
class PgTransaction {
 public:
  [[nodiscard]] static PgExpected<PgTransaction> Begin(PgConnection& conn);
  ~PgTransaction();
  PgTransaction(PgTransaction&& other) noexcept : conn_(std::exchange(other.conn_, nullptr)) {}
  PgTransaction& operator=(PgTransaction&&) = delete;
  PgTransaction(const PgTransaction&) = delete;
  PgTransaction& operator=(const PgTransaction&) = delete;

  [[nodiscard]] PgExpected<void> Commit();

 private:
  explicit PgTransaction(PgConnection* conn) : conn_(conn) {}
  PgConnection* conn_;  // null once committed or rolled back
};

}  // namespace spotex::db
