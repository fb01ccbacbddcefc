#include "gateway/redis/redis_client.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>

#include "core/assert.h"

namespace spotex::gateway {
namespace {

constexpr size_t kSecretFileBytesMax = 4096;
constexpr std::chrono::milliseconds kTimeoutMax{60'000};

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

// hiredis writes with write(2): a peer that closed the socket raises SIGPIPE, which would kill
// a process that did not ignore it. Block it on this thread for the duration of a command and
// swallow one that the command raised.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_);
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      sigset_t pipe_set;
      sigemptyset(&pipe_set);
      sigaddset(&pipe_set, SIGPIPE);
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        timespec zero{};
        while (sigtimedwait(&pipe_set, nullptr, &zero) == -1 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t old_{};
  bool was_pending_ = false;
};

// Copies a hiredis reply; nullopt if it is larger than we ever ask for.
std::optional<RedisReply> CopyReply(const redisReply* r, int depth) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_NIL:
      out.type = RedisReply::Type::kNil;
      return out;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      return out;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      out.type = r->type == REDIS_REPLY_STRING   ? RedisReply::Type::kString
                 : r->type == REDIS_REPLY_STATUS ? RedisReply::Type::kStatus
                                                 : RedisReply::Type::kError;
      out.str.assign(r->str, r->len);
      return out;
    case REDIS_REPLY_ARRAY:
      if (depth > 4 || r->elements > kRedisReplyElementsMax) {
        return std::nullopt;
      }
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) {
        auto e = CopyReply(r->element[i], depth + 1);
        if (!e) {
          return std::nullopt;
        }
        out.elements.push_back(std::move(*e));
      }
      return out;
    default:
      return std::nullopt;
  }
}

// Why a command got no reply, as the pool must react to it.
enum class Failure { kNone, kTimeout, kClosed, kOther };

struct Outcome {
  RedisResult<RedisReply> result;
  Failure failure = Failure::kNone;
};

Outcome Run(redisContext* c, std::span<const std::string_view> argv) {
  const char* ptrs[kRedisArgsMax];
  size_t lens[kRedisArgsMax];
  for (size_t i = 0; i < argv.size(); ++i) {
    ptrs[i] = argv[i].data();
    lens[i] = argv[i].size();
  }
  void* raw = nullptr;
  int saved_errno = 0;
  {
    SigpipeGuard guard;
    errno = 0;
    raw = redisCommandArgv(c, static_cast<int>(argv.size()), ptrs, lens);
    saved_errno = errno;
  }
  if (raw == nullptr) {
    Failure f = Failure::kOther;
    if (c->err == REDIS_ERR_IO && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK)) {
      f = Failure::kTimeout;
    } else if (c->err == REDIS_ERR_EOF ||
               (c->err == REDIS_ERR_IO && (saved_errno == EPIPE || saved_errno == ECONNRESET))) {
      f = Failure::kClosed;
    }
    std::string what = f == Failure::kTimeout ? "redis command timed out" : "redis I/O error";
    return {std::unexpected(RedisError{what + ": " + c->errstr}), f};
  }
  auto* reply = static_cast<redisReply*>(raw);
  auto copied = CopyReply(reply, 0);
  freeReplyObject(reply);
  if (!copied) {
    return {std::unexpected(RedisError{"redis reply larger than expected"}), Failure::kOther};
  }
  return {std::move(*copied), Failure::kNone};
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> PercentDecode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) {
      return std::nullopt;
    }
    int hi = HexValue(in[i + 1]);
    int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

template <typename T>
bool ParseDecimal(std::string_view s, T& out) {
  if (s.empty()) {
    return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::expected<void, std::string> ValidateRedisConfig(const RedisConfig& c) {
  if (c.host.empty() || c.host.size() > kRedisHostBytesMax || HasNul(c.host)) {
    return std::unexpected("redis host must be 1.." + std::to_string(kRedisHostBytesMax) +
                           " bytes without NUL");
  }
  if (c.port < 1 || c.port > 65535) {
    return std::unexpected("redis port must be 1..65535");
  }
  if (c.db < 0 || c.db > 1023) {
    return std::unexpected("redis db must be 0..1023");
  }
  if (c.password.size() > kRedisPasswordBytesMax || HasNul(c.password) ||
      c.username.size() > kRedisPasswordBytesMax || HasNul(c.username)) {
    return std::unexpected("redis user or password too long or holds a NUL byte");
  }
  if (!c.username.empty() && c.password.empty()) {
    return std::unexpected("redis user given without a password");
  }
  for (auto t : {c.connect_timeout, c.command_timeout, c.breaker_open}) {
    if (t.count() < 1 || t > kTimeoutMax) {
      return std::unexpected("redis timeouts must be 1 ms..60 s");
    }
  }
  if (c.pool_size < 1 || c.pool_size > kRedisPoolSizeMax) {
    return std::unexpected("redis pool size must be 1.." + std::to_string(kRedisPoolSizeMax));
  }
  return {};
}

std::expected<RedisConfig, std::string> ParseRedisUrl(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (url.starts_with("rediss://") || url.starts_with("unix://")) {
    return std::unexpected(std::string("redis URL: TLS and Unix sockets are not supported"));
  }
  if (!url.starts_with(kScheme)) {
    return std::unexpected(std::string("redis URL must start with redis://"));
  }
  std::string_view rest = url.substr(kScheme.size());
  RedisConfig config;
  // Userinfo ends at the LAST '@': a password may contain '@' unescaped.
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      return std::unexpected(std::string("redis URL: userinfo must be [user]:password"));
    }
    auto user = PercentDecode(userinfo.substr(0, colon));
    auto password = PercentDecode(userinfo.substr(colon + 1));
    if (!user || !password) {
      return std::unexpected(std::string("redis URL: bad percent-escape in userinfo"));
    }
    config.username = std::move(*user);
    config.password = std::move(*password);
  }
  std::string_view hostport = rest;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    hostport = rest.substr(0, slash);
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && !ParseDecimal(db, config.db)) {
      return std::unexpected(std::string("redis URL: database must be a number"));
    }
  }
  std::string_view host = hostport;
  if (hostport.starts_with('[')) {  // [::1]:6379
    auto close = hostport.find(']');
    if (close == std::string_view::npos) {
      return std::unexpected(std::string("redis URL: unterminated [IPv6] host"));
    }
    host = hostport.substr(1, close - 1);
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':') || !ParseDecimal(after.substr(1), config.port)) {
        return std::unexpected(std::string("redis URL: bad port"));
      }
    }
  } else if (auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
    host = hostport.substr(0, colon);
    if (!ParseDecimal(hostport.substr(colon + 1), config.port)) {
      return std::unexpected(std::string("redis URL: bad port"));
    }
  }
  config.host.assign(host);
  if (auto ok = ValidateRedisConfig(config); !ok) {
    return std::unexpected("redis URL: " + ok.error());
  }
  return config;
}

std::expected<std::string, std::string> ReadRedisPasswordFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return std::unexpected("cannot open password file " + path + ": " + std::strerror(errno));
  }
  std::string buf(kSecretFileBytesMax, '\0');
  size_t n = std::fread(buf.data(), 1, buf.size(), f);
  bool read_error = std::ferror(f) != 0;
  std::fclose(f);
  if (read_error) {
    return std::unexpected("cannot read password file " + path);
  }
  buf.resize(n);
  if (auto eol = buf.find('\n'); eol != std::string::npos) {
    buf.resize(eol);
  }
  while (!buf.empty() && (buf.back() == '\r' || buf.back() == ' ' || buf.back() == '\t')) {
    buf.pop_back();
  }
  if (buf.empty() || HasNul(buf) || buf.size() > kRedisPasswordBytesMax) {
    return std::unexpected("password file " + path +
                           " is empty, holds a NUL byte or its first line is too long");
  }
  return buf;
}

void RedisPool::ContextDeleter::operator()(redisContext* c) const { redisFree(c); }

RedisPool::RedisPool(RedisConfig config) : config_(std::move(config)) {
  SPOTEX_ASSERT(ValidateRedisConfig(config_).has_value());
  idle_.reserve(config_.pool_size);
}

RedisPool::~RedisPool() {
  std::lock_guard lock(mu_);
  SPOTEX_ASSERT(leased_or_connecting_ == 0);
}

void RedisPool::OpenBreaker() {
  std::lock_guard lock(mu_);
  breaker_open_until_ = std::chrono::steady_clock::now() + config_.breaker_open;
}

RedisResult<RedisPool::Context> RedisPool::Connect() {
  Context c(redisConnectWithTimeout(config_.host.c_str(), config_.port,
                                    ToTimeval(config_.connect_timeout)));
  const std::string where = config_.host + ":" + std::to_string(config_.port);
  if (c == nullptr) {
    return std::unexpected(RedisError{"cannot connect to redis at " + where + ": out of memory"});
  }
  if (c->err != 0) {
    return std::unexpected(RedisError{"cannot connect to redis at " + where + ": " + c->errstr});
  }
  if (redisSetTimeout(c.get(), ToTimeval(config_.command_timeout)) != REDIS_OK) {
    return std::unexpected(RedisError{"cannot set the redis command timeout"});
  }
  if (!config_.password.empty()) {
    std::vector<std::string_view> auth = {"AUTH"};
    if (!config_.username.empty()) {
      auth.push_back(config_.username);
    }
    auth.push_back(config_.password);
    auto out = Run(c.get(), auth);
    if (!out.result) {
      return std::unexpected(RedisError{"redis AUTH at " + where + ": " + out.result.error().message});
    }
    if (out.result->is_error()) {
      // The server's text ("WRONGPASS invalid username-password pair ...") holds no secret.
      return std::unexpected(RedisError{"redis AUTH at " + where + " refused: " + out.result->str});
    }
  }
  if (config_.db != 0) {
    std::string db = std::to_string(config_.db);
    auto out = Run(c.get(), std::vector<std::string_view>{"SELECT", db});
    if (!out.result || out.result->is_error()) {
      return std::unexpected(RedisError{"redis SELECT " + db + " at " + where + " failed"});
    }
  }
  return c;
}

RedisResult<RedisPool::Context> RedisPool::Acquire() {
  {
    std::unique_lock lock(mu_);
    const auto deadline = std::chrono::steady_clock::now() + config_.command_timeout;
    while (idle_.empty() && leased_or_connecting_ >= config_.pool_size) {
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout &&
          idle_.empty() && leased_or_connecting_ >= config_.pool_size) {
        return std::unexpected(RedisError{"no free redis connection in time"});
      }
    }
    if (!idle_.empty()) {
      Context c = std::move(idle_.back());
      idle_.pop_back();
      ++leased_or_connecting_;
      return c;
    }
    // A connect would be needed: not while the breaker is open (Redis failed a moment ago).
    if (std::chrono::steady_clock::now() < breaker_open_until_) {
      return std::unexpected(RedisError{"redis unavailable (recent failure; retrying shortly)"});
    }
    ++leased_or_connecting_;
  }
  auto c = Connect();
  if (!c) {
    OpenBreaker();
    Release(nullptr);
  }
  return c;
}

void RedisPool::Release(Context context) {
  {
    std::lock_guard lock(mu_);
    SPOTEX_ASSERT(leased_or_connecting_ > 0);
    --leased_or_connecting_;
    if (context != nullptr) {
      idle_.push_back(std::move(context));
    }
  }
  cv_.notify_one();
}

RedisResult<RedisReply> RedisPool::Command(std::span<const std::string_view> argv) {
  SPOTEX_ASSERT(!argv.empty() && argv.size() <= kRedisArgsMax);
  // A pooled connection the server closed while idle (restart, idle timeout) fails once with
  // "closed"; the command then never ran, so it is tried once more on a fresh connection.
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = false;
    {
      std::lock_guard lock(mu_);
      reused = !idle_.empty();
    }
    auto c = Acquire();
    if (!c) {
      return std::unexpected(c.error());
    }
    auto out = Run(c->get(), argv);
    if (out.failure == Failure::kNone) {
      Release(std::move(*c));
      return std::move(out.result);
    }
    Release(nullptr);
    if (out.failure == Failure::kTimeout) {
      OpenBreaker();  // a hung server: do not make every request wait the full timeout
    }
    if (!(out.failure == Failure::kClosed && reused)) {
      return std::move(out.result);
    }
  }
  return std::unexpected(RedisError{"redis connection closed"});
}

RedisResult<RedisReply> RedisPool::Eval(RedisScript& script,
                                        std::span<const std::string_view> keys,
                                        std::span<const std::string_view> args) {
  SPOTEX_ASSERT(3 + keys.size() + args.size() <= kRedisArgsMax);
  std::string sha;
  {
    std::lock_guard lock(script.mu_);
    sha = script.sha_;
  }
  if (sha.empty()) {
    auto loaded = Command({"SCRIPT", "LOAD", script.source_});
    if (!loaded) {
      return loaded;
    }
    if (loaded->type != RedisReply::Type::kString) {
      return std::unexpected(RedisError{"SCRIPT LOAD failed: " + loaded->str});
    }
    sha = loaded->str;
    std::lock_guard lock(script.mu_);
    script.sha_ = sha;
  }
  std::string numkeys = std::to_string(keys.size());
  std::vector<std::string_view> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back("EVALSHA");
  argv.push_back(sha);
  argv.push_back(numkeys);
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  auto reply = Command(argv);
  if (reply && reply->is_error() && reply->str.starts_with("NOSCRIPT")) {
    // Redis lost its script cache (restart, SCRIPT FLUSH, failover): EVAL sends the source
    // and caches it again, so the next EVALSHA works.
    argv[0] = "EVAL";
    argv[1] = script.source_;
    reply = Command(argv);
  }
  return reply;
}

RedisResult<void> RedisPool::Ping() {
  auto reply = Command({"PING"});
  if (!reply) {
    return std::unexpected(reply.error());
  }
  if (reply->type != RedisReply::Type::kStatus) {
    return std::unexpected(RedisError{"PING: unexpected reply " + reply->str});
  }
  return {};
}

}  // namespace spotex::gateway
