// spotex-admin: operator commands against a running engine shard. Every state change is an
// engine command sent through the command log like any other (so it is journaled, replicated
// and replayed); reads are live-state queries. See docs/engine-service.md.
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "admin/archive.h"
#include "admin/reconcile.h"
#include "apps/flags.h"
#include "apps/nats_flags.h"
#include "apps/pg_flags.h"
#include "bus/nats.h"
#include "config/markets.h"
#include "core/decimal.h"
#include "db/pg.h"
#include "engine/reject.h"
#include "proto/codec.h"
#include "proto/envelope.h"
#include "service/command_client.h"

namespace {

using namespace spotex;

constexpr const char* kUsage =
    "usage: spotex-admin [--nats-url URL] [--nats-user USER] [--nats-password-file FILE]\n"
    "                    [--shard N] [--timeout-ms MS] COMMAND [ARGS]\n"
    "commands:\n"
    "  status                          engine sequence numbers and state hash\n"
    "  symbols | assets                list the markets\n"
    "  add-asset NAME SCALE            add an asset\n"
    "  add-symbol FILE.toml            add the [[symbol]]s of a markets file (its [[asset]]s\n"
    "                                  must exist with the same scale or are added)\n"
    "  halt SYMBOL | resume SYMBOL     stop / restart trading on a symbol\n"
    "  deposit ACCOUNT ASSET AMOUNT    credit an account (opened if new)\n"
    "  withdraw ACCOUNT ASSET AMOUNT   debit an account's free balance\n"
    "  balances ACCOUNT                an account's balances\n"
    "  snapshot                        write a snapshot now and wait for it\n"
    "  query WORDS...                  any live-state query (docs/engine-service.md)\n"
    "history (PostgreSQL; docs/reconcile-and-archive.md), with [--pg-host H] [--pg-port 5432]\n"
    "  [--pg-user spotex] [--pg-dbname spotex] [--pg-password-file FILE]:\n"
    "  reconcile [--wait-ms 10000] [--json 1]\n"
    "                                  engine balances vs ledger and balances table; exits 1\n"
    "                                  on any difference\n"
    "  archive --before YYYY-MM --archive-dir DIR [--keep-detached 1]\n"
    "                                  export closed months to DIR, verify, detach and drop\n"
    "  unarchive --month YYYY-MM       re-attach an archived month from its files\n";

// The integer value of "key": in a flat JSON answer, if present.
std::optional<int64_t> JsonInt(const std::string& json, const std::string& key) {
  std::string needle = "\"" + key + "\":";
  auto at = json.find(needle);
  if (at == std::string::npos) return std::nullopt;
  at += needle.size();
  if (at < json.size() && json[at] == '"') ++at;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(json.data() + at, json.data() + json.size(), v);
  if (ec != std::errc()) return std::nullopt;
  return v;
}

bool IsError(const std::string& json) { return json.starts_with("{\"error\""); }

class Admin {
 public:
  Admin(std::unique_ptr<service::CommandClient> client, int64_t timeout_ms)
      : client_(std::move(client)), timeout_ms_(timeout_ms) {}

  // Queries; prints errors; nullopt on failure.
  std::optional<std::string> Query(const std::string& q, bool quiet = false) {
    auto r = client_->Query(q, timeout_ms_);
    if (!r) {
      std::fprintf(stderr, "error: %s (is spotex-engine running?)\n", r.error().message.c_str());
      return std::nullopt;
    }
    if (IsError(*r)) {
      if (!quiet) std::fprintf(stderr, "error: %s\n", r->c_str());
      return std::nullopt;
    }
    return *r;
  }

  // Sends one command; prints its outcome. Returns true if the engine applied it.
  bool Send(const engine::CommandBody& body, bool quiet = false) {
    auto bytes = proto::EncodeCommand(engine::Command{0, 0, body});
    auto reply = client_->Call(bytes, NewId(), timeout_ms_);
    if (!reply) {
      std::fprintf(stderr, "error: %s\n", reply.error().message.c_str());
      return false;
    }
    auto env = proto::Envelope::Parse(*reply);
    if (!env) {
      std::fprintf(stderr, "error: bad answer from the engine: %s\n",
                   std::string(proto::ToString(env.error())).c_str());
      return false;
    }
    const auto& h = env->header();
    if (h.code != engine::RejectCode::kNone) {
      auto b = engine::ToBinance(h.code);
      std::fprintf(stderr, "rejected at seq %llu: %d %.*s\n",
                   static_cast<unsigned long long>(h.seq), b.code, static_cast<int>(b.msg.size()),
                   b.msg.data());
      return false;
    }
    if (!quiet) {
      std::printf("{\"ok\":true,\"seq\":%llu,\"events\":%u}\n",
                  static_cast<unsigned long long>(h.seq), h.event_count);
    }
    return true;
  }

  std::optional<std::pair<engine::AssetId, int>> Asset(const std::string& name) {
    auto a = Query("asset " + name);
    if (!a) return std::nullopt;
    auto id = JsonInt(*a, "id");
    auto scale = JsonInt(*a, "scale");
    if (!id || !scale) return std::nullopt;
    return std::make_pair(static_cast<engine::AssetId>(*id), static_cast<int>(*scale));
  }

  std::optional<engine::SymbolId> Symbol(const std::string& name) {
    auto s = Query("symbol " + name);
    if (!s) return std::nullopt;
    auto id = JsonInt(*s, "id");
    if (!id) return std::nullopt;
    return static_cast<engine::SymbolId>(*id);
  }

  int Transfer(bool deposit, const std::string& account_s, const std::string& asset_s,
               const std::string& amount_s) {
    uint64_t account = 0;
    auto [p, ec] = std::from_chars(account_s.data(), account_s.data() + account_s.size(), account);
    if (ec != std::errc() || p != account_s.data() + account_s.size() || account == 0) {
      std::fprintf(stderr, "error: bad account id '%s' (a positive integer)\n", account_s.c_str());
      return 2;
    }
    auto asset = Asset(asset_s);
    if (!asset) return 1;
    auto amount = core::ParseDecimal(amount_s, asset->second);
    if (!amount || *amount <= 0) {
      std::fprintf(stderr, "error: bad amount '%s' for %s (scale %d, must be positive)\n",
                   amount_s.c_str(), asset_s.c_str(), asset->second);
      return 2;
    }
    if (deposit) {
      auto has = Query("has_account " + account_s);
      if (!has) return 1;
      if (has->find("false") != std::string::npos &&
          !Send(engine::OpenAccount{account}, /*quiet=*/true)) {
        return 1;
      }
      return Send(engine::Deposit{account, asset->first, engine::Amount{*amount}}) ? 0 : 1;
    }
    return Send(engine::Withdraw{account, asset->first, engine::Amount{*amount}}) ? 0 : 1;
  }

  int AddSymbols(const std::string& path) {
    auto commands = config::LoadMarkets(path);
    if (!commands) {
      std::fprintf(stderr, "error: %s\n", commands.error().message.c_str());
      return 2;
    }
    // The file's asset ids are positions in the file; map them to the engine's. Check every
    // asset before sending anything, so a refused file changes nothing.
    std::vector<const engine::AddAsset*> assets;
    std::vector<std::optional<std::pair<engine::AssetId, int>>> existing;
    for (const auto& body : *commands) {
      if (const auto* add = std::get_if<engine::AddAsset>(&body)) {
        std::string name(add->name.view());
        auto found = client_->Query("asset " + name, timeout_ms_);
        if (!found) {
          std::fprintf(stderr, "error: %s\n", found.error().message.c_str());
          return 1;
        }
        existing.push_back(std::nullopt);
        if (!IsError(*found)) {
          existing.back() = Asset(name);
          if (!existing.back()) return 1;
          if (existing.back()->second != add->scale) {
            std::fprintf(stderr, "error: asset %s exists with scale %d, the file says %d\n",
                         name.c_str(), existing.back()->second, add->scale);
            return 1;
          }
        }
        assets.push_back(add);
      }
    }
    std::map<engine::AssetId, engine::AssetId> ids;
    for (size_t i = 0; i < assets.size(); ++i) {
      if (!existing[i]) {
        if (!Send(*assets[i])) return 1;
        existing[i] = Asset(std::string(assets[i]->name.view()));
        if (!existing[i]) return 1;
      }
      ids[static_cast<engine::AssetId>(i)] = existing[i]->first;
    }
    int added = 0;
    for (const auto& body : *commands) {
      if (const auto* add = std::get_if<engine::AddSymbol>(&body)) {
        engine::AddSymbol cmd = *add;
        cmd.config.base_asset = ids.at(add->config.base_asset);
        cmd.config.quote_asset = ids.at(add->config.quote_asset);
        if (!Send(cmd)) return 1;
        ++added;
      }
    }
    std::printf("{\"symbolsAdded\":%d}\n", added);
    return 0;
  }

  int Snapshot() {
    auto r = Query("snapshot");
    if (!r) return 1;
    auto want = JsonInt(*r, "logSeq");
    if (!want) return 1;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
    for (;;) {
      auto st = Query("status");
      if (!st) return 1;
      if (auto have = JsonInt(*st, "snapshotSeq"); have && *have >= *want) {
        std::printf("%s\n", st->c_str());
        return 0;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        std::fprintf(stderr, "error: snapshot at seq %lld not written within %lld ms\n",
                     static_cast<long long>(*want), static_cast<long long>(timeout_ms_));
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  int Print(const std::string& q) {
    auto r = Query(q);
    if (!r) return 1;
    std::printf("%s\n", r->c_str());
    return 0;
  }

 private:
  std::string NewId() {
    static std::mt19937_64 rng(std::random_device{}());
    return "admin:" + std::to_string(rng());
  }
  std::unique_ptr<service::CommandClient> client_;
  int64_t timeout_ms_;
};

}  // namespace

int main(int argc, char** argv) {
  apps::Flags flags;
  if (auto err =
          apps::Flags::Parse(argc, argv,
                             {"nats-url", "nats-user", "nats-password-file", "shard", "timeout-ms",
                              "pg-host", "pg-port", "pg-user", "pg-dbname", "pg-password-file",
                              "wait-ms", "json", "before", "archive-dir", "keep-detached", "month"},
                             flags)) {
    std::fprintf(stderr, "%s\n%s", err->c_str(), kUsage);
    return 2;
  }
  const auto& args = flags.positional();
  auto shard = flags.GetInt("shard", 0);
  auto timeout = flags.GetInt("timeout-ms", 5000);
  if (args.empty() || !shard || *shard < 0 || !timeout || *timeout < 1) {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  auto nats_config = apps::NatsFromFlags(flags, "spotex-admin");
  if (!nats_config) {
    std::fprintf(stderr, "error: %s\n", nats_config.error().c_str());
    return 2;
  }
  bus::NatsConfig nc = std::move(*nats_config);
  nc.retry_forever = false;
  nc.js_wait_ms = *timeout;
  const std::string& cmd0 = args[0];
  std::optional<db::PgConnection> pg;
  if (cmd0 == "reconcile" || cmd0 == "archive" || cmd0 == "unarchive") {
    auto port = flags.GetInt("pg-port", 5432);
    if (!port || *port < 1 || *port > 65535 || args.size() != 1) {
      std::fprintf(stderr, "%s", kUsage);
      return 2;
    }
    auto pg_config = apps::PgFromFlags(flags, static_cast<int>(*port), "spotex-admin");
    if (!pg_config) {
      std::fprintf(stderr, "error: %s\n", pg_config.error().c_str());
      return 2;
    }
    db::PgConnParams pp = std::move(*pg_config);
    pp.statement_timeout_ms = 0;  // reconcile and archive scan whole tables
    if (cmd0 != "reconcile") {
      // archive / unarchive need no engine.
      bool archive = cmd0 == "archive";
      auto month = admin::ParseMonth(flags.Get(archive ? "before" : "month"));
      if (!month) {
        std::fprintf(stderr, "error: --%s must be a month YYYY-MM\n", archive ? "before" : "month");
        return 2;
      }
      if (archive && flags.Get("archive-dir").empty()) {
        std::fprintf(stderr, "error: archive needs --archive-dir DIR\n");
        return 2;
      }
      auto conn = db::PgConnection::Connect(pp);
      if (!conn) {
        std::fprintf(stderr, "error: %s\n", conn.error().message.c_str());
        return 1;
      }
      if (!archive) {
        auto r = admin::Unarchive(*conn, *month);
        if (!r) {
          std::fprintf(stderr, "error: %s\n", r.error().c_str());
          return 1;
        }
        for (const auto& t : r->tables) {
          std::printf("unarchived %s rows=%lld from %s\n", t.partition.c_str(),
                      static_cast<long long>(t.rows), t.path.c_str());
        }
        return 0;
      }
      admin::ArchiveOptions ao;
      ao.dir = flags.Get("archive-dir");
      ao.keep_detached = flags.Get("keep-detached", "0") == "1";
      ao.shard = static_cast<uint32_t>(*shard);
      auto r = admin::ArchiveBefore(*conn, *month, ao);
      if (!r) {
        std::fprintf(stderr, "error: %s\n", r.error().c_str());
        return 1;
      }
      size_t tables = 0;
      for (const auto& m : *r) {
        for (const auto& t : m.tables) {
          std::printf("archived %s rows=%lld sha256=%s %s\n", t.partition.c_str(),
                      static_cast<long long>(t.rows), t.sha256.c_str(), t.path.c_str());
          ++tables;
        }
      }
      std::printf("archive months=%zu tables=%zu\n", r->size(), tables);
      return 0;
    }
    auto conn = db::PgConnection::Connect(pp);
    if (!conn) {
      std::fprintf(stderr, "error: %s\n", conn.error().message.c_str());
      return 1;
    }
    pg.emplace(std::move(*conn));
  }
  auto client = service::CommandClient::Connect(nc, static_cast<uint32_t>(*shard));
  if (!client) {
    std::fprintf(stderr, "error: %s\n", client.error().message.c_str());
    return 1;
  }
  Admin admin(std::move(*client), *timeout);
  const std::string& cmd = args[0];
  auto n = args.size();
  if ((cmd == "status" || cmd == "symbols" || cmd == "assets") && n == 1) return admin.Print(cmd);
  if (cmd == "balances" && n == 2) return admin.Print("balances " + args[1]);
  if (cmd == "query" && n >= 2) {
    std::string q;
    for (size_t i = 1; i < n; ++i) q += (i > 1 ? " " : "") + args[i];
    return admin.Print(q);
  }
  if (cmd == "snapshot" && n == 1) return admin.Snapshot();
  if (cmd == "reconcile") {
    auto wait = flags.GetInt("wait-ms", 10000);
    if (!wait || *wait < 0) {
      std::fprintf(stderr, "error: bad --wait-ms\n");
      return 2;
    }
    admin::ReconcileOptions ro;
    ro.shard = static_cast<uint32_t>(*shard);
    ro.wait_ms = *wait;
    auto r = admin::Reconcile(
        *pg,
        [&](const std::string& q) -> std::expected<std::string, std::string> {
          auto a = admin.Query(q, /*quiet=*/true);
          if (!a) return std::unexpected("query '" + q + "' failed");
          return *a;
        },
        ro);
    if (!r) {
      std::fprintf(stderr, "error: %s\n", r.error().c_str());
      return 1;
    }
    std::string out =
        flags.Get("json", "0") == "1" ? admin::FormatReportJson(*r) : admin::FormatReport(*r);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return r->differences() == 0 ? 0 : 1;
  }
  if ((cmd == "deposit" || cmd == "withdraw") && n == 4) {
    return admin.Transfer(cmd == "deposit", args[1], args[2], args[3]);
  }
  if ((cmd == "halt" || cmd == "resume") && n == 2) {
    auto id = admin.Symbol(args[1]);
    if (!id) return 1;
    return admin.Send(engine::SetSymbolStatus{
               *id, cmd == "halt" ? engine::SymbolStatus::kHalt : engine::SymbolStatus::kTrading})
               ? 0
               : 1;
  }
  if (cmd == "add-asset" && n == 3) {
    engine::AddAsset add;
    int scale = -1;
    auto [p, ec] = std::from_chars(args[2].data(), args[2].data() + args[2].size(), scale);
    if (ec != std::errc() || p != args[2].data() + args[2].size() || !add.name.Assign(args[1])) {
      std::fprintf(stderr, "error: usage add-asset NAME SCALE (NAME: [A-Z0-9]{1,20})\n");
      return 2;
    }
    add.scale = scale;
    return admin.Send(add) ? 0 : 1;
  }
  if (cmd == "add-symbol" && n == 2) return admin.AddSymbols(args[1]);
  std::fprintf(stderr, "unknown command or wrong arguments\n%s", kUsage);
  return 2;
}
