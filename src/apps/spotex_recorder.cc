// spotex-recorder: writes one engine shard's event stream (EVT_<shard>) into the PostgreSQL
// history schema, exactly once (issue 6, docs/recorder.md). Run one per shard.
//
// SIGTERM / SIGINT: the run in hand is committed, then it exits 0. Exit 1: a fail-stop condition
// (a malformed event batch, or the stream lacks commands after the position) that needs a
// person; exit 2: bad arguments or secrets.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>

#include "apps/flags.h"
#include "apps/nats_flags.h"
#include "apps/pg_flags.h"
#include "bus/nats.h"
#include "db/pg.h"
#include "recorder/metrics.h"
#include "recorder/recorder.h"
#include "service/log.h"
#include "service/metrics.h"

namespace {

using namespace spotex;

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

constexpr const char* kUsage =
    "usage: spotex-recorder [--shard 0] [--nats-url URL] [--nats-user USER]\n"
    "         [--nats-password-file FILE] [--pg-host H] [--pg-port 5432] [--pg-user spotex]\n"
    "         [--pg-dbname spotex] [--pg-password-file FILE] [--metrics-port 0]\n"
    "         [--max-batch-events 20000] [--max-batch-delay-ms 50]\n";

}  // namespace

int main(int argc, char** argv) {
  apps::Flags flags;
  if (auto err =
          apps::Flags::Parse(argc, argv,
                             {"shard", "nats-url", "nats-user", "nats-password-file", "pg-host",
                              "pg-port", "pg-user", "pg-dbname", "pg-password-file", "metrics-port",
                              "max-batch-events", "max-batch-delay-ms"},
                             flags)) {
    std::fprintf(stderr, "%s\n%s", err->c_str(), kUsage);
    return 2;
  }
  auto shard = flags.GetInt("shard", 0);
  auto pg_port = flags.GetInt("pg-port", 5432);
  auto metrics_port = flags.GetInt("metrics-port", 0);
  auto max_events = flags.GetInt("max-batch-events", 20'000);
  auto max_delay = flags.GetInt("max-batch-delay-ms", 50);
  if (!shard || *shard < 0 || *shard > 1023 || !pg_port || *pg_port < 1 || *pg_port > 65535 ||
      !metrics_port || *metrics_port < 0 || *metrics_port > 65535 || !max_events ||
      *max_events < 1 || *max_events > recorder::kMaxBatchEventsMax || !max_delay ||
      *max_delay < 0 || *max_delay > recorder::kMaxBatchDelayMsMax || !flags.positional().empty()) {
    std::fprintf(stderr, "bad arguments\n%s", kUsage);
    return 2;
  }

  auto nats_config = apps::NatsFromFlags(flags, "spotex-recorder");
  auto pg_config = apps::PgFromFlags(flags, static_cast<int>(*pg_port), "spotex-recorder");
  if (!nats_config || !pg_config) {
    std::fprintf(stderr, "%s\n", (!nats_config ? nats_config.error() : pg_config.error()).c_str());
    return 2;
  }
  bus::NatsConfig nc = std::move(*nats_config);
  recorder::RecorderConfig config;
  config.shard = static_cast<uint32_t>(*shard);
  config.max_batch_events = *max_events;
  config.max_batch_delay_ms = *max_delay;
  config.pg = std::move(*pg_config);
  config.pg.statement_timeout_ms = 60'000;

  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);

  auto nats = bus::Nats::Connect(nc);
  if (!nats) {
    service::Log(service::LogLevel::kError, "recorder", nats.error().message);
    return 1;
  }
  metrics::Registry registry;
  metrics::RegisterProcessMetrics(registry);
  recorder::RecorderMetrics metrics(registry);
  std::unique_ptr<metrics::MetricsServer> server;
  if (*metrics_port > 0) {
    auto started =
        metrics::MetricsServer::Start(registry, "127.0.0.1", static_cast<uint16_t>(*metrics_port));
    if (!started) {
      service::Log(service::LogLevel::kError, "recorder", started.error());
      return 1;
    }
    server = std::move(*started);
    service::Log(service::LogLevel::kInfo, "recorder",
                 "metrics on http://127.0.0.1:" + std::to_string(server->port()) + "/metrics");
  }
  recorder::Recorder rec(**nats, config, metrics);
  auto r = rec.Run(g_stop);
  server.reset();
  if (!r) return r.error().failure == recorder::RecorderFailure::kConfig ? 2 : 1;
  service::Log(service::LogLevel::kInfo, "recorder", "stopped");
  return 0;
}
