#include "service/engine_service.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "bus/crc32c.h"
#include "bus/subjects.h"
#include "config/markets.h"
#include "proto/codec.h"
#include "proto/envelope.h"
#include "service/log.h"

namespace spotex::service {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kLog = "engine";
constexpr char kSnapMagic[8] = {'S', 'P', 'X', 'S', 'N', 'A', 'P', '1'};
constexpr size_t kSnapHeader = 24;
constexpr int64_t kSnapshotChildLimitMs = 10 * 60 * 1000;
constexpr int64_t kStopWaitMs = 60 * 1000;
constexpr size_t kBatchHeaderRoom = proto::kBatchHeaderBytes;

int64_t MonoMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t MonoNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t WallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double Seconds(int64_t ns) { return static_cast<double>(ns) * 1e-9; }

// Bytes: 256 B .. 64 MiB by powers of 4.
std::vector<double> ByteBuckets() {
  std::vector<double> b;
  for (double v = 256; v <= 64.0 * 1024 * 1024; v *= 4) {
    b.push_back(v);
  }
  return b;
}

std::unexpected<ServiceError> Fail(std::string message) {
  return std::unexpected(ServiceError{std::move(message)});
}

bool WriteAll(int fd, const std::byte* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

// Snapshot files, newest first.
std::vector<std::pair<uint64_t, std::string>> ListSnapshots(const std::string& dir) {
  std::vector<std::pair<uint64_t, std::string>> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.size() == 34 && name.starts_with("snapshot-") && name.ends_with(".snap")) {
      uint64_t seq = 0;
      bool digits = true;
      for (size_t i = 9; i < 29; ++i) {
        digits &= name[i] >= '0' && name[i] <= '9';
        seq = seq * 10 + static_cast<uint64_t>(name[i] - '0');
      }
      if (digits) out.emplace_back(seq, entry.path().string());
    }
  }
  std::sort(out.begin(), out.end(), std::greater<>());
  return out;
}

}  // namespace

std::string SnapshotPath(const std::string& dir, uint64_t seq) {
  char name[40];
  std::snprintf(name, sizeof name, "snapshot-%020" PRIu64 ".snap", seq);
  return (fs::path(dir) / name).string();
}

std::expected<LoadedSnapshot, ServiceError> LoadNewestSnapshot(const std::string& dir) {
  for (const auto& [seq, path] : ListSnapshots(dir)) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string why;
    if (bytes.size() < kSnapHeader || std::memcmp(bytes.data(), kSnapMagic, 8) != 0) {
      why = "bad header";
    } else {
      uint64_t log_seq;
      uint32_t crc;
      std::memcpy(&log_seq, bytes.data() + 8, 8);
      std::memcpy(&crc, bytes.data() + 16, 4);
      const auto* body = reinterpret_cast<const std::byte*>(bytes.data() + kSnapHeader);
      size_t body_len = bytes.size() - kSnapHeader;
      if (log_seq != seq) {
        why = "sequence in file differs from its name";
      } else if (bus::Crc32c(body, body_len) != crc) {
        why = "checksum mismatch";
      } else {
        auto engine = engine::Engine::Restore({body, body_len});
        if (engine) {
          return LoadedSnapshot{log_seq, std::move(*engine), path};
        }
        why = "engine state does not restore";
      }
    }
    Log(LogLevel::kWarn, kLog, "skipping snapshot " + path + ": " + why);
  }
  return LoadedSnapshot{};
}

const std::array<std::string_view, EngineService::kCommandTypes> EngineService::kCommandTypeNames =
    {"place_order",    "cancel_order",      "cancel_replace", "cancel_all", "amend_order",
     "place_oco",      "cancel_order_list", "add_asset",      "add_symbol", "set_symbol_status",
     "open_account",   "deposit",           "withdraw",       "set_fees",   "set_account_stp",
     "freeze_account", "malformed"};
static_assert(EngineService::kCommandTypes == 17,
              "a new command type: add its name to kCommandTypeNames (docs/metrics.md)");

EngineService::Metrics::Metrics(metrics::Registry& r)
    : log_latency(r.AddHistogram("spotex_engine_command_log_latency_seconds",
                                 "From the command stream's timestamp of a command (JetStream "
                                 "stored it) to its envelope and reply being handed to NATS.",
                                 metrics::LatencyBuckets())
                      .With({})),
      batch_commands(r.AddHistogram("spotex_engine_batch_commands",
                                    "Commands applied per engine batch (one journal sync each).",
                                    metrics::SizeBuckets())
                         .With({})),
      journal_sync_seconds(r.AddHistogram("spotex_engine_journal_fsync_seconds",
                                          "One group commit of the journal: write + fdatasync.",
                                          metrics::LatencyBuckets())
                               .With({})),
      journal_sync_records(r.AddHistogram("spotex_engine_journal_fsync_records",
                                          "Journal records made durable by one group commit.",
                                          metrics::SizeBuckets())
                               .With({})),
      journal_sync_bytes(r.AddHistogram("spotex_engine_journal_fsync_bytes",
                                        "Bytes written by one group commit of the journal.",
                                        ByteBuckets())
                             .With({})),
      publish_seconds(r.AddHistogram("spotex_engine_publish_seconds",
                                     "Handing one batch's envelopes (event-stream messages) and "
                                     "replies to the NATS client.",
                                     metrics::LatencyBuckets())
                          .With({})),
      publish_messages_commands(r.AddHistogram("spotex_engine_nats_publish_batch_commands",
                                               "Command envelopes per event-stream message.",
                                               metrics::SizeBuckets())
                                    .With({})),
      publish_messages_bytes(r.AddHistogram("spotex_engine_nats_publish_batch_bytes",
                                            "Bytes per event-stream message.", ByteBuckets())
                                 .With({})),
      publish_ack_seconds(r.AddHistogram("spotex_engine_nats_publish_ack_seconds",
                                         "From an asynchronous JetStream publish of an event "
                                         "message to the server's acknowledgement.",
                                         metrics::LatencyBuckets())
                              .With({})),
      queries(r.AddCounter("spotex_engine_queries_total", "Queries answered.").With({})),
      snapshot_fork_seconds(r.AddHistogram("spotex_engine_snapshot_fork_seconds",
                                           "The engine thread's stall for fork() of a snapshot.",
                                           metrics::LatencyBuckets())
                                .With({})),
      snapshot_seconds(r.AddHistogram("spotex_engine_snapshot_seconds",
                                      "From a snapshot's fork to its file renamed into place.",
                                      {0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600})
                           .With({})),
      snapshots_written(r.AddCounter("spotex_engine_snapshots_total",
                                     "Snapshots by outcome (written, failed).", {"result"})
                            .With({"written"})),
      snapshots_failed(r.AddCounter("spotex_engine_snapshots_total",
                                    "Snapshots by outcome (written, failed).", {"result"})
                           .With({"failed"})),
      applied_seq(
          r.AddGauge("spotex_engine_applied_seq", "Command log seq of the last command applied.")
              .With({})),
      journal_synced_seq(r.AddGauge("spotex_engine_journal_synced_seq",
                                    "Command log seq of the last command made durable.")
                             .With({})),
      snapshot_seq(r.AddGauge("spotex_engine_snapshot_seq",
                              "Command log seq of the newest snapshot written.")
                       .With({})),
      command_stream_last_seq(r.AddGauge("spotex_engine_command_stream_last_seq",
                                         "Last seq of the command stream (read at collect).")
                                  .With({})),
      consumer_lag(r.AddGauge("spotex_engine_consumer_lag_commands",
                              "Commands in the command stream not yet applied (stream last seq "
                              "- applied seq, at collect).")
                       .With({})),
      inbox_messages(r.AddGauge("spotex_engine_inbox_messages",
                                "Commands and queries delivered but not yet taken by the engine "
                                "thread.")
                         .With({})),
      publish_pending(r.AddGauge("spotex_engine_nats_publish_pending",
                                 "Event-stream publishes not yet acknowledged.")
                          .With({})) {
  auto& commands = r.AddCounter("spotex_engine_commands_total",
                                "Commands applied from the command log, by type and result "
                                "(applied, rejected; malformed commands are rejected).",
                                {"type", "result"});
  auto& latency_family =
      r.AddHistogram("spotex_engine_command_seconds",
                     "From a command's delivery to the engine process to its "
                     "envelope and reply being handed to NATS (after the journal "
                     "fsync), by type.",
                     metrics::LatencyBuckets(), {"type"});
  for (size_t t = 0; t < kCommandTypes; ++t) {
    if (t + 1 < kCommandTypes) {
      applied[t] = &commands.With({kCommandTypeNames[t], "applied"});
    }
    rejected[t] = &commands.With({kCommandTypeNames[t], "rejected"});
    latency[t] = &latency_family.With({kCommandTypeNames[t]});
  }
}

EngineService::EngineService(const ServiceConfig& config)
    : config_(config),
      metrics_(registry_),
      publish_ns_(std::make_unique<std::atomic<int64_t>[]>(kAckRing)) {
  status_.shard = config.shard;
  evt_subject_ = bus::EventSubject(config.shard);
  query_subject_ = bus::QuerySubject(config.shard);
  metrics::RegisterProcessMetrics(registry_);
  registry_.OnCollect([this] { Collect(); });
}

void EngineService::Collect() {
  const uint64_t applied = applied_seq_.load(std::memory_order_relaxed);
  metrics_.applied_seq.Set(static_cast<double>(applied));
  metrics_.journal_synced_seq.Set(
      static_cast<double>(journal_synced_seq_.load(std::memory_order_relaxed)));
  metrics_.snapshot_seq.Set(static_cast<double>(snapshot_seq_.load(std::memory_order_relaxed)));
  {
    std::lock_guard lock(mu_);
    metrics_.inbox_messages.Set(static_cast<double>(inbox_.size()));
  }
  if (nats_ != nullptr) {
    const uint64_t published = nats_->async_published(), answered = nats_->async_answered();
    metrics_.publish_pending.Set(
        static_cast<double>(published > answered ? published - answered : 0));
    // A JetStream API request (bounded by the client's wait); on failure keep the last values.
    if (auto last = nats_->LastSeq(bus::CommandStream(config_.shard)); last) {
      metrics_.command_stream_last_seq.Set(static_cast<double>(*last));
      metrics_.consumer_lag.Set(static_cast<double>(*last > applied ? *last - applied : 0));
    }
  }
}

void EngineService::CountApplied(uint8_t type, bool ok) {
  if (!counting_) {
    return;
  }
  (ok ? metrics_.applied[type] : metrics_.rejected[type])->Inc();
}

void EngineService::OnPublishAnswered(uint64_t index, void* closure) {
  auto* self = static_cast<EngineService*>(closure);
  // The slot is valid unless a later publish has reused it (checked after reading it).
  if (self->publishes_.load(std::memory_order_acquire) <= index) {
    return;  // not one of ours (cannot happen: every async publish goes through PublishEvents)
  }
  int64_t sent = self->publish_ns_[index % kAckRing].load(std::memory_order_relaxed);
  if (self->publishes_.load(std::memory_order_acquire) >= index + kAckRing) {
    return;
  }
  self->metrics_.publish_ack_seconds.Observe(Seconds(MonoNs() - sent));
}

EngineService::~EngineService() {
  if (cmd_sub_ != nullptr) {
    natsSubscription_Unsubscribe(cmd_sub_);
    natsSubscription_Destroy(cmd_sub_);
  }
  if (query_sub_ != nullptr) {
    natsSubscription_Unsubscribe(query_sub_);
    natsSubscription_Destroy(query_sub_);
  }
  ReapSnapshotChild(/*block=*/true);
  std::lock_guard lock(mu_);
  for (auto& item : inbox_) natsMsg_Destroy(item.msg);
  inbox_.clear();
}

std::expected<std::unique_ptr<EngineService>, ServiceError> EngineService::Start(
    const ServiceConfig& config) {
  std::unique_ptr<EngineService> svc(new EngineService(config));
  if (auto r = svc->Connect(); !r) return std::unexpected(r.error());
  if (auto r = svc->Recover(); !r) return std::unexpected(r.error());
  if (auto r = svc->Bootstrap(); !r) return std::unexpected(r.error());
  if (auto r = svc->Subscribe(); !r) return std::unexpected(r.error());
  return svc;
}

std::expected<void, ServiceError> EngineService::Connect() {
  auto nats = bus::Nats::Connect(config_.nats, &EngineService::OnAsyncError, this);
  if (!nats) return std::unexpected(ServiceError{nats.error().message, true});
  nats_ = std::move(*nats);
  nats_->SetAnsweredObserver(&EngineService::OnPublishAnswered, this);
  for (const auto& spec :
       {bus::StreamSpec{bus::CommandStream(config_.shard), bus::CommandSubject(config_.shard),
                        config_.replicas, bus::kCommandDedupWindowMs},
        bus::StreamSpec{bus::EventStream(config_.shard), evt_subject_, config_.replicas,
                        bus::kEventDedupWindowMs}}) {
    if (auto r = nats_->EnsureStream(spec); !r) return Fail(r.error().message);
  }
  return {};
}

void EngineService::ApplyBytes(uint64_t seq, int64_t time_ms, std::span<const std::byte> bytes) {
  auto cmd = proto::DecodeCommand(bytes, seq, time_ms);
  size_t at = out_bytes_.size();
  uint8_t type = kCommandTypes - 1;  // malformed
  if (!cmd) {
    ++status_.malformed;
    proto::AppendMalformedEnvelope(config_.shard, seq, time_ms, cmd.error(), out_bytes_);
    CountApplied(type, false);
  } else {
    engine::ApplyResult r = engine_.Apply(*cmd);
    proto::AppendEnvelope(config_.shard, *cmd, r, out_bytes_);
    type = static_cast<uint8_t>(cmd->body.index());
    CountApplied(type, r.code == engine::RejectCode::kNone);
  }
  ++status_.commands;
  status_.log_seq = seq;
  outgoing_.push_back(Outgoing{seq, at, out_bytes_.size() - at, {}});
  outgoing_.back().type = type;
}

std::expected<void, ServiceError> EngineService::SyncJournal() {
  const size_t bytes = journal_->pending_bytes();
  const int64_t start_ns = MonoNs();
  if (auto r = journal_->Sync(); !r) {
    return Fail("journal sync: " + r.error().message);
  }
  if (unsynced_records_ > 0) {
    metrics_.journal_sync_seconds.Observe(Seconds(MonoNs() - start_ns));
    metrics_.journal_sync_records.Observe(static_cast<double>(unsynced_records_));
    metrics_.journal_sync_bytes.Observe(static_cast<double>(bytes));
  }
  unsynced_records_ = 0;
  return {};
}

std::expected<void, ServiceError> EngineService::Recover() {
  std::error_code ec;
  fs::create_directories(config_.data_dir, ec);
  if (ec) return Fail("cannot create data dir " + config_.data_dir + ": " + ec.message());
  for (const auto& entry : fs::directory_iterator(config_.data_dir, ec)) {
    if (entry.path().extension() == ".tmp") fs::remove(entry.path(), ec);  // unfinished write
  }
  std::string journal_path = (fs::path(config_.data_dir) / "journal.wal").string();
  auto journal = bus::Journal::Open(journal_path);
  if (!journal) return Fail("journal: " + journal.error().message);
  const auto& rec = journal->recovery();
  if (rec.truncated_bytes > 0) {
    Log(LogLevel::kWarn, kLog,
        "journal " + journal_path + ": cut a torn tail of " + std::to_string(rec.truncated_bytes) +
            " bytes at offset " + std::to_string(rec.truncated_at_offset) + " (" +
            rec.truncation_reason + ")");
  }
  journal_ = std::make_unique<bus::Journal>(std::move(*journal));

  auto snap = LoadNewestSnapshot(config_.data_dir);
  if (!snap) return Fail(snap.error().message);
  uint64_t from = snap->log_seq;
  if (from > 0) {
    engine_ = std::move(snap->engine);
    Log(LogLevel::kInfo, kLog, "loaded snapshot " + snap->path);
  }
  status_.log_seq = from;
  status_.snapshot_seq = from;
  last_snapshot_seq_ = from;
  snap_written_seq_ = from;
  last_snapshot_mono_ms_ = MonoMs();

  // The last envelope the event stream holds: the journal's envelopes after it are published
  // again (the crash may have come between the journal's fsync and the publish).
  auto last_batch = nats_->LastMsg(bus::EventStream(config_.shard), evt_subject_);
  if (!last_batch) return Fail(last_batch.error().message);
  uint64_t published_through = 0;
  if (*last_batch) {
    auto batch =
        proto::ParseBatch({reinterpret_cast<const std::byte*>(natsMsg_GetData(last_batch->get())),
                           static_cast<size_t>(natsMsg_GetDataLength(last_batch->get()))});
    if (!batch) {
      return Fail("the last message of " + bus::EventStream(config_.shard) +
                  " is not an event batch: " + std::string(proto::ToString(batch.error())));
    }
    published_through = batch->last_seq;
  }
  if (published_through < from) {
    // Cannot happen through this service (a snapshot is kept only once every envelope up to
    // it is stored); it means the event stream lost messages. Say so loudly.
    Log(LogLevel::kError, kLog,
        "event stream ends at seq " + std::to_string(published_through) +
            " but the snapshot is at " + std::to_string(from) +
            ": the envelopes in between cannot be republished");
  }

  // Replay the journal after the snapshot.
  std::string publish_error;
  uint64_t replayed = 0, republished = 0;
  std::string replay_error;
  auto stats = bus::Journal::Replay(
      journal_path, from, [&](uint64_t seq, std::span<const std::byte> payload) {
        if (payload.size() < 8) {
          if (replay_error.empty())
            replay_error = "journal record " + std::to_string(seq) + " shorter than its time";
          return;
        }
        int64_t time_ms;
        std::memcpy(&time_ms, payload.data(), 8);
        size_t mark = out_bytes_.size();
        ApplyBytes(seq, time_ms, payload.subspan(8));
        ++replayed;
        if (seq <= published_through) {
          out_bytes_.resize(mark);
          outgoing_.pop_back();
        } else {
          ++republished;
        }
        if (out_bytes_.size() >= proto::kMaxBatchMessageBytes) {
          if (auto r = PublishEvents(); !r && publish_error.empty()) {
            publish_error = r.error().message;
          }
        }
      });
  if (!stats) return Fail("journal replay: " + stats.error().message);
  if (!replay_error.empty()) return Fail(replay_error);
  if (auto r = PublishEvents(); !r && publish_error.empty()) publish_error = r.error().message;
  if (!publish_error.empty()) return Fail("republishing events: " + publish_error);
  if (auto r = nats_->WaitAsyncComplete(60000); !r) return Fail(r.error().message);
  if (publish_failed_) return Fail(publish_error_);
  status_.journal_seq = journal_->last_synced_seq();
  status_.commands = 0;
  status_.malformed = 0;
  applied_seq_.store(status_.log_seq, std::memory_order_relaxed);
  journal_synced_seq_.store(status_.journal_seq, std::memory_order_relaxed);
  snapshot_seq_.store(snap_written_seq_, std::memory_order_relaxed);
  counting_ = true;
  Log(LogLevel::kInfo, kLog,
      "recovered: snapshot seq " + std::to_string(from) + ", replayed " + std::to_string(replayed) +
          " journal records (" + std::to_string(republished) +
          " envelopes republished after the event stream's seq " +
          std::to_string(published_through) + "), log seq " + std::to_string(status_.log_seq));
  return {};
}

std::expected<void, ServiceError> EngineService::PublishEvents() {
  if (outgoing_.empty()) {
    return {};
  }
  const int64_t start_ns = MonoNs();
  // The envelopes lie back to back in out_bytes_ (outgoing_ in order): cut them into messages.
  size_t i = 0;
  while (i < outgoing_.size()) {
    size_t j = i, bytes = 0;
    while (j < outgoing_.size() && (j == i || kBatchHeaderRoom + bytes + outgoing_[j].size <=
                                                  proto::kMaxBatchMessageBytes)) {
      bytes += outgoing_[j].size;
      ++j;
    }
    batch_msg_.resize(proto::kBatchHeaderBytes + bytes);
    proto::WriteBatchHeader(static_cast<uint32_t>(j - i), outgoing_[i].seq, outgoing_[j - 1].seq,
                            batch_msg_.data());
    std::memcpy(batch_msg_.data() + proto::kBatchHeaderBytes,
                out_bytes_.data() + outgoing_[i].offset, bytes);
    metrics_.publish_messages_commands.Observe(static_cast<double>(j - i));
    metrics_.publish_messages_bytes.Observe(static_cast<double>(batch_msg_.size()));
    const uint64_t index = publishes_.load(std::memory_order_relaxed);
    publish_ns_[index % kAckRing].store(MonoNs(), std::memory_order_relaxed);
    auto r = nats_->PublishAsync(
        evt_subject_, {reinterpret_cast<const char*>(batch_msg_.data()), batch_msg_.size()},
        bus::BatchId(config_.shard, outgoing_[i].seq, outgoing_[j - 1].seq));
    if (!r) {
      return Fail("publishing events of " + std::to_string(outgoing_[i].seq) + ".." +
                  std::to_string(outgoing_[j - 1].seq) + ": " + r.error().message);
    }
    publishes_.store(index + 1, std::memory_order_release);
    i = j;
  }
  for (const auto& o : outgoing_) {
    if (!o.reply.empty()) {
      natsConnection_Publish(nats_->conn(), o.reply.c_str(), out_bytes_.data() + o.offset,
                             static_cast<int>(o.size));
    }
  }
  // One clock read each for the whole batch: every command's reply left just now.
  const int64_t now_ns = MonoNs(), wall_ns = WallNs();
  metrics_.publish_seconds.Observe(Seconds(now_ns - start_ns));
  for (const auto& o : outgoing_) {
    if (o.arrival_ns != 0) {
      metrics_.latency[o.type]->Observe(Seconds(now_ns - o.arrival_ns));
      metrics_.log_latency.Observe(Seconds(wall_ns - o.log_time_ns));
    }
  }
  outgoing_.clear();
  out_bytes_.clear();
  return {};
}

std::expected<void, ServiceError> EngineService::Bootstrap() {
  if (config_.markets_path.empty() || status_.log_seq != 0) return {};
  auto last = nats_->LastSeq(bus::CommandStream(config_.shard));
  if (!last) return Fail(last.error().message);
  if (*last != 0) return {};  // the log already has commands: never apply the config twice
  auto commands = config::LoadMarkets(config_.markets_path);
  if (!commands) return Fail("markets config: " + commands.error().message);
  for (size_t i = 0; i < commands->size(); ++i) {
    engine::Command cmd{0, 0, (*commands)[i]};
    auto bytes = proto::EncodeCommand(cmd);
    auto r = nats_->PublishSync(bus::CommandSubject(config_.shard),
                                {reinterpret_cast<const char*>(bytes.data()), bytes.size()},
                                "bootstrap:" + std::to_string(i));
    if (!r) return Fail("publishing markets: " + r.error().message);
  }
  Log(LogLevel::kInfo, kLog,
      "empty log: published " + std::to_string(commands->size()) + " market commands from " +
          config_.markets_path);
  return {};
}

std::expected<void, ServiceError> EngineService::Subscribe() {
  jsSubOptions so;
  jsSubOptions_Init(&so);
  std::string stream = bus::CommandStream(config_.shard);
  so.Stream = stream.c_str();
  so.Ordered = true;
  so.Config.DeliverPolicy = js_DeliverByStartSequence;
  so.Config.OptStartSeq = status_.log_seq + 1;
  jsErrCode err = static_cast<jsErrCode>(0);
  std::string subject = bus::CommandSubject(config_.shard);
  natsStatus s = js_Subscribe(&cmd_sub_, nats_->js(), subject.c_str(), &EngineService::OnCommand,
                              this, nullptr, &so, &err);
  if (s != NATS_OK) return Fail("subscribe to " + stream + ": " + bus::StatusText(s, err));
  natsSubscription_SetPendingLimits(cmd_sub_, 1 << 22, 1 << 30);
  s = natsConnection_Subscribe(&query_sub_, nats_->conn(), query_subject_.c_str(),
                               &EngineService::OnQuery, this);
  if (s != NATS_OK) return Fail("subscribe to " + query_subject_ + ": " + bus::StatusText(s));
  natsSubscription_SetPendingLimits(query_sub_, 1 << 20, 1 << 28);
  Log(LogLevel::kInfo, kLog,
      "consuming " + stream + " from seq " + std::to_string(status_.log_seq + 1) + "; queries on " +
          query_subject_);
  return {};
}

void EngineService::OnCommand(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  static_cast<EngineService*>(closure)->Push(msg, false);
}
void EngineService::OnQuery(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  static_cast<EngineService*>(closure)->Push(msg, true);
}
void EngineService::OnAsyncError(const char* text, void* closure) {
  auto* self = static_cast<EngineService*>(closure);
  {
    std::lock_guard lock(self->error_mu_);
    if (self->publish_error_.empty()) self->publish_error_ = text;
  }
  self->publish_failed_ = true;
  self->cv_.notify_one();
}

void EngineService::Push(natsMsg* msg, bool query) {
  bool was_empty;
  {
    std::lock_guard lock(mu_);
    was_empty = inbox_.empty();
    inbox_.push_back(Item{msg, query, MonoNs()});
  }
  if (was_empty) cv_.notify_one();
}

std::expected<void, ServiceError> EngineService::ProcessBatch(std::vector<Item>& items) {
  out_bytes_.clear();
  outgoing_.clear();
  std::vector<natsMsg*> queries;
  for (auto& item : items) {
    if (item.query) {
      queries.push_back(item.msg);
      continue;
    }
    natsMsg* msg = item.msg;
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg) != NATS_OK) {
      Log(LogLevel::kWarn, kLog, "command message without JetStream metadata ignored");
      continue;
    }
    uint64_t seq = meta->Sequence.Stream;
    const int64_t log_time_ns = meta->Timestamp;
    int64_t time_ms = meta->Timestamp / 1'000'000;
    jsMsgMetaData_Destroy(meta);
    if (seq <= status_.log_seq) continue;  // redelivered after a consumer reset
    if (seq != status_.log_seq + 1) {
      Log(LogLevel::kWarn, kLog,
          "command stream skips from " + std::to_string(status_.log_seq) + " to " +
              std::to_string(seq) + " (messages deleted from the stream?)");
    }
    const auto* data = reinterpret_cast<const std::byte*>(natsMsg_GetData(msg));
    size_t len = static_cast<size_t>(natsMsg_GetDataLength(msg));
    journal_payload_.resize(8 + len);
    std::memcpy(journal_payload_.data(), &time_ms, 8);
    if (len > 0) std::memcpy(journal_payload_.data() + 8, data, len);
    auto appended = journal_->Append(seq, journal_payload_);
    if (!appended && appended.error().code == bus::ErrorCode::kBatchFull) {
      if (auto r = SyncJournal(); !r) return r;
      appended = journal_->Append(seq, journal_payload_);
    }
    if (!appended) return Fail("journal append: " + appended.error().message);
    ++unsynced_records_;
    ApplyBytes(seq, time_ms, {data, len});
    outgoing_.back().arrival_ns = item.arrival_ns;
    outgoing_.back().log_time_ns = log_time_ns;
    const char* reply = nullptr;
    if (natsMsgHeader_Get(msg, bus::kReplyHeader, &reply) == NATS_OK && reply != nullptr) {
      outgoing_.back().reply = reply;
    }
  }
  // Group commit: the whole batch durable with one write + fdatasync.
  if (!outgoing_.empty()) {
    metrics_.batch_commands.Observe(static_cast<double>(outgoing_.size()));
  }
  if (auto r = SyncJournal(); !r) return r;
  status_.journal_seq = journal_->last_synced_seq();
  applied_seq_.store(status_.log_seq, std::memory_order_relaxed);
  journal_synced_seq_.store(status_.journal_seq, std::memory_order_relaxed);
  // Only now does anyone learn what the commands did.
  if (auto r = PublishEvents(); !r) return r;
  metrics_.queries.Inc(queries.size());
  for (natsMsg* q : queries) {
    std::string_view request(natsMsg_GetData(q), static_cast<size_t>(natsMsg_GetDataLength(q)));
    std::string answer;
    if (request == "snapshot") {
      snapshot_requested_ = true;
      answer = "{\"requested\":true,\"logSeq\":" + std::to_string(status_.log_seq) + "}";
    } else {
      ReapSnapshotChild(/*block=*/false);
      status_.snapshot_seq = snap_written_seq_;
      answer = AnswerQuery(engine_, status_, request);
    }
    if (const char* reply = natsMsg_GetReply(q); reply != nullptr) {
      natsConnection_Publish(nats_->conn(), reply, answer.data(), static_cast<int>(answer.size()));
    }
  }
  for (auto& item : items) natsMsg_Destroy(item.msg);
  items.clear();
  return {};
}

std::expected<void, ServiceError> EngineService::MaybeSnapshot(bool force) {
  uint64_t since = status_.log_seq - last_snapshot_seq_;
  if (since == 0) {
    snapshot_requested_ = false;
    return {};
  }
  bool due = force || snapshot_requested_ || since >= config_.snapshot_every ||
             MonoMs() - last_snapshot_mono_ms_ >= config_.snapshot_seconds * 1000;
  if (!due || snap_child_ > 0 || snap_tmp_ready_) return {};  // the previous one is not done
  const uint64_t seq = status_.log_seq;
  const std::string tmp = SnapshotPath(config_.data_dir, seq) + ".tmp";
  // Every envelope up to `seq` has been handed to the event stream; the snapshot becomes
  // visible (renamed) only once all those publishes are acknowledged, so a restart from it
  // never needs an envelope older than it.
  snap_acks_needed_ = nats_->async_published();
  auto t0 = MonoMs();
  const int64_t t0_ns = MonoNs();
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer's allocator is not fork-safe in a multi-threaded process: a child that
  // allocates can spin forever on a lock another thread held at fork(). Sanitizer builds
  // therefore serialise on the engine thread and let the child only write.
  std::vector<std::byte> serialized = engine_.Serialize();
#endif
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    // The child: a frozen copy-on-write image of the state. Only this thread exists here, so
    // use nothing that another (now absent) thread might have held locked: no stdio, no NATS.
    // glibc's malloc is safe after fork (its locks are reset), so Serialize may allocate.
    // Close every inherited descriptor first: the journal's flock must die with the parent (a
    // restarted engine would otherwise find it held), and the NATS sockets are not ours.
    ::close_range(3, ~0U, 0);
    // The parent renames the file into place; without it the work is useless: die with it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
#if defined(__SANITIZE_ADDRESS__)
    const std::vector<std::byte>& body = serialized;
#else
    std::vector<std::byte> body = engine_.Serialize();
#endif
    std::byte header[kSnapHeader] = {};
    std::memcpy(header, kSnapMagic, 8);
    std::memcpy(header + 8, &seq, 8);
    uint32_t crc = bus::Crc32c(body.data(), body.size());
    std::memcpy(header + 16, &crc, 4);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && WriteAll(fd, header, kSnapHeader) &&
              WriteAll(fd, body.data(), body.size()) && ::fsync(fd) == 0;
    ok = fd >= 0 && ::close(fd) == 0 && ok;
    if (!ok) ::unlink(tmp.c_str());
    ::_exit(ok ? 0 : 1);
  }
  auto t1 = MonoMs();
  metrics_.snapshot_fork_seconds.Observe(Seconds(MonoNs() - t0_ns));
  if (pid < 0) {
    metrics_.snapshots_failed.Inc();
    Log(LogLevel::kError, kLog,
        std::string("snapshot: fork failed: ") + std::strerror(errno) +
            " (the journal still holds everything; retrying at the next interval)");
  } else {
    snap_child_ = pid;
    snap_child_seq_ = seq;
    snap_child_start_ms_ = t1;
    Log(LogLevel::kInfo, kLog,
        "snapshot at seq " + std::to_string(seq) + ": fork took " + std::to_string(t1 - t0) +
            " ms");
  }
  last_snapshot_seq_ = seq;
  last_snapshot_mono_ms_ = MonoMs();
  snapshot_requested_ = false;
  return {};
}

void EngineService::ReapSnapshotChild(bool block) {
  const std::string path = SnapshotPath(config_.data_dir, snap_child_seq_);
  const std::string tmp = path + ".tmp";
  if (snap_child_ > 0) {
    int status = 0;
    pid_t r = ::waitpid(snap_child_, &status, WNOHANG);
    // A child that never finishes (a hung disk) must not hold snapshots back forever, nor a
    // clean stop: kill it after kSnapshotChildLimitMs (or, when stopping, kStopWaitMs).
    const int64_t limit = block ? kStopWaitMs : kSnapshotChildLimitMs;
    while (r == 0 && (block || MonoMs() - snap_child_start_ms_ > limit)) {
      if (MonoMs() - snap_child_start_ms_ > limit) {
        Log(LogLevel::kError, kLog,
            "snapshot child " + std::to_string(snap_child_) + " still running after " +
                std::to_string(MonoMs() - snap_child_start_ms_) + " ms: killing it");
        ::kill(snap_child_, SIGKILL);
        r = ::waitpid(snap_child_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      r = ::waitpid(snap_child_, &status, WNOHANG);
    }
    if (r == 0) return;  // still writing
    snap_child_ = -1;
    if (r > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      snap_tmp_ready_ = true;
    } else {
      std::error_code ec;
      fs::remove(tmp, ec);
      metrics_.snapshots_failed.Inc();
      Log(LogLevel::kError, kLog,
          "snapshot write failed: " + tmp +
              " (the journal still holds everything; retrying at the next interval)");
    }
  }
  if (!snap_tmp_ready_) return;
  if (block) (void)nats_->WaitAsyncComplete(10000);
  if (publish_failed_ || nats_->async_answered() < snap_acks_needed_) return;  // not yet
  snap_tmp_ready_ = false;
  if (::rename(tmp.c_str(), path.c_str()) != 0 || !FsyncDir(config_.data_dir)) {
    Log(LogLevel::kError, kLog, "snapshot rename failed: " + path + ": " + std::strerror(errno));
    metrics_.snapshots_failed.Inc();
    return;
  }
  snap_written_seq_ = snap_child_seq_;
  snapshot_seq_.store(snap_written_seq_, std::memory_order_relaxed);
  metrics_.snapshots_written.Inc();
  metrics_.snapshot_seconds.Observe(static_cast<double>(MonoMs() - snap_child_start_ms_) / 1000.0);
  auto all = ListSnapshots(config_.data_dir);
  for (size_t i = static_cast<size_t>(std::max(config_.snapshot_keep, 1)); i < all.size(); ++i) {
    std::error_code ec;
    fs::remove(all[i].second, ec);
  }
  Log(LogLevel::kInfo, kLog,
      "snapshot written: " + path + " in " + std::to_string(MonoMs() - snap_child_start_ms_) +
          " ms");
}

int EngineService::Run(const std::atomic<bool>& stop) {
  std::vector<Item> batch;
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(100),
                   [&] { return !inbox_.empty() || publish_failed_ || stop; });
      batch.swap(inbox_);
    }
    if (publish_failed_) {
      std::lock_guard lock(error_mu_);
      Log(LogLevel::kError, kLog, "stopping: " + publish_error_);
      return 1;
    }
    if (!batch.empty()) {
      if (auto r = ProcessBatch(batch); !r) {
        Log(LogLevel::kError, kLog, "stopping: " + r.error().message);
        return 1;
      }
    }
    ReapSnapshotChild(/*block=*/false);
    if (auto r = MaybeSnapshot(false); !r) {
      Log(LogLevel::kError, kLog, "stopping: " + r.error().message);
      return 1;
    }
    if (stop && batch.empty()) break;
  }
  // Clean stop: no new commands, everything published.
  if (cmd_sub_ != nullptr) {
    natsSubscription_Unsubscribe(cmd_sub_);
    natsSubscription_Destroy(cmd_sub_);
    cmd_sub_ = nullptr;
  }
  if (auto r = nats_->WaitAsyncComplete(10000); !r) {
    Log(LogLevel::kWarn, kLog, "at stop: " + r.error().message);
  }
  ReapSnapshotChild(/*block=*/true);
  Log(LogLevel::kInfo, kLog, "stopped at log seq " + std::to_string(status_.log_seq));
  return 0;
}

}  // namespace spotex::service
