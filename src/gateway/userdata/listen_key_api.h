// The legacy listenKey flow (BINANCE_API.md §9.4), for older clients (ccxt <= 4.5.5):
//
//   POST   /api/v3/userDataStream               -> {"listenKey":"<64 alphanumerics>"}
//   PUT    /api/v3/userDataStream?listenKey=K   -> {}   (keeps K alive 60 more minutes)
//   DELETE /api/v3/userDataStream?listenKey=K   -> {}   (ends K; its connections get
//                                                        listenKeyExpired and are closed)
// Security type USER_STREAM: the X-MBX-APIKEY header only, no signature or timestamp (a
// signature, timestamp or recvWindow that is sent is ignored). Errors: -2014 / -2015 (HTTP 401)
// for the key, exactly as signed endpoints; -1102 for a missing listenKey; -1125 "This
// listenKey does not exist." for a key that is unknown, expired or another account's; -1001
// when the key directory or the listenKey store cannot be asked.
//
// Then events are read on /ws/<listenKey> (raw payloads) or /stream?streams=<listenKey>
// (combined {"stream":"<listenKey>","data":...}). Incoming messages on such a connection are
// ignored. DELETE ends this replica's connections of the key at once and calls OnDeleted,
// which tells the other replicas (stream_endings.h); ExpireStale() (call it every ~30 s) ends
// the connections whose key ran out, or was deleted while the replica missed the message.
//
// Blocking: the handlers and Accept run on an I/O thread and ask the key directory (cached;
// PostgreSQL on a miss) and the store (one Redis round trip, bounded by the pool's
// command_timeout, 200 ms by default, and its circuit breaker), as the signed endpoints do.
//
// Thread safety: every method may be called from any thread. The directory, the store and the
// hub must outlive the ListenKeyApi.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/auth/key_directory.h"
#include "gateway/http/router.h"
#include "gateway/http/websocket.h"
#include "gateway/userdata/listen_key_store.h"
#include "gateway/userdata/user_stream_hub.h"

namespace spotex::gateway::userdata {

// The listenKey of a user-stream WebSocket target: "/ws/<key>" or "/stream?streams=<key>"
// with exactly one stream that has the listenKey format. nullopt: not a user stream (the
// market StreamHub takes it).
struct ListenKeyTarget {
  std::string key;
  bool combined = false;
};
std::optional<ListenKeyTarget> ParseListenKeyTarget(std::string_view target);

// -1125, HTTP 400.
http::Error ListenKeyNotFound();

class ListenKeyApi {
 public:
  using Clock = std::function<int64_t()>;  // wall clock, ms since the epoch
  // Called with a listenKey after DELETE removed it and ended this replica's streams of it,
  // to tell the other replicas (stream_endings.h). Empty: nobody is told.
  using OnDeleted = std::function<void(const std::string& listen_key)>;

  ListenKeyApi(KeyDirectory& keys, ListenKeyStore& store, UserStreamHub& hub, Clock now_ms,
               OnDeleted on_deleted = {});

  // Adds the three routes; false if one is taken.
  [[nodiscard]] bool Register(http::Router& router);

  // The three endpoints, synchronously (Register's routes call it).
  http::Response Handle(const http::Request& request);

  // For the WsFactory: nullopt when `request` is not a listenKey stream. Otherwise the
  // connection's handlers (subscribed to the key's account, framing by target), or the refusal:
  // 400 -1125 for an unknown key, 500 -1001 when the store cannot be asked.
  std::optional<std::expected<http::WsHandlers, http::Response>> Accept(
      const http::WsRequest& request, const std::shared_ptr<http::WsConnection>& connection);

  // Expires (UserStreamHub::Expire) every subscribed key the store no longer knows, asking
  // the store once per batch of keys (ListenKeyStore::FindMany). When the store cannot answer,
  // every key is kept. Returns how many were expired.
  size_t ExpireStale();

 private:
  std::expected<int64_t, http::Error> Account(const http::Request& request);

  KeyDirectory& keys_;
  ListenKeyStore& store_;
  UserStreamHub& hub_;
  const Clock now_ms_;
  const OnDeleted on_deleted_;
};

}  // namespace spotex::gateway::userdata
