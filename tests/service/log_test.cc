// service::Log: every line is one JSON object (whatever the message holds), the context fields
// appear when given, and the asynchronous logger writes every line by the time FlushLog returns.
// The lines go to stderr: each test redirects file descriptor 2 into a temporary file.
#include "service/log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace spotex::service {
namespace {

// Redirects stderr into a file for its lifetime; lines() reads what was written.
class CaptureStderr {
 public:
  CaptureStderr() {
    char name[] = "/tmp/spotex-log-test-XXXXXX";
    const int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    path_ = name;
    std::fflush(stderr);
    saved_ = dup(2);
    dup2(fd, 2);
    close(fd);
  }
  ~CaptureStderr() {
    Restore();
    unlink(path_.c_str());
  }
  void Restore() {
    if (saved_ >= 0) {
      std::fflush(stderr);
      dup2(saved_, 2);
      close(saved_);
      saved_ = -1;
    }
  }
  std::vector<std::string> lines() {
    std::fflush(stderr);
    std::ifstream in(path_);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) {
      out.push_back(line);
    }
    return out;
  }

 private:
  std::string path_;
  int saved_ = -1;
};

// A minimal check that `line` is one JSON object of string/number members: returns the members
// in order as "key=value" (strings unescaped for \" \\ \n and \uXXXX kept as is), or an empty
// vector when the syntax is wrong.
std::vector<std::string> Members(const std::string& line) {
  std::vector<std::string> out;
  size_t i = 0;
  auto str = [&](std::string& s) {
    if (i >= line.size() || line[i] != '"') return false;
    for (++i; i < line.size(); ++i) {
      const char c = line[i];
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c == '"') {
        ++i;
        return true;
      }
      if (c == '\\') {
        if (++i >= line.size()) return false;
        const char e = line[i];
        if (e == 'u') {
          if (i + 4 >= line.size()) return false;
          s += "\\u" + line.substr(i + 1, 4);
          i += 4;
        } else if (e == 'n') {
          s += '\n';
        } else if (e == '"' || e == '\\' || e == '/') {
          s += e;
        } else if (e == 'r' || e == 't' || e == 'b' || e == 'f') {
          s += ' ';
        } else {
          return false;
        }
        continue;
      }
      s += c;
    }
    return false;
  };
  if (line.empty() || line[i++] != '{') return {};
  for (;;) {
    std::string key, value;
    if (!str(key) || i >= line.size() || line[i++] != ':') return {};
    if (i < line.size() && line[i] == '"') {
      if (!str(value)) return {};
    } else {
      while (i < line.size() && (std::isdigit(static_cast<unsigned char>(line[i])) ||
                                 line[i] == '-' || line[i] == '.')) {
        value += line[i++];
      }
      if (value.empty()) return {};
    }
    out.push_back(key + "=" + value);
    if (i >= line.size()) return {};
    if (line[i] == '}') return i + 1 == line.size() ? out : std::vector<std::string>{};
    if (line[i++] != ',') return {};
  }
}

TEST(LogTest, LineIsOneJsonObjectWithTimestampLevelComponentAndMessage) {
  CaptureStderr cap;
  ASSERT_TRUE(InitLog({}));
  Log(LogLevel::kWarn, "gateway", "listening on 8080");
  const auto lines = cap.lines();
  ASSERT_EQ(lines.size(), 1u);
  const auto m = Members(lines[0]);
  ASSERT_EQ(m.size(), 4u) << lines[0];
  EXPECT_TRUE(m[0].starts_with("ts=20")) << m[0];
  EXPECT_TRUE(m[0].ends_with("Z")) << m[0];
  EXPECT_EQ(m[1], "level=warn");
  EXPECT_EQ(m[2], "component=gateway");
  EXPECT_EQ(m[3], "msg=listening on 8080");
}

TEST(LogTest, HostileTextCannotBreakTheLineOrForgeAField) {
  CaptureStderr cap;
  ASSERT_TRUE(InitLog({}));
  const std::string evil = "a\"b\\c\nd\r\te\x01\x7f\",\"level\":\"error\"}\n{\"x\":\"" +
                           std::string("\xff\xc3(") + std::string(1, '\0') +
                           "\xed\xa0\x80 \xc3\xa9";
  Log(LogLevel::kInfo, evil, evil, LogFields{.request_id = evil, .command_id = evil});
  const auto lines = cap.lines();
  ASSERT_EQ(lines.size(), 1u);
  const auto m = Members(lines[0]);
  ASSERT_EQ(m.size(), 6u) << lines[0];
  EXPECT_EQ(m[1], "level=info");
  EXPECT_TRUE(m[3].starts_with("msg=a\"b\\c\nd")) << m[3];
  EXPECT_NE(lines[0].find("\\u0001"), std::string::npos);
  EXPECT_NE(lines[0].find("\\u007f"), std::string::npos);
  EXPECT_NE(lines[0].find("\\u0000"), std::string::npos);
  // Invalid UTF-8 (a stray byte, a truncated sequence, a surrogate) is replaced; valid stays.
  EXPECT_NE(lines[0].find("\\ufffd"), std::string::npos);
  EXPECT_EQ(lines[0].find('\xff'), std::string::npos);
  EXPECT_EQ(lines[0].find("\xed\xa0\x80"), std::string::npos);
  EXPECT_NE(lines[0].find("\xc3\xa9"), std::string::npos);
}

TEST(LogTest, ContextAndOwnFields) {
  CaptureStderr cap;
  ASSERT_TRUE(InitLog({}));
  Log(LogLevel::kError, "gateway", "order timed out",
      LogFields{.request_id = "r-1", .account_id = 0, .command_id = "abc-7"});
  Log(LogLevel::kInfo, "gateway", "no context", LogFields{});
  LogLine(LogLevel::kInfo, "http", "request")
      .Str("method", "GET")
      .Int("status", 429)
      .Int("code", -1003)
      .Seconds("duration_s", 0.0012345)
      .Write();
  const auto lines = cap.lines();
  ASSERT_EQ(lines.size(), 3u);
  auto m = Members(lines[0]);
  ASSERT_EQ(m.size(), 7u) << lines[0];
  EXPECT_EQ(m[4], "request_id=r-1");
  EXPECT_EQ(m[5], "account_id=0");  // account 0 (the fee account) is an account
  EXPECT_EQ(m[6], "command_id=abc-7");
  EXPECT_EQ(Members(lines[1]).size(), 4u) << lines[1];
  m = Members(lines[2]);
  ASSERT_EQ(m.size(), 8u) << lines[2];
  EXPECT_EQ(m[4], "method=GET");
  EXPECT_EQ(m[5], "status=429");
  EXPECT_EQ(m[6], "code=-1003");
  EXPECT_EQ(m[7], "duration_s=0.001234");
}

TEST(LogTest, AsyncWritesEveryLineFromManyThreadsByFlush) {
  CaptureStderr cap;
  ASSERT_TRUE(InitLog({.async = true, .queue_lines = 64}));  // small: the queue fills and waits
  constexpr int kThreads = 4;
  constexpr int kLines = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kLines; ++i) {
        Log(LogLevel::kInfo, "t" + std::to_string(t), std::string(100, 'x') + std::to_string(i));
      }
    });
  }
  for (auto& th : threads) th.join();
  FlushLog();
  const auto lines = cap.lines();
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kLines));
  for (const auto& line : lines) {
    ASSERT_EQ(Members(line).size(), 4u) << line;  // no two lines interleaved
  }
  ASSERT_TRUE(InitLog({}));
}

TEST(LogTest, RejectsInvalidOptions) {
  EXPECT_FALSE(InitLog({.async = true, .queue_lines = 0}));
  EXPECT_FALSE(InitLog({.async = true, .queue_lines = 2'000'000}));
}

}  // namespace
}  // namespace spotex::service
