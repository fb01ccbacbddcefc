// WebSocket connections of spotex::http::Server (websocket.h, server_impl.h).
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <utility>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "gateway/http/server_impl.h"

namespace spotex::http {
namespace detail {
namespace websocket = beast::websocket;

void KickWs(const std::shared_ptr<WsShared>& shared) {
  // Under the lifeline's lock the io_context cannot be destroyed (as in Deliver()).
  std::lock_guard lock(shared->lifeline->mu);
  if (!shared->lifeline->alive) {
    return;
  }
  std::shared_ptr<WsSession> session = shared->session.lock();
  if (session == nullptr) {
    return;
  }
  asio::post(session->executor(), [session] { session->Pump(); });
}

WsSession::WsSession(ServerImpl& server, beast::tcp_stream stream,
                     std::shared_ptr<WsShared> shared, WsHandlers handlers)
    : server_(server),
      config_(server.config().websocket),
      ws_(std::move(stream)),
      shared_(std::move(shared)),
      handlers_(std::move(handlers)),
      stats_(handlers_.stats),
      ping_timer_(ws_.get_executor()),
      lifetime_timer_(ws_.get_executor()),
      close_timer_(ws_.get_executor()) {}

WsSession::~WsSession() {
  if (stats_ != nullptr) {
    stats_->open.fetch_sub(1, std::memory_order_relaxed);
  }
  server_.Unregister(this);
}

void WsSession::Start(bhttp::request<bhttp::string_body> request) {
  if (stats_ != nullptr) {
    stats_->open.fetch_add(1, std::memory_order_relaxed);
    stats_->accepted.fetch_add(1, std::memory_order_relaxed);
  }
  // The websocket stream keeps its own deadlines; the TCP layer's must not interfere.
  beast::get_lowest_layer(ws_).expires_never();
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = config_.handshake_timeout;
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  ws_.set_option(timeouts);
  ws_.read_message_max(config_.max_message_bytes);
  ws_.auto_fragment(false);
  ws_.control_callback([this](websocket::frame_type kind, std::string_view) { OnControl(kind); });
  // The lifetime deadline covers the handshake too.
  lifetime_timer_.expires_after(config_.max_lifetime);
  lifetime_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec) {
      self->RequestClose(websocket::close_code::normal, "max lifetime");
    }
  });
  ws_.async_accept(request, [self = shared_from_this()](beast::error_code ec) {
    self->OnAccept(ec);
  });
}

void WsSession::OnAccept(beast::error_code ec) {
  if (ec) {
    Finish(websocket::close_code::abnormal, "handshake failed");
    return;
  }
  accepted_ = true;
  const auto now = std::chrono::steady_clock::now();
  last_pong_ = now;
  rate_window_start_ = now;
  ping_timer_.expires_after(config_.ping_interval);
  ping_timer_.async_wait(
      [self = shared_from_this()](beast::error_code timer_ec) { self->OnPingTimer(timer_ec); });
  Read();
  Pump();
}

void WsSession::Read() {
  ws_.async_read(read_buffer_, [self = shared_from_this()](beast::error_code ec, size_t bytes) {
    self->OnRead(ec, bytes);
  });
}

void WsSession::OnRead(beast::error_code ec, size_t /*bytes*/) {
  if (ec) {
    if (our_close_.has_value()) {
      // Ours, whether the close handshake completed or the socket was closed after the timeout.
      Finish(our_close_->first, our_close_->second);
    } else if (ec == websocket::error::closed) {
      Finish(ws_.reason().code, std::string(ws_.reason().reason.c_str()));
    } else if (ec == websocket::error::message_too_big) {
      Finish(websocket::close_code::too_big, "message too big");  // Beast sent the 1009
    } else if (ec.category() == websocket::make_error_code(websocket::error::closed).category()) {
      Finish(websocket::close_code::protocol_error, "protocol error");  // Beast sent the 1002
    } else {
      Finish(websocket::close_code::abnormal, ec.message());
    }
    return;
  }
  if (!CountIncoming()) {
    read_buffer_.consume(read_buffer_.size());
    Read();  // keeps reading so that the close handshake completes
    return;
  }
  if (!ws_.got_text()) {
    read_buffer_.consume(read_buffer_.size());
    RequestClose(websocket::close_code::unknown_data, "binary messages are not supported");
    Read();
    return;
  }
  const std::string text = beast::buffers_to_string(read_buffer_.data());
  read_buffer_.consume(read_buffer_.size());
  if (!our_close_.has_value() && handlers_.on_message) {
    if (stats_ != nullptr) {
      stats_->messages_received.fetch_add(1, std::memory_order_relaxed);
    }
    try {
      handlers_.on_message(text);
    } catch (...) {
      RequestClose(websocket::close_code::internal_error, "internal error");
    }
  }
  Read();
}

void WsSession::OnControl(websocket::frame_type kind) {
  if (kind == websocket::frame_type::close) {
    return;
  }
  if (kind == websocket::frame_type::pong) {
    last_pong_ = std::chrono::steady_clock::now();
  }
  // Called from inside the read operation: the close starts from a fresh handler.
  if (!CountIncoming()) {
    return;
  }
}

bool WsSession::CountIncoming() {
  if (our_close_.has_value()) {
    return false;
  }
  const auto now = std::chrono::steady_clock::now();
  if (now - rate_window_start_ >= std::chrono::seconds(1)) {
    rate_window_start_ = now;
    rate_window_count_ = 0;
  }
  const uint32_t limit = handlers_.max_messages_per_second != 0
                             ? handlers_.max_messages_per_second
                             : config_.max_messages_per_second;
  if (++rate_window_count_ > limit) {
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
      self->RequestClose(websocket::close_code::policy_error, "Too many requests");
    });
    return false;
  }
  return true;
}

void WsSession::OnPingTimer(beast::error_code ec) {
  if (ec || finished_) {
    return;
  }
  if (std::chrono::steady_clock::now() - last_pong_ > config_.pong_timeout) {
    RequestClose(websocket::close_code::policy_error, "pong timeout");
    return;
  }
  if (!ping_in_flight_ && !close_started_) {
    ping_in_flight_ = true;
    ws_.async_ping({}, [self = shared_from_this()](beast::error_code ping_ec) {
      self->ping_in_flight_ = false;
      if (ping_ec) {
        self->HardClose();
      }
    });
  }
  ping_timer_.expires_after(config_.ping_interval);
  ping_timer_.async_wait(
      [self = shared_from_this()](beast::error_code timer_ec) { self->OnPingTimer(timer_ec); });
}

void WsSession::RequestClose(uint16_t code, std::string reason) {
  {
    std::lock_guard lock(shared_->mu);
    if (!shared_->close_request.has_value()) {
      shared_->close_request.emplace(code, std::move(reason));
    }
    shared_->open = false;
  }
  Pump();
}

void WsSession::Pump() {
  if (finished_) {
    return;
  }
  std::shared_ptr<const std::string> next;
  bool close_now = false;
  bool more_queued = false;
  {
    std::lock_guard lock(shared_->mu);
    if (shared_->close_request.has_value() && !our_close_.has_value()) {
      our_close_ = shared_->close_request;
    }
    if (!accepted_ || writing_ != nullptr || close_started_) {
      // OnAccept / OnWrite call Pump again.
      shared_->kick_pending = accepted_ && !close_started_;
      if (!our_close_.has_value() || close_started_) {
        return;
      }
    } else if (!shared_->queue.empty()) {
      next = std::move(shared_->queue.front());
      shared_->queue.pop_front();
      shared_->queued_bytes -= next->size();
      shared_->kick_pending = true;
      more_queued = !shared_->queue.empty();
    } else {
      shared_->kick_pending = false;
      close_now = our_close_.has_value();
    }
  }
  if (our_close_.has_value() && !close_timer_armed_) {
    // A client that stopped reading never lets the close frame out: bound the wait.
    close_timer_armed_ = true;
    ping_timer_.cancel();
    close_timer_.expires_after(config_.close_timeout);
    close_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) {
        self->HardClose();
      }
    });
  }
  if (next != nullptr) {
    // A burst (more messages queued behind this one) is corked, so the kernel sends it in
    // full segments and wakes the reader once rather than once per message; the cork is
    // pulled as soon as the queue is empty (and the kernel flushes after 200 ms regardless).
    if (more_queued && !corked_) {
      SetCork(true);
    }
    writing_ = std::move(next);
    ws_.text(true);
    ws_.async_write(asio::buffer(writing_->data(), writing_->size()),
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      self->OnWrite(ec);
                    });
    return;
  }
  if (corked_ && accepted_ && writing_ == nullptr) {
    SetCork(false);  // the queue is empty: what was written goes out now
  }
  if (close_now && accepted_) {
    close_started_ = true;
    websocket::close_reason reason;
    reason.code = our_close_->first;
    // A close frame carries at most 123 bytes of reason.
    reason.reason = std::string_view(our_close_->second).substr(0, reason.reason.max_size());
    ws_.async_close(reason,
                    [self = shared_from_this()](beast::error_code) {
                      // The pending read ends with error::closed and calls Finish.
                    });
  }
  // A close requested before the handshake finished waits for it: OnAccept calls Pump, which
  // sends what was queued (e.g. a listenKeyExpired) and then the close frame. A handshake that
  // never finishes ends by its own timeout (OnAccept with an error), or by the close timer.
}

void WsSession::SetCork(bool on) {
  corked_ = on;
  const int value = on ? 1 : 0;
  // Best effort: a failure only costs the batching.
  (void)::setsockopt(beast::get_lowest_layer(ws_).socket().native_handle(), IPPROTO_TCP, TCP_CORK,
                     &value, sizeof value);
}

void WsSession::OnWrite(beast::error_code ec) {
  writing_.reset();
  if (ec) {
    HardClose();
    return;
  }
  if (stats_ != nullptr) {
    stats_->messages_sent.fetch_add(1, std::memory_order_relaxed);
  }
  Pump();
}

void WsSession::Drain() {
  if (finished_) {
    return;
  }
  if (accepted_ && !our_close_.has_value() && handlers_.on_shutdown) {
    try {
      handlers_.on_shutdown();
    } catch (...) {
    }
  }
  RequestClose(websocket::close_code::going_away, "going away");
}

void WsSession::ForceClose() { HardClose(); }

void WsSession::HardClose() {
  beast::error_code ec;
  beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
  beast::get_lowest_layer(ws_).close();
  if (!accepted_) {
    Finish(our_close_.has_value() ? our_close_->first : uint16_t{websocket::close_code::abnormal},
           our_close_.has_value() ? our_close_->second : "closed");
  }
  // Otherwise the pending read fails and calls Finish.
}

void WsSession::Finish(uint16_t code, std::string reason) {
  if (finished_) {
    return;
  }
  finished_ = true;
  {
    std::lock_guard lock(shared_->mu);
    shared_->open = false;
    shared_->queue.clear();
    shared_->queued_bytes = 0;
  }
  ping_timer_.cancel();
  lifetime_timer_.cancel();
  close_timer_.cancel();
  beast::error_code ec;
  beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
  beast::get_lowest_layer(ws_).close();
  if (handlers_.on_close) {
    try {
      handlers_.on_close(code, reason);
    } catch (...) {
    }
  }
  // The handlers may hold the connection handle (and so a cycle through the application).
  handlers_ = {};
}

}  // namespace detail

WsConnection::WsConnection(std::shared_ptr<detail::WsShared> shared) : shared_(std::move(shared)) {}

bool WsConnection::Send(std::shared_ptr<const std::string> text) {
  if (text == nullptr) {
    return false;
  }
  bool kick = false;
  bool accepted = true;
  {
    std::lock_guard lock(shared_->mu);
    if (!shared_->open) {
      return false;
    }
    if (shared_->queue.size() + 1 > shared_->max_messages ||
        shared_->queued_bytes + text->size() > shared_->max_bytes) {
      shared_->open = false;
      shared_->queue.clear();
      shared_->queued_bytes = 0;
      shared_->close_request.emplace(detail::websocket::close_code::policy_error,
                                     "slow consumer");
      accepted = false;
      if (shared_->stats != nullptr) {
        shared_->stats->slow_consumer_closes.fetch_add(1, std::memory_order_relaxed);
      }
    } else {
      shared_->queued_bytes += text->size();
      shared_->queue.push_back(std::move(text));
    }
    kick = !shared_->kick_pending || !accepted;
    shared_->kick_pending = true;
  }
  if (kick) {
    detail::KickWs(shared_);
  }
  return accepted;
}

void WsConnection::Close(uint16_t code, std::string reason) {
  {
    std::lock_guard lock(shared_->mu);
    if (!shared_->open) {
      return;
    }
    shared_->open = false;
    shared_->close_request.emplace(code, std::move(reason));
  }
  detail::KickWs(shared_);
}

bool WsConnection::open() const {
  std::lock_guard lock(shared_->mu);
  return shared_->open;
}

uint64_t WsConnection::id() const { return shared_->id; }

}  // namespace spotex::http
