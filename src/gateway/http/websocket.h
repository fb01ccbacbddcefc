// WebSocket endpoints of spotex::http::Server (docs/gateway-http.md, "WebSocket").
//
// A GET with `Upgrade: websocket` whose path is one of ServerConfig::websocket.paths (exactly, or
// followed by '/') is offered to the application's WsFactory after the usual header limits. The
// factory accepts (returns the connection's callbacks) or refuses (returns an HTTP response).
// An accepted connection sends text frames from a bounded per-connection queue, pings the client
// and drops it when it stops answering, and closes it on every broken limit (message size, rate,
// lifetime, slow consumer) with a close code and reason. No Boost types appear here.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/http/message.h"

namespace spotex::http {

// RFC 6455 close codes the server uses.
namespace ws_close {
inline constexpr uint16_t kNormal = 1000;
inline constexpr uint16_t kGoingAway = 1001;         // server shutdown
inline constexpr uint16_t kProtocolError = 1002;     // malformed frames
inline constexpr uint16_t kUnsupportedData = 1003;   // binary message
inline constexpr uint16_t kPolicyViolation = 1008;   // slow consumer, rate limit, no pong, lifetime
inline constexpr uint16_t kTooBig = 1009;            // incoming message over the limit
}  // namespace ws_close

struct WebSocketConfig {
  // Paths that are WebSocket endpoints, e.g. {"/ws", "/stream"}: "/ws" matches "/ws",
  // "/ws/btcusdt@trade" and "/ws?x", not "/wsx". Empty: no WebSocket endpoint.
  std::vector<std::string> paths;
  // Largest incoming message (after reassembly); more closes with 1009.
  size_t max_message_bytes = 4 * 1024;
  // Incoming messages per second (text, binary, ping and pong frames count); more closes with
  // 1008 "Too many requests".
  uint32_t max_messages_per_second = 5;
  // Outgoing queue per connection; a Send() that would exceed either bound closes the connection
  // with 1008 "slow consumer".
  size_t send_queue_bytes = 4 * 1024 * 1024;
  size_t send_queue_messages = 16 * 1024;
  // A ping frame is sent every ping_interval; a connection without a pong for pong_timeout is
  // closed with 1008 "pong timeout".
  std::chrono::milliseconds ping_interval{20'000};
  std::chrono::milliseconds pong_timeout{60'000};
  // Longest connection life; then closed with 1000 "max lifetime".
  std::chrono::milliseconds max_lifetime{24 * 60 * 60 * 1000};
  // Sending the 101 answer; and, once a close began, how long the close handshake may take before
  // the TCP connection is simply closed (a client that stopped reading never completes it).
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds close_timeout{5'000};
};

namespace detail {
struct WsShared;
}  // namespace detail

// The application's handle on one WebSocket connection. Thread-safe; may outlive the connection
// and the server (then every call is a no-op).
class WsConnection {
 public:
  explicit WsConnection(std::shared_ptr<detail::WsShared> shared);

  // Queues one text message. The bytes are shared, not copied: one payload buffer can go to
  // every subscriber. Never blocks. False if the connection is closed or closing; a Send() that
  // overflows the queue closes the connection (1008 "slow consumer") and returns false.
  bool Send(std::shared_ptr<const std::string> text);

  // Starts the close handshake after the messages already queued. Later Send()s return false.
  void Close(uint16_t code, std::string reason);

  // True until the connection begins to close.
  bool open() const;

  // Server-unique connection number, for logs and maps.
  uint64_t id() const;

 private:
  std::shared_ptr<detail::WsShared> shared_;
};

// Counters of one kind of WebSocket endpoint (market streams, user data, ...), kept by the
// transport for the application's metrics (WsHandlers::stats). Relaxed atomics, readable from
// any thread; the object must outlive the server.
struct WsStats {
  std::atomic<int64_t> open{0};                   // connections open now (upgraded, not ended)
  std::atomic<uint64_t> accepted{0};              // connections accepted
  std::atomic<uint64_t> messages_sent{0};         // messages written to the socket
  std::atomic<uint64_t> messages_received{0};     // text messages handed to on_message
  std::atomic<uint64_t> slow_consumer_closes{0};  // closed because the send queue overflowed
};

// The callbacks of one accepted connection. Each runs on the connection's strand (one at a time
// per connection, concurrently across connections); none may block.
struct WsHandlers {
  // One complete incoming text message.
  std::function<void(std::string_view text)> on_message;
  // Exactly once, when the connection closes for any reason (code 1006 when no close frame was
  // exchanged). After it, Send() returns false.
  std::function<void(uint16_t code, std::string_view reason)> on_close;
  // Server shutdown began: the place to Send() a last event ({"e":"serverShutdown"}). The server
  // then closes the connection with 1001 "going away" after the queued messages.
  std::function<void()> on_shutdown;
  // This connection's limit on incoming messages per second; 0 = WebSocketConfig's. The
  // WebSocket API answers requests weighed by the rate limiter, so it allows more than the
  // market streams' 5 control messages per second.
  uint32_t max_messages_per_second = 0;
  // Where the transport counts this connection (WsStats); null = nowhere.
  WsStats* stats = nullptr;
};

// What the factory learns about an upgrade request.
struct WsRequest {
  std::string target;     // e.g. "/stream?streams=btcusdt@trade"
  std::string client_ip;  // as for HTTP requests (X-Forwarded-For from trusted proxies)
  HeaderList headers;
};

// Decides on an upgrade request, on an I/O thread; must be thread-safe and must not block. An
// error Response is sent instead of the upgrade (e.g. 400 for an invalid stream name). The
// connection may be used (Send) from inside the factory: messages go out after the 101.
using WsFactory = std::function<std::expected<WsHandlers, Response>(
    const WsRequest& request, const std::shared_ptr<WsConnection>& connection)>;

}  // namespace spotex::http
