// spotex-gateway: the public HTTP face of Spotex (issue 4, docs/gateway.md). Stateless: any
// number of replicas may run behind the load balancer; they share PostgreSQL (users and keys),
// Redis (rate limits, replay cache, web sessions) and the engine's command and event streams.
//
// Serves /api/v3 (public market data from memory, signed account and order endpoints through
// the engine), /api/v1 (users, sessions, API keys, admin) and /health.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "apps/flags.h"
#include "apps/nats_flags.h"
#include "apps/pg_flags.h"
#include "auth/keys.h"
#include "auth/password.h"
#include "bus/subjects.h"
#include "db/pool.h"
#include "gateway/api/request_limits.h"
#include "gateway/auth/authenticator.h"
#include "gateway/auth/key_directory.h"
#include "gateway/feeds/stream_hub.h"
#include "gateway/history/history_store.h"
#include "gateway/http/router.h"
#include "gateway/http/server.h"
#include "gateway/market/engine_json.h"
#include "gateway/market/market_data.h"
#include "gateway/market/public_api.h"
#include "gateway/obs/metrics.h"
#include "gateway/obs/request_log.h"
#include "gateway/redis/rate_limits.h"
#include "gateway/redis/redis_client.h"
#include "gateway/redis/redis_rate_limiter.h"
#include "gateway/redis/replay_cache.h"
#include "gateway/redis/session_store.h"
#include "gateway/streams/encoder.h"
#include "gateway/trading/account_history.h"
#include "gateway/trading/trading_api.h"
#include "gateway/userdata/listen_key_api.h"
#include "gateway/userdata/listen_key_store.h"
#include "gateway/userdata/stream_endings.h"
#include "gateway/userdata/user_event_encoder.h"
#include "gateway/userdata/user_stream_hub.h"
#include "gateway/users/admin_api.h"
#include "gateway/users/demo_users.h"
#include "gateway/users/engine_accounts.h"
#include "gateway/users/user_api.h"
#include "gateway/users/user_service.h"
#include "gateway/users/worker_pool.h"
#include "gateway/web/static_site.h"
#include "gateway/web/web_api.h"
#include "gateway/wsapi/ws_api.h"
#include "proto/envelope.h"
#include "service/command_client.h"
#include "service/log.h"
#include "service/metrics.h"

namespace {

using namespace spotex;

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

constexpr const char* kUsage =
    "usage: spotex-gateway [--listen 127.0.0.1] [--port 8080] [--io-threads 8] [--shard 0]\n"
    "         [--nats-url URL] [--nats-user USER] [--nats-password-file FILE]\n"
    "         [--pg-host H] [--pg-port 5432] [--pg-user spotex] [--pg-dbname spotex]\n"
    "         [--pg-password-file FILE] [--pg-pool 8]\n"
    "         [--history-pg-host H] [--history-pg-port P] [--history-pg-pool 4]\n"
    "         [--history-timeout-ms 3000]\n"
    "         [--redis-host H] [--redis-port 6379] [--redis-password-file FILE] [--redis-pool 16]\n"
    "         [--secrets-dir DIR] [--demo-users FILE] [--workers 4] [--order-timeout-ms 10000]\n"
    "         [--weight-per-minute 6000] [--orders-per-10s 100] [--orders-per-day 200000]\n"
    "         [--max-connections 10000] [--ws-connections-per-ip 300]\n"
    "         [--trusted-proxies 127.0.0.1[,ADDR...]]\n"
    "         [--metrics-port P (Prometheus on 127.0.0.1:P/metrics; 0 = off)]\n"
    "         [--access-log all|errors|off (one JSON line per request; default errors)]\n"
    "         [--web-root DIR (serve the built web screen at /)]\n"
    "         [--demo-symbols BTCUSDT,ETHUSDT (marked DEMO by the web screen)]\n"
    "         [--user-stream-check-ms 30000 (expired listenKeys and sessions)]\n";

void Log(service::LogLevel level, const std::string& msg) { service::Log(level, "gateway", msg); }

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The markets as the engine lists them, for the endpoints that look symbols and assets up.
class Markets {
 public:
  void Set(std::vector<gateway::SymbolRecord> symbols, std::vector<gateway::AssetRecord> assets) {
    std::unique_lock lock(mu_);
    symbols_ = std::move(symbols);
    assets_ = std::move(assets);
  }
  std::optional<gateway::SymbolRecord> ByName(std::string_view name) const {
    std::shared_lock lock(mu_);
    for (const auto& s : symbols_) {
      if (s.info.name == name) return s;
    }
    return std::nullopt;
  }
  std::optional<gateway::SymbolRecord> ById(uint32_t id) const {
    std::shared_lock lock(mu_);
    for (const auto& s : symbols_) {
      if (s.info.id == id) return s;
    }
    return std::nullopt;
  }
  std::optional<gateway::userdata::AssetInfo> AssetById(uint32_t id) const {
    std::shared_lock lock(mu_);
    for (const auto& a : assets_) {
      if (a.id == id) return gateway::userdata::AssetInfo{a.name, a.scale};
    }
    return std::nullopt;
  }
  std::vector<gateway::AssetEntry> Assets() const {
    std::shared_lock lock(mu_);
    std::vector<gateway::AssetEntry> out;
    out.reserve(assets_.size());
    for (const auto& a : assets_) out.push_back({a.name, a.scale});
    return out;
  }

 private:
  mutable std::shared_mutex mu_;
  std::vector<gateway::SymbolRecord> symbols_;
  std::vector<gateway::AssetRecord> assets_;
};

struct SubscriptionCloser {
  void operator()(natsSubscription* sub) const {
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
  }
};

// Ends of user streams between the replicas (gateway/userdata/stream_endings.h): Tell
// publishes what this replica ended; every replica, this one included, applies what arrives.
class StreamEndings {
 public:
  StreamEndings(natsConnection* conn, gateway::userdata::UserStreamHub& hub)
      : conn_(conn), hub_(hub) {}

  void Tell(const std::string& message) const {
    if (message.empty()) return;
    if (natsConnection_PublishString(conn_, bus::kStreamEndedSubject, message.c_str()) != NATS_OK) {
      // The others still end those streams at their periodic check.
      Log(service::LogLevel::kWarn, "cannot tell the other replicas that a user stream ended");
    }
  }

  static void OnMsg(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* self = static_cast<StreamEndings*>(closure);
    const std::string_view data(natsMsg_GetData(msg),
                                static_cast<size_t>(natsMsg_GetDataLength(msg)));
    gateway::userdata::ApplyStreamEnded(self->hub_, data, NowMs());
    natsMsg_Destroy(msg);
  }

 private:
  natsConnection* const conn_;
  gateway::userdata::UserStreamHub& hub_;
};

// Keeps MarketData and AccountHistory from the event stream. Until the symbols are seeded from
// the engine, batches wait in a buffer; then they are applied in order (MarketData skips what
// the seed already has; AccountHistory ignores what it has applied).
class EventFeed {
 public:
  EventFeed(gateway::MarketData& md, gateway::AccountHistory& history,
            gateway::streams::StreamHub& hub, const gateway::userdata::UserEventEncoder& users,
            gateway::userdata::UserStreamHub& user_hub)
      : encoder_(md), history_(history), hub_(hub), users_(users), user_hub_(user_hub) {}

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
      Log(service::LogLevel::kWarn,
          std::string("event batch ignored: ") + std::string(proto::ToString(batch.error())));
      return;
    }
    for (const auto& env : batch->envelopes) {
      // Applies the envelope to the market data and encodes each stream's message once.
      hub_.Publish(encoder_.Apply(env));
      // The history first: user events read the orders' static data from it.
      history_.Apply(env);
      for (const auto& account : users_.Encode(env)) {
        user_hub_.Publish(account.account, account.events);
      }
      for (auto r = env.reader(); !r.Done(); r.Next()) {
        auto t = r.header().type;
        if (t == engine::EventType::kSymbolAdded || t == engine::EventType::kSymbolStatusChanged ||
            t == engine::EventType::kAssetAdded) {
          markets_changed_ = true;
        }
      }
    }
  }

  gateway::streams::StreamEncoder encoder_;
  gateway::AccountHistory& history_;
  gateway::streams::StreamHub& hub_;
  const gateway::userdata::UserEventEncoder& users_;
  gateway::userdata::UserStreamHub& user_hub_;
  std::mutex mu_;
  bool live_ = false;
  std::vector<std::string> pending_;
  std::atomic<bool> markets_changed_{false};
};

// Reads the assets, the symbols and the books of new symbols from the engine.
bool LoadMarkets(service::CommandClient& client, gateway::MarketData& md, gateway::PublicApi& api,
                 Markets& markets) {
  auto assets_answer = client.Query("assets", 5000);
  auto answer = client.Query("symbols", 5000);
  if (!answer || !assets_answer) {
    Log(service::LogLevel::kError,
        (answer ? assets_answer.error() : answer.error()).message);
    return false;
  }
  auto assets = gateway::ParseAssets(*assets_answer);
  auto symbols = gateway::ParseSymbols(*answer);
  if (!symbols || !assets) {
    Log(service::LogLevel::kError, symbols ? assets.error() : symbols.error());
    return false;
  }
  for (const auto& s : *symbols) {
    if (md.HasSymbol(s.info.name)) continue;
    auto book = client.Query("book " + s.info.name + " 5000", 5000);
    if (!book) return false;
    auto snap = gateway::ParseBook(*book, s.info);
    if (!snap) {
      Log(service::LogLevel::kError, snap.error());
      return false;
    }
    md.AddSymbol(s.info, snap->last_update_id, snap->bids, snap->asks);
  }
  markets.Set(*symbols, std::move(*assets));
  api.SetSymbols(std::move(*symbols));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  apps::Flags flags;
  if (auto err = apps::Flags::Parse(
          argc, argv,
          {"listen", "port", "io-threads", "shard", "nats-url", "nats-user", "nats-password-file",
           "pg-host", "pg-port", "pg-user", "pg-dbname", "pg-password-file", "pg-pool",
           "redis-host", "redis-port", "redis-password-file", "redis-pool", "secrets-dir",
           "demo-users", "workers", "order-timeout-ms", "weight-per-minute", "orders-per-10s",
           "orders-per-day", "max-connections", "ws-connections-per-ip", "history-pg-host",
           "history-pg-port", "history-pg-pool", "history-timeout-ms", "trusted-proxies",
           "metrics-port", "access-log", "web-root", "demo-symbols", "user-stream-check-ms"},
          flags)) {
    std::fprintf(stderr, "%s\n%s", err->c_str(), kUsage);
    return 2;
  }
  auto port = flags.GetInt("port", 8080);
  // Handlers wait on Redis round trips (request weight, replay cache, order count) on the I/O
  // thread: more threads than cores let those waits overlap (docs/PERFORMANCE.md, "REST API").
  auto threads = flags.GetInt("io-threads", 8);
  auto shard = flags.GetInt("shard", 0);
  auto pg_port = flags.GetInt("pg-port", 5432);
  auto pg_pool = flags.GetInt("pg-pool", 8);
  auto redis_port = flags.GetInt("redis-port", 6379);
  auto redis_pool = flags.GetInt("redis-pool", 16);
  auto workers = flags.GetInt("workers", 4);
  auto order_timeout = flags.GetInt("order-timeout-ms", 10000);
  auto weight_limit = flags.GetInt("weight-per-minute", 6000);
  auto orders_10s = flags.GetInt("orders-per-10s", 100);
  auto orders_day = flags.GetInt("orders-per-day", 200000);
  // HTTP and WebSocket connections together (http::ServerConfig::max_connections); each takes a
  // file descriptor, so RLIMIT_NOFILE must be above it (the WebSocket benchmark opens 10,000).
  auto max_connections = flags.GetInt("max-connections", 10'000);
  // New market-stream connections per client IP per 5 minutes (Binance: 300); 0 = no limit.
  auto ws_per_ip = flags.GetInt("ws-connections-per-ip", 300);
  // Historical queries (docs/history-queries.md): a read replica when given, else the primary;
  // --history-pg-pool 0 turns them off (AccountHistory only).
  auto history_port = flags.GetInt("history-pg-port", pg_port ? *pg_port : 5432);
  auto history_pool = flags.GetInt("history-pg-pool", 4);
  auto history_timeout = flags.GetInt("history-timeout-ms", 3000);
  if (!history_port || *history_port < 1 || *history_port > 65535 || !history_pool ||
      *history_pool < 0 || *history_pool > 64 || !history_timeout || *history_timeout < 100 ||
      *history_timeout > 60000) {
    std::fprintf(stderr, "bad --history-pg-port, --history-pg-pool or --history-timeout-ms\n%s",
                 kUsage);
    return 2;
  }
  if (!ws_per_ip || *ws_per_ip < 0 || *ws_per_ip > 1'000'000) {
    std::fprintf(stderr, "bad --ws-connections-per-ip\n%s", kUsage);
    return 2;
  }
  // How often user streams are checked against the stores: listenKeys and sessions that ran
  // out, and ends this replica missed (gateway/userdata/stream_endings.h).
  auto user_stream_check = flags.GetInt("user-stream-check-ms", 30'000);
  if (!user_stream_check || *user_stream_check < 1000 || *user_stream_check > 3'600'000) {
    std::fprintf(stderr, "bad --user-stream-check-ms (1000..3600000)\n%s", kUsage);
    return 2;
  }
  if (!port || *port < 0 || *port > 65535 || !threads || *threads < 1 || *threads > 64 || !shard ||
      *shard < 0 || !pg_port || *pg_port < 1 || *pg_port > 65535 || !pg_pool || *pg_pool < 1 ||
      *pg_pool > 256 || !redis_port || *redis_port < 1 || *redis_port > 65535 || !redis_pool ||
      *redis_pool < 1 || *redis_pool > 256 || !workers || *workers < 1 || *workers > 64 ||
      !order_timeout || *order_timeout < 100 || *order_timeout > 600000 || !weight_limit ||
      *weight_limit < 1 || !orders_10s || *orders_10s < 1 || !orders_day || *orders_day < 1 ||
      !max_connections || *max_connections < 1 || *max_connections > 1'000'000 ||
      !flags.positional().empty()) {
    std::fprintf(stderr, "bad arguments\n%s", kUsage);
    return 2;
  }
  const std::string secrets_dir = flags.Get("secrets-dir", "var/secrets");
  // Observability (docs/metrics.md, docs/logging.md).
  auto metrics_port = flags.GetInt("metrics-port", 0);
  auto access_log = gateway::obs::ParseAccessLog(flags.Get("access-log", "errors"));
  if (!metrics_port || *metrics_port < 0 || *metrics_port > 65535 || !access_log) {
    std::fprintf(stderr, "bad --metrics-port or --access-log\n%s", kUsage);
    return 2;
  }
  // The load balancer in front (HAProxy, docs/edge.md): from these peers the client address is
  // taken from X-Forwarded-For, so per-IP limits count real clients, not the proxy. At most 16
  // comma-separated IP addresses; http::Server::Start refuses one that does not parse.
  std::vector<std::string> trusted_proxies;
  const std::string trusted_flag = flags.Get("trusted-proxies");
  for (std::string_view rest = trusted_flag; !rest.empty();) {
    const size_t comma = rest.find(',');
    if (std::string_view one = rest.substr(0, comma); !one.empty()) {
      trusted_proxies.emplace_back(one);
    }
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  if (trusted_proxies.size() > 16) {
    std::fprintf(stderr, "bad --trusted-proxies: more than 16 addresses\n%s", kUsage);
    return 2;
  }

  // The web screen (docs/api-v1.md, "Web screen"): files read into memory now, bounded.
  std::shared_ptr<const gateway::web::StaticSite> web_site;
  if (auto root = flags.Get("web-root"); !root.empty()) {
    auto loaded = gateway::web::StaticSite::Load(root);
    if (!loaded) {
      std::fprintf(stderr, "bad --web-root: %s\n", loaded.error().c_str());
      return 2;
    }
    web_site = std::move(*loaded);
  }
  auto demo_symbols = gateway::web::ParseDemoSymbols(flags.Get("demo-symbols"));
  if (!demo_symbols) {
    std::fprintf(stderr, "bad --demo-symbols: %s\n%s", demo_symbols.error().c_str(), kUsage);
    return 2;
  }

  // --- Configuration and secrets: everything is checked before anything starts.
  auto nats_config = apps::NatsFromFlags(flags, "spotex-gateway");
  auto pg_config = apps::PgFromFlags(flags, static_cast<int>(*pg_port), "spotex-gateway");
  if (!nats_config || !pg_config) {
    std::fprintf(stderr, "%s\n", (!nats_config ? nats_config.error() : pg_config.error()).c_str());
    return 2;
  }
  bus::NatsConfig nc = std::move(*nats_config);
  db::PgConnParams pg = std::move(*pg_config);
  pg.statement_timeout_ms = 5000;
  gateway::RedisConfig rc;
  rc.host = flags.Get("redis-host", "127.0.0.1");
  rc.port = static_cast<int>(*redis_port);
  rc.pool_size = static_cast<size_t>(*redis_pool);
  if (auto f = flags.Get("redis-password-file"); !f.empty()) {
    auto pw = gateway::ReadRedisPasswordFile(f);
    if (!pw) {
      std::fprintf(stderr, "%s\n", pw.error().c_str());
      return 2;
    }
    rc.password = *pw;
  }
  if (auto ok = gateway::ValidateRedisConfig(rc); !ok) {
    std::fprintf(stderr, "redis: %s\n", ok.error().c_str());
    return 2;
  }
  gateway::RateLimits limits;
  limits.weight_per_window = *weight_limit;
  limits.orders_per_short_window = *orders_10s;
  limits.orders_per_day_window = *orders_day;
  if (auto ok = gateway::ValidateRateLimits(limits); !ok) {
    std::fprintf(stderr, "rate limits: %s\n", ok.error().c_str());
    return 2;
  }
  auto keyring = auth::LoadMasterKeyring(secrets_dir);
  if (!keyring) {
    std::fprintf(stderr, "master key: %s\n", keyring.error().message.c_str());
    return 2;
  }
  for (const auto& w : keyring->warnings) Log(service::LogLevel::kWarn, w);
  auto admin_token = gateway::users::AdminToken::Load(secrets_dir);
  if (!admin_token) {
    std::fprintf(stderr, "admin token: %s\n", admin_token.error().c_str());
    return 2;
  }

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);

  // --- The engine: commands, queries and the event stream.
  auto client = service::CommandClient::Connect(nc, static_cast<uint32_t>(*shard));
  if (!client) {
    Log(service::LogLevel::kError, client.error().message);
    return 1;
  }
  gateway::MarketData md;
  gateway::AccountHistory history;
  gateway::PublicApi public_api(md, NowMs);
  Markets markets;
  gateway::streams::StreamHubConfig hub_config;
  hub_config.connections_per_ip = static_cast<uint32_t>(*ws_per_ip);
  gateway::streams::StreamHub hub(
      md, [&md](std::string_view symbol) { return md.HasSymbol(symbol); }, hub_config);
  // User data streams (docs/user-data-streams.md): listenKey connections and the WebSocket API
  // subscribe accounts on `user_hub`; the feed encodes each envelope's account events once.
  gateway::userdata::UserStreamHub user_hub;
  gateway::userdata::UserEventEncoder user_events(
      history, [&markets](uint32_t id) -> std::optional<gateway::SymbolInfo> {
        auto s = markets.ById(id);
        if (!s) return std::nullopt;
        return s->info;
      },
      [&markets](uint32_t id) { return markets.AssetById(id); });
  EventFeed feed(md, history, hub, user_events, user_hub);
  natsSubscription* sub = nullptr;
  std::string subject = bus::EventSubject(static_cast<uint32_t>(*shard));
  if (natsConnection_Subscribe(&sub, (*client)->nats().conn(), subject.c_str(), &EventFeed::OnMsg,
                               &feed) != NATS_OK) {
    Log(service::LogLevel::kError, "cannot subscribe to " + subject);
    return 1;
  }
  natsSubscription_SetPendingLimits(sub, 1 << 20, 1 << 30);
  natsConnection_FlushTimeout((*client)->nats().conn(), 5000);
  // The engine may still be starting: retry the first load for a while.
  bool loaded = false;
  for (int i = 0; i < 60 && !g_stop && !loaded; ++i) {
    loaded = LoadMarkets(**client, md, public_api, markets);
    if (!loaded) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  if (!loaded) return 1;
  feed.GoLive();

  // --- Stores shared by the replicas.
  db::PgPool pg_pool_(pg, static_cast<size_t>(*pg_pool));
  gateway::RedisPool redis(rc);
  gateway::RedisRateLimiter limiter(redis, limits);
  gateway::RedisReplayCache replays(redis);
  gateway::RedisSessionStore sessions(redis);
  gateway::PgKeyDirectory pg_keys(pg_pool_, keyring->keyring);
  gateway::CachingKeyDirectory keys(pg_keys, gateway::KeyCacheOptions{});
  gateway::Authenticator authenticator(keys, replays, &sessions);
  gateway::userdata::RedisListenKeyStore listen_keys(redis);
  StreamEndings endings((*client)->nats().conn(), user_hub);
  natsSubscription* endings_sub = nullptr;
  if (natsConnection_Subscribe(&endings_sub, (*client)->nats().conn(), bus::kStreamEndedSubject,
                               &StreamEndings::OnMsg, &endings) != NATS_OK) {
    Log(service::LogLevel::kError, std::string("cannot subscribe to ") + bus::kStreamEndedSubject);
    return 1;
  }
  // Unsubscribed before `endings` goes, on every way out of main.
  const std::unique_ptr<natsSubscription, SubscriptionCloser> endings_guard(endings_sub);
  gateway::userdata::ListenKeyApi listen_key_api(
      keys, listen_keys, user_hub, NowMs, [&endings](const std::string& listen_key) {
        endings.Tell(gateway::userdata::ListenKeyEndedMessage(listen_key));
      });

  // --- Endpoints.
  auth::PasswordHasher hasher;
  gateway::users::WorkerPool pool(static_cast<size_t>(*workers), 10'000);
  gateway::users::EngineAccounts engine_accounts(**client, *order_timeout);
  gateway::users::UserService users(pg_pool_, keyring->keyring, hasher, engine_accounts);
  if (auto demo_path = flags.Get("demo-users"); !demo_path.empty()) {
    gateway::users::DemoUsersOptions demo;
    demo.path = demo_path;
    auto outcome = gateway::users::CreateDemoUsers(users, demo);
    if (!outcome) {
      Log(service::LogLevel::kError, "demo users: " + outcome.error());
      return 1;
    }
    if (outcome->created) Log(service::LogLevel::kInfo, "demo users written to " + demo_path);
  }
  gateway::web::WebApi web_api(sessions, user_hub, {std::move(*demo_symbols)});
  gateway::users::UserApiOptions user_api_options;
  user_api_options.trusted_proxies = trusted_proxies;
  user_api_options.on_session_ended = [&user_hub, &endings](const std::string& token) {
    user_hub.EndSession(token);
    endings.Tell(gateway::userdata::SessionEndedMessage(token));
  };
  gateway::users::UserApi user_api(users, sessions, pool, NowMs, std::move(user_api_options));
  gateway::users::AdminApi admin_api(users, pool, *admin_token);
  db::PgConnParams history_pg = pg;
  history_pg.host = flags.Get("history-pg-host", pg.host);
  history_pg.port = static_cast<int>(*history_port);
  history_pg.application_name = "spotex-gateway-history";
  history_pg.statement_timeout_ms = *history_timeout;
  std::optional<db::PgPool> history_pool_;
  std::optional<gateway::HistoryStore> history_store;
  if (*history_pool > 0) {
    history_pool_.emplace(history_pg, static_cast<size_t>(*history_pool),
                          std::chrono::milliseconds(*history_timeout));
    history_store.emplace(*history_pool_,
                          gateway::HistoryOptions{static_cast<size_t>(*history_pool), 1000});
    public_api.SetHistory(&*history_store);
  }
  gateway::TradingOptions topts;
  topts.order_timeout_ms = *order_timeout;
  topts.history_store = history_store ? &*history_store : nullptr;
  gateway::TradingApi trading(
      **client, authenticator, limiter, history,
      [&markets](std::string_view name) { return markets.ByName(name); },
      [&markets](uint32_t id) { return markets.ById(id); },
      [&markets] { return markets.Assets(); }, NowMs, topts);

  // The WebSocket API (/ws-api/v3, docs/websocket-api.md): the same REST handlers on a private
  // router, with a TradingApi whose authenticator checks WS API signatures and logons.
  gateway::wsapi::WsApiOptions ws_api_options;
  ws_api_options.limits = {limits.weight_per_window, limits.orders_per_short_window,
                           limits.orders_per_day_window};
  gateway::wsapi::WsApi ws_api(keys, replays, limiter, user_hub, NowMs, ws_api_options);
  gateway::TradingApi ws_trading(
      **client, ws_api.authenticator(), limiter, history,
      [&markets](std::string_view name) { return markets.ByName(name); },
      [&markets](uint32_t id) { return markets.ById(id); },
      [&markets] { return markets.Assets(); }, NowMs, topts);

  http::Router router;
  public_api.SetAnnouncedLimits({limits.weight_per_window, limits.orders_per_short_window,
                                 limits.orders_per_day_window});
  public_api.Register(router);
  trading.Register(router);
  public_api.Register(ws_api.router());
  ws_trading.Register(ws_api.router());
  ws_api.Start();
  if (!user_api.Register(router) || !admin_api.Register(router) ||
      !listen_key_api.Register(router) || !web_api.Register(router) ||
      (web_site && !gateway::web::StaticSite::Register(web_site, router))) {
    Log(service::LogLevel::kError, "duplicate route");
    return 1;
  }
  (void)router.Add(http::Method::kGet, "/health", [](http::Request&&, http::Responder respond) {
    respond(http::Response::Json(200, "{\"status\":\"ok\"}"));
  });
  // The frozen router also names the route of requests refused before it (rate limits).
  std::shared_ptr<const http::Router> routes = std::move(router).Freeze();
  gateway::obs::GatewayMetrics& gw_metrics = gateway::obs::Metrics();
  http::ServerConfig sc;
  // HAProxy sends X-Request-Id; without it (or with an invalid one) the gateway makes one up.
  sc.request_id_header = "X-Request-Id";
  sc.on_request = gateway::obs::MakeRequestObserver(
      {*access_log, &gw_metrics, [routes](http::Method method, std::string_view path) {
         return routes->Match(method, path);
       }});
  sc.address = flags.Get("listen", "127.0.0.1");
  sc.port = static_cast<uint16_t>(*port);
  sc.io_threads = static_cast<int>(*threads);
  sc.max_connections = static_cast<size_t>(*max_connections);
  sc.trusted_proxies = std::move(trusted_proxies);
  // Market streams (docs/streams.md) and the WebSocket API (docs/websocket-api.md).
  sc.websocket.paths = {"/ws", "/stream", std::string(gateway::wsapi::kPath),
                        std::string(gateway::web::kUserStreamPath)};
  auto server = http::Server::Start(
      sc, gateway::WithRequestLimits(http::Router::ToHandler(routes), limiter),
      [&hub, &listen_key_api, &ws_api, &web_api, &gw_metrics](const http::WsRequest& request,
                                                    const std::shared_ptr<http::WsConnection>& ws)
          -> std::expected<http::WsHandlers, http::Response> {
        using gateway::obs::WsKind;
        // Each accepted connection is counted under its kind of endpoint. (Counted in place:
        // GCC 12 at -O2 warns maybe-uninitialized on an expected<WsHandlers> passed by value.)
        auto count = [&gw_metrics](std::expected<http::WsHandlers, http::Response>& r,
                                   WsKind kind) {
          if (r) r->stats = &gw_metrics.ws(kind);
        };
        if (request.target.starts_with(gateway::wsapi::kPath)) {
          auto r = ws_api.Accept(request, ws);
          count(r, WsKind::kWsApi);
          return r;
        }
        // The web screen's session user stream (cookie authenticated).
        if (auto web = web_api.Accept(request, ws)) {
          count(*web, WsKind::kUserData);
          return std::move(*web);
        }
        // /ws/<listenKey> and /stream?streams=<listenKey> are user data streams.
        if (auto user = listen_key_api.Accept(request, ws)) {
          count(*user, WsKind::kUserData);
          return std::move(*user);
        }
        auto r = hub.Accept(request, ws);
        count(r, WsKind::kStreams);
        return r;
      });
  if (!server) {
    Log(service::LogLevel::kError, "cannot listen: " + server.error());
    return 1;
  }
  Log(service::LogLevel::kInfo,
      "listening on http://" + sc.address + ":" + std::to_string((*server)->port()));
  // Declared after the server and the hubs: stopped before them (its scrapes read them).
  std::unique_ptr<metrics::MetricsServer> metrics_server;
  if (*metrics_port > 0) {
    metrics::RegisterProcessMetrics(metrics::DefaultRegistry());
    gw_metrics.SetServerStats([&server] { return (*server)->stats(); });
    gw_metrics.SetSubscriptions(gateway::obs::WsKind::kStreams,
                                [&hub] { return hub.subscriptions(); });
    gw_metrics.SetSubscriptions(gateway::obs::WsKind::kUserData,
                                [&user_hub] { return user_hub.subscriptions(); });
    auto started = metrics::MetricsServer::Start(metrics::DefaultRegistry(), "127.0.0.1",
                                                 static_cast<uint16_t>(*metrics_port));
    if (!started) {
      Log(service::LogLevel::kError, "metrics: " + started.error());
      return 1;
    }
    metrics_server = std::move(*started);
    Log(service::LogLevel::kInfo,
        "metrics on http://127.0.0.1:" + std::to_string(metrics_server->port()) + "/metrics");
  }
  int64_t last_listen_key_check_ms = NowMs();
  while (!g_stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (feed.markets_changed()) LoadMarkets(**client, md, public_api, markets);
    hub.Tick(NowMs());  // periodic streams: partial depth, klines, tickers
    // Expired listenKeys and sessions, and ends this replica missed (stream_endings.h).
    if (NowMs() - last_listen_key_check_ms >= *user_stream_check) {
      last_listen_key_check_ms = NowMs();
      listen_key_api.ExpireStale();
      web_api.ExpireStale();  // ended sessions: their web user streams close
    }
  }
  Log(service::LogLevel::kInfo, "stopping");
  metrics_server.reset();
  hub.ShutdownNotice(NowMs());
  (*server)->Stop(std::chrono::milliseconds(5000));
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  return 0;
}
