#include "gateway/users/engine_accounts.h"

#include <simdjson.h>
#include <sodium.h>

#include <cstdio>

#include "core/assert.h"
#include "engine/reject.h"
#include "proto/codec.h"
#include "proto/envelope.h"
#include "service/log.h"

namespace spotex::gateway::users {
namespace {

http::Error FromReject(engine::RejectCode code) {
  const engine::BinanceError b = engine::ToBinance(code);
  return http::Error{b.code, std::string(b.msg), b.http};
}

// A Nats-Msg-Id for one command: JetStream drops a re-publish with the same id within its
// duplicate window, so a publish retried inside the client cannot apply a deposit twice.
std::string NewMsgId() {
  static const bool sodium_ready = sodium_init() >= 0;
  SPOTEX_ASSERT(sodium_ready);
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof bytes);
  char hex[2 * sizeof bytes + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return std::string("users:") + hex;
}

}  // namespace

http::Error BackendUnavailable() {
  return http::Error{-1001, "Internal error; unable to process your request. Please try again.",
                     503};
}


http::Result<std::string> EngineAccounts::Query(std::string_view request) {
  auto answer = client_.Query(request, timeout_ms_);
  if (!answer) {
    service::Log(service::LogLevel::kWarn, "users",
                 "engine query '" + std::string(request) + "' failed: " + answer.error().message);
    return std::unexpected(BackendUnavailable());
  }
  return std::move(*answer);
}

http::Result<std::vector<EngineAsset>> EngineAccounts::Assets() {
  auto json = Query("assets");
  if (!json) {
    return std::unexpected(json.error());
  }
  auto assets = ParseAssets(*json);
  if (!assets) {
    service::Log(service::LogLevel::kError, "users", assets.error());
    return std::unexpected(http::errors::Unknown());
  }
  return std::move(*assets);
}

http::Result<EngineAsset> EngineAccounts::FindAsset(std::string_view name) {
  auto assets = Assets();
  if (!assets) {
    return std::unexpected(assets.error());
  }
  for (EngineAsset& a : *assets) {
    if (a.name == name) {
      return std::move(a);
    }
  }
  return std::unexpected(http::errors::InvalidParameter("asset"));
}

http::Result<Applied> EngineAccounts::Send(const engine::CommandBody& body) {
  const std::vector<std::byte> bytes = proto::EncodeCommand(engine::Command{0, 0, body});
  auto reply = client_.Call(bytes, NewMsgId(), timeout_ms_);
  if (!reply) {
    service::Log(service::LogLevel::kWarn, "users",
                 "engine command failed: " + reply.error().message);
    return std::unexpected(http::errors::BackendTimeout());
  }
  auto envelope = proto::Envelope::Parse(*reply);
  if (!envelope) {
    service::Log(service::LogLevel::kError, "users",
                 "bad envelope from the engine: " + std::string(proto::ToString(envelope.error())));
    return std::unexpected(http::errors::Unknown());
  }
  const proto::EnvelopeHeader& h = envelope->header();
  if (h.code != engine::RejectCode::kNone) {
    return std::unexpected(FromReject(h.code));
  }
  return Applied{h.seq};
}

http::Result<void> EngineAccounts::EnsureAccount(engine::AccountId account) {
  auto has = Query("has_account " + std::to_string(account));
  if (!has) {
    return std::unexpected(has.error());
  }
  if (has->find("\"exists\":true") != std::string::npos) {
    return {};
  }
  auto opened = Send(engine::OpenAccount{account});
  if (!opened && opened.error() != FromReject(engine::RejectCode::kDuplicateAccount)) {
    return std::unexpected(opened.error());
  }
  return {};
}

bool EngineAccounts::OpenAccountAsync(engine::AccountId account) {
  const std::vector<std::byte> bytes =
      proto::EncodeCommand(engine::Command{0, 0, engine::OpenAccount{account}});
  auto sent = client_.Submit(bytes, NewMsgId(), [](std::span<const std::byte>) {});
  if (!sent) {
    service::Log(service::LogLevel::kWarn, "users",
                 "OpenAccount " + std::to_string(account) + " not sent: " + sent.error().message);
    return false;
  }
  return true;
}

http::Result<Applied> EngineAccounts::Deposit(engine::AccountId account, const EngineAsset& asset,
                                              int64_t units) {
  if (auto ensured = EnsureAccount(account); !ensured) {
    return std::unexpected(ensured.error());
  }
  return Send(engine::Deposit{account, asset.id, engine::Amount{units}});
}

http::Result<Applied> EngineAccounts::Withdraw(engine::AccountId account, const EngineAsset& asset,
                                               int64_t units) {
  auto applied = Send(engine::Withdraw{account, asset.id, engine::Amount{units}});
  if (!applied && applied.error() == FromReject(engine::RejectCode::kUnknownAccount)) {
    return std::unexpected(FromReject(engine::RejectCode::kInsufficientBalance));
  }
  return applied;
}

http::Result<Applied> EngineAccounts::Freeze(engine::AccountId account, bool frozen) {
  if (auto ensured = EnsureAccount(account); !ensured) {
    return std::unexpected(ensured.error());
  }
  return Send(engine::FreezeAccount{account, frozen});
}

}  // namespace spotex::gateway::users
