// The market streams of one gateway replica (BINANCE_API.md §8): accepts WebSocket connections
// on /ws[/<stream>/...] (raw payloads) and /stream?streams=a/b (combined envelope), keeps each
// connection's subscriptions (SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET/GET_PROPERTY),
// and fans every stream message out to its subscribers: a payload is encoded once per stream
// and the same bytes are queued on every connection (http::WsConnection::Send shares them).
//
// Real-time streams (trade, aggTrade, depth diffs, bookTicker) are published from the event
// feed as each envelope is applied (StreamEncoder); the periodic ones (partial depth, klines,
// tickers) by Tick(), which the gateway calls every 100 ms. A slow subscriber is closed by the
// transport when its bounded send queue overflows; nobody else waits for it.
//
// Beyond Binance (docs/streams.md): SET_PROPERTY ["checksum",true] adds "cs" to depthUpdates;
// RESUME ["<symbol>@depth"|"<symbol>@trade", <from id>] subscribes a stream and first replays
// what the connection missed from a bounded history (StreamHistory), gap-free with the live
// messages that follow.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gateway/http/websocket.h"
#include "gateway/market/market_data.h"
#include "gateway/streams/control.h"
#include "gateway/streams/encoder.h"
#include "gateway/streams/history.h"
#include "gateway/streams/second_bars.h"

namespace spotex::gateway::streams {

struct StreamHubConfig {
  StreamHistory::Limits history;
  // New WebSocket connections per client IP (Binance: 300 attempts per 5 minutes); an attempt
  // over the limit is refused with HTTP 429 (-1003) and a Retry-After header, and is not
  // counted. 0 = no limit. At most `tracked_ips_max` addresses are tracked; when that many are
  // within their window, new addresses are not limited (fail open: a flood of addresses must
  // not lock everyone out).
  uint32_t connections_per_ip = 300;
  int64_t connections_window_ms = 5 * 60'000;
  size_t tracked_ips_max = 100'000;
  // Milliseconds for the window (steady); empty = std::chrono::steady_clock.
  std::function<int64_t()> clock;
};

class StreamHub {
 public:
  // `market` is read for the periodic streams; `known` says which symbols exist.
  StreamHub(const MarketData& market, SymbolKnown known, StreamHubConfig config = {});

  // The transport's factory (http::WsFactory): parses the path's streams, subscribes them.
  // An invalid stream name in the URL refuses the upgrade with 400 and Binance's message.
  std::expected<http::WsHandlers, http::Response> Accept(
      const http::WsRequest& request, const std::shared_ptr<http::WsConnection>& connection);

  // Sends each message to the subscribers of its stream.
  void Publish(const std::vector<StreamMessage>& messages);

  // Sends the periodic streams that are due at `now_ms` (call every 100 ms).
  void Tick(int64_t now_ms);

  // Sends {"e":"serverShutdown","E":now} to every connection (before the server closes them).
  void ShutdownNotice(int64_t now_ms);

  size_t connections() const;
  size_t subscribers(const StreamKey& key) const;
  // Stream subscriptions over all connections (for the metrics; walks every stream).
  size_t subscriptions() const;

 private:
  struct Conn {
    std::shared_ptr<http::WsConnection> ws;
    Subscriptions subs;
  };

  // The per-IP connection limit: records an attempt from `ip`, or says how many seconds until
  // it would be allowed (then nothing is recorded).
  std::optional<int64_t> AdmitIp(const std::string& ip);
  void OnMessage(uint64_t id, std::string_view text);
  // Under mu_: answers a RESUME of connection `c` (the reply, then the replayed payloads).
  void Resume(uint64_t id, Conn& c, const Subscriptions::Outcome::Resume& r);
  void OnClose(uint64_t id);
  // Under mu_: connection `id` now does / no longer does receive `key`.
  void Link(uint64_t id, const StreamKey& key);
  void Unlink(uint64_t id, const StreamKey& key);
  // `raw_cs`/`combined_cs`: the checksum variants, for connections with the "checksum"
  // property (null: they get the plain payloads too).
  void SendTo(const StreamKey& key, const std::shared_ptr<const std::string>& raw,
              const std::shared_ptr<const std::string>& combined,
              const std::shared_ptr<const std::string>& raw_cs = nullptr,
              const std::shared_ptr<const std::string>& combined_cs = nullptr);

  const MarketData& market_;
  const SymbolKnown known_;
  mutable std::mutex mu_;
  std::map<uint64_t, Conn> conns_;
  std::map<StreamKey, std::set<uint64_t>> subscribers_;
  int64_t last_tick_ms_ = 0;
  size_t checksum_conns_ = 0;  // connections with the "checksum" property on
  StreamHistory history_;
  SecondBars seconds_;  // <symbol>@kline_1s, fed from the published trades
  const StreamHubConfig config_;
  std::mutex ip_mu_;  // apart from mu_: connecting never waits for the fan-out
  std::map<std::string, std::deque<int64_t>> attempts_;  // per IP, within the window
};

// The connection's initial streams from its request target: "/ws/<s1>/<s2>" (segments that are
// not stream names, such as ccxt's "/ws/0", are ignored, as Binance does) or
// "/stream?streams=<s1>/<s2>" (combined); an invalid stream in `streams=` is an error.
struct InitialStreams {
  bool combined = false;
  std::vector<StreamKey> keys;
};
std::expected<InitialStreams, std::string> ParseTarget(std::string_view target,
                                                       const SymbolKnown& known);

}  // namespace spotex::gateway::streams
