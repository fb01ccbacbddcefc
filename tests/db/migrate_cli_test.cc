// The spotex-migrate executable against a real server: what it prints and its exit codes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "db_fixture.h"

namespace spotex::testing {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int exit_code;
  std::string output;  // stdout and stderr
};

class MigrateCliTest : public DbTest {
 protected:
  CliRun Migrate(std::vector<std::string> args) {
    std::string log = server().dir() + "/migrate-cli-" + std::to_string(++runs_) + ".log";
    std::vector<std::string> argv = {SPOTEX_MIGRATE_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    int rc = RunCommand(argv, log, false, 60000);
    std::ifstream in(log);
    std::stringstream ss;
    ss << in.rdbuf();
    return CliRun{rc, ss.str()};
  }
  std::vector<std::string> ConnArgs() {
    return {"--host",          "127.0.0.1",
            "--port",          std::to_string(server().port()),
            "--user",          "spotex",
            "--dbname",        dbname(),
            "--password-file", server().password_file()};
  }
  int runs_ = 0;
};

TEST_F(MigrateCliTest, AppliesThenHasNothingToDo) {
  auto args = ConnArgs();
  args.insert(args.end(), {"--migrations", SPOTEX_MIGRATIONS_DIR});
  CliRun first = Migrate(args);
  EXPECT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("applied 0001_users_and_keys"), std::string::npos) << first.output;
  EXPECT_NE(first.output.find("0 already applied"), std::string::npos) << first.output;
  CliRun second = Migrate(ConnArgs());  // the compiled-in default directory is the repo's
  EXPECT_EQ(second.exit_code, 0) << second.output;
  EXPECT_EQ(second.output.find("applied 0001"), std::string::npos) << second.output;
  EXPECT_NE(second.output.find("0 applied"), std::string::npos) << second.output;
  // Never the password.
  std::ifstream pw(server().password_file());
  std::string password;
  std::getline(pw, password);
  ASSERT_FALSE(password.empty());
  EXPECT_EQ(first.output.find(password), std::string::npos);
}

TEST_F(MigrateCliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Migrate({"--bogus", "1"}).exit_code, 2);
  EXPECT_EQ(Migrate({"--port"}).exit_code, 2);
  EXPECT_EQ(Migrate({"--port", "99999"}).exit_code, 2);
  EXPECT_EQ(Migrate({"extra"}).exit_code, 2);
  EXPECT_EQ(Migrate({"--password-file", server().dir() + "/no-such-file"}).exit_code, 2);
  EXPECT_EQ(Migrate({"--help"}).exit_code, 0);
}

TEST_F(MigrateCliTest, WrongPasswordExitsOneWithoutPrintingIt) {
  std::string file = server().dir() + "/wrong-password";
  std::ofstream(file) << "not-the-Password-42\n";
  auto args = ConnArgs();
  args.back() = file;
  CliRun run = Migrate(args);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("password authentication failed"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("not-the-Password-42"), std::string::npos) << run.output;
}

TEST_F(MigrateCliTest, ChangedAppliedMigrationExitsThree) {
  std::string dir = server().dir() + "/migrations-" + dbname();
  fs::create_directories(dir);
  std::ofstream(dir + "/0001_a.sql") << "CREATE TABLE a (x int);\n";
  auto args = ConnArgs();
  args.insert(args.end(), {"--migrations", dir});
  CliRun first = Migrate(args);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  std::ofstream(dir + "/0001_a.sql", std::ios::app) << "CREATE TABLE b (x int);\n";
  CliRun second = Migrate(args);
  EXPECT_EQ(second.exit_code, 3) << second.output;
  EXPECT_NE(second.output.find("changed after it was applied"), std::string::npos) << second.output;
  std::ofstream(dir + "/0002_bad.sql") << "SELECT nope;\n";
  fs::remove(dir + "/0001_a.sql");
  std::ofstream(dir + "/0001_a.sql") << "CREATE TABLE a (x int);\n";
  CliRun failing = Migrate(args);
  EXPECT_EQ(failing.exit_code, 1) << failing.output;
  EXPECT_NE(failing.output.find("0002_bad"), std::string::npos) << failing.output;
  EXPECT_NE(failing.output.find("SQLSTATE 42703"), std::string::npos) << failing.output;
}

}  // namespace
}  // namespace spotex::testing
