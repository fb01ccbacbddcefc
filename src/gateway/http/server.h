// HTTP/1.1 server for the gateway, on Boost.Beast/Asio (docs/gateway-http.md).
//
// N I/O threads share one io_context; each connection runs on its own strand. A connection
// reads one request at a time (pipelined requests wait in its buffer), hands it to the Handler
// and reads the next request only after the answer was written, so responses keep request order.
// The Handler may answer at once or later, from any thread, through its Responder: the order path
// answers when the engine replies. Every input is bounded (header and body size, request, idle,
// write and handler time, number of connections); bad HTTP gets a 4xx with a Binance-style body
// and the connection is closed; no input makes the server answer 5xx or stop.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/http/message.h"
#include "gateway/http/websocket.h"

namespace spotex::http {

// What the server knows of one answered request, for ServerConfig::on_request. The views are
// valid during the call only.
struct RequestRecord {
  // The method token and the target up to '?' as sent (empty when the request could not be
  // parsed). The path is client input: it may hold anything (a listenKey in /ws/<key>).
  std::string_view method;
  std::string_view path;
  // The route pattern that handled it (Responder::NoteRoute; the router notes it), or the
  // WebSocket path prefix of an upgrade; empty when nothing did.
  std::string_view route;
  int status = 0;  // 101 for an accepted WebSocket upgrade
  int code = 0;    // Response::code (Binance error code), 0 for none
  // From the request's first byte (or, for a pipelined request, from the end of the previous
  // answer) until its answer was written.
  std::chrono::nanoseconds duration{0};
  // False when writing the answer failed (the peer left, the write timed out).
  bool written = true;
  std::string_view request_id;
  std::string_view client_ip;
  // Noted by the handler (Responder::NoteAccount, NoteCommand).
  std::optional<uint64_t> account_id;
  std::string_view command_id;
};

// Called on an I/O thread after each answer (including the server's own 4xx for bad HTTP, the
// 500 for a slow handler and accepted WebSocket upgrades). Must be cheap and thread-safe, and
// must not throw (it runs in the server's completion handlers).
using RequestObserver = std::function<void(const RequestRecord&)>;

struct ServerConfig {
  // IPv4 or IPv6 address to bind ("0.0.0.0" for every interface).
  std::string address = "127.0.0.1";
  // 0 binds an ephemeral port; Server::port() tells which.
  uint16_t port = 0;
  // I/O threads running handlers and socket work; at least 1.
  int io_threads = 2;
  // Request line plus headers; more gets 431 and the connection is closed.
  size_t header_limit_bytes = 8 * 1024;
  // Request body (after chunked decoding); more gets 413 and the connection is closed.
  size_t body_limit_bytes = 64 * 1024;
  // Open connections. One more is answered 503 (-1008) and closed at once.
  size_t max_connections = 10'000;
  // From the first byte of a request to its last; a slower client is disconnected.
  std::chrono::milliseconds request_timeout{10'000};
  // Between requests on a keep-alive connection (and before the first one).
  std::chrono::milliseconds idle_timeout{60'000};
  // Writing one response.
  std::chrono::milliseconds write_timeout{10'000};
  // A handler that has not answered by then gets 500 (-1007, outcome unknown) sent for it.
  std::chrono::milliseconds handler_timeout{30'000};
  // After the last response of a connection, how long unread client bytes are still drained so
  // that closing does not reset the connection under the response.
  std::chrono::milliseconds linger_timeout{1'000};
  // Peers (IP addresses) trusted to report the client's address in X-Forwarded-For, e.g. the
  // HAProxy in front. Empty: X-Forwarded-For is ignored and the client is the TCP peer.
  std::vector<std::string> trusted_proxies;
  // WebSocket endpoints and their limits (websocket.h); used with Start(config, handler,
  // ws_factory). An open WebSocket counts against max_connections like an HTTP connection.
  WebSocketConfig websocket;
  // Request ids (docs/logging.md). When not empty, this request header (e.g. "X-Request-Id",
  // set by the proxy in front) gives each request its id if it is 1..kRequestIdMax characters
  // of [A-Za-z0-9._:+/=@-]; otherwise the server makes one up. The id is passed to the handler
  // (Request::request_id), to on_request, and echoed in the same response header.
  std::string request_id_header;
  // See RequestObserver; empty = none.
  RequestObserver on_request;
};

// Longest request id taken from a client or proxy header.
inline constexpr size_t kRequestIdMax = 64;

// True if `id` may be used as a request id (the rules of ServerConfig::request_id_header).
bool IsValidRequestId(std::string_view id);

namespace detail {
struct Exchange;
class Session;
class ServerImpl;
}  // namespace detail

// The one-shot answer channel of one request. Move-only. Send() may be called from any thread,
// at any later time, and delivers the response on the connection's strand. Only the first answer
// counts: a Responder that is destroyed without answering sends 500 (-1000) in its place, so a
// connection never hangs; an answer that comes after the handler timeout, after the connection
// closed or after the server stopped is discarded.
class Responder {
 public:
  Responder() = default;  // answers nothing; Send() returns false
  Responder(Responder&& other) noexcept = default;
  Responder& operator=(Responder&& other) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  // Queues `response` for sending. True if this was the request's answer; false if the request
  // was already answered (or timed out), the Responder is empty or moved-from, or the connection
  // or server is gone. Thread-safe; never blocks on I/O.
  bool Send(Response response);
  bool operator()(Response response) { return Send(std::move(response)); }

  // Headers added to whichever response this Responder sends (also the 500 sent for it when it
  // is dropped): a layer in front of the handler uses it for rate-limit headers. Not
  // thread-safe; call before handing the Responder on.
  void AddHeaders(HeaderList headers);

  // Notes for ServerConfig::on_request (the request log and metrics): the route pattern that
  // matched (a string that outlives the server, e.g. the router's), the authenticated account,
  // the engine command's id. Thread-safe; notes made after the answer was sent may be missed.
  void NoteRoute(std::string_view route);
  void NoteAccount(uint64_t account_id);
  void NoteCommand(std::string_view command_id);

  // True while this Responder can still answer.
  explicit operator bool() const { return exchange_ != nullptr; }

  // A Responder that is not tied to a connection: its one answer (or the 500 for a dropped
  // Responder) is passed to `callback` on the thread that sends it. For layers that feed
  // handlers requests of their own (the WebSocket API turns each message into a Request).
  static Responder ToCallback(std::function<void(Response)> callback);

 private:
  friend class detail::Session;
  explicit Responder(std::shared_ptr<detail::Exchange> exchange);
  void Abandon();

  std::shared_ptr<detail::Exchange> exchange_;
  HeaderList headers_;
};

// Called on an I/O thread for every complete, well-formed request. Must not block: long work
// goes elsewhere with the Responder. Called concurrently from several I/O threads (one call per
// connection at a time), so it must be thread-safe. An exception it throws is caught and the
// request answered 500.
using Handler = std::function<void(Request&&, Responder)>;

struct ServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0;  // over max_connections
  uint64_t connections_active = 0;
  uint64_t requests = 0;            // handed to the handler
  uint64_t malformed_requests = 0;  // answered 400/413/431 by the server itself
  uint64_t timeouts = 0;            // connections closed by request/idle/write timeout
  uint64_t handler_timeouts = 0;    // answered 500 -1007 for a slow handler
  uint64_t dropped_responders = 0;  // answered 500 -1000 for a dropped Responder
};

class Server {
 public:
  // Validates `config`, binds and listens, and starts the I/O threads. Errors (bad address,
  // port in use, invalid limits) come back as text. Never throws.
  [[nodiscard]] static std::expected<std::unique_ptr<Server>, std::string> Start(
      ServerConfig config, Handler handler);
  // Also serves WebSocket upgrades on config.websocket.paths through `ws_factory`.
  [[nodiscard]] static std::expected<std::unique_ptr<Server>, std::string> Start(
      ServerConfig config, Handler handler, WsFactory ws_factory);

  // Stop(linger_timeout) unless stopped already.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound port (the ephemeral one when ServerConfig::port was 0).
  uint16_t port() const;

  // Graceful shutdown, first half: closes the listening socket (returns once it is closed, so
  // later connection attempts are refused by the OS), closes idle keep-alive connections, and
  // marks every in-flight request's response `Connection: close`. WebSocket connections get
  // WsHandlers::on_shutdown, then a 1001 "going away" close. Idempotent; thread-safe; must
  // not be called from a handler.
  void Shutdown();

  // Second half: waits until every connection finished (at most `grace`), then closes the rest,
  // stops and joins the I/O threads. True if every connection finished within `grace`.
  // Idempotent (later calls return the first result); must not be called from a handler.
  bool Wait(std::chrono::milliseconds grace);

  // Shutdown() then Wait(grace).
  bool Stop(std::chrono::milliseconds grace);

  // True once Shutdown() began.
  bool draining() const;

  // Counters since Start; thread-safe.
  ServerStats stats() const;

 private:
  explicit Server(std::unique_ptr<detail::ServerImpl> impl);

  std::unique_ptr<detail::ServerImpl> impl_;
};

}  // namespace spotex::http
