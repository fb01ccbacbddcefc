#include "gateway/http/server.h"

#include <boost/asio/post.hpp>
#include <cstdio>
#include <exception>
#include <future>
#include <random>
#include <string_view>
#include <utility>

#include "core/assert.h"
#include "gateway/http/ascii.h"
#include "gateway/http/server_impl.h"

namespace spotex::http {
namespace detail {
namespace {

// Pause before accepting again after accept() failed (e.g. out of file descriptors), so the
// acceptor does not spin.
constexpr std::chrono::milliseconds kAcceptRetryDelay{50};
// After the grace period, how long Wait() lets force-closed connections unwind.
constexpr std::chrono::milliseconds kForceCloseWait{2'000};
// Most X-Forwarded-For hops examined.
constexpr size_t kForwardedHopsMax = 32;

// A random hex prefix that tells this server's request ids from another replica's.
std::string RequestIdPrefix() {
  std::random_device device;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08x%08x", device(), device());
  return buf;
}

std::string BusyResponse() {
  const std::string body = ErrorBody(errors::ServerBusy());
  return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: " + std::string(kJsonContentType) +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
         body;
}

}  // namespace

bool Deliver(const std::shared_ptr<Exchange>& exchange, Response response, AnswerKind kind) {
  if (exchange->callback) {
    exchange->callback(std::move(response));
    return true;
  }
  // Under the lifeline's lock the io_context cannot be destroyed; a handler posted to a stopped
  // one is destroyed with it, unrun.
  std::lock_guard lock(exchange->lifeline->mu);
  if (!exchange->lifeline->alive) {
    return false;
  }
  std::shared_ptr<Session> session = exchange->session.lock();
  if (session == nullptr) {
    return false;
  }
  asio::post(session->executor(),
             [session, exchange, response = std::move(response), kind]() mutable {
               session->OnAnswer(exchange, std::move(response), kind);
             });
  return true;
}

ServerImpl::ServerImpl(ServerConfig config, Handler handler, WsFactory ws_factory,
                       std::vector<asio::ip::address> trusted)
    : config_(std::move(config)),
      handler_(std::move(handler)),
      ws_factory_(std::move(ws_factory)),
      trusted_(std::move(trusted)),
      busy_response_(BusyResponse()),
      request_id_prefix_(RequestIdPrefix()),
      acceptor_(asio::make_strand(io_context_)),
      accept_retry_timer_(acceptor_.get_executor()) {}

ServerImpl::~ServerImpl() {
  // Wait() joined the threads; the io_context (declared after the session registry) is
  // destroyed first, taking any queued handlers and their sessions with it.
  SPOTEX_ASSERT(threads_.empty());
}

std::expected<void, std::string> ServerImpl::Listen() {
  beast::error_code ec;
  const asio::ip::address address = asio::ip::make_address(config_.address, ec);
  if (ec) {
    return std::unexpected("invalid listen address '" + config_.address + "': " + ec.message());
  }
  const tcp::endpoint endpoint(address, config_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor_.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return std::unexpected("cannot listen on " + config_.address + ":" +
                           std::to_string(config_.port) + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint(ec).port();
  if (ec) {
    return std::unexpected("cannot read the bound port: " + ec.message());
  }
  return {};
}

std::expected<void, std::string> ServerImpl::Run() {
  work_.emplace(io_context_.get_executor());
  asio::post(acceptor_.get_executor(), [this] { Accept(); });
  try {
    threads_.reserve(static_cast<size_t>(config_.io_threads));
    for (int i = 0; i < config_.io_threads; ++i) {
      threads_.emplace_back([this] { io_context_.run(); });
    }
  } catch (const std::exception& e) {
    // Out of threads or memory: undo what started.
    work_.reset();
    io_context_.stop();
    for (std::thread& thread : threads_) {
      thread.join();
    }
    threads_.clear();
    return std::unexpected(std::string("cannot start the I/O threads: ") + e.what());
  }
  return {};
}

void ServerImpl::Accept() {
  acceptor_.async_accept(
      asio::make_strand(io_context_),
      [this](beast::error_code ec, tcp::socket socket) { OnAccept(ec, std::move(socket)); });
}

void ServerImpl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
    return;
  }
  if (ec) {
    accept_retry_timer_.expires_after(kAcceptRetryDelay);
    accept_retry_timer_.async_wait([this](beast::error_code timer_ec) {
      if (!timer_ec && acceptor_.is_open()) {
        Accept();
      }
    });
    return;
  }
  beast::error_code peer_ec;
  const tcp::endpoint peer = socket.remote_endpoint(peer_ec);
  std::shared_ptr<Session> session;
  if (!peer_ec && !draining()) {
    std::lock_guard lock(sessions_mu_);
    if (sessions_.size() < config_.max_connections) {
      session = std::make_shared<Session>(*this, std::move(socket), peer.address());
      sessions_.emplace(session.get(), session);
    }
  }
  if (session != nullptr) {
    counters_.connections_accepted.fetch_add(1, std::memory_order_relaxed);
    asio::post(session->executor(), [session] { session->Start(); });
  } else if (!peer_ec) {
    counters_.connections_refused.fetch_add(1, std::memory_order_relaxed);
    Refuse(socket);
  }
  Accept();
}

void ServerImpl::Refuse(tcp::socket& socket) {
  // One non-blocking write of the canned 503: an over-limit connection holds no state and
  // costs no further work. A client that already sent its request may see a reset instead.
  beast::error_code ec;
  socket.non_blocking(true, ec);
  socket.write_some(asio::buffer(busy_response_), ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

void ServerImpl::Register(const std::shared_ptr<Connection>& connection) {
  {
    std::lock_guard lock(sessions_mu_);
    sessions_.emplace(connection.get(), connection);
  }
  // Shutdown() sets draining_ before it lists the connections under sessions_mu_: either it saw
  // this one, or this sees draining_.
  if (draining()) {
    asio::post(connection->executor(), [connection] { connection->Drain(); });
  }
}

void ServerImpl::Unregister(Connection* connection) {
  std::lock_guard lock(sessions_mu_);
  sessions_.erase(connection);
  if (sessions_.empty()) {
    sessions_cv_.notify_all();
  }
}

std::vector<std::shared_ptr<Connection>> ServerImpl::LiveSessions() {
  std::vector<std::shared_ptr<Connection>> live;
  std::lock_guard lock(sessions_mu_);
  live.reserve(sessions_.size());
  for (const auto& [ptr, weak] : sessions_) {
    if (std::shared_ptr<Connection> session = weak.lock()) {
      live.push_back(std::move(session));
    }
  }
  return live;
}

void ServerImpl::Shutdown() {
  SPOTEX_ASSERT(!io_context_.get_executor().running_in_this_thread());
  std::lock_guard control(control_mu_);
  if (shutdown_done_) {
    return;
  }
  shutdown_done_ = true;
  draining_.store(true, std::memory_order_release);
  std::promise<void> closed;
  asio::post(acceptor_.get_executor(), [this, &closed] {
    beast::error_code ec;
    acceptor_.close(ec);
    accept_retry_timer_.cancel();
    closed.set_value();
  });
  closed.get_future().wait();
  for (const std::shared_ptr<Connection>& session : LiveSessions()) {
    asio::post(session->executor(), [session] { session->Drain(); });
  }
}

bool ServerImpl::Wait(std::chrono::milliseconds grace) {
  SPOTEX_ASSERT(!io_context_.get_executor().running_in_this_thread());
  Shutdown();
  std::lock_guard control(control_mu_);
  if (wait_result_.has_value()) {
    return *wait_result_;
  }
  bool clean = false;
  {
    std::unique_lock lock(sessions_mu_);
    clean = sessions_cv_.wait_for(lock, grace, [this] { return sessions_.empty(); });
  }
  if (!clean) {
    for (const std::shared_ptr<Connection>& session : LiveSessions()) {
      asio::post(session->executor(), [session] { session->ForceClose(); });
    }
    std::unique_lock lock(sessions_mu_);
    sessions_cv_.wait_for(lock, kForceCloseWait, [this] { return sessions_.empty(); });
  }
  work_.reset();
  io_context_.stop();
  for (std::thread& thread : threads_) {
    thread.join();
  }
  threads_.clear();
  {
    std::lock_guard lock(lifeline_->mu);
    lifeline_->alive = false;
  }
  wait_result_ = clean;
  return clean;
}

ServerStats ServerImpl::stats() const {
  ServerStats stats;
  stats.connections_accepted = counters_.connections_accepted.load(std::memory_order_relaxed);
  stats.connections_refused = counters_.connections_refused.load(std::memory_order_relaxed);
  {
    std::lock_guard lock(sessions_mu_);
    stats.connections_active = sessions_.size();
  }
  stats.requests = counters_.requests.load(std::memory_order_relaxed);
  stats.malformed_requests = counters_.malformed_requests.load(std::memory_order_relaxed);
  stats.timeouts = counters_.timeouts.load(std::memory_order_relaxed);
  stats.handler_timeouts = counters_.handler_timeouts.load(std::memory_order_relaxed);
  stats.dropped_responders = counters_.dropped_responders.load(std::memory_order_relaxed);
  return stats;
}

std::string ServerImpl::ClientIp(const asio::ip::address& peer, const HeaderList& headers) const {
  const auto is_trusted = [this](const asio::ip::address& address) {
    for (const asio::ip::address& trusted : trusted_) {
      if (trusted == address) {
        return true;
      }
    }
    return false;
  };
  if (!is_trusted(peer)) {
    return peer.to_string();
  }
  // Hops in order, over every X-Forwarded-For header: "client, proxy1, proxy2".
  std::vector<std::string_view> hops;
  for (const auto& [name, value] : headers) {
    if (!ascii::EqualsIgnoreCase(name, "X-Forwarded-For")) {
      continue;
    }
    std::string_view rest = value;
    while (hops.size() < kForwardedHopsMax) {
      const size_t comma = rest.find(',');
      hops.push_back(ascii::TrimSpaces(rest.substr(0, comma)));
      if (comma == std::string_view::npos) {
        break;
      }
      rest.remove_prefix(comma + 1);
    }
  }
  // From the nearest hop outwards, skip trusted proxies; the first other address is the
  // client. An unparsable hop ends the walk: nothing before it can be believed.
  asio::ip::address client = peer;
  for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
    beast::error_code ec;
    const asio::ip::address address = asio::ip::make_address(std::string(*hop), ec);
    if (ec) {
      break;
    }
    client = address;
    if (!is_trusted(address)) {
      break;
    }
  }
  return client.to_string();
}

std::string ServerImpl::NextRequestId() {
  const uint64_t n = next_request_id_.fetch_add(1, std::memory_order_relaxed);
  char buf[20];
  const int len = std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(n));
  std::string id;
  id.reserve(request_id_prefix_.size() + 1 + static_cast<size_t>(len));
  id += request_id_prefix_;
  id += '-';
  id.append(buf, static_cast<size_t>(len));
  return id;
}

}  // namespace detail

bool IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > kRequestIdMax) {
    return false;
  }
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("._:+/=@-").find(c) != std::string_view::npos;
    if (!ok) {
      return false;
    }
  }
  return true;
}

// --- Responder ---

Responder::Responder(std::shared_ptr<detail::Exchange> exchange) : exchange_(std::move(exchange)) {}

Responder Responder::ToCallback(std::function<void(Response)> callback) {
  auto exchange = std::make_shared<detail::Exchange>();
  exchange->callback = std::move(callback);
  return Responder(std::move(exchange));
}

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    Abandon();
    exchange_ = std::move(other.exchange_);
    headers_ = std::move(other.headers_);
  }
  return *this;
}

Responder::~Responder() { Abandon(); }

void Responder::Abandon() {
  std::shared_ptr<detail::Exchange> exchange = std::move(exchange_);
  if (exchange == nullptr || exchange->answered.exchange(true, std::memory_order_acq_rel)) {
    return;
  }
  Response response = Response::FromError(errors::Unknown());
  for (auto& h : headers_) response.headers.push_back(std::move(h));
  detail::Deliver(exchange, std::move(response), detail::AnswerKind::kDropped);
}

bool Responder::Send(Response response) {
  std::shared_ptr<detail::Exchange> exchange = std::move(exchange_);
  if (exchange == nullptr || exchange->answered.exchange(true, std::memory_order_acq_rel)) {
    return false;
  }
  for (auto& h : headers_) response.headers.push_back(std::move(h));
  headers_.clear();
  return detail::Deliver(exchange, std::move(response), detail::AnswerKind::kHandler);
}

void Responder::AddHeaders(HeaderList headers) {
  for (auto& h : headers) headers_.push_back(std::move(h));
}

void Responder::NoteRoute(std::string_view route) {
  if (exchange_ != nullptr) {
    std::lock_guard lock(exchange_->notes_mu);
    exchange_->route = route;
  }
}

void Responder::NoteAccount(uint64_t account_id) {
  if (exchange_ != nullptr) {
    std::lock_guard lock(exchange_->notes_mu);
    exchange_->account_id = account_id;
  }
}

void Responder::NoteCommand(std::string_view command_id) {
  if (exchange_ != nullptr) {
    std::lock_guard lock(exchange_->notes_mu);
    exchange_->command_id.assign(command_id.substr(0, kRequestIdMax));
  }
}

// --- Server ---

Server::Server(std::unique_ptr<detail::ServerImpl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  if (impl_ != nullptr) {
    Stop(impl_->config().linger_timeout);
  }
}

std::expected<std::unique_ptr<Server>, std::string> Server::Start(ServerConfig config,
                                                                  Handler handler) {
  return Start(std::move(config), std::move(handler), nullptr);
}

std::expected<std::unique_ptr<Server>, std::string> Server::Start(ServerConfig config,
                                                                  Handler handler,
                                                                  WsFactory ws_factory) {
  if (!handler) {
    return std::unexpected("no handler");
  }
  const WebSocketConfig& ws = config.websocket;
  if (!ws.paths.empty()) {
    if (!ws_factory) {
      return std::unexpected("websocket.paths need a WebSocket factory");
    }
    for (const std::string& path : ws.paths) {
      if (path.empty() || path.front() != '/' || path.find('?') != std::string::npos) {
        return std::unexpected("invalid websocket path '" + path + "'");
      }
    }
    if (ws.max_message_bytes < 1 || ws.max_message_bytes > (size_t{1} << 24) ||
        ws.max_messages_per_second < 1 || ws.send_queue_bytes < 1 || ws.send_queue_messages < 1 ||
        ws.ping_interval.count() <= 0 || ws.pong_timeout.count() <= 0 ||
        ws.max_lifetime.count() <= 0 || ws.handshake_timeout.count() <= 0 ||
        ws.close_timeout.count() <= 0) {
      return std::unexpected(
          "websocket limits must be positive and max_message_bytes at most 16 MiB");
    }
  }
  if (config.io_threads < 1 || config.io_threads > 256) {
    return std::unexpected("io_threads must be in [1, 256]");
  }
  if (config.header_limit_bytes < 256 || config.body_limit_bytes > (size_t{1} << 30) ||
      config.max_connections < 1) {
    return std::unexpected(
        "header_limit_bytes >= 256, body_limit_bytes <= 1 GiB and "
        "max_connections >= 1 are required");
  }
  const std::chrono::milliseconds zero{0};
  if (config.request_timeout <= zero || config.idle_timeout <= zero ||
      config.write_timeout <= zero || config.handler_timeout <= zero ||
      config.linger_timeout < zero) {
    return std::unexpected("timeouts must be positive");
  }
  std::vector<boost::asio::ip::address> trusted;
  for (const std::string& text : config.trusted_proxies) {
    boost::system::error_code ec;
    trusted.push_back(boost::asio::ip::make_address(text, ec));
    if (ec) {
      return std::unexpected("invalid trusted proxy address '" + text + "'");
    }
  }
  try {
    auto impl =
        std::make_unique<detail::ServerImpl>(std::move(config), std::move(handler),
                                             std::move(ws_factory), trusted);
    if (auto listening = impl->Listen(); !listening) {
      return std::unexpected(listening.error());
    }
    if (auto running = impl->Run(); !running) {
      return std::unexpected(running.error());
    }
    return std::unique_ptr<Server>(new Server(std::move(impl)));
  } catch (const std::exception& e) {
    // Thread creation or allocation failed.
    return std::unexpected(std::string("cannot start the HTTP server: ") + e.what());
  }
}

uint16_t Server::port() const { return impl_->port(); }

void Server::Shutdown() { impl_->Shutdown(); }

bool Server::Wait(std::chrono::milliseconds grace) { return impl_->Wait(grace); }

bool Server::Stop(std::chrono::milliseconds grace) {
  impl_->Shutdown();
  return impl_->Wait(grace);
}

bool Server::draining() const { return impl_->draining(); }

ServerStats Server::stats() const { return impl_->stats(); }

}  // namespace spotex::http
