// spotex-engine: runs one shard's engine service until SIGINT/SIGTERM (docs/engine-service.md).
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "apps/flags.h"
#include "apps/nats_flags.h"
#include "service/engine_service.h"
#include "service/log.h"
#include "service/metrics.h"

namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

constexpr const char* kUsage =
    "usage: spotex-engine --data-dir DIR [--shard N] [--nats-url URL] [--nats-user USER]\n"
    "         [--nats-password-file FILE] [--markets FILE.toml] [--snapshot-every N]\n"
    "         [--snapshot-seconds T] [--snapshot-keep K] [--replicas R] [--connect-timeout S]\n"
    "         [--metrics-port P (Prometheus on 127.0.0.1:P/metrics; 0 = off)]\n";

// glibc's malloc backs large allocations with transparent huge pages only when asked, through
// a tunable read at process start. The engine wants them: its pools are large and randomly
// accessed (fewer TLB misses), and snapshots fork() the process, whose cost is its page-table
// size — about 2 ms instead of 18-37 ms with a million open orders (docs/PERFORMANCE.md). So
// re-execute once with the tunable set, unless it is set already or SPOTEX_NO_HUGEPAGES is.
void ReexecWithHugePages(char** argv) {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (std::getenv("SPOTEX_NO_HUGEPAGES") != nullptr ||
      (tunables != nullptr &&
       std::string(tunables).find("glibc.malloc.hugetlb") != std::string::npos)) {
    return;
  }
  std::string value = "glibc.malloc.hugetlb=1";
  if (tunables != nullptr && tunables[0] != '\0') value = std::string(tunables) + ":" + value;
  ::setenv("GLIBC_TUNABLES", value.c_str(), 1);
  ::execv("/proc/self/exe", argv);
  // exec failed: carry on without huge pages.
}

}  // namespace

int main(int argc, char** argv) {
  using namespace spotex;
  ReexecWithHugePages(argv);
  apps::Flags flags;
  if (auto err =
          apps::Flags::Parse(argc, argv,
                             {"data-dir", "shard", "nats-url", "nats-user", "nats-password-file",
                              "markets", "snapshot-every", "snapshot-seconds", "snapshot-keep",
                              "replicas", "connect-timeout", "metrics-port"},
                             flags)) {
    std::fprintf(stderr, "%s\n%s", err->c_str(), kUsage);
    return 2;
  }
  service::ServiceConfig config;
  config.data_dir = flags.Get("data-dir");
  auto shard = flags.GetInt("shard", 0);
  auto every = flags.GetInt("snapshot-every", 200000);
  auto seconds = flags.GetInt("snapshot-seconds", 300);
  auto keep = flags.GetInt("snapshot-keep", 3);
  auto replicas = flags.GetInt("replicas", 1);
  auto connect_timeout = flags.GetInt("connect-timeout", 30);
  auto metrics_port = flags.GetInt("metrics-port", 0);
  if (config.data_dir.empty() || !flags.positional().empty() || !shard || *shard < 0 ||
      *shard > 1023 || !every || *every < 1 || !seconds || *seconds < 1 || !keep || *keep < 1 ||
      !replicas || *replicas < 1 || *replicas > 5 || !connect_timeout || *connect_timeout < 0 ||
      !metrics_port || *metrics_port < 0 || *metrics_port > 65535) {
    std::fprintf(stderr, "bad or missing arguments\n%s", kUsage);
    return 2;
  }
  config.shard = static_cast<uint32_t>(*shard);
  config.snapshot_every = static_cast<uint64_t>(*every);
  config.snapshot_seconds = *seconds;
  config.snapshot_keep = static_cast<int>(*keep);
  config.replicas = static_cast<int>(*replicas);
  config.markets_path = flags.Get("markets");
  auto nats_config = apps::NatsFromFlags(flags, "spotex-engine-" + std::to_string(config.shard));
  if (!nats_config) {
    std::fprintf(stderr, "%s\n", nats_config.error().c_str());
    return 2;
  }
  config.nats = std::move(*nats_config);

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);

  // The server may still be starting: retry the whole start-up for a while.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(*connect_timeout);
  for (;;) {
    auto svc = service::EngineService::Start(config);
    if (svc) {
      service::Log(service::LogLevel::kInfo, "engine", "started");
      // Declared after the service: stopped before it (its collect callback reads the service).
      std::unique_ptr<metrics::MetricsServer> metrics_server;
      if (*metrics_port > 0) {
        auto started = metrics::MetricsServer::Start((*svc)->registry(), "127.0.0.1",
                                                     static_cast<uint16_t>(*metrics_port));
        if (!started) {
          service::Log(service::LogLevel::kError, "engine", started.error());
          return 1;
        }
        metrics_server = std::move(*started);
        service::Log(
            service::LogLevel::kInfo, "engine",
            "metrics on http://127.0.0.1:" + std::to_string(metrics_server->port()) + "/metrics");
      }
      return (*svc)->Run(g_stop);
    }
    service::Log(service::LogLevel::kError, "engine", "start failed: " + svc.error().message);
    if (!svc.error().retryable || g_stop || std::chrono::steady_clock::now() >= deadline) {
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}
