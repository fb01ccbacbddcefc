// A real, throwaway redis-server for tests (DESIGN.md §1 principle 5: no mocks): on a free
// loopback port, in a temporary directory, with a password (requirepass) and no persistence.
// It dies with the test process (PR_SET_PDEATHSIG) and is stopped by the destructor.
// Binary: $SPOTEX_REDIS_SERVER, default /usr/bin/redis-server.
#pragma once

#include <sys/types.h>

#include <expected>
#include <memory>
#include <string>

#include "gateway/redis/redis_client.h"

namespace spotex::testing {

class RedisServer {
 public:
  // Starts the server and waits until it answers PING (at most 10 s). On failure: what went
  // wrong and the end of its log.
  static std::expected<std::unique_ptr<RedisServer>, std::string> Start();
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // SIGKILL and wait: Redis is gone (connections see EOF, connects are refused).
  void Stop();
  // SIGSTOP / SIGCONT: a hung server (connections stay open, nothing answers).
  void Pause();
  void Resume();
  // Starts it again on the same port (empty: nothing was persisted).
  std::expected<void, std::string> Restart();

  int port() const { return port_; }
  const std::string& password() const { return password_; }
  const std::string& dir() const { return dir_; }
  bool running() const { return pid_ > 0; }
  // A client config for this server with short timeouts.
  gateway::RedisConfig Config() const;

 private:
  RedisServer() = default;
  std::expected<void, std::string> Launch();

  std::string dir_, log_path_, password_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace spotex::testing
