#include "service/command_client.h"

#include <charconv>
#include <condition_variable>

#include "bus/subjects.h"

namespace spotex::service {

bus::NatsResult<std::unique_ptr<CommandClient>> CommandClient::Connect(
    const bus::NatsConfig& config, uint32_t shard) {
  auto nats = bus::Nats::Connect(config);
  if (!nats) return std::unexpected(nats.error());
  std::unique_ptr<CommandClient> c(new CommandClient());
  c->nats_ = std::move(*nats);
  c->shard_ = shard;
  c->cmd_subject_ = bus::CommandSubject(shard);
  c->query_subject_ = bus::QuerySubject(shard);
  natsInbox* inbox = nullptr;
  if (natsStatus s = natsInbox_Create(&inbox); s != NATS_OK) {
    return std::unexpected(bus::NatsError{"inbox: " + bus::StatusText(s)});
  }
  c->inbox_ = inbox;
  natsInbox_Destroy(inbox);
  std::string wildcard = c->inbox_ + ".*";
  natsStatus s = natsConnection_Subscribe(&c->sub_, c->nats_->conn(), wildcard.c_str(),
                                          &CommandClient::OnReply, c.get());
  if (s != NATS_OK) {
    return std::unexpected(bus::NatsError{"subscribe " + wildcard + ": " + bus::StatusText(s)});
  }
  natsSubscription_SetPendingLimits(c->sub_, 1 << 22, 1 << 30);
  // Make sure the server has the subscription before any command can be answered.
  natsConnection_FlushTimeout(c->nats_->conn(), 5000);
  return c;
}

CommandClient::~CommandClient() {
  if (sub_ != nullptr) {
    natsSubscription_Unsubscribe(sub_);
    natsSubscription_Destroy(sub_);
  }
}

void CommandClient::OnReply(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* self = static_cast<CommandClient*>(closure);
  std::string_view subject = natsMsg_GetSubject(msg);
  uint64_t id = 0;
  if (subject.size() > self->inbox_.size() + 1) {
    auto tail = subject.substr(self->inbox_.size() + 1);
    std::from_chars(tail.data(), tail.data() + tail.size(), id);
  }
  Callback cb;
  {
    std::lock_guard lock(self->mu_);
    auto it = self->pending_.find(id);
    if (it != self->pending_.end()) {
      cb = std::move(it->second);
      self->pending_.erase(it);
    }
  }
  if (cb) {
    cb({reinterpret_cast<const std::byte*>(natsMsg_GetData(msg)),
        static_cast<size_t>(natsMsg_GetDataLength(msg))});
  }
  natsMsg_Destroy(msg);
}

bus::NatsResult<void> CommandClient::Submit(std::span<const std::byte> command,
                                            const std::string& msg_id, Callback done) {
  auto r = SubmitTracked(command, msg_id, std::move(done));
  if (!r) return std::unexpected(r.error());
  return {};
}

bus::NatsResult<uint64_t> CommandClient::SubmitTracked(std::span<const std::byte> command,
                                                       const std::string& msg_id,
                                                       Callback done) {
  uint64_t id;
  {
    std::lock_guard lock(mu_);
    id = next_id_++;
    pending_.emplace(id, std::move(done));
  }
  auto r = nats_->PublishAsync(cmd_subject_,
                               {reinterpret_cast<const char*>(command.data()), command.size()},
                               msg_id, inbox_ + "." + std::to_string(id));
  if (!r) {
    std::lock_guard lock(mu_);
    pending_.erase(id);
    return std::unexpected(r.error());
  }
  return id;
}

bus::NatsResult<uint64_t> CommandClient::QueryAsync(std::string_view request, Callback done) {
  uint64_t id;
  {
    std::lock_guard lock(mu_);
    id = next_id_++;
    pending_.emplace(id, std::move(done));
  }
  const std::string reply = inbox_ + "." + std::to_string(id);
  natsStatus s = natsConnection_PublishRequest(nats_->conn(), query_subject_.c_str(),
                                               reply.c_str(), request.data(),
                                               static_cast<int>(request.size()));
  if (s != NATS_OK) {
    std::lock_guard lock(mu_);
    pending_.erase(id);
    return std::unexpected(bus::NatsError{"query '" + std::string(request.substr(0, 80)) +
                                          "' on " + query_subject_ + ": " +
                                          bus::StatusText(s)});
  }
  return id;
}

bool CommandClient::Forget(uint64_t ticket) {
  std::lock_guard lock(mu_);
  return pending_.erase(ticket) > 0;
}

bus::NatsResult<std::vector<std::byte>> CommandClient::Call(std::span<const std::byte> command,
                                                            const std::string& msg_id,
                                                            int64_t timeout_ms) {
  struct Waiter {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::vector<std::byte> bytes;
  };
  auto w = std::make_shared<Waiter>();
  uint64_t id;
  {
    std::lock_guard lock(mu_);
    id = next_id_++;
    pending_.emplace(id, [w](std::span<const std::byte> env) {
      std::lock_guard lock(w->mu);
      w->bytes.assign(env.begin(), env.end());
      w->done = true;
      w->cv.notify_one();
    });
  }
  auto seq = nats_->PublishSync(cmd_subject_,
                                {reinterpret_cast<const char*>(command.data()), command.size()},
                                msg_id, inbox_ + "." + std::to_string(id));
  if (!seq) {
    std::lock_guard lock(mu_);
    pending_.erase(id);
    return std::unexpected(seq.error());
  }
  std::unique_lock lock(w->mu);
  if (!w->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return w->done; })) {
    std::lock_guard plock(mu_);
    pending_.erase(id);
    return std::unexpected(bus::NatsError{"command stored at seq " + std::to_string(*seq) +
                                          " but the engine did not answer within " +
                                          std::to_string(timeout_ms) + " ms"});
  }
  return std::move(w->bytes);
}

bus::NatsResult<std::string> CommandClient::Query(std::string_view request, int64_t timeout_ms) {
  natsMsg* reply = nullptr;
  natsStatus s =
      natsConnection_Request(&reply, nats_->conn(), query_subject_.c_str(), request.data(),
                             static_cast<int>(request.size()), timeout_ms);
  if (s != NATS_OK) {
    return std::unexpected(bus::NatsError{"query '" + std::string(request) + "' on " +
                                          query_subject_ + ": " + bus::StatusText(s)});
  }
  std::string out(natsMsg_GetData(reply), static_cast<size_t>(natsMsg_GetDataLength(reply)));
  natsMsg_Destroy(reply);
  return out;
}

size_t CommandClient::pending() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

void CommandClient::DropPending() {
  std::lock_guard lock(mu_);
  pending_.clear();
}

}  // namespace spotex::service
