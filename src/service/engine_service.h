// spotex-engine: the service that owns one shard's trading state (DESIGN.md §1-3,
// docs/engine-service.md).
//
// Life of a command: a client publishes its encoded bytes to CMD_<shard> (JetStream assigns the
// seq and timestamp; Nats-Msg-Id de-duplicates retries). The service consumes the stream in
// order through an ordered consumer and, per batch of whatever arrived meanwhile:
//   1. appends each command (time + bytes) to its journal and applies it to the engine (bytes
//      that do not decode become a "malformed" rejection envelope; the engine carries on);
//   2. makes the batch durable: one write + one fdatasync (group commit; no added wait, so the
//      window is the time the previous batch took, well under 1 ms at low load);
//   3. publishes each command's event envelope to EVT_<shard> (Nats-Msg-Id "<shard>:<seq>") and
//      sends it to the caller's reply subject (Spotex-Reply header), and answers queries.
// Snapshots are written by a forked child process (copy-on-write image of the state, as Redis
// does), so the engine thread stalls only for fork() itself — not for serialising gigabytes:
// temp file, fsync, rename, fsync dir; the last K are kept.
// Restart: newest valid snapshot, then the journal after it (its envelopes are published again;
// JetStream drops the duplicates by id), then the stream after the journal.
// Any failure to publish an envelope stops the service (fail-stop): a restart republishes from
// the journal, so the event stream never has a gap.
// Metrics (docs/metrics.md, spotex_engine_*): registered in the service's own registry, which
// the caller may serve (metrics::MetricsServer on registry()). The engine thread updates them
// with relaxed atomics only (children resolved up front); the gauges read at collect (lag,
// queue depths) are read from atomics or under the inbox lock, never from engine state.
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <expected>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "bus/journal.h"
#include "bus/nats.h"
#include "engine/command.h"
#include "engine/engine.h"
#include "service/metrics.h"
#include "service/query.h"

namespace spotex::service {

struct ServiceConfig {
  uint32_t shard = 0;
  bus::NatsConfig nats;
  std::string data_dir;      // journal.wal and snapshot-<seq>.snap live here
  std::string markets_path;  // TOML; applied through the log when the log is empty; "" = none
  uint64_t snapshot_every = 200000;  // commands between snapshots
  int64_t snapshot_seconds = 300;    // and at most this long (if anything changed)
  int snapshot_keep = 3;
  int replicas = 1;  // JetStream replicas of CMD/EVT streams created by this service
};

struct ServiceError {
  std::string message;
  bool retryable = false;  // e.g. NATS not reachable yet; never for bad local state
};

class EngineService {
 public:
  // Recovers state from disk, connects, creates the streams if needed, republishes the
  // journal's envelopes after the snapshot, bootstraps the markets on an empty log, subscribes.
  static std::expected<std::unique_ptr<EngineService>, ServiceError> Start(
      const ServiceConfig& config);
  ~EngineService();

  // Runs until `stop` becomes true (returns 0) or a fatal error (logs it, returns 1).
  int Run(const std::atomic<bool>& stop);

  // The service's metrics (spotex_engine_* and process_*), valid for the service's life. Serve
  // it from any thread; stop the server before destroying the service (collect callbacks read
  // the service).
  metrics::Registry& registry() { return registry_; }

  // Command types in the order of engine::CommandBody's alternatives, then "malformed" (the
  // `type` label of spotex_engine_commands_total and spotex_engine_command_seconds).
  static constexpr size_t kCommandTypes = std::variant_size_v<engine::CommandBody> + 1;
  static const std::array<std::string_view, kCommandTypes> kCommandTypeNames;

 private:
  struct Item {
    natsMsg* msg;
    bool query;
    int64_t arrival_ns;  // steady clock, when the NATS callback handed it over
  };
  struct Outgoing {
    uint64_t seq;
    size_t offset, size;      // into out_bytes_
    std::string reply;        // "" = nobody waits
    int64_t arrival_ns = 0;   // steady clock; 0 = replayed from the journal (not timed)
    int64_t log_time_ns = 0;  // the command stream's timestamp (wall clock, ns since the epoch)
    uint8_t type = 0;         // index into kCommandTypeNames
  };
  // The service's metric children, resolved once (no lookup, no lock on the engine thread).
  struct Metrics {
    explicit Metrics(metrics::Registry& r);
    std::array<metrics::Counter*, kCommandTypes> applied{}, rejected{};
    std::array<metrics::Histogram*, kCommandTypes> latency{};  // arrival -> published
    metrics::Histogram& log_latency;     // command stream timestamp -> published
    metrics::Histogram& batch_commands;  // commands per engine batch
    metrics::Histogram& journal_sync_seconds;
    metrics::Histogram& journal_sync_records;
    metrics::Histogram& journal_sync_bytes;
    metrics::Histogram& publish_seconds;  // handing a batch's envelopes and replies to NATS
    metrics::Histogram& publish_messages_commands;  // envelopes per event-stream message
    metrics::Histogram& publish_messages_bytes;
    metrics::Histogram& publish_ack_seconds;  // async publish -> JetStream ack
    metrics::Counter& queries;
    metrics::Histogram& snapshot_fork_seconds;
    metrics::Histogram& snapshot_seconds;  // fork -> file renamed into place
    metrics::Counter& snapshots_written;
    metrics::Counter& snapshots_failed;
    metrics::Gauge& applied_seq;
    metrics::Gauge& journal_synced_seq;
    metrics::Gauge& snapshot_seq;
    metrics::Gauge& command_stream_last_seq;
    metrics::Gauge& consumer_lag;
    metrics::Gauge& inbox_messages;
    metrics::Gauge& publish_pending;
  };

  explicit EngineService(const ServiceConfig& config);
  std::expected<void, ServiceError> Recover();
  std::expected<void, ServiceError> Connect();
  std::expected<void, ServiceError> Bootstrap();
  std::expected<void, ServiceError> Subscribe();

  // Applies one command to the engine; appends its envelope to out_bytes_.
  void ApplyBytes(uint64_t seq, int64_t time_ms, std::span<const std::byte> bytes);
  std::expected<void, ServiceError> ProcessBatch(std::vector<Item>& items);
  // journal_->Sync() with its metrics.
  std::expected<void, ServiceError> SyncJournal();
  // Publishes outgoing_'s envelopes to the event stream as batches and sends the replies;
  // clears outgoing_ and out_bytes_.
  std::expected<void, ServiceError> PublishEvents();
  std::expected<void, ServiceError> MaybeSnapshot(bool force);
  // Collects the snapshot child's result (blocking: waits for it).
  void ReapSnapshotChild(bool block);

  static void OnCommand(natsConnection*, natsSubscription*, natsMsg* msg, void* closure);
  static void OnQuery(natsConnection*, natsSubscription*, natsMsg* msg, void* closure);
  static void OnAsyncError(const char* text, void* closure);
  static void OnPublishAnswered(uint64_t index, void* closure);
  void Push(natsMsg* msg, bool query);
  void Collect();  // refreshes the gauges read at collect (metrics server thread)
  void CountApplied(uint8_t type, bool ok);

  ServiceConfig config_;
  metrics::Registry registry_;  // before everything the collect callback reads
  Metrics metrics_;
  bool counting_ = false;        // false while recovering: replayed commands are not counted
  size_t unsynced_records_ = 0;  // journal records appended since the last Sync
  // Async publish times (steady ns) by publish index modulo kAckRing, for the ack latency:
  // written by the engine thread before each publish, read by the libnats ack thread.
  static constexpr size_t kAckRing = 1 << 17;
  std::unique_ptr<std::atomic<int64_t>[]> publish_ns_;
  std::atomic<uint64_t> publishes_{0};  // async publishes timed so far (next index)
  // Mirrors of engine-thread state for the collect callback.
  std::atomic<uint64_t> applied_seq_{0};
  std::atomic<uint64_t> journal_synced_seq_{0};
  std::atomic<uint64_t> snapshot_seq_{0};
  engine::Engine engine_;
  std::unique_ptr<bus::Journal> journal_;
  std::unique_ptr<bus::Nats> nats_;
  natsSubscription* cmd_sub_ = nullptr;
  natsSubscription* query_sub_ = nullptr;
  ServiceStatus status_;
  std::string evt_subject_;
  std::string query_subject_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Item> inbox_;

  std::vector<std::byte> out_bytes_;
  std::vector<Outgoing> outgoing_;
  std::vector<std::byte> journal_payload_;
  std::vector<std::byte> batch_msg_;

  std::atomic<bool> publish_failed_{false};
  std::mutex error_mu_;
  std::string publish_error_;

  // Snapshot writer: a child process, at most one at a time.
  pid_t snap_child_ = -1;
  uint64_t snap_child_seq_ = 0;
  int64_t snap_child_start_ms_ = 0;
  uint64_t snap_acks_needed_ = 0;  // event publishes that must be settled before the rename
  bool snap_tmp_ready_ = false;    // the child wrote the temp file; waiting for those acks
  uint64_t snap_written_seq_ = 0;
  uint64_t last_snapshot_seq_ = 0;
  int64_t last_snapshot_mono_ms_ = 0;
  bool snapshot_requested_ = false;
};

// Snapshot files (exposed for tests). Format: "SPXSNAP1" u64 log_seq, u32 crc32c(body),
// u32 zero, body = engine::Engine::Serialize().
std::string SnapshotPath(const std::string& dir, uint64_t seq);
struct LoadedSnapshot {
  uint64_t log_seq = 0;
  engine::Engine engine;
  std::string path;
};
// The newest snapshot in `dir` that validates; older ones are tried when a newer is corrupt
// (each skip is logged). nullopt-like: log_seq 0 and a fresh engine when there is none.
std::expected<LoadedSnapshot, ServiceError> LoadNewestSnapshot(const std::string& dir);

}  // namespace spotex::service
