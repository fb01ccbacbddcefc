#include "recorder/metrics.h"

namespace spotex::recorder {

RecorderMetrics::RecorderMetrics(metrics::Registry& r)
    : lag_messages(r.AddGauge("spotex_recorder_lag_messages",
                              "EVT stream messages not yet applied (stream last seq - applied "
                              "stream seq).")
                       .With({})),
      lag_commands(r.AddGauge("spotex_recorder_lag_commands",
                              "Commands on the command log whose events are not yet applied.")
                       .With({})),
      lag_ms(r.AddGauge("spotex_recorder_lag_ms",
                        "Age of the last applied command while a backlog exists, else 0.")
                 .With({})),
      position_command_seq(r.AddGauge("spotex_recorder_position_command_seq",
                                      "Last command seq committed to PostgreSQL.")
                               .With({})),
      position_stream_seq(r.AddGauge("spotex_recorder_position_stream_seq",
                                     "EVT stream seq of the last committed message.")
                              .With({})),
      applied_events(r.AddCounter("spotex_recorder_applied_events_total",
                                  "Event records applied by this process.")
                         .With({})),
      applied_envelopes(r.AddCounter("spotex_recorder_applied_commands_total",
                                     "Command envelopes applied by this process.")
                            .With({})),
      batches(
          r.AddCounter("spotex_recorder_batches_total", "Transactions committed by this process.")
              .With({})),
      errors(r.AddCounter("spotex_recorder_errors_total",
                          "PostgreSQL or NATS errors that made the recorder restart from its "
                          "position.")
                 .With({})),
      apply_seconds(r.AddHistogram("spotex_recorder_apply_seconds",
                                   "Wall time of one batch transaction.",
                                   {kApplyBuckets.begin(), kApplyBuckets.end()})
                        .With({})) {}

void RecorderMetrics::ObserveApply(double seconds, uint64_t events, uint64_t envelopes) {
  applied_events.Inc(events);
  applied_envelopes.Inc(envelopes);
  batches.Inc();
  apply_seconds.Observe(seconds);
}

}  // namespace spotex::recorder
