#include "gateway/users/user_service.h"

#include <cstdio>
#include <utility>

#include "auth/ip_allow_list.h"
#include "auth/signature.h"
#include "gateway/users/errors.h"
#include "service/log.h"

namespace spotex::gateway::users {
namespace {

constexpr size_t kEmailLocalBytesMax = 64;
constexpr std::string_view kPemBegin = "-----BEGIN PUBLIC KEY-----";
constexpr std::string_view kPemEnd = "-----END PUBLIC KEY-----";

http::Error StoreFailure(const db::StoreError& e) {
  switch (e.code) {
    case db::StoreErrorCode::kDuplicateEmail:
      return errors::EmailTaken();
    case db::StoreErrorCode::kLimitExceeded:
      return errors::TooManyApiKeys();
    case db::StoreErrorCode::kNotFound:
      return errors::UnknownUser();
    case db::StoreErrorCode::kInvalidArgument:
      // The endpoints validate first; reaching this is a gap in that validation.
      service::Log(service::LogLevel::kWarn, "users", "store refused an input: " + e.message);
      return http::errors::IllegalCharacters();
    case db::StoreErrorCode::kDuplicateApiKey:
    case db::StoreErrorCode::kDatabase:
      break;
  }
  service::Log(service::LogLevel::kWarn, "users", "database error: " + e.message);
  return BackendUnavailable();
}

http::Error PasswordFailure(auth::PasswordError e) {
  if (e == auth::PasswordError::kBusy) {
    return http::errors::ServerBusy();
  }
  const std::string_view what = auth::Describe(e);
  service::Log(service::LogLevel::kError, "users", "password hashing failed: " + std::string(what));
  return http::errors::Unknown();
}

// The form layer refuses control characters, so a PEM cannot travel with its line breaks:
// accept it with spaces (or nothing) in their place, or just its base64 body, and rebuild the
// PEM that auth::ParseEd25519PublicKeyPem reads.
std::string NormalizePem(std::string_view text) {
  std::string body;
  size_t begin = text.find(kPemBegin);
  if (begin != std::string_view::npos) {
    text.remove_prefix(begin + kPemBegin.size());
    const size_t end = text.find(kPemEnd);
    if (end == std::string_view::npos) {
      return {};
    }
    text = text.substr(0, end);
  }
  for (char c : text) {
    if (c != ' ' && c != '\t') {
      body.push_back(c);
    }
  }
  std::string pem(kPemBegin);
  pem += '\n';
  for (size_t i = 0; i < body.size(); i += 64) {
    pem += body.substr(i, 64);
    pem += '\n';
  }
  pem += kPemEnd;
  pem += '\n';
  return pem;
}

http::Result<uint32_t> ReadPermissions(http::Params& params) {
  const std::optional<std::string_view> text = params.GetOptionalString("permissions");
  if (!text.has_value()) {
    return db::kPermissionRead;
  }
  uint32_t bits = 0;
  std::string_view rest = *text;
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view word = rest.substr(0, comma);
    uint32_t bit = 0;
    if (word == "READ") {
      bit = db::kPermissionRead;
    } else if (word == "TRADE") {
      bit = db::kPermissionTrade;
    }
    if (bit == 0 || (bits & bit) != 0) {
      return std::unexpected(http::errors::InvalidParameter("permissions"));
    }
    bits |= bit;
    if (comma == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(comma + 1);
  }
  return bits;
}

}  // namespace

http::Result<void> ValidateEmail(std::string_view email) {
  const auto bad = [] {
    return std::unexpected(http::errors::IllegalCharacters(
        "email", "local@domain.tld, 3..254 printable ASCII characters"));
  };
  if (email.size() < db::kEmailBytesMin || email.size() > db::kEmailBytesMax) {
    return bad();
  }
  for (char c : email) {
    if (c <= 0x20 || c >= 0x7f) {
      return bad();
    }
  }
  const size_t at = email.find('@');
  if (at == 0 || at == std::string_view::npos || at > kEmailLocalBytesMax ||
      email.find('@', at + 1) != std::string_view::npos) {
    return bad();
  }
  const std::string_view domain = email.substr(at + 1);
  const size_t dot = domain.find('.');
  if (dot == 0 || dot == std::string_view::npos || domain.back() == '.') {
    return bad();
  }
  return {};
}

http::Result<void> ValidateNewPassword(std::string_view password, std::string_view email) {
  auto ok = auth::CheckPasswordPolicy(password, email);
  if (ok) {
    return {};
  }
  if (ok.error() == auth::PasswordPolicyError::kInvalidUtf8 ||
      ok.error() == auth::PasswordPolicyError::kControlCharacter) {
    return std::unexpected(http::errors::IllegalCharacters(
        "password", "8..128 characters of UTF-8 text without control characters"));
  }
  return std::unexpected(errors::PasswordRejected(auth::Describe(ok.error())));
}

std::string PermissionsText(uint32_t permissions) {
  std::string out;
  if ((permissions & db::kPermissionRead) != 0) {
    out = "READ";
  }
  if ((permissions & db::kPermissionTrade) != 0) {
    out += out.empty() ? "TRADE" : ",TRADE";
  }
  return out;
}

http::Result<ApiKeyRequest> ReadApiKeyRequest(http::Params& params) {
  static constexpr http::EnumName<db::ApiKeyKind> kKinds[] = {
      {"HMAC", db::ApiKeyKind::kHmac}, {"ED25519", db::ApiKeyKind::kEd25519}};
  ApiKeyRequest r;
  auto kind = params.GetOptionalEnum<db::ApiKeyKind>("type", kKinds);
  if (!kind) {
    return std::unexpected(kind.error());
  }
  r.kind = kind->value_or(db::ApiKeyKind::kHmac);
  const std::optional<std::string_view> pem = params.GetOptionalString("publicKey");
  if (r.kind == db::ApiKeyKind::kHmac && pem.has_value()) {
    return std::unexpected(http::errors::InvalidParameter("publicKey"));
  }
  if (r.kind == db::ApiKeyKind::kEd25519) {
    if (!pem.has_value()) {
      return std::unexpected(http::errors::MandatoryParameter("publicKey"));
    }
    if (pem->size() > auth::kPublicKeyPemBytesMax) {
      return std::unexpected(http::errors::InvalidParameter("publicKey"));
    }
    auto key = auth::ParseEd25519PublicKeyPem(NormalizePem(*pem));
    if (!key) {
      return std::unexpected(http::errors::InvalidParameter("publicKey"));
    }
    r.public_key.assign(reinterpret_cast<const char*>(key->bytes.data()), key->bytes.size());
  }
  auto permissions = ReadPermissions(params);
  if (!permissions) {
    return std::unexpected(permissions.error());
  }
  r.permissions = *permissions;
  if (const auto ips = params.GetOptionalString("ipAllowList"); ips.has_value()) {
    if (ips->size() > auth::IpAllowList::kTextBytesMax) {
      return std::unexpected(http::errors::InvalidParameter("ipAllowList"));
    }
    auto list = auth::IpAllowList::Parse(*ips);
    if (!list || list->unrestricted() || list->size() > db::kIpAllowlistEntriesMax) {
      return std::unexpected(http::errors::InvalidParameter("ipAllowList"));
    }
    // Stored canonical ("10.0.0.0/8"), so the authenticator reads back what was checked here.
    std::vector<std::string> entries;
    const std::string canonical = list->ToString();
    for (size_t start = 0; start <= canonical.size();) {
      size_t comma = canonical.find(',', start);
      if (comma == std::string::npos) {
        comma = canonical.size();
      }
      entries.push_back(canonical.substr(start, comma - start));
      start = comma + 1;
    }
    r.ip_allowlist = std::move(entries);
  }
  if (const auto label = params.GetOptionalString("label"); label.has_value()) {
    if (label->size() > db::kApiKeyLabelBytesMax) {
      return std::unexpected(http::errors::InvalidParameter("label"));
    }
    r.label = std::string(*label);
  }
  return r;
}

template <typename Fn>
auto UserService::WithStore(Fn&& fn) -> decltype(fn(std::declval<db::UserStore&>())) {
  auto lease = pool_.Acquire();
  if (!lease) {
    service::Log(service::LogLevel::kWarn, "users",
                 "no database connection: " + lease.error().message);
    return std::unexpected(BackendUnavailable());
  }
  db::UserStore store(**lease);
  return fn(store);
}

http::Result<RegisteredUser> UserService::Register(std::string_view email,
                                                   std::string_view password) {
  if (auto ok = ValidateEmail(email); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = ValidateNewPassword(password, email); !ok) {
    return std::unexpected(ok.error());
  }
  auto hash = hasher_.Hash(password);
  if (!hash) {
    return std::unexpected(PasswordFailure(hash.error()));
  }
  auto id = WithStore([&](db::UserStore& store) -> http::Result<int64_t> {
    auto created = store.CreateUser(email, *hash);
    if (!created) {
      return std::unexpected(StoreFailure(created.error()));
    }
    return *created;
  });
  if (!id) {
    return std::unexpected(id.error());
  }
  engine_.OpenAccountAsync(static_cast<engine::AccountId>(*id));
  return RegisteredUser{*id, std::string(email)};
}

http::Result<db::User> UserService::CheckLogin(std::string_view email,
                                               std::string_view password) {
  // A malformed email cannot belong to anyone; it still costs a verification so that the
  // answer's timing says nothing about which check failed.
  std::optional<db::User> user;
  if (ValidateEmail(email).has_value()) {
    auto found = WithStore([&](db::UserStore& store) -> http::Result<std::optional<db::User>> {
      auto u = store.FindUserByEmail(email);
      if (!u) {
        if (u.error().code == db::StoreErrorCode::kNotFound) {
          return std::optional<db::User>();
        }
        return std::unexpected(StoreFailure(u.error()));
      }
      return std::optional<db::User>(std::move(*u));
    });
    if (!found) {
      return std::unexpected(found.error());
    }
    user = std::move(*found);
  }
  auto match = user.has_value() ? hasher_.Verify(user->password_hash, password)
                                : hasher_.VerifyUnknownUser(password);
  if (!match) {
    // A password longer than the hasher takes cannot match any stored one.
    if (match.error() == auth::PasswordError::kTooLong) {
      return std::unexpected(errors::BadCredentials());
    }
    return std::unexpected(PasswordFailure(match.error()));
  }
  if (!*match || !user.has_value()) {
    return std::unexpected(errors::BadCredentials());
  }
  if (user->status == db::UserStatus::kFrozen) {
    return std::unexpected(errors::AccountFrozen());
  }
  return std::move(*user);
}

http::Result<db::User> UserService::FindUser(int64_t user_id) {
  return WithStore([&](db::UserStore& store) -> http::Result<db::User> {
    auto u = store.FindUserById(user_id);
    if (!u) {
      return std::unexpected(StoreFailure(u.error()));
    }
    return std::move(*u);
  });
}

http::Result<bool> UserService::EmailExists(std::string_view email) {
  return WithStore([&](db::UserStore& store) -> http::Result<bool> {
    auto u = store.FindUserByEmail(email);
    if (!u) {
      if (u.error().code == db::StoreErrorCode::kNotFound) {
        return false;
      }
      return std::unexpected(StoreFailure(u.error()));
    }
    return true;
  });
}

http::Result<void> UserService::SetFrozen(int64_t user_id, bool frozen) {
  return WithStore([&](db::UserStore& store) -> http::Result<void> {
    auto done =
        store.SetUserStatus(user_id, frozen ? db::UserStatus::kFrozen : db::UserStatus::kActive);
    if (!done) {
      return std::unexpected(StoreFailure(done.error()));
    }
    return {};
  });
}

http::Result<CreatedApiKey> UserService::CreateApiKey(int64_t user_id, ApiKeyRequest request) {
  return WithStore([&](db::UserStore& store) -> http::Result<CreatedApiKey> {
    auto user = store.FindUserById(user_id);
    if (!user) {
      return std::unexpected(StoreFailure(user.error()));
    }
    if (user->status == db::UserStatus::kFrozen) {
      return std::unexpected(errors::AccountFrozen());
    }
    CreatedApiKey out;
    db::NewApiKey key;
    key.user_id = user_id;
    key.kind = request.kind;
    key.permissions = request.permissions;
    key.ip_allowlist = request.ip_allowlist;
    key.label = request.label;
    key.public_key = request.public_key;
    if (request.kind == db::ApiKeyKind::kHmac) {
      out.secret = auth::GenerateHmacSecret();
    }
    // A fresh id colliding with an existing one (~2^-381) is retried, not reported.
    for (int attempt = 0; attempt < 3; ++attempt) {
      key.api_key = auth::GenerateApiKeyId();
      if (request.kind == db::ApiKeyKind::kHmac) {
        // The context is the api_key string: the authenticator opens it with that context,
        // and a ciphertext moved to another key's row does not open.
        auto sealed = auth::EncryptSecret(keyring_, out.secret.view(), key.api_key);
        if (!sealed) {
          const std::string_view why = auth::Describe(sealed.error());
          service::Log(service::LogLevel::kError, "users",
                       "cannot seal an API secret: " + std::string(why));
          return std::unexpected(http::errors::Unknown());
        }
        key.secret_ciphertext = std::move(*sealed);
      }
      auto id = store.CreateApiKey(key);
      if (!id && id.error().code == db::StoreErrorCode::kDuplicateApiKey) {
        continue;
      }
      if (!id) {
        return std::unexpected(StoreFailure(id.error()));
      }
      out.id = *id;
      out.api_key = std::move(key.api_key);
      out.request = std::move(request);
      return out;
    }
    return std::unexpected(http::errors::Unknown());
  });
}

http::Result<std::vector<db::ApiKeyInfo>> UserService::ListApiKeys(int64_t user_id) {
  return WithStore([&](db::UserStore& store) -> http::Result<std::vector<db::ApiKeyInfo>> {
    auto keys = store.ListApiKeys(user_id);
    if (!keys) {
      return std::unexpected(StoreFailure(keys.error()));
    }
    return std::move(*keys);
  });
}

http::Result<void> UserService::DeleteApiKey(int64_t user_id, int64_t key_id) {
  return WithStore([&](db::UserStore& store) -> http::Result<void> {
    auto done = store.DeleteApiKey(user_id, key_id);
    if (!done) {
      if (done.error().code == db::StoreErrorCode::kNotFound) {
        return std::unexpected(errors::UnknownApiKey());
      }
      return std::unexpected(StoreFailure(done.error()));
    }
    return {};
  });
}

}  // namespace spotex::gateway::users
