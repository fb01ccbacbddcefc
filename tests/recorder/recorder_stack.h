// What the recorder's tests run against: a real nats-server, spotex-engine (with the default
// markets), PostgreSQL 15 with the migrated schema, and the spotex-recorder binary, all on free
// loopback ports in one temporary directory, stopped and removed at the end.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bus/subjects.h"
#include "db/migrate.h"
#include "db/pg.h"
#include "harness.h"
#include "pg_harness.h"
#include "service/command_client.h"

namespace spotex::testing {

struct Position {
  uint64_t command_seq = 0;
  uint64_t stream_seq = 0;
  uint64_t events = 0;
};

class RecorderStack {
 public:
  // Starts everything but the recorder. Check ok() (and error()) afterwards.
  RecorderStack() {
    nats_ = std::make_unique<NatsServer>(dir_.path());
    if (!nats_->ok()) {
      Fail("nats-server did not start: " + ReadFile(dir_.path() + "/nats.log"));
      return;
    }
    engine_ = std::make_unique<EngineProcess>(
        *nats_, dir_.path() + "/engine", dir_.path() + "/engine.log",
        EngineOptions{std::string(SPOTEX_SOURCE_DIR) + "/etc/markets.toml", 200000, 300});
    engine_->Start();
    auto client = service::CommandClient::Connect(nats_->config(), 0);
    if (!client) {
      Fail(client.error().message);
      return;
    }
    client_ = std::move(*client);
    auto pg = PgServer::Start();
    if (!pg) {
      Fail(pg.error());
      return;
    }
    pg_ = std::move(*pg);
    auto db = pg_->CreateDatabase();
    if (!db) {
      Fail(db.error());
      return;
    }
    dbname_ = *db;
    auto conn = db::PgConnection::Connect(pg_->Params(dbname_));
    if (!conn) {
      Fail(conn.error().message);
      return;
    }
    auto m = db::Migrate(*conn, SPOTEX_MIGRATIONS_DIR);
    if (!m) {
      Fail("migrate: " + m.error().message);
      return;
    }
    conn_ = std::make_unique<db::PgConnection>(std::move(*conn));
    if (!WaitEngineCaughtUp(30000)) {
      Fail("engine not ready: " + ReadFile(engine_->log_path()));
      return;
    }
    ok_ = true;
  }
  ~RecorderStack() {
    if (recorder_pid_ > 0) KillAndWait(recorder_pid_, SIGKILL);
  }

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  const TempDir& dir() const { return dir_; }
  service::CommandClient& client() { return *client_; }
  db::PgConnection& db() { return *conn_; }
  EngineProcess& engine() { return *engine_; }
  std::string recorder_log() const { return ReadFile(dir_.path() + "/recorder.log"); }
  pid_t recorder_pid() const { return recorder_pid_; }
  std::string pg_log() const { return ReadFile(pg_->log_path()); }

  // Starts spotex-recorder with `extra` flags appended.
  void StartRecorder(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {SPOTEX_RECORDER_BIN,
                                     "--shard",
                                     "0",
                                     "--nats-url",
                                     nats_->url(),
                                     "--nats-user",
                                     "spotex",
                                     "--nats-password-file",
                                     nats_->password_file(),
                                     "--pg-host",
                                     "127.0.0.1",
                                     "--pg-port",
                                     std::to_string(pg_->port()),
                                     "--pg-user",
                                     PgServer::kRole,
                                     "--pg-dbname",
                                     dbname_,
                                     "--pg-password-file",
                                     pg_->password_file()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    recorder_pid_ = Spawn(argv, dir_.path() + "/recorder.log");
  }
  // Runs `spotex-admin <connection flags> <args...>` to completion (at most timeout_ms);
  // returns its wait status (-1: timed out, then killed) and its output.
  std::pair<int, std::string> RunAdmin(const std::vector<std::string>& args, int64_t timeout_ms) {
    std::vector<std::string> argv = {SPOTEX_ADMIN_BIN,
                                     "--nats-url",
                                     nats_->url(),
                                     "--nats-user",
                                     "spotex",
                                     "--nats-password-file",
                                     nats_->password_file(),
                                     "--pg-host",
                                     "127.0.0.1",
                                     "--pg-port",
                                     std::to_string(pg_->port()),
                                     "--pg-user",
                                     PgServer::kRole,
                                     "--pg-dbname",
                                     dbname_,
                                     "--pg-password-file",
                                     pg_->password_file()};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string log = dir_.path() + "/admin-" + std::to_string(++admin_runs_) + ".log";
    pid_t pid = Spawn(argv, log);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    int status = 0;
    while (!Exited(pid, &status)) {
      if (std::chrono::steady_clock::now() > deadline) {
        KillAndWait(pid, SIGKILL);
        return {-1, ReadFile(log)};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return {status, ReadFile(log)};
  }

  // Sends `sig` to the recorder and waits for it; returns its wait status.
  int StopRecorder(int sig) {
    int status = KillAndWait(recorder_pid_, sig);
    recorder_pid_ = -1;
    return status;
  }
  // Waits (at most timeout_ms) for the recorder to exit by itself; its wait status or -1.
  int WaitRecorderExit(int64_t timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (Exited(recorder_pid_, &status)) {
        recorder_pid_ = -1;
        return status;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

  uint64_t CommandLast() {
    auto r = client_->nats().LastSeq(bus::CommandStream(0));
    return r ? *r : 0;
  }
  // Waits until the engine has applied everything on the command stream.
  bool WaitEngineCaughtUp(int64_t timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      auto st = client_->Query("status", 500);
      uint64_t last = CommandLast();
      if (st && !JsonField(*st, "logSeq").empty() && last > 0 &&
          std::stoull(JsonField(*st, "logSeq")) == last) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  // The committed position (zeros when there is no row yet).
  Position ReadPosition() {
    Position p;
    auto r = conn_->Exec(
        "SELECT command_seq, stream_seq, events FROM recorder_positions WHERE shard = 0");
    if (r && r->rows() == 1) {
      p.command_seq = static_cast<uint64_t>(r->Int64(0, 0).value_or(0));
      p.stream_seq = static_cast<uint64_t>(r->Int64(0, 1).value_or(0));
      p.events = static_cast<uint64_t>(r->Int64(0, 2).value_or(0));
    }
    return p;
  }
  // Waits until the recorder's committed command seq reaches `seq`.
  bool WaitPosition(uint64_t seq, int64_t timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      if (ReadPosition().command_seq >= seq) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  }

  // Submits the commands, at most `window` unanswered at a time, and waits for every answer.
  bool SubmitAll(const std::vector<std::vector<std::byte>>& cmds, const std::string& id_prefix,
                 size_t window = 500) {
    for (size_t i = 0; i < cmds.size(); ++i) {
      while (client_->pending() >= window)
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      auto r = client_->Submit(cmds[i], id_prefix + std::to_string(i), [](auto) {});
      if (!r) return false;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (client_->pending() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return client_->pending() == 0;
  }

 private:
  void Fail(std::string e) { error_ = std::move(e); }

  TempDir dir_;
  std::unique_ptr<NatsServer> nats_;
  std::unique_ptr<EngineProcess> engine_;
  std::unique_ptr<service::CommandClient> client_;
  std::unique_ptr<PgServer> pg_;
  std::string dbname_;
  std::unique_ptr<db::PgConnection> conn_;
  pid_t recorder_pid_ = -1;
  int admin_runs_ = 0;
  bool ok_ = false;
  std::string error_;
};

}  // namespace spotex::testing
