// Events: what one command did, in the order it happened. The engine appends them to an
// EventBuffer as compact variable-size records (a 16-byte header and a fixed payload per
// type); a reader walks them in order. Every record carries the command's sequence number and
// its index within the command, so an event id is "<shard>:<seq>:<index>".
//
// Order of events within one command (the differential test pins it):
//   1. the command's own events in processing order — for an order: OrderAccepted, then per
//      match either PreventedMatch (+ OrderUpdate of each expired side) or Trade + the maker's
//      OrderUpdate + the taker's OrderUpdate; then the taker's final OrderUpdate if it expires;
//      then triggered stop orders, each like a new order (OrderUpdate kTriggered first);
//   2. one BalanceChanged per (account, asset) whose balance the command touched, in the order
//      of first touch, with the values after the command and the change over the command;
//   3. one BookLevel per price level the command touched, in the order of first touch, each
//      with the next value of the symbol's book update id.
// A rejected command emits exactly one CommandRejected (or one per failed part of a
// cancel-replace) and changes nothing else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <vector>

#include "engine/command.h"
#include "engine/reject.h"
#include "engine/types.h"

namespace spotex::engine {

enum class EventType : uint16_t {
  kCommandRejected = 1,
  kOrderAccepted = 2,
  kOrderUpdate = 3,
  kOrderCanceledBy = 4,
  kOrderAmended = 5,
  kTrade = 6,
  kPreventedMatch = 7,
  kBalanceChanged = 8,
  kBookLevel = 9,
  kOrderList = 10,
  kTransfer = 11,
  kAssetAdded = 12,
  kSymbolAdded = 13,
  kSymbolStatusChanged = 14,
  kAccountUpdated = 15,
};

struct EventHeader {
  Seq seq;
  uint32_t index;  // position within the command, from 0
  EventType type;
  uint16_t size;  // whole record including this header, a multiple of 8
};
static_assert(sizeof(EventHeader) == 16);

// Which part of a command a rejection refers to (cancel-replace has two).
enum class CommandPart : uint8_t { kWhole = 0, kCancel = 1, kNewOrder = 2 };

struct CommandRejected {
  static constexpr EventType kType = EventType::kCommandRejected;
  AccountId account;
  RejectCode code;
  CommandPart part;
  uint8_t command_index;          // CommandBody::index() of the rejected command
  ClientOrderId client_order_id;  // of the order the command tried to place/cancel, if any
};

// A new order (or order-list leg) was accepted. Static order data lives only here.
struct OrderAccepted {
  static constexpr EventType kType = EventType::kOrderAccepted;
  OrderId order_id;
  OrderListId order_list_id;  // -1 when not in a list
  AccountId account;
  SymbolId symbol;
  Side side;
  OrderType type;
  TimeInForce tif;
  StpMode stp;         // the effective mode (never kDefault)
  OrderStatus status;  // kNew (untriggered stops too: see `working`)
  bool working;        // false for an untriggered stop
  Price price;
  Qty qty;
  Amount quote_qty;
  Price stop_price;
  Qty iceberg_qty;
  TimeMs time_ms;
  ClientOrderId client_order_id;
};

// An order's state changed. For kTrade the last_* fields describe the fill.
struct OrderUpdate {
  static constexpr EventType kType = EventType::kOrderUpdate;
  OrderId order_id;
  AccountId account;
  SymbolId symbol;
  ExecType exec;
  OrderStatus status;  // after this event
  ExpiryReason reason;
  bool is_maker;         // kTrade only
  Qty executed_qty;      // cumulative
  Amount cum_quote_qty;  // cumulative
  Qty last_qty;
  Price last_price;
  TradeId trade_id;   // 0 when not a fill
  Amount commission;  // charged for this fill
  AssetId commission_asset;
  uint32_t pad = 0;
  int64_t prevented_match_id;  // kTradePrevention only, else 0
};

// Emitted right before the kCanceled OrderUpdate when the cancel carried its own client id.
struct OrderCanceledBy {
  static constexpr EventType kType = EventType::kOrderCanceledBy;
  OrderId order_id;
  ClientOrderId cancel_client_order_id;
};

// order.amend.keepPriority succeeded (executionReport x=REPLACED).
struct OrderAmended {
  static constexpr EventType kType = EventType::kOrderAmended;
  OrderId order_id;
  AccountId account;
  SymbolId symbol;
  OrderStatus status;
  Qty orig_qty;  // before
  Qty new_qty;   // after
  Qty executed_qty;
  ClientOrderId orig_client_order_id;
  ClientOrderId new_client_order_id;
};

struct Trade {
  static constexpr EventType kType = EventType::kTrade;
  TradeId trade_id;
  SymbolId symbol;
  bool buyer_is_maker;
  Price price;
  Qty qty;
  Amount quote_qty;
  OrderId buyer_order_id;
  OrderId seller_order_id;
  AccountId buyer;
  AccountId seller;
  Qty buyer_commission;      // in the base asset
  Amount seller_commission;  // in the quote asset
  TimeMs time_ms;
};

struct PreventedMatch {
  static constexpr EventType kType = EventType::kPreventedMatch;
  int64_t prevented_match_id;
  SymbolId symbol;
  StpMode mode;
  OrderId taker_order_id;
  OrderId maker_order_id;
  AccountId account;
  Price price;
  Qty qty;  // the quantity that would have matched
  TimeMs time_ms;
};

// Absolute balance after the command plus its change over the command.
struct BalanceChanged {
  static constexpr EventType kType = EventType::kBalanceChanged;
  AccountId account;
  AssetId asset;
  Amount free;
  Amount locked;
  Amount delta_free;
  Amount delta_locked;
};

// A price level's visible quantity after the command ("0" removes it). `update_id` is the
// symbol's book update counter, shared with book snapshots (Binance's U/u/lastUpdateId).
struct BookLevel {
  static constexpr EventType kType = EventType::kBookLevel;
  SymbolId symbol;
  Side side;
  UpdateId update_id;
  Price price;
  Qty qty;
};

struct OrderList {
  static constexpr EventType kType = EventType::kOrderList;
  OrderListId order_list_id;
  AccountId account;
  SymbolId symbol;
  ListStatus status;  // listStatusType: kExecuting = EXEC_STARTED, kAllDone = ALL_DONE
  OrderId order_ids[2];
  TimeMs time_ms;
  ClientOrderId list_client_order_id;
};

// Deposit (amount > 0) or withdrawal (amount < 0): Binance's balanceUpdate.
struct Transfer {
  static constexpr EventType kType = EventType::kTransfer;
  AccountId account;
  AssetId asset;
  Amount amount;
  TimeMs time_ms;
};

struct AssetAdded {
  static constexpr EventType kType = EventType::kAssetAdded;
  AssetId asset;
  int32_t scale;
  Name name;
};

struct SymbolAdded {
  static constexpr EventType kType = EventType::kSymbolAdded;
  SymbolId symbol;
  SymbolConfig config;
};

struct SymbolStatusChanged {
  static constexpr EventType kType = EventType::kSymbolStatusChanged;
  SymbolId symbol;
  SymbolStatus status;
};

// An account was opened or its settings changed (account == kDefaultsAccount: the defaults).
struct AccountUpdated {
  static constexpr EventType kType = EventType::kAccountUpdated;
  AccountId account;
  int64_t maker_rate_e8;
  int64_t taker_rate_e8;
  StpMode stp;
  bool frozen;
};

// Append-only buffer of event records. Reused across commands: Clear() keeps capacity, so
// after warm-up appending does not allocate.
class EventBuffer {
 public:
  EventBuffer() { Grow(1 << 16); }

  void Clear() {
    size_ = 0;
    count_ = 0;
  }

  // Appends a record of type E (zero-filled, so records compare bytewise) and returns its
  // payload for the caller to fill in.
  template <class E>
  E& Append(Seq seq) {
    static_assert(std::is_trivially_copyable_v<E>);
    constexpr size_t kSize = (sizeof(EventHeader) + sizeof(E) + 7) & ~size_t{7};
    static_assert(kSize <= UINT16_MAX);
    if (size_ + kSize > bytes_.size()) [[unlikely]] {
      Grow(2 * (size_ + kSize));
    }
    std::byte* at = bytes_.data() + size_;
    std::memset(at, 0, kSize);
    size_ += kSize;
    auto* h = reinterpret_cast<EventHeader*>(at);
    h->seq = seq;
    h->index = count_++;
    h->type = E::kType;
    h->size = static_cast<uint16_t>(kSize);
    return *reinterpret_cast<E*>(at + sizeof(EventHeader));
  }

  std::span<const std::byte> bytes() const { return {bytes_.data(), size_}; }
  uint32_t count() const { return count_; }

 private:
  void Grow(size_t n) { bytes_.resize(n); }

  std::vector<std::byte> bytes_;  // capacity in use up to size_
  size_t size_ = 0;
  uint32_t count_ = 0;
};

// Walks the records of a byte range produced by EventBuffer.
class EventReader {
 public:
  explicit EventReader(std::span<const std::byte> bytes) : bytes_(bytes) {}

  bool Done() const { return pos_ >= bytes_.size(); }
  const EventHeader& header() const {
    return *reinterpret_cast<const EventHeader*>(bytes_.data() + pos_);
  }
  template <class E>
  const E& As() const {
    return *reinterpret_cast<const E*>(bytes_.data() + pos_ + sizeof(EventHeader));
  }
  template <class E>
  const E* If() const {
    return header().type == E::kType ? &As<E>() : nullptr;
  }
  void Next() { pos_ += header().size; }

 private:
  std::span<const std::byte> bytes_;
  size_t pos_ = 0;
};

std::string_view ToString(EventType t);

}  // namespace spotex::engine
