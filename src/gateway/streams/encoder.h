// Payloads of the real-time market streams (BINANCE_API.md §8) from engine events: one event
// envelope in, the stream messages it produces out, each encoded once (the transport sends the
// same bytes to every connection subscribed to that stream).
//
// Per symbol the envelope touched, in this order:
//   <symbol>@trade        one message per Trade event (t = the engine's trade id)
//   <symbol>@aggTrade     one per run of fills of one taker order at one price (a = its first
//                         trade id, as REST aggTrades numbers them)
//   <symbol>@depth, <symbol>@depth@100ms
//                         one depthUpdate when the book changed: U/u = the first/last book
//                         update id of the envelope's level changes, on the counter REST depth's
//                         lastUpdateId uses; each level once, with its quantity after the
//                         envelope ("0" = removed); no `pu`
//   <symbol>@bookTicker   when the best bid or ask (price or quantity) changed; u = the book's
//                         update id after the envelope; an empty side reads "0"
// Level changes at or below the book's update id before the envelope (already in MarketData's
// seed) are skipped, exactly as MarketData::Apply skips them, so consecutive depthUpdates of a
// symbol satisfy U(next) = u(prev) + 1 and agree with REST depth at equal update ids.
// Periodic streams (kline, tickers, partial depth) are not produced here.
//
// Beyond Binance (opt-in per connection, docs/streams.md "Checksums"): every depthUpdate also
// carries `checksum`, the CRC32 of the top kChecksumLevels levels of the book after it; the hub
// sends WithChecksum(raw, checksum) to the connections that asked for it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/market/market_data.h"
#include "gateway/streams/stream_name.h"
#include "proto/envelope.h"

namespace spotex::gateway::streams {

// A trade's figures (units at the symbol's scales), for consumers that aggregate trades
// (SecondBars) without parsing the payload.
struct TradeFacts {
  int64_t price = 0, qty = 0, quote_qty = 0, time_ms = 0;
  bool buyer_maker = false;
};

struct StreamMessage {
  StreamKey key;
  std::string raw;       // the payload, as raw (/ws) connections receive it
  std::string combined;  // {"stream":"<name>","data":<raw>}, for combined connections
  // depthUpdate only: the CRC32 of the book's top levels after the update (BookChecksum).
  std::optional<uint32_t> checksum = std::nullopt;
  // depthUpdate: U and u; trade: t twice; 0 otherwise. The envelope's time (ms), for the resume
  // history's age bound.
  int64_t first_id = 0, last_id = 0;
  int64_t event_ms = 0;
  std::optional<TradeFacts> trade = std::nullopt;  // <symbol>@trade only
};

// Wraps a payload for combined connections.
std::string Combined(const StreamKey& key, std::string_view raw);

// Levels per side covered by a depth checksum.
inline constexpr size_t kChecksumLevels = 10;

// One book level as its payload strings ("65000.00000000", "0.15000000").
using TextLevel = std::pair<std::string, std::string>;

// The canonical text a depth checksum covers: the first kChecksumLevels levels of each side,
// best first, interleaved bid 1, ask 1, bid 2, ask 2, ... (a side with fewer levels contributes
// nothing past its end), each level "price:qty" with the payloads' decimal strings, all joined
// by ':'. An empty book gives "". Pure.
std::string ChecksumText(const std::vector<TextLevel>& bids, const std::vector<TextLevel>& asks);

// CRC-32 (IEEE 802.3, zlib's crc32) of ChecksumText, as an unsigned 32-bit value. Pure.
uint32_t BookChecksum(const std::vector<TextLevel>& bids, const std::vector<TextLevel>& asks);

// `raw` (a JSON object) with `,"cs":<checksum>` added as its last field. Pure.
std::string WithChecksum(std::string_view raw, uint32_t checksum);

// Thread safety: Apply is for the single writer that feeds MarketData (the event-stream
// consumer); the MarketData's readers may run concurrently with it.
class StreamEncoder {
 public:
  // `market` must outlive the encoder; symbols are registered on it (AddSymbol) as before.
  explicit StreamEncoder(MarketData& market) : market_(market) {}

  // Applies `envelope` to the MarketData (it replaces the caller's market.Apply(envelope)) and
  // returns the messages of the real-time streams, for every registered symbol it touched
  // (events of unregistered symbols are ignored). Never fails.
  std::vector<StreamMessage> Apply(const proto::Envelope& envelope);

 private:
  MarketData& market_;
};

}  // namespace spotex::gateway::streams
