#include "store/history_writer.h"

#include <charconv>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/projection.h"

namespace spotex::store {
namespace {

using db::PgError;

// Rows in COPY's text format: tab-separated, "\N" for NULL, backslash escapes in text.
class CopyText {
 public:
  void Clear() { s_.clear(); }
  bool empty() const { return s_.empty(); }
  std::string_view data() const { return s_; }

  void Int(int64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    s_.append(buf, r.ptr);
    s_ += '\t';
  }
  void Null() { s_ += "\\N\t"; }
  void Bool(bool v) { s_ += v ? "t\t" : "f\t"; }
  void Text(std::string_view v) {
    for (char c : v) {
      switch (c) {
        case '\\':
          s_ += "\\\\";
          break;
        case '\t':
          s_ += "\\t";
          break;
        case '\n':
          s_ += "\\n";
          break;
        case '\r':
          s_ += "\\r";
          break;
        default:
          s_ += c;
      }
    }
    s_ += '\t';
  }
  void EndRow() { s_.back() = '\n'; }

 private:
  std::string s_;
};

PgError WriterError(std::string message) {
  return PgError{"", "", "history writer: " + std::move(message)};
}

std::string ClientIdText(const engine::ClientOrderId& id, int64_t order_id) {
  if (id.empty()) return PlaceholderClientId("auto-", order_id);
  return std::string(id.view());
}

// Per-session temporary tables for the rows that update or merge with stored ones. ON COMMIT
// DELETE ROWS empties them at every commit; created once per connection, not per batch.
constexpr const char* kTempTables = R"sql(
CREATE TEMP TABLE tmp_order_state (
  order_id bigint NOT NULL, time_ms bigint NOT NULL, client_order_id text, qty bigint,
  status smallint NOT NULL, expiry_reason smallint NOT NULL, working boolean NOT NULL,
  working_time_ms bigint, executed_qty bigint NOT NULL, cum_quote_qty bigint NOT NULL,
  update_time_ms bigint NOT NULL, last_seq bigint NOT NULL) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE tmp_balances (LIKE balances) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE tmp_klines (LIKE klines_1m) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE tmp_order_lists (LIKE order_lists) ON COMMIT DELETE ROWS;
)sql";

class PgHistoryWriter final : public HistoryWriter {
 public:
  PgHistoryWriter(db::PgConnection conn, uint32_t shard) : conn_(std::move(conn)), shard_(shard) {}

  db::PgExpected<void> Load() {
    if (auto ok = conn_.ExecScript(kTempTables); !ok) return ok;
    // One snapshot for the position and the open orders, so they agree even while another
    // writer commits (whose batch then fails this writer's compare-and-set).
    auto tx = db::PgTransaction::Begin(conn_);
    if (!tx) return std::unexpected(tx.error());
    if (auto ok = conn_.ExecScript("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"); !ok) {
      return ok;
    }
    auto pos = conn_.Exec(
        "SELECT command_seq, stream_seq, events FROM recorder_positions WHERE shard = $1",
        static_cast<int64_t>(shard_));
    if (!pos) return std::unexpected(pos.error());
    if (pos->rows() == 1) {
      has_position_row_ = true;
      position_.command_seq = static_cast<uint64_t>(pos->Int64(0, 0).value_or(0));
      position_.stream_seq = static_cast<uint64_t>(pos->Int64(0, 1).value_or(0));
      position_.events = static_cast<uint64_t>(pos->Int64(0, 2).value_or(0));
    }
    auto open = conn_.Exec(
        "SELECT order_id, time_ms, order_list_id, cum_quote_qty, working FROM orders "
        "WHERE status IN (0, 1, 7)");
    if (!open) return std::unexpected(open.error());
    state_.open_orders.reserve(static_cast<size_t>(open->rows()) * 2 + 1024);
    for (int i = 0; i < open->rows(); ++i) {
      OpenOrderState o;
      o.time_ms = open->Int64(i, 1).value_or(0);
      o.order_list_id = open->Int64(i, 2).value_or(-1);
      o.cum_quote_qty = open->Int64(i, 3).value_or(0);
      o.working = open->Bool(i, 4).value_or(false);
      state_.open_orders.emplace(open->Int64(i, 0).value_or(0), o);
    }
    auto symbols = conn_.Exec("SELECT symbol_id, base_asset, quote_asset FROM symbols");
    if (!symbols) return std::unexpected(symbols.error());
    for (int i = 0; i < symbols->rows(); ++i) {
      state_.symbols[static_cast<uint32_t>(symbols->Int64(i, 0).value_or(0))] =
          SymbolAssets{static_cast<uint32_t>(symbols->Int64(i, 1).value_or(0)),
                       static_cast<uint32_t>(symbols->Int64(i, 2).value_or(0))};
    }
    return tx->Commit();
  }

  const RecorderPosition& position() const override { return position_; }

  db::PgExpected<WriteStats> Apply(std::span<const proto::Envelope* const> envelopes,
                                   uint64_t stream_seq) override {
    if (broken_) return std::unexpected(WriteError("an earlier Apply failed; re-open"));
    if (envelopes.size() > kApplyEnvelopesMax) {
      return std::unexpected(WriteError(std::to_string(envelopes.size()) +
                                        " envelopes in one Apply; the most is " +
                                        std::to_string(kApplyEnvelopesMax)));
    }
    WriteStats stats;
    fresh_.clear();
    uint64_t last_seq = position_.command_seq;
    for (const proto::Envelope* env : envelopes) {
      const auto& h = env->header();
      if (h.shard != shard_) {
        return Broken(WriteError("envelope of shard " + std::to_string(h.shard)));
      }
      if (h.seq <= position_.command_seq) {
        ++stats.skipped;
        continue;
      }
      if (h.seq <= last_seq) return Broken(WriteError("envelopes out of seq order"));
      last_seq = h.seq;
      fresh_.push_back(env);
    }
    if (fresh_.empty()) return stats;
    if (auto ok = Project(state_, fresh_, batch_); !ok) return Broken(WriteError(ok.error()));
    stats.envelopes = fresh_.size();
    stats.events = batch_.events;
    RecorderPosition next{last_seq, stream_seq, position_.events + batch_.events};
    auto rows = Write(next);
    if (!rows) return Broken(rows.error());
    stats.rows = *rows;
    // Durable: only now does the in-memory state move.
    position_ = next;
    has_position_row_ = true;
    Commit(batch_, state_);
    return stats;
  }

 private:
  static PgError WriteError(std::string message) { return WriterError(std::move(message)); }

  std::unexpected<PgError> Broken(PgError err) {
    broken_ = true;
    return std::unexpected(std::move(err));
  }

  // Creates the partitions of each month the batch writes to that this writer has not seen,
  // and of the month after it, each in its own short transaction before the batch's: empty
  // partitions change no history, and creating one locks its parent table, which should not
  // last a whole batch (nor happen at all when a month starts, thanks to the month ahead).
  db::PgExpected<void> EnsureMonths() {
    for (int32_t m : batch_.months) {
      for (int32_t month : {m, m + 1}) {
        if (months_.contains(month)) continue;
        auto r = conn_.Exec("SELECT history_ensure_month($1::date)", MonthStartDate(month));
        if (!r) return std::unexpected(r.error());
        months_.insert(month);
      }
    }
    return {};
  }

  db::PgExpected<size_t> Write(const RecorderPosition& next) {
    if (auto ok = EnsureMonths(); !ok) return std::unexpected(ok.error());
    auto tx = db::PgTransaction::Begin(conn_);
    if (!tx) return std::unexpected(tx.error());
    size_t rows = 0;
    for (auto step : {&PgHistoryWriter::WriteOrders, &PgHistoryWriter::WriteEvents,
                      &PgHistoryWriter::WriteTrades, &PgHistoryWriter::WriteLedger,
                      &PgHistoryWriter::WriteBalancesAndKlines, &PgHistoryWriter::WriteReference}) {
      auto n = (this->*step)();
      if (!n) return std::unexpected(n.error());
      rows += *n;
    }
    // Compare-and-set: the stored position must still be the one this writer started from,
    // so two writers on one shard (an old recorder not yet dead) cannot both apply a batch.
    const bool first = !has_position_row_;
    auto pos = first
                   ? conn_.Exec(
                         "INSERT INTO recorder_positions (shard, command_seq, stream_seq, events) "
                         "VALUES ($1, $2, $3, $4) ON CONFLICT (shard) DO NOTHING",
                         static_cast<int64_t>(shard_), static_cast<int64_t>(next.command_seq),
                         static_cast<int64_t>(next.stream_seq), static_cast<int64_t>(next.events))
                   : conn_.Exec(
                         "UPDATE recorder_positions SET command_seq = $2, stream_seq = $3, "
                         "events = $4, updated_at = now() WHERE shard = $1 AND command_seq = $5 "
                         "AND events = $6",
                         static_cast<int64_t>(shard_), static_cast<int64_t>(next.command_seq),
                         static_cast<int64_t>(next.stream_seq), static_cast<int64_t>(next.events),
                         static_cast<int64_t>(position_.command_seq),
                         static_cast<int64_t>(position_.events));
    if (!pos) return std::unexpected(pos.error());
    if (pos->affected_rows() != 1) {
      return std::unexpected(WriteError("the stored position of shard " + std::to_string(shard_) +
                                        " moved since Open(): another writer?"));
    }
    if (auto ok = tx->Commit(); !ok) return std::unexpected(ok.error());
    return rows;
  }

  db::PgExpected<size_t> Copy(const char* sql) {
    if (text_.empty()) return 0;
    auto n = conn_.CopyIn(sql, text_.data());
    if (!n) return std::unexpected(n.error());
    return static_cast<size_t>(*n);
  }

  db::PgExpected<size_t> WriteOrders() {
    text_.Clear();
    size_t updates = 0;
    for (const OrderRow& o : batch_.orders) {
      if (!o.placed) {
        ++updates;
        continue;
      }
      text_.Int(o.order_id);
      text_.Int(o.time_ms);
      text_.Int(o.account_id);
      text_.Int(o.symbol_id);
      text_.Int(o.order_list_id);
      text_.Text(ClientIdText(o.client_order_id, o.order_id));
      text_.Int(o.side);
      text_.Int(o.type);
      text_.Int(o.time_in_force);
      text_.Int(o.stp_mode);
      text_.Int(o.price);
      text_.Int(o.qty);
      text_.Int(o.quote_qty);
      text_.Int(o.stop_price);
      text_.Int(o.iceberg_qty);
      text_.Int(o.status);
      text_.Int(o.expiry_reason);
      text_.Bool(o.working);
      if (o.working_time_set) {
        text_.Int(o.working_time_ms);
      } else {
        text_.Null();
      }
      text_.Int(o.executed_qty);
      text_.Int(o.cum_quote_qty);
      text_.Int(o.update_time_ms);
      text_.Int(static_cast<int64_t>(o.seq));
      text_.Int(static_cast<int64_t>(o.last_seq));
      text_.EndRow();
    }
    auto inserted = Copy(
        "COPY orders (order_id, time_ms, account_id, symbol_id, order_list_id, client_order_id, "
        "side, type, time_in_force, stp_mode, price, qty, quote_qty, stop_price, iceberg_qty, "
        "status, expiry_reason, working, working_time_ms, executed_qty, cum_quote_qty, "
        "update_time_ms, seq, last_seq) FROM STDIN");
    if (!inserted || updates == 0) return inserted;
    text_.Clear();
    for (const OrderRow& o : batch_.orders) {
      if (o.placed) continue;
      text_.Int(o.order_id);
      text_.Int(o.time_ms);
      if (o.client_order_id_changed) {
        text_.Text(ClientIdText(o.client_order_id, o.order_id));
      } else {
        text_.Null();
      }
      if (o.qty_changed) {
        text_.Int(o.qty);
      } else {
        text_.Null();
      }
      text_.Int(o.status);
      text_.Int(o.expiry_reason);
      text_.Bool(o.working);
      if (o.working_time_set) {
        text_.Int(o.working_time_ms);
      } else {
        text_.Null();
      }
      text_.Int(o.executed_qty);
      text_.Int(o.cum_quote_qty);
      text_.Int(o.update_time_ms);
      text_.Int(static_cast<int64_t>(o.last_seq));
      text_.EndRow();
    }
    auto staged = Copy("COPY tmp_order_state FROM STDIN");
    if (!staged) return staged;
    // The staging table has no statistics: make the planner probe the primary key of each
    // partition per row instead of scanning `orders`.
    auto plan =
        conn_.ExecScript("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off");
    if (!plan) return std::unexpected(plan.error());
    auto updated = conn_.Exec(
        "UPDATE orders o SET client_order_id = COALESCE(t.client_order_id, o.client_order_id), "
        "qty = COALESCE(t.qty, o.qty), status = t.status, expiry_reason = t.expiry_reason, "
        "working = t.working, working_time_ms = COALESCE(t.working_time_ms, o.working_time_ms), "
        "executed_qty = t.executed_qty, cum_quote_qty = t.cum_quote_qty, "
        "update_time_ms = t.update_time_ms, last_seq = t.last_seq "
        "FROM tmp_order_state t WHERE o.order_id = t.order_id AND o.time_ms = t.time_ms");
    if (!updated) return std::unexpected(updated.error());
    if (static_cast<size_t>(updated->affected_rows()) != updates) {
      return std::unexpected(WriteError("updated " + std::to_string(updated->affected_rows()) +
                                        " of " + std::to_string(updates) + " stored orders"));
    }
    return *inserted + updates;
  }

  db::PgExpected<size_t> WriteEvents() {
    text_.Clear();
    for (const OrderEventRow& e : batch_.order_events) {
      text_.Int(static_cast<int64_t>(e.seq));
      text_.Int(e.idx);
      text_.Int(e.time_ms);
      text_.Int(e.order_id);
      text_.Int(e.account_id);
      text_.Int(e.symbol_id);
      text_.Int(e.exec_type);
      text_.Int(e.status);
      text_.Int(e.expiry_reason);
      text_.Int(e.executed_qty);
      text_.Int(e.cum_quote_qty);
      text_.Int(e.last_qty);
      text_.Int(e.last_price);
      text_.Int(e.trade_id);
      text_.Int(e.commission);
      if (e.commission_asset >= 0) {
        text_.Int(e.commission_asset);
      } else {
        text_.Null();
      }
      text_.EndRow();
    }
    auto n = Copy(
        "COPY order_events (seq, idx, time_ms, order_id, account_id, symbol_id, exec_type, "
        "status, expiry_reason, executed_qty, cum_quote_qty, last_qty, last_price, trade_id, "
        "commission, commission_asset) FROM STDIN");
    if (!n) return n;
    text_.Clear();
    for (const PreventedMatchRow& p : batch_.prevented_matches) {
      const auto& m = p.match;
      text_.Int(m.prevented_match_id);
      text_.Int(m.time_ms);
      text_.Int(static_cast<int64_t>(m.account));
      text_.Int(m.symbol);
      text_.Int(static_cast<int64_t>(m.mode));
      text_.Int(m.taker_order_id);
      text_.Int(m.maker_order_id);
      text_.Int(m.price.v);
      text_.Int(m.qty.v);
      text_.Int(static_cast<int64_t>(p.seq));
      text_.Int(p.idx);
      text_.EndRow();
    }
    auto m = Copy(
        "COPY prevented_matches (prevented_match_id, time_ms, account_id, symbol_id, stp_mode, "
        "taker_order_id, maker_order_id, price, qty, seq, idx) FROM STDIN");
    if (!m) return m;
    return *n + *m;
  }

  db::PgExpected<size_t> WriteTrades() {
    text_.Clear();
    for (const TradeRow& r : batch_.trades) {
      const auto& t = r.trade;
      text_.Int(t.trade_id);
      text_.Int(t.time_ms);
      text_.Int(t.symbol);
      text_.Int(t.price.v);
      text_.Int(t.qty.v);
      text_.Int(t.quote_qty.v);
      text_.Bool(t.buyer_is_maker);
      text_.Int(t.buyer_order_id);
      text_.Int(t.seller_order_id);
      text_.Int(static_cast<int64_t>(t.buyer));
      text_.Int(static_cast<int64_t>(t.seller));
      text_.Int(static_cast<int64_t>(r.seq));
      text_.Int(r.idx);
      text_.EndRow();
    }
    auto n = Copy(
        "COPY trades (trade_id, time_ms, symbol_id, price, qty, quote_qty, buyer_is_maker, "
        "buyer_order_id, seller_order_id, buyer_id, seller_id, seq, idx) FROM STDIN");
    if (!n) return n;
    text_.Clear();
    for (const FillRow& f : batch_.fills) {
      text_.Int(f.account_id);
      text_.Int(f.symbol_id);
      text_.Int(f.trade_id);
      text_.Int(f.time_ms);
      text_.Int(f.order_id);
      text_.Int(f.order_list_id);
      text_.Bool(f.is_buyer);
      text_.Bool(f.is_maker);
      text_.Int(f.price);
      text_.Int(f.qty);
      text_.Int(f.quote_qty);
      text_.Int(f.commission);
      text_.Int(f.commission_asset);
      text_.EndRow();
    }
    auto f = Copy(
        "COPY fills (account_id, symbol_id, trade_id, time_ms, order_id, order_list_id, "
        "is_buyer, is_maker, price, qty, quote_qty, commission, commission_asset) FROM STDIN");
    if (!f) return f;
    return *n + *f;
  }

  db::PgExpected<size_t> WriteLedger() {
    text_.Clear();
    for (const LedgerRow& l : batch_.ledger) {
      text_.Int(static_cast<int64_t>(l.seq));
      text_.Int(l.idx);
      text_.Int(l.leg);
      text_.Int(l.time_ms);
      text_.Int(l.account_id);
      text_.Int(l.asset_id);
      text_.Int(l.bucket);
      text_.Int(static_cast<int16_t>(l.kind));
      text_.Int(l.amount);
      text_.EndRow();
    }
    return Copy(
        "COPY ledger (seq, idx, leg, time_ms, account_id, asset_id, bucket, kind, amount) "
        "FROM STDIN");
  }

  db::PgExpected<size_t> WriteBalancesAndKlines() {
    size_t rows = 0;
    text_.Clear();
    for (const BalanceRow& b : batch_.balances) {
      text_.Int(b.account_id);
      text_.Int(b.asset_id);
      text_.Int(b.free);
      text_.Int(b.locked);
      text_.Int(static_cast<int64_t>(b.seq));
      text_.Int(b.update_time_ms);
      text_.EndRow();
    }
    if (!text_.empty()) {
      auto n = Copy(
          "COPY tmp_balances (account_id, asset_id, free, locked, seq, update_time_ms) "
          "FROM STDIN");
      if (!n) return n;
      auto up = conn_.Exec(
          "INSERT INTO balances SELECT account_id, asset_id, free, locked, seq, update_time_ms "
          "FROM tmp_balances ON CONFLICT (account_id, asset_id) DO UPDATE SET "
          "free = EXCLUDED.free, locked = EXCLUDED.locked, seq = EXCLUDED.seq, "
          "update_time_ms = EXCLUDED.update_time_ms");
      if (!up) return std::unexpected(up.error());
      rows += *n;
    }
    text_.Clear();
    for (const KlineRow& k : batch_.klines) {
      for (int64_t v : {int64_t{k.symbol_id}, k.open_time_ms, k.open, k.high, k.low, k.close,
                        k.volume, k.quote_volume, k.trades, k.taker_buy_volume, k.taker_buy_quote,
                        k.first_trade_id, k.last_trade_id}) {
        text_.Int(v);
      }
      text_.EndRow();
    }
    if (!text_.empty()) {
      auto n = Copy(
          "COPY tmp_klines (symbol_id, open_time_ms, open, high, low, close, volume, "
          "quote_volume, trades, taker_buy_volume, taker_buy_quote, first_trade_id, "
          "last_trade_id) FROM STDIN");
      if (!n) return n;
      // The stored bar is the earlier part of the minute: its open stays, the close is ours.
      auto up = conn_.Exec(
          "INSERT INTO klines_1m AS k SELECT symbol_id, open_time_ms, open, high, low, close, "
          "volume, quote_volume, trades, taker_buy_volume, taker_buy_quote, first_trade_id, "
          "last_trade_id FROM tmp_klines ON CONFLICT (symbol_id, open_time_ms) DO UPDATE SET "
          "high = GREATEST(k.high, EXCLUDED.high), low = LEAST(k.low, EXCLUDED.low), "
          "close = EXCLUDED.close, volume = k.volume + EXCLUDED.volume, "
          "quote_volume = k.quote_volume + EXCLUDED.quote_volume, "
          "trades = k.trades + EXCLUDED.trades, "
          "taker_buy_volume = k.taker_buy_volume + EXCLUDED.taker_buy_volume, "
          "taker_buy_quote = k.taker_buy_quote + EXCLUDED.taker_buy_quote, "
          "first_trade_id = LEAST(k.first_trade_id, EXCLUDED.first_trade_id), "
          "last_trade_id = GREATEST(k.last_trade_id, EXCLUDED.last_trade_id)");
      if (!up) return std::unexpected(up.error());
      rows += *n;
    }
    return rows;
  }

  // Assets, symbols and order lists: few rows (statements per row are fine for the first
  // two; lists go through staging as OCO traffic can be heavy).
  db::PgExpected<size_t> WriteReference() {
    size_t rows = 0;
    for (const AssetRow& a : batch_.assets) {
      auto r = conn_.Exec("INSERT INTO assets (asset_id, name, scale) VALUES ($1, $2, $3)",
                          a.asset_id, a.name.view(), a.scale);
      if (!r) return std::unexpected(r.error());
      ++rows;
    }
    for (const SymbolRow& s : batch_.symbols) {
      auto r = conn_.Exec(
          "INSERT INTO symbols (symbol_id, name, base_asset, quote_asset, status) "
          "VALUES ($1, $2, $3, $4, $5)",
          s.symbol_id, s.name.view(), s.base_asset, s.quote_asset, int{s.status});
      if (!r) return std::unexpected(r.error());
      ++rows;
    }
    for (const SymbolStatusRow& s : batch_.symbol_statuses) {
      auto r = conn_.Exec("UPDATE symbols SET status = $2 WHERE symbol_id = $1", s.symbol_id,
                          int{s.status});
      if (!r) return std::unexpected(r.error());
      ++rows;
    }
    text_.Clear();
    for (const OrderListRow& l : batch_.order_lists) {
      text_.Int(l.order_list_id);
      text_.Int(l.account_id);
      text_.Int(l.symbol_id);
      text_.Text(l.list_client_order_id.empty() ? PlaceholderClientId("auto-list-", l.order_list_id)
                                                : std::string(l.list_client_order_id.view()));
      text_.Int(l.status);
      text_.Int(l.order_id_1);
      text_.Int(l.order_id_2);
      text_.Int(l.time_ms);
      text_.Int(l.update_time_ms);
      text_.EndRow();
    }
    if (!text_.empty()) {
      auto n = Copy(
          "COPY tmp_order_lists (order_list_id, account_id, symbol_id, list_client_order_id, "
          "status, order_id_1, order_id_2, time_ms, update_time_ms) FROM STDIN");
      if (!n) return n;
      auto up = conn_.Exec(
          "INSERT INTO order_lists SELECT order_list_id, account_id, symbol_id, "
          "list_client_order_id, status, order_id_1, order_id_2, time_ms, update_time_ms "
          "FROM tmp_order_lists ON CONFLICT (order_list_id) DO UPDATE SET "
          "status = EXCLUDED.status, update_time_ms = EXCLUDED.update_time_ms");
      if (!up) return std::unexpected(up.error());
      rows += *n;
    }
    return rows;
  }

  db::PgConnection conn_;
  uint32_t shard_;
  RecorderPosition position_;
  ProjectionState state_;
  std::set<int32_t> months_;       // whose partitions exist (created or found by this writer)
  bool has_position_row_ = false;  // recorder_positions has this shard's row
  bool broken_ = false;
  // Reused across Apply calls.
  std::vector<const proto::Envelope*> fresh_;
  ProjectedBatch batch_;
  CopyText text_;
};

}  // namespace

db::PgExpected<std::unique_ptr<HistoryWriter>> HistoryWriter::Open(const db::PgConnParams& params,
                                                                   uint32_t shard) {
  auto conn = db::PgConnection::Connect(params);
  if (!conn) return std::unexpected(conn.error());
  auto writer = std::make_unique<PgHistoryWriter>(std::move(*conn), shard);
  if (auto ok = writer->Load(); !ok) return std::unexpected(ok.error());
  return writer;
}

}  // namespace spotex::store
