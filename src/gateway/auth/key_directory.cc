#include "gateway/auth/key_directory.h"

#include <span>

namespace spotex::gateway {
namespace {

std::unexpected<KeyLookupError> Fail(KeyLookupErrorCode code, std::string message) {
  return std::unexpected(KeyLookupError{code, std::move(message)});
}

// The row's allow-list, each stored entry exactly one parsed entry: an entry that parses to
// nothing (blank) or to several (a stray separator inside) is refused rather than allowed to
// widen or empty the list.
std::expected<auth::IpAllowList, std::string> ParseAllowList(
    const std::optional<std::vector<std::string>>& entries) {
  if (!entries.has_value()) {
    return auth::IpAllowList();
  }
  if (entries->empty() || entries->size() > auth::IpAllowList::kEntriesMax) {
    return std::unexpected("allow-list with " + std::to_string(entries->size()) + " entries");
  }
  std::string joined;
  for (const std::string& entry : *entries) {
    if (!joined.empty()) {
      joined.push_back(',');
    }
    joined.append(entry);
  }
  auto parsed = auth::IpAllowList::Parse(joined);
  if (!parsed.has_value()) {
    return std::unexpected(std::move(parsed.error().message));
  }
  if (parsed->size() != entries->size()) {
    return std::unexpected(std::string("allow-list entries do not parse one to one"));
  }
  return std::move(*parsed);
}

}  // namespace

KeyLookupResult ResolveApiKey(const db::ApiKeyAuth& row, std::string_view api_key,
                              const auth::MasterKeyring& keyring) {
  auto key = std::make_shared<ResolvedKey>();
  key->key_id = row.key_id;
  key->user_id = row.user_id;
  key->user_frozen = row.user_status == db::UserStatus::kFrozen;
  key->kind = row.kind;
  const auto where = [&] { return "api key id " + std::to_string(row.key_id) + ": "; };

  const std::optional<auth::Permissions> permissions = auth::Permissions::FromBits(row.permissions);
  if (!permissions.has_value()) {
    return Fail(KeyLookupErrorCode::kBadRecord,
                where() + "unknown permission bits " + std::to_string(row.permissions));
  }
  key->permissions = *permissions;

  switch (row.kind) {
    case db::ApiKeyKind::kHmac: {
      // The context is the api_key string itself: see the contract in the header.
      auto secret = auth::DecryptSecret(keyring, row.secret_ciphertext, api_key);
      if (!secret.has_value()) {
        return Fail(KeyLookupErrorCode::kBadRecord,
                    where() + "secret does not open: " + std::string(auth::Describe(secret.error())));
      }
      key->hmac_secret = std::move(*secret);
      break;
    }
    case db::ApiKeyKind::kEd25519: {
      const std::span<const unsigned char> raw(
          reinterpret_cast<const unsigned char*>(row.public_key.data()), row.public_key.size());
      auto public_key = auth::Ed25519PublicKeyFromRaw(raw);
      if (!public_key.has_value()) {
        return Fail(KeyLookupErrorCode::kBadRecord,
                    where() + "public key: " + std::string(auth::Describe(public_key.error())));
      }
      key->ed25519_key = *public_key;
      break;
    }
  }

  auto allow_list = ParseAllowList(row.ip_allowlist);
  if (!allow_list.has_value()) {
    return Fail(KeyLookupErrorCode::kBadRecord, where() + allow_list.error());
  }
  key->ip_allow_list = std::move(*allow_list);
  if (key->user_id <= 0 || key->key_id <= 0) {
    return Fail(KeyLookupErrorCode::kBadRecord, where() + "non-positive id");
  }
  return std::shared_ptr<const ResolvedKey>(std::move(key));
}

// ---------------------------------------------------------------------------------------------
// PgKeyDirectory

KeyLookupResult PgKeyDirectory::Find(std::string_view api_key) {
  auto lease = pool_.Acquire();
  if (!lease.has_value()) {
    return Fail(KeyLookupErrorCode::kUnavailable, "database: " + lease.error().message);
  }
  db::UserStore store(**lease);
  db::StoreResult<db::ApiKeyAuth> row = store.FindApiKey(api_key);
  if (!row.has_value()) {
    switch (row.error().code) {
      case db::StoreErrorCode::kNotFound:
      case db::StoreErrorCode::kInvalidArgument:  // not a well-formed key: no such key
        return Fail(KeyLookupErrorCode::kNotFound, "no live key");
      default:
        return Fail(KeyLookupErrorCode::kUnavailable, "database: " + row.error().message);
    }
  }
  return ResolveApiKey(*row, api_key, keyring_);
}

// ---------------------------------------------------------------------------------------------
// CachingKeyDirectory

const KeyLookupResult* CachingKeyDirectory::ExpiringMap::Find(std::string_view key,
                                                              int64_t now_ms) {
  // Drop everything expired first, so the map holds only live entries.
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now_ms) {
    by_key_.erase(by_expiry_.begin()->second);
    by_expiry_.erase(by_expiry_.begin());
  }
  auto it = by_key_.find(std::string(key));
  return it == by_key_.end() ? nullptr : &it->second.value;
}

void CachingKeyDirectory::ExpiringMap::Put(std::string_view key, KeyLookupResult value,
                                           int64_t expires_at_ms) {
  if (entries_max_ == 0) {
    return;
  }
  Erase(key);
  while (by_key_.size() >= entries_max_) {
    by_key_.erase(by_expiry_.begin()->second);
    by_expiry_.erase(by_expiry_.begin());
  }
  std::string owned(key);
  by_expiry_.emplace(expires_at_ms, owned);
  by_key_.emplace(std::move(owned), Entry{std::move(value), expires_at_ms});
}

void CachingKeyDirectory::ExpiringMap::Erase(std::string_view key) {
  auto it = by_key_.find(std::string(key));
  if (it == by_key_.end()) {
    return;
  }
  by_expiry_.erase({it->second.expires_at_ms, it->first});
  by_key_.erase(it);
}

CachingKeyDirectory::CachingKeyDirectory(KeyDirectory& backing, KeyCacheOptions options,
                                         Clock now_ms)
    : backing_(backing),
      options_(options),
      now_ms_(std::move(now_ms)),
      positive_(options.positive_entries_max),
      negative_(options.negative_entries_max) {}

int64_t CachingKeyDirectory::SteadyClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

KeyLookupResult CachingKeyDirectory::Find(std::string_view api_key) {
  {
    std::lock_guard lock(mu_);
    const int64_t now = now_ms_();
    if (const KeyLookupResult* hit = positive_.Find(api_key, now); hit != nullptr) {
      return *hit;
    }
    if (const KeyLookupResult* hit = negative_.Find(api_key, now); hit != nullptr) {
      return *hit;
    }
  }
  KeyLookupResult result = backing_.Find(api_key);
  std::lock_guard lock(mu_);
  // The expiry counts from the answer, not the question: a slow query does not shorten it,
  // and the staleness bound is the TTL plus the query's own duration.
  const int64_t now = now_ms_();
  if (result.has_value()) {
    positive_.Put(api_key, result, now + options_.positive_ttl.count());
  } else if (result.error().code != KeyLookupErrorCode::kUnavailable) {
    negative_.Put(api_key, result, now + options_.negative_ttl.count());
  }
  return result;
}

void CachingKeyDirectory::Invalidate(std::string_view api_key) {
  {
    std::lock_guard lock(mu_);
    positive_.Erase(api_key);
    negative_.Erase(api_key);
  }
  backing_.Invalidate(api_key);
}

size_t CachingKeyDirectory::positive_size() const {
  std::lock_guard lock(mu_);
  return positive_.size();
}

size_t CachingKeyDirectory::negative_size() const {
  std::lock_guard lock(mu_);
  return negative_.size();
}

// ---------------------------------------------------------------------------------------------
// InMemoryKeyDirectory

void InMemoryKeyDirectory::Put(std::string api_key, std::shared_ptr<const ResolvedKey> key) {
  std::lock_guard lock(mu_);
  keys_[std::move(api_key)] = std::move(key);
}

void InMemoryKeyDirectory::Remove(std::string_view api_key) {
  std::lock_guard lock(mu_);
  if (auto it = keys_.find(api_key); it != keys_.end()) {
    keys_.erase(it);
  }
}

void InMemoryKeyDirectory::SetUnavailable(bool unavailable) {
  std::lock_guard lock(mu_);
  unavailable_ = unavailable;
}

size_t InMemoryKeyDirectory::find_calls() const {
  std::lock_guard lock(mu_);
  return find_calls_;
}

KeyLookupResult InMemoryKeyDirectory::Find(std::string_view api_key) {
  std::lock_guard lock(mu_);
  ++find_calls_;
  if (unavailable_) {
    return Fail(KeyLookupErrorCode::kUnavailable, "in-memory directory set unavailable");
  }
  auto it = keys_.find(api_key);
  if (it == keys_.end()) {
    return Fail(KeyLookupErrorCode::kNotFound, "no live key");
  }
  return it->second;
}

}  // namespace spotex::gateway
