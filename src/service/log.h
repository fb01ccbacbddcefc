// Structured logging for the services (docs/logging.md): one JSON object per line on stderr,
//   {"ts":"2026-11-26T21:50:00.123Z","level":"warn","component":"gateway","msg":"...",
//    "request_id":"...","account_id":7,"command_id":"..."}
// written through spdlog. Every string (message, field values, even keys) is escaped as a JSON
// string and invalid UTF-8 is replaced, so no input can break a line or forge a field.
//
// What is never logged: passwords, API secrets, session tokens, listenKeys, the master key and
// signatures. Callers must not pass them; the request log leaves out query strings (they hold
// signatures) and redacts long opaque path segments (a listenKey in /ws/<listenKey>).
//
// Thread-safety: every function may be called from any thread at any time, also before
// InitLog (the first line then sets up the default, synchronous logger).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace spotex::service {

enum class LogLevel { kInfo, kWarn, kError };

// The request context of a line; fields left empty are not written.
struct LogFields {
  std::string_view request_id;
  std::optional<uint64_t> account_id;
  // The engine command's id (the gateway's Nats-Msg-Id "<instance>-<n>").
  std::string_view command_id;
};

struct LogOptions {
  // Lines are formatted on the caller's thread and written by a background thread, so a slow
  // stderr (a pipe, a full disk) does not stall request threads. When the queue is full the
  // caller waits (no line is dropped). Pending lines are written at exit (atexit), but lines
  // still queued when the process dies abnormally (a crash, SIGKILL) are lost.
  bool async = false;
  size_t queue_lines = 16 * 1024;  // 1 .. 1'000'000
};

// Replaces the logger (idempotent in effect; the last call wins). Lines logged concurrently
// with the switch go to either logger. False (and nothing changes) for invalid options.
bool InitLog(const LogOptions& options);

// Writes everything queued and stops the background thread; later lines are written
// synchronously. Called at exit; call it before _exit or quick_exit.
void FlushLog();

// One line with the level, component and message.
void Log(LogLevel level, std::string_view component, std::string_view message);
// The same with the request context.
void Log(LogLevel level, std::string_view component, std::string_view message,
         const LogFields& fields);

// A line with fields of its own (the gateway's request log). Build it, then Write() once.
//   LogLine(LogLevel::kInfo, "http", "request").Str("method", "GET").Int("status", 200).Write();
// Keys should be constant identifiers; values may be anything (they are escaped). Not
// thread-safe (one owner); Write() is.
class LogLine {
 public:
  LogLine(LogLevel level, std::string_view component, std::string_view message);
  LogLine& Str(std::string_view key, std::string_view value);
  LogLine& Int(std::string_view key, int64_t value);
  LogLine& Uint(std::string_view key, uint64_t value);
  // Seconds with microsecond precision ("0.001234"), for durations.
  LogLine& Seconds(std::string_view key, double seconds);
  LogLine& Fields(const LogFields& fields);
  // Emits the line; later calls do nothing.
  void Write();
  // The line's body as it is written after "ts" (without the closing brace), for tests.
  const std::string& body() const { return body_; }

 private:
  LogLevel level_;
  std::string body_;
  bool written_ = false;
};

// Appends `text` to `out` as a JSON string literal, quotes included (json::AppendString:
// control characters escaped, invalid UTF-8 sequences replaced by U+FFFD).
void AppendJsonEscaped(std::string& out, std::string_view text);

}  // namespace spotex::service
