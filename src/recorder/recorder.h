// spotex-recorder's loop: a durable JetStream pull consumer on EVT_<shard> that hands runs of
// event envelopes to store::HistoryWriter, one PostgreSQL transaction per run (docs/recorder.md).
//
// Exactly-once: the writer commits the rows and the position (last command seq, EVT stream seq)
// in one transaction and skips envelopes at or below it, so a message delivered twice changes
// nothing. The recorder acks a message only after the transaction that holds it committed. The
// durable consumer's own state is never trusted: on every (re)start, and after every error, the
// durable is deleted and recreated to deliver from the message after the PostgreSQL position.
// That also covers a database restored to an older point (the consumer would be ahead of it)
// and a killed predecessor's unacknowledged messages (which JetStream would otherwise redeliver
// only after the ack wait, out of order).
//
// Ordering: envelopes are applied in command-seq order with no gap. A message that starts after
// the next expected command is a gap: the recorder restarts from the position once; a gap right
// after a restart means the stream lost data and the recorder stops (fail-stop, never skipping).
// A message that is not a valid event batch also stops it: silently skipping would lose history.
//
// Back-pressure: the next fetch happens only after the previous transaction finished, and a run
// holds about max_batch_events events (it asks for as many messages as it has room for, by the
// mean events per message; at least one), so memory is bounded whatever the
// backlog; the backlog waits in the stream.
//
// Thread-safety: Run() on one thread; the metrics may be read from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>

#include "bus/nats.h"
#include "db/pg.h"
#include "recorder/metrics.h"

namespace spotex::recorder {

// Limits on the configuration.
inline constexpr int64_t kMaxBatchEventsMax = 1'000'000;
inline constexpr int64_t kMaxBatchDelayMsMax = 60'000;

struct RecorderConfig {
  uint32_t shard = 0;
  db::PgConnParams pg;
  int64_t max_batch_events = 20'000;  // events per transaction (a message is never split)
  int64_t max_batch_delay_ms = 50;    // how long a run may wait for more messages
  int fetch_messages = 32;            // messages per pull request
  int64_t idle_wait_ms = 500;         // pull wait when nothing is pending (bounds stop latency)
  int64_t ack_wait_ms = 60'000;       // the consumer's ack wait
  int64_t backoff_min_ms = 100;       // after an error: doubled up to backoff_max_ms
  int64_t backoff_max_ms = 5'000;
  int64_t lag_interval_ms = 250;      // how often the stream heads are read for the lag metrics
  uint64_t log_every_batches = 1000;  // one progress line per this many transactions
  int64_t log_every_ms = 10'000;      // ... or per this much time, whichever comes first
};

// Why Run() returned with an error.
enum class RecorderFailure {
  kMalformed,  // a message on the stream is not a valid event batch (fail-stop)
  kGap,        // the stream does not hold the commands after the position (fail-stop)
  kConfig,     // a bad configuration
};
struct RecorderError {
  RecorderFailure failure;
  std::string message;
};

class Recorder {
 public:
  // `nats` must outlive the recorder (its JetStream context is used from Run()'s thread).
  Recorder(bus::Nats& nats, RecorderConfig config, RecorderMetrics& metrics);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Applies the stream until `stop` is set (then finishes the run in hand, commits it, and
  // returns success), or a fail-stop condition. PostgreSQL and NATS errors are retried with a
  // bounded exponential back-off from the committed position; they never return.
  [[nodiscard]] std::expected<void, RecorderError> Run(const std::atomic<bool>& stop);

  static std::string DurableName(uint32_t shard) { return "recorder_" + std::to_string(shard); }

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace spotex::recorder
