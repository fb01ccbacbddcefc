// The command codec: round trips of every command, each decode error, truncation, golden bytes
// pinning the version-1 layout, and random inputs that must never crash the decoder (run these
// under the ASan+UBSan build).
#include "proto/codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <expected>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace spotex::proto {
namespace {

using namespace spotex::engine;  // NOLINT: every command type

using Bytes = std::vector<std::byte>;

ClientOrderId Cid(std::string_view s) {
  ClientOrderId id;
  EXPECT_TRUE(id.Assign(s)) << s;
  return id;
}

Name Nm(std::string_view s) {
  Name n;
  EXPECT_TRUE(n.Assign(s)) << s;
  return n;
}

std::string Hex(const Bytes& b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::byte x : b) {
    const auto v = static_cast<uint8_t>(x);
    out += kDigits[v >> 4];
    out += kDigits[v & 0xF];
  }
  return out;
}

Bytes FromHex(std::string_view hex) {
  Bytes out;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::byte>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return out;
}

Command Cmd(CommandBody body) { return Command{.seq = 0, .time_ms = 0, .body = body}; }

NewOrder SampleOrder(int k) {
  return NewOrder{.account = 0x1122334455667788ULL + k,
                  .symbol = 0xA1B2C3D4u + k,
                  .side = Side::kSell,
                  .type = OrderType::kTakeProfitLimit,
                  .tif = TimeInForce::kFok,
                  .stp = StpMode::kExpireBoth,
                  .price = Price(-1234567890123LL - k),
                  .qty = Qty(987654321 + k),
                  .quote_qty = Amount(42 + k),
                  .stop_price = Price(INT64_MAX - k),
                  .iceberg_qty = Qty(INT64_MIN + k),
                  .client_order_id = Cid("order-" + std::to_string(k))};
}

OrderRef SampleRef(int k) {
  return OrderRef{.account = 77 + static_cast<uint64_t>(k),
                  .symbol = 9,
                  .order_id = -5 - k,
                  .orig_client_order_id = Cid("orig.ID:/_" + std::to_string(k))};
}

OcoLeg SampleLeg(int k) {
  return OcoLeg{.type = OrderType::kStopLossLimit,
                .price = Price(100 + k),
                .stop_price = Price(200 + k),
                .tif = TimeInForce::kIoc,
                .iceberg_qty = Qty(300 + k),
                .client_order_id = Cid("leg" + std::to_string(k))};
}

SymbolConfig SampleConfig() {
  SymbolConfig c;
  c.name = Nm("BTCUSDT");
  c.base_asset = 3;
  c.quote_asset = 0xFFFFFFFFu;
  c.status = SymbolStatus::kBreak;
  SymbolFilters& f = c.filters;
  f.min_price = Price(1);
  f.max_price = Price(2);
  f.tick_size = Price(3);
  f.min_qty = Qty(4);
  f.max_qty = Qty(5);
  f.step_size = Qty(6);
  f.market_min_qty = Qty(7);
  f.market_max_qty = Qty(8);
  f.market_step_size = Qty(9);
  f.min_notional = Amount(10);
  f.max_notional = Amount(11);
  f.apply_min_to_market = false;
  f.apply_max_to_market = true;
  f.legacy_min_notional = true;
  f.avg_price_mins = -12;
  f.bid_multiplier_up_e8 = 13;
  f.bid_multiplier_down_e8 = 14;
  f.ask_multiplier_up_e8 = 15;
  f.ask_multiplier_down_e8 = 16;
  f.iceberg_parts = 17;
  f.max_num_orders = 18;
  f.max_num_algo_orders = 19;
  c.iceberg_allowed = false;
  c.oco_allowed = false;
  c.quote_order_qty_market_allowed = false;
  c.cancel_replace_allowed = false;
  c.amend_allowed = false;
  c.default_stp = StpMode::kExpireTaker;
  return c;
}

// One command of every type, every field away from its default.
std::vector<Command> SampleCommands() {
  const CancelOrder cancel{.ref = SampleRef(1),
                           .new_client_order_id = Cid(std::string(ClientOrderId::kMaxLen, 'z')),
                           .restriction = CancelRestriction::kOnlyPartiallyFilled};
  return {
      Cmd(PlaceOrder{.order = SampleOrder(0)}),
      Cmd(cancel),
      Cmd(CancelReplace{
          .cancel = cancel, .order = SampleOrder(2), .mode = CancelReplaceMode::kAllowFailure}),
      Cmd(CancelAll{.account = UINT64_MAX, .symbol = 0x01020304}),
      Cmd(AmendOrder{.ref = SampleRef(3), .new_client_order_id = Cid("amend"), .new_qty = Qty(5)}),
      Cmd(PlaceOco{.account = 8,
                   .symbol = 9,
                   .side = Side::kBuy,
                   .qty = Qty(10),
                   .stp = StpMode::kNone,
                   .list_client_order_id = Cid("list"),
                   .above = SampleLeg(1),
                   .below = SampleLeg(2)}),
      Cmd(CancelOrderList{
          .account = 11, .symbol = 12, .order_list_id = 13, .list_client_order_id = Cid("L-1")}),
      Cmd(AddAsset{.name = Nm(std::string(Name::kMaxLen, 'Q')), .scale = 18}),
      Cmd(AddSymbol{.config = SampleConfig()}),
      Cmd(SetSymbolStatus{.symbol = 14, .status = SymbolStatus::kHalt}),
      Cmd(OpenAccount{.account = 15}),
      Cmd(Deposit{.account = 16, .asset = 17, .amount = Amount(-18)}),
      Cmd(Withdraw{.account = 19, .asset = 20, .amount = Amount(21)}),
      Cmd(SetFees{.account = 22, .maker_rate_e8 = 23, .taker_rate_e8 = -24}),
      Cmd(SetAccountStp{.account = 25, .mode = StpMode::kExpireMaker}),
      Cmd(FreezeAccount{.account = 26, .frozen = false}),
  };
}

// Every ClientOrderId / Name inside a decoded command, checked for len <= kMaxLen.
void CheckLen(const ClientOrderId& id) { ASSERT_LE(id.len, ClientOrderId::kMaxLen); }
void CheckLen(const Name& n) { ASSERT_LE(n.len, Name::kMaxLen); }
void CheckLens(const NewOrder& o) { CheckLen(o.client_order_id); }
void CheckLens(const OrderRef& r) { CheckLen(r.orig_client_order_id); }
void CheckLens(const CancelOrder& c) {
  CheckLens(c.ref);
  CheckLen(c.new_client_order_id);
}
void CheckLens(const Command& c) {
  std::visit(
      [](const auto& b) {
        using T = std::remove_cvref_t<decltype(b)>;
        if constexpr (std::is_same_v<T, PlaceOrder>) {
          CheckLens(b.order);
        } else if constexpr (std::is_same_v<T, CancelOrder>) {
          CheckLens(b);
        } else if constexpr (std::is_same_v<T, CancelReplace>) {
          CheckLens(b.cancel);
          CheckLens(b.order);
        } else if constexpr (std::is_same_v<T, AmendOrder>) {
          CheckLens(b.ref);
          CheckLen(b.new_client_order_id);
        } else if constexpr (std::is_same_v<T, PlaceOco>) {
          CheckLen(b.list_client_order_id);
          CheckLen(b.above.client_order_id);
          CheckLen(b.below.client_order_id);
        } else if constexpr (std::is_same_v<T, CancelOrderList>) {
          CheckLen(b.list_client_order_id);
        } else if constexpr (std::is_same_v<T, AddAsset>) {
          CheckLen(b.name);
        } else if constexpr (std::is_same_v<T, AddSymbol>) {
          CheckLen(b.config.name);
        }
      },
      c.body);
}

TEST(CodecTest, RoundTripsEveryCommandType) {
  const auto commands = SampleCommands();
  ASSERT_EQ(commands.size(), std::variant_size_v<CommandBody>);
  std::vector<size_t> seen;
  for (const Command& c : commands) {
    seen.push_back(c.body.index());
    const Bytes bytes = EncodeCommand(c);
    auto decoded = DecodeCommand(bytes, 1234, -5678);
    ASSERT_TRUE(decoded.has_value())
        << "type " << c.body.index() << ": " << ToString(decoded.error());
    EXPECT_EQ(decoded->seq, 1234u);
    EXPECT_EQ(decoded->time_ms, -5678);
    EXPECT_EQ(decoded->body.index(), c.body.index());
    EXPECT_EQ(Hex(EncodeCommand(*decoded)), Hex(bytes)) << "type " << c.body.index();
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end()) << "one sample per type";
}

TEST(CodecTest, RoundTripKeepsFieldValues) {
  const PlaceOrder place{.order = SampleOrder(7)};
  auto decoded = DecodeCommand(EncodeCommand(Cmd(place)), 1, 2);
  ASSERT_TRUE(decoded.has_value());
  const NewOrder& o = std::get<PlaceOrder>(decoded->body).order;
  EXPECT_EQ(o.account, place.order.account);
  EXPECT_EQ(o.symbol, place.order.symbol);
  EXPECT_EQ(o.side, place.order.side);
  EXPECT_EQ(o.type, place.order.type);
  EXPECT_EQ(o.tif, place.order.tif);
  EXPECT_EQ(o.stp, place.order.stp);
  EXPECT_EQ(o.price, place.order.price);
  EXPECT_EQ(o.qty, place.order.qty);
  EXPECT_EQ(o.quote_qty, place.order.quote_qty);
  EXPECT_EQ(o.stop_price, place.order.stop_price);
  EXPECT_EQ(o.iceberg_qty, place.order.iceberg_qty);
  EXPECT_EQ(o.client_order_id, place.order.client_order_id);

  auto symbol = DecodeCommand(EncodeCommand(Cmd(AddSymbol{.config = SampleConfig()})), 1, 2);
  ASSERT_TRUE(symbol.has_value());
  const SymbolConfig& c = std::get<AddSymbol>(symbol->body).config;
  EXPECT_EQ(c.name.view(), "BTCUSDT");
  EXPECT_EQ(c.quote_asset, 0xFFFFFFFFu);
  EXPECT_EQ(c.filters.avg_price_mins, -12);
  EXPECT_EQ(c.filters.max_num_algo_orders, 19);
  EXPECT_TRUE(c.filters.legacy_min_notional);
  EXPECT_FALSE(c.amend_allowed);
  EXPECT_EQ(c.default_stp, StpMode::kExpireTaker);
}

// Pins the exact version-1 bytes: a failure here means the layout changed, which old journals
// cannot survive. Add a new format version instead of editing these.
TEST(CodecTest, GoldenBytes) {
  EXPECT_EQ(Hex(EncodeCommand(Cmd(OpenAccount{.account = 0x0102030405060708ULL}))),
            "53505843"            // magic "SPXC"
            "0100"                // version 1
            "1e00"                // tag 30 OpenAccount
            "0807060504030201");  // account
  EXPECT_EQ(Hex(EncodeCommand(Cmd(Deposit{.account = 1, .asset = 2, .amount = Amount(-2)}))),
            "53505843"
            "0100"
            "1f00"                // tag 31 Deposit
            "0100000000000000"    // account
            "02000000"            // asset
            "feffffffffffffff");  // amount -2
  const NewOrder order{.account = 1,
                       .symbol = 2,
                       .side = Side::kSell,
                       .type = OrderType::kLimit,
                       .tif = TimeInForce::kGtc,
                       .stp = StpMode::kExpireMaker,
                       .price = Price(100),
                       .qty = Qty(5),
                       .quote_qty = Amount(0),
                       .stop_price = Price(0),
                       .iceberg_qty = Qty(0),
                       .client_order_id = Cid("ab")};
  EXPECT_EQ(Hex(EncodeCommand(Cmd(PlaceOrder{.order = order}))),
            "53505843"
            "0100"
            "0100"              // tag 1 PlaceOrder
            "0100000000000000"  // account
            "02000000"          // symbol
            "01"                // side SELL
            "00"                // type LIMIT
            "01"                // tif GTC
            "03"                // stp EXPIRE_MAKER
            "6400000000000000"  // price
            "0500000000000000"  // qty
            "0000000000000000"  // quote_qty
            "0000000000000000"  // stop_price
            "0000000000000000"  // iceberg_qty
            "02"
            "6162");  // client_order_id "ab"
  auto decoded = DecodeCommand(FromHex("5350584301001e000807060504030201"), 9, 10);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(std::get<OpenAccount>(decoded->body).account, 0x0102030405060708ULL);
}

std::expected<Command, DecodeError> Decode(const Bytes& b) { return DecodeCommand(b, 1, 1); }

void ExpectError(const Bytes& b, DecodeError want) {
  auto r = Decode(b);
  ASSERT_FALSE(r.has_value()) << Hex(b);
  EXPECT_EQ(r.error(), want) << ToString(r.error()) << " for " << Hex(b);
}

TEST(CodecTest, RejectsTruncated) {
  ExpectError({}, DecodeError::kTruncated);
  ExpectError(FromHex("535058"), DecodeError::kTruncated);
  ExpectError(FromHex("53505843010001"), DecodeError::kTruncated);
  ExpectError(FromHex("5350584301001e00080706050403"), DecodeError::kTruncated);
}

TEST(CodecTest, RejectsBadMagic) {
  Bytes b = EncodeCommand(Cmd(OpenAccount{.account = 1}));
  for (size_t i = 0; i < 4; ++i) {
    Bytes m = b;
    m[i] ^= std::byte{0x20};
    ExpectError(m, DecodeError::kBadMagic);
  }
}

TEST(CodecTest, RejectsUnsupportedVersion) {
  ExpectError(FromHex("5350584300001e000807060504030201"), DecodeError::kUnsupportedVersion);
  ExpectError(FromHex("5350584302001e000807060504030201"), DecodeError::kUnsupportedVersion);
  ExpectError(FromHex("5350584300011e000807060504030201"), DecodeError::kUnsupportedVersion);
}

TEST(CodecTest, RejectsUnknownType) {
  for (std::string_view tag : {"0000", "0800", "1300", "2400", "0001", "ffff"}) {
    ExpectError(FromHex(std::string("53505843") + "0100" + std::string(tag) + "0807060504030201"),
                DecodeError::kUnknownType);
  }
}

TEST(CodecTest, RejectsStringsOverMaximum) {
  // PlaceOrder whose client_order_id length byte (the last field) says 37.
  Bytes b = EncodeCommand(Cmd(PlaceOrder{.order = SampleOrder(0)}));
  const size_t len_at = kCommandHeaderSize + 56;
  const auto len = static_cast<size_t>(b[len_at]);
  b.resize(len_at + 1);
  b[len_at] = std::byte{37};
  b.insert(b.end(), 37, std::byte{'a'});
  ExpectError(b, DecodeError::kBadLength);
  b[len_at] = std::byte{0xFF};
  ExpectError(b, DecodeError::kBadLength);
  // The same record with exactly 36 bytes decodes.
  b[len_at] = std::byte{36};
  b.resize(len_at + 1 + 36);
  EXPECT_TRUE(Decode(b).has_value());
  EXPECT_GT(len, 0u);

  // AddAsset whose name length says 21 (Name::kMaxLen is 20).
  Bytes asset = FromHex(
      "53505843"
      "0100"
      "1400"
      "15");
  asset.insert(asset.end(), 21, std::byte{'A'});
  asset.insert(asset.end(), 4, std::byte{0});
  ExpectError(asset, DecodeError::kBadLength);
}

TEST(CodecTest, RejectsTrailingBytes) {
  for (const Command& c : SampleCommands()) {
    Bytes b = EncodeCommand(c);
    b.push_back(std::byte{0});
    ExpectError(b, DecodeError::kTrailingBytes);
  }
}

TEST(CodecTest, RejectsBoolOtherThanZeroOrOne) {
  Bytes b = EncodeCommand(Cmd(FreezeAccount{.account = 1, .frozen = true}));
  ASSERT_EQ(b.back(), std::byte{1});
  b.back() = std::byte{2};
  ExpectError(b, DecodeError::kBadBool);
}

TEST(CodecTest, EncoderClampsOverlongIds) {
  // A command read off some other wire may carry len > kMaxLen; the encoder writes view().
  PlaceOrder p{.order = SampleOrder(0)};
  p.order.client_order_id.len = 200;
  auto decoded = Decode(EncodeCommand(Cmd(p)));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(std::get<PlaceOrder>(decoded->body).order.client_order_id.len, ClientOrderId::kMaxLen);
}

TEST(CodecTest, EveryTruncationFailsCleanly) {
  for (const Command& c : SampleCommands()) {
    const Bytes b = EncodeCommand(c);
    for (size_t n = 0; n < b.size(); ++n) {
      // A copy of exactly n bytes, so ASan sees any read past the end.
      const Bytes prefix(b.begin(), b.begin() + static_cast<ptrdiff_t>(n));
      auto r = Decode(prefix);
      ASSERT_FALSE(r.has_value()) << "type " << c.body.index() << " prefix " << n;
      EXPECT_EQ(r.error(), DecodeError::kTruncated) << "type " << c.body.index() << " prefix " << n;
    }
  }
}

// Whatever decodes is canonical: it re-encodes to the very same bytes, with every id in bounds.
// Returns whether `b` decoded.
bool CheckDecodeOf(const Bytes& b) {
  auto r = Decode(b);
  if (!r.has_value()) {
    return false;
  }
  CheckLens(*r);
  const Bytes again = EncodeCommand(*r);
  EXPECT_TRUE(again == b) << Hex(again) << " != " << Hex(b);
  return true;
}

uint64_t Seed() {
  if (const char* s = std::getenv("SPOTEX_PROTO_SEED")) {
    return std::stoull(s);
  }
  return std::random_device{}();
}

TEST(CodecFuzzTest, RandomBytesNeverCrash) {
  const uint64_t seed = Seed();
  SCOPED_TRACE("SPOTEX_PROTO_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const Bytes header = FromHex("535058430100");
  static constexpr uint16_t kTags[] = {1, 2, 3, 4, 5, 6, 7, 20, 21, 22, 30, 31, 32, 33, 34, 35};
  int decoded = 0;
  for (int i = 0; i < 300'000; ++i) {
    Bytes b;
    const size_t len = rng() % 300;
    if (rng() % 4 != 0) {
      // Mostly a valid header and tag, so the bodies get exercised too.
      b = header;
      const uint16_t tag = kTags[rng() % std::size(kTags)];
      b.push_back(static_cast<std::byte>(tag & 0xFF));
      b.push_back(static_cast<std::byte>(tag >> 8));
    }
    while (b.size() < len) {
      // Small bytes often, so string lengths and bools are often in range.
      const uint64_t x = rng();
      b.push_back(static_cast<std::byte>(x % 2 == 0 ? (x >> 8) % 3 : x >> 8));
    }
    decoded += CheckDecodeOf(b) ? 1 : 0;
    if (HasFailure()) {
      return;
    }
  }
  EXPECT_GT(decoded, 0);  // some random bodies are well-formed, so the success path is fuzzed
}

TEST(CodecFuzzTest, SingleByteMutationsNeverCrash) {
  const uint64_t seed = Seed();
  SCOPED_TRACE("SPOTEX_PROTO_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::vector<Bytes> valid;
  for (const Command& c : SampleCommands()) {
    valid.push_back(EncodeCommand(c));
  }
  int still_valid = 0;
  for (int i = 0; i < 300'000; ++i) {
    Bytes b = valid[rng() % valid.size()];
    const size_t at = rng() % b.size();
    b[at] = static_cast<std::byte>(rng());
    still_valid += CheckDecodeOf(b) ? 1 : 0;
    if (HasFailure()) {
      return;
    }
  }
  EXPECT_GT(still_valid, 0);  // most mutations hit plain integer fields and still decode
}

}  // namespace
}  // namespace spotex::proto
