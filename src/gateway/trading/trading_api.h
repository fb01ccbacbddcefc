// The signed trading and account endpoints of /api/v3 (BINANCE_API.md §7.3-7.5, issue 4 §2):
//   POST   order, order/test, order/cancelReplace, orderList/oco          (TRADE)
//   DELETE order, openOrders, orderList                                   (TRADE)
//   GET    order, openOrders, allOrders, myTrades, account,
//          orderList, allOrderList, openOrderList, myPreventedMatches     (USER_DATA)
//
// Every handler: Params::FromRequest -> RequestAuthenticator::Authenticate -> the endpoint's
// parameters -> Params::CheckAllRead (-1104) -> work. Nothing blocks an I/O thread: commands go
// through CommandClient::SubmitTracked and live-state reads through CommandClient::QueryAsync;
// the answer is sent from the libnats thread that receives the engine's reply, or from this
// API's timer thread when the deadline passes.
//
// Order path (issue 4 §5): validate (syntax and the symbol filters the gateway can check) ->
// RateLimiter::ChargeOrder -> publish the command with Nats-Msg-Id "<instance>-<n>" -> await
// the engine's envelope. If the publish fails, or no answer came after a third of the timeout,
// the same bytes are published again with the SAME msg id (JetStream de-duplicates, so the
// engine runs the command at most once; its answer goes to whichever reply subject it
// stored). After the timeout: HTTP 500 -1007, execution status unknown.
//
// Where the answers come from:
// - open orders and balances: the engine's live state (queries);
// - finished orders, allOrders, myTrades, order lists: AccountHistory (since this gateway
//   started; see account_history.h) merged with the engine's open orders and, when
//   TradingOptions::history_store is set, with the PostgreSQL history (older; the recorder
//   lags the engine a little). The union is de-duplicated by id, the newest state winning
//   (NewerOrder in gateway/history/history_store.h); queries to PostgreSQL run on the store's
//   threads (docs/history-queries.md);
// - myPreventedMatches: the PostgreSQL history only (empty without a store);
// - commission rates in GET account and order/test: the rates AccountHistory saw on the event
//   stream (AccountUpdated: the account's own, else the defaults), else
//   TradingOptions::maker/taker_rate_e8 (the engine has no fee query).
//
// Another account's order is indistinguishable from a nonexistent one: every engine query
// and history lookup is keyed by the caller's account.
//
// Thread-safety: Register once before the server starts; the handlers are thread-safe.
// Lifetime: destroy the TradingApi after the HTTP server has stopped. The CommandClient and
// AccountHistory must outlive it; callbacks that arrive later are ignored.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/api/ports.h"
#include "gateway/history/history_store.h"
#include "gateway/http/router.h"
#include "gateway/market/engine_json.h"
#include "gateway/trading/account_history.h"
#include "service/command_client.h"

namespace spotex::gateway {

struct TradingOptions {
  int64_t order_timeout_ms = 10'000;  // whole request, engine round trips included
  // Commission rates when the event stream has not shown any (8-decimal fixed point).
  int64_t maker_rate_e8 = 100'000;  // 0.1 %
  int64_t taker_rate_e8 = 100'000;
  // Prefix of every Nats-Msg-Id and generated client id; empty = random per process.
  std::string instance_id;
  // The PostgreSQL history (issue 6 §2); null = AccountHistory only. Must outlive the API.
  HistoryStore* history_store = nullptr;
};

struct AssetEntry {
  std::string name;
  int scale = 8;
};

class TradingApi {
 public:
  using Clock = std::function<int64_t()>;  // ms since the epoch
  // The current record of a symbol (symbols can be added at runtime); nullopt when unknown.
  using SymbolLookup = std::function<std::optional<SymbolRecord>(std::string_view name)>;
  // The same by engine symbol id (order lists and history records carry only the id).
  using SymbolById = std::function<std::optional<SymbolRecord>(uint32_t id)>;
  // Every asset with its scale, in listing order (GET account shows each, zero if untouched).
  using AssetList = std::function<std::vector<AssetEntry>()>;

  TradingApi(service::CommandClient& client, RequestAuthenticator& auth, RateLimiter& limiter,
             AccountHistory& history, SymbolLookup symbols, SymbolById symbol_by_id,
             AssetList assets, Clock clock,
             TradingOptions options = {});
  ~TradingApi();
  TradingApi(const TradingApi&) = delete;
  TradingApi& operator=(const TradingApi&) = delete;

  // Adds every route above to `router`.
  void Register(http::Router& router);

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace spotex::gateway
