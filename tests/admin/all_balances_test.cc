// The engine's all_balances query (service/query.h), which reconcile pages through: every
// account exactly once, in opening order, and every reply within its size bound.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <set>

#include "engine/engine.h"
#include "service/query.h"

namespace spotex::service {
namespace {

class AllBalancesTest : public ::testing::Test {
 protected:
  void Apply(const engine::CommandBody& body) {
    auto r = engine_.Apply(engine::Command{++seq_, 1000, body});
    ASSERT_EQ(r.code, engine::RejectCode::kNone);
  }
  std::string Ask(const std::string& q) { return AnswerQuery(engine_, ServiceStatus{}, q); }

  engine::Engine engine_;
  engine::Seq seq_ = 0;
};

TEST_F(AllBalancesTest, PagesCoverEveryAccountOnceWithinTheBound) {
  constexpr int kAssets = 6, kAccounts = 2500;
  for (int a = 0; a < kAssets; ++a) {
    engine::AddAsset add;
    ASSERT_TRUE(add.name.Assign("A" + std::to_string(a)));
    Apply(add);
  }
  // Opened in an order unlike their ids: pages follow the opening order.
  for (int i = 0; i < kAccounts; ++i) {
    engine::AccountId id = 1 + static_cast<engine::AccountId>((i * 7919) % 100000);
    Apply(engine::OpenAccount{id});
    for (engine::AssetId a = 0; a < kAssets; ++a) {
      Apply(engine::Deposit{id, a, engine::Amount{123456789 + i}});
    }
  }
  simdjson::dom::parser parser;
  std::set<uint64_t> seen;
  std::vector<uint64_t> order;
  uint64_t from = 0;
  size_t pages = 0, largest = 0;
  for (;;) {
    std::string reply = Ask("all_balances " + std::to_string(from) + " 1000");
    ASSERT_LT(reply.size(), kAllBalancesReplyBytes + 1024) << "one account past the bound at most";
    largest = std::max(largest, reply.size());
    ++pages;
    simdjson::dom::element doc;
    ASSERT_FALSE(parser.parse(reply).get(doc)) << reply.substr(0, 200);
    EXPECT_EQ(uint64_t(doc["seq"]), seq_);
    size_t n = 0;
    for (auto acc : doc["accounts"].get_array()) {
      uint64_t id = acc["account"];
      EXPECT_TRUE(seen.insert(id).second) << id;
      order.push_back(id);
      size_t balances = 0;
      for (auto b : acc["balances"].get_array()) {
        (void)b;
        ++balances;
      }
      EXPECT_EQ(balances, size_t{kAssets});  // the fee account has every asset, at zero
      ++n;
    }
    EXPECT_GE(n, 1u);
    if (doc["next"].is_null()) break;
    uint64_t next = doc["next"];
    EXPECT_EQ(next, from + n);
    from = next;
    ASSERT_LT(pages, 100u);
  }
  EXPECT_EQ(seen.size(), size_t{kAccounts} + 1);  // and the fee account
  EXPECT_EQ(order.front(), 0u);
  EXPECT_EQ(order[1], 1u);
  EXPECT_EQ(order[2], 1u + 7919);
  // ~470 bytes per account: the byte bound, not the 1000-account limit, ends the pages.
  EXPECT_GT(pages, 3u);
  EXPECT_GT(largest, kAllBalancesReplyBytes);

  // A small limit, the exact text, past the end, and bad arguments.
  std::string one = Ask("all_balances 0 1");
  EXPECT_TRUE(one.starts_with("{\"seq\":" + std::to_string(seq_) +
                              ",\"accounts\":[{\"account\":0,\"balances\":[{\"asset\":\"A0\","
                              "\"free\":\"0.00000000\",\"locked\":\"0.00000000\"},"))
      << one;
  EXPECT_TRUE(one.ends_with("}]}],\"next\":1}")) << one;
  EXPECT_EQ(Ask("all_balances 99999 5"),
            "{\"seq\":" + std::to_string(seq_) + ",\"accounts\":[],\"next\":null}");
  for (const char* bad : {"all_balances 0 0", "all_balances 0 1001", "all_balances -1 5",
                          "all_balances x 5", "all_balances 0", "all_balances 0 5 6"}) {
    EXPECT_TRUE(Ask(bad).starts_with("{\"error\":")) << bad;
  }
}

}  // namespace
}  // namespace spotex::service
