// OrderIdIndex against std::map under random puts and erases, and with ids no order has.
#include "engine/order_id_index.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <random>

namespace spotex::engine {
namespace {

TEST(OrderIdIndexTest, MatchesAMapUnderRandomPutsAndErases) {
  std::mt19937_64 rng(20261126);
  OrderIdIndex index;
  std::map<uint64_t, uint32_t> model;
  uint64_t next_id = 1;
  for (int step = 0; step < 200'000; ++step) {
    if (model.empty() || rng() % 3 != 0) {
      // Ids increase with gaps, as the engine's do across symbols and rejected commands.
      next_id += 1 + rng() % 3;
      const auto slot = static_cast<uint32_t>(rng() % 1'000'000);
      index.Put(next_id, slot);
      model[next_id] = slot;
    } else {
      // Erase a random live id, mostly recent ones (fills and cancels near the top of book).
      auto it = model.lower_bound(next_id - rng() % (next_id + 1));
      if (it == model.end()) {
        it = model.begin();
      }
      ASSERT_TRUE(index.Erase(it->first));
      ASSERT_FALSE(index.Erase(it->first));
      model.erase(it);
    }
    const uint64_t probe = rng() % (next_id + 2);
    const uint32_t* got = index.Find(probe);
    const auto want = model.find(probe);
    ASSERT_EQ(got != nullptr, want != model.end()) << "id " << probe << " at step " << step;
    if (got != nullptr) {
      ASSERT_EQ(*got, want->second);
    }
  }
  ASSERT_EQ(index.size(), model.size());
  auto it = model.begin();
  index.ForEach([&](uint64_t id, uint32_t slot) {
    ASSERT_NE(it, model.end());
    EXPECT_EQ(id, it->first);
    EXPECT_EQ(slot, it->second);
    ++it;
  });
  EXPECT_EQ(it, model.end());
}

TEST(OrderIdIndexTest, IdsNoOrderHasAreAbsent) {
  OrderIdIndex index;
  index.Put(5, 7);
  for (uint64_t id : {uint64_t{0}, uint64_t{4}, uint64_t{6}, uint64_t{1} << 40,
                      static_cast<uint64_t>(std::numeric_limits<int64_t>::max()),
                      static_cast<uint64_t>(int64_t{-1}), std::numeric_limits<uint64_t>::max()}) {
    EXPECT_EQ(index.Find(id), nullptr) << id;
    EXPECT_FALSE(index.Erase(id)) << id;
  }
  ASSERT_NE(index.Find(5), nullptr);
  EXPECT_EQ(*index.Find(5), 7u);
}

TEST(OrderIdIndexTest, EmptiedPagesAreReused) {
  OrderIdIndex index;
  // Fill and empty many pages in turn: the pool must not grow past what is live at once.
  for (uint64_t round = 0; round < 100; ++round) {
    const uint64_t base = 1 + round * OrderIdIndex::kPageIds;
    for (uint64_t i = 0; i < OrderIdIndex::kPageIds; ++i) {
      index.Put(base + i, 1);
    }
    for (uint64_t i = 0; i < OrderIdIndex::kPageIds; ++i) {
      ASSERT_TRUE(index.Erase(base + i));
    }
  }
  EXPECT_EQ(index.size(), 0u);
  EXPECT_LE(index.page_count(), 2u);
}

}  // namespace
}  // namespace spotex::engine
