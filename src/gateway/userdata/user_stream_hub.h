// The user data streams of one gateway replica (BINANCE_API.md §9-10): which WebSocket
// connections receive which account's events, and the fan-out of those events.
//
// Three ways a connection subscribes, each with its own framing of the same event payload:
//   kRaw       /ws/<listenKey>                       the event object itself
//   kCombined  /stream?streams=<listenKey>           {"stream":"<listenKey>","data":<event>}
//   kWsApi     WebSocket API userDataStream.subscribe
//                                                    {"subscriptionId":<n>,"event":<event>}
//   kSession   /api/v1/web/userStream (browser, session cookie; gateway/web/web_api.h)
//                                                    the event object itself
// An account's events are encoded once (UserEventEncoder); the framing is added per
// subscriber (user events go to a handful of connections, unlike market streams).
//
// A subscription ends by Unsubscribe, by the connection closing (the owner calls Unsubscribe
// from its on_close), or by Expire for listenKey subscriptions whose key was deleted or ran out
// (the connection then gets {"e":"listenKeyExpired","E":..,"listenKey":..} and is closed).
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/http/websocket.h"

namespace spotex::gateway::userdata {

enum class Framing { kRaw, kCombined, kWsApi, kSession };

class UserStreamHub {
 public:
  using SubscriberId = uint64_t;

  // Starts sending `account`'s events to `ws`. `tag` is the listenKey (kRaw, kCombined), the
  // decimal subscriptionId (kWsApi) or the session token (kSession). Returns an id unique
  // within this hub (never 0).
  SubscriberId Subscribe(int64_t account, std::shared_ptr<http::WsConnection> ws, Framing framing,
                         std::string tag);

  // Stops one subscription; unknown ids are ignored.
  void Unsubscribe(SubscriberId id);

  // Sends each event payload (a JSON object, e.g. an executionReport) to every subscriber of
  // `account`, framed for it. A closed connection's subscriptions are dropped here too.
  void Publish(int64_t account, const std::vector<std::string>& events);

  // Ends every kRaw/kCombined subscription whose tag is `listen_key`: sends listenKeyExpired
  // with event time `now_ms` and closes those connections (1000 "listenKey expired").
  void Expire(std::string_view listen_key, int64_t now_ms);

  // Every distinct listenKey that has a subscriber (for the periodic validity check).
  std::vector<std::string> ListenKeys() const;

  // Ends every kSession subscription of the session `token` (logout, expiry): closes those
  // connections with 1000 "session ended". Returns how many ended.
  size_t EndSession(std::string_view token);
  // Every distinct session token that has a kSession subscriber (for the periodic check).
  std::vector<std::string> SessionTokens() const;

  size_t subscribers(int64_t account) const;
  size_t subscriptions() const;

 private:
  struct Sub {
    int64_t account = 0;
    std::shared_ptr<http::WsConnection> ws;
    Framing framing = Framing::kRaw;
    std::string tag;
  };
  // Which streams a tag names: a listenKey's (kRaw, kCombined) or a session's (kSession).
  enum class TagKind { kListenKey, kSession };
  static bool HasKind(const Sub& s, TagKind kind);
  // The subscriptions of kind `kind` tagged `tag`, copied under the lock.
  std::vector<std::pair<SubscriberId, Sub>> Tagged(TagKind kind, std::string_view tag) const;
  // Every distinct tag of kind `kind` that has a subscriber.
  std::vector<std::string> Tags(TagKind kind) const;

  mutable std::mutex mu_;
  SubscriberId next_id_ = 1;
  std::map<SubscriberId, Sub> subs_;
  std::map<int64_t, std::set<SubscriberId>> by_account_;
};

}  // namespace spotex::gateway::userdata
