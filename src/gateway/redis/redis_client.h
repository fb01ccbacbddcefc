// A small synchronous Redis client for the gateway's shared stores (rate limits, sessions,
// replay cache): a fixed-size, thread-safe pool of hiredis connections, binary-safe commands
// (redisCommandArgv), Lua scripts run by SHA with a fallback to EVAL, and a short circuit
// breaker so that a Redis outage costs each request nothing instead of a connect timeout.
//
// Every call is bounded: connecting by `connect_timeout`, each command by `command_timeout`,
// waiting for a free connection by `command_timeout` too. A connection that saw an I/O error
// or a protocol error is closed and replaced on a later call. Errors are values, never
// exceptions; they never contain the password.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct redisContext;

namespace spotex::gateway {

// Limits on what a caller can hand us.
inline constexpr size_t kRedisArgsMax = 64;
inline constexpr size_t kRedisPasswordBytesMax = 1024;
inline constexpr size_t kRedisHostBytesMax = 255;
inline constexpr size_t kRedisPoolSizeMax = 256;
// Replies deeper or wider than this are treated as a protocol error (we never ask for such).
inline constexpr size_t kRedisReplyElementsMax = 1024;

// Where and how to connect.
struct RedisConfig {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string username;  // ACL user for AUTH; empty = the default user (AUTH <password>)
  std::string password;  // empty = no AUTH; never logged, never in an error
  int db = 0;            // SELECT'ed after AUTH when not 0
  std::chrono::milliseconds connect_timeout{200};
  std::chrono::milliseconds command_timeout{200};
  size_t pool_size = 8;
  // After a failed connect or a command timeout, calls fail at once for this long.
  std::chrono::milliseconds breaker_open{1000};
};

// Checks ranges: port 1..65535, db 0..1023, timeouts 1 ms..60 s, pool 1..256, a
// non-empty host of at most 255 bytes without NUL, password without NUL.
[[nodiscard]] std::expected<void, std::string> ValidateRedisConfig(const RedisConfig& config);

// Parses `redis://[[user]:password@]host[:port][/db]` (port default 6379, db default 0) into
// a config with the default timeouts. Percent-escapes in user and password are decoded.
// `rediss://` (TLS) and Unix sockets are not supported: an error says so.
[[nodiscard]] std::expected<RedisConfig, std::string> ParseRedisUrl(std::string_view url);

// Reads a secret file: its first line, trailing CR/space/tab cut, at most 4096 bytes read.
// Errors name the path, never the content.
[[nodiscard]] std::expected<std::string, std::string> ReadRedisPasswordFile(
    const std::string& path);

// One reply, copied out of hiredis. Error replies ("-ERR ...", "-NOSCRIPT ...") are replies,
// not transport errors: the connection is fine and the caller decides.
struct RedisReply {
  enum class Type { kNil, kInteger, kString, kStatus, kError, kArray };
  Type type = Type::kNil;
  int64_t integer = 0;
  std::string str;  // kString, kStatus, kError
  std::vector<RedisReply> elements;

  bool is_error() const { return type == Type::kError; }
};

// A call that did not get a reply: unreachable, timed out, pool exhausted, breaker open, AUTH
// refused, or a protocol error.
struct RedisError {
  std::string message;
};

template <typename T>
using RedisResult = std::expected<T, RedisError>;

// A Lua script: its source, and its SHA1 once Redis told us (SCRIPT LOAD). Thread-safe; keep
// one instance per script for the life of the pool that runs it.
class RedisScript {
 public:
  explicit RedisScript(std::string source) : source_(std::move(source)) {}
  const std::string& source() const { return source_; }

 private:
  friend class RedisPool;
  std::string source_;
  std::mutex mu_;
  std::string sha_;  // "" until loaded
};

class RedisPool {
 public:
  // `config` must pass ValidateRedisConfig (asserted). Connects lazily: constructing never
  // blocks and never fails.
  explicit RedisPool(RedisConfig config);
  ~RedisPool();
  RedisPool(const RedisPool&) = delete;
  RedisPool& operator=(const RedisPool&) = delete;

  // Runs one command (argv[0] is the command name; 1..kRedisArgsMax binary-safe args).
  // Thread-safe; blocks at most about connect_timeout + command_timeout.
  [[nodiscard]] RedisResult<RedisReply> Command(std::span<const std::string_view> argv);
  [[nodiscard]] RedisResult<RedisReply> Command(std::initializer_list<std::string_view> argv) {
    return Command(std::span<const std::string_view>(argv.begin(), argv.size()));
  }

  // EVALSHA of `script` with `keys` and `args`, loading it first (SCRIPT LOAD) when this pool
  // has not yet, and falling back to EVAL when Redis answers NOSCRIPT (restarted or flushed):
  // one round trip per call after the first. Error replies of the script come back as kError
  // replies.
  [[nodiscard]] RedisResult<RedisReply> Eval(RedisScript& script,
                                             std::span<const std::string_view> keys,
                                             std::span<const std::string_view> args);

  // PING; for health checks.
  [[nodiscard]] RedisResult<void> Ping();

  const RedisConfig& config() const { return config_; }

 private:
  struct ContextDeleter {
    void operator()(redisContext* c) const;
  };
  using Context = std::unique_ptr<redisContext, ContextDeleter>;

  RedisResult<Context> Acquire();
  void Release(Context context);  // nullptr = the connection was dropped
  RedisResult<Context> Connect();
  void OpenBreaker();

  const RedisConfig config_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Context> idle_;
  size_t leased_or_connecting_ = 0;
  std::chrono::steady_clock::time_point breaker_open_until_{};
};

}  // namespace spotex::gateway
