// Wire format of engine commands: a hand-laid, explicitly little-endian binary encoding, written
// field by field (never a memcpy of a struct, so padding bytes never leak and the bytes do not
// depend on the compiler's layout). It is what the command log / journal stores.
//
// COMPATIBILITY: format version 1 is frozen. A reader must keep decoding version-1 bytes forever
// (old journals stay readable). Any change to a layout below — a new field, a reordered field, a
// new width — needs a new format version, with version 1 still decoded as specified here. New
// command types may be added to version 1 only under new, never reused, type tags.
// The golden test in tests/proto/codec_test.cc pins the exact bytes of some commands.
//
// Record:
//   offset size  field
//   0      4     magic "SPXC" (0x53 0x50 0x58 0x43)
//   4      2     format version, u16 LE (= 1)
//   6      2     command type tag, u16 LE (table below)
//   8      ...   body of that type, nothing after it
//
// The command's `seq` and `time_ms` are NOT encoded: the command log assigns them, and the
// decoder takes them as parameters.
//
// Scalars: u8/u16/u32/u64 little endian; i32/i64 two's complement little endian; Price, Qty and
// Amount are i64; every enum is its underlying u8; bool is one byte, 0 or 1 (anything else is
// rejected, so every valid record decodes to exactly one command and re-encodes to itself).
// Str<N> (ClientOrderId N = 36, Name N = 20): u8 length L <= N, then L raw bytes. Contents are not
// validated here (the engine validates); the decoded id has every byte past L zeroed.
//
// Type tags (stable; NOT the index of the alternative in engine::CommandBody):
//   1 PlaceOrder      2 CancelOrder     3 CancelReplace   4 CancelAll      5 AmendOrder
//   6 PlaceOco        7 CancelOrderList
//   20 AddAsset       21 AddSymbol      22 SetSymbolStatus
//   30 OpenAccount    31 Deposit        32 Withdraw       33 SetFees       34 SetAccountStp
//   35 FreezeAccount
//
// Bodies, fields in order (fixed size = bytes with every Str empty, static_asserted in codec.cc):
//   NewOrder (56 + Str): account u64, symbol u32, side u8, type u8, tif u8, stp u8, price i64,
//       qty i64, quote_qty i64, stop_price i64, iceberg_qty i64, client_order_id Str<36>
//   OrderRef (20 + Str): account u64, symbol u32, order_id i64, orig_client_order_id Str<36>
//   OcoLeg (26 + Str): type u8, price i64, stop_price i64, tif u8, iceberg_qty i64,
//       client_order_id Str<36>
//   SymbolFilters (139): min_price, max_price, tick_size, min_qty, max_qty, step_size,
//       market_min_qty, market_max_qty, market_step_size, min_notional, max_notional (11 x i64),
//       apply_min_to_market bool, apply_max_to_market bool, legacy_min_notional bool,
//       avg_price_mins i32, bid_multiplier_up_e8, bid_multiplier_down_e8, ask_multiplier_up_e8,
//       ask_multiplier_down_e8 (4 x i64), iceberg_parts i32, max_num_orders i32,
//       max_num_algo_orders i32
//   1  PlaceOrder (57):      order NewOrder
//   2  CancelOrder (23):     ref OrderRef, new_client_order_id Str<36>, restriction u8
//   3  CancelReplace (81):   cancel CancelOrder, order NewOrder, mode u8
//   4  CancelAll (12):       account u64, symbol u32
//   5  AmendOrder (30):      ref OrderRef, new_client_order_id Str<36>, new_qty i64
//   6  PlaceOco (77):        account u64, symbol u32, side u8, qty i64, stp u8,
//                            list_client_order_id Str<36>, above OcoLeg, below OcoLeg
//   7  CancelOrderList (21): account u64, symbol u32, order_list_id i64, list_client_order_id
//                            Str<36>
//   20 AddAsset (5):         name Str<20>, scale i32
//   21 AddSymbol (155):      name Str<20>, base_asset u32, quote_asset u32, status u8,
//                            filters SymbolFilters, iceberg_allowed bool, oco_allowed bool,
//                            quote_order_qty_market_allowed bool, cancel_replace_allowed bool,
//                            amend_allowed bool, default_stp u8
//   22 SetSymbolStatus (5):  symbol u32, status u8
//   30 OpenAccount (8):      account u64
//   31 Deposit (20):         account u64, asset u32, amount i64
//   32 Withdraw (20):        account u64, asset u32, amount i64
//   33 SetFees (24):         account u64, maker_rate_e8 i64, taker_rate_e8 i64
//   34 SetAccountStp (9):    account u64, mode u8
//   35 FreezeAccount (9):    account u64, frozen bool
//   (sizes in parentheses include each Str's length byte, with every Str empty)
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <string_view>
#include <vector>

#include "engine/command.h"

namespace spotex::proto {

inline constexpr uint8_t kCommandMagic[4] = {0x53, 0x50, 0x58, 0x43};  // "SPXC"
inline constexpr uint16_t kCommandFormatVersion = 1;
inline constexpr size_t kCommandHeaderSize = 8;

enum class DecodeError : uint8_t {
  kTruncated = 0,           // the bytes end inside the header or a field
  kBadMagic = 1,            // the first 4 bytes are not kCommandMagic
  kUnsupportedVersion = 2,  // a format version this reader does not know
  kUnknownType = 3,         // a type tag not in the table
  kBadLength = 4,           // a string length over its maximum
  kTrailingBytes = 5,       // bytes left after the body
  kBadBool = 6,             // a bool byte other than 0 or 1
};

std::string_view ToString(DecodeError e);

// Encodes `command.body` (not seq/time_ms) as one version-1 record. Strings are written as their
// view(), so an id whose len exceeds its maximum is written truncated to the maximum. Pure,
// thread-safe; allocates the returned vector.
[[nodiscard]] std::vector<std::byte> EncodeCommand(const engine::Command& command);

// Decodes one whole record (exactly `bytes`, no more, no less) into a command carrying `seq` and
// `time_ms`. Validates only the format, never the semantics (the engine does). Never reads
// outside `bytes`, for any input. Pure, thread-safe.
[[nodiscard]] std::expected<engine::Command, DecodeError> DecodeCommand(
    std::span<const std::byte> bytes, engine::Seq seq, engine::TimeMs time_ms);

}  // namespace spotex::proto
