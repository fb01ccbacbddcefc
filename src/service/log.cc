#include "service/log.h"

#include "core/json_string.h"

#include <spdlog/async_logger.h>
#include <spdlog/details/thread_pool.h>
#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>

namespace spotex::service {
namespace {

// The timestamp is added by spdlog (it caches the formatted second); the rest of the object
// is built by LogLine, so the line is valid JSON whatever the message holds.
constexpr const char* kPattern = R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ",%v})";
constexpr size_t kQueueLinesMax = 1'000'000;

struct State {
  std::atomic<std::shared_ptr<spdlog::logger>> logger;
  std::mutex init_mu;                                  // serializes InitLog and FlushLog
  std::shared_ptr<spdlog::details::thread_pool> pool;  // the async logger's, if any
  bool atexit_registered = false;
};

std::shared_ptr<spdlog::sinks::sink> MakeSink() {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  sink->set_formatter(
      std::make_unique<spdlog::pattern_formatter>(kPattern, spdlog::pattern_time_type::utc));
  return sink;
}

std::shared_ptr<spdlog::logger> MakeSyncLogger() {
  auto logger = std::make_shared<spdlog::logger>("spotex", MakeSink());
  logger->set_level(spdlog::level::trace);
  logger->flush_on(spdlog::level::trace);
  return logger;
}

// Never destroyed: lines may be logged from static destructors and detached threads.
State& GetState() {
  static State* state = [] {
    auto* s = new State;
    s->logger.store(MakeSyncLogger());
    return s;
  }();
  return *state;
}

spdlog::level::level_enum ToSpdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::err;
}

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "error";
}

void AppendKey(std::string& out, std::string_view key) {
  out += ',';
  AppendJsonEscaped(out, key);
  out += ':';
}

// `,"key":<value>` for an integer of either sign.
template <typename Integer>
void AppendNumber(std::string& out, std::string_view key, Integer value) {
  AppendKey(out, key);
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

}  // namespace

void AppendJsonEscaped(std::string& out, std::string_view text) {
  json::AppendString(out, text);
}

bool InitLog(const LogOptions& options) {
  if (options.async && (options.queue_lines < 1 || options.queue_lines > kQueueLinesMax)) {
    return false;
  }
  State& state = GetState();
  std::lock_guard lock(state.init_mu);
  std::shared_ptr<spdlog::details::thread_pool> old_pool = std::move(state.pool);
  if (options.async) {
    state.pool = std::make_shared<spdlog::details::thread_pool>(options.queue_lines, 1);
    auto logger = std::make_shared<spdlog::async_logger>("spotex", MakeSink(), state.pool,
                                                         spdlog::async_overflow_policy::block);
    logger->set_level(spdlog::level::trace);
    state.logger.store(std::move(logger));
    if (!state.atexit_registered) {
      state.atexit_registered = true;
      std::atexit(FlushLog);
    }
  } else {
    state.logger.store(MakeSyncLogger());
  }
  // Dropping the old pool writes what it still holds and joins its thread (once the lines
  // being posted by other threads, which hold it for the moment, are in).
  old_pool.reset();
  return true;
}

void FlushLog() {
  State& state = GetState();
  std::lock_guard lock(state.init_mu);
  if (state.pool == nullptr) {
    state.logger.load()->flush();
    return;
  }
  state.logger.store(MakeSyncLogger());
  state.pool.reset();
}

void Log(LogLevel level, std::string_view component, std::string_view message) {
  LogLine(level, component, message).Write();
}

void Log(LogLevel level, std::string_view component, std::string_view message,
         const LogFields& fields) {
  LogLine(level, component, message).Fields(fields).Write();
}

LogLine::LogLine(LogLevel level, std::string_view component, std::string_view message)
    : level_(level) {
  body_.reserve(96 + message.size());
  body_ += "\"level\":\"";
  body_ += LevelName(level);
  body_ += '"';
  AppendKey(body_, "component");
  AppendJsonEscaped(body_, component);
  AppendKey(body_, "msg");
  AppendJsonEscaped(body_, message);
}

LogLine& LogLine::Str(std::string_view key, std::string_view value) {
  AppendKey(body_, key);
  AppendJsonEscaped(body_, value);
  return *this;
}

LogLine& LogLine::Int(std::string_view key, int64_t value) {
  AppendNumber(body_, key, value);
  return *this;
}

LogLine& LogLine::Uint(std::string_view key, uint64_t value) {
  AppendNumber(body_, key, value);
  return *this;
}

LogLine& LogLine::Seconds(std::string_view key, double seconds) {
  AppendKey(body_, key);
  char buf[32];
  // Not NaN/inf: JSON has no literal for them.
  if (!(seconds == seconds) || seconds > 1e12 || seconds < -1e12) {
    seconds = 0;
  }
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, seconds, std::chars_format::fixed, 6);
  body_.append(buf, end);
  return *this;
}

LogLine& LogLine::Fields(const LogFields& fields) {
  if (!fields.request_id.empty()) {
    Str("request_id", fields.request_id);
  }
  if (fields.account_id.has_value()) {
    Uint("account_id", *fields.account_id);
  }
  if (!fields.command_id.empty()) {
    Str("command_id", fields.command_id);
  }
  return *this;
}

void LogLine::Write() {
  if (written_) {
    return;
  }
  written_ = true;
  std::shared_ptr<spdlog::logger> logger = GetState().logger.load();
  logger->log(ToSpdlog(level_), spdlog::string_view_t(body_.data(), body_.size()));
}

}  // namespace spotex::service
