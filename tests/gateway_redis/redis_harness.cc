#include "redis_harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

namespace spotex::testing {
namespace {

namespace fs = std::filesystem;

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string Tail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
}

}  // namespace

std::expected<std::unique_ptr<RedisServer>, std::string> RedisServer::Start() {
  std::unique_ptr<RedisServer> server(new RedisServer());
  std::string tmpl = (fs::temp_directory_path() / "spotex-redis-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return std::unexpected(std::string("mkdtemp failed"));
  }
  server->dir_ = tmpl;
  server->log_path_ = tmpl + "/redis.log";
  std::random_device rd;
  server->password_ = "test-" + std::to_string(rd()) + "-" + std::to_string(rd());
  std::string last_error;
  for (int attempt = 0; attempt < 5; ++attempt) {
    server->port_ = FreePort();
    auto ok = server->Launch();
    if (ok) {
      return server;
    }
    last_error = ok.error();
  }
  return std::unexpected(last_error);
}

std::expected<void, std::string> RedisServer::Launch() {
  const char* env = std::getenv("SPOTEX_REDIS_SERVER");
  const std::string bin = env != nullptr ? env : "/usr/bin/redis-server";
  const std::vector<std::string> argv = {
      bin,         "--port",        std::to_string(port_), "--bind", "127.0.0.1",
      "--requirepass", password_,   "--save",              "",       "--appendonly",
      "no",        "--dir",         dir_,                  "--daemonize", "no",
      "--logfile", "",              "--databases",         "4"};
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    return std::unexpected(std::string("fork failed"));
  }
  if (pid == 0) {
    // A test that crashes must not leave its server running.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) {
      std::_Exit(127);
    }
    int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    std::vector<char*> args;
    for (const auto& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::_Exit(127);
  }
  pid_ = pid;
  gateway::RedisConfig config = Config();
  config.pool_size = 1;
  config.breaker_open = std::chrono::milliseconds(1);
  gateway::RedisPool pool(config);
  for (int i = 0; i < 500; ++i) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return std::unexpected("redis-server exited: " + Tail(log_path_));
    }
    if (pool.Ping()) {
      return {};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Stop();
  return std::unexpected("redis-server did not answer: " + Tail(log_path_));
}

void RedisServer::Stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
}

void RedisServer::Pause() {
  if (pid_ > 0) {
    ::kill(pid_, SIGSTOP);
  }
}

void RedisServer::Resume() {
  if (pid_ > 0) {
    ::kill(pid_, SIGCONT);
  }
}

std::expected<void, std::string> RedisServer::Restart() {
  Stop();
  return Launch();
}

RedisServer::~RedisServer() {
  Stop();
  if (std::getenv("SPOTEX_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

gateway::RedisConfig RedisServer::Config() const {
  gateway::RedisConfig c;
  c.host = "127.0.0.1";
  c.port = port_;
  c.password = password_;
  c.connect_timeout = std::chrono::milliseconds(500);
  c.command_timeout = std::chrono::milliseconds(1000);
  c.pool_size = 4;
  c.breaker_open = std::chrono::milliseconds(200);
  return c;
}

}  // namespace spotex::testing
