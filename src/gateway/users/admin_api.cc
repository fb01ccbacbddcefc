#include "gateway/users/admin_api.h"

#include <sodium.h>

#include <utility>

#include "core/decimal.h"
#include "db/pg.h"
#include "gateway/users/errors.h"

namespace spotex::gateway::users {
namespace {

using http::Params;
using http::Responder;
using http::Response;

constexpr size_t kAssetNameBytesMax = 20;

void Fail(Responder& responder, const http::Error& error) {
  responder.Send(Response::FromError(error));
}

std::array<unsigned char, 32> Digest(std::string_view bytes) {
  std::array<unsigned char, 32> out{};
  crypto_generichash(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size(), nullptr, 0);
  return out;
}

// `amount` as units of 10^-scale, with the errors Params::GetDecimal gives, and > 0.
http::Result<int64_t> ParseAmount(std::string_view text, int scale) {
  auto units = core::ParseDecimal(text, scale);
  if (!units) {
    switch (units.error()) {
      case core::DecimalError::kSyntax:
        return std::unexpected(http::errors::IllegalCharacters(
            "amount", "^([0-9]{1,20})(\\.[0-9]{1,20})?$"));
      case core::DecimalError::kTooPrecise:
        return std::unexpected(http::errors::TooMuchPrecision("amount"));
      case core::DecimalError::kOutOfRange:
        return std::unexpected(http::errors::ParameterOverflow("amount"));
    }
  }
  if (*units <= 0) {
    return std::unexpected(http::errors::InvalidParameter("amount"));
  }
  return *units;
}

}  // namespace

std::expected<AdminToken, std::string> AdminToken::FromString(std::string_view token) {
  if (token.size() < kAdminTokenBytesMin || token.size() > kAdminTokenBytesMax) {
    return std::unexpected("the admin token must be 16..256 characters");
  }
  for (char c : token) {
    if (c <= 0x20 || c >= 0x7f) {
      return std::unexpected("the admin token must be printable ASCII without spaces");
    }
  }
  if (sodium_init() < 0) {
    return std::unexpected("libsodium failed to initialise");
  }
  AdminToken t;
  t.digest_ = Digest(token);
  return t;
}

std::expected<AdminToken, std::string> AdminToken::Load(const std::string& secrets_dir) {
  const std::string path = secrets_dir + "/" + std::string(kAdminTokenFile);
  auto text = db::ReadPasswordFile(path);
  if (!text) {
    return std::unexpected(text.error().message);
  }
  auto token = FromString(*text);
  sodium_memzero(text->data(), text->size());
  if (!token) {
    return std::unexpected(path + ": " + token.error());
  }
  return token;
}

bool AdminToken::Matches(std::optional<std::string_view> presented) const {
  if (!presented.has_value() || presented->size() > kAdminTokenBytesMax) {
    return false;
  }
  const std::array<unsigned char, 32> digest = Digest(*presented);
  return sodium_memcmp(digest.data(), digest_.data(), digest.size()) == 0;
}

bool AdminApi::Register(http::Router& router) {
  using M = http::Method;
  bool ok = router.Add(M::kPost, "/api/v1/admin/deposit",
                       [this](http::Request&& request, Responder responder) {
                         Transfer(std::move(request), std::move(responder), true);
                       });
  ok = router.Add(M::kPost, "/api/v1/admin/withdraw",
                  [this](http::Request&& request, Responder responder) {
                    Transfer(std::move(request), std::move(responder), false);
                  }) &&
       ok;
  ok = router.Add(M::kPost, "/api/v1/admin/freeze",
                  [this](http::Request&& request, Responder responder) {
                    Freeze(std::move(request), std::move(responder));
                  }) &&
       ok;
  return ok;
}

void AdminApi::Transfer(http::Request&& request, Responder responder, bool deposit) {
  if (!token_.Matches(request.Header(kAdminTokenHeader))) {
    Fail(responder, errors::Unauthorized());
    return;
  }
  auto params = Params::FromRequest(request);
  if (!params) {
    Fail(responder, params.error());
    return;
  }
  auto user_id = params->GetLong("userId", http::LongRange{1, INT64_MAX});
  if (!user_id) {
    Fail(responder, user_id.error());
    return;
  }
  auto asset = params->GetString("asset");
  if (!asset) {
    Fail(responder, asset.error());
    return;
  }
  auto amount = params->GetString("amount");
  if (!amount) {
    Fail(responder, amount.error());
    return;
  }
  if (asset->size() > kAssetNameBytesMax) {
    Fail(responder, http::errors::InvalidParameter("asset"));
    return;
  }
  if (auto all = params->CheckAllRead(); !all) {
    Fail(responder, all.error());
    return;
  }
  workers_.Run(std::move(responder), [this, deposit, id = *user_id, a = std::string(*asset),
                                      text = std::string(*amount)](Responder& r) {
    EngineAccounts& engine = service_.engine();
    auto found = engine.FindAsset(a);
    if (!found) {
      Fail(r, found.error());
      return;
    }
    auto units = ParseAmount(text, found->scale);
    if (!units) {
      Fail(r, units.error());
      return;
    }
    if (auto user = service_.FindUser(id); !user) {
      Fail(r, user.error());
      return;
    }
    const auto account = static_cast<engine::AccountId>(id);
    auto applied = deposit ? engine.Deposit(account, *found, *units)
                           : engine.Withdraw(account, *found, *units);
    if (!applied) {
      Fail(r, applied.error());
      return;
    }
    std::string body = "{\"userId\":" + std::to_string(id) + ",\"asset\":";
    http::AppendJsonString(body, found->name);
    body += ",\"amount\":";
    http::AppendJsonString(body, core::FormatDecimal(*units, found->scale));
    body += ",\"seq\":" + std::to_string(applied->seq) + "}";
    r.Send(Response::Json(200, std::move(body)));
  });
}

void AdminApi::Freeze(http::Request&& request, Responder responder) {
  if (!token_.Matches(request.Header(kAdminTokenHeader))) {
    Fail(responder, errors::Unauthorized());
    return;
  }
  auto params = Params::FromRequest(request);
  if (!params) {
    Fail(responder, params.error());
    return;
  }
  auto user_id = params->GetLong("userId", http::LongRange{1, INT64_MAX});
  if (!user_id) {
    Fail(responder, user_id.error());
    return;
  }
  auto frozen = params->GetBool("frozen");
  if (!frozen) {
    Fail(responder, frozen.error());
    return;
  }
  if (auto all = params->CheckAllRead(); !all) {
    Fail(responder, all.error());
    return;
  }
  workers_.Run(std::move(responder), [this, id = *user_id, f = *frozen](Responder& r) {
    // The database first: it is what stops logins and API keys at once. If the engine then
    // cannot be reached the request fails and can be repeated (both steps are idempotent).
    if (auto done = service_.SetFrozen(id, f); !done) {
      Fail(r, done.error());
      return;
    }
    auto applied = service_.engine().Freeze(static_cast<engine::AccountId>(id), f);
    if (!applied) {
      Fail(r, applied.error());
      return;
    }
    std::string body = "{\"userId\":" + std::to_string(id) + ",\"status\":" +
                       (f ? "\"FROZEN\"" : "\"ACTIVE\"") +
                       ",\"seq\":" + std::to_string(applied->seq) + "}";
    r.Send(Response::Json(200, std::move(body)));
  });
}

}  // namespace spotex::gateway::users
