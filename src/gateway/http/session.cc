// One connection of spotex::http::Server (server_impl.h).
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <chrono>
#include <exception>
#include <string_view>
#include <utility>

#include "gateway/http/ascii.h"
#include "gateway/http/server_impl.h"

namespace spotex::http::detail {
namespace {

// Bytes asked for by the read that waits for the next request.
constexpr size_t kFirstReadBytes = 4096;
// Beast reads at most this much per read call; the buffer may hold one such read beyond the
// header and body limits.
constexpr size_t kReadChunkBytes = 64 * 1024;
// Most bytes drained from a connection that is being closed.
constexpr size_t kLingerBytesMax = 1024 * 1024;
constexpr size_t kLingerChunkBytes = 16 * 1024;

Method ToMethod(bhttp::verb verb) {
  switch (verb) {
    case bhttp::verb::get:
      return Method::kGet;
    case bhttp::verb::head:
      return Method::kHead;
    case bhttp::verb::post:
      return Method::kPost;
    case bhttp::verb::put:
      return Method::kPut;
    case bhttp::verb::delete_:
      return Method::kDelete;
    case bhttp::verb::options:
      return Method::kOptions;
    case bhttp::verb::patch:
      return Method::kPatch;
    default:
      return Method::kOther;
  }
}

bool IsTokenChar(char c) {
  // RFC 9110 tchar.
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A handler-supplied header that may be sent: a token name, a value without CR, LF or NUL, and
// not one of the framing headers the server owns.
bool IsSendableHeader(std::string_view name, std::string_view value) {
  if (name.empty()) {
    return false;
  }
  for (const char c : name) {
    if (!IsTokenChar(c)) {
      return false;
    }
  }
  for (const char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') {
      return false;
    }
  }
  for (const std::string_view owned :
       {"Content-Length", "Transfer-Encoding", "Connection", "Content-Type"}) {
    if (ascii::EqualsIgnoreCase(name, owned)) {
      return false;
    }
  }
  return true;
}

// The answer for a request the parser rejected, or nullopt when the connection just ends (the
// peer left, a timeout, shutdown).
std::optional<Error> ErrorForParse(beast::error_code ec) {
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
    return Error{-1000, "Request header fields too large.", 431};
  }
  if (ec == bhttp::error::body_limit) {
    return Error{-1000, "Request body too large.", 413};
  }
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
      ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
    return Error{-1000, "Malformed HTTP request.", 400};
  }
  return std::nullopt;
}

}  // namespace

Session::Session(ServerImpl& server, tcp::socket socket, asio::ip::address peer)
    : server_(server),
      stream_(std::move(socket)),
      peer_(std::move(peer)),
      buffer_(server.config().header_limit_bytes + server.config().body_limit_bytes +
              kReadChunkBytes),
      handler_timer_(stream_.get_executor()) {}

Session::~Session() { server_.Unregister(this); }

void Session::Start() { WaitForRequest(); }

void Session::WaitForRequest() {
  state_ = State::kIdle;
  exchange_.reset();
  if (server_.draining()) {
    Linger();
    return;
  }
  if (buffer_.size() > 0) {
    // A pipelined request is already here.
    OnFirstBytes({}, 0);
    return;
  }
  stream_.expires_after(server_.config().idle_timeout);
  stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
                          [self = shared_from_this()](beast::error_code ec, size_t bytes) {
                            self->OnFirstBytes(ec, bytes);
                          });
}

void Session::OnFirstBytes(beast::error_code ec, size_t bytes) {
  if (ec) {
    if (ec == beast::error::timeout) {
      server_.counters().timeouts.fetch_add(1, std::memory_order_relaxed);
    }
    Close();
    return;
  }
  buffer_.commit(bytes);
  state_ = State::kReading;
  request_start_ = std::chrono::steady_clock::now();
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(server_.config().header_limit_bytes));
  parser_->body_limit(server_.config().body_limit_bytes);
  // One deadline for the whole request: header, 100-continue and body.
  stream_.expires_after(server_.config().request_timeout);
  ReadHeader();
}

void Session::ReadHeader() {
  bhttp::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
}

void Session::OnHeader(beast::error_code ec) {
  if (ec) {
    OnReadError(ec);
    return;
  }
  if (parser_->is_done()) {
    Dispatch();
    return;
  }
  const auto expect = parser_->get().find(bhttp::field::expect);
  if (expect != parser_->get().end() && ascii::EqualsIgnoreCase(expect->value(), "100-continue")) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                      [self = shared_from_this()](beast::error_code write_ec, size_t) {
                        if (write_ec) {
                          self->Close();
                          return;
                        }
                        self->ReadBody();
                      });
    return;
  }
  ReadBody();
}

void Session::ReadBody() {
  bhttp::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
}

void Session::OnBody(beast::error_code ec) {
  if (ec) {
    OnReadError(ec);
    return;
  }
  Dispatch();
}

void Session::OnReadError(beast::error_code ec) {
  if (ec == beast::error::timeout) {
    server_.counters().timeouts.fetch_add(1, std::memory_order_relaxed);
  }
  if (const std::optional<Error> error = ErrorForParse(ec); error.has_value()) {
    server_.counters().malformed_requests.fetch_add(1, std::memory_order_relaxed);
    request_client_ip_ = peer_.to_string();
    // Whatever follows in the buffer cannot be framed any more.
    buffer_.consume(buffer_.size());
    request_version_ = 11;
    request_keep_alive_ = false;
    request_is_head_ = false;
    Send(Response::FromError(*error), /*close_after=*/true);
    return;
  }
  Close();
}

void Session::Dispatch() {
  bhttp::request<bhttp::string_body> message = parser_->release();
  parser_.reset();
  request_version_ = message.version();
  request_keep_alive_ = message.keep_alive();
  request_is_head_ = message.method() == bhttp::verb::head;

  HeaderList headers;
  for (const auto& field : message) {
    headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  std::string client_ip = server_.ClientIp(peer_, headers);
  request_method_.assign(message.method_string());
  const std::string_view target = message.target();
  request_path_.assign(target.substr(0, target.find('?')));
  request_id_ = AssignRequestId(headers);
  request_client_ip_ = client_ip;
  if (TryUpgrade(message, headers, client_ip)) {
    return;
  }
  Request request(ToMethod(message.method()), std::string(message.method_string()),
                  std::string(message.target()), std::move(headers), std::move(message.body()),
                  peer_.to_string(), std::move(client_ip));
  request.set_request_id(request_id_);

  auto exchange = std::make_shared<Exchange>();
  exchange->session = weak_from_this();
  exchange->lifeline = server_.lifeline();
  exchange_ = exchange;
  state_ = State::kHandling;
  server_.counters().requests.fetch_add(1, std::memory_order_relaxed);

  // The pending wait also keeps this session alive while the handler works.
  handler_timer_.expires_after(server_.config().handler_timeout);
  handler_timer_.async_wait([self = shared_from_this(), exchange](beast::error_code timer_ec) {
    self->OnHandlerTimeout(exchange, timer_ec);
  });
  try {
    server_.handler()(std::move(request), Responder(exchange));
  } catch (...) {
    // The Responder was destroyed during unwinding and answered 500 (-1000).
  }
}

bool Session::TryUpgrade(bhttp::request<bhttp::string_body>& message, const HeaderList& headers,
                         const std::string& client_ip) {
  const WebSocketConfig& config = server_.config().websocket;
  if (config.paths.empty() || !beast::websocket::is_upgrade(message)) {
    return false;
  }
  const std::string_view target = message.target();
  const std::string_view path = target.substr(0, target.find('?'));
  bool registered = false;
  for (const std::string& prefix : config.paths) {
    if (path == prefix || (path.starts_with(prefix) && path[prefix.size()] == '/')) {
      registered = true;
      route_ = prefix;
      break;
    }
  }
  if (!registered) {
    return false;  // an ordinary request for the handler (which answers 404)
  }
  server_.counters().requests.fetch_add(1, std::memory_order_relaxed);
  request_keep_alive_ = false;
  if (server_.draining()) {
    Send(Response::FromError(errors::ServerBusy()), /*close_after=*/true);
    return true;
  }
  auto shared = std::make_shared<WsShared>();
  shared->lifeline = server_.lifeline();
  shared->max_bytes = config.send_queue_bytes;
  shared->max_messages = config.send_queue_messages;
  shared->id = server_.NextWsId();
  auto connection = std::make_shared<WsConnection>(shared);
  WsRequest ws_request{std::string(target), client_ip, headers};
  std::expected<WsHandlers, Response> decision = std::unexpected(Response{});
  try {
    decision = server_.ws_factory()(ws_request, connection);
  } catch (...) {
    decision = std::unexpected(Response::FromError(errors::Unknown()));
  }
  if (!decision.has_value()) {
    {
      std::lock_guard lock(shared->mu);
      shared->open = false;
      shared->queue.clear();
    }
    Send(std::move(decision.error()), /*close_after=*/true);
    return true;
  }
  WsStats* const stats = decision->stats;
  auto ws = std::make_shared<WsSession>(server_, std::move(stream_), shared,
                                        std::move(*decision));
  {
    std::lock_guard lock(shared->mu);
    shared->session = ws;
    shared->stats = stats;
  }
  upgraded_ = true;
  state_ = State::kClosing;
  Observe(101, /*written=*/true);
  server_.Register(ws);
  // Same strand: the stream kept its executor.
  ws->Start(std::move(message));
  return true;
}

void Session::OnHandlerTimeout(const std::shared_ptr<Exchange>& exchange, beast::error_code ec) {
  if (ec || exchange->answered.exchange(true, std::memory_order_acq_rel)) {
    return;  // cancelled, or the answer is on its way
  }
  server_.counters().handler_timeouts.fetch_add(1, std::memory_order_relaxed);
  if (exchange == exchange_ && state_ == State::kHandling) {
    Send(Response::FromError(errors::BackendTimeout()), /*close_after=*/false);
  }
}

void Session::OnAnswer(const std::shared_ptr<Exchange>& exchange, Response response,
                       AnswerKind kind) {
  if (kind == AnswerKind::kDropped) {
    server_.counters().dropped_responders.fetch_add(1, std::memory_order_relaxed);
  }
  if (exchange != exchange_ || state_ != State::kHandling) {
    return;  // the connection was closed meanwhile
  }
  handler_timer_.cancel();
  Send(std::move(response), /*close_after=*/false);
}

void Session::Send(Response response, bool close_after) {
  state_ = State::kWriting;
  const bool keep_alive = request_keep_alive_ && !close_after && !server_.draining();
  const int status = (response.status >= 100 && response.status <= 599) ? response.status : 500;

  response_ = {};
  response_.version(request_version_ == 10 ? 10 : 11);
  response_.result(static_cast<unsigned>(status));
  response_.set(bhttp::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) {
    if (IsSendableHeader(name, value)) {
      response_.insert(name, value);
    }
  }
  response_.body() = std::move(response.body);
  response_.keep_alive(keep_alive);
  answer_status_ = status;
  answer_code_ = response.code;
  if (!server_.config().request_id_header.empty()) {
    if (request_id_.empty()) {
      request_id_ = server_.NextRequestId();  // bad HTTP: no request was read
    }
    response_.set(server_.config().request_id_header, request_id_);
  }
  if (exchange_ != nullptr) {
    std::lock_guard lock(exchange_->notes_mu);
    if (!exchange_->route.empty()) {
      route_ = exchange_->route;
    }
    account_id_ = exchange_->account_id;
    command_id_ = exchange_->command_id;
  }
  response_.prepare_payload();
  if (request_is_head_) {
    // Same headers as GET would get, no body.
    response_.body().clear();
  }

  stream_.expires_after(server_.config().write_timeout);
  bhttp::async_write(stream_, response_,
                     [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                       self->OnWrite(ec, keep_alive);
                     });
}

void Session::OnWrite(beast::error_code ec, bool keep_alive) {
  response_ = {};
  Observe(answer_status_, /*written=*/!ec);
  if (ec) {
    if (ec == beast::error::timeout) {
      server_.counters().timeouts.fetch_add(1, std::memory_order_relaxed);
    }
    Close();
    return;
  }
  if (!keep_alive) {
    Linger();
    return;
  }
  WaitForRequest();
}

void Session::Drain() {
  if (state_ == State::kIdle) {
    // Waiting for a next request that will not be served: the pending read ends in an error.
    Close();
  }
}

void Session::ForceClose() {
  handler_timer_.cancel();
  Close();
}

void Session::Linger() {
  // Half-close, then read and discard what the client still sends until it closes too, so the
  // kernel does not answer that data with a reset that could destroy the response in flight.
  state_ = State::kClosing;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec || server_.config().linger_timeout.count() == 0) {
    Close();
    return;
  }
  buffer_.consume(buffer_.size());
  linger_buffer_.resize(kLingerChunkBytes);
  stream_.expires_after(server_.config().linger_timeout);
  stream_.async_read_some(asio::buffer(linger_buffer_),
                          [self = shared_from_this()](beast::error_code read_ec, size_t bytes) {
                            self->OnLinger(read_ec, bytes);
                          });
}

void Session::OnLinger(beast::error_code ec, size_t bytes) {
  lingered_bytes_ += bytes;
  if (ec || lingered_bytes_ >= kLingerBytesMax) {
    Close();
    return;
  }
  stream_.async_read_some(asio::buffer(linger_buffer_),
                          [self = shared_from_this()](beast::error_code read_ec, size_t n) {
                            self->OnLinger(read_ec, n);
                          });
}

std::string Session::AssignRequestId(const HeaderList& headers) {
  const std::string& name = server_.config().request_id_header;
  if (name.empty()) {
    return {};
  }
  for (const auto& [field, value] : headers) {
    if (ascii::EqualsIgnoreCase(field, name)) {
      if (IsValidRequestId(value)) {
        return value;
      }
      break;
    }
  }
  return server_.NextRequestId();
}

void Session::Observe(int status, bool written) {
  const RequestObserver& observer = server_.config().on_request;
  if (observer) {
    RequestRecord record;
    record.method = request_method_;
    record.path = request_path_;
    record.route = route_;
    record.status = status;
    record.code = answer_code_;
    record.duration = std::chrono::steady_clock::now() - request_start_;
    record.written = written;
    record.request_id = request_id_;
    record.client_ip = request_client_ip_;
    record.account_id = account_id_;
    record.command_id = command_id_;
    try {
      observer(record);
    } catch (...) {
      // An observer must not throw; a failing log or metric must not break the connection.
    }
  }
  // Forget the request (the strings keep their capacity for the next one).
  request_method_.clear();
  request_path_.clear();
  request_id_.clear();
  request_client_ip_.clear();
  route_ = {};
  account_id_.reset();
  command_id_.clear();
  answer_status_ = 0;
  answer_code_ = 0;
}

void Session::Close() {
  state_ = State::kClosing;
  if (upgraded_) {
    return;  // the WebSocket session owns the socket now
  }
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.close();
}

}  // namespace spotex::http::detail
