// The libpq layer against a real server: connecting (and what errors say), parameters of each
// kind round-tripping byte for byte, typed getters, SQLSTATEs, transactions.
#include "db/pg.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "db_fixture.h"

namespace spotex::testing {
namespace {

using db::PgBytes;
using db::PgConnection;
using db::PgTextArray;

class PgTest : public DbTest {};

TEST_F(PgTest, ConnectsWithPasswordAndReportsWhere) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  EXPECT_TRUE(conn->ok());
  EXPECT_EQ(conn->where(), "spotex@127.0.0.1:" + std::to_string(server().port()) + "/" + dbname());
  auto res = conn->Exec("SELECT current_user, current_database()");
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->Text(0, 0), "spotex");
  EXPECT_EQ(res->Text(0, 1), dbname());
}

TEST_F(PgTest, WrongPasswordFailsWithoutShowingAnyPassword) {
  auto params = Params();
  const std::string right = params.password;
  params.password = "Wrong-Pa55word-" + right;
  auto conn = PgConnection::Connect(params);
  ASSERT_FALSE(conn);
  EXPECT_NE(conn.error().message.find("password authentication failed"), std::string::npos)
      << conn.error().message;
  EXPECT_EQ(conn.error().message.find(params.password), std::string::npos);
  EXPECT_EQ(conn.error().message.find(right), std::string::npos);
}

TEST_F(PgTest, BadConnectionPartsAreRefusedBeforeConnecting) {
  auto params = Params();
  params.port = 0;
  EXPECT_FALSE(PgConnection::Connect(params));
  params = Params();
  params.dbname = std::string("spotex\0x", 8);
  EXPECT_FALSE(PgConnection::Connect(params));
  params = Params();
  params.user = "";
  EXPECT_FALSE(PgConnection::Connect(params));
  params = Params();
  params.sslmode = "maybe";
  EXPECT_FALSE(PgConnection::Connect(params));
  // A dbname that looks like a conninfo string is a name, not parsed (expand_dbname = 0).
  params = Params();
  params.dbname = "postgres user=postgres";
  auto conn = PgConnection::Connect(params);
  ASSERT_FALSE(conn);
  EXPECT_NE(conn.error().message.find("does not exist"), std::string::npos) << conn.error().message;
}

TEST_F(PgTest, ParametersRoundTripVerbatim) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  const std::string tricky = "it's \"quoted\"; DROP TABLE x; -- \\ $1 é";
  const std::string bytes("\0\x01\xff\x80'\\x00", 9);
  const std::vector<std::string> items = {"a", "", "b,c", "{d}", "NULL", "\"e\"", "f\\g", "h i"};
  auto res = conn->Exec("SELECT $1::text, $2::bytea, $3::text[], $4::bigint, $5::bool, $6::text",
                        tricky, PgBytes{bytes}, PgTextArray{items}, int64_t{-9223372036854775807},
                        true, std::optional<std::string>());
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->Text(0, 0), tricky);
  EXPECT_EQ(res->Bytes(0, 1).value(), bytes);
  EXPECT_EQ(res->TextArray(0, 2).value(), items);
  EXPECT_EQ(res->Int64(0, 3).value(), -9223372036854775807);
  EXPECT_TRUE(res->Bool(0, 4).value());
  EXPECT_TRUE(res->IsNull(0, 5));
  EXPECT_FALSE(res->Int64(0, 5).has_value());  // NULL is not an integer

  const std::vector<std::string> none;
  auto empty = conn->Exec("SELECT $1::text[], cardinality($1::text[])", PgTextArray{none});
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_TRUE(empty->TextArray(0, 0).value().empty());
  EXPECT_EQ(empty->Int64(0, 1).value(), 0);
}

TEST_F(PgTest, TextWithNulIsRefusedNotTruncated) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  auto res = conn->Exec("SELECT $1::text", std::string("abc\0def", 7));
  ASSERT_FALSE(res);
  EXPECT_NE(res.error().message.find("NUL"), std::string::npos);
  EXPECT_TRUE(conn->ok());  // nothing was sent
}

TEST_F(PgTest, TypedGettersRejectWrongTypes) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  auto res = conn->Exec("SELECT 'abc'::text, '12x', 'yes', 'plain', '{{1,2},{3,4}}'::text[]");
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_FALSE(res->Int64(0, 0));
  EXPECT_FALSE(res->Int64(0, 1));
  EXPECT_FALSE(res->Bool(0, 2));
  EXPECT_FALSE(res->Bytes(0, 3));
  EXPECT_FALSE(res->TextArray(0, 4));
  EXPECT_EQ(res->Column("text"), 0);
  EXPECT_EQ(res->Column("no_such_column"), -1);
}

TEST_F(PgTest, ErrorsCarrySqlStateAndConstraint) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->ExecScript("CREATE TABLE t (k text CONSTRAINT t_k_key UNIQUE)"));
  ASSERT_TRUE(conn->Exec("INSERT INTO t VALUES ($1)", "a"));
  auto dup = conn->Exec("INSERT INTO t VALUES ($1)", "a");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().sqlstate, db::kSqlStateUniqueViolation);
  EXPECT_EQ(dup.error().constraint, "t_k_key");
  auto syntax = conn->Exec("SELEC 1");
  ASSERT_FALSE(syntax);
  EXPECT_EQ(syntax.error().sqlstate, "42601");
  auto ins = conn->Exec("INSERT INTO t VALUES ($1), ($2)", "b", "c");
  ASSERT_TRUE(ins);
  EXPECT_EQ(ins->affected_rows(), 2);
}

TEST_F(PgTest, TransactionRollsBackUnlessCommitted) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->ExecScript("CREATE TABLE t (v int)"));
  {
    auto tx = db::PgTransaction::Begin(*conn);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(conn->Exec("INSERT INTO t VALUES (1)"));
    EXPECT_TRUE(conn->in_transaction());
  }  // dropped: rolled back
  EXPECT_FALSE(conn->in_transaction());
  {
    auto tx = db::PgTransaction::Begin(*conn);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(conn->Exec("INSERT INTO t VALUES (2)"));
    ASSERT_TRUE(tx->Commit());
  }
  {
    // A failed statement aborts the transaction; its COMMIT must not report success.
    auto tx = db::PgTransaction::Begin(*conn);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(conn->Exec("INSERT INTO t VALUES (3)"));
    ASSERT_FALSE(conn->Exec("SELECT 1/0"));
    EXPECT_FALSE(tx->Commit());
  }
  auto res = conn->Exec("SELECT string_agg(v::text, ',' ORDER BY v) FROM t");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->Text(0, 0), "2");
}

TEST_F(PgTest, StatementTimeoutBoundsAStatement) {
  auto params = Params();
  params.statement_timeout_ms = 100;
  auto conn = PgConnection::Connect(params);
  ASSERT_TRUE(conn) << conn.error().message;
  auto res = conn->Exec("SELECT pg_sleep(5)");
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().sqlstate, "57014");  // query_canceled
}

TEST_F(PgTest, CopyInStreamsRowsAndReportsBadRows) {
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Exec("CREATE TABLE c (id bigint PRIMARY KEY, name text NOT NULL)"));
  // Text format: a tab separates columns; an escaped tab and backslash survive.
  std::string data;
  for (int i = 1; i <= 3000; ++i) {
    data += std::to_string(i) + "\ta\\tb\\\\" + std::to_string(i) + "\n";  // a\tb\\<i>
  }
  auto n = conn->CopyIn("COPY c (id, name) FROM STDIN", data);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, 3000);
  auto name = conn->Exec("SELECT name FROM c WHERE id = 7");
  ASSERT_TRUE(name);
  EXPECT_EQ(name->Text(0, 0), "a\tb\\7");
  // A duplicate key fails the COPY with the server's SQLSTATE; the connection stays usable.
  auto dup = conn->CopyIn("COPY c (id, name) FROM STDIN", "1\tx\n");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().sqlstate, db::kSqlStateUniqueViolation);
  EXPECT_FALSE(conn->CopyIn("SELECT 1", ""));
  auto count = conn->Exec("SELECT count(*) FROM c");
  ASSERT_TRUE(count);
  EXPECT_EQ(count->Int64(0, 0).value(), 3000);
}

TEST(ReadPasswordFileTest, FirstLineWithoutTrailingWhitespace) {
  auto dir = std::filesystem::temp_directory_path() / ("spotex-pw-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto file = (dir / "pw").string();
  std::ofstream(file) << "s3cret value \r\nsecond line\n";
  EXPECT_EQ(db::ReadPasswordFile(file).value(), "s3cret value");
  std::ofstream(file, std::ios::trunc) << "\n";
  auto empty = db::ReadPasswordFile(file);
  ASSERT_FALSE(empty);
  auto missing = db::ReadPasswordFile((dir / "missing").string());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find((dir / "missing").string()), std::string::npos);
  std::ofstream(file, std::ios::trunc) << "topsecret";
  // Errors never include the content: make it unreadable as a file by naming its directory.
  auto dir_err = db::ReadPasswordFile(dir.string());
  ASSERT_FALSE(dir_err);
  EXPECT_EQ(dir_err.error().message.find("topsecret"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace spotex::testing
