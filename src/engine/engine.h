// The matching engine: a pure, deterministic state machine (DESIGN.md §1).
//
//   events = engine.Apply(command)
//
// No I/O, no clocks (time comes in the command), no threads, no randomness, no floating point.
// The same commands always give the same events and the same StateHash(). A rejected command
// leaves the state exactly as it was (its only output is a CommandRejected event).
//
// Thread safety: none; one thread owns an Engine. Queries are const and never change state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/command.h"
#include "engine/event.h"
#include "engine/reject.h"
#include "engine/types.h"

namespace spotex::engine {

// What Apply tells the caller beyond the events.
struct ApplyResult {
  RejectCode code = RejectCode::kNone;         // kNone: applied (for cancel-replace: both parts ok)
  RejectCode cancel_code = RejectCode::kNone;  // cancel-replace only
  RejectCode new_order_code = RejectCode::kNone;  // cancel-replace only
  OrderId order_id = 0;                           // the new order's id, when one was accepted
  OrderListId order_list_id = 0;                  // the new list's id (OCO)
  std::span<const std::byte> events;              // valid until the next Apply
};

struct BalanceView {
  AssetId asset;
  Amount free;
  Amount locked;
};

// Everything about one open order, as the engine holds it.
struct OrderView {
  OrderId order_id;
  OrderListId order_list_id;
  AccountId account;
  SymbolId symbol;
  Side side;
  OrderType type;
  TimeInForce tif;
  StpMode stp;
  OrderStatus status;
  bool working;  // on the book (false: untriggered stop)
  Price price;
  Qty qty;
  Amount quote_qty;
  Price stop_price;
  Qty iceberg_qty;
  Qty executed_qty;
  Amount cum_quote_qty;
  Amount reserved;  // funds this order holds locked (quote for BUY, base for SELL)
  TimeMs time_ms;
  TimeMs update_ms;
  ClientOrderId client_order_id;
};

struct LevelView {
  Price price;
  Qty qty;  // visible quantity
};

struct BookView {
  UpdateId last_update_id = 0;
  std::vector<LevelView> bids;  // best (highest) first
  std::vector<LevelView> asks;  // best (lowest) first
};

struct AssetView {
  AssetId id;
  Name name;
  int32_t scale;
};

struct SymbolView {
  SymbolId id;
  SymbolConfig config;
  Price last_price;  // 0 before the first trade
};

class EngineState;  // the whole state; defined in engine/state.h

class Engine {
 public:
  Engine();
  ~Engine();
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Applies one command. Precondition: cmd.seq > last_seq() (a replayed or out-of-order
  // sequence is rejected with kInvalidParameter and changes nothing).
  ApplyResult Apply(const Command& cmd);

  // --- Queries (no state change) ---
  Seq last_seq() const;
  std::optional<AssetId> FindAsset(std::string_view name) const;
  std::optional<SymbolId> FindSymbol(std::string_view name) const;
  std::vector<AssetView> Assets() const;
  std::vector<SymbolView> Symbols() const;
  bool HasAccount(AccountId account) const;
  // Every account (the fee account first), in the order they were opened: the ids at positions
  // [from, from + limit). Accounts are never removed, so positions are stable and a caller
  // pages through all of them with from += result.size(); one opened meanwhile comes last.
  std::vector<AccountId> AccountsPage(size_t from, size_t limit) const;
  size_t AccountCount() const;
  // Balances of every asset the account has touched, in asset-id order.
  std::vector<BalanceView> Balances(AccountId account) const;
  std::optional<BalanceView> Balance(AccountId account, AssetId asset) const;
  // One open order of `account` on `symbol`, by id (if non-zero) or client id.
  std::optional<OrderView> FindOrder(AccountId account, SymbolId symbol, OrderId order_id,
                                     std::string_view client_order_id = {}) const;
  // Open orders of `account` (all symbols when `symbol` is nullopt), in order-id order.
  std::vector<OrderView> OpenOrders(AccountId account, std::optional<SymbolId> symbol) const;
  // Top `depth` levels per side with the symbol's current book update id.
  std::optional<BookView> Book(SymbolId symbol, size_t depth) const;

  // --- Snapshots ---
  // 64-bit hash over the canonical state (independent of memory layout and pool order).
  uint64_t StateHash() const;
  // The whole state as bytes; Restore(Serialize()) gives an engine with the same StateHash and
  // the same future behaviour.
  std::vector<std::byte> Serialize() const;
  enum class RestoreError : uint8_t { kTruncated, kBadMagic, kBadVersion, kCorrupt };
  static std::expected<Engine, RestoreError> Restore(std::span<const std::byte> bytes);

  // Full consistency check (books sorted and uncrossed, locked funds equal what open orders
  // reserve, per-asset conservation, no negative balance). Returns an empty string when
  // consistent, else a description. O(state); for tests and debug builds.
  std::string CheckInvariants() const;

  // Per-asset totals for conservation checks: deposits minus withdrawals, and the sum of all
  // balances (free + locked, fee account included). Equal in a consistent engine.
  struct AssetTotals {
    AssetId asset;
    __int128 net_deposits;
    __int128 balances;
  };
  std::vector<AssetTotals> Totals() const;

 private:
  std::unique_ptr<EngineState> state_;
};

}  // namespace spotex::engine
