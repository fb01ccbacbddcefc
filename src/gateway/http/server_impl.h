// Internals of spotex::http::Server, shared by server.cc and session.cc. Not part of the API.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "gateway/http/server.h"
#include "gateway/http/websocket.h"

namespace spotex::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

class WsSession;

// Guards posting to the io_context: Responders may outlive the server. `alive` turns false
// (under `mu`) after the I/O threads stopped and before the io_context is destroyed.
struct Lifeline {
  std::mutex mu;
  bool alive = true;
};

// One request's answer slot, shared by its Responder and its connection. `answered` turns true
// exactly once: by the Responder's answer, its destruction, or the handler timeout.
struct Exchange {
  std::atomic<bool> answered{false};
  std::weak_ptr<Session> session;
  std::shared_ptr<Lifeline> lifeline;
  // Set by Responder::ToCallback: the answer goes here instead of to a session.
  std::function<void(Response)> callback;
  // Responder::Note*, read by the session when it sends the answer.
  std::mutex notes_mu;
  std::string_view route;
  std::optional<uint64_t> account_id;
  std::string command_id;
};

// How an answer came to be, for the counters.
enum class AnswerKind : uint8_t { kHandler, kDropped };

// Posts `response` to the exchange's connection. False if the server or connection is gone.
bool Deliver(const std::shared_ptr<Exchange>& exchange, Response response, AnswerKind kind);

struct Counters {
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_refused{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> malformed_requests{0};
  std::atomic<uint64_t> timeouts{0};
  std::atomic<uint64_t> handler_timeouts{0};
  std::atomic<uint64_t> dropped_responders{0};
};

// What the server tracks of every connection (HTTP or WebSocket), for the connection limit and
// shutdown. Each method runs on the connection's strand (post them).
class Connection {
 public:
  virtual ~Connection() = default;
  virtual asio::any_io_executor executor() = 0;
  virtual void Drain() = 0;       // server shutdown: close when appropriate
  virtual void ForceClose() = 0;  // grace period over: close now
};

class ServerImpl {
 public:
  ServerImpl(ServerConfig config, Handler handler, WsFactory ws_factory,
             std::vector<asio::ip::address> trusted);
  ~ServerImpl();

  // Binds and listens; then Run() starts accepting and the I/O threads.
  [[nodiscard]] std::expected<void, std::string> Listen();
  [[nodiscard]] std::expected<void, std::string> Run();
  void Shutdown();
  bool Wait(std::chrono::milliseconds grace);

  uint16_t port() const { return port_; }
  bool draining() const { return draining_.load(std::memory_order_acquire); }
  ServerStats stats() const;

  const ServerConfig& config() const { return config_; }
  const Handler& handler() const { return handler_; }
  const WsFactory& ws_factory() const { return ws_factory_; }
  uint64_t NextWsId() { return next_ws_id_.fetch_add(1, std::memory_order_relaxed); }
  // A request id of this server's own: "<random per server>-<sequence>", both hex.
  std::string NextRequestId();
  const std::shared_ptr<Lifeline>& lifeline() const { return lifeline_; }
  Counters& counters() { return counters_; }

  // The client address for a request from `peer` (X-Forwarded-For when `peer` is trusted).
  std::string ClientIp(const asio::ip::address& peer, const HeaderList& headers) const;

  // Adds a connection created by an upgrade (accepted ones are added by the acceptor); it is
  // drained at once when the server is already draining.
  void Register(const std::shared_ptr<Connection>& connection);
  // Called by the connections' destructors.
  void Unregister(Connection* connection);

 private:
  void Accept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  void Refuse(tcp::socket& socket);
  std::vector<std::shared_ptr<Connection>> LiveSessions();

  const ServerConfig config_;
  const Handler handler_;
  const WsFactory ws_factory_;
  const std::vector<asio::ip::address> trusted_;
  const std::string busy_response_;  // canned 503 for connections over the limit

  // Declared before io_context_: sessions destroyed with the io_context still unregister.
  Counters counters_;
  std::shared_ptr<Lifeline> lifeline_ = std::make_shared<Lifeline>();
  mutable std::mutex sessions_mu_;
  std::condition_variable sessions_cv_;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> sessions_;
  std::atomic<bool> draining_{false};
  std::atomic<uint64_t> next_ws_id_{1};
  std::atomic<uint64_t> next_request_id_{1};
  std::string request_id_prefix_;

  std::mutex control_mu_;  // serializes Shutdown and Wait
  bool shutdown_done_ = false;
  std::optional<bool> wait_result_;

  asio::io_context io_context_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  tcp::acceptor acceptor_;
  asio::steady_timer accept_retry_timer_;
  uint16_t port_ = 0;
  std::vector<std::thread> threads_;
};

// One TCP connection: read a request, hand it to the handler, write the answer, repeat.
// Every member is touched only on the connection's strand.
class Session : public Connection, public std::enable_shared_from_this<Session> {
 public:
  Session(ServerImpl& server, tcp::socket socket, asio::ip::address peer);
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  asio::any_io_executor executor() override { return stream_.get_executor(); }

  // Each of these runs on the strand (post them).
  void Start();
  void Drain() override;  // server shutdown: close if idle, else close after the current answer
  void ForceClose() override;
  void OnAnswer(const std::shared_ptr<Exchange>& exchange, Response response, AnswerKind kind);

 private:
  enum class State : uint8_t { kIdle, kReading, kHandling, kWriting, kClosing };

  void WaitForRequest();
  void OnFirstBytes(beast::error_code ec, size_t bytes);
  void ReadHeader();
  void OnHeader(beast::error_code ec);
  void ReadBody();
  void OnBody(beast::error_code ec);
  void OnReadError(beast::error_code ec);
  void Dispatch();
  // True if `message` asks for a WebSocket on a registered path; then it was handled.
  bool TryUpgrade(bhttp::request<bhttp::string_body>& message, const HeaderList& headers,
                  const std::string& client_ip);
  void OnHandlerTimeout(const std::shared_ptr<Exchange>& exchange, beast::error_code ec);
  void Send(Response response, bool close_after);
  void OnWrite(beast::error_code ec, bool keep_alive);
  void Linger();
  void OnLinger(beast::error_code ec, size_t bytes);
  void Close();
  // The request id for the current request: the configured header's value when valid, else
  // a new one. Empty when ids are off.
  std::string AssignRequestId(const HeaderList& headers);
  // Passes the answered request to ServerConfig::on_request, then forgets it.
  void Observe(int status, bool written);

  ServerImpl& server_;
  beast::tcp_stream stream_;
  const asio::ip::address peer_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> response_;
  asio::steady_timer handler_timer_;
  std::shared_ptr<Exchange> exchange_;
  State state_ = State::kIdle;
  unsigned request_version_ = 11;
  bool request_keep_alive_ = false;
  bool request_is_head_ = false;
  size_t lingered_bytes_ = 0;
  std::vector<char> linger_buffer_;
  bool upgraded_ = false;  // stream_ moved to a WsSession

  // The request being answered, for ServerConfig::on_request (and the X-Request-Id echo).
  std::chrono::steady_clock::time_point request_start_;
  std::string request_method_;
  std::string request_path_;
  std::string request_id_;
  std::string request_client_ip_;
  std::string_view route_;
  std::optional<uint64_t> account_id_;
  std::string command_id_;
  int answer_status_ = 0;
  int answer_code_ = 0;
};

// What a WsConnection handle shares with its WsSession: the send queue and the close request.
// Guarded by `mu`; `session` and `lifeline` let a handle post to the strand while both live.
struct WsShared {
  std::mutex mu;
  std::deque<std::shared_ptr<const std::string>> queue;
  size_t queued_bytes = 0;
  bool open = true;           // false once a close was requested: Send() refused
  bool kick_pending = false;  // the session will look at the queue again without a new post
  std::optional<std::pair<uint16_t, std::string>> close_request;
  std::weak_ptr<WsSession> session;
  std::shared_ptr<Lifeline> lifeline;
  size_t max_bytes = 0;
  size_t max_messages = 0;
  uint64_t id = 0;
  WsStats* stats = nullptr;  // WsHandlers::stats, set before the session starts
};

// Asks the session to look at its queue (and close request). Call without holding `mu`.
void KickWs(const std::shared_ptr<WsShared>& shared);

// One upgraded connection: reads messages into the handlers, writes the shared queue, pings,
// and enforces the WebSocket limits. Every member is touched only on the connection's strand.
class WsSession : public Connection, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(ServerImpl& server, beast::tcp_stream stream, std::shared_ptr<WsShared> shared,
            WsHandlers handlers);
  ~WsSession() override;
  WsSession(const WsSession&) = delete;
  WsSession& operator=(const WsSession&) = delete;

  asio::any_io_executor executor() override { return ws_.get_executor(); }

  // On the strand: answers the upgrade request and starts reading.
  void Start(bhttp::request<bhttp::string_body> request);
  void Drain() override;
  void ForceClose() override;
  void Pump();  // writes the next queued message, or starts a requested close

 private:
  void OnAccept(beast::error_code ec);
  void Read();
  void OnRead(beast::error_code ec, size_t bytes);
  void OnWrite(beast::error_code ec);
  void SetCork(bool on);
  void OnPingTimer(beast::error_code ec);
  void OnControl(beast::websocket::frame_type kind);
  bool CountIncoming();  // false when over the rate limit (the close has begun)
  void RequestClose(uint16_t code, std::string reason);
  void Finish(uint16_t code, std::string reason);
  void HardClose();

  ServerImpl& server_;
  const WebSocketConfig& config_;
  beast::websocket::stream<beast::tcp_stream> ws_;
  std::shared_ptr<WsShared> shared_;
  WsHandlers handlers_;
  WsStats* const stats_;  // handlers_.stats, kept after Finish() clears handlers_
  beast::flat_buffer read_buffer_;
  std::shared_ptr<const std::string> writing_;  // the message being written
  asio::steady_timer ping_timer_;
  asio::steady_timer lifetime_timer_;
  asio::steady_timer close_timer_;
  std::chrono::steady_clock::time_point last_pong_;
  std::chrono::steady_clock::time_point rate_window_start_;
  uint32_t rate_window_count_ = 0;
  bool accepted_ = false;
  bool ping_in_flight_ = false;
  bool close_started_ = false;  // async_close issued
  bool close_timer_armed_ = false;
  bool finished_ = false;       // on_close delivered
  bool corked_ = false;         // TCP_CORK set while a burst of queued messages is written
  std::optional<std::pair<uint16_t, std::string>> our_close_;  // why we close
};

}  // namespace spotex::http::detail
