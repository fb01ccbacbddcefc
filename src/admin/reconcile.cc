#include "admin/reconcile.h"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <tuple>

#include "core/decimal.h"

namespace spotex::admin {

namespace {

// Engine account id -> ledger account id (the fee account is 0 in the engine, -1 in the ledger).
int64_t LedgerAccount(int64_t engine_account) { return engine_account == 0 ? -1 : engine_account; }
int64_t EngineAccount(int64_t ledger_account) { return ledger_account == -1 ? 0 : ledger_account; }

std::optional<__int128> ParseI128(std::string_view s) {
  if (s.empty() || s.size() > 39) return std::nullopt;
  bool neg = s[0] == '-';
  size_t i = neg ? 1 : 0;
  if (i == s.size()) return std::nullopt;
  __int128 v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return neg ? -v : v;
}

std::string I128(__int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  unsigned __int128 u =
      neg ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  std::string out;
  while (u > 0) {
    out += static_cast<char>('0' + static_cast<int>(u % 10));
    u /= 10;
  }
  if (neg) out += '-';
  std::reverse(out.begin(), out.end());
  return out;
}

struct Pair {
  __int128 free = 0, locked = 0;
};

struct TableRow {
  int64_t free = 0, locked = 0, seq = 0;
};

struct AssetInfo {
  std::string name;
  int scale = 0;
};

std::string PgMsg(const db::PgError& e) { return "database: " + e.message; }

}  // namespace

std::string FormatUnits(__int128 units, int scale) {
  std::string digits = I128(units < 0 ? -units : units);
  if (scale > 0) {
    if (digits.size() <= static_cast<size_t>(scale)) {
      digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - static_cast<size_t>(scale), ".");
  }
  return units < 0 ? "-" + digits : digits;
}

std::expected<ReconcileReport, std::string> Reconcile(db::PgConnection& pg,
                                                      const EngineQuery& engine,
                                                      const ReconcileOptions& o) {
  if (o.page_accounts < 1 || o.page_accounts > 1000) return std::unexpected("page size 1..1000");
  ReconcileReport report;
  simdjson::dom::parser parser;

  // 1. The engine's assets (names and scales, to parse the decimals exactly).
  std::map<std::string, int> engine_scale;
  {
    auto a = engine("assets");
    if (!a) return std::unexpected("engine: " + a.error());
    simdjson::dom::element doc;
    if (parser.parse(*a).get(doc)) return std::unexpected("engine: malformed assets answer");
    simdjson::dom::array arr;
    if (doc["assets"].get(arr)) return std::unexpected("engine: malformed assets answer");
    for (auto el : arr) {
      std::string_view name;
      int64_t scale = 0;
      if (el["name"].get(name) || el["scale"].get(scale)) {
        return std::unexpected("engine: malformed asset");
      }
      engine_scale[std::string(name)] = static_cast<int>(scale);
    }
  }

  // 2. Every account's balances, page by page, each page with its engine seq.
  std::map<std::pair<int64_t, std::string>, Pair> engine_bal;  // (engine account, asset)
  std::map<int64_t, uint64_t> upto;                            // engine account -> page seq
  uint64_t position = 0;
  bool first_page = true;
  for (size_t pages = 0;; ++pages) {
    if (pages > 10'000'000) return std::unexpected("engine: too many pages");
    auto r =
        engine("all_balances " + std::to_string(position) + " " + std::to_string(o.page_accounts));
    if (!r) return std::unexpected("engine: " + r.error());
    simdjson::dom::element doc;
    if (parser.parse(*r).get(doc)) return std::unexpected("engine: malformed all_balances answer");
    uint64_t seq = 0;
    simdjson::dom::array accounts;
    if (doc["seq"].get(seq) || doc["accounts"].get(accounts)) {
      return std::unexpected("engine: malformed all_balances answer");
    }
    if (first_page) report.engine_seq_min = seq;
    first_page = false;
    report.engine_seq_max = std::max(report.engine_seq_max, seq);
    for (auto acc : accounts) {
      uint64_t id = 0;
      simdjson::dom::array bals;
      if (acc["account"].get(id) || acc["balances"].get(bals)) {
        return std::unexpected("engine: malformed account");
      }
      auto account = static_cast<int64_t>(id);
      upto[account] = seq;
      for (auto b : bals) {
        std::string_view asset, free_s, locked_s;
        if (b["asset"].get(asset) || b["free"].get(free_s) || b["locked"].get(locked_s)) {
          return std::unexpected("engine: malformed balance");
        }
        auto sc = engine_scale.find(std::string(asset));
        if (sc == engine_scale.end()) {
          return std::unexpected("engine: balance in unknown asset " + std::string(asset));
        }
        auto f = core::ParseDecimal(free_s, sc->second);
        auto l = core::ParseDecimal(locked_s, sc->second);
        if (!f || !l) return std::unexpected("engine: bad decimal in balances");
        engine_bal[{account, std::string(asset)}] = Pair{*f, *l};
      }
    }
    simdjson::dom::element next;
    if (doc["next"].get(next)) return std::unexpected("engine: malformed all_balances answer");
    if (next.is_null()) break;
    uint64_t np = 0;
    if (next.get(np) || np <= position) return std::unexpected("engine: bad next position");
    position = np;
  }
  report.accounts = upto.size();
  report.assets = engine_scale.size();

  // 3. Wait (bounded) until the recorder has applied everything the pages show.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(o.wait_ms);
  for (;;) {
    auto r = pg.Exec("SELECT command_seq FROM recorder_positions WHERE shard = $1",
                     static_cast<int64_t>(o.shard));
    if (!r) return std::unexpected(PgMsg(r.error()));
    uint64_t have = 0;
    if (r->rows() == 1) {
      auto v = r->Int64(0, 0);
      if (!v) return std::unexpected(PgMsg(v.error()));
      have = static_cast<uint64_t>(*v);
    }
    report.recorder_seq = have;
    if (have >= report.engine_seq_max) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::unexpected("the recorder is at seq " + std::to_string(have) + " of shard " +
                             std::to_string(o.shard) + ", the engine at " +
                             std::to_string(report.engine_seq_max) +
                             ": it did not catch up within " + std::to_string(o.wait_ms) +
                             " ms (is spotex-recorder running? raise --wait-ms)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  // 4. The database side, from one snapshot (an archive committing meanwhile moves sums from
  // ledger to ledger_carried atomically).
  auto begin = pg.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  if (!begin) return std::unexpected(PgMsg(begin.error()));
  struct Rollback {
    db::PgConnection& pg;
    ~Rollback() {
      if (pg.in_transaction()) (void)pg.Exec("ROLLBACK");
    }
  } rollback{pg};

  std::map<int64_t, AssetInfo> assets;  // asset_id ->
  {
    auto r = pg.Exec("SELECT asset_id, name, scale FROM assets");
    if (!r) return std::unexpected(PgMsg(r.error()));
    for (int i = 0; i < r->rows(); ++i) {
      auto id = r->Int64(i, 0);
      auto scale = r->Int64(i, 2);
      if (!id || !scale) return std::unexpected("database: bad assets row");
      assets[*id] = AssetInfo{std::string(r->Text(i, 1)), static_cast<int>(*scale)};
    }
  }
  auto asset_name = [&](int64_t id) {
    auto it = assets.find(id);
    return it == assets.end() ? "#" + std::to_string(id) : it->second.name;
  };
  auto scale_of = [&](const std::string& name) {
    auto it = engine_scale.find(name);
    if (it != engine_scale.end()) return it->second;
    for (const auto& [id, a] : assets) {
      if (a.name == name) return a.scale;
    }
    return 0;
  };
  for (const auto& [name, scale] : engine_scale) {
    for (const auto& [id, a] : assets) {
      if (a.name == name && a.scale != scale) {
        return std::unexpected("asset " + name + " has scale " + std::to_string(scale) +
                               " in the engine but " + std::to_string(a.scale) +
                               " in the assets table");
      }
    }
  }

  // Ledger sums per (account, asset, bucket): each engine account up to its page's seq, any
  // other account up to the last page's; plus what archived months carried.
  std::map<std::pair<int64_t, std::string>, Pair> ledger;  // (engine account, asset)
  {
    std::string ids = "{", seqs = "{";
    bool first = true;
    for (const auto& [account, seq] : upto) {
      if (!first) {
        ids += ',';
        seqs += ',';
      }
      first = false;
      ids += std::to_string(LedgerAccount(account));
      seqs += std::to_string(seq);
    }
    ids += '}';
    seqs += '}';
    auto r = pg.Exec(
        "WITH p AS (SELECT * FROM unnest($1::bigint[], $2::bigint[]) AS p(account_id, upto)) "
        "SELECT l.account_id, l.asset_id, l.bucket, sum(l.amount)::text FROM ledger l "
        "LEFT JOIN p USING (account_id) "
        "WHERE l.account_id <> 0 AND l.seq <= coalesce(p.upto, $3) GROUP BY 1, 2, 3 "
        "UNION ALL SELECT account_id, asset_id, bucket, amount::text FROM ledger_carried "
        "WHERE account_id <> 0",
        ids, seqs, static_cast<int64_t>(report.engine_seq_max));
    if (!r) return std::unexpected(PgMsg(r.error()));
    for (int i = 0; i < r->rows(); ++i) {
      auto account = r->Int64(i, 0);
      auto asset = r->Int64(i, 1);
      auto bucket = r->Int64(i, 2);
      auto sum = ParseI128(r->Text(i, 3));
      if (!account || !asset || !bucket || !sum) {
        return std::unexpected("database: bad ledger sum (carried amounts must be integers)");
      }
      auto& p = ledger[{EngineAccount(*account), asset_name(*asset)}];
      (*bucket == 0 ? p.free : p.locked) += *sum;
    }
  }
  std::map<std::pair<int64_t, std::string>, TableRow> table;
  {
    auto r = pg.Exec("SELECT account_id, asset_id, free, locked, seq FROM balances");
    if (!r) return std::unexpected(PgMsg(r.error()));
    for (int i = 0; i < r->rows(); ++i) {
      auto account = r->Int64(i, 0), asset = r->Int64(i, 1), f = r->Int64(i, 2), l = r->Int64(i, 3),
           seq = r->Int64(i, 4);
      if (!account || !asset || !f || !l || !seq) return std::unexpected("database: bad balance");
      table[{*account, asset_name(*asset)}] = TableRow{*f, *l, *seq};
    }
  }

  // Compare every (account, asset) any of the three sources knows.
  std::set<std::pair<int64_t, std::string>> keys;
  for (const auto& [k, v] : engine_bal) keys.insert(k);
  for (const auto& [k, v] : ledger) keys.insert(k);
  for (const auto& [k, v] : table) keys.insert(k);
  for (const auto& key : keys) {
    Pair e, l;
    if (auto it = engine_bal.find(key); it != engine_bal.end()) e = it->second;
    if (auto it = ledger.find(key); it != ledger.end()) l = it->second;
    auto seq_it = upto.find(key.first);
    uint64_t at = seq_it == upto.end() ? report.engine_seq_max : seq_it->second;
    std::string problem;
    if (seq_it == upto.end()) problem = "account unknown to the engine";
    if (e.free != l.free || e.locked != l.locked) {
      problem += problem.empty() ? "ledger" : ", ledger";
    }
    BalanceDifference d;
    auto t = table.find(key);
    if (t != table.end()) {
      d.has_table_row = true;
      d.table_free = t->second.free;
      d.table_locked = t->second.locked;
      // A row changed after the page's seq shows a later state: not comparable now.
      if (static_cast<uint64_t>(t->second.seq) <= at &&
          (t->second.free != e.free || t->second.locked != e.locked)) {
        problem += problem.empty() ? "balances table" : ", balances table";
      }
    } else if (key.first > 0 && (e.free != 0 || e.locked != 0)) {
      problem += problem.empty() ? "no balances row" : ", no balances row";
    }
    if (problem.empty()) continue;
    ++report.balance_differences;
    if (report.balances.size() >= o.list_max) continue;
    d.account = key.first;
    d.asset = key.second;
    d.scale = scale_of(key.second);
    d.engine_free = e.free;
    d.engine_locked = e.locked;
    d.ledger_free = l.free;
    d.ledger_locked = l.locked;
    d.problem = problem;
    report.balances.push_back(std::move(d));
  }

  // (a) Per asset: users + fees = deposits - withdrawals = minus the outside world, and the
  // outside world takes nothing but deposits and withdrawals.
  {
    auto r = pg.Exec(
        "SELECT asset_id, sum(users)::text, sum(outside)::text, sum(other)::text FROM ("
        " SELECT asset_id, sum(amount) FILTER (WHERE account_id <> 0) AS users,"
        "  sum(amount) FILTER (WHERE account_id = 0) AS outside,"
        "  count(*) FILTER (WHERE account_id = 0 AND kind NOT IN (1, 2)) AS other"
        " FROM ledger GROUP BY asset_id"
        " UNION ALL SELECT asset_id, sum(amount) FILTER (WHERE account_id <> 0),"
        "  sum(amount) FILTER (WHERE account_id = 0), 0 FROM ledger_carried GROUP BY asset_id"
        ") t GROUP BY asset_id ORDER BY asset_id");
    if (!r) return std::unexpected(PgMsg(r.error()));
    for (int i = 0; i < r->rows(); ++i) {
      auto asset = r->Int64(i, 0);
      auto users = r->IsNull(i, 1) ? std::optional<__int128>(0) : ParseI128(r->Text(i, 1));
      auto outside = r->IsNull(i, 2) ? std::optional<__int128>(0) : ParseI128(r->Text(i, 2));
      auto other = r->IsNull(i, 3) ? std::optional<__int128>(0) : ParseI128(r->Text(i, 3));
      if (!asset || !users || !outside || !other) return std::unexpected("database: bad totals");
      if (*users + *outside == 0 && *other == 0) continue;
      ++report.asset_differences;
      if (report.asset_totals.size() >= o.list_max) continue;
      std::string name = asset_name(*asset);
      report.asset_totals.push_back(
          AssetDifference{name, scale_of(name), *users, -*outside, static_cast<int64_t>(*other)});
    }
  }

  // (b) Every event's entries sum to zero per asset (one scan: the total count rides along).
  {
    auto r = pg.Exec(
        "SELECT seq, idx, asset_id, sum(amount)::text, count(*) OVER () FROM ledger "
        "GROUP BY seq, idx, asset_id HAVING sum(amount) <> 0 ORDER BY seq, idx, asset_id "
        "LIMIT $1",
        static_cast<int64_t>(std::max<size_t>(o.list_max, 1)));
    if (!r) return std::unexpected(PgMsg(r.error()));
    for (int i = 0; i < r->rows(); ++i) {
      auto seq = r->Int64(i, 0), idx = r->Int64(i, 1), asset = r->Int64(i, 2),
           total = r->Int64(i, 4);
      auto sum = ParseI128(r->Text(i, 3));
      if (!seq || !idx || !asset || !sum || !total) {
        return std::unexpected("database: bad event sum");
      }
      report.unbalanced_events = static_cast<size_t>(*total);
      if (report.events.size() >= o.list_max) continue;
      std::string name = asset_name(*asset);
      report.events.push_back(
          UnbalancedEvent{*seq, static_cast<int32_t>(*idx), name, scale_of(name), *sum});
    }
  }
  (void)pg.Exec("COMMIT");
  return report;
}

std::string FormatReport(const ReconcileReport& r) {
  std::string out;
  char line[1024];
  std::snprintf(line, sizeof line, "engine seq %llu..%llu, recorder seq %llu\n",
                static_cast<unsigned long long>(r.engine_seq_min),
                static_cast<unsigned long long>(r.engine_seq_max),
                static_cast<unsigned long long>(r.recorder_seq));
  out += line;
  if (!r.balances.empty()) {
    std::snprintf(line, sizeof line, "%-12s %-8s %22s %22s %22s %22s %22s %22s  %s\n", "account",
                  "asset", "engine_free", "engine_locked", "ledger_free", "ledger_locked",
                  "table_free", "table_locked", "problem");
    out += line;
    for (const auto& d : r.balances) {
      std::string tf = d.has_table_row ? FormatUnits(d.table_free, d.scale) : "-";
      std::string tl = d.has_table_row ? FormatUnits(d.table_locked, d.scale) : "-";
      std::string account = d.account == 0 ? "0(fees)" : std::to_string(d.account);
      std::snprintf(line, sizeof line, "%-12s %-8s %22s %22s %22s %22s %22s %22s  %s\n",
                    account.c_str(), d.asset.c_str(), FormatUnits(d.engine_free, d.scale).c_str(),
                    FormatUnits(d.engine_locked, d.scale).c_str(),
                    FormatUnits(d.ledger_free, d.scale).c_str(),
                    FormatUnits(d.ledger_locked, d.scale).c_str(), tf.c_str(), tl.c_str(),
                    d.problem.c_str());
      out += line;
    }
    if (r.balances.size() < r.balance_differences) {
      out += "... " + std::to_string(r.balance_differences - r.balances.size()) + " more\n";
    }
  }
  for (const auto& a : r.asset_totals) {
    std::snprintf(line, sizeof line,
                  "asset %s: users+fees %s, deposits-withdrawals %s, %lld outside-world entries "
                  "of other kinds\n",
                  a.asset.c_str(), FormatUnits(a.users_and_fees, a.scale).c_str(),
                  FormatUnits(a.net_deposits, a.scale).c_str(),
                  static_cast<long long>(a.outside_other_kinds));
    out += line;
  }
  for (const auto& e : r.events) {
    std::snprintf(line, sizeof line, "unbalanced event seq %lld idx %d asset %s: sum %s\n",
                  static_cast<long long>(e.seq), e.idx, e.asset.c_str(),
                  FormatUnits(e.sum, e.scale).c_str());
    out += line;
  }
  if (r.events.size() < r.unbalanced_events) {
    out += "... " + std::to_string(r.unbalanced_events - r.events.size()) +
           " more unbalanced events\n";
  }
  std::snprintf(line, sizeof line, "reconcile accounts=%zu assets=%zu differences=%zu\n",
                r.accounts, r.assets, r.differences());
  out += line;
  return out;
}

std::string FormatReportJson(const ReconcileReport& r) {
  auto q = [](const std::string& s) {
    return "\"" + s + "\"";  // names are [A-Z0-9#]
  };
  std::string out = "{\"accounts\":" + std::to_string(r.accounts) +
                    ",\"assets\":" + std::to_string(r.assets) +
                    ",\"differences\":" + std::to_string(r.differences()) +
                    ",\"engineSeqMin\":" + std::to_string(r.engine_seq_min) +
                    ",\"engineSeqMax\":" + std::to_string(r.engine_seq_max) +
                    ",\"recorderSeq\":" + std::to_string(r.recorder_seq) + ",\"balances\":[";
  for (size_t i = 0; i < r.balances.size(); ++i) {
    const auto& d = r.balances[i];
    if (i) out += ',';
    out += "{\"account\":" + std::to_string(d.account) + ",\"asset\":" + q(d.asset) +
           ",\"engineFree\":" + q(FormatUnits(d.engine_free, d.scale)) +
           ",\"engineLocked\":" + q(FormatUnits(d.engine_locked, d.scale)) +
           ",\"ledgerFree\":" + q(FormatUnits(d.ledger_free, d.scale)) +
           ",\"ledgerLocked\":" + q(FormatUnits(d.ledger_locked, d.scale));
    if (d.has_table_row) {
      out += ",\"tableFree\":" + q(FormatUnits(d.table_free, d.scale)) +
             ",\"tableLocked\":" + q(FormatUnits(d.table_locked, d.scale));
    }
    out += ",\"problem\":" + q(d.problem) + "}";
  }
  out += "],\"assetTotals\":[";
  for (size_t i = 0; i < r.asset_totals.size(); ++i) {
    const auto& a = r.asset_totals[i];
    if (i) out += ',';
    out += "{\"asset\":" + q(a.asset) +
           ",\"usersAndFees\":" + q(FormatUnits(a.users_and_fees, a.scale)) +
           ",\"netDeposits\":" + q(FormatUnits(a.net_deposits, a.scale)) +
           ",\"outsideOtherKinds\":" + std::to_string(a.outside_other_kinds) + "}";
  }
  out += "],\"unbalancedEvents\":[";
  for (size_t i = 0; i < r.events.size(); ++i) {
    const auto& e = r.events[i];
    if (i) out += ',';
    out += "{\"seq\":" + std::to_string(e.seq) + ",\"idx\":" + std::to_string(e.idx) +
           ",\"asset\":" + q(e.asset) + ",\"sum\":" + q(FormatUnits(e.sum, e.scale)) + "}";
  }
  out += "]}\n";
  return out;
}

}  // namespace spotex::admin
