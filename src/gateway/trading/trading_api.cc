#include "gateway/trading/trading_api.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "core/decimal.h"
#include "engine/event.h"
#include "engine/order_shape.h"
#include "gateway/obs/metrics.h"
#include "gateway/obs/warn_throttle.h"
#include "gateway/orders/new_order.h"
#include "gateway/trading/trading_json.h"
#include "proto/codec.h"
#include "service/log.h"

namespace spotex::gateway {

namespace {

using http::Error;
using http::Params;
using http::Response;

constexpr int64_t kDayMs = 24LL * 60 * 60 * 1000;

Error ToError(const ApiError& e) { return Error{e.code, e.msg, e.http_status}; }
Error InvalidSymbol() { return Error{-1121, "Invalid symbol.", 400}; }
Error UnknownOrderSent() { return Error{-2011, "Unknown order sent.", 400}; }
Error OrderDoesNotExist() { return Error{-2013, "Order does not exist.", 400}; }
Error ListDoesNotExist() { return Error{-2013, "Order list does not exist.", 400}; }
Error EitherParam(std::string_view a, std::string_view b) {
  return Error{-1102,
               "Param '" + std::string(a) + "' or '" + std::string(b) +
                   "' must be sent, but both were empty/null!",
               400};
}
bool ValidClientId(std::string_view id) {
  engine::ClientOrderId c;
  return c.Assign(id);
}

Error BadCombination() { return Error{-1128, "Combination of optional parameters invalid.", 400}; }

// Binance's -1105 for an optional parameter of the history queries sent with no value.
std::optional<Error> EmptyParam(const Params& p, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names) {
    if (p.Has(n) && !p.Peek(n)) {
      return Error{-1105, "Parameter '" + std::string(n) + "' was empty.", 400};
    }
  }
  return std::nullopt;
}

std::string RandomId(size_t n) {
  static constexpr char kChars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string out(n, 'x');
  for (char& c : out) {
    c = kChars[rng() % (sizeof(kChars) - 1)];
  }
  return out;
}

// The parameter as sent ("" when sent empty), nullopt when absent; reading marks it read.
ParamLookup Lookup(Params& p) {
  return [&p](std::string_view name) -> std::optional<std::string_view> {
    if (!p.Has(name)) {
      return std::nullopt;
    }
    auto v = p.GetOptionalString(name);
    return v ? *v : std::string_view();
  };
}

int64_t Units(const std::string& text, int scale) {
  auto v = core::ParseDecimal(text, scale);
  return v ? *v : 0;
}

bool OffGrid(int64_t v, int64_t step) { return step != 0 && v % step != 0; }

// The symbol filters the gateway can check on its own (BINANCE_API.md §6), with the engine's
// codes; the engine checks them again (and those that need the book or balances).
std::optional<Error> CheckFilters(const engine::NewOrder& o, const SymbolRecord& s) {
  // Which parameters the type requires or forbids: the engine's own rule (order_shape.h), run
  // here too so that order/test answers what order would, with the parameter named.
  engine::SymbolConfig config;
  config.iceberg_allowed = s.iceberg_allowed;
  config.quote_order_qty_market_allowed = s.quote_order_qty_market_allowed;
  if (auto shape = engine::CheckOrderShape(o, config)) {
    auto b = engine::ToBinance(shape->code);
    std::string msg(b.msg);
    if (!shape->param.empty()) {
      msg = "Parameter '" + std::string(shape->param) + "' sent when not required.";
    }
    return Error{b.code, std::move(msg), b.http};
  }
  const int qs = s.info.quote_scale, bs = s.info.base_scale;
  auto fail = [](const char* name) {
    return Error{-1013, std::string("Filter failure: ") + name, 400};
  };
  const int64_t min_price = Units(s.min_price, qs), max_price = Units(s.max_price, qs),
                tick = Units(s.tick_size, qs);
  for (int64_t price : {o.price.v, o.stop_price.v}) {
    if (price == 0) {
      continue;
    }
    if ((min_price != 0 && price < min_price) || (max_price != 0 && price > max_price) ||
        OffGrid(price, tick)) {
      return fail("PRICE_FILTER");
    }
  }
  if (o.qty.v != 0) {
    const bool market = engine::IsMarketLike(o.type);
    int64_t min_qty = Units(market ? s.market_min_qty : s.min_qty, bs);
    int64_t max_qty = Units(market ? s.market_max_qty : s.max_qty, bs);
    int64_t step = Units(market ? s.market_step_size : s.step_size, bs);
    if (market && step == 0) {
      step = Units(s.step_size, bs);
    }
    if ((min_qty != 0 && o.qty.v < min_qty) || (max_qty != 0 && o.qty.v > max_qty) ||
        OffGrid(o.qty.v, step)) {
      return fail(market ? "MARKET_LOT_SIZE" : "LOT_SIZE");
    }
  }
  if (o.price.v != 0 && o.qty.v != 0 && !engine::IsMarketLike(o.type)) {
    // price (quote units per whole base) * qty (base units) / 10^bs, compared without division.
    __int128 notional = static_cast<__int128>(o.price.v) * o.qty.v;
    __int128 one = 1;
    for (int i = 0; i < bs; ++i) {
      one *= 10;
    }
    const int64_t min_n = Units(s.min_notional, qs), max_n = Units(s.max_notional, qs);
    if ((min_n != 0 && notional < static_cast<__int128>(min_n) * one) ||
        (max_n != 0 && notional > static_cast<__int128>(max_n) * one)) {
      return fail(s.legacy_min_notional ? "MIN_NOTIONAL" : "NOTIONAL");
    }
  }
  return std::nullopt;
}

// `order` with the envelope's updates of it applied (its state after the command).
OrderRecord Updated(OrderRecord order, const proto::Envelope& env) {
  for (auto r = env.reader(); !r.Done(); r.Next()) {
    if (const auto* u = r.If<engine::OrderUpdate>(); u && u->order_id == order.order_id) {
      order.status = u->status;
      order.reason = u->reason;
      order.executed_qty = u->executed_qty.v;
      order.cum_quote_qty = u->cum_quote_qty.v;
      order.update_ms = env.header().time_ms;
    }
  }
  return order;
}

// Every order the envelope accepted, in its state after the command.
std::vector<OrderRecord> AcceptedIn(const proto::Envelope& env) {
  std::vector<OrderRecord> out;
  for (auto r = env.reader(); !r.Done(); r.Next()) {
    if (const auto* e = r.If<engine::OrderAccepted>()) {
      out.push_back(OrderRecord::FromAccepted(*e));
    }
  }
  for (auto& o : out) {
    o = Updated(o, env);
  }
  return out;
}

std::optional<OrderListRecord> ListIn(const proto::Envelope& env) {
  std::optional<OrderListRecord> out;
  for (auto r = env.reader(); !r.Done(); r.Next()) {
    if (const auto* l = r.If<engine::OrderList>()) {
      if (!out) {
        out.emplace();
        out->order_list_id = l->order_list_id;
        out->account = l->account;
        out->symbol = l->symbol;
        out->list_client_order_id = std::string(l->list_client_order_id.view());
        out->order_ids[0] = l->order_ids[0];
        out->order_ids[1] = l->order_ids[1];
        out->time_ms = l->time_ms;
      }
      out->status = l->status;
      out->update_ms = l->time_ms;
    }
  }
  return out;
}

std::string ErrorObject(const Error& e) {
  std::string out = "{\"code\":" + std::to_string(e.code) + ",\"msg\":";
  http::AppendJsonString(out, e.msg);
  out += '}';
  return out;
}

Error RejectionError(engine::RejectCode code) {
  auto b = engine::ToBinance(code);
  return Error{b.code, std::string(b.msg), b.http};
}

// Time-window rules shared by allOrders, myTrades and allOrderList.
struct Window {
  std::optional<int64_t> start, end;
};
std::expected<Window, Error> ReadWindow(Params& p) {
  Window w;
  auto start = p.GetOptionalLong("startTime");
  if (!start) {
    return std::unexpected(start.error());
  }
  auto end = p.GetOptionalLong("endTime");
  if (!end) {
    return std::unexpected(end.error());
  }
  w.start = *start;
  w.end = *end;
  if (w.start && w.end) {
    if (*w.end < *w.start) {
      return std::unexpected(BadCombination());
    }
    if (*w.end - *w.start > kDayMs) {
      return std::unexpected(
          Error{-1127, "More than 24 hours between startTime and endTime.", 400});
    }
  }
  return w;
}

// Binance's selection over a chronological list: from a start point the oldest `limit`,
// otherwise the newest `limit` (up to `end` when given). `key` gives (time, id).
template <class T, class TimeOf, class IdOf>
std::vector<T> Select(std::vector<T> items, const Window& w, std::optional<int64_t> from_id,
                      size_t limit, TimeOf time_of, IdOf id_of) {
  std::vector<T> kept;
  for (auto& it : items) {
    if (from_id && id_of(it) < *from_id) {
      continue;
    }
    if (w.start && time_of(it) < *w.start) {
      continue;
    }
    if (w.end && time_of(it) > *w.end) {
      continue;
    }
    kept.push_back(std::move(it));
  }
  if (kept.size() > limit) {
    if (from_id || w.start) {
      kept.resize(limit);
    } else {
      kept.erase(kept.begin(), kept.end() - static_cast<std::ptrdiff_t>(limit));
    }
  }
  return kept;
}

}  // namespace

class TradingApi::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(service::CommandClient& client, RequestAuthenticator& auth, RateLimiter& limiter,
       AccountHistory& history, SymbolLookup symbols, SymbolById symbol_by_id, AssetList assets,
       Clock clock, TradingOptions options)
      : client_(client),
        auth_(auth),
        limiter_(limiter),
        history_(history),
        symbols_(std::move(symbols)),
        symbol_by_id_(std::move(symbol_by_id)),
        assets_(std::move(assets)),
        clock_(std::move(clock)),
        options_(std::move(options)) {
    if (options_.instance_id.empty()) {
      options_.instance_id = RandomId(10);
    }
    timer_ = std::thread([this] { TimerLoop(); });
  }

  void Stop() {
    {
      std::lock_guard lock(timer_mu_);
      stopping_ = true;
    }
    timer_cv_.notify_all();
    if (timer_.joinable()) {
      timer_.join();
    }
  }

  void Register(http::Router& router);

 private:
  // One request being answered. Exactly one Finish sends; the others do nothing.
  struct Pending {
    std::mutex mu;
    bool done = false;
    bool armed = false;
    http::Responder responder;
    http::HeaderList headers;  // added to whatever answer is sent (order-count headers)
    std::vector<uint64_t> tickets;
    // For log lines about this request (docs/logging.md); set before any thread shares it,
    // except command_id (under mu).
    std::string request_id;
    std::optional<uint64_t> account;
    std::string command_id;
    bool is_done() {
      std::lock_guard lock(mu);
      return done;
    }
  };
  using P = std::shared_ptr<Pending>;
  using Endpoint = void (Impl::*)(Params&, const Caller&, const P&);

  struct CommandState {
    P p;
    std::vector<std::byte> bytes;
    std::string msg_id;
    std::function<void(const proto::Envelope&)> on_envelope;
    std::atomic<bool> answered{false};
    std::chrono::steady_clock::time_point first_publish;  // for the engine round-trip metric
  };

  void Serve(http::Request&& req, http::Responder responder, auth::SecurityType security,
             Endpoint endpoint);
  // Sends `response` unless the request was answered already; true if it sent.
  bool Finish(const P& p, Response response);
  void Fail(const P& p, const Error& e) { Finish(p, Response::FromError(e)); }
  void Ok(const P& p, std::string json) { Finish(p, Response::Json(200, std::move(json))); }
  void Arm(const P& p);
  void AddTicket(const P& p, uint64_t ticket);
  void After(int64_t ms, std::function<void()> fn);
  void TimerLoop();
  void Query(const P& p, std::string request, std::function<void(std::string_view)> on_answer);
  void Command(const P& p, const engine::CommandBody& body,
               std::function<void(const proto::Envelope&)> on_envelope);
  void Publish(const std::shared_ptr<CommandState>& st, int attempt);
  std::string NewMsgId() {
    return options_.instance_id + "-" + std::to_string(msg_counter_.fetch_add(1) + 1);
  }

  std::expected<SymbolRecord, Error> ReadSymbol(Params& p);
  std::optional<SymbolInfo> InfoByName(std::string_view name) {
    auto r = symbols_(name);
    return r ? std::optional<SymbolInfo>(r->info) : std::nullopt;
  }
  std::optional<SymbolInfo> InfoById(uint32_t id) {
    auto r = symbol_by_id_(id);
    return r ? std::optional<SymbolInfo>(r->info) : std::nullopt;
  }
  SymbolByName NameLookup() {
    return [this](std::string_view n) { return InfoByName(n); };
  }
  FeeRates Rates(uint64_t account) const {
    auto f = history_.Fees(account);
    return f ? *f : FeeRates{options_.maker_rate_e8, options_.taker_rate_e8};
  }
  // Reads the open orders of `account` (on `symbol` if given) from the engine, seeds them into
  // the history, and passes them on.
  void OpenOrders(const P& p, uint64_t account, std::optional<std::string> symbol,
                  std::function<void(std::vector<OrderRecord>)> then);
  // Reads one open order from the engine (nullopt if it is not open).
  void OpenOrder(const P& p, uint64_t account, const SymbolRecord& symbol, int64_t order_id,
                 std::string_view client_id,
                 std::function<void(std::optional<OrderRecord>)> then);
  std::string RenderListWithReports(const OrderListRecord& list, const SymbolInfo& info,
                                    const std::vector<OrderRecord>& legs, bool canceled,
                                    int64_t time_ms);

  void PostOrder(Params& p, const Caller& c, const P& done);
  void TestOrder(Params& p, const Caller& c, const P& done);
  void GetOrder(Params& p, const Caller& c, const P& done);
  void DeleteOrder(Params& p, const Caller& c, const P& done);
  void GetOpenOrders(Params& p, const Caller& c, const P& done);
  void DeleteOpenOrders(Params& p, const Caller& c, const P& done);
  void CancelReplace(Params& p, const Caller& c, const P& done);
  void PostOco(Params& p, const Caller& c, const P& done);
  void DeleteOrderList(Params& p, const Caller& c, const P& done);
  void GetOrderList(Params& p, const Caller& c, const P& done);
  void AllOrderList(Params& p, const Caller& c, const P& done);
  void OpenOrderList(Params& p, const Caller& c, const P& done);
  void Account(Params& p, const Caller& c, const P& done);
  void MyTrades(Params& p, const Caller& c, const P& done);
  void AllOrders(Params& p, const Caller& c, const P& done);
  void MyPreventedMatches(Params& p, const Caller& c, const P& done);

  // Runs `work` with the history store on one of its threads (the request's deadline armed);
  // answers -1008 at once when the store refuses the task. Precondition: a store is set.
  void OnStore(const P& p, std::function<void(HistoryStore&)> work);
  // The legs of `lists` from AccountHistory, plus (with a store) PostgreSQL.
  HistoryResult<std::vector<OrderRecord>> Legs(HistoryStore* store, uint64_t account,
                                               const std::vector<OrderListRecord>& lists);
  void AnswerLists(const P& p, uint64_t account, const std::vector<OrderListRecord>& lists,
                   const std::vector<OrderRecord>& legs, bool array);

  service::CommandClient& client_;
  RequestAuthenticator& auth_;
  RateLimiter& limiter_;
  AccountHistory& history_;
  SymbolLookup symbols_;
  SymbolById symbol_by_id_;
  AssetList assets_;
  Clock clock_;
  TradingOptions options_;
  std::atomic<uint64_t> msg_counter_{0};
  obs::WarnThrottle warn_{"trading"};

  std::mutex timer_mu_;
  std::condition_variable timer_cv_;
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> timers_;
  bool stopping_ = false;
  std::thread timer_;
};

// --- plumbing -------------------------------------------------------------------------------

void TradingApi::Impl::Serve(http::Request&& req, http::Responder responder,
                             auth::SecurityType security, Endpoint endpoint) {
  auto p = std::make_shared<Pending>();
  p->responder = std::move(responder);
  p->request_id = std::string(req.request_id());
  auto params = Params::FromRequest(req);
  if (!params) {
    Fail(p, params.error());
    return;
  }
  auto caller = auth_.Authenticate(req, *params, security);
  if (!caller) {
    Fail(p, caller.error());
    return;
  }
  p->account = static_cast<uint64_t>(caller->account);
  p->responder.NoteAccount(static_cast<uint64_t>(caller->account));
  (this->*endpoint)(*params, *caller, p);
}

bool TradingApi::Impl::Finish(const P& p, Response response) {
  http::Responder responder;
  std::vector<uint64_t> tickets;
  {
    std::lock_guard lock(p->mu);
    if (p->done) {
      return false;
    }
    p->done = true;
    responder = std::move(p->responder);
    tickets.swap(p->tickets);
    response.headers.insert(response.headers.end(), p->headers.begin(), p->headers.end());
  }
  for (uint64_t t : tickets) {
    client_.Forget(t);
  }
  responder.Send(std::move(response));
  return true;
}

void TradingApi::Impl::Arm(const P& p) {
  {
    std::lock_guard lock(p->mu);
    if (p->armed || p->done) {
      return;
    }
    p->armed = true;
  }
  std::weak_ptr<Impl> weak = weak_from_this();
  After(options_.order_timeout_ms, [weak, p] {
    auto self = weak.lock();
    if (self == nullptr || !self->Finish(p, Response::FromError(http::errors::BackendTimeout()))) {
      return;
    }
    obs::Metrics().EngineTimeout();
    std::string command_id;
    {
      std::lock_guard lock(p->mu);
      command_id = p->command_id;
    }
    self->warn_.Warn(
        "the engine did not answer in time: answered -1007 (outcome unknown)",
        service::LogFields{
            .request_id = p->request_id, .account_id = p->account, .command_id = command_id});
  });
}

void TradingApi::Impl::AddTicket(const P& p, uint64_t ticket) {
  bool forget = false;
  {
    std::lock_guard lock(p->mu);
    if (p->done) {
      forget = true;
    } else {
      p->tickets.push_back(ticket);
    }
  }
  if (forget) {
    client_.Forget(ticket);
  }
}

void TradingApi::Impl::After(int64_t ms, std::function<void()> fn) {
  {
    std::lock_guard lock(timer_mu_);
    if (stopping_) {
      return;
    }
    timers_.emplace(std::chrono::steady_clock::now() + std::chrono::milliseconds(ms),
                    std::move(fn));
  }
  timer_cv_.notify_one();
}

void TradingApi::Impl::TimerLoop() {
  std::unique_lock lock(timer_mu_);
  while (!stopping_) {
    if (timers_.empty()) {
      timer_cv_.wait(lock);
      continue;
    }
    auto first = timers_.begin();
    if (first->first > std::chrono::steady_clock::now()) {
      timer_cv_.wait_until(lock, first->first);
      continue;
    }
    auto fn = std::move(first->second);
    timers_.erase(first);
    lock.unlock();
    fn();
    lock.lock();
  }
  timers_.clear();
}

void TradingApi::Impl::Query(const P& p, std::string request,
                             std::function<void(std::string_view)> on_answer) {
  Arm(p);
  std::weak_ptr<Impl> weak = weak_from_this();
  const auto sent = std::chrono::steady_clock::now();
  auto ticket = client_.QueryAsync(
      request, [weak, p, sent, on_answer = std::move(on_answer)](std::span<const std::byte> bytes) {
        obs::Metrics().EngineRoundTrip(
            obs::EngineCall::kQuery,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count());
        auto self = weak.lock();
        if (!self || p->is_done()) {
          return;
        }
        on_answer(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
      });
  if (!ticket) {
    Fail(p, http::errors::Unknown());
    return;
  }
  AddTicket(p, *ticket);
}

void TradingApi::Impl::Command(const P& p, const engine::CommandBody& body,
                               std::function<void(const proto::Envelope&)> on_envelope) {
  Arm(p);
  auto st = std::make_shared<CommandState>();
  st->p = p;
  st->bytes = proto::EncodeCommand(engine::Command{0, 0, body});
  st->msg_id = NewMsgId();
  st->on_envelope = std::move(on_envelope);
  {
    std::lock_guard lock(p->mu);
    p->command_id = st->msg_id;
    if (!p->done) {
      p->responder.NoteCommand(st->msg_id);
    }
  }
  Publish(st, 0);
}

void TradingApi::Impl::Publish(const std::shared_ptr<CommandState>& st, int attempt) {
  if (st->answered.load() || st->p->is_done()) {
    return;
  }
  std::weak_ptr<Impl> weak = weak_from_this();
  const auto publish_start = std::chrono::steady_clock::now();
  if (attempt == 0) {
    st->first_publish = publish_start;
  }
  auto ticket = client_.SubmitTracked(st->bytes, st->msg_id, [weak, st](auto bytes) {
    auto self = weak.lock();
    if (!self || st->answered.exchange(true)) {
      return;
    }
    obs::Metrics().EngineRoundTrip(
        obs::EngineCall::kCommand,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - st->first_publish)
            .count());
    auto env = proto::Envelope::Parse(bytes);
    if (!env) {
      // The engine answered something unreadable: whether the command ran is unknown.
      self->Fail(st->p, http::errors::BackendTimeout());
      return;
    }
    // Recorded before answering, so that a query right after this answer sees it.
    self->history_.Apply(*env);
    if (!st->p->is_done()) {
      st->on_envelope(*env);
    }
  });
  // Not acknowledged, or no answer yet: publish again with the same msg id (de-duplicated by
  // the stream, so the engine runs the command at most once).
  obs::Metrics().NatsPublish(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - publish_start).count());
  if (!ticket) {
    warn_.Warn("command not published (retrying): " + ticket.error().message,
               service::LogFields{.request_id = st->p->request_id,
                                  .account_id = st->p->account,
                                  .command_id = st->msg_id});
  }
  const int64_t retry_ms =
      ticket ? std::max<int64_t>(100, options_.order_timeout_ms / 3) : int64_t{100};
  if (ticket) {
    AddTicket(st->p, *ticket);
  }
  if (attempt < 20 && (attempt < 2 || !ticket)) {
    After(retry_ms, [weak, st, attempt] {
      if (auto self = weak.lock()) {
        self->Publish(st, attempt + 1);
      }
    });
  }
}

std::expected<SymbolRecord, Error> TradingApi::Impl::ReadSymbol(Params& p) {
  auto name = p.GetString("symbol");
  if (!name) {
    return std::unexpected(name.error());
  }
  auto rec = symbols_(*name);
  if (!rec) {
    return std::unexpected(InvalidSymbol());
  }
  return *rec;
}

void TradingApi::Impl::OpenOrders(const P& p, uint64_t account, std::optional<std::string> symbol,
                                  std::function<void(std::vector<OrderRecord>)> then) {
  std::string q = "open_orders " + std::to_string(account);
  if (symbol) {
    q += " " + *symbol;
  }
  Query(p, std::move(q), [this, p, then = std::move(then)](std::string_view json) {
    auto orders = ParseEngineOrders(json, NameLookup());
    if (!orders) {
      Fail(p, http::errors::Unknown());
      return;
    }
    for (const auto& o : *orders) {
      history_.Seed(o);
    }
    then(std::move(*orders));
  });
}

void TradingApi::Impl::OpenOrder(const P& p, uint64_t account, const SymbolRecord& symbol,
                                 int64_t order_id, std::string_view client_id,
                                 std::function<void(std::optional<OrderRecord>)> then) {
  if (order_id == 0 && !ValidClientId(client_id)) {
    then(std::nullopt);  // no order can have that id (and it must not reach the query line)
    return;
  }
  std::string q;
  if (order_id != 0) {
    q = "order " + std::to_string(account) + " " + symbol.info.name + " " +
        std::to_string(order_id);
  } else {
    q = "order_by_client_id " + std::to_string(account) + " " + symbol.info.name + " " +
        std::string(client_id);
  }
  std::string cid(client_id);
  Query(p, std::move(q), [this, p, cid, then = std::move(then)](std::string_view json) {
    if (EngineError(json)) {
      then(std::nullopt);
      return;
    }
    auto orders = ParseEngineOrders(json, NameLookup());
    if (!orders || orders->size() != 1) {
      Fail(p, http::errors::Unknown());
      return;
    }
    OrderRecord o = (*orders)[0];
    if (!cid.empty() && o.client_order_id != cid) {
      then(std::nullopt);
      return;
    }
    history_.Seed(o);
    then(o);
  });
}

void TradingApi::Impl::Register(http::Router& router) {
  using M = http::Method;
  using S = auth::SecurityType;
  auto self = shared_from_this();
  auto add = [&](M method, const char* path, S security, Endpoint endpoint) {
    (void)router.Add(method, path,
                     [self, security, endpoint](http::Request&& req, http::Responder r) {
                       self->Serve(std::move(req), std::move(r), security, endpoint);
                     });
  };
  add(M::kPost, "/api/v3/order", S::kTrade, &Impl::PostOrder);
  add(M::kPost, "/api/v3/order/test", S::kTrade, &Impl::TestOrder);
  add(M::kGet, "/api/v3/order", S::kUserData, &Impl::GetOrder);
  add(M::kDelete, "/api/v3/order", S::kTrade, &Impl::DeleteOrder);
  add(M::kGet, "/api/v3/openOrders", S::kUserData, &Impl::GetOpenOrders);
  add(M::kDelete, "/api/v3/openOrders", S::kTrade, &Impl::DeleteOpenOrders);
  add(M::kPost, "/api/v3/order/cancelReplace", S::kTrade, &Impl::CancelReplace);
  add(M::kPost, "/api/v3/orderList/oco", S::kTrade, &Impl::PostOco);
  add(M::kDelete, "/api/v3/orderList", S::kTrade, &Impl::DeleteOrderList);
  add(M::kGet, "/api/v3/orderList", S::kUserData, &Impl::GetOrderList);
  add(M::kGet, "/api/v3/allOrderList", S::kUserData, &Impl::AllOrderList);
  add(M::kGet, "/api/v3/openOrderList", S::kUserData, &Impl::OpenOrderList);
  add(M::kGet, "/api/v3/account", S::kUserData, &Impl::Account);
  add(M::kGet, "/api/v3/myTrades", S::kUserData, &Impl::MyTrades);
  add(M::kGet, "/api/v3/allOrders", S::kUserData, &Impl::AllOrders);
  add(M::kGet, "/api/v3/myPreventedMatches", S::kUserData, &Impl::MyPreventedMatches);
}

void TradingApi::Impl::OnStore(const P& p, std::function<void(HistoryStore&)> work) {
  HistoryStore* store = options_.history_store;
  Arm(p);
  std::weak_ptr<Impl> weak = weak_from_this();
  const bool queued = store->Submit([weak, p, store, work = std::move(work)] {
    auto self = weak.lock();
    if (!self || p->is_done()) {
      return;
    }
    work(*store);
  });
  if (!queued) {
    Fail(p, http::errors::ServerBusy());
  }
}

HistoryResult<std::vector<OrderRecord>> TradingApi::Impl::Legs(
    HistoryStore* store, uint64_t account, const std::vector<OrderListRecord>& lists) {
  std::vector<OrderRecord> mem;
  std::vector<int64_t> ids;
  std::vector<uint32_t> symbols;
  for (const auto& l : lists) {
    ids.insert(ids.end(), {l.order_ids[0], l.order_ids[1]});
    if (std::find(symbols.begin(), symbols.end(), l.symbol) == symbols.end()) {
      symbols.push_back(l.symbol);
      auto orders = history_.Orders(account, l.symbol);
      mem.insert(mem.end(), orders.begin(), orders.end());
    }
  }
  if (store == nullptr) {
    return mem;
  }
  auto pg = store->OrdersByIds(account, ids);
  if (!pg) {
    return std::unexpected(pg.error());
  }
  return MergeOrders(std::move(*pg), std::move(mem));
}

void TradingApi::Impl::AnswerLists(const P& p, uint64_t account,
                                   const std::vector<OrderListRecord>& lists,
                                   const std::vector<OrderRecord>& legs, bool array) {
  (void)account;
  std::string out = array ? "[" : "";
  for (const auto& l : lists) {
    auto info = InfoById(l.symbol);
    if (!info) {
      continue;
    }
    if (out.size() > 1) {
      out += ',';
    }
    AppendOrderList(out, l, *info, legs);
  }
  if (array) {
    out += ']';
  } else if (out.empty()) {
    return Fail(p, ListDoesNotExist());
  }
  Ok(p, std::move(out));
}

// --- new orders -----------------------------------------------------------------------------

void TradingApi::Impl::PostOrder(Params& p, const Caller& c, const P& done) {
  auto symbol = ReadSymbol(p);
  if (!symbol) {
    return Fail(done, symbol.error());
  }
  auto req = ParseNewOrder(Lookup(p), symbol->info, static_cast<engine::AccountId>(c.account),
                           RandomId(22));
  if (!req) {
    return Fail(done, ToError(req.error()));
  }
  if (auto all = p.CheckAllRead(); !all) {
    return Fail(done, all.error());
  }
  if (auto f = CheckFilters(req->order, *symbol)) {
    return Fail(done, *f);
  }
  LimitVerdict v = limiter_.ChargeOrder(c.account);
  {
    std::lock_guard lock(done->mu);
    done->headers = v.headers;
  }
  if (!v.allowed) {
    return Fail(done, v.error);
  }
  SymbolInfo info = symbol->info;
  NewOrderRequest request = *req;
  Command(done, engine::PlaceOrder{request.order}, [this, done, request, info](const auto& env) {
    if (auto rej = RejectionOf(env)) {
      return Fail(done, ToError(*rej));
    }
    Ok(done, RenderNewOrder(env, request, info, request.resp));
  });
}

void TradingApi::Impl::TestOrder(Params& p, const Caller& c, const P& done) {
  auto symbol = ReadSymbol(p);
  if (!symbol) {
    return Fail(done, symbol.error());
  }
  auto req = ParseNewOrder(Lookup(p), symbol->info, static_cast<engine::AccountId>(c.account),
                           RandomId(22));
  if (!req) {
    return Fail(done, ToError(req.error()));
  }
  auto rates = p.GetOptionalBool("computeCommissionRates");
  if (!rates) {
    return Fail(done, rates.error());
  }
  if (auto all = p.CheckAllRead(); !all) {
    return Fail(done, all.error());
  }
  if (auto f = CheckFilters(req->order, *symbol)) {
    return Fail(done, *f);
  }
  if (!rates->value_or(false)) {
    return Ok(done, "{}");
  }
  FeeRates r = Rates(c.account);
  Ok(done, "{\"standardCommissionForOrder\":{\"maker\":\"" +
               core::FormatDecimal(r.maker_rate_e8, 8) + "\",\"taker\":\"" +
               core::FormatDecimal(r.taker_rate_e8, 8) +
               "\"},\"specialCommissionForOrder\":{\"maker\":\"0.00000000\",\"taker\":"
               "\"0.00000000\"},\"taxCommissionForOrder\":{\"maker\":\"0.00000000\","
               "\"taker\":\"0.00000000\"},\"discount\":{\"enabledForAccount\":false,"
               "\"enabledForSymbol\":false,\"discountAsset\":\"BNB\",\"discount\":"
               "\"0.00000000\"}}");
}

// --- query and cancel -----------------------------------------------------------------------

namespace {

struct OrderRefParams {
  int64_t order_id = 0;
  std::string client_id;
};

std::expected<OrderRefParams, Error> ReadOrderRef(Params& p, std::string_view id_name,
                                                  std::string_view cid_name) {
  OrderRefParams r;
  auto id = p.GetOptionalLong(id_name, http::LongRange{1, INT64_MAX});
  if (!id) {
    return std::unexpected(id.error());
  }
  r.order_id = id->value_or(0);
  if (auto cid = p.GetOptionalString(cid_name)) {
    r.client_id = std::string(*cid);
  }
  if (r.order_id == 0 && r.client_id.empty()) {
    return std::unexpected(EitherParam(cid_name, id_name));
  }
  return r;
}

std::expected<engine::CancelRestriction, Error> ReadRestriction(Params& p,
                                                                std::string_view name) {
  auto text = p.GetOptionalString(name);
  if (!text) {
    return engine::CancelRestriction::kNone;
  }
  if (*text == "ONLY_NEW") {
    return engine::CancelRestriction::kOnlyNew;
  }
  if (*text == "ONLY_PARTIALLY_FILLED") {
    return engine::CancelRestriction::kOnlyPartiallyFilled;
  }
  return std::unexpected(Error{-1145, "Invalid cancelRestrictions", 400});
}

}  // namespace

void TradingApi::Impl::GetOrder(Params& p, const Caller& c, const P& done) {
  auto symbol = ReadSymbol(p);
  if (!symbol) {
    return Fail(done, symbol.error());
  }
  auto ref = ReadOrderRef(p, "orderId", "origClientOrderId");
  if (!ref) {
    return Fail(done, ref.error());
  }
  if (auto all = p.CheckAllRead(); !all) {
    return Fail(done, all.error());
  }
  if (!ref->client_id.empty() && !ValidClientId(ref->client_id)) {
    return Fail(done, OrderDoesNotExist());
  }
  const uint64_t account = c.account;
  const SymbolInfo info = symbol->info;
  const OrderRefParams r = *ref;
  OpenOrder(done, account, *symbol, r.order_id, r.client_id,
            [this, done, account, info, r](std::optional<OrderRecord> open) {
              auto answer = [this, done, info](const std::optional<OrderRecord>& o) {
                if (!o) {
                  return Fail(done, OrderDoesNotExist());
                }
                std::string out;
                AppendOrder(out, *o, info);
                Ok(done, std::move(out));
              };
              if (open) {
                return answer(open);  // the engine's live state is the newest
              }
              auto mem = history_.FindOrder(account, info.id, r.order_id, r.client_id);
              if (options_.history_store == nullptr) {
                return answer(mem);
              }
              // No longer open: the recent window in memory, older orders in PostgreSQL.
              OnStore(done, [this, done, account, info, r, mem, answer](HistoryStore& store) {
                auto pg = store.FindOrder(account, info.id, r.order_id, r.client_id);
                if (!pg) {
                  return Fail(done, http::errors::Unknown());
                }
                std::optional<OrderRecord> best = mem;
                if (*pg && (!best || best->order_id < (*pg)->order_id)) {
                  best = **pg;  // by client id: the newest order with that id
                } else if (*pg && best->order_id == (*pg)->order_id) {
                  best = NewerOrder(**pg, *best);
                }
                answer(best);
              });
            });
}

void TradingApi::Impl::DeleteOrder(Params& p, const Caller& c, const P& done) {
  auto symbol = ReadSymbol(p);
  if (!symbol) {
    return Fail(done, symbol.error());
  }
  auto ref = ReadOrderRef(p, "orderId", "origClientOrderId");
  if (!ref) {
    return Fail(done, ref.error());
  }
  std::string cancel_id;
  if (auto v = p.GetOptionalString("newClientOrderId")) {
    cancel_id = std::string(*v);
    if (!ValidClientId(cancel_id)) {
      return Fail(done, http::errors::IllegalCharacters("newClientOrderId",
                                                        "^[\\.A-Z\\:/a-z0-9_-]{1,36}$"));
    }
  } else {
    cancel_id = RandomId(22);
  }
  auto restriction = ReadRestriction(p, "cancelRestrictions");
  if (!restriction) {
    return Fail(done, restriction.error());
  }
  if (auto all = p.CheckAllRead(); !all) {
    return Fail(done, all.error());
  }
  if (!ref->client_id.empty() && !ValidClientId(ref->client_id)) {
    return Fail(done, UnknownOrderSent());
  }
  const uint64_t account = c.account;
  const SymbolInfo info = symbol->info;
  const engine::CancelRestriction how = *restriction;
  // The engine's open order first: its static fields are not in the cancel's events, and an
  // order that is not open (unknown, another account's, already final) is -2011 at once.
  OpenOrder(done, account, *symbol, ref->order_id, ref->client_id,
            [this, done, account, info, how, cancel_id](std::optional<OrderRecord> open) {
              if (!open) {
                return Fail(done, UnknownOrderSent());
              }
              engine::CancelOrder cmd;
              cmd.ref.account = static_cast<engine::AccountId>(account);
              cmd.ref.symbol = info.id;
              cmd.ref.order_id = open->order_id;
              (void)cmd.new_client_order_id.Assign(cancel_id);
              cmd.restriction = how;
              OrderRecord order = *open;
              Command(done, cmd, [this, done, order, info, cancel_id](const auto& env) {
                if (auto rej = RejectionOf(env)) {
                  return Fail(done, ToError(*rej));
                }
                std::string out;
                AppendCanceledOrder(out, Updated(order, env), info, cancel_id,
                                    env.header().time_ms);
                Ok(done, std::move(out));
              });
            });
}

void TradingApi::Impl::GetOpenOrders(Params& p, const Caller& c, const P& done) {
  std::optional<std::string> name;
  if (auto s = p.GetOptionalString("symbol")) {
    if (!symbols_(*s)) {
      return Fail(done, InvalidSymbol());
    }
    name = std::string(*s);
  }
  if (auto all = p.CheckAllRead(); !all) {
    return Fail(done, all.error());
  }
  OpenOrders(done, c.account, name, [this, done](std::vector<OrderRecord> orders) {
    std::string out = "[";
    for (const auto& o : orders) {
      auto info = InfoById(o.symbol);
      if (!info) {
        continue;
      }
      if (out.size() > 1) {
        out += ',';
      }
      AppendOrder(out, o, *info);
    }
    out += ']';
    Ok(done, std::move(out));
  });
}

std::string TradingApi::Impl::RenderListWithReports(const OrderListRecord& list,
                                                    const SymbolInfo& info,
                                                    const std::vector<OrderRecord>& legs,
                                                    bool canceled, int64_t time_ms) {
  std::string out;
  AppendOrderList(out, list, info, legs);
  out.pop_back();  // reopen the object to add orderReports
  out += ",\"orderReports\":[";
  bool first = true;
  for (int i = 0; i < 2; ++i) {
    for (const auto& leg : legs) {
      if (leg.order_id != list.order_ids[i]) {
        continue;
      }
      if (!first) {
        out += ',';
      }
      first = false;
      if (canceled) {
        AppendCanceledOrder(out, leg, info, RandomId(22), time_ms);
      } else {
        AppendOrderReport(out, leg, info, time_ms);
      }
    }
  }
  out += "]}";
  return out;
}

void TradingApi::Impl::DeleteOpenOrders(Params& p, const Caller& c, const P& done) {
  auto symbol = ReadSymbol(p);
  if (!symbol) {
    return Fail(done, symbol.error());
  }
  if (auto all = p.CheckAllRead(); !all) {
    return Fail(done, all.error());
  }
  const uint64_t account = c.account;
  const SymbolInfo info = symbol->info;
  OpenOrders(done, account, info.name, [this, done, account, info](std::vector<OrderRecord> open) {
    if (open.empty()) {
      return Fail(done, UnknownOrderSent());
    }
    Command(done, engine::CancelAll{static_cast<engine::AccountId>(account), info.id},
            [this, done, account, info, open](const auto& env) {
              if (auto rej = RejectionOf(env)) {
                return Fail(done, ToError(*rej));
              }
              const int64_t t = env.header().time_ms;
              std::string out = "[";
              std::vector<int64_t> lists_done;
              for (const auto& o : open) {
                if (out.size() > 1) {
                  out += ',';
                }
                if (o.order_list_id < 0) {
                  AppendCanceledOrder(out, Updated(o, env), info, RandomId(22), t);
                  continue;
                }
                if (std::find(lists_done.begin(), lists_done.end(), o.order_list_id) !=
                    lists_done.end()) {
                  out.pop_back();
                  continue;
                }
                lists_done.push_back(o.order_list_id);
                OrderListRecord list;
                if (auto known = history_.FindList(account, o.order_list_id, {})) {
                  list = *known;
                } else {
                  list.order_list_id = o.order_list_id;
                  list.account = account;
                  list.symbol = info.id;
                  int n = 0;
                  for (const auto& leg : open) {
                    if (leg.order_list_id == o.order_list_id && n < 2) {
                      list.order_ids[n++] = leg.order_id;
                    }
                  }
                }
                list.status = engine::ListStatus::kAllDone;
                list.update_ms = t;
                std::vector<OrderRecord> legs;
                for (const auto& leg : open) {
                  if (leg.order_list_id == o.order_list_id) {
                    legs.push_back(Updated(leg, env));
                  }
                }
                out += RenderListWithReports(list, info, legs, true, t);
              }
              out += ']';
              Ok(done, std::move(out));
            });
  });
}

// --- cancelReplace --------------------------------------------------------------------------

void TradingApi::Impl::CancelReplace(Params& p, const Caller& c, const P& done) {
  auto symbol = ReadSymbol(p);
  if (!symbol) {
    return Fail(done, symbol.error());
  }
  static constexpr http::EnumName<engine::CancelReplaceMode> kModes[] = {
      {"STOP_ON_FAILURE", engine::CancelReplaceMode::kStopOnFailure},
      {"ALLOW_FAILURE", engine::CancelReplaceMode::kAllowFailure}};
  auto mode = p.GetEnum<engine::CancelReplaceMode>("cancelReplaceMode", kModes);
  if (!mode) {
    return Fail(done, mode.error());
  }
  auto ref = ReadOrderRef(p, "cancelOrderId", "cancelOrigClientOrderId");
  if (!ref) {
    return Fail(done, ref.error());
  }
  std::string cancel_id = RandomId(22);
  if (auto v = p.GetOptionalString("cancelNewClientOrderId")) {
    cancel_id = std::string(*v);
    if (!ValidClientId(cancel_id)) {
      return Fail(done, http::errors::IllegalCharacters("cancelNewClientOrderId",
                                                        "^[\\.A-Z\\:/a-z0-9_-]{1,36}$"));
    }
  }
  auto restriction = ReadRestriction(p, "cancelRestrictions");
  if (!restriction) {
    return Fail(done, restriction.error());
  }
  // Only DO_NOTHING is implemented: a refused order count fails the whole request.
  static constexpr http::EnumName<int> kRateModes[] = {{"DO_NOTHING", 0}};
  if (auto rm = p.GetOptionalEnum<int>("orderRateLimitExceededMode", kRateModes); !rm) {
    return Fail(done, rm.error());
  }
  auto req = ParseNewOrder(Lookup(p), symbol->info, static_cast<engine::AccountId>(c.account),
                           RandomId(22));
  if (!req) {
    return Fail(done, ToError(req.error()));
  }
  if (auto all = p.CheckAllRead(); !all) {
    return Fail(done, all.error());
  }
  if (auto f = CheckFilters(req->order, *symbol)) {
    return Fail(done, *f);
  }
  LimitVerdict v = limiter_.ChargeOrder(c.account);
  {
    std::lock_guard lock(done->mu);
    done->headers = v.headers;
  }
  if (!v.allowed) {
    return Fail(done, v.error);
  }
  engine::CancelReplace cmd;
  cmd.cancel.ref.account = static_cast<engine::AccountId>(c.account);
  cmd.cancel.ref.symbol = symbol->info.id;
  cmd.cancel.ref.order_id = ref->order_id;
  if (!ref->client_id.empty() && !cmd.cancel.ref.orig_client_order_id.Assign(ref->client_id)) {
    cmd.cancel.ref.order_id = -1;  // an id no order has: the engine answers -2011
  }
  (void)cmd.cancel.new_client_order_id.Assign(cancel_id);
  cmd.cancel.restriction = *restriction;
  cmd.order = req->order;
  cmd.mode = *mode;
  const SymbolInfo info = symbol->info;
  const NewOrderRequest request = *req;
  const bool allow_failure = *mode == engine::CancelReplaceMode::kAllowFailure;
  OpenOrder(done, c.account, *symbol, ref->order_id, ref->client_id,
            [this, done, cmd, info, request, cancel_id,
             allow_failure](std::optional<OrderRecord> old) {
              Command(done, cmd, [this, done, old, info, request, cancel_id,
                                  allow_failure](const proto::Envelope& env) {
                const auto& h = env.header();
                if (h.code != engine::RejectCode::kNone &&
                    h.cancel_code == engine::RejectCode::kNone &&
                    h.new_order_code == engine::RejectCode::kNone) {
                  return Fail(done, RejectionError(h.code));  // refused before either part
                }
                const bool cancel_ok = h.cancel_code == engine::RejectCode::kNone;
                const bool attempted = cancel_ok || allow_failure;
                const bool new_ok = attempted && h.new_order_code == engine::RejectCode::kNone;
                std::string data = "{\"cancelResult\":\"";
                data += cancel_ok ? "SUCCESS" : "FAILURE";
                data += "\",\"newOrderResult\":\"";
                data += new_ok ? "SUCCESS" : (attempted ? "FAILURE" : "NOT_ATTEMPTED");
                data += "\",\"cancelResponse\":";
                if (cancel_ok && old) {
                  AppendCanceledOrder(data, Updated(*old, env), info, cancel_id, h.time_ms);
                } else if (cancel_ok) {
                  data += "{\"symbol\":";
                  http::AppendJsonString(data, info.name);
                  data += ",\"clientOrderId\":";
                  http::AppendJsonString(data, cancel_id);
                  data += '}';
                } else {
                  data += ErrorObject(RejectionError(h.cancel_code));
                }
                data += ",\"newOrderResponse\":";
                if (new_ok) {
                  data += RenderNewOrder(env, request, info, request.resp);
                } else if (attempted) {
                  data += ErrorObject(RejectionError(h.new_order_code));
                } else {
                  data += "null";
                }
                data += '}';
                if (cancel_ok && new_ok) {
                  return Ok(done, std::move(data));
                }
                const bool both_failed = !cancel_ok && !new_ok;
                std::string body = both_failed
                                       ? "{\"code\":-2022,\"msg\":\"Order cancel-replace failed.\""
                                       : "{\"code\":-2021,\"msg\":\"Order cancel-replace "
                                         "partially failed.\"";
                body += ",\"data\":" + data + "}";
                Finish(done, Response::Json(both_failed ? 400 : 409, std::move(body)));
              });
            });
}

// --- order lists ----------------------------------------------------------------------------

namespace {

// One OCO leg from the above*/below* parameters.
std::expected<engine::OcoLeg, Error> ReadLeg(Params& p, const std::string& prefix,
                                             const SymbolInfo& s) {
  engine::OcoLeg leg;
  static constexpr http::EnumName<engine::OrderType> kTypes[] = {
      {"STOP_LOSS_LIMIT", engine::OrderType::kStopLossLimit},
      {"STOP_LOSS", engine::OrderType::kStopLoss},
      {"LIMIT_MAKER", engine::OrderType::kLimitMaker},
      {"TAKE_PROFIT", engine::OrderType::kTakeProfit},
      {"TAKE_PROFIT_LIMIT", engine::OrderType::kTakeProfitLimit}};
  auto type = p.GetEnum<engine::OrderType>(prefix + "Type", kTypes,
                                           Error{-1116, "Invalid orderType.", 400});
  if (!type) {
    return std::unexpected(type.error());
  }
  leg.type = *type;
  auto price = p.GetOptionalDecimal(prefix + "Price", s.quote_scale);
  if (!price) {
    return std::unexpected(price.error());
  }
  leg.price = engine::Price{price->value_or(0)};
  auto stop = p.GetOptionalDecimal(prefix + "StopPrice", s.quote_scale);
  if (!stop) {
    return std::unexpected(stop.error());
  }
  leg.stop_price = engine::Price{stop->value_or(0)};
  auto iceberg = p.GetOptionalDecimal(prefix + "IcebergQty", s.base_scale);
  if (!iceberg) {
    return std::unexpected(iceberg.error());
  }
  leg.iceberg_qty = engine::Qty{iceberg->value_or(0)};
  static constexpr http::EnumName<engine::TimeInForce> kTifs[] = {
      {"GTC", engine::TimeInForce::kGtc},
      {"IOC", engine::TimeInForce::kIoc},
      {"FOK", engine::TimeInForce::kFok}};
  auto tif = p.GetOptionalEnum<engine::TimeInForce>(prefix + "TimeInForce", kTifs,
                                                    Error{-1115, "Invalid timeInForce.", 400});
  if (!tif) {
    return std::unexpected(tif.error());
  }
  leg.tif = tif->value_or(engine::TimeInForce::kNone);
  std::string cid = RandomId(22);
  if (auto v = p.GetOptionalString(prefix + "ClientOrderId")) {
    cid = std::string(*v);
  }
  if (!leg.client_order_id.Assign(cid)) {
    return std::unexpected(http::errors::IllegalCharacters(prefix + "ClientOrderId",
                                                           "^[\\.A-Z\\:/a-z0-9_-]{1,36}$"));
  }
  for (const char* unsupported : {"TrailingDelta", "StrategyId", "StrategyType", "PegPriceType",
                                  "PegOffsetType", "PegOffsetValue"}) {
    if (p.Has(prefix + unsupported)) {
      return std::unexpected(Error{-1106,
                                   "Parameter '" + prefix + unsupported +
                                       "' sent when not required.",
                                   400});
    }
  }
  return leg;
}

}  // namespace

void TradingApi::Impl::PostOco(Params& p, const Caller& c, const P& done) {
  auto symbol = ReadSymbol(p);
  if (!symbol) {
    return Fail(done, symbol.error());
  }
  const SymbolInfo info = symbol->info;
  engine::PlaceOco cmd;
  cmd.account = static_cast<engine::AccountId>(c.account);
  cmd.symbol = info.id;
  static constexpr http::EnumName<engine::Side> kSides[] = {{"BUY", engine::Side::kBuy},
                                                            {"SELL", engine::Side::kSell}};
  auto side = p.GetEnum<engine::Side>("side", kSides, Error{-1117, "Invalid side.", 400});
  if (!side) {
    return Fail(done, side.error());
  }
  cmd.side = *side;
  auto qty = p.GetDecimal("quantity", info.base_scale);
  if (!qty) {
    return Fail(done, qty.error());
  }
  cmd.qty = engine::Qty{*qty};
  std::string list_cid = RandomId(22);
  if (auto v = p.GetOptionalString("listClientOrderId")) {
    list_cid = std::string(*v);
  }
  if (!cmd.list_client_order_id.Assign(list_cid)) {
    return Fail(done, http::errors::IllegalCharacters("listClientOrderId",
                                                      "^[\\.A-Z\\:/a-z0-9_-]{1,36}$"));
  }
  auto above = ReadLeg(p, "above", info);
  if (!above) {
    return Fail(done, above.error());
  }
  auto below = ReadLeg(p, "below", info);
  if (!below) {
    return Fail(done, below.error());
  }
  cmd.above = *above;
  cmd.below = *below;
  static constexpr http::EnumName<engine::StpMode> kStp[] = {
      {"NONE", engine::StpMode::kNone},
      {"EXPIRE_TAKER", engine::StpMode::kExpireTaker},
      {"EXPIRE_MAKER", engine::StpMode::kExpireMaker},
      {"EXPIRE_BOTH", engine::StpMode::kExpireBoth}};
  auto stp = p.GetOptionalEnum<engine::StpMode>("selfTradePreventionMode", kStp);
  if (!stp) {
    return Fail(done, stp.error());
  }
  cmd.stp = stp->value_or(engine::StpMode::kDefault);
  // The order reports are always complete; the response type changes nothing else here.
  static constexpr http::EnumName<int> kResp[] = {{"ACK", 0}, {"RESULT", 1}, {"FULL", 2}};
  if (auto rt = p.GetOptionalEnum<int>("newOrderRespType", kResp); !rt) {
    return Fail(done, rt.error());
  }
  if (auto all = p.CheckAllRead(); !all) {
    return Fail(done, all.error());
  }
  for (const engine::OcoLeg* leg : {&cmd.above, &cmd.below}) {
    engine::NewOrder o;
    o.type = leg->type;
    o.price = leg->price;
    o.stop_price = leg->stop_price;
    o.qty = cmd.qty;
    o.tif = leg->tif;
    o.iceberg_qty = leg->iceberg_qty;
    if (auto f = CheckFilters(o, *symbol)) {
      return Fail(done, *f);
    }
  }
  // An OCO counts as two orders, as on Binance.
  LimitVerdict v = limiter_.ChargeOrder(c.account);
  if (v.allowed) {
    v = limiter_.ChargeOrder(c.account);
  }
  {
    std::lock_guard lock(done->mu);
    done->headers = v.headers;
  }
  if (!v.allowed) {
    return Fail(done, v.error);
  }
  Command(done, cmd, [this, done, info](const proto::Envelope& env) {
    if (auto rej = RejectionOf(env)) {
      return Fail(done, ToError(*rej));
    }
    auto list = ListIn(env);
    if (!list) {
      return Fail(done, http::errors::Unknown());
    }
    Ok(done, RenderListWithReports(*list, info, AcceptedIn(env), false, env.header().time_ms));
  });
}

void TradingApi::Impl::DeleteOrderList(Params& p, const Caller& c, const P& done) {
  auto symbol = ReadSymbol(p);
  if (!symbol) {
    return Fail(done, symbol.error());
  }
  auto ref = ReadOrderRef(p, "orderListId", "listClientOrderId");
  if (!ref) {
    return Fail(done, ref.error());
  }
  if (auto v = p.GetOptionalString("newClientOrderId"); v && !ValidClientId(*v)) {
    return Fail(done, http::errors::IllegalCharacters("newClientOrderId",
                                                      "^[\\.A-Z\\:/a-z0-9_-]{1,36}$"));
  }
  if (auto all = p.CheckAllRead(); !all) {
    return Fail(done, all.error());
  }
  engine::CancelOrderList cmd;
  cmd.account = static_cast<engine::AccountId>(c.account);
  cmd.symbol = symbol->info.id;
  cmd.order_list_id = ref->order_id;
  if (!ref->client_id.empty() && !cmd.list_client_order_id.Assign(ref->client_id)) {
    return Fail(done, Error{-2011, "Order list does not exist.", 400});
  }
  const uint64_t account = c.account;
  const SymbolInfo info = symbol->info;
  // The legs' static fields come from the engine's open orders.
  OpenOrders(done, account, info.name,
             [this, done, account, info, cmd](std::vector<OrderRecord> open) {
               Command(done, cmd, [this, done, account, info, open](const proto::Envelope& env) {
                 if (auto rej = RejectionOf(env)) {
                   return Fail(done, ToError(*rej));
                 }
                 auto list = ListIn(env);
                 if (!list) {
                   return Fail(done, http::errors::Unknown());
                 }
                 if (auto known = history_.FindList(account, list->order_list_id, {})) {
                   list->list_client_order_id = known->list_client_order_id;
                   list->time_ms = known->time_ms;
                 }
                 std::vector<OrderRecord> legs;
                 for (const auto& o : open) {
                   if (o.order_list_id == list->order_list_id) {
                     legs.push_back(Updated(o, env));
                   }
                 }
                 Ok(done,
                    RenderListWithReports(*list, info, legs, true, env.header().time_ms));
               });
             });
}

void TradingApi::Impl::GetOrderList(Params& p, const Caller& c, const P& done) {
  auto ref = ReadOrderRef(p, "orderListId", "origClientOrderId");
  if (!ref) {
    return Fail(done, ref.error());
  }
  if (auto all = p.CheckAllRead(); !all) {
    return Fail(done, all.error());
  }
  const uint64_t account = c.account;
  const OrderRefParams r = *ref;
  auto mem = history_.FindList(account, r.order_id, r.client_id);
  if (options_.history_store == nullptr) {
    if (!mem) {
      return Fail(done, ListDoesNotExist());
    }
    auto legs = Legs(nullptr, account, {*mem});
    return AnswerLists(done, account, {*mem}, *legs, false);
  }
  OnStore(done, [this, done, account, r, mem](HistoryStore& store) {
    auto pg = store.FindList(account, r.order_id, r.client_id);
    if (!pg) {
      return Fail(done, http::errors::Unknown());
    }
    std::vector<OrderListRecord> lists;
    if (mem) {
      lists.push_back(*mem);
    }
    if (*pg) {
      lists = MergeLists({**pg}, std::move(lists));
    }
    if (lists.empty()) {
      return Fail(done, ListDoesNotExist());
    }
    lists.erase(lists.begin(), lists.end() - 1);  // by client id: the newest list
    auto legs = Legs(&store, account, lists);
    if (!legs) {
      return Fail(done, http::errors::Unknown());
    }
    AnswerLists(done, account, lists, *legs, false);
  });
}

void TradingApi::Impl::AllOrderList(Params& p, const Caller& c, const P& done) {
  if (auto empty = EmptyParam(p, {"fromId", "startTime", "endTime", "limit"})) {
    return Fail(done, *empty);
  }
  auto from = p.GetOptionalLong("fromId");
  if (!from) {
    return Fail(done, from.error());
  }
  auto window = ReadWindow(p);
  if (!window) {
    return Fail(done, window.error());
  }
  auto limit = p.GetOptionalLong("limit", http::LongRange{1, 1000});
  if (!limit) {
    return Fail(done, limit.error());
  }
  if (auto all = p.CheckAllRead(); !all) {
    return Fail(done, all.error());
  }
  if (*from && (window->start || window->end)) {
    return Fail(done, BadCombination());
  }
  const uint64_t account = c.account;
  const Window w = *window;
  const std::optional<int64_t> from_id = *from;
  const size_t n = static_cast<size_t>(limit->value_or(500));
  auto select = [w, from_id, n](std::vector<OrderListRecord> lists) {
    return Select(
        std::move(lists), w, from_id, n, [](const OrderListRecord& l) { return l.time_ms; },
        [](const OrderListRecord& l) { return l.order_list_id; });
  };
  if (options_.history_store == nullptr) {
    auto lists = select(history_.Lists(account));
    auto legs = Legs(nullptr, account, lists);
    return AnswerLists(done, account, lists, *legs, true);
  }
  OnStore(done, [this, done, account, w, from_id, n, select](HistoryStore& store) {
    auto pg = store.Lists(account, HistoryPage{from_id, w.start, w.end, n});
    if (!pg) {
      return Fail(done, http::errors::Unknown());
    }
    auto lists = select(MergeLists(std::move(*pg), history_.Lists(account)));
    auto legs = Legs(&store, account, lists);
    if (!legs) {
      return Fail(done, http::errors::Unknown());
    }
    AnswerLists(done, account, lists, *legs, true);
  });
}

void TradingApi::Impl::OpenOrderList(Params& p, const Caller& c, const P& done) {
  if (auto all = p.CheckAllRead(); !all) {
    return Fail(done, all.error());
  }
  std::string out = "[";
  for (const auto& l : history_.Lists(c.account)) {
    auto info = InfoById(l.symbol);
    if (l.status != engine::ListStatus::kExecuting || !info) {
      continue;
    }
    if (out.size() > 1) {
      out += ',';
    }
    AppendOrderList(out, l, *info, history_.Orders(c.account, l.symbol));
  }
  out += ']';
  Ok(done, std::move(out));
}

// --- account and history --------------------------------------------------------------------

void TradingApi::Impl::Account(Params& p, const Caller& c, const P& done) {
  auto omit = p.GetOptionalBool("omitZeroBalances");
  if (!omit) {
    return Fail(done, omit.error());
  }
  if (auto all = p.CheckAllRead(); !all) {
    return Fail(done, all.error());
  }
  const bool omit_zero = omit->value_or(false);
  const Caller caller = c;
  Query(done, "balances " + std::to_string(c.account),
        [this, done, caller, omit_zero](std::string_view json) {
          auto parsed = ParseEngineBalances(json);
          if (!parsed) {
            return Fail(done, http::errors::Unknown());
          }
          // An account the engine has not seen yet simply holds nothing.
          std::vector<BalanceText> engine_balances = parsed->value_or(std::vector<BalanceText>{});
          std::vector<BalanceText> balances;
          for (const auto& a : assets_()) {
            BalanceText b{a.name, core::FormatDecimal(0, a.scale),
                          core::FormatDecimal(0, a.scale)};
            for (const auto& e : engine_balances) {
              if (e.asset == a.name) {
                b = e;
              }
            }
            balances.push_back(std::move(b));
          }
          for (const auto& e : engine_balances) {
            bool listed = false;
            for (const auto& b : balances) {
              listed = listed || b.asset == e.asset;
            }
            if (!listed) {
              balances.push_back(e);
            }
          }
          const FeeRates r = Rates(caller.account);
          const bool can_trade = (caller.permissions & 2u) != 0;  // db::kPermissionTrade
          std::string out = "{\"makerCommission\":" + std::to_string(r.maker_rate_e8 / 10000) +
                            ",\"takerCommission\":" + std::to_string(r.taker_rate_e8 / 10000) +
                            ",\"buyerCommission\":0,\"sellerCommission\":0,\"commissionRates\":"
                            "{\"maker\":\"" +
                            core::FormatDecimal(r.maker_rate_e8, 8) + "\",\"taker\":\"" +
                            core::FormatDecimal(r.taker_rate_e8, 8) +
                            "\",\"buyer\":\"0.00000000\",\"seller\":\"0.00000000\"},"
                            "\"canTrade\":";
          out += can_trade ? "true" : "false";
          out += ",\"canWithdraw\":true,\"canDeposit\":true,\"brokered\":false,"
                 "\"requireSelfTradePrevention\":false,\"preventSor\":false,\"updateTime\":" +
                 std::to_string(clock_()) + ",\"accountType\":\"SPOT\",\"balances\":[";
          bool first = true;
          for (const auto& b : balances) {
            auto zero = [](const std::string& d) {
              return d.find_first_not_of("0.") == std::string::npos;
            };
            if (omit_zero && zero(b.free) && zero(b.locked)) {
              continue;
            }
            if (!first) {
              out += ',';
            }
            first = false;
            out += "{\"asset\":";
            http::AppendJsonString(out, b.asset);
            out += ",\"free\":\"" + b.free + "\",\"locked\":\"" + b.locked + "\"}";
          }
          out += "],\"permissions\":[\"SPOT\"],\"uid\":" + std::to_string(caller.account) + "}";
          Ok(done, std::move(out));
        });
}

void TradingApi::Impl::MyTrades(Params& p, const Caller& c, const P& done) {
  if (auto empty = EmptyParam(p, {"orderId", "fromId", "startTime", "endTime", "limit"})) {
    return Fail(done, *empty);
  }
  auto symbol = ReadSymbol(p);
  if (!symbol) {
    return Fail(done, symbol.error());
  }
  auto order_id = p.GetOptionalLong("orderId");
  if (!order_id) {
    return Fail(done, order_id.error());
  }
  auto window = ReadWindow(p);
  if (!window) {
    return Fail(done, window.error());
  }
  auto from = p.GetOptionalLong("fromId");
  if (!from) {
    return Fail(done, from.error());
  }
  auto limit = p.GetOptionalLong("limit", http::LongRange{1, 1000});
  if (!limit) {
    return Fail(done, limit.error());
  }
  if (auto all = p.CheckAllRead(); !all) {
    return Fail(done, all.error());
  }
  // Binance's accepted combinations: symbol [+orderId [+fromId]] | [+startTime] [+endTime] |
  // +fromId.
  if ((*from && (window->start || window->end)) ||
      (*order_id && (window->start || window->end))) {
    return Fail(done, BadCombination());
  }
  // myTrades never spans more than 24 hours: one bound alone implies the other.
  Window w = *window;
  if (w.start && !w.end) {
    w.end = *w.start + kDayMs;
  } else if (w.end && !w.start) {
    w.start = std::max<int64_t>(0, *w.end - kDayMs);
  }
  const uint64_t account = c.account;
  const SymbolInfo info = symbol->info;
  const std::optional<int64_t> oid = *order_id, from_id = *from;
  const size_t n = static_cast<size_t>(limit->value_or(500));
  auto answer = [this, done, info, w, oid, from_id, n](std::vector<TradeRecord> trades) {
    if (oid) {
      std::erase_if(trades, [&](const TradeRecord& t) { return t.order_id != *oid; });
    }
    trades = Select(
        std::move(trades), w, from_id, n, [](const TradeRecord& t) { return t.time_ms; },
        [](const TradeRecord& t) { return t.id; });
    std::string out = "[";
    for (const auto& t : trades) {
      if (out.size() > 1) {
        out += ',';
      }
      AppendTrade(out, t, info);
    }
    out += ']';
    Ok(done, std::move(out));
  };
  if (options_.history_store == nullptr) {
    return answer(history_.Trades(account, info.id));
  }
  OnStore(done, [this, done, account, info, w, oid, from_id, n, answer](HistoryStore& store) {
    // Selection below uses the page in ascending order from a start point, else from the end:
    // with a start the oldest of both sources, else the newest, so the union's selection is
    // exact (each source returns at least the `n` the union keeps from it).
    HistoryPage page{from_id, w.start, w.end, n};
    auto pg = store.Trades(account, info.id, oid, page);
    if (!pg) {
      return Fail(done, http::errors::Unknown());
    }
    answer(MergeTrades(std::move(*pg), history_.Trades(account, info.id)));
  });
}

void TradingApi::Impl::AllOrders(Params& p, const Caller& c, const P& done) {
  if (auto empty = EmptyParam(p, {"orderId", "startTime", "endTime", "limit"})) {
    return Fail(done, *empty);
  }
  auto symbol = ReadSymbol(p);
  if (!symbol) {
    return Fail(done, symbol.error());
  }
  auto order_id = p.GetOptionalLong("orderId");
  if (!order_id) {
    return Fail(done, order_id.error());
  }
  auto window = ReadWindow(p);
  if (!window) {
    return Fail(done, window.error());
  }
  auto limit = p.GetOptionalLong("limit", http::LongRange{1, 1000});
  if (!limit) {
    return Fail(done, limit.error());
  }
  if (auto all = p.CheckAllRead(); !all) {
    return Fail(done, all.error());
  }
  const uint64_t account = c.account;
  const SymbolInfo info = symbol->info;
  const Window w = *window;
  const std::optional<int64_t> from = *order_id;
  const size_t n = static_cast<size_t>(limit->value_or(500));
  auto answer = [this, done, info, w, from, n](std::vector<OrderRecord> orders) {
    orders = Select(
        std::move(orders), w, from, n, [](const OrderRecord& o) { return o.time_ms; },
        [](const OrderRecord& o) { return o.order_id; });
    std::string out = "[";
    for (const auto& o : orders) {
      if (out.size() > 1) {
        out += ',';
      }
      AppendOrder(out, o, info);
    }
    out += ']';
    Ok(done, std::move(out));
  };
  // Open orders from the engine (seeded into the history), finished ones from the history
  // (memory, then PostgreSQL), the newest state of each order winning.
  OpenOrders(done, account, info.name,
             [this, done, account, info, w, from, n, answer](std::vector<OrderRecord> open) {
               auto recent = MergeOrders(history_.Orders(account, info.id), std::move(open));
               if (options_.history_store == nullptr) {
                 return answer(std::move(recent));
               }
               OnStore(done, [this, done, account, info, w, from, n, answer,
                              recent = std::move(recent)](HistoryStore& store) mutable {
                 auto pg = store.Orders(account, info.id, HistoryPage{from, w.start, w.end, n});
                 if (!pg) {
                   return Fail(done, http::errors::Unknown());
                 }
                 answer(MergeOrders(std::move(*pg), std::move(recent)));
               });
             });
}

void TradingApi::Impl::MyPreventedMatches(Params& p, const Caller& c, const P& done) {
  if (auto empty = EmptyParam(p, {"preventedMatchId", "orderId", "fromPreventedMatchId", "limit"})) {
    return Fail(done, *empty);
  }
  auto symbol = ReadSymbol(p);
  if (!symbol) {
    return Fail(done, symbol.error());
  }
  auto match_id = p.GetOptionalLong("preventedMatchId");
  if (!match_id) {
    return Fail(done, match_id.error());
  }
  auto order_id = p.GetOptionalLong("orderId");
  if (!order_id) {
    return Fail(done, order_id.error());
  }
  auto from = p.GetOptionalLong("fromPreventedMatchId");
  if (!from) {
    return Fail(done, from.error());
  }
  auto limit = p.GetOptionalLong("limit", http::LongRange{1, 1000});
  if (!limit) {
    return Fail(done, limit.error());
  }
  if (auto all = p.CheckAllRead(); !all) {
    return Fail(done, all.error());
  }
  // Binance's combinations: symbol + preventedMatchId | symbol + orderId
  // [+ fromPreventedMatchId [+ limit]].
  if (!*match_id && !*order_id) {
    return Fail(done, EitherParam("preventedMatchId", "orderId"));
  }
  if ((*match_id && (*order_id || *from || *limit)) || (*from && !*order_id)) {
    return Fail(done, BadCombination());
  }
  const SymbolInfo info = symbol->info;
  if (options_.history_store == nullptr) {
    return Ok(done, "[]");
  }
  const uint64_t account = c.account;
  const auto mid = *match_id, oid = *order_id, fid = *from;
  const size_t n = static_cast<size_t>(limit->value_or(500));
  OnStore(done, [this, done, account, info, mid, oid, fid, n](HistoryStore& store) {
    auto r = store.PreventedMatches(account, info.id, mid, oid, fid, n);
    if (!r) {
      return Fail(done, http::errors::Unknown());
    }
    Ok(done, PreventedMatchesJson(*r, info.name, info.base_scale, info.quote_scale));
  });
}

// --- TradingApi -----------------------------------------------------------------------------

TradingApi::TradingApi(service::CommandClient& client, RequestAuthenticator& auth,
                       RateLimiter& limiter, AccountHistory& history, SymbolLookup symbols,
                       SymbolById symbol_by_id, AssetList assets, Clock clock,
                       TradingOptions options)
    : impl_(std::make_shared<Impl>(client, auth, limiter, history, std::move(symbols),
                                   std::move(symbol_by_id), std::move(assets), std::move(clock),
                                   std::move(options))) {}

TradingApi::~TradingApi() { impl_->Stop(); }

void TradingApi::Register(http::Router& router) { impl_->Register(router); }

}  // namespace spotex::gateway
