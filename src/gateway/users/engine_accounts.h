// The account side of the engine as the user and admin endpoints need it: the asset list, and
// the administrative commands (OpenAccount, Deposit, Withdraw, FreezeAccount) sent through the
// command log like any other command (so they are journaled, replicated and replayed), each
// answered only once the engine made it durable and reported its outcome in the envelope.
//
// Every call blocks (a NATS round trip, up to `timeout_ms`): run it on a WorkerPool, never on
// an HTTP I/O thread. Errors are the http::Error the endpoint sends:
//   - the engine's rejection, mapped by engine::ToBinance (e.g. -2010 "Account has insufficient
//     balance for requested action."), with the adjustments documented per method;
//   - -1001 (HTTP 503) when a query could not reach the engine (nothing was sent);
//   - -1007 (HTTP 500) when a command was sent but no answer came: its outcome is unknown.
//
// Thread safety: all methods may be called concurrently (CommandClient is thread-safe).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/command.h"
#include "gateway/http/error.h"
#include "gateway/market/engine_json.h"
#include "service/command_client.h"

namespace spotex::gateway::users {

// -1001, HTTP 503: a backend (database, session store, engine) could not be reached; nothing
// was changed, the request may be retried.
http::Error BackendUnavailable();

// An asset as the engine lists it (id, name, scale): the market library's record.
using EngineAsset = AssetRecord;

// The outcome of one command the engine applied.
struct Applied {
  uint64_t seq = 0;  // the command's position in the log
};

class EngineAccounts {
 public:
  EngineAccounts(service::CommandClient& client, int64_t timeout_ms)
      : client_(client), timeout_ms_(timeout_ms) {}

  // The engine's assets, asked each time (assets can be added while the gateway runs).
  [[nodiscard]] http::Result<std::vector<EngineAsset>> Assets();
  // The asset named `name` (exact, case-sensitive), or -1130 "Data sent for parameter 'asset'
  // is not valid." when the engine has none.
  [[nodiscard]] http::Result<EngineAsset> FindAsset(std::string_view name);

  // Sends `body` and waits for its envelope. A rejection is returned as its Binance error.
  [[nodiscard]] http::Result<Applied> Send(const engine::CommandBody& body);

  // Opens `account` in the engine unless it exists. An account opened concurrently by someone
  // else (kDuplicateAccount) counts as success.
  [[nodiscard]] http::Result<void> EnsureAccount(engine::AccountId account);

  // Publishes OpenAccount without waiting for the answer: for registration, where the account
  // is a convenience (deposits open it anyway). Returns false if it could not be published.
  bool OpenAccountAsync(engine::AccountId account);

  // Credits `units` (> 0, in 10^-scale of `asset`) to `account`, opening the account first.
  [[nodiscard]] http::Result<Applied> Deposit(engine::AccountId account, const EngineAsset& asset,
                                              int64_t units);
  // Debits `units` (> 0) from the free balance. An account the engine does not know has no
  // balance: -2010 "Account has insufficient balance for requested action." (not the engine's
  // -2015, which speaks of API keys).
  [[nodiscard]] http::Result<Applied> Withdraw(engine::AccountId account, const EngineAsset& asset,
                                               int64_t units);
  // Freezes or unfreezes `account` (opening it first, so that the freeze also holds for funds
  // deposited later).
  [[nodiscard]] http::Result<Applied> Freeze(engine::AccountId account, bool frozen);

  // The raw JSON of a live-state query (service/query.h), e.g. "balances 7".
  [[nodiscard]] http::Result<std::string> Query(std::string_view request);

  int64_t timeout_ms() const { return timeout_ms_; }

 private:
  service::CommandClient& client_;
  const int64_t timeout_ms_;
};

}  // namespace spotex::gateway::users
