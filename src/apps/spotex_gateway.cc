// spotex-gateway: the public HTTP face of Spotex (issue 4). Today it serves the public market
// data of /api/v3 from memory, kept from the event stream and seeded from the engine's
// queries; signed account and order endpoints come next (docs/gateway.md says what exists).
#include <csignal>
#include <cstdio>
#include <thread>

#include "apps/flags.h"
#include "bus/subjects.h"
#include "gateway/http/router.h"
#include "gateway/http/server.h"
#include "gateway/market/engine_json.h"
#include "gateway/market/market_data.h"
#include "gateway/market/public_api.h"
#include "proto/envelope.h"
#include "service/command_client.h"
#include "service/log.h"

namespace {

using namespace spotex;

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

constexpr const char* kUsage =
    "usage: spotex-gateway [--listen 127.0.0.1] [--port 8080] [--io-threads 2] [--shard 0]\n"
    "         [--nats-url URL] [--nats-user USER] [--nats-password-file FILE]\n";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Keeps MarketData from the event stream. Until the symbols are seeded from the engine, batches
// wait in a buffer; then they are applied in order (MarketData skips what the seed already has).
class EventFeed {
 public:
  explicit EventFeed(gateway::MarketData& md) : md_(md) {}

  static void OnMsg(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* self = static_cast<EventFeed*>(closure);
    std::string data(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
    natsMsg_Destroy(msg);
    std::lock_guard lock(self->mu_);
    if (!self->live_) {
      self->pending_.push_back(std::move(data));
      return;
    }
    self->Apply(data);
  }

  // Applies what was buffered and goes live.
  void GoLive() {
    std::lock_guard lock(mu_);
    for (const auto& d : pending_) Apply(d);
    pending_.clear();
    live_ = true;
  }

  bool markets_changed() { return markets_changed_.exchange(false); }

 private:
  void Apply(const std::string& data) {
    auto batch = proto::ParseBatch({reinterpret_cast<const std::byte*>(data.data()), data.size()});
    if (!batch) {
      service::Log(
          service::LogLevel::kWarn, "gateway",
          std::string("event batch ignored: ") + std::string(proto::ToString(batch.error())));
      return;
    }
    for (const auto& env : batch->envelopes) {
      md_.Apply(env);
      for (auto r = env.reader(); !r.Done(); r.Next()) {
        auto t = r.header().type;
        if (t == engine::EventType::kSymbolAdded || t == engine::EventType::kSymbolStatusChanged) {
          markets_changed_ = true;
        }
      }
    }
  }

  gateway::MarketData& md_;
  std::mutex mu_;
  bool live_ = false;
  std::vector<std::string> pending_;
  std::atomic<bool> markets_changed_{false};
};

// Reads the symbols (and the books of new ones) from the engine.
bool LoadMarkets(service::CommandClient& client, gateway::MarketData& md, gateway::PublicApi& api) {
  auto answer = client.Query("symbols", 5000);
  if (!answer) {
    service::Log(service::LogLevel::kError, "gateway", answer.error().message);
    return false;
  }
  auto symbols = gateway::ParseSymbols(*answer);
  if (!symbols) {
    service::Log(service::LogLevel::kError, "gateway", symbols.error());
    return false;
  }
  for (const auto& s : *symbols) {
    if (md.HasSymbol(s.info.name)) continue;
    auto book = client.Query("book " + s.info.name + " 5000", 5000);
    if (!book) return false;
    auto snap = gateway::ParseBook(*book, s.info);
    if (!snap) {
      service::Log(service::LogLevel::kError, "gateway", snap.error());
      return false;
    }
    md.AddSymbol(s.info, snap->last_update_id, snap->bids, snap->asks);
  }
  api.SetSymbols(std::move(*symbols));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  apps::Flags flags;
  if (auto err = apps::Flags::Parse(
          argc, argv,
          {"listen", "port", "io-threads", "shard", "nats-url", "nats-user", "nats-password-file"},
          flags)) {
    std::fprintf(stderr, "%s\n%s", err->c_str(), kUsage);
    return 2;
  }
  auto port = flags.GetInt("port", 8080);
  auto threads = flags.GetInt("io-threads", 2);
  auto shard = flags.GetInt("shard", 0);
  if (!port || *port < 0 || *port > 65535 || !threads || *threads < 1 || *threads > 64 || !shard ||
      *shard < 0 || !flags.positional().empty()) {
    std::fprintf(stderr, "bad arguments\n%s", kUsage);
    return 2;
  }
  bus::NatsConfig nc;
  nc.url = flags.Get("nats-url", "nats://127.0.0.1:4222");
  nc.user = flags.Get("nats-user");
  nc.name = "spotex-gateway";
  if (auto f = flags.Get("nats-password-file"); !f.empty()) {
    auto pw = bus::ReadSecretFile(f);
    if (!pw) {
      std::fprintf(stderr, "%s\n", pw.error().message.c_str());
      return 2;
    }
    nc.password = *pw;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);

  auto client = service::CommandClient::Connect(nc, static_cast<uint32_t>(*shard));
  if (!client) {
    service::Log(service::LogLevel::kError, "gateway", client.error().message);
    return 1;
  }
  gateway::MarketData md;
  gateway::PublicApi api(md, NowMs);
  EventFeed feed(md);
  natsSubscription* sub = nullptr;
  std::string subject = bus::EventSubject(static_cast<uint32_t>(*shard));
  if (natsConnection_Subscribe(&sub, (*client)->nats().conn(), subject.c_str(), &EventFeed::OnMsg,
                               &feed) != NATS_OK) {
    service::Log(service::LogLevel::kError, "gateway", "cannot subscribe to " + subject);
    return 1;
  }
  natsSubscription_SetPendingLimits(sub, 1 << 20, 1 << 30);
  natsConnection_FlushTimeout((*client)->nats().conn(), 5000);
  // The engine may still be starting: retry the first load for a while.
  bool loaded = false;
  for (int i = 0; i < 60 && !g_stop && !loaded; ++i) {
    loaded = LoadMarkets(**client, md, api);
    if (!loaded) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  if (!loaded) return 1;
  feed.GoLive();

  http::Router router;
  api.Register(router);
  (void)router.Add(http::Method::kGet, "/health", [](http::Request&&, http::Responder respond) {
    respond(http::Response::Json(200, "{\"status\":\"ok\"}"));
  });
  http::ServerConfig sc;
  sc.address = flags.Get("listen", "127.0.0.1");
  sc.port = static_cast<uint16_t>(*port);
  sc.io_threads = static_cast<int>(*threads);
  auto server = http::Server::Start(sc, std::move(router).ToHandler());
  if (!server) {
    service::Log(service::LogLevel::kError, "gateway", "cannot listen: " + server.error());
    return 1;
  }
  service::Log(service::LogLevel::kInfo, "gateway",
               "listening on http://" + sc.address + ":" + std::to_string((*server)->port()));
  while (!g_stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (feed.markets_changed()) LoadMarkets(**client, md, api);
  }
  service::Log(service::LogLevel::kInfo, "gateway", "stopping");
  (*server)->Stop(std::chrono::milliseconds(5000));
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  return 0;
}
