// The recorder's Prometheus metrics (names in docs/metrics.md and docs/recorder.md), registered
// in a metrics::Registry that spotex-recorder serves with metrics::MetricsServer.
//
// RecorderMetrics is written by the recorder's loop and read by the server's thread: every
// member is a lock-free metrics child, so both may run at once.
#pragma once

#include <array>
#include <cstdint>

#include "service/metrics.h"

namespace spotex::recorder {

class RecorderMetrics {
 public:
  // Upper bounds (seconds) of the apply-time histogram's buckets; +Inf is implicit.
  static constexpr std::array<double, 12> kApplyBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                           0.1,   0.25,   0.5,   1.0,  2.5,   10.0};

  // Registers the recorder's families in `registry` (which must outlive this object).
  explicit RecorderMetrics(metrics::Registry& registry);

  // One committed Apply(): its wall time and what it wrote.
  void ObserveApply(double seconds, uint64_t events, uint64_t envelopes);

  metrics::Gauge& lag_messages;  // EVT stream last seq - applied stream seq
  metrics::Gauge& lag_commands;  // CMD stream last seq - applied command seq
  metrics::Gauge& lag_ms;        // now - time of the last applied command (backlog), else 0
  metrics::Gauge& position_command_seq;
  metrics::Gauge& position_stream_seq;
  metrics::Counter& applied_events;     // event records applied by this process
  metrics::Counter& applied_envelopes;  // commands applied by this process
  metrics::Counter& batches;            // committed transactions
  metrics::Counter& errors;             // PostgreSQL / NATS errors that forced a restart
  metrics::Histogram& apply_seconds;    // wall time of one batch transaction
};

}  // namespace spotex::recorder
