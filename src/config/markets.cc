#include "config/markets.h"

#include <fcntl.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/decimal.h"
#include "core/types.h"
#include "engine/engine.h"
#include "engine/reject.h"
#include "engine/types.h"

namespace spotex::config {
namespace {

using engine::CommandBody;
using Commands = std::vector<CommandBody>;
template <class T>
using Result = std::expected<T, MarketsError>;

// Fee rates and PERCENT_PRICE_BY_SIDE multipliers are fixed point with 8 decimals.
constexpr int kRateScale = 8;
// Bounds on text echoed from the file into a message.
constexpr size_t kQuoteMaxChars = 64;
constexpr size_t kSuggestMaxChars = 64;

// `s` in double quotes, printable ASCII as is, anything else as \xNN, cut at kQuoteMaxChars:
// an error message stays one short line whatever the file holds.
std::string Quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < kQuoteMaxChars; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (s.size() > kQuoteMaxChars) {
    out += "...";
  }
  out += '"';
  return out;
}

std::string_view TypeName(toml::node_type t) {
  switch (t) {
    case toml::node_type::none:
      return "nothing";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
  }
  return "an unknown type";
}

// Edit distance, for "did you mean" on unknown keys. Both strings are short (bounded by the
// caller), so the quadratic table is small.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    prev[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// Formats errors as "<source>:<line>:<column>: <path>: <what>".
class Context {
 public:
  explicit Context(std::string_view source) : source_(source.empty() ? "markets" : source) {}

  MarketsError Error(const toml::source_region* at, std::string_view path,
                     std::string_view what) const {
    std::string m(source_);
    if (at != nullptr && at->begin.line > 0) {
      m += ':' + std::to_string(at->begin.line) + ':' + std::to_string(at->begin.column);
    }
    m += ": ";
    if (!path.empty()) {
      m += path;
      m += ": ";
    }
    m += what;
    return MarketsError{std::move(m)};
  }

 private:
  std::string_view source_;
};

// A unit decimal values are written in: its scale and, for messages, what has that scale.
struct Unit {
  int scale;
  std::string what;  // "USDT", "rates"
};

enum class Need : uint8_t { kRequired, kOptional };

// Reads the keys of one table. It keeps the first error and turns every later read into a
// no-op, so that a table's fields read as a flat list with one error check at the end. An
// optional key that is absent leaves its output untouched (the caller's default stands).
class FieldReader {
 public:
  FieldReader(const Context& ctx, const toml::table& table, std::string path)
      : ctx_(ctx), table_(table), path_(std::move(path)) {}

  bool ok() const { return !error_.has_value(); }
  MarketsError TakeError() { return std::move(*error_); }
  const std::string& path() const { return path_; }

  // Fails on the first key not in `known`: a typo must not be silently ignored.
  void CheckKeys(std::span<const std::string_view> known) {
    for (auto&& [key, node] : table_) {
      if (!ok()) {
        return;
      }
      const std::string_view k = key.str();
      if (std::find(known.begin(), known.end(), k) != known.end()) {
        continue;
      }
      std::string what = "unknown key";
      if (k.size() <= kSuggestMaxChars) {
        for (std::string_view candidate : known) {
          if (EditDistance(k, candidate) <= 2) {
            what += " (did you mean \"" + std::string(candidate) + "\"?)";
            break;
          }
        }
      }
      error_ = ctx_.Error(&key.source(), KeyPath(k), what);
    }
  }

  void String(std::string_view key, Need need, std::string* out) {
    const toml::node* n = Get(key, need);
    if (n == nullptr) {
      return;
    }
    if (const auto* s = n->as_string()) {
      *out = s->get();
    } else {
      FailAt(n, key, "expected a string, got " + std::string(TypeName(n->type())));
    }
  }

  template <class Int>
  void Integer(std::string_view key, Need need, int64_t min, int64_t max, Int* out) {
    const toml::node* n = Get(key, need);
    if (n == nullptr) {
      return;
    }
    const auto* i = n->as_integer();
    if (i == nullptr) {
      FailAt(n, key, "expected an integer, got " + std::string(TypeName(n->type())));
      return;
    }
    const int64_t v = i->get();
    if (v < min || v > max) {
      FailAt(n, key,
             std::to_string(v) + " is out of range [" + std::to_string(min) + ", " +
                 std::to_string(max) + "]");
      return;
    }
    *out = static_cast<Int>(v);
  }

  void Bool(std::string_view key, bool* out) {
    const toml::node* n = Get(key, Need::kOptional);
    if (n == nullptr) {
      return;
    }
    if (const auto* b = n->as_boolean()) {
      *out = b->get();
    } else {
      FailAt(n, key, "expected true or false, got " + std::string(TypeName(n->type())));
    }
  }

  // A decimal string in `unit`, as a count of 10^-unit.scale. Never a TOML float: floats are
  // binary and would round.
  void Decimal(std::string_view key, const Unit& unit, Need need, int64_t* out) {
    const toml::node* n = Get(key, need);
    if (n == nullptr) {
      return;
    }
    const auto* s = n->as_string();
    if (s == nullptr) {
      std::string what =
          "expected a decimal string such as \"0.01\", got " + std::string(TypeName(n->type()));
      if (n->is_number()) {
        what += " (write the number in quotes: it is parsed exactly)";
      }
      FailAt(n, key, what);
      return;
    }
    const std::string_view text = s->get();
    const auto v = core::ParseDecimal(text, unit.scale);
    if (v.has_value()) {
      *out = *v;
      return;
    }
    const std::string scale = std::to_string(unit.scale);
    switch (v.error()) {
      case core::DecimalError::kSyntax:
        FailAt(n, key,
               Quote(text) +
                   " is not a decimal (write digits with an optional fraction, like \"0.01\"; "
                   "no sign, no exponent)");
        return;
      case core::DecimalError::kTooPrecise:
        FailAt(
            n, key,
            Quote(text) + " has more than " + scale + " decimals (the scale of " + unit.what + ")");
        return;
      case core::DecimalError::kOutOfRange:
        FailAt(n, key,
               Quote(text) + " is too large for " + unit.what + " at " + scale + " decimals");
        return;
    }
  }

  // Fails with `what` at `key` (at the table itself when the key is absent).
  void Fail(std::string_view key, std::string_view what) {
    if (ok()) {
      const toml::node* n = table_.get(key);
      error_ = ctx_.Error(n != nullptr ? &n->source() : &table_.source(), KeyPath(key), what);
    }
  }

 private:
  std::string KeyPath(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  const toml::node* Get(std::string_view key, Need need) {
    if (!ok()) {
      return nullptr;
    }
    const toml::node* n = table_.get(key);
    if (n == nullptr && need == Need::kRequired) {
      error_ = ctx_.Error(&table_.source(), KeyPath(key), "missing required key");
    }
    return n;
  }

  void FailAt(const toml::node* n, std::string_view key, std::string_view what) {
    error_ = ctx_.Error(&n->source(), KeyPath(key), what);
  }

  const Context& ctx_;
  const toml::table& table_;
  std::string path_;
  std::optional<MarketsError> error_;
};

struct AssetInfo {
  std::string name;
  int scale;
  engine::AssetId id;
};

// Where a command came from, to name it when the engine refuses it.
struct Origin {
  std::string path;
  toml::source_region region;
};

constexpr std::string_view kRootKeys[] = {"fees", "asset", "symbol"};
constexpr std::string_view kFeeKeys[] = {"maker", "taker"};
constexpr std::string_view kAssetKeys[] = {"name", "scale"};
constexpr std::string_view kSymbolKeys[] = {
    "name",
    "base",
    "quote",
    "status",
    "tick_size",
    "min_price",
    "max_price",
    "step_size",
    "min_qty",
    "max_qty",
    "market_step_size",
    "market_min_qty",
    "market_max_qty",
    "min_notional",
    "max_notional",
    "apply_min_to_market",
    "apply_max_to_market",
    "legacy_min_notional",
    "avg_price_mins",
    "bid_multiplier_up",
    "bid_multiplier_down",
    "ask_multiplier_up",
    "ask_multiplier_down",
    "iceberg_parts",
    "max_num_orders",
    "max_num_algo_orders",
    "iceberg_allowed",
    "oco_allowed",
    "quote_order_qty_market_allowed",
    "cancel_replace_allowed",
    "amend_allowed",
    "default_stp",
};

// Turns the parsed document into commands. One instance parses one document.
class MarketsParser {
 public:
  explicit MarketsParser(std::string_view source) : ctx_(source) {}

  Result<Commands> Parse(const toml::table& root) {
    FieldReader top(ctx_, root, "");
    top.CheckKeys(kRootKeys);
    if (!top.ok()) {
      return std::unexpected(top.TakeError());
    }
    if (auto r = ParseTables(root, "asset", kMaxAssets, &MarketsParser::ParseAsset); !r) {
      return std::unexpected(std::move(r.error()));
    }
    if (auto r = ParseTables(root, "symbol", kMaxSymbols, &MarketsParser::ParseSymbol); !r) {
      return std::unexpected(std::move(r.error()));
    }
    if (const toml::node* fees = root.get("fees"); fees != nullptr) {
      const toml::table* t = fees->as_table();
      if (t == nullptr) {
        return std::unexpected(
            ctx_.Error(&fees->source(), "fees",
                       "expected a table ([fees]), got " + std::string(TypeName(fees->type()))));
      }
      if (auto r = ParseFees(*t); !r) {
        return std::unexpected(std::move(r.error()));
      }
    }
    if (auto r = DryRun(); !r) {
      return std::unexpected(std::move(r.error()));
    }
    return std::move(commands_);
  }

 private:
  using TableParser = Result<void> (MarketsParser::*)(const toml::table&, std::string);

  // Parses the array of tables `[[key]]` (absent: none), each with `parse`.
  Result<void> ParseTables(const toml::table& root, std::string_view key, size_t max,
                           TableParser parse) {
    const toml::node* node = root.get(key);
    if (node == nullptr) {
      return {};
    }
    const toml::array* array = node->as_array();
    if (array == nullptr) {
      return std::unexpected(ctx_.Error(&node->source(), key,
                                        "expected an array of tables ([[" + std::string(key) +
                                            "]]), got " + std::string(TypeName(node->type()))));
    }
    if (array->size() > max) {
      return std::unexpected(
          ctx_.Error(&node->source(), key, "more than " + std::to_string(max) + " entries"));
    }
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::node& element = *array->get(i);
      std::string path = std::string(key) + "[" + std::to_string(i) + "]";
      const toml::table* table = element.as_table();
      if (table == nullptr) {
        return std::unexpected(
            ctx_.Error(&element.source(), path,
                       "expected a table, got " + std::string(TypeName(element.type()))));
      }
      if (auto r = (this->*parse)(*table, std::move(path)); !r) {
        return r;
      }
    }
    return {};
  }

  Result<void> ParseAsset(const toml::table& table, std::string path) {
    FieldReader r(ctx_, table, std::move(path));
    r.CheckKeys(kAssetKeys);
    std::string name;
    int scale = 0;
    r.String("name", Need::kRequired, &name);
    r.Integer("scale", Need::kRequired, 0, core::kMaxScale, &scale);
    engine::Name engine_name;
    if (r.ok() && !engine_name.Assign(name)) {
      r.Fail("name", Quote(name) + " is not a valid asset name (1 to 20 of A-Z 0-9)");
    }
    if (r.ok() && asset_index_.contains(name)) {
      r.Fail("name", "duplicate asset " + Quote(name));
    }
    if (!r.ok()) {
      return std::unexpected(r.TakeError());
    }
    const auto id = static_cast<engine::AssetId>(assets_.size());
    asset_index_.emplace(name, assets_.size());
    assets_.push_back(AssetInfo{.name = name, .scale = scale, .id = id});
    Emit(engine::AddAsset{.name = engine_name, .scale = scale}, r.path(), table);
    return {};
  }

  // The asset named by `key` ("base"/"quote"), or nullptr after failing `r`.
  const AssetInfo* LookUpAsset(FieldReader& r, std::string_view key) {
    std::string name;
    r.String(key, Need::kRequired, &name);
    if (!r.ok()) {
      return nullptr;
    }
    const auto it = asset_index_.find(name);
    if (it == asset_index_.end()) {
      r.Fail(key, "unknown asset " + Quote(name) + " (list it in an [[asset]] table)");
      return nullptr;
    }
    return &assets_[it->second];
  }

  Result<void> ParseSymbol(const toml::table& table, std::string path) {
    FieldReader r(ctx_, table, std::move(path));
    r.CheckKeys(kSymbolKeys);
    std::string name;
    r.String("name", Need::kRequired, &name);
    engine::SymbolConfig c;
    if (r.ok() && !c.name.Assign(name)) {
      r.Fail("name", Quote(name) + " is not a valid symbol name (1 to 20 of A-Z 0-9)");
    }
    if (r.ok() && symbol_names_.contains(name)) {
      r.Fail("name", "duplicate symbol " + Quote(name));
    }
    const AssetInfo* base = LookUpAsset(r, "base");
    const AssetInfo* quote = LookUpAsset(r, "quote");
    if (r.ok() && base == quote) {
      r.Fail("quote", "must differ from base");
    }
    if (!r.ok()) {
      return std::unexpected(r.TakeError());
    }
    c.base_asset = base->id;
    c.quote_asset = quote->id;
    ReadStatusAndFlags(r, &c);
    ReadFilters(r, *base, *quote, &c.filters);
    CheckFilters(r, *base, *quote, c.filters);
    if (!r.ok()) {
      return std::unexpected(r.TakeError());
    }
    symbol_names_.insert(name);
    Emit(engine::AddSymbol{.config = c}, r.path(), table);
    return {};
  }

  static void ReadStatusAndFlags(FieldReader& r, engine::SymbolConfig* c) {
    std::string status = "TRADING";
    r.String("status", Need::kOptional, &status);
    if (!r.ok()) {
      return;
    }
    bool known = false;
    for (auto s : {engine::SymbolStatus::kTrading, engine::SymbolStatus::kHalt,
                   engine::SymbolStatus::kBreak}) {
      if (status == engine::ToString(s)) {
        c->status = s;
        known = true;
      }
    }
    if (!known) {
      r.Fail("status", Quote(status) + " is not one of \"TRADING\", \"HALT\", \"BREAK\"");
    }
    std::string stp(engine::ToString(c->default_stp));
    r.String("default_stp", Need::kOptional, &stp);
    if (!r.ok()) {
      return;
    }
    known = false;
    for (auto m : {engine::StpMode::kNone, engine::StpMode::kExpireTaker,
                   engine::StpMode::kExpireMaker, engine::StpMode::kExpireBoth}) {
      if (stp == engine::ToString(m)) {
        c->default_stp = m;
        known = true;
      }
    }
    if (!known) {
      r.Fail("default_stp", Quote(stp) +
                                " is not one of \"NONE\", \"EXPIRE_TAKER\", \"EXPIRE_MAKER\", "
                                "\"EXPIRE_BOTH\"");
    }
    r.Bool("iceberg_allowed", &c->iceberg_allowed);
    r.Bool("oco_allowed", &c->oco_allowed);
    r.Bool("quote_order_qty_market_allowed", &c->quote_order_qty_market_allowed);
    r.Bool("cancel_replace_allowed", &c->cancel_replace_allowed);
    r.Bool("amend_allowed", &c->amend_allowed);
  }

  // Units (core/types.h): prices are quote units per whole base unit, so they take the quote
  // asset's scale; quantities the base asset's; notionals the quote asset's.
  static void ReadFilters(FieldReader& r, const AssetInfo& base, const AssetInfo& quote,
                          engine::SymbolFilters* f) {
    const Unit price{quote.scale, quote.name};
    const Unit qty{base.scale, base.name};
    const Unit rate{kRateScale, "rates"};
    constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max();
    r.Decimal("tick_size", price, Need::kRequired, &f->tick_size.v);
    r.Decimal("min_price", price, Need::kOptional, &f->min_price.v);
    r.Decimal("max_price", price, Need::kOptional, &f->max_price.v);
    r.Decimal("step_size", qty, Need::kRequired, &f->step_size.v);
    r.Decimal("min_qty", qty, Need::kOptional, &f->min_qty.v);
    r.Decimal("max_qty", qty, Need::kOptional, &f->max_qty.v);
    // MARKET_LOT_SIZE bounds default to LOT_SIZE's; its step defaults to 0, which the engine
    // reads as "LOT_SIZE's step".
    f->market_min_qty = f->min_qty;
    f->market_max_qty = f->max_qty;
    r.Decimal("market_step_size", qty, Need::kOptional, &f->market_step_size.v);
    r.Decimal("market_min_qty", qty, Need::kOptional, &f->market_min_qty.v);
    r.Decimal("market_max_qty", qty, Need::kOptional, &f->market_max_qty.v);
    r.Decimal("min_notional", price, Need::kOptional, &f->min_notional.v);
    r.Decimal("max_notional", price, Need::kOptional, &f->max_notional.v);
    r.Bool("apply_min_to_market", &f->apply_min_to_market);
    r.Bool("apply_max_to_market", &f->apply_max_to_market);
    r.Bool("legacy_min_notional", &f->legacy_min_notional);
    r.Integer("avg_price_mins", Need::kOptional, 1, 1440, &f->avg_price_mins);
    r.Decimal("bid_multiplier_up", rate, Need::kOptional, &f->bid_multiplier_up_e8);
    r.Decimal("bid_multiplier_down", rate, Need::kOptional, &f->bid_multiplier_down_e8);
    r.Decimal("ask_multiplier_up", rate, Need::kOptional, &f->ask_multiplier_up_e8);
    r.Decimal("ask_multiplier_down", rate, Need::kOptional, &f->ask_multiplier_down_e8);
    r.Integer("iceberg_parts", Need::kOptional, 0, 100, &f->iceberg_parts);
    r.Integer("max_num_orders", Need::kOptional, 0, kInt32Max, &f->max_num_orders);
    r.Integer("max_num_algo_orders", Need::kOptional, 0, kInt32Max, &f->max_num_algo_orders);
  }

  // The engine's listing rules (engine/admin.cc CheckSymbolConfig), checked here to name the
  // key at fault; the dry run catches anything these miss.
  static void CheckFilters(FieldReader& r, const AssetInfo& base, const AssetInfo& quote,
                           const engine::SymbolFilters& f) {
    if (!r.ok()) {
      return;
    }
    if (f.tick_size.v == 0) {
      r.Fail("tick_size", "must be greater than 0");
    }
    if (f.step_size.v == 0) {
      r.Fail("step_size", "must be greater than 0");
    }
    const auto below = [&r](int64_t max, int64_t min, std::string_view max_key,
                            std::string_view min_key) {
      if (max > 0 && max < min) {
        r.Fail(max_key, "must not be below " + std::string(min_key) + " (or \"0\": no maximum)");
      }
    };
    below(f.max_price.v, f.min_price.v, "max_price", "min_price");
    below(f.max_qty.v, f.min_qty.v, "max_qty", "min_qty");
    below(f.market_max_qty.v, f.market_min_qty.v, "market_max_qty", "market_min_qty");
    below(f.max_notional.v, f.min_notional.v, "max_notional", "min_notional");
    below(f.bid_multiplier_up_e8, f.bid_multiplier_down_e8, "bid_multiplier_up",
          "bid_multiplier_down");
    below(f.ask_multiplier_up_e8, f.ask_multiplier_down_e8, "ask_multiplier_up",
          "ask_multiplier_down");
    if (!r.ok()) {
      return;
    }
    // Settlement never rounds: the notional of any on-grid (price, qty) must be a whole number
    // of quote units, i.e. tick_size × step_size a multiple of one whole base unit.
    const int64_t base_unit = core::Pow10(base.scale);
    const auto exact = [&](int64_t step) {
      return (static_cast<__int128>(f.tick_size.v) * step) % base_unit == 0;
    };
    const std::string finer = " is finer than the smallest unit of " + quote.name + " (" +
                              core::FormatDecimal(1, quote.scale) +
                              "), so a trade's notional could need rounding";
    if (!exact(f.step_size.v)) {
      r.Fail("step_size",
             "tick_size x step_size" + finer + "; make tick_size or step_size coarser");
    } else if (f.market_step_size.v > 0 && f.market_step_size.v % f.step_size.v != 0) {
      r.Fail("market_step_size", "must be a multiple of step_size");
    } else if (f.market_step_size.v > 0 && !exact(f.market_step_size.v)) {
      r.Fail("market_step_size", "tick_size x market_step_size" + finer);
    }
  }

  Result<void> ParseFees(const toml::table& table) {
    FieldReader r(ctx_, table, "fees");
    r.CheckKeys(kFeeKeys);
    const Unit rate{kRateScale, "rates"};
    engine::SetFees fees{.account = engine::kDefaultsAccount};
    r.Decimal("maker", rate, Need::kRequired, &fees.maker_rate_e8);
    r.Decimal("taker", rate, Need::kRequired, &fees.taker_rate_e8);
    if (r.ok() && fees.maker_rate_e8 >= core::kRateOne) {
      r.Fail("maker", "must be below 1 (a rate: \"0.001\" is 0.1 %)");
    }
    if (r.ok() && fees.taker_rate_e8 >= core::kRateOne) {
      r.Fail("taker", "must be below 1 (a rate: \"0.001\" is 0.1 %)");
    }
    if (!r.ok()) {
      return std::unexpected(r.TakeError());
    }
    Emit(fees, "fees", table);
    return {};
  }

  void Emit(CommandBody body, const std::string& path, const toml::table& table) {
    commands_.push_back(std::move(body));
    origins_.push_back(Origin{.path = path, .region = table.source()});
  }

  // Applies the commands to a scratch engine, as first start will: a file the engine would
  // refuse in part is refused whole, before anything reaches the command log.
  Result<void> DryRun() const {
    engine::Engine scratch;
    for (size_t i = 0; i < commands_.size(); ++i) {
      const engine::Command cmd{.seq = i + 1, .time_ms = 0, .body = commands_[i]};
      const engine::RejectCode code = scratch.Apply(cmd).code;
      if (code != engine::RejectCode::kNone) {
        return std::unexpected(
            ctx_.Error(&origins_[i].region, origins_[i].path,
                       "the engine refuses this entry: " + std::string(engine::ToString(code))));
      }
    }
    return {};
  }

  Context ctx_;
  std::vector<AssetInfo> assets_;
  std::unordered_map<std::string, size_t> asset_index_;  // name -> index in assets_
  std::unordered_set<std::string> symbol_names_;
  Commands commands_;
  std::vector<Origin> origins_;  // parallel to commands_
};

}  // namespace

std::expected<std::vector<engine::CommandBody>, MarketsError> ParseMarkets(
    std::string_view toml_text, std::string_view source_name) {
  const Context ctx(source_name);
  toml::table root;
  // toml++ is built with exceptions (Debian's shared library): convert them here.
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    return std::unexpected(ctx.Error(&e.source(), "", e.description()));
  } catch (const std::exception& e) {
    return std::unexpected(ctx.Error(nullptr, "", e.what()));
  }
  return MarketsParser(source_name).Parse(root);
}

std::expected<std::vector<engine::CommandBody>, MarketsError> LoadMarkets(const std::string& path) {
  const auto fail = [&path](std::string_view what) {
    return std::unexpected(MarketsError{path + ": " + std::string(what)});
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return fail(std::string("cannot open: ") + std::strerror(errno));
  }
  std::string text;
  char buf[64 * 1024];
  int read_errno = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      read_errno = errno;
      break;
    }
    if (n == 0 || text.size() + static_cast<size_t>(n) > kMaxMarketsFileBytes) {
      text.append(buf, static_cast<size_t>(n));
      break;
    }
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (read_errno != 0) {
    return fail(std::string("cannot read: ") + std::strerror(read_errno));
  }
  if (text.size() > kMaxMarketsFileBytes) {
    return fail("larger than " + std::to_string(kMaxMarketsFileBytes) + " bytes");
  }
  return ParseMarkets(text, path);
}

}  // namespace spotex::config
