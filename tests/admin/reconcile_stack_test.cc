// Reconcile against what the real spotex-recorder wrote (tests/recorder/recorder_stack.h):
// zero differences after a random workload, and zero while the workload keeps running, with
// small pages so that every page is taken at a different engine seq.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "admin/reconcile.h"
#include "recorder_stack.h"
#include "workload.h"

namespace spotex::testing {
namespace {

std::vector<std::vector<std::byte>> Commands(uint64_t seed, size_t n, bool prologue) {
  Workload w(seed, 0.0);
  std::vector<std::vector<std::byte>> all;
  if (prologue) all = w.Prologue();
  while (all.size() < n) all.push_back(w.Next());
  return all;
}

admin::EngineQuery Engine(RecorderStack& stack) {
  return [&stack](const std::string& q) -> std::expected<std::string, std::string> {
    auto r = stack.client().Query(q, 5000);
    if (!r) return std::unexpected(r.error().message);
    if (r->starts_with("{\"error\"")) return std::unexpected(*r);
    return *r;
  };
}

TEST(ReconcileStackTest, ZeroDifferencesAfterAndDuringARandomWorkload) {
  RecorderStack stack;
  ASSERT_TRUE(stack.ok()) << stack.error();
  stack.StartRecorder();
  ASSERT_TRUE(stack.SubmitAll(Commands(11, 3000, true), "a"));

  admin::ReconcileOptions o;
  o.wait_ms = 60000;
  auto quiet = admin::Reconcile(stack.db(), Engine(stack), o);
  ASSERT_TRUE(quiet.has_value()) << quiet.error() << stack.recorder_log();
  EXPECT_EQ(quiet->differences(), 0u) << admin::FormatReport(*quiet);
  EXPECT_EQ(quiet->accounts, Workload::kAccounts + 1);  // and the fee account
  EXPECT_EQ(quiet->engine_seq_min, quiet->engine_seq_max);

  // Under load: the engine moves between pages, the recorder follows behind.
  std::atomic<bool> done = false;
  std::thread load([&] {
    EXPECT_TRUE(stack.SubmitAll(Commands(12, 3000, false), "b", 50)) << "load not answered";
    done = true;
  });
  o.page_accounts = 5;
  int runs = 0, moving = 0;
  // No ASSERT while the load thread runs: returning early would destroy it joinable.
  while (!done && runs < 20) {
    auto busy = admin::Reconcile(stack.db(), Engine(stack), o);
    EXPECT_TRUE(busy.has_value()) << busy.error() << stack.recorder_log();
    if (!busy) break;
    EXPECT_EQ(busy->differences(), 0u) << admin::FormatReport(*busy);
    ++runs;
    moving += busy->engine_seq_min < busy->engine_seq_max;
  }
  load.join();
  EXPECT_GE(runs, 1);
  std::printf("reconciled %d times under load, %d with pages at different seqs\n", runs, moving);
  auto after = admin::Reconcile(stack.db(), Engine(stack), o);
  ASSERT_TRUE(after.has_value()) << after.error() << stack.recorder_log();
  EXPECT_EQ(after->differences(), 0u) << admin::FormatReport(*after);
}

}  // namespace
}  // namespace spotex::testing
