// spotex-admin against a real engine: every operator command, and bad input refused with a
// clear message and a non-zero exit, changing nothing.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>

#include "harness.h"
#include "service/command_client.h"

namespace spotex::testing {
namespace {

struct AdminRun {
  int exit_code;
  std::string out;  // stdout and stderr
};

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nats_ = std::make_unique<NatsServer>(dir_.path());
    ASSERT_TRUE(nats_->ok());
    engine_ = std::make_unique<EngineProcess>(
        *nats_, dir_.path() + "/engine", dir_.path() + "/engine.log",
        EngineOptions{std::string(SPOTEX_SOURCE_DIR) + "/etc/markets.toml", 200000, 300});
    engine_->Start();
    for (int i = 0; i < 100; ++i) {
      if (Admin("status").exit_code == 0) break;
      usleep(100'000);
    }
  }

  AdminRun Admin(const std::string& args) {
    std::string cmd = std::string(SPOTEX_ADMIN_BIN) + " --nats-url " + nats_->url() +
                      " --nats-user spotex --nats-password-file " + nats_->password_file() + " " +
                      args + " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    std::string out;
    std::array<char, 4096> buf;
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    int status = ::pclose(p);
    return AdminRun{WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
  }

  std::string Hash() { return JsonField(Admin("status").out, "stateHash"); }

  TempDir dir_;
  std::unique_ptr<NatsServer> nats_;
  std::unique_ptr<EngineProcess> engine_;
};

TEST_F(AdminTest, StatusSymbolsAndAssets) {
  auto st = Admin("status");
  ASSERT_EQ(st.exit_code, 0) << st.out;
  EXPECT_EQ(JsonField(st.out, "logSeq"), "9");
  EXPECT_EQ(JsonField(st.out, "stateHash").size(), 16u);
  auto sym = Admin("symbols");
  EXPECT_EQ(sym.exit_code, 0);
  EXPECT_NE(sym.out.find("\"symbol\":\"BNBUSDT\""), std::string::npos) << sym.out;
  EXPECT_NE(Admin("assets").out.find("\"name\":\"USDT\""), std::string::npos);
}

TEST_F(AdminTest, DepositWithdrawAndBalances) {
  ASSERT_EQ(Admin("deposit 42 USDT 1500.25").exit_code, 0);
  ASSERT_EQ(Admin("deposit 42 USDT 0.75").exit_code, 0);
  ASSERT_EQ(Admin("withdraw 42 USDT 1000").exit_code, 0);
  auto bal = Admin("balances 42");
  EXPECT_NE(
      bal.out.find("{\"asset\":\"USDT\",\"free\":\"501.00000000\",\"locked\":\"0.00000000\"}"),
      std::string::npos)
      << bal.out;
  // Too much: the engine's rejection with Binance's code, nothing changed.
  std::string before = Hash();
  auto over = Admin("withdraw 42 USDT 502");
  EXPECT_EQ(over.exit_code, 1);
  EXPECT_NE(over.out.find("-2010"), std::string::npos) << over.out;
  EXPECT_EQ(Hash(), before);
}

TEST_F(AdminTest, BadInputIsRefusedAndChangesNothing) {
  std::string before = Hash();
  struct Case {
    const char* args;
    int code;
    const char* says;
  } cases[] = {
      {"deposit 42 USDT 1.123456789", 2, "bad amount"},
      {"deposit 42 USDT -5", 2, "bad amount"},
      {"deposit 42 USDT 1e3", 2, "bad amount"},
      {"deposit x USDT 1", 2, "bad account"},
      {"deposit 0 USDT 1", 2, "bad account"},
      {"deposit 42 NOPE 1", 1, "unknown asset"},
      {"withdraw 4242 USDT 1", 1, "rejected"},
      {"halt NOPE", 1, "unknown symbol"},
      {"add-asset bad-name 8", 2, "NAME"},
      {"add-symbol /nonexistent.toml", 2, "nonexistent"},
      {"frobnicate", 2, "unknown command"},
      {"--bogus 1 status", 2, "unknown flag"},
  };
  for (const auto& c : cases) {
    auto r = Admin(c.args);
    EXPECT_EQ(r.exit_code, c.code) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << c.args << "\n" << r.out;
  }
  EXPECT_EQ(Hash(), before);
}

TEST_F(AdminTest, HaltAndResumeASymbol) {
  ASSERT_EQ(Admin("halt ETHUSDT").exit_code, 0);
  EXPECT_NE(Admin("symbols").out.find("\"symbol\":\"ETHUSDT\",\"status\":\"HALT\""),
            std::string::npos);
  ASSERT_EQ(Admin("resume ETHUSDT").exit_code, 0);
  EXPECT_NE(Admin("symbols").out.find("\"symbol\":\"ETHUSDT\",\"status\":\"TRADING\""),
            std::string::npos);
}

TEST_F(AdminTest, AddAssetAndSymbolFromAMarketsFile) {
  std::string file = dir_.path() + "/sol.toml";
  std::ofstream(file) << "[[asset]]\nname = \"SOL\"\nscale = 8\n\n"
                         "[[asset]]\nname = \"USDT\"\nscale = 8\n\n"
                         "[[symbol]]\nname = \"SOLUSDT\"\nbase = \"SOL\"\nquote = \"USDT\"\n"
                         "tick_size = \"0.01\"\nstep_size = \"0.001\"\nmin_notional = \"5\"\n";
  auto r = Admin("add-symbol " + file);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto sym = Admin("query symbol SOLUSDT");
  EXPECT_EQ(JsonField(sym.out, "id"), "4") << sym.out;
  EXPECT_EQ(JsonField(Admin("query asset SOL").out, "id"), "4");
  // USDT was reused, not added again; adding the same symbol twice is refused.
  EXPECT_EQ(JsonField(Admin("query asset USDT").out, "id"), "3");
  auto again = Admin("add-symbol " + file);
  EXPECT_EQ(again.exit_code, 1) << again.out;
  // A scale that differs from the existing asset's is refused before anything is sent.
  std::ofstream(file) << "[[asset]]\nname = \"XRP\"\nscale = 6\n\n[[asset]]\nname = \"USDT\"\n"
                         "scale = 6\n\n[[symbol]]\nname = \"XRPUSDT\"\nbase = \"XRP\"\n"
                         "quote = \"USDT\"\ntick_size = \"0.0001\"\nstep_size = \"0.1\"\n";
  auto bad = Admin("add-symbol " + file);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("scale"), std::string::npos) << bad.out;
  EXPECT_NE(Admin("query asset XRP").exit_code, 0);  // XRP, listed first, was not added
}

TEST_F(AdminTest, SnapshotWritesAFileAndReportsIt) {
  ASSERT_EQ(Admin("deposit 5 BTC 1").exit_code, 0);
  auto r = Admin("snapshot");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(JsonField(r.out, "snapshotSeq"), JsonField(r.out, "logSeq")) << r.out;
}

}  // namespace
}  // namespace spotex::testing
