// A thin RAII layer over libnats (the NATS C client): one connection with its JetStream
// context, stream set-up, and owning pointers for messages. Nothing here knows about commands
// or events; the engine service and the clients put bytes through it.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <string_view>

namespace spotex::bus {

struct NatsError {
  std::string message;  // what failed, with libnats' status text and JetStream error code
};
template <typename T>
using NatsResult = std::expected<T, NatsError>;

struct MsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;

struct NatsConfig {
  std::string url = "nats://127.0.0.1:4222";
  std::string user;      // empty = no authentication
  std::string password;  // read from the secrets directory, never from the command line
  std::string name;      // connection name shown by the server's monitoring
  int64_t js_wait_ms = 5000;
  int64_t max_pending_async = 65536;  // async JetStream publishes in flight
  bool retry_forever = true;          // reconnect without limit (a service); false for CLIs
};

// Reads a secret file (first line, trailing whitespace cut). Errors name the path.
NatsResult<std::string> ReadSecretFile(const std::string& path);

// Builds the message error text for a libnats status.
std::string StatusText(natsStatus s, jsErrCode js_err = static_cast<jsErrCode>(0));

struct StreamSpec {
  std::string name;
  std::string subject;
  int replicas = 1;
  int64_t duplicate_window_ms = 2 * 60 * 1000;
};

class Nats {
 public:
  // Connects (bounded by the server answering). `on_async_error` is called from a libnats
  // thread for each asynchronous JetStream publish that failed.
  using AsyncErrorFn = void (*)(const char* text, void* closure);
  static NatsResult<std::unique_ptr<Nats>> Connect(const NatsConfig& config,
                                                   AsyncErrorFn on_async_error = nullptr,
                                                   void* closure = nullptr);
  ~Nats();
  Nats(const Nats&) = delete;
  Nats& operator=(const Nats&) = delete;

  natsConnection* conn() const { return conn_; }
  jsCtx* js() const { return js_; }

  // Creates the stream if it does not exist (file storage, limits retention, no size limit);
  // an existing stream is left as it is, but must cover `subject`.
  NatsResult<void> EnsureStream(const StreamSpec& spec);
  // The stream's last sequence number (0 if empty).
  NatsResult<uint64_t> LastSeq(const std::string& stream);
  // The last message stored on `subject` of `stream` (a single-subject stream), or nullptr if
  // none.
  NatsResult<MsgPtr> LastMsg(const std::string& stream, const std::string& subject);
  // The message stored at `seq`, or nullptr if none (deleted or beyond the end).
  NatsResult<MsgPtr> GetMsg(const std::string& stream, uint64_t seq);

  // Publishes bytes to a JetStream subject and waits for the stream's ack; returns its sequence.
  // Headers: Nats-Msg-Id = msg_id (if not empty), Spotex-Reply = reply (if not empty).
  NatsResult<uint64_t> PublishSync(const std::string& subject, std::string_view data,
                                   const std::string& msg_id, const std::string& reply = {});
  // The same without waiting; failures reach on_async_error.
  NatsResult<void> PublishAsync(const std::string& subject, std::string_view data,
                                const std::string& msg_id, const std::string& reply = {});
  // Waits until every async publish is acknowledged (or failed), at most timeout_ms.
  NatsResult<void> WaitAsyncComplete(int64_t timeout_ms);
  // Async publishes sent / answered (acknowledged or failed) so far. Answers arrive in order,
  // so answered >= n means the first n publishes are settled.
  uint64_t async_published() const { return async_published_.load(std::memory_order_acquire); }
  uint64_t async_answered() const { return async_answered_.load(std::memory_order_acquire); }
  // Called from the libnats thread after each async publish is answered (acknowledged or
  // failed) with its 0-based index in publish order (for timing acks). Set it before the first
  // PublishAsync; the closure must outlive the connection.
  using AnsweredFn = void (*)(uint64_t index, void* closure);
  void SetAnsweredObserver(AnsweredFn fn, void* closure) {
    answered_fn_ = fn;
    answered_closure_ = closure;
  }

 private:
  Nats() = default;
  natsConnection* conn_ = nullptr;
  jsCtx* js_ = nullptr;
  AsyncErrorFn on_async_error_ = nullptr;
  void* closure_ = nullptr;
  std::atomic<uint64_t> async_published_{0};
  std::atomic<uint64_t> async_answered_{0};
  AnsweredFn answered_fn_ = nullptr;
  void* answered_closure_ = nullptr;
  static void OnPubAck(jsCtx* js, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure);
};

// Creates a message with the Spotex headers set (see PublishSync).
NatsResult<MsgPtr> MakeMsg(const std::string& subject, std::string_view data,
                           const std::string& msg_id, const std::string& reply);

}  // namespace spotex::bus
