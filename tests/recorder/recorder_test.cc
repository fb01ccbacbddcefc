// spotex-recorder against real servers: catching up and its metrics, a clean stop on SIGTERM,
// a lost database session (back-off, re-open, resume), resuming from PostgreSQL's position
// when the durable consumer is ahead of it (a database restored to an older point), and the
// fail-stop on a message that is not an event batch.
#include "recorder/recorder.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "recorder_stack.h"
#include "workload.h"

namespace spotex::testing {
namespace {

std::vector<std::vector<std::byte>> Commands(uint64_t seed, size_t n) {
  Workload w(seed, 0.0);
  auto all = w.Prologue();
  while (all.size() < n) all.push_back(w.Next());
  return all;
}

// GET http://127.0.0.1:port/metrics; "" on failure.
std::string Scrape(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return {};
  }
  const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  (void)!::send(fd, req, sizeof req - 1, MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

// The value of an unlabelled metric line "name value", or -1.
int64_t MetricValue(const std::string& text, const std::string& name) {
  auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + name.size() + 2));
}

TEST(RecorderTest, CatchesUpServesMetricsAndStopsCleanlyOnSigterm) {
  RecorderStack stack;
  ASSERT_TRUE(stack.ok()) << stack.error();
  const int port = FreePort();
  stack.StartRecorder({"--metrics-port", std::to_string(port)});
  ASSERT_TRUE(stack.SubmitAll(Commands(1, 3000), "a"));
  const uint64_t last = stack.CommandLast();
  ASSERT_TRUE(stack.WaitPosition(last, 60000)) << stack.recorder_log();
  // The lag metrics are refreshed a few times a second.
  std::string text;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    text = Scrape(port);
    if (MetricValue(text, "spotex_recorder_position_command_seq") == static_cast<int64_t>(last) &&
        MetricValue(text, "spotex_recorder_lag_commands") == 0) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(MetricValue(text, "spotex_recorder_position_command_seq"), static_cast<int64_t>(last))
      << text;
  EXPECT_EQ(MetricValue(text, "spotex_recorder_lag_commands"), 0) << text;
  EXPECT_EQ(MetricValue(text, "spotex_recorder_lag_messages"), 0) << text;
  EXPECT_EQ(MetricValue(text, "spotex_recorder_applied_events_total"),
            static_cast<int64_t>(stack.ReadPosition().events))
      << text;
  EXPECT_GT(MetricValue(text, "spotex_recorder_batches_total"), 0) << text;
  EXPECT_NE(text.find("spotex_recorder_apply_seconds_bucket{le=\"+Inf\"}"), std::string::npos);

  int status = stack.StopRecorder(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << stack.recorder_log();
  // Stopped: what arrives now waits in the stream, and a restart picks it up.
  ASSERT_TRUE(stack.SubmitAll(Commands(2, 500), "b"));
  const uint64_t last2 = stack.CommandLast();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(stack.ReadPosition().command_seq, last);
  stack.StartRecorder();
  ASSERT_TRUE(stack.WaitPosition(last2, 60000)) << stack.recorder_log();
}

TEST(RecorderTest, RecoversFromALostDatabaseConnection) {
  RecorderStack stack;
  ASSERT_TRUE(stack.ok()) << stack.error();
  const int port = FreePort();
  stack.StartRecorder({"--metrics-port", std::to_string(port)});
  ASSERT_TRUE(stack.SubmitAll(Commands(5, 1000), "e"));
  ASSERT_TRUE(stack.WaitPosition(stack.CommandLast(), 60000)) << stack.recorder_log();
  // The server ends the recorder's session (as a failover or a restart would).
  auto killed = stack.db().Exec(
      "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      "WHERE application_name = 'spotex-recorder') t");
  ASSERT_TRUE(killed) << killed.error().message;
  ASSERT_GE(killed->Int64(0, 0).value_or(0), 1);
  ASSERT_TRUE(stack.SubmitAll(Commands(6, 1000), "f"));
  const uint64_t last = stack.CommandLast();
  ASSERT_TRUE(stack.WaitPosition(last, 60000)) << stack.recorder_log();
  EXPECT_GE(MetricValue(Scrape(port), "spotex_recorder_errors_total"), 1);
  EXPECT_NE(stack.recorder_log().find("restarting from the committed position"), std::string::npos)
      << stack.recorder_log();
  EXPECT_EQ(stack.ReadPosition().command_seq, last);
}

TEST(RecorderTest, ResumesFromTheDatabaseWhenTheDurableIsAhead) {
  RecorderStack stack;
  ASSERT_TRUE(stack.ok()) << stack.error();
  ASSERT_TRUE(stack.SubmitAll(Commands(3, 1500), "c"));
  auto evt_last = stack.client().nats().LastSeq(bus::EventStream(0));
  ASSERT_TRUE(evt_last);
  ASSERT_GT(*evt_last, 2u);
  // A durable that already acknowledged everything (as if the database had been restored to an
  // empty backup after the recorder had applied the stream).
  const std::string durable = recorder::Recorder::DurableName(0);
  const std::string stream = bus::EventStream(0), subject = bus::EventSubject(0);
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = durable.c_str();
  cc.FilterSubject = subject.c_str();
  cc.AckPolicy = js_AckAll;
  cc.DeliverPolicy = js_DeliverByStartSequence;
  cc.OptStartSeq = *evt_last + 1;
  jsConsumerInfo* ci = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_AddConsumer(&ci, stack.client().nats().js(), stream.c_str(), &cc, nullptr, &jerr),
            NATS_OK);
  jsConsumerInfo_Destroy(ci);

  stack.StartRecorder();
  const uint64_t last = stack.CommandLast();
  ASSERT_TRUE(stack.WaitPosition(last, 60000)) << "at " << stack.ReadPosition().command_seq << "\n"
                                               << stack.recorder_log();
  EXPECT_EQ(stack.ReadPosition().stream_seq, *evt_last);
}

TEST(RecorderTest, StopsOnAMessageThatIsNotAnEventBatch) {
  RecorderStack stack;
  ASSERT_TRUE(stack.ok()) << stack.error();
  stack.StartRecorder();
  ASSERT_TRUE(stack.SubmitAll(Commands(4, 300), "d"));
  const uint64_t last = stack.CommandLast();
  ASSERT_TRUE(stack.WaitPosition(last, 60000)) << stack.recorder_log();
  // Bytes on the event subject that are not a batch: nothing may be skipped silently.
  auto seq = stack.client().nats().PublishSync(bus::EventSubject(0), "not an event batch", "junk");
  ASSERT_TRUE(seq) << seq.error().message;
  int status = stack.WaitRecorderExit(30000);
  ASSERT_NE(status, -1) << "the recorder kept running\n" << stack.recorder_log();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  EXPECT_NE(stack.recorder_log().find("not a valid event batch"), std::string::npos)
      << stack.recorder_log();
  EXPECT_EQ(stack.ReadPosition().command_seq, last);
  EXPECT_LT(stack.ReadPosition().stream_seq, *seq);
  // A restart stops again at the same place: the message is never skipped.
  stack.StartRecorder();
  status = stack.WaitRecorderExit(30000);
  ASSERT_NE(status, -1) << stack.recorder_log();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
}

}  // namespace
}  // namespace spotex::testing
