#include "gateway/feeds/stream_hub.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <string>
#include <utility>

#include "gateway/obs/metrics.h"
#include "gateway/streams/periodic.h"

namespace spotex::gateway::streams {

namespace {

// How often a periodic stream is sent (ms).
int64_t PeriodMs(const StreamKey& key) {
  switch (key.kind) {
    case StreamKind::kPartialDepth:
      return key.param.ends_with("@100ms") ? 100 : 1000;
    case StreamKind::kKline:
      return key.param == "1s" ? 1000 : 2000;
    default:
      return 1000;
  }
}

std::shared_ptr<const std::string> Shared(std::string s) {
  return std::make_shared<const std::string>(std::move(s));
}

}  // namespace

std::expected<InitialStreams, std::string> ParseTarget(std::string_view target,
                                                       const SymbolKnown& known) {
  InitialStreams out;
  std::string_view path = target.substr(0, target.find('?'));
  std::string_view query =
      target.find('?') == std::string_view::npos ? std::string_view() : target.substr(target.find('?') + 1);
  auto split = [](std::string_view s, auto&& each) {
    while (!s.empty()) {
      size_t slash = s.find('/');
      std::string_view part = s.substr(0, slash);
      if (!part.empty()) each(part);
      if (slash == std::string_view::npos) break;
      s.remove_prefix(slash + 1);
    }
  };
  if (path == "/stream" || path.starts_with("/stream/")) {
    out.combined = true;
    std::string_view streams;
    while (!query.empty()) {
      size_t amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      if (pair.starts_with("streams=")) streams = pair.substr(8);
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
    std::string error;
    split(streams, [&](std::string_view name) {
      if (!error.empty() || out.keys.size() >= kMaxStreamsPerConnection) return;
      auto key = ParseStreamName(name, known);
      if (!key) {
        error = key.error();
        return;
      }
      out.keys.push_back(std::move(*key));
    });
    if (!error.empty()) return std::unexpected(error);
    return out;
  }
  // /ws, /ws/<stream>/<stream>...: segments that are not stream names are tolerated.
  std::string_view rest = path.size() > 3 ? path.substr(4) : std::string_view();
  split(rest, [&](std::string_view name) {
    if (out.keys.size() >= kMaxStreamsPerConnection) return;
    if (auto key = ParseStreamName(name, known)) out.keys.push_back(std::move(*key));
  });
  return out;
}

StreamHub::StreamHub(const MarketData& market, SymbolKnown known, StreamHubConfig config)
    : market_(market), known_(std::move(known)), history_(config.history), config_(config) {}

std::optional<int64_t> StreamHub::AdmitIp(const std::string& ip) {
  if (config_.connections_per_ip == 0) return std::nullopt;
  const int64_t now =
      config_.clock ? config_.clock()
                    : std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  const int64_t window = config_.connections_window_ms;
  std::lock_guard lock(ip_mu_);
  auto it = attempts_.find(ip);
  if (it == attempts_.end()) {
    if (attempts_.size() >= config_.tracked_ips_max) {
      std::erase_if(attempts_, [&](const auto& kv) { return kv.second.back() <= now - window; });
      if (attempts_.size() >= config_.tracked_ips_max) return std::nullopt;  // fail open
    }
    it = attempts_.emplace(ip, std::deque<int64_t>{}).first;
  }
  auto& times = it->second;
  while (!times.empty() && times.front() <= now - window) times.pop_front();
  if (times.size() >= config_.connections_per_ip) {
    return std::max<int64_t>(1, (times.front() + window - now + 999) / 1000);
  }
  times.push_back(now);
  return std::nullopt;
}

std::expected<http::WsHandlers, http::Response> StreamHub::Accept(
    const http::WsRequest& request, const std::shared_ptr<http::WsConnection>& connection) {
  if (auto retry_s = AdmitIp(request.client_ip)) {
    // The address is echoed only if it looks like one (it may come from X-Forwarded-For).
    const bool plain = request.client_ip.size() <= 45 &&
                       std::all_of(request.client_ip.begin(), request.client_ip.end(), [](char ch) {
                         return std::isxdigit(static_cast<unsigned char>(ch)) || ch == '.' ||
                                ch == ':';
                       });
    http::Response r = http::Response::Json(
        429, "{\"code\":-1003,\"msg\":\"Too many new WebSocket connections from IP " +
                 (plain ? request.client_ip : std::string("?")) + "; current limit is " +
                 std::to_string(config_.connections_per_ip) + " connection attempts per " +
                 std::to_string(config_.connections_window_ms / 1000) +
                 " seconds. Retry after " + std::to_string(*retry_s) + " seconds.\"}");
    r.headers.emplace_back("Retry-After", std::to_string(*retry_s));
    r.code = -1003;
    obs::Metrics().RateLimitRejected(obs::Limit::kWsConnections);
    return std::unexpected(std::move(r));
  }
  auto initial = ParseTarget(request.target, known_);
  if (!initial) {
    return std::unexpected(http::Response::Json(
        400, ControlError{2, "Invalid request: " + initial.error(), ""}.Json()));
  }
  const uint64_t id = connection->id();
  {
    std::lock_guard lock(mu_);
    Conn& c = conns_.emplace(id, Conn{connection, Subscriptions(initial->combined)}).first->second;
    for (const auto& key : initial->keys) {
      if (c.subs.Add(key)) Link(id, key);
    }
  }
  http::WsHandlers h;
  h.on_message = [this, id](std::string_view text) { OnMessage(id, text); };
  h.on_close = [this, id](uint16_t, std::string_view) { OnClose(id); };
  return h;
}

void StreamHub::OnMessage(uint64_t id, std::string_view text) {
  std::shared_ptr<http::WsConnection> ws;
  std::string reply;
  {
    std::lock_guard lock(mu_);
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    const bool had_checksum = it->second.subs.checksum();
    auto outcome = it->second.subs.Handle(text, known_);
    if (it->second.subs.checksum() != had_checksum) {
      checksum_conns_ = had_checksum ? checksum_conns_ - 1 : checksum_conns_ + 1;
    }
    for (const auto& key : outcome.added) Link(id, key);
    for (const auto& key : outcome.removed) Unlink(id, key);
    if (outcome.resume) {
      Resume(id, it->second, *outcome.resume);
      return;
    }
    ws = it->second.ws;
    reply = std::move(outcome.reply);
  }
  if (!reply.empty()) ws->Send(Shared(std::move(reply)));
}

void StreamHub::Resume(uint64_t id, Conn& c, const Subscriptions::Outcome::Resume& r) {
  auto fail = [&](int code, const std::string& msg) {
    c.ws->Send(Shared(ControlError{code, msg, r.id_json}.Json()));
  };
  auto entries = history_.Since(r.key, r.from_id);
  if (!entries) {
    fail(4, "Resume not possible: " + entries.error());
    return;
  }
  if (!c.subs.Contains(r.key)) {
    if (!c.subs.Add(r.key)) {
      fail(2, "Invalid request: too many streams for one connection (at most " +
                  std::to_string(kMaxStreamsPerConnection) + ")");
      return;
    }
    Link(id, r.key);
  }
  c.ws->Send(Shared("{\"result\":{\"replayed\":" + std::to_string(entries->size()) +
                    "},\"id\":" + r.id_json + "}"));
  // Per connection, so encoded here; a replay is rare and bounded by the history.
  for (const StreamHistory::Entry* e : *entries) {
    std::shared_ptr<const std::string> raw = e->raw;
    if (c.subs.checksum() && e->checksum) raw = Shared(WithChecksum(*raw, *e->checksum));
    c.ws->Send(c.subs.combined() ? Shared(Combined(r.key, *raw)) : raw);
  }
}

void StreamHub::OnClose(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  for (const auto& key : it->second.subs.streams()) Unlink(id, key);
  if (it->second.subs.checksum()) --checksum_conns_;
  conns_.erase(it);
}

void StreamHub::Link(uint64_t id, const StreamKey& key) { subscribers_[key].insert(id); }

void StreamHub::Unlink(uint64_t id, const StreamKey& key) {
  auto it = subscribers_.find(key);
  if (it == subscribers_.end()) return;
  it->second.erase(id);
  if (it->second.empty()) subscribers_.erase(it);
}

void StreamHub::SendTo(const StreamKey& key, const std::shared_ptr<const std::string>& raw,
                       const std::shared_ptr<const std::string>& combined,
                       const std::shared_ptr<const std::string>& raw_cs,
                       const std::shared_ptr<const std::string>& combined_cs) {
  auto it = subscribers_.find(key);
  if (it == subscribers_.end()) return;
  for (uint64_t id : it->second) {
    auto c = conns_.find(id);
    if (c == conns_.end()) continue;
    const Subscriptions& subs = c->second.subs;
    if (raw_cs && subs.checksum()) {
      c->second.ws->Send(subs.combined() ? combined_cs : raw_cs);
    } else {
      c->second.ws->Send(subs.combined() ? combined : raw);
    }
  }
}

void StreamHub::Publish(const std::vector<StreamMessage>& messages) {
  std::lock_guard lock(mu_);
  for (const auto& m : messages) {
    if (m.trade) seconds_.Add(m.key.symbol, m.first_id, *m.trade);
    std::shared_ptr<const std::string> raw;
    if (StreamHistory::Keeps(m.key)) {
      raw = Shared(m.raw);
      history_.Record(m, raw);
    }
    if (!subscribers_.contains(m.key)) continue;
    if (!raw) raw = Shared(m.raw);
    auto combined = Shared(m.combined.empty() ? Combined(m.key, m.raw) : m.combined);
    std::shared_ptr<const std::string> raw_cs, combined_cs;
    if (m.checksum && checksum_conns_ > 0) {  // encoded once per stream, as the plain ones
      raw_cs = Shared(WithChecksum(m.raw, *m.checksum));
      combined_cs = Shared(Combined(m.key, *raw_cs));
    }
    SendTo(m.key, raw, combined, raw_cs, combined_cs);
  }
}

void StreamHub::Tick(int64_t now_ms) {
  std::lock_guard lock(mu_);
  const int64_t last = last_tick_ms_;
  last_tick_ms_ = now_ms;
  if (last == 0) return;
  for (const auto& [key, ids] : subscribers_) {
    if (IsRealTime(key.kind)) continue;
    if (key.kind == StreamKind::kKline) {
      // A bar that ended since the last tick is sent once more, closed (x = true, E = its last
      // millisecond), as Binance does: otherwise trades in the last seconds of a bar (after its
      // last 2-second message) would never reach the stream.
      const int64_t interval =
          key.param == "1s" ? 1000 : MarketData::ParseInterval(key.param).value_or(0);
      if (interval > 0 && now_ms / interval != last / interval) {
        if (auto closed = EncodePeriodic(market_, key, now_ms / interval * interval - 1, &seconds_)) {
          SendTo(key, Shared(closed->raw),
                 Shared(closed->combined.empty() ? Combined(key, closed->raw) : closed->combined));
        }
        if (interval == 1000) continue;  // the new 1s bar is sent when it closes
      } else if (interval == 1000) {
        continue;
      }
    }
    const int64_t period = PeriodMs(key);
    if (now_ms / period == last / period) continue;
    auto m = EncodePeriodic(market_, key, now_ms, &seconds_);
    if (!m) continue;
    SendTo(key, Shared(m->raw), Shared(m->combined.empty() ? Combined(key, m->raw) : m->combined));
  }
}

void StreamHub::ShutdownNotice(int64_t now_ms) {
  std::lock_guard lock(mu_);
  const std::string data = "{\"e\":\"serverShutdown\",\"E\":" + std::to_string(now_ms) + "}";
  auto raw = Shared(data);
  auto combined = Shared("{\"stream\":\"!serverShutdown\",\"data\":" + data + "}");
  for (auto& [id, c] : conns_) c.ws->Send(c.subs.combined() ? combined : raw);
}

size_t StreamHub::connections() const {
  std::lock_guard lock(mu_);
  return conns_.size();
}

size_t StreamHub::subscriptions() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [key, ids] : subscribers_) {
    n += ids.size();
  }
  return n;
}

size_t StreamHub::subscribers(const StreamKey& key) const {
  std::lock_guard lock(mu_);
  auto it = subscribers_.find(key);
  return it == subscribers_.end() ? 0 : it->second.size();
}

}  // namespace spotex::gateway::streams
