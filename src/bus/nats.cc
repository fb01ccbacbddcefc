#include "bus/nats.h"

#include <fstream>

#include "bus/subjects.h"

namespace spotex::bus {

std::string StatusText(natsStatus s, jsErrCode js_err) {
  std::string text = natsStatus_GetText(s);
  if (js_err != 0) {
    text += " (JetStream error " + std::to_string(static_cast<int>(js_err)) + ")";
  }
  const char* last = nats_GetLastError(nullptr);
  if (last != nullptr && last[0] != '\0' && text.find(last) == std::string::npos) {
    text += ": ";
    text += last;
  }
  return text;
}

namespace {

NatsError Fail(std::string_view what, natsStatus s, jsErrCode js_err = static_cast<jsErrCode>(0)) {
  return NatsError{std::string(what) + ": " + StatusText(s, js_err)};
}

struct OptionsDeleter {
  void operator()(natsOptions* o) const { natsOptions_Destroy(o); }
};

}  // namespace

NatsResult<std::string> ReadSecretFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return std::unexpected(NatsError{"cannot read secret file " + path});
  }
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.pop_back();
  }
  if (line.empty()) {
    return std::unexpected(NatsError{"secret file " + path + " is empty"});
  }
  return line;
}

void Nats::OnPubAck(jsCtx*, natsMsg* msg, jsPubAck*, jsPubAckErr* pae, void* closure) {
  auto* self = static_cast<Nats*>(closure);
  if (pae != nullptr && self->on_async_error_ != nullptr) {
    std::string text = "async publish failed: " + StatusText(pae->Err, pae->ErrCode);
    if (pae->ErrText != nullptr) {
      text += " ";
      text += pae->ErrText;
    }
    self->on_async_error_(text.c_str(), self->closure_);
  }
  natsMsg_Destroy(msg);
  uint64_t index = self->async_answered_.fetch_add(1, std::memory_order_release);
  if (self->answered_fn_ != nullptr) {
    self->answered_fn_(index, self->answered_closure_);
  }
}

NatsResult<std::unique_ptr<Nats>> Nats::Connect(const NatsConfig& config,
                                                AsyncErrorFn on_async_error, void* closure) {
  natsOptions* raw = nullptr;
  if (natsStatus s = natsOptions_Create(&raw); s != NATS_OK) {
    return std::unexpected(Fail("natsOptions_Create", s));
  }
  std::unique_ptr<natsOptions, OptionsDeleter> opts(raw);
  natsStatus s = natsOptions_SetURL(opts.get(), config.url.c_str());
  if (s == NATS_OK && !config.user.empty()) {
    s = natsOptions_SetUserInfo(opts.get(), config.user.c_str(), config.password.c_str());
  }
  if (s == NATS_OK && !config.name.empty()) {
    s = natsOptions_SetName(opts.get(), config.name.c_str());
  }
  if (s == NATS_OK) {
    s = natsOptions_SetMaxReconnect(opts.get(), config.retry_forever ? -1 : 0);
  }
  if (s == NATS_OK) {
    s = natsOptions_SetReconnectWait(opts.get(), 100);
  }
  if (s == NATS_OK) {
    // Large pending limits: the engine drains its queue in batches; the default 65536 messages
    // is enough, the default 64 MiB byte limit too, but be explicit.
    s = natsOptions_SetMaxPendingMsgs(opts.get(), 1 << 20);
  }
  if (s != NATS_OK) {
    return std::unexpected(Fail("NATS options", s));
  }
  std::unique_ptr<Nats> nats(new Nats());
  nats->on_async_error_ = on_async_error;
  nats->closure_ = closure;
  if (s = natsConnection_Connect(&nats->conn_, opts.get()); s != NATS_OK) {
    return std::unexpected(Fail("connect to " + config.url, s));
  }
  jsOptions jso;
  jsOptions_Init(&jso);
  jso.Wait = config.js_wait_ms;
  jso.PublishAsync.MaxPending = config.max_pending_async;
  jso.PublishAsync.AckHandler = &Nats::OnPubAck;
  jso.PublishAsync.AckHandlerClosure = nats.get();
  if (s = natsConnection_JetStream(&nats->js_, nats->conn_, &jso); s != NATS_OK) {
    return std::unexpected(Fail("JetStream context", s));
  }
  return nats;
}

Nats::~Nats() {
  if (js_ != nullptr) {
    jsCtx_Destroy(js_);
  }
  if (conn_ != nullptr) {
    natsConnection_FlushTimeout(conn_, 1000);
    natsConnection_Close(conn_);
    natsConnection_Destroy(conn_);
  }
}

NatsResult<void> Nats::EnsureStream(const StreamSpec& spec) {
  jsStreamInfo* info = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, js_, spec.name.c_str(), nullptr, &err);
  if (s == NATS_OK) {
    bool covers = false;
    for (int i = 0; i < info->Config->SubjectsLen; ++i) {
      covers |= spec.subject == info->Config->Subjects[i];
    }
    jsStreamInfo_Destroy(info);
    if (!covers) {
      return std::unexpected(
          NatsError{"stream " + spec.name + " exists but does not hold subject " + spec.subject});
    }
    return {};
  }
  if (s != NATS_NOT_FOUND) {
    return std::unexpected(Fail("stream info " + spec.name, s, err));
  }
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  const char* subjects[] = {spec.subject.c_str()};
  cfg.Name = spec.name.c_str();
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.Retention = js_LimitsPolicy;
  cfg.Replicas = spec.replicas;
  cfg.Duplicates = spec.duplicate_window_ms * 1'000'000;  // nanoseconds
  err = static_cast<jsErrCode>(0);
  s = js_AddStream(&info, js_, &cfg, nullptr, &err);
  if (s != NATS_OK) {
    return std::unexpected(Fail("create stream " + spec.name, s, err));
  }
  jsStreamInfo_Destroy(info);
  return {};
}

NatsResult<uint64_t> Nats::LastSeq(const std::string& stream) {
  jsStreamInfo* info = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, js_, stream.c_str(), nullptr, &err);
  if (s != NATS_OK) {
    return std::unexpected(Fail("stream info " + stream, s, err));
  }
  uint64_t last = info->State.LastSeq;
  jsStreamInfo_Destroy(info);
  return last;
}

NatsResult<MsgPtr> Nats::GetMsg(const std::string& stream, uint64_t seq) {
  natsMsg* msg = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  natsStatus s = js_GetMsg(&msg, js_, stream.c_str(), seq, nullptr, &err);
  if (s == NATS_NOT_FOUND) {
    return MsgPtr();
  }
  if (s != NATS_OK) {
    return std::unexpected(Fail("get message " + std::to_string(seq) + " of " + stream, s, err));
  }
  return MsgPtr(msg);
}

NatsResult<MsgPtr> Nats::LastMsg(const std::string& stream, const std::string& subject) {
  // By sequence, walking back over deleted messages at the tail (the server's last-by-subject
  // lookup does not find a message when the last one was deleted).
  jsStreamInfo* info = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, js_, stream.c_str(), nullptr, &err);
  if (s != NATS_OK) {
    return std::unexpected(Fail("stream info " + stream, s, err));
  }
  const uint64_t first = info->State.FirstSeq, last = info->State.LastSeq;
  const uint64_t msgs = info->State.Msgs;
  jsStreamInfo_Destroy(info);
  if (msgs == 0) {
    return MsgPtr();
  }
  for (uint64_t seq = last; seq >= first && seq > 0; --seq) {
    auto msg = GetMsg(stream, seq);
    if (!msg) {
      return std::unexpected(msg.error());
    }
    if (*msg && subject == natsMsg_GetSubject(msg->get())) {
      return std::move(*msg);
    }
  }
  return MsgPtr();
}

NatsResult<MsgPtr> MakeMsg(const std::string& subject, std::string_view data,
                           const std::string& msg_id, const std::string& reply) {
  natsMsg* raw = nullptr;
  natsStatus s =
      natsMsg_Create(&raw, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size()));
  if (s != NATS_OK) {
    return std::unexpected(Fail("natsMsg_Create", s));
  }
  MsgPtr msg(raw);
  if (!msg_id.empty()) {
    s = natsMsgHeader_Set(raw, kMsgIdHeader, msg_id.c_str());
  }
  if (s == NATS_OK && !reply.empty()) {
    s = natsMsgHeader_Set(raw, kReplyHeader, reply.c_str());
  }
  if (s != NATS_OK) {
    return std::unexpected(Fail("natsMsgHeader_Set", s));
  }
  return msg;
}

NatsResult<uint64_t> Nats::PublishSync(const std::string& subject, std::string_view data,
                                       const std::string& msg_id, const std::string& reply) {
  auto msg = MakeMsg(subject, data, msg_id, reply);
  if (!msg) {
    return std::unexpected(msg.error());
  }
  jsPubAck* ack = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  natsStatus s = js_PublishMsg(&ack, js_, msg->get(), nullptr, &err);
  if (s != NATS_OK) {
    return std::unexpected(Fail("publish to " + subject, s, err));
  }
  uint64_t seq = ack->Sequence;
  jsPubAck_Destroy(ack);
  return seq;
}

NatsResult<void> Nats::PublishAsync(const std::string& subject, std::string_view data,
                                    const std::string& msg_id, const std::string& reply) {
  auto msg = MakeMsg(subject, data, msg_id, reply);
  if (!msg) {
    return std::unexpected(msg.error());
  }
  natsMsg* raw = msg->release();
  natsStatus s = js_PublishMsgAsync(js_, &raw, nullptr);
  natsMsg_Destroy(raw);  // no-op when the library took ownership (it clears raw)
  if (s != NATS_OK) {
    return std::unexpected(Fail("async publish to " + subject, s));
  }
  async_published_.fetch_add(1, std::memory_order_release);
  return {};
}

NatsResult<void> Nats::WaitAsyncComplete(int64_t timeout_ms) {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = timeout_ms;
  natsStatus s = js_PublishAsyncComplete(js_, &po);
  if (s != NATS_OK) {
    return std::unexpected(Fail("waiting for publish acks", s));
  }
  return {};
}

}  // namespace spotex::bus
