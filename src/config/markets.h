// The exchange's markets (assets, symbols with their filters, default fees) from a TOML file.
//
// On first start a service turns the file into engine commands and sends them through the
// command log like any other command, so the markets are in the log (and every replay lists
// them again) rather than in a side channel. The schema is documented in
// docs/markets-config.md; etc/markets.toml is the default market set.
//
// Decimal values are TOML strings ("0.01"), parsed exactly with core::ParseDecimal at the scale
// of the unit they are in (never through a TOML float). The loader is strict: unknown keys,
// missing required keys, wrong types, values that do not fit their scale or range, duplicate
// names and symbols on unknown assets are all errors, so a typo is never silently ignored.
//
// Thread safety: the functions are pure apart from LoadMarkets reading its file; they may be
// called from any thread. No exception escapes them: every problem is a MarketsError.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "engine/command.h"

namespace spotex::config {

// Limits on what a markets file may hold (STYLE.md §5: everything fed from outside is bounded).
inline constexpr size_t kMaxMarketsFileBytes = size_t{8} << 20;
inline constexpr size_t kMaxAssets = 1024;
inline constexpr size_t kMaxSymbols = 4096;

// Why a markets file was refused. `message` reads
//   "<source>:<line>:<column>: <key path>: <what is wrong>"
// e.g. `etc/markets.toml:14:13: symbol[0].tick_size: "0.001x" is not a decimal ...`; the
// position is left out where none is known (a file that cannot be read).
struct MarketsError {
  std::string message;
};

// Parses `toml_text` into the engine commands that list the markets, in this order:
//   AddAsset for each [[asset]] (file order), AddSymbol for each [[symbol]] (file order), then
//   SetFees{engine::kDefaultsAccount, ...} if a [fees] table is present.
// The commands carry the asset ids the engine will assign when they are applied, in order, to
// an EMPTY engine (ids are dense from 0 in listing order), which is what first start does.
// On success, applying them to an empty engine accepts every one: besides its own checks the
// loader applies them to a scratch engine and refuses the file if the engine would refuse a
// command. `source_name` only names the text in error messages (a path, usually).
[[nodiscard]] std::expected<std::vector<engine::CommandBody>, MarketsError> ParseMarkets(
    std::string_view toml_text, std::string_view source_name);

// Reads the file at `path` (at most kMaxMarketsFileBytes) and parses it with ParseMarkets; a
// file that cannot be read is an error naming the path and the system's reason.
[[nodiscard]] std::expected<std::vector<engine::CommandBody>, MarketsError> LoadMarkets(
    const std::string& path);

}  // namespace spotex::config
