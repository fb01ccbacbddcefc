// Test harness for the engine service: a real nats-server and real spotex-engine processes,
// on free loopback ports in a temporary directory (DESIGN.md §1 principle 5: no mocks).
#pragma once

#include <nats/nats.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bus/nats.h"

namespace spotex::testing {

// A fresh temporary directory, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A port that was free a moment ago (bind to 0, read, close).
int FreePort();

// Starts `argv` with stdout+stderr appended to `log_path`; returns the pid.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log_path);
// Sends `sig` and waits for the process; returns its wait status.
int KillAndWait(pid_t pid, int sig);
// Non-blocking: true if the process has exited (then *status is set).
bool Exited(pid_t pid, int* status);

class NatsServer {
 public:
  // Starts nats-server with JetStream in `dir`, user/password auth, on a free port.
  explicit NatsServer(const std::string& dir);
  ~NatsServer();
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  bus::NatsConfig config() const;
  const std::string& password_file() const { return password_file_; }
  bool ok() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string password_file_;
};

struct EngineOptions {
  std::string markets;  // "" = none
  uint64_t snapshot_every = 200000;
  int snapshot_seconds = 300;
};

class EngineProcess {
 public:
  EngineProcess(const NatsServer& nats, std::string data_dir, std::string log_path,
                EngineOptions options = {});
  ~EngineProcess();
  // Starts the process (if not running).
  void Start();
  // SIGKILL (crash) or SIGTERM (clean stop), then waits.
  int Kill(int sig);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& log_path() const { return log_path_; }
  // Waits until the process exits by itself (at most timeout_ms); returns its wait status or -1.
  int WaitExit(int64_t timeout_ms);

 private:
  const NatsServer& nats_;
  std::string data_dir_, log_path_;
  EngineOptions options_;
  pid_t pid_ = -1;
};

// Every message of a stream from `first` up to `last` (inclusive), in order, through an
// ordered consumer: (stream seq, timestamp ms, data, Nats-Msg-Id).
struct StreamMsg {
  uint64_t seq;
  int64_t time_ms;
  std::string data;
  std::string msg_id;
};
std::vector<StreamMsg> ReadStream(bus::Nats& nats, const std::string& stream,
                                  const std::string& subject, uint64_t last);

std::string ReadFile(const std::string& path);

// The value of "key" in a flat JSON answer (number or string), as text; "" if absent.
std::string JsonField(const std::string& json, const std::string& key);

// Every envelope on EVT_<shard>, in stream order, split out of their batches. `batch_id` is the
// Nats-Msg-Id of the batch that carried it; `ok` is false if any message was not a valid batch
// (or its id did not match its seqs), with the reason in `error`.
struct EventEnvelope {
  uint64_t seq;
  std::string bytes;
  std::string batch_id;
};
struct EventStreamContents {
  bool ok = true;
  std::string error;
  uint64_t messages = 0;
  std::vector<EventEnvelope> envelopes;
};
EventStreamContents ReadEventEnvelopes(bus::Nats& nats, uint32_t shard);

}  // namespace spotex::testing
