#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "bus/subjects.h"
#include "proto/envelope.h"

namespace spotex::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "spotex-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (std::getenv("SPOTEX_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

namespace {

// PR_SET_PDEATHSIG fires when the *thread* that forked the child ends, not the process. A
// child forked by a short-lived test thread (a killer that restarts a service, say) would be
// killed the moment that thread returns. So every child is forked by this one thread, which
// lives as long as the process.
class Forker {
 public:
  static Forker& Get() {
    static Forker* forker = new Forker;  // never destroyed: its thread runs until exit
    return *forker;
  }
  pid_t Fork(const std::function<void()>& child) {
    std::lock_guard call(call_mu_);
    std::unique_lock lock(mu_);
    job_ = &child;
    done_ = false;
    cv_.notify_all();
    cv_.wait(lock, [&] { return done_; });
    return pid_;
  }

 private:
  Forker() {
    std::thread([this] {
      for (;;) {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return job_ != nullptr; });
        const std::function<void()>* job = std::exchange(job_, nullptr);
        pid_ = ::fork();
        if (pid_ == 0) {
          (*job)();
          std::_Exit(127);
        }
        done_ = true;
        cv_.notify_all();
      }
    }).detach();
  }
  std::mutex call_mu_;
  std::mutex mu_;
  std::condition_variable cv_;
  const std::function<void()>* job_ = nullptr;
  bool done_ = false;
  pid_t pid_ = -1;
};

}  // namespace

pid_t Spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  const pid_t parent = ::getpid();
  // Everything the child needs is built before fork: it must not allocate (the sanitizers'
  // allocators are not fork-safe in a threaded process).
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  return Forker::Get().Fork([&] {
    // A test that crashes must not leave its servers running: they die with it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) std::_Exit(127);
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    ::execvp(args[0], args.data());
  });
}

int KillAndWait(pid_t pid, int sig) {
  ::kill(pid, sig);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

bool Exited(pid_t pid, int* status) { return ::waitpid(pid, status, WNOHANG) == pid; }

namespace {

bool PortOpen(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

NatsServer::NatsServer(const std::string& dir) {
  password_file_ = dir + "/nats-password";
  std::ofstream(password_file_) << "test-secret-" << ::getpid() << "\n";
  for (int attempt = 0; attempt < 5 && pid_ < 0; ++attempt) {
    port_ = FreePort();
    std::string conf = dir + "/nats.conf";
    std::ofstream(conf) << "listen: 127.0.0.1:" << port_ << "\n"
                        << "jetstream { store_dir: \"" << dir << "/js\" }\n"
                        << "authorization { user: spotex, password: \"test-secret-" << ::getpid()
                        << "\" }\n";
    pid_t pid = Spawn({"nats-server", "-c", conf}, dir + "/nats.log");
    for (int i = 0; i < 100; ++i) {
      int status;
      if (Exited(pid, &status)) {
        pid = -1;
        break;
      }
      if (PortOpen(port_)) {
        pid_ = pid;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (pid_ < 0 && pid > 0) KillAndWait(pid, SIGKILL);
  }
}

NatsServer::~NatsServer() {
  if (pid_ > 0) KillAndWait(pid_, SIGTERM);
}

bus::NatsConfig NatsServer::config() const {
  bus::NatsConfig c;
  c.url = url();
  c.user = "spotex";
  c.password = "test-secret-" + std::to_string(::getpid());
  c.name = "spotex-test";
  return c;
}

EngineProcess::EngineProcess(const NatsServer& nats, std::string data_dir, std::string log_path,
                             EngineOptions options)
    : nats_(nats),
      data_dir_(std::move(data_dir)),
      log_path_(std::move(log_path)),
      options_(std::move(options)) {}

EngineProcess::~EngineProcess() {
  if (pid_ > 0) KillAndWait(pid_, SIGKILL);
}

void EngineProcess::Start() {
  if (pid_ > 0) return;
  std::vector<std::string> argv = {SPOTEX_ENGINE_BIN,
                                   "--data-dir",
                                   data_dir_,
                                   "--nats-url",
                                   nats_.url(),
                                   "--nats-user",
                                   "spotex",
                                   "--nats-password-file",
                                   nats_.password_file(),
                                   "--snapshot-every",
                                   std::to_string(options_.snapshot_every),
                                   "--snapshot-seconds",
                                   std::to_string(options_.snapshot_seconds)};
  if (!options_.markets.empty()) {
    argv.push_back("--markets");
    argv.push_back(options_.markets);
  }
  pid_ = Spawn(argv, log_path_);
}

int EngineProcess::Kill(int sig) {
  if (pid_ <= 0) return 0;
  int status = KillAndWait(pid_, sig);
  pid_ = -1;
  return status;
}

int EngineProcess::WaitExit(int64_t timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int status;
    if (pid_ > 0 && Exited(pid_, &status)) {
      pid_ = -1;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

std::vector<StreamMsg> ReadStream(bus::Nats& nats, const std::string& stream,
                                  const std::string& subject, uint64_t last) {
  std::vector<StreamMsg> out;
  if (last == 0) return out;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Ordered = true;
  so.Config.DeliverPolicy = js_DeliverAll;
  natsSubscription* sub = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  if (js_SubscribeSync(&sub, nats.js(), subject.c_str(), nullptr, &so, &err) != NATS_OK) {
    return out;
  }
  natsSubscription_SetPendingLimits(sub, 1 << 22, 1 << 30);
  while (out.empty() || out.back().seq < last) {
    natsMsg* msg = nullptr;
    if (natsSubscription_NextMsg(&msg, sub, 10000) != NATS_OK) break;
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
      StreamMsg m;
      m.seq = meta->Sequence.Stream;
      m.time_ms = meta->Timestamp / 1'000'000;
      m.data.assign(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
      const char* id = nullptr;
      if (natsMsgHeader_Get(msg, bus::kMsgIdHeader, &id) == NATS_OK && id != nullptr) {
        m.msg_id = id;
      }
      jsMsgMetaData_Destroy(meta);
      out.push_back(std::move(m));
    }
    natsMsg_Destroy(msg);
  }
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string JsonField(const std::string& json, const std::string& key) {
  std::string needle = "\"" + key + "\":";
  auto at = json.find(needle);
  if (at == std::string::npos) return {};
  at += needle.size();
  bool quoted = at < json.size() && json[at] == '"';
  if (quoted) ++at;
  auto end = json.find_first_of(quoted ? "\"" : ",}", at);
  return json.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

EventStreamContents ReadEventEnvelopes(bus::Nats& nats, uint32_t shard) {
  EventStreamContents out;
  auto last = nats.LastSeq(bus::EventStream(shard));
  if (!last) {
    out.ok = false;
    out.error = last.error().message;
    return out;
  }
  auto msgs = ReadStream(nats, bus::EventStream(shard), bus::EventSubject(shard), *last);
  out.messages = msgs.size();
  if (*last > 0 && (msgs.empty() || msgs.back().seq != *last)) {
    out.ok = false;
    out.error = "could not read the stream up to its last seq " + std::to_string(*last);
  }
  for (const auto& m : msgs) {
    auto batch =
        proto::ParseBatch({reinterpret_cast<const std::byte*>(m.data.data()), m.data.size()});
    if (!batch) {
      out.ok = false;
      out.error = "stream seq " + std::to_string(m.seq) + ": " +
                  std::string(proto::ToString(batch.error()));
      continue;
    }
    if (m.msg_id != bus::BatchId(shard, batch->first_seq, batch->last_seq)) {
      out.ok = false;
      out.error =
          "stream seq " + std::to_string(m.seq) + ": id " + m.msg_id + " does not name its seqs";
    }
    for (size_t i = 0; i < batch->envelopes.size(); ++i) {
      out.envelopes.push_back(EventEnvelope{
          batch->envelopes[i].header().seq,
          std::string(reinterpret_cast<const char*>(batch->raw[i].data()), batch->raw[i].size()),
          m.msg_id});
    }
  }
  return out;
}

}  // namespace spotex::testing
