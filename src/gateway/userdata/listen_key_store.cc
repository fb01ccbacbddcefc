#include "gateway/userdata/listen_key_store.h"

#include <algorithm>
#include <charconv>
#include <chrono>

#include "auth/keys.h"
#include "core/assert.h"

namespace spotex::gateway::userdata {

namespace {

// KEYS[1] = the account's entry; ARGV = new key, ttl, prefix, account.
constexpr const char* kCreateScript = R"lua(
local k = redis.call('GET', KEYS[1])
if k and redis.call('GET', ARGV[3] .. k) == ARGV[4] then
  redis.call('EXPIRE', ARGV[3] .. k, ARGV[2])
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return k
end
redis.call('SET', ARGV[3] .. ARGV[1], ARGV[4], 'EX', ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return ARGV[1]
)lua";

// KEYS = the key's entry, the account's entry; ARGV = account, ttl, key.
constexpr const char* kKeepAliveScript = R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('EXPIRE', KEYS[1], ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
return 1
)lua";

constexpr const char* kDeleteScript = R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return 1
)lua";

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool IsAlnum(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

}  // namespace

std::string GenerateListenKey() {
  // API key ids have exactly the listenKey format: 64 uniform alphanumerics (libsodium).
  std::string key = auth::GenerateApiKeyId();
  SPOTEX_ASSERT(IsListenKeyFormat(key));
  return key;
}

bool IsListenKeyFormat(std::string_view key) {
  if (key.size() != kListenKeyChars) {
    return false;
  }
  for (char c : key) {
    if (!IsAlnum(c)) {
      return false;
    }
  }
  return true;
}

// --- Redis -----------------------------------------------------------------------------------

RedisListenKeyStore::RedisListenKeyStore(RedisPool& pool, std::chrono::seconds ttl,
                                         std::string key_prefix)
    : pool_(pool),
      ttl_s_(std::to_string(ttl.count())),
      prefix_(std::move(key_prefix)),
      create_(kCreateScript),
      keepalive_(kKeepAliveScript),
      delete_(kDeleteScript) {
  SPOTEX_ASSERT(prefix_.size() <= 64);
  SPOTEX_ASSERT(ttl.count() >= 1 && ttl.count() <= 86'400);
}

std::expected<std::string, std::string> RedisListenKeyStore::Create(int64_t account) {
  SPOTEX_ASSERT(account > 0);
  const std::string account_text = std::to_string(account);
  const std::string account_key = prefix_ + "account:" + account_text;
  const std::string fresh = GenerateListenKey();
  const std::string_view keys[] = {account_key};
  const std::string_view args[] = {fresh, ttl_s_, prefix_, account_text};
  auto reply = pool_.Eval(create_, keys, args);
  if (!reply) {
    return std::unexpected("listenKey store unavailable: " + reply.error().message);
  }
  if (reply->type != RedisReply::Type::kString || !IsListenKeyFormat(reply->str)) {
    return std::unexpected("listenKey store refused the key: " + reply->str);
  }
  return reply->str;
}

std::expected<bool, std::string> RedisListenKeyStore::Owned(RedisScript& script, int64_t account,
                                                            std::string_view key) {
  if (!IsListenKeyFormat(key)) {
    return false;  // never stored: do not ask
  }
  const std::string account_text = std::to_string(account);
  const std::string key_entry = prefix_ + std::string(key);
  const std::string account_entry = prefix_ + "account:" + account_text;
  const std::string_view keys[] = {key_entry, account_entry};
  const std::string_view args[] = {account_text, ttl_s_, key};
  auto reply = pool_.Eval(script, keys, args);
  if (!reply) {
    return std::unexpected("listenKey store unavailable: " + reply.error().message);
  }
  if (reply->type != RedisReply::Type::kInteger) {
    return std::unexpected("listenKey store refused the command: " + reply->str);
  }
  return reply->integer == 1;
}

std::expected<bool, std::string> RedisListenKeyStore::KeepAlive(int64_t account,
                                                                std::string_view key) {
  return Owned(keepalive_, account, key);
}

std::expected<bool, std::string> RedisListenKeyStore::Delete(int64_t account,
                                                             std::string_view key) {
  return Owned(delete_, account, key);
}

std::expected<std::vector<std::optional<int64_t>>, std::string> ListenKeyStore::FindMany(
    const std::vector<std::string>& keys) {
  std::vector<std::optional<int64_t>> out;
  out.reserve(keys.size());
  for (const std::string& key : keys) {
    auto found = Find(key);
    if (!found) {
      return std::unexpected(found.error());
    }
    out.push_back(*found);
  }
  return out;
}

namespace {

// The account an entry's reply names: nullopt for nil; an error for anything else malformed.
std::expected<std::optional<int64_t>, std::string> AccountOf(const RedisReply& reply) {
  if (reply.type == RedisReply::Type::kNil) {
    return std::optional<int64_t>();
  }
  int64_t account = 0;
  if (reply.type == RedisReply::Type::kString) {
    const std::string& s = reply.str;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), account);
    if (ec == std::errc() && p == s.data() + s.size() && account > 0) {
      return std::optional<int64_t>(account);
    }
  }
  return std::unexpected(std::string("listenKey store holds a malformed entry"));
}

}  // namespace

std::expected<std::optional<int64_t>, std::string> RedisListenKeyStore::Find(std::string_view key) {
  if (!IsListenKeyFormat(key)) {
    return std::optional<int64_t>();
  }
  auto reply = pool_.Command({"GET", prefix_ + std::string(key)});
  if (!reply) {
    return std::unexpected("listenKey store unavailable: " + reply.error().message);
  }
  return AccountOf(*reply);
}

std::expected<std::vector<std::optional<int64_t>>, std::string> RedisListenKeyStore::FindMany(
    const std::vector<std::string>& keys) {
  std::vector<std::optional<int64_t>> out(keys.size());
  constexpr size_t kBatch = kRedisArgsMax - 1;
  for (size_t from = 0; from < keys.size(); from += kBatch) {
    const size_t to = std::min(keys.size(), from + kBatch);
    std::vector<std::string> entries;
    std::vector<size_t> asked;  // indexes of well-formed keys (the others stay nullopt)
    for (size_t i = from; i < to; ++i) {
      if (IsListenKeyFormat(keys[i])) {
        entries.push_back(prefix_ + keys[i]);
        asked.push_back(i);
      }
    }
    if (entries.empty()) {
      continue;
    }
    std::vector<std::string_view> argv = {"MGET"};
    argv.insert(argv.end(), entries.begin(), entries.end());
    auto reply = pool_.Command(std::span<const std::string_view>(argv));
    if (!reply) {
      return std::unexpected("listenKey store unavailable: " + reply.error().message);
    }
    if (reply->type != RedisReply::Type::kArray || reply->elements.size() != asked.size()) {
      return std::unexpected("listenKey store refused MGET: " + reply->str);
    }
    for (size_t j = 0; j < asked.size(); ++j) {
      auto account = AccountOf(reply->elements[j]);
      if (!account) {
        return std::unexpected(account.error());
      }
      out[asked[j]] = *account;
    }
  }
  return out;
}

// --- In memory -------------------------------------------------------------------------------

InMemoryListenKeyStore::InMemoryListenKeyStore(std::chrono::seconds ttl, size_t keys_max,
                                               Clock now_ms)
    : ttl_ms_(ttl.count() * 1000),
      keys_max_(keys_max),
      now_ms_(now_ms != nullptr ? std::move(now_ms) : Clock(SteadyMs)) {
  SPOTEX_ASSERT(keys_max_ > 0);
  SPOTEX_ASSERT(ttl.count() >= 1);
}

InMemoryListenKeyStore::Entry* InMemoryListenKeyStore::Live(std::string_view key, int64_t now_ms) {
  auto it = keys_.find(key);
  if (it == keys_.end()) {
    return nullptr;
  }
  if (it->second.expires_ms <= now_ms) {
    auto acc = by_account_.find(it->second.account);
    if (acc != by_account_.end() && acc->second == key) {
      by_account_.erase(acc);
    }
    keys_.erase(it);
    return nullptr;
  }
  return &it->second;
}

std::expected<std::string, std::string> InMemoryListenKeyStore::Create(int64_t account) {
  SPOTEX_ASSERT(account > 0);
  std::lock_guard lock(mu_);
  const int64_t now = now_ms_();
  if (auto acc = by_account_.find(account); acc != by_account_.end()) {
    const std::string key = acc->second;
    if (Entry* e = Live(key, now)) {
      e->expires_ms = now + ttl_ms_;
      return key;
    }
  }
  if (keys_.size() >= keys_max_) {
    std::erase_if(keys_, [&](const auto& kv) { return kv.second.expires_ms <= now; });
    std::erase_if(by_account_, [&](const auto& kv) { return !keys_.contains(kv.second); });
    if (keys_.size() >= keys_max_) {
      return std::unexpected(std::string("listenKey store full"));
    }
  }
  std::string key = GenerateListenKey();
  keys_.emplace(key, Entry{account, now + ttl_ms_});
  by_account_[account] = key;
  return key;
}

std::expected<bool, std::string> InMemoryListenKeyStore::KeepAlive(int64_t account,
                                                                   std::string_view key) {
  std::lock_guard lock(mu_);
  const int64_t now = now_ms_();
  Entry* e = Live(key, now);
  if (e == nullptr || e->account != account) {
    return false;
  }
  e->expires_ms = now + ttl_ms_;
  return true;
}

std::expected<bool, std::string> InMemoryListenKeyStore::Delete(int64_t account,
                                                                std::string_view key) {
  std::lock_guard lock(mu_);
  Entry* e = Live(key, now_ms_());
  if (e == nullptr || e->account != account) {
    return false;
  }
  auto acc = by_account_.find(account);
  if (acc != by_account_.end() && acc->second == key) {
    by_account_.erase(acc);
  }
  keys_.erase(keys_.find(key));
  return true;
}

std::expected<std::optional<int64_t>, std::string> InMemoryListenKeyStore::Find(
    std::string_view key) {
  std::lock_guard lock(mu_);
  if (Entry* e = Live(key, now_ms_())) {
    return std::optional<int64_t>(e->account);
  }
  return std::optional<int64_t>();
}

size_t InMemoryListenKeyStore::size() const {
  std::lock_guard lock(mu_);
  return keys_.size();
}

}  // namespace spotex::gateway::userdata
