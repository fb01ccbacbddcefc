#include "proto/codec.h"

#include <concepts>
#include <type_traits>
#include <utility>
#include <variant>

namespace spotex::proto {
namespace {

using namespace spotex::engine;  // NOLINT: the codec names every command type

// ---- Archives: one field list (the Io functions below) drives all three, so encoding, decoding
// and the static_asserted sizes cannot drift apart.

template <class T>
concept Integer = std::integral<T> && !std::same_as<T, bool>;

template <class T>
concept Enum = std::is_enum_v<T>;

template <class T>
concept Str = std::same_as<T, ClientOrderId> || std::same_as<T, Name>;

template <class T>
concept Strong = std::same_as<T, Price> || std::same_as<T, Qty> || std::same_as<T, Amount>;

// Counts bytes with every string empty: the fixed size of a body (the layout table in codec.h).
struct SizeCounter {
  size_t size = 0;
  template <Integer T>
  constexpr void Field(const T&) {
    size += sizeof(T);
  }
  template <Enum T>
  constexpr void Field(const T&) {
    size += sizeof(std::underlying_type_t<T>);
  }
  template <Strong T>
  constexpr void Field(const T&) {
    size += sizeof(int64_t);
  }
  constexpr void Field(const bool&) { size += 1; }
  template <Str T>
  constexpr void Field(const T&) {
    size += 1;
  }
};

class Writer {
 public:
  explicit Writer(std::vector<std::byte>& out) : out_(out) {}

  template <Integer T>
  void Field(const T& v) {
    using U = std::make_unsigned_t<T>;
    const U u = static_cast<U>(v);  // two's complement by definition in C++20
    for (size_t i = 0; i < sizeof(T); ++i) {
      out_.push_back(static_cast<std::byte>((u >> (8 * i)) & 0xFFu));
    }
  }
  template <Enum T>
  void Field(const T& v) {
    Field(static_cast<std::underlying_type_t<T>>(v));
  }
  template <Strong T>
  void Field(const T& v) {
    Field(v.v);
  }
  void Field(const bool& v) { out_.push_back(std::byte{v ? uint8_t{1} : uint8_t{0}}); }
  template <Str T>
  void Field(const T& s) {
    const std::string_view view = s.view();  // clamps len to kMaxLen
    Field(static_cast<uint8_t>(view.size()));
    for (char c : view) {
      out_.push_back(static_cast<std::byte>(c));
    }
  }

 private:
  std::vector<std::byte>& out_;
};

// Reads fields in order; the first failure sticks and later reads return zeros without touching
// the input, so the Io functions need no error plumbing.
class Reader {
 public:
  explicit Reader(std::span<const std::byte> in) : in_(in) {}

  // Whether every read so far succeeded; error() is meaningful only when not.
  bool ok() const { return ok_; }
  DecodeError error() const { return error_; }
  size_t remaining() const { return in_.size() - pos_; }

  template <Integer T>
  void Field(T& v) {
    using U = std::make_unsigned_t<T>;
    U u = 0;
    if (Take(sizeof(T))) {
      for (size_t i = 0; i < sizeof(T); ++i) {
        u |= static_cast<U>(static_cast<U>(in_[pos_ - sizeof(T) + i]) << (8 * i));
      }
    }
    v = static_cast<T>(u);
  }
  template <Enum T>
  void Field(T& v) {
    std::underlying_type_t<T> u = 0;
    Field(u);
    v = static_cast<T>(u);  // no semantic check: the engine validates enum values
  }
  template <Strong T>
  void Field(T& v) {
    Field(v.v);
  }
  void Field(bool& v) {
    uint8_t u = 0;
    Field(u);
    if (u > 1) {
      Fail(DecodeError::kBadBool);
    }
    v = u == 1;
  }
  template <Str T>
  void Field(T& s) {
    s = T{};
    uint8_t len = 0;
    Field(len);
    if (len > T::kMaxLen) {
      Fail(DecodeError::kBadLength);
      return;
    }
    if (!Take(len)) {
      return;
    }
    for (size_t i = 0; i < len; ++i) {
      s.bytes[i] = static_cast<char>(in_[pos_ - len + i]);
    }
    s.len = len;
  }

  void Fail(DecodeError e) {
    if (ok_) {
      ok_ = false;
      error_ = e;
    }
  }

 private:
  // Consumes n bytes; false (and kTruncated) when fewer remain or an error already happened.
  bool Take(size_t n) {
    if (!ok_) {
      return false;
    }
    if (remaining() < n) {
      Fail(DecodeError::kTruncated);
      return false;
    }
    pos_ += n;
    return true;
  }

  std::span<const std::byte> in_;
  size_t pos_ = 0;
  // A plain pair rather than std::optional: g++ 12 -O3 warns falsely on the optional's copy.
  bool ok_ = true;
  DecodeError error_ = DecodeError::kTruncated;
};

// ---- The field lists. `S` is T or const T, so the same list serves reading and writing.

template <class S, class T>
concept Like = std::same_as<std::remove_const_t<S>, T>;

template <class A, Like<NewOrder> S>
constexpr void Io(A& a, S& o) {
  a.Field(o.account);
  a.Field(o.symbol);
  a.Field(o.side);
  a.Field(o.type);
  a.Field(o.tif);
  a.Field(o.stp);
  a.Field(o.price);
  a.Field(o.qty);
  a.Field(o.quote_qty);
  a.Field(o.stop_price);
  a.Field(o.iceberg_qty);
  a.Field(o.client_order_id);
}

template <class A, Like<OrderRef> S>
constexpr void Io(A& a, S& r) {
  a.Field(r.account);
  a.Field(r.symbol);
  a.Field(r.order_id);
  a.Field(r.orig_client_order_id);
}

template <class A, Like<OcoLeg> S>
constexpr void Io(A& a, S& l) {
  a.Field(l.type);
  a.Field(l.price);
  a.Field(l.stop_price);
  a.Field(l.tif);
  a.Field(l.iceberg_qty);
  a.Field(l.client_order_id);
}

template <class A, Like<SymbolFilters> S>
constexpr void Io(A& a, S& f) {
  a.Field(f.min_price);
  a.Field(f.max_price);
  a.Field(f.tick_size);
  a.Field(f.min_qty);
  a.Field(f.max_qty);
  a.Field(f.step_size);
  a.Field(f.market_min_qty);
  a.Field(f.market_max_qty);
  a.Field(f.market_step_size);
  a.Field(f.min_notional);
  a.Field(f.max_notional);
  a.Field(f.apply_min_to_market);
  a.Field(f.apply_max_to_market);
  a.Field(f.legacy_min_notional);
  a.Field(f.avg_price_mins);
  a.Field(f.bid_multiplier_up_e8);
  a.Field(f.bid_multiplier_down_e8);
  a.Field(f.ask_multiplier_up_e8);
  a.Field(f.ask_multiplier_down_e8);
  a.Field(f.iceberg_parts);
  a.Field(f.max_num_orders);
  a.Field(f.max_num_algo_orders);
}

template <class A, Like<PlaceOrder> S>
constexpr void Io(A& a, S& c) {
  Io(a, c.order);
}

template <class A, Like<CancelOrder> S>
constexpr void Io(A& a, S& c) {
  Io(a, c.ref);
  a.Field(c.new_client_order_id);
  a.Field(c.restriction);
}

template <class A, Like<CancelReplace> S>
constexpr void Io(A& a, S& c) {
  Io(a, c.cancel);
  Io(a, c.order);
  a.Field(c.mode);
}

template <class A, Like<CancelAll> S>
constexpr void Io(A& a, S& c) {
  a.Field(c.account);
  a.Field(c.symbol);
}

template <class A, Like<AmendOrder> S>
constexpr void Io(A& a, S& c) {
  Io(a, c.ref);
  a.Field(c.new_client_order_id);
  a.Field(c.new_qty);
}

template <class A, Like<PlaceOco> S>
constexpr void Io(A& a, S& c) {
  a.Field(c.account);
  a.Field(c.symbol);
  a.Field(c.side);
  a.Field(c.qty);
  a.Field(c.stp);
  a.Field(c.list_client_order_id);
  Io(a, c.above);
  Io(a, c.below);
}

template <class A, Like<CancelOrderList> S>
constexpr void Io(A& a, S& c) {
  a.Field(c.account);
  a.Field(c.symbol);
  a.Field(c.order_list_id);
  a.Field(c.list_client_order_id);
}

template <class A, Like<AddAsset> S>
constexpr void Io(A& a, S& c) {
  a.Field(c.name);
  a.Field(c.scale);
}

template <class A, Like<AddSymbol> S>
constexpr void Io(A& a, S& c) {
  a.Field(c.config.name);
  a.Field(c.config.base_asset);
  a.Field(c.config.quote_asset);
  a.Field(c.config.status);
  Io(a, c.config.filters);
  a.Field(c.config.iceberg_allowed);
  a.Field(c.config.oco_allowed);
  a.Field(c.config.quote_order_qty_market_allowed);
  a.Field(c.config.cancel_replace_allowed);
  a.Field(c.config.amend_allowed);
  a.Field(c.config.default_stp);
}

template <class A, Like<SetSymbolStatus> S>
constexpr void Io(A& a, S& c) {
  a.Field(c.symbol);
  a.Field(c.status);
}

template <class A, Like<OpenAccount> S>
constexpr void Io(A& a, S& c) {
  a.Field(c.account);
}

template <class A, class S>
requires Like<S, Deposit> || Like<S, Withdraw>
constexpr void Io(A& a, S& c) {
  a.Field(c.account);
  a.Field(c.asset);
  a.Field(c.amount);
}

template <class A, Like<SetFees> S>
constexpr void Io(A& a, S& c) {
  a.Field(c.account);
  a.Field(c.maker_rate_e8);
  a.Field(c.taker_rate_e8);
}

template <class A, Like<SetAccountStp> S>
constexpr void Io(A& a, S& c) {
  a.Field(c.account);
  a.Field(c.mode);
}

template <class A, Like<FreezeAccount> S>
constexpr void Io(A& a, S& c) {
  a.Field(c.account);
  a.Field(c.frozen);
}

// ---- Type tags (codec.h's table). Stable forever; never reuse a number.

template <class T>
constexpr uint16_t kTag = 0;
template <>
constexpr uint16_t kTag<PlaceOrder> = 1;
template <>
constexpr uint16_t kTag<CancelOrder> = 2;
template <>
constexpr uint16_t kTag<CancelReplace> = 3;
template <>
constexpr uint16_t kTag<CancelAll> = 4;
template <>
constexpr uint16_t kTag<AmendOrder> = 5;
template <>
constexpr uint16_t kTag<PlaceOco> = 6;
template <>
constexpr uint16_t kTag<CancelOrderList> = 7;
template <>
constexpr uint16_t kTag<AddAsset> = 20;
template <>
constexpr uint16_t kTag<AddSymbol> = 21;
template <>
constexpr uint16_t kTag<SetSymbolStatus> = 22;
template <>
constexpr uint16_t kTag<OpenAccount> = 30;
template <>
constexpr uint16_t kTag<Deposit> = 31;
template <>
constexpr uint16_t kTag<Withdraw> = 32;
template <>
constexpr uint16_t kTag<SetFees> = 33;
template <>
constexpr uint16_t kTag<SetAccountStp> = 34;
template <>
constexpr uint16_t kTag<FreezeAccount> = 35;

template <class T>
constexpr size_t FixedSize() {
  SizeCounter counter;
  const T value{};
  Io(counter, value);
  return counter.size;
}

// The layout table in codec.h, checked. A failure here means a field list changed: that is a new
// format version, not an edit of version 1.
static_assert(FixedSize<PlaceOrder>() == 57);
static_assert(FixedSize<CancelOrder>() == 23);
static_assert(FixedSize<CancelReplace>() == 81);
static_assert(FixedSize<CancelAll>() == 12);
static_assert(FixedSize<AmendOrder>() == 30);
static_assert(FixedSize<PlaceOco>() == 77);
static_assert(FixedSize<CancelOrderList>() == 21);
static_assert(FixedSize<AddAsset>() == 5);
static_assert(FixedSize<AddSymbol>() == 155);
static_assert(FixedSize<SetSymbolStatus>() == 5);
static_assert(FixedSize<OpenAccount>() == 8);
static_assert(FixedSize<Deposit>() == 20);
static_assert(FixedSize<Withdraw>() == 20);
static_assert(FixedSize<SetFees>() == 24);
static_assert(FixedSize<SetAccountStp>() == 9);
static_assert(FixedSize<FreezeAccount>() == 9);

// Tripwires for command.h: a new alternative or a new field changes these and must be added to
// the codec (under a new tag / a new format version) before the build passes again.
static_assert(std::variant_size_v<CommandBody> == 16);
static_assert(sizeof(NewOrder) == 96);
static_assert(sizeof(OrderRef) == 64);
static_assert(sizeof(CancelOrder) == 104);
static_assert(sizeof(CancelReplace) == 208);
static_assert(sizeof(AmendOrder) == 112);
static_assert(sizeof(OcoLeg) == 80);
static_assert(sizeof(PlaceOco) == 224);
static_assert(sizeof(CancelOrderList) == 64);
static_assert(sizeof(SymbolFilters) == 144);
static_assert(sizeof(SymbolConfig) == 192);
static_assert(sizeof(AddAsset) == 28);
static_assert(sizeof(Deposit) == 24);
static_assert(sizeof(SetFees) == 24);

template <class T>
std::expected<Command, DecodeError> DecodeBody(Reader& reader, Seq seq, TimeMs time_ms) {
  T body{};
  Io(reader, body);
  if (!reader.ok()) {
    return std::unexpected(reader.error());
  }
  if (reader.remaining() != 0) {
    return std::unexpected(DecodeError::kTrailingBytes);
  }
  return Command{.seq = seq, .time_ms = time_ms, .body = body};
}

}  // namespace

std::string_view ToString(DecodeError e) {
  switch (e) {
    case DecodeError::kTruncated:
      return "truncated";
    case DecodeError::kBadMagic:
      return "bad magic";
    case DecodeError::kUnsupportedVersion:
      return "unsupported version";
    case DecodeError::kUnknownType:
      return "unknown type";
    case DecodeError::kBadLength:
      return "bad length";
    case DecodeError::kTrailingBytes:
      return "trailing bytes";
    case DecodeError::kBadBool:
      return "bad bool";
  }
  return "unknown decode error";
}

std::vector<std::byte> EncodeCommand(const Command& command) {
  std::vector<std::byte> out;
  out.reserve(kCommandHeaderSize + 256);
  Writer writer(out);
  for (uint8_t b : kCommandMagic) {
    writer.Field(b);
  }
  writer.Field(kCommandFormatVersion);
  std::visit(
      [&writer](const auto& body) {
        using T = std::remove_cvref_t<decltype(body)>;
        static_assert(kTag<T> != 0, "every command needs a wire tag");
        writer.Field(kTag<T>);
        Io(writer, body);
      },
      command.body);
  return out;
}

std::expected<Command, DecodeError> DecodeCommand(std::span<const std::byte> bytes, Seq seq,
                                                  TimeMs time_ms) {
  Reader reader(bytes);
  // The magic as read little endian: its bytes in wire order are kCommandMagic.
  constexpr uint32_t kMagicLe = uint32_t{kCommandMagic[0]} | uint32_t{kCommandMagic[1]} << 8 |
                                uint32_t{kCommandMagic[2]} << 16 | uint32_t{kCommandMagic[3]} << 24;
  uint32_t magic = 0;
  uint16_t version = 0;
  uint16_t tag = 0;
  reader.Field(magic);
  reader.Field(version);
  reader.Field(tag);
  if (!reader.ok()) {
    return std::unexpected(reader.error());
  }
  if (magic != kMagicLe) {
    return std::unexpected(DecodeError::kBadMagic);
  }
  if (version != kCommandFormatVersion) {
    return std::unexpected(DecodeError::kUnsupportedVersion);
  }
  switch (tag) {
    case kTag<PlaceOrder>:
      return DecodeBody<PlaceOrder>(reader, seq, time_ms);
    case kTag<CancelOrder>:
      return DecodeBody<CancelOrder>(reader, seq, time_ms);
    case kTag<CancelReplace>:
      return DecodeBody<CancelReplace>(reader, seq, time_ms);
    case kTag<CancelAll>:
      return DecodeBody<CancelAll>(reader, seq, time_ms);
    case kTag<AmendOrder>:
      return DecodeBody<AmendOrder>(reader, seq, time_ms);
    case kTag<PlaceOco>:
      return DecodeBody<PlaceOco>(reader, seq, time_ms);
    case kTag<CancelOrderList>:
      return DecodeBody<CancelOrderList>(reader, seq, time_ms);
    case kTag<AddAsset>:
      return DecodeBody<AddAsset>(reader, seq, time_ms);
    case kTag<AddSymbol>:
      return DecodeBody<AddSymbol>(reader, seq, time_ms);
    case kTag<SetSymbolStatus>:
      return DecodeBody<SetSymbolStatus>(reader, seq, time_ms);
    case kTag<OpenAccount>:
      return DecodeBody<OpenAccount>(reader, seq, time_ms);
    case kTag<Deposit>:
      return DecodeBody<Deposit>(reader, seq, time_ms);
    case kTag<Withdraw>:
      return DecodeBody<Withdraw>(reader, seq, time_ms);
    case kTag<SetFees>:
      return DecodeBody<SetFees>(reader, seq, time_ms);
    case kTag<SetAccountStp>:
      return DecodeBody<SetAccountStp>(reader, seq, time_ms);
    case kTag<FreezeAccount>:
      return DecodeBody<FreezeAccount>(reader, seq, time_ms);
    default:
      return std::unexpected(DecodeError::kUnknownType);
  }
}

}  // namespace spotex::proto
