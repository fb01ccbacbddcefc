// The test harness's own guarantees, which the crash tests rely on.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "harness.h"

namespace spotex::testing {
namespace {

// A child started from a thread that then ends (as a crash test's killer thread restarts a
// service and returns) keeps running: it dies with the process, not with the thread.
TEST(HarnessTest, ChildOutlivesTheThreadThatStartedIt) {
  TempDir dir;
  pid_t pid = -1;
  std::thread([&] { pid = Spawn({"sleep", "30"}, dir.path() + "/sleep.log"); }).join();
  ASSERT_GT(pid, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int status = 0;
  EXPECT_FALSE(Exited(pid, &status)) << "the child died with its thread; wait status " << status;
  status = KillAndWait(pid, SIGTERM);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << status;
}

// A program that cannot be started gives a child that exits with 127, not a second test process.
TEST(HarnessTest, UnstartableProgramExits127) {
  TempDir dir;
  pid_t pid = Spawn({dir.path() + "/no-such-program"}, dir.path() + "/x.log");
  ASSERT_GT(pid, 0);
  int status = KillAndWait(pid, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 127) << status;
}

}  // namespace
}  // namespace spotex::testing
