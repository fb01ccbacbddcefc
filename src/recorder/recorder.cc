#include "recorder/recorder.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>
#include <vector>

#include "bus/subjects.h"
#include "proto/envelope.h"
#include "service/log.h"
#include "store/history_writer.h"

namespace spotex::recorder {
namespace {

void Log(service::LogLevel level, const std::string& msg) { service::Log(level, "recorder", msg); }

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct SubDeleter {
  void operator()(natsSubscription* s) const { natsSubscription_Destroy(s); }
};
using SubPtr = std::unique_ptr<natsSubscription, SubDeleter>;

// Messages and their parsed batches collected for one transaction.
struct Chunk {
  std::vector<bus::MsgPtr> msgs;
  std::vector<proto::EventBatch> batches;
  std::vector<uint64_t> stream_seqs;  // of each batch's message
  uint64_t events = 0;
  uint64_t last_stream_seq = 0;
  bool empty() const { return msgs.empty(); }
};

// What interrupted collecting or applying a run.
enum class Fault { kNone, kRestart, kMalformed, kGap };

}  // namespace

class Recorder::Impl {
 public:
  Impl(bus::Nats& nats, RecorderConfig config, RecorderMetrics& metrics)
      : nats_(nats), config_(std::move(config)), metrics_(metrics) {}
  ~Impl() { DropSubscription(); }

  std::expected<void, RecorderError> Run(const std::atomic<bool>& stop);

 private:
  bool Restart(const std::atomic<bool>& stop);
  std::expected<void, std::string> OpenWriter();
  std::expected<void, std::string> CreateConsumer();
  void DropSubscription();
  void Backoff(const std::atomic<bool>& stop);
  Fault Collect(Chunk& run, const std::atomic<bool>& stop, std::string& why);
  Fault Take(natsMsg* raw, Chunk& run, std::string& why);
  Fault Apply(Chunk& run, std::string& why);
  void UpdateLag(bool force);
  void MaybeLogProgress();

  bus::Nats& nats_;
  const RecorderConfig config_;
  RecorderMetrics& metrics_;
  std::unique_ptr<store::HistoryWriter> writer_;
  SubPtr sub_;
  uint64_t next_seq_ = 1;  // the command the next envelope must not start after
  bool fresh_ = true;      // no progress since the last restart (a gap then is fatal)
  int64_t backoff_ms_ = 0;
  int64_t last_applied_time_ms_ = 0;  // command time of the last applied envelope
  int64_t last_lag_ms_ = 0;
  // Mean events per message (moving), to ask for as many messages as the run has room for; 0
  // until the first message: then one is asked for.
  double events_per_msg_ = 0;
  uint64_t pending_ = 0;  // messages after the last one fetched, as the server last said
  // Progress log.
  int64_t log_since_ms_ = NowMs();
  uint64_t log_batches_ = 0, log_events_ = 0;
};

Recorder::Recorder(bus::Nats& nats, RecorderConfig config, RecorderMetrics& metrics)
    : impl_(std::make_unique<Impl>(nats, std::move(config), metrics)) {}
Recorder::~Recorder() = default;

std::expected<void, RecorderError> Recorder::Run(const std::atomic<bool>& stop) {
  return impl_->Run(stop);
}

void Recorder::Impl::DropSubscription() {
  if (sub_) {
    // The durable stays (it is deleted and recreated on the next start anyway).
    natsSubscription_Unsubscribe(sub_.get());
    sub_.reset();
  }
}

void Recorder::Impl::Backoff(const std::atomic<bool>& stop) {
  backoff_ms_ =
      backoff_ms_ == 0 ? config_.backoff_min_ms : std::min(backoff_ms_ * 2, config_.backoff_max_ms);
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(backoff_ms_);
  while (!stop && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::expected<void, std::string> Recorder::Impl::OpenWriter() {
  writer_.reset();
  auto w = store::HistoryWriter::Open(config_.pg, config_.shard);
  if (!w) return std::unexpected("opening the history writer: " + w.error().message);
  writer_ = std::move(*w);
  const auto& pos = writer_->position();
  next_seq_ = pos.command_seq + 1;
  metrics_.position_command_seq.Set(static_cast<double>(pos.command_seq));
  metrics_.position_stream_seq.Set(static_cast<double>(pos.stream_seq));
  return {};
}

// Deletes the durable (whatever its state) and creates it again at the message after the
// committed position, then binds a pull subscription to it.
std::expected<void, std::string> Recorder::Impl::CreateConsumer() {
  DropSubscription();
  const std::string stream = bus::EventStream(config_.shard);
  const std::string subject = bus::EventSubject(config_.shard);
  const std::string durable = DurableName(config_.shard);
  const auto& pos = writer_->position();
  auto last = nats_.LastSeq(stream);
  if (!last) return std::unexpected("stream " + stream + ": " + last.error().message);
  if (*last < pos.stream_seq) {
    Log(service::LogLevel::kWarn,
        "stream " + stream + " ends at " + std::to_string(*last) +
            ", before the PostgreSQL position's message " + std::to_string(pos.stream_seq) +
            ": was the stream recreated? waiting for it to pass the position");
  }
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_DeleteConsumer(nats_.js(), stream.c_str(), durable.c_str(), nullptr, &jerr);
  if (s != NATS_OK && s != NATS_NOT_FOUND && jerr != JSConsumerNotFoundErr) {
    return std::unexpected("deleting consumer " + durable + ": " + bus::StatusText(s, jerr));
  }
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = durable.c_str();
  cc.Description = "spotex-recorder: EVT stream into PostgreSQL";
  cc.FilterSubject = subject.c_str();
  // The recorder applies in stream order: acking a run's last message acks the run.
  cc.AckPolicy = js_AckAll;
  cc.AckWait = config_.ack_wait_ms * 1'000'000;
  // A run's messages stay unacknowledged until it commits; one run is at most about
  // max_batch_events messages (each holds at least one event).
  cc.MaxAckPending = std::max<int64_t>(1000, config_.max_batch_events + config_.fetch_messages);
  if (pos.stream_seq == 0) {
    cc.DeliverPolicy = js_DeliverAll;
  } else {
    cc.DeliverPolicy = js_DeliverByStartSequence;
    cc.OptStartSeq = pos.stream_seq + 1;
  }
  jsConsumerInfo* ci = nullptr;
  s = js_AddConsumer(&ci, nats_.js(), stream.c_str(), &cc, nullptr, &jerr);
  if (ci != nullptr) jsConsumerInfo_Destroy(ci);
  if (s != NATS_OK) {
    return std::unexpected("creating consumer " + durable + ": " + bus::StatusText(s, jerr));
  }
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Consumer = durable.c_str();
  natsSubscription* sub = nullptr;
  s = js_PullSubscribe(&sub, nats_.js(), subject.c_str(), durable.c_str(), nullptr, &so, &jerr);
  if (s != NATS_OK) {
    return std::unexpected("binding to consumer " + durable + ": " + bus::StatusText(s, jerr));
  }
  sub_.reset(sub);
  Log(service::LogLevel::kInfo, "consuming " + stream + " from message " +
                                    std::to_string(pos.stream_seq + 1) + " (position: command " +
                                    std::to_string(pos.command_seq) + ", " +
                                    std::to_string(pos.events) + " events applied)");
  return {};
}

// Opens the writer and recreates the consumer from its position, retrying with back-off.
// Returns false if `stop` was set first.
bool Recorder::Impl::Restart(const std::atomic<bool>& stop) {
  while (!stop) {
    auto r = OpenWriter();
    if (r) r = CreateConsumer();
    if (r) {
      fresh_ = true;
      pending_ = 0;  // unknown for the new consumer: its first pull asks for one message
      UpdateLag(true);
      return true;
    }
    metrics_.errors.Inc();
    Log(service::LogLevel::kError, r.error() + "; retrying");
    Backoff(stop);
  }
  return false;
}

// Parses one fetched message into `run` (taking ownership of it).
Fault Recorder::Impl::Take(natsMsg* raw, Chunk& run, std::string& why) {
  bus::MsgPtr msg(raw);
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg.get()) != NATS_OK) {
    why = "a fetched message has no JetStream metadata";
    return Fault::kRestart;
  }
  const uint64_t stream_seq = meta->Sequence.Stream;
  jsMsgMetaData_Destroy(meta);
  auto data = std::span<const std::byte>(reinterpret_cast<const std::byte*>(natsMsg_GetData(raw)),
                                         static_cast<size_t>(natsMsg_GetDataLength(raw)));
  auto batch = proto::ParseBatch(data);
  if (!batch) {
    why = "message " + std::to_string(stream_seq) + " of " + bus::EventStream(config_.shard) +
          " is not a valid event batch (" + std::string(proto::ToString(batch.error())) + ")";
    return Fault::kMalformed;
  }
  if (stream_seq <= run.last_stream_seq) {
    why = "message " + std::to_string(stream_seq) + " delivered out of order";
    return Fault::kRestart;
  }
  if (batch->first_seq > next_seq_) {
    why = "gap: message " + std::to_string(stream_seq) + " starts at command " +
          std::to_string(batch->first_seq) + " but the next command to apply is " +
          std::to_string(next_seq_);
    return fresh_ ? Fault::kGap : Fault::kRestart;
  }
  next_seq_ = std::max(next_seq_, batch->last_seq + 1);
  uint64_t events = 0;
  for (const auto& env : batch->envelopes) events += env.header().event_count;
  run.events += events;
  events_per_msg_ = events_per_msg_ == 0
                        ? static_cast<double>(events)
                        : 0.8 * events_per_msg_ + 0.2 * static_cast<double>(events);
  run.last_stream_seq = stream_seq;
  run.batches.push_back(std::move(*batch));
  run.stream_seqs.push_back(stream_seq);
  run.msgs.push_back(std::move(msg));
  return Fault::kNone;
}

// Pulls messages until the run holds max_batch_events events, max_batch_delay_ms passed since
// its first message, nothing more is pending, or `stop` is set.
Fault Recorder::Impl::Collect(Chunk& run, const std::atomic<bool>& stop, std::string& why) {
  std::chrono::steady_clock::time_point deadline{};
  while (!stop && run.events < static_cast<uint64_t>(config_.max_batch_events)) {
    int64_t wait_ms = config_.idle_wait_ms;
    if (!run.empty()) {
      wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
      if (wait_ms <= 0) break;
    }
    // As many messages as the run has room for (a message holds up to 512 KiB of envelopes, so
    // asking for a fixed count could overshoot max_batch_events many times over), and no more
    // than are pending: a pull request for more than the stream holds waits for the rest until
    // it expires, which would hold back what already arrived.
    int want = 1;
    if (events_per_msg_ > 0 && pending_ > 0) {
      double room =
          static_cast<double>(config_.max_batch_events - static_cast<int64_t>(run.events));
      want = static_cast<int>(
          std::clamp(std::min(room / events_per_msg_, static_cast<double>(pending_)), 1.0,
                     static_cast<double>(config_.fetch_messages)));
    }
    natsMsgList list{};
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = natsSubscription_Fetch(&list, sub_.get(), want, wait_ms, &jerr);
    if (s == NATS_TIMEOUT) break;
    if (s != NATS_OK) {
      natsMsgList_Destroy(&list);
      why = "fetch: " + bus::StatusText(s, jerr);
      return Fault::kRestart;
    }
    if (run.empty()) {
      deadline =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.max_batch_delay_ms);
    }
    pending_ = 0;
    Fault f = Fault::kNone;
    for (int i = 0; i < list.Count; ++i) {
      natsMsg* m = std::exchange(list.Msgs[i], nullptr);
      if (f != Fault::kNone) {
        natsMsg_Destroy(m);
        continue;
      }
      jsMsgMetaData* meta = nullptr;
      if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
        pending_ = meta->NumPending;
        jsMsgMetaData_Destroy(meta);
      }
      f = Take(m, run, why);
    }
    natsMsgList_Destroy(&list);
    if (f != Fault::kNone) return f;
    if (pending_ == 0) break;  // caught up with the stream: commit what we have now
  }
  return Fault::kNone;
}

// Commits the run through the writer, then acks it.
Fault Recorder::Impl::Apply(Chunk& run, std::string& why) {
  // One transaction, unless the run holds more envelopes than the writer takes at once: then
  // one per slice of whole messages (each slice's position is its last message).
  std::vector<const proto::Envelope*> envs;
  envs.reserve(std::min<size_t>(run.events, store::kApplyEnvelopesMax));
  for (size_t i = 0; i < run.batches.size(); ++i) {
    for (const auto& e : run.batches[i].envelopes) envs.push_back(&e);
    const bool last = i + 1 == run.batches.size();
    if (!last && envs.size() + run.batches[i + 1].envelopes.size() <= store::kApplyEnvelopesMax) {
      continue;
    }
    if (envs.empty()) continue;
    auto t0 = std::chrono::steady_clock::now();
    auto r = writer_->Apply(envs, run.stream_seqs[i]);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!r) {
      why = "PostgreSQL: " + r.error().message;
      return Fault::kRestart;
    }
    metrics_.ObserveApply(secs, r->events, r->envelopes);
    last_applied_time_ms_ = envs.back()->header().time_ms;
    log_events_ += r->events;
    envs.clear();
  }
  ++log_batches_;
  // AckAll: the last message acknowledges the run. A lost ack only means a redelivery, which
  // the writer skips.
  if (natsStatus s = natsMsg_Ack(run.msgs.back().get(), nullptr); s != NATS_OK) {
    Log(service::LogLevel::kWarn, "ack: " + bus::StatusText(s));
  }
  const auto& pos = writer_->position();
  metrics_.position_command_seq.Set(static_cast<double>(pos.command_seq));
  metrics_.position_stream_seq.Set(static_cast<double>(pos.stream_seq));
  fresh_ = false;
  backoff_ms_ = 0;
  return Fault::kNone;
}

void Recorder::Impl::UpdateLag(bool force) {
  int64_t now = NowMs();
  if (!force && now - last_lag_ms_ < config_.lag_interval_ms) return;
  last_lag_ms_ = now;
  const auto& pos = writer_->position();
  auto evt = nats_.LastSeq(bus::EventStream(config_.shard));
  auto cmd = nats_.LastSeq(bus::CommandStream(config_.shard));
  if (evt) {
    metrics_.lag_messages.Set(
        static_cast<double>(*evt > pos.stream_seq ? *evt - pos.stream_seq : 0));
  }
  if (cmd) {
    uint64_t behind = *cmd > pos.command_seq ? *cmd - pos.command_seq : 0;
    metrics_.lag_commands.Set(static_cast<double>(behind));
    metrics_.lag_ms.Set(static_cast<double>(behind > 0 && last_applied_time_ms_ > 0
                                                ? std::max<int64_t>(0, now - last_applied_time_ms_)
                                                : 0));
  }
}

void Recorder::Impl::MaybeLogProgress() {
  int64_t now = NowMs();
  if (log_batches_ < config_.log_every_batches && now - log_since_ms_ < config_.log_every_ms) {
    return;
  }
  double secs = std::max<double>(0.001, static_cast<double>(now - log_since_ms_) / 1000.0);
  const auto& pos = writer_->position();
  char line[320];
  std::snprintf(line, sizeof line,
                "%llu batches, %llu events in %.1f s (%.0f events/s, %.1f batches/s); position "
                "command %llu message %llu; lag %llu messages %llu commands",
                static_cast<unsigned long long>(log_batches_),
                static_cast<unsigned long long>(log_events_), secs,
                static_cast<double>(log_events_) / secs, static_cast<double>(log_batches_) / secs,
                static_cast<unsigned long long>(pos.command_seq),
                static_cast<unsigned long long>(pos.stream_seq),
                static_cast<unsigned long long>(metrics_.lag_messages.Value()),
                static_cast<unsigned long long>(metrics_.lag_commands.Value()));
  if (log_batches_ > 0) Log(service::LogLevel::kInfo, line);
  log_since_ms_ = now;
  log_batches_ = 0;
  log_events_ = 0;
}

std::expected<void, RecorderError> Recorder::Impl::Run(const std::atomic<bool>& stop) {
  if (config_.max_batch_events < 1 || config_.max_batch_events > kMaxBatchEventsMax ||
      config_.max_batch_delay_ms < 0 || config_.max_batch_delay_ms > kMaxBatchDelayMsMax ||
      config_.fetch_messages < 1 || config_.idle_wait_ms < 1) {
    return std::unexpected(RecorderError{RecorderFailure::kConfig, "bad recorder limits"});
  }
  if (!Restart(stop)) return {};
  while (!stop) {
    Chunk run;
    std::string why;
    Fault f = Collect(run, stop, why);
    if (f == Fault::kNone && !run.empty()) f = Apply(run, why);
    if (f == Fault::kMalformed || f == Fault::kGap) {
      Log(service::LogLevel::kError,
          "stopping: " + why + " (nothing after the position is applied)");
      return std::unexpected(RecorderError{
          f == Fault::kMalformed ? RecorderFailure::kMalformed : RecorderFailure::kGap, why});
    }
    if (f == Fault::kRestart) {
      // The run's messages are not acknowledged; the consumer is recreated from the position.
      metrics_.errors.Inc();
      Log(service::LogLevel::kError, why + "; restarting from the committed position");
      run = {};
      Backoff(stop);
      if (!Restart(stop)) return {};
      continue;
    }
    UpdateLag(false);
    MaybeLogProgress();
  }
  return {};
}

}  // namespace spotex::recorder
