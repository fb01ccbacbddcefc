// Event envelopes and batches: round trip, and every kind of damaged input is refused without
// reading outside the bytes (run under ASan in the debug preset).
#include "proto/envelope.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "engine/engine.h"

namespace spotex::proto {
namespace {

using engine::Command;

// Envelopes of a few real commands: asset listings, an account, a deposit, a bad command.
std::vector<std::vector<std::byte>> SomeEnvelopes() {
  engine::Engine e;
  std::vector<std::vector<std::byte>> out;
  engine::AddAsset btc, usdt;
  (void)btc.name.Assign("BTC");
  (void)usdt.name.Assign("USDT");
  std::vector<Command> cmds = {Command{1, 1000, btc}, Command{2, 1001, usdt},
                               Command{3, 1002, engine::OpenAccount{7}},
                               Command{4, 1003, engine::Deposit{7, 1, engine::Amount{500}}},
                               Command{5, 1004, engine::Withdraw{7, 1, engine::Amount{501}}}};
  for (const auto& c : cmds) {
    std::vector<std::byte> env;
    AppendEnvelope(3, c, e.Apply(c), env);
    out.push_back(env);
  }
  std::vector<std::byte> bad;
  AppendMalformedEnvelope(3, 6, 1005, DecodeError::kBadMagic, bad);
  out.push_back(bad);
  return out;
}

std::vector<std::byte> Batch(const std::vector<std::vector<std::byte>>& envs, uint64_t first,
                             uint64_t last) {
  std::vector<std::byte> b(kBatchHeaderBytes);
  WriteBatchHeader(static_cast<uint32_t>(envs.size()), first, last, b.data());
  for (const auto& e : envs) b.insert(b.end(), e.begin(), e.end());
  return b;
}

TEST(Envelope, RoundTripsHeaderAndRecords) {
  auto envs = SomeEnvelopes();
  auto dep = Envelope::Parse(envs[3]);
  ASSERT_TRUE(dep);
  EXPECT_EQ(dep->header().shard, 3u);
  EXPECT_EQ(dep->header().seq, 4u);
  EXPECT_EQ(dep->header().time_ms, 1003);
  EXPECT_EQ(dep->header().code, engine::RejectCode::kNone);
  EXPECT_FALSE(dep->header().malformed);
  int balances = 0;
  for (auto r = dep->reader(); !r.Done(); r.Next()) {
    EXPECT_EQ(r.header().seq, 4u);
    if (const auto* b = r.If<engine::BalanceChanged>()) {
      ++balances;
      EXPECT_EQ(b->free.v, 500);
    }
  }
  EXPECT_EQ(balances, 1);
  auto wd = Envelope::Parse(envs[4]);
  ASSERT_TRUE(wd);
  EXPECT_EQ(wd->header().code, engine::RejectCode::kInsufficientBalance);
  auto bad = Envelope::Parse(envs[5]);
  ASSERT_TRUE(bad);
  EXPECT_TRUE(bad->header().malformed);
  EXPECT_EQ(bad->header().decode_error, DecodeError::kBadMagic);
  EXPECT_EQ(bad->header().event_count, 1u);
}

TEST(Envelope, ParsesFromUnalignedBytes) {
  auto envs = SomeEnvelopes();
  std::vector<std::byte> shifted(envs[3].size() + 1);
  std::memcpy(shifted.data() + 1, envs[3].data(), envs[3].size());
  auto env = Envelope::Parse(std::span(shifted).subspan(1));
  ASSERT_TRUE(env);
  EXPECT_EQ(env->events().size(), envs[3].size() - kEnvelopeHeaderBytes);
}

TEST(Envelope, RefusesDamage) {
  auto good = SomeEnvelopes()[3];
  EXPECT_EQ(Envelope::Parse(std::span(good).first(10)).error(), EnvelopeError::kTruncated);
  EXPECT_EQ(Envelope::Parse(std::span(good).first(good.size() - 8)).error(),
            EnvelopeError::kTruncated);
  auto bad = good;
  bad[0] = std::byte{'X'};
  EXPECT_EQ(Envelope::Parse(bad).error(), EnvelopeError::kBadMagic);
  bad = good;
  bad[4] = std::byte{9};
  EXPECT_EQ(Envelope::Parse(bad).error(), EnvelopeError::kBadVersion);
  bad = good;
  bad[kEnvelopeHeaderBytes + 12] = std::byte{0x7f};  // first record's type
  EXPECT_EQ(Envelope::Parse(bad).error(), EnvelopeError::kBadRecord);
  bad = good;
  bad[12] = std::byte{9};  // event count
  EXPECT_EQ(Envelope::Parse(bad).error(), EnvelopeError::kBadRecord);
  bad = good;
  bad.push_back(std::byte{0});
  EXPECT_EQ(Envelope::Parse(bad).error(), EnvelopeError::kBadRecord);
}

TEST(EventBatch, RoundTripsAndChecksItsSeqs) {
  auto envs = SomeEnvelopes();
  auto bytes = Batch(envs, 1, 6);
  auto batch = ParseBatch(bytes);
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->envelopes.size(), 6u);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(batch->envelopes[i].header().seq, i + 1);
    EXPECT_EQ(std::vector<std::byte>(batch->raw[i].begin(), batch->raw[i].end()), envs[i]);
  }
  EXPECT_FALSE(ParseBatch(Batch(envs, 2, 6)));                // first seq does not match
  EXPECT_FALSE(ParseBatch(Batch(envs, 1, 5)));                // last seq does not match
  EXPECT_FALSE(ParseBatch(Batch({envs[1], envs[0]}, 2, 1)));  // not increasing
  EXPECT_FALSE(ParseBatch(Batch({}, 0, 0)));                  // empty
  bytes.pop_back();
  EXPECT_FALSE(ParseBatch(bytes));
}

TEST(EventBatch, RandomDamageNeverCrashes) {
  auto good = Batch(SomeEnvelopes(), 1, 6);
  std::mt19937_64 rng(42);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    auto b = good;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits; ++k) {
      switch (rng() % 3) {
        case 0:
          b[rng() % b.size()] = static_cast<std::byte>(rng());
          break;
        case 1:
          b.resize(rng() % (b.size() + 1));
          break;
        default:
          b.insert(b.begin() + static_cast<long>(rng() % (b.size() + 1)), std::byte{0});
      }
      if (b.empty()) break;
    }
    auto r = ParseBatch(b);
    if (r) {
      ++accepted;
      for (const auto& env : r->envelopes) {
        for (auto rd = env.reader(); !rd.Done(); rd.Next()) {
          (void)rd.header();
        }
      }
    }
  }
  EXPECT_LT(accepted, 20000);
}

}  // namespace
}  // namespace spotex::proto
