#include "gateway/userdata/user_stream_hub.h"

#include <utility>

#include "gateway/http/error.h"

namespace spotex::gateway::userdata {

namespace {

std::shared_ptr<const std::string> Shared(std::string s) {
  return std::make_shared<const std::string>(std::move(s));
}

std::string Frame(Framing framing, const std::string& tag, std::string_view event) {
  std::string out;
  switch (framing) {
    case Framing::kRaw:
    case Framing::kSession:
      return std::string(event);
    case Framing::kCombined:
      out.reserve(event.size() + tag.size() + 22);
      out += "{\"stream\":\"";
      out += tag;  // a listenKey: alphanumeric, no escaping needed
      out += "\",\"data\":";
      break;
    case Framing::kWsApi:
      out.reserve(event.size() + tag.size() + 30);
      out += "{\"subscriptionId\":";
      out += tag;  // decimal
      out += ",\"event\":";
      break;
  }
  out += event;
  out += '}';
  return out;
}

}  // namespace

UserStreamHub::SubscriberId UserStreamHub::Subscribe(int64_t account,
                                                     std::shared_ptr<http::WsConnection> ws,
                                                     Framing framing, std::string tag) {
  std::lock_guard lock(mu_);
  const SubscriberId id = next_id_++;
  subs_.emplace(id, Sub{account, std::move(ws), framing, std::move(tag)});
  by_account_[account].insert(id);
  return id;
}

void UserStreamHub::Unsubscribe(SubscriberId id) {
  std::lock_guard lock(mu_);
  auto it = subs_.find(id);
  if (it == subs_.end()) {
    return;
  }
  auto acc = by_account_.find(it->second.account);
  if (acc != by_account_.end()) {
    acc->second.erase(id);
    if (acc->second.empty()) {
      by_account_.erase(acc);
    }
  }
  subs_.erase(it);
}

void UserStreamHub::Publish(int64_t account, const std::vector<std::string>& events) {
  if (events.empty()) {
    return;
  }
  std::vector<SubscriberId> closed;
  {
    std::lock_guard lock(mu_);
    auto acc = by_account_.find(account);
    if (acc == by_account_.end()) {
      return;
    }
    // Raw subscribers share one buffer per event; the other framings differ per subscriber.
    std::vector<std::shared_ptr<const std::string>> raw;
    for (SubscriberId id : acc->second) {
      auto it = subs_.find(id);
      if (it == subs_.end()) {
        continue;
      }
      Sub& s = it->second;
      if (!s.ws->open()) {
        closed.push_back(id);
        continue;
      }
      for (size_t i = 0; i < events.size(); ++i) {
        std::shared_ptr<const std::string> bytes;
        if (s.framing == Framing::kRaw || s.framing == Framing::kSession) {
          if (raw.size() < events.size()) {
            raw.resize(events.size());
          }
          if (!raw[i]) {
            raw[i] = Shared(events[i]);
          }
          bytes = raw[i];
        } else {
          bytes = Shared(Frame(s.framing, s.tag, events[i]));
        }
        if (!s.ws->Send(std::move(bytes))) {
          closed.push_back(id);  // closed, or just closed for overflowing its queue
          break;
        }
      }
    }
  }
  for (SubscriberId id : closed) {
    Unsubscribe(id);
  }
}

bool UserStreamHub::HasKind(const Sub& s, TagKind kind) {
  return kind == TagKind::kSession ? s.framing == Framing::kSession
                                   : s.framing == Framing::kRaw || s.framing == Framing::kCombined;
}

std::vector<std::pair<UserStreamHub::SubscriberId, UserStreamHub::Sub>> UserStreamHub::Tagged(
    TagKind kind, std::string_view tag) const {
  std::vector<std::pair<SubscriberId, Sub>> out;
  std::lock_guard lock(mu_);
  for (const auto& [id, s] : subs_) {
    if (HasKind(s, kind) && s.tag == tag) {
      out.emplace_back(id, s);
    }
  }
  return out;
}

std::vector<std::string> UserStreamHub::Tags(TagKind kind) const {
  std::set<std::string> tags;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, s] : subs_) {
      if (HasKind(s, kind)) {
        tags.insert(s.tag);
      }
    }
  }
  return {tags.begin(), tags.end()};
}

void UserStreamHub::Expire(std::string_view listen_key, int64_t now_ms) {
  std::string event =
      "{\"e\":\"listenKeyExpired\",\"E\":" + std::to_string(now_ms) + ",\"listenKey\":";
  http::AppendJsonString(event, listen_key);
  event += '}';
  for (auto& [id, s] : Tagged(TagKind::kListenKey, listen_key)) {
    Unsubscribe(id);
    s.ws->Send(Shared(Frame(s.framing, s.tag, event)));
    s.ws->Close(http::ws_close::kNormal, "listenKey expired");
  }
}

std::vector<std::string> UserStreamHub::ListenKeys() const { return Tags(TagKind::kListenKey); }

size_t UserStreamHub::EndSession(std::string_view token) {
  const auto ended = Tagged(TagKind::kSession, token);
  for (const auto& [id, s] : ended) {
    Unsubscribe(id);
    s.ws->Close(http::ws_close::kNormal, "session ended");
  }
  return ended.size();
}

std::vector<std::string> UserStreamHub::SessionTokens() const { return Tags(TagKind::kSession); }

size_t UserStreamHub::subscribers(int64_t account) const {
  std::lock_guard lock(mu_);
  auto it = by_account_.find(account);
  return it == by_account_.end() ? 0 : it->second.size();
}

size_t UserStreamHub::subscriptions() const {
  std::lock_guard lock(mu_);
  return subs_.size();
}

}  // namespace spotex::gateway::userdata
