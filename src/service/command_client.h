// Client side of the engine's command log: publishes encoded commands to CMD_<shard> with a
// reply subject and hands each caller its command's event envelope when the engine has made it
// durable. Used by spotex-admin, the gateway, the log benchmark and the tests.
//
// Many commands may be in flight at once: Submit never blocks on the engine. Each command gets a
// reply subject "<inbox>.<n>" under one wildcard subscription.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bus/nats.h"

namespace spotex::service {

class CommandClient {
 public:
  // Runs on a libnats thread with the envelope bytes (valid during the call).
  using Callback = std::function<void(std::span<const std::byte> envelope)>;

  static bus::NatsResult<std::unique_ptr<CommandClient>> Connect(const bus::NatsConfig& config,
                                                                 uint32_t shard);
  ~CommandClient();

  // Publishes the command (asynchronously; JetStream acks are awaited in the background) with
  // Nats-Msg-Id `msg_id` (empty = none: no de-duplication). `done` is called when the engine
  // answers; never if the answer is lost (callers time out).
  bus::NatsResult<void> Submit(std::span<const std::byte> command, const std::string& msg_id,
                               Callback done);
  // Publishes, waits for the stream's ack, then for the engine's answer (up to timeout_ms).
  bus::NatsResult<std::vector<std::byte>> Call(std::span<const std::byte> command,
                                               const std::string& msg_id, int64_t timeout_ms);
  // A live-state query (service/query.h); returns the JSON answer. Blocks the calling thread.
  bus::NatsResult<std::string> Query(std::string_view request, int64_t timeout_ms);

  // Submit that also returns the reply's ticket, so that a caller that gives up waiting (its
  // own timeout) can Forget it. Same effect as Submit otherwise.
  bus::NatsResult<uint64_t> SubmitTracked(std::span<const std::byte> command,
                                          const std::string& msg_id, Callback done);
  // A live-state query without blocking: publishes `request` on spotex.query.<shard> with a
  // reply subject under this client's inbox; `done` runs on a libnats thread with the JSON
  // answer (valid during the call), or never if the answer is lost. Returns the ticket: the
  // caller owns the timeout and calls Forget(ticket) when it stops waiting, so that pending
  // entries cannot pile up.
  bus::NatsResult<uint64_t> QueryAsync(std::string_view request, Callback done);
  // Drops the callback of `ticket` (false if it already ran or was dropped). Thread-safe.
  bool Forget(uint64_t ticket);

  // Callbacks registered but not answered yet.
  size_t pending() const;
  // Forgets every pending callback (they will never be called).
  void DropPending();
  bus::Nats& nats() { return *nats_; }

 private:
  CommandClient() = default;
  static void OnReply(natsConnection*, natsSubscription*, natsMsg* msg, void* closure);

  std::unique_ptr<bus::Nats> nats_;
  natsSubscription* sub_ = nullptr;
  uint32_t shard_ = 0;
  std::string cmd_subject_;
  std::string query_subject_;
  std::string inbox_;  // "_INBOX.<unique>"
  mutable std::mutex mu_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Callback> pending_;
};

}  // namespace spotex::service
