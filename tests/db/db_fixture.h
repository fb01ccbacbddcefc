// A gtest fixture over PgServer: one server per test suite (started in SetUpTestSuite, stopped
// in TearDownTestSuite), a fresh empty database per test, and helpers to reach it.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "db/pg.h"
#include "pg_harness.h"

namespace spotex::testing {

class DbTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = PgServer::Start();
    if (server) {
      server_ = std::move(*server);
    } else {
      start_error_ = server.error();
    }
  }
  static void TearDownTestSuite() { server_.reset(); }

  // Fails the test (not skips it) when no server could be started.
  void SetUp() override {
    ASSERT_NE(server_, nullptr) << "PostgreSQL did not start: " << start_error_;
    auto name = server_->CreateDatabase();
    ASSERT_TRUE(name.has_value()) << name.error();
    dbname_ = *name;
  }

  PgServer& server() { return *server_; }
  const std::string& dbname() const { return dbname_; }
  db::PgConnParams Params() const { return server_->Params(dbname_); }

  // A new connection to this test's database as role spotex; nullopt (and a test failure) if
  // it cannot connect.
  std::optional<db::PgConnection> Connect() {
    auto conn = db::PgConnection::Connect(Params());
    EXPECT_TRUE(conn.has_value()) << conn.error().message;
    if (!conn) return std::nullopt;
    return std::move(*conn);
  }

  static inline std::unique_ptr<PgServer> server_;
  static inline std::string start_error_;
  std::string dbname_;
};

}  // namespace spotex::testing
