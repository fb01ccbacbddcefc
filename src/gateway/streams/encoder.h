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
#pragma once

#include <map>
#include <string>
#include <vector>

#include "gateway/market/market_data.h"
#include "gateway/streams/stream_name.h"
#include "proto/envelope.h"

namespace spotex::gateway::streams {

struct StreamMessage {
  StreamKey key;
  std::string raw;       // the payload, as raw (/ws) connections receive it
  std::string combined;  // {"stream":"<name>","data":<raw>}, for combined connections
};

// Wraps a payload for combined connections.
std::string Combined(const StreamKey& key, std::string_view raw);

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
