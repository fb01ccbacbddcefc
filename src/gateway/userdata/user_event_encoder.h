// The user data stream events (BINANCE_API.md §9.2) of one engine event envelope, per account:
//
//   executionReport          one per order state change, in the envelope's order: OrderAccepted
//                            -> x=NEW; OrderUpdate -> its exec type (TRADE with the fill's
//                            l/L/n/N/t/m/Y, CANCELED, EXPIRED, TRADE_PREVENTION; a triggered
//                            stop -> NEW with w=true); OrderAmended -> REPLACED
//   listStatus               one per OrderList event (OCO), where the engine emitted it
//   balanceUpdate            one per Transfer (deposit d > 0, withdrawal d < 0)
//   outboundAccountPosition  last, one per account whose balances the command changed: B holds
//                            each changed asset with its free/locked after the command
//
// Static order data (side, type, price, quantity, client id, creation time...) is only in the
// OrderAccepted event, so it is read from the AccountHistory, which must have applied the
// envelope before Encode (then it also knows orders placed in earlier envelopes). An order the
// history does not know (placed before this gateway started and never seeded) still gets its
// executionReports, with what the envelope says (side from its fill, "" client id, zero price
// and quantity).
//
// Decimals are strings at the symbol's scales (the asset's for balances and commissions), as
// REST answers them; E and T are the command's time; `t` is the engine's trade id (the one of
// @trade, /trades and /myTrades); `I` (execution id) is seq * 2^20 + the event's index.
//
// Pure apart from reading its lookups; thread-safe if they are.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gateway/orders/new_order.h"
#include "gateway/trading/account_history.h"
#include "proto/envelope.h"

namespace spotex::gateway::userdata {

struct AssetInfo {
  std::string name;
  int scale = 8;
};

// Lookups by engine id; nullopt = unknown (its events are skipped, or an asset reads "?").
using SymbolById = std::function<std::optional<SymbolInfo>(uint32_t symbol)>;
using AssetById = std::function<std::optional<AssetInfo>(uint32_t asset)>;

// The event payloads of one account, each one JSON object, in the order to send them.
struct AccountEvents {
  int64_t account = 0;
  std::vector<std::string> events;
};

class UserEventEncoder {
 public:
  // `history` must outlive the encoder.
  UserEventEncoder(const AccountHistory& history, SymbolById symbols, AssetById assets);

  // The events of every account the envelope touched, accounts in order of first appearance.
  // Malformed envelopes give none, CommandRejected events nothing (Binance reports a refused
  // request only to its caller). Precondition: history.Apply(envelope) ran.
  std::vector<AccountEvents> Encode(const proto::Envelope& envelope) const;

 private:
  const AccountHistory& history_;
  const SymbolById symbols_;
  const AssetById assets_;
};

}  // namespace spotex::gateway::userdata
