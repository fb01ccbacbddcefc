#include "auth/keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "auth/sodium_init.h"
#include "core/assert.h"

namespace spotex::auth {
namespace {

constexpr std::string_view kAlphanumeric =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

// Fills `out` with characters uniform over [A-Za-z0-9] (randombytes_uniform rejects the
// biased tail, so no character is more likely than another).
void FillAlphanumeric(unsigned char* out, size_t size) {
  internal::EnsureSodium();
  for (size_t i = 0; i < size; ++i) {
    out[i] = static_cast<unsigned char>(
        kAlphanumeric[randombytes_uniform(static_cast<uint32_t>(kAlphanumeric.size()))]);
  }
}

bool IsAlphanumeric(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

}  // namespace

std::string GenerateApiKeyId() {
  std::string id(kApiKeyIdChars, '\0');
  FillAlphanumeric(reinterpret_cast<unsigned char*>(id.data()), id.size());
  return id;
}

Secret GenerateHmacSecret() {
  Secret secret = Secret::OfSize(kHmacSecretChars);
  FillAlphanumeric(secret.mutable_data(), secret.size());
  return secret;
}

bool IsWellFormedApiKeyId(std::string_view key_id) {
  if (key_id.size() != kApiKeyIdChars) {
    return false;
  }
  for (const char c : key_id) {
    if (!IsAlphanumeric(c)) {
      return false;
    }
  }
  return true;
}

std::expected<void, ApiError> CheckApiKeyHeader(std::optional<std::string_view> header) {
  if (!header.has_value() || !IsWellFormedApiKeyId(*header)) {
    return std::unexpected(errors::kApiKeyFormatInvalid);
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Master keys.

std::expected<Secret, MasterKeyError> ParseMasterKey(std::string_view contents) {
  internal::EnsureSodium();
  Secret key = Secret::OfSize(kMasterKeyBytes);
  constexpr std::string_view kSpace = " \t\r\n";
  const size_t first = contents.find_first_not_of(kSpace);
  const size_t last = contents.find_last_not_of(kSpace);
  const std::string_view trimmed = first == std::string_view::npos
                                       ? std::string_view{}
                                       : contents.substr(first, last - first + 1);
  if (trimmed.size() == 2 * kMasterKeyBytes) {
    size_t size = 0;
    if (sodium_hex2bin(key.mutable_data(), key.size(), trimmed.data(), trimmed.size(), nullptr,
                       &size, nullptr) != 0 ||
        size != kMasterKeyBytes) {
      return std::unexpected(MasterKeyError::kBadFormat);
    }
  } else if (contents.size() == kMasterKeyBytes) {
    std::memcpy(key.mutable_data(), contents.data(), kMasterKeyBytes);
  } else {
    return std::unexpected(MasterKeyError::kBadFormat);
  }
  if (sodium_is_zero(key.mutable_data(), key.size()) == 1) {
    return std::unexpected(MasterKeyError::kAllZero);
  }
  return key;
}

namespace {

MasterKeyLoadError LoadError(MasterKeyError kind, const std::string& path, std::string_view why) {
  return MasterKeyLoadError{kind, "master key " + path + ": " + std::string(why)};
}

// Closes a file descriptor on scope exit.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

}  // namespace

std::expected<LoadedMasterKey, MasterKeyLoadError> LoadMasterKey(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return std::unexpected(LoadError(MasterKeyError::kCannotRead, path, std::strerror(errno)));
  }
  FdCloser closer(fd);
  struct stat st {};
  // fstat on the open descriptor: what we check is what we read.
  if (::fstat(fd, &st) != 0) {
    return std::unexpected(LoadError(MasterKeyError::kCannotRead, path, std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return std::unexpected(LoadError(MasterKeyError::kNotRegularFile, path, "not a regular file"));
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return std::unexpected(LoadError(MasterKeyError::kWritableByOthers, path,
                                     "group or others may write it (chmod 0400 or 0600)"));
  }
  LoadedMasterKey loaded;
  if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
    loaded.warnings.push_back("master key " + path +
                              ": group or others may read it (chmod 0400 or 0600)");
  }
  if (st.st_uid != ::geteuid() && st.st_uid != 0) {
    loaded.warnings.push_back("master key " + path + ": owned by another user (uid " +
                              std::to_string(st.st_uid) + ")");
  }
  std::array<char, kMasterKeyFileBytesMax + 1> buf{};
  size_t size = 0;
  while (size < buf.size()) {
    const ssize_t n = ::read(fd, buf.data() + size, buf.size() - size);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      sodium_memzero(buf.data(), buf.size());
      return std::unexpected(LoadError(MasterKeyError::kCannotRead, path, std::strerror(errno)));
    }
    if (n == 0) {
      break;
    }
    size += static_cast<size_t>(n);
  }
  std::expected<Secret, MasterKeyError> key =
      size > kMasterKeyFileBytesMax ? std::unexpected(MasterKeyError::kTooLarge)
                                    : ParseMasterKey(std::string_view(buf.data(), size));
  sodium_memzero(buf.data(), buf.size());
  if (!key.has_value()) {
    const char* why = key.error() == MasterKeyError::kTooLarge ? "larger than 256 bytes"
                      : key.error() == MasterKeyError::kAllZero
                          ? "all zero bytes (a placeholder?)"
                          : "not 64 hex digits or 32 raw bytes";
    return std::unexpected(LoadError(key.error(), path, why));
  }
  loaded.key = std::move(*key);
  return loaded;
}

bool MasterKeyring::Add(uint8_t version, Secret key) {
  if (version == 0 || !keys_[version].empty() || key.size() != kMasterKeyBytes) {
    return false;
  }
  keys_[version] = std::move(key);
  if (primary_ == 0) {
    primary_ = version;
  }
  return true;
}

bool MasterKeyring::SetPrimary(uint8_t version) {
  if (version == 0 || keys_[version].empty()) {
    return false;
  }
  primary_ = version;
  return true;
}

const Secret* MasterKeyring::Find(uint8_t version) const {
  if (version == 0 || keys_[version].empty()) {
    return nullptr;
  }
  return &keys_[version];
}

namespace {

// The version in a key file name "<prefix><N>", N = 1..255 without leading zeros; 0 if the
// name is not a key file name.
int KeyFileVersion(std::string_view name) {
  if (!name.starts_with(kMasterKeyFilePrefix)) {
    return 0;
  }
  name.remove_prefix(kMasterKeyFilePrefix.size());
  if (name.empty() || name.size() > 3 || name[0] == '0') {
    return 0;
  }
  int v = 0;
  for (const char c : name) {
    if (c < '0' || c > '9') {
      return 0;
    }
    v = v * 10 + (c - '0');
  }
  return v <= 255 ? v : 0;
}

}  // namespace

std::expected<LoadedMasterKeyring, MasterKeyLoadError> LoadMasterKeyring(
    const std::string& secrets_dir, std::optional<uint8_t> primary_version) {
  constexpr int kDirEntriesMax = 4096;  // a secrets directory holds a handful of files
  std::error_code ec;
  std::filesystem::directory_iterator it(secrets_dir, ec);
  if (ec) {
    return std::unexpected(MasterKeyLoadError{
        MasterKeyError::kCannotRead, "secrets directory " + secrets_dir + ": " + ec.message()});
  }
  LoadedMasterKeyring out;
  int highest = 0;
  int entries = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec || ++entries > kDirEntriesMax) {
      return std::unexpected(MasterKeyLoadError{
          MasterKeyError::kCannotRead,
          "secrets directory " + secrets_dir + ": " + (ec ? ec.message() : "too many entries")});
    }
    const int version = KeyFileVersion(it->path().filename().native());
    if (version == 0) {
      continue;
    }
    auto loaded = LoadMasterKey(it->path().native());
    if (!loaded.has_value()) {
      return std::unexpected(std::move(loaded.error()));
    }
    for (std::string& w : loaded->warnings) {
      out.warnings.push_back(std::move(w));
    }
    const bool added = out.keyring.Add(static_cast<uint8_t>(version), std::move(loaded->key));
    SPOTEX_ASSERT(added);  // file names are unique, so versions are too
    highest = std::max(highest, version);
  }
  if (ec) {
    return std::unexpected(MasterKeyLoadError{
        MasterKeyError::kCannotRead, "secrets directory " + secrets_dir + ": " + ec.message()});
  }
  if (highest == 0) {
    return std::unexpected(MasterKeyLoadError{MasterKeyError::kBadVersion,
                                              "secrets directory " + secrets_dir + ": no " +
                                                  std::string(kMasterKeyFilePrefix) + "<N> files"});
  }
  const uint8_t primary = primary_version.value_or(static_cast<uint8_t>(highest));
  if (!out.keyring.SetPrimary(primary)) {
    return std::unexpected(MasterKeyLoadError{
        MasterKeyError::kNoPrimary, "secrets directory " + secrets_dir + ": no " +
                                        std::string(kMasterKeyFilePrefix) +
                                        std::to_string(primary) + " for the primary version"});
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Secrets at rest.

namespace {

constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr size_t kHeaderBytes = 2;
static_assert(kSealedOverheadBytes == kHeaderBytes + kNonceBytes + kTagBytes);
static_assert(kMasterKeyBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);

// Associated data: a fixed-length domain label, the 2 header bytes, then the caller's context.
// Only the last part varies in length, so no two (header, context) pairs give the same bytes.
std::string AssociatedData(std::string_view header, std::string_view context) {
  std::string ad("spotex/auth/sealed-secret\0", 26);
  ad.append(header);
  ad.append(context);
  return ad;
}

}  // namespace

std::string_view Describe(SealError error) {
  switch (error) {
    case SealError::kNoPrimaryKey:
      return "no master key loaded";
    case SealError::kTooLong:
      return "secret or context too long";
    case SealError::kTooShort:
      return "sealed secret too short";
    case SealError::kUnknownFormat:
      return "sealed secret has an unknown format byte";
    case SealError::kUnknownKeyVersion:
      return "sealed secret names a master key version that is not loaded";
    case SealError::kAuthenticationFailed:
      return "sealed secret does not authenticate (wrong key, wrong context, or altered)";
  }
  return "unknown seal error";
}

std::expected<std::string, SealError> EncryptSecret(const MasterKeyring& keyring,
                                                    std::string_view plaintext,
                                                    std::string_view context) {
  if (plaintext.size() > kSealedPlaintextBytesMax || context.size() > kSealedContextBytesMax) {
    return std::unexpected(SealError::kTooLong);
  }
  const Secret* key = keyring.Find(keyring.primary_version());
  if (key == nullptr) {
    return std::unexpected(SealError::kNoPrimaryKey);
  }
  internal::EnsureSodium();
  std::string sealed(kSealedOverheadBytes + plaintext.size(), '\0');
  auto* out = reinterpret_cast<unsigned char*>(sealed.data());
  out[0] = kSealedFormat;
  out[1] = keyring.primary_version();
  // 192-bit random nonces: collisions are negligible even for billions of secrets per key.
  randombytes_buf(out + kHeaderBytes, kNonceBytes);
  const std::string ad = AssociatedData(sealed.substr(0, kHeaderBytes), context);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      out + kHeaderBytes + kNonceBytes, &written,
      reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
      reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr, out + kHeaderBytes,
      key->bytes().data());
  SPOTEX_ASSERT(written == plaintext.size() + kTagBytes);
  return sealed;
}

std::expected<uint8_t, SealError> SealedKeyVersion(std::string_view sealed) {
  if (sealed.size() < kSealedOverheadBytes) {
    return std::unexpected(SealError::kTooShort);
  }
  if (static_cast<uint8_t>(sealed[0]) != kSealedFormat) {
    return std::unexpected(SealError::kUnknownFormat);
  }
  return static_cast<uint8_t>(sealed[1]);
}

std::expected<Secret, SealError> DecryptSecret(const MasterKeyring& keyring,
                                               std::string_view sealed, std::string_view context) {
  if (sealed.size() > kSealedOverheadBytes + kSealedPlaintextBytesMax ||
      context.size() > kSealedContextBytesMax) {
    return std::unexpected(SealError::kTooLong);
  }
  const std::expected<uint8_t, SealError> version = SealedKeyVersion(sealed);
  if (!version.has_value()) {
    return std::unexpected(version.error());
  }
  const Secret* key = keyring.Find(*version);
  if (key == nullptr) {
    return std::unexpected(SealError::kUnknownKeyVersion);
  }
  internal::EnsureSodium();
  const auto* in = reinterpret_cast<const unsigned char*>(sealed.data());
  const size_t ciphertext_size = sealed.size() - kHeaderBytes - kNonceBytes;
  Secret plaintext = Secret::OfSize(ciphertext_size - kTagBytes);
  // Secret::OfSize(0) has no buffer; libsodium still needs a valid pointer to write nothing to.
  unsigned char empty = 0;
  unsigned char* dst = plaintext.empty() ? &empty : plaintext.mutable_data();
  const std::string ad = AssociatedData(sealed.substr(0, kHeaderBytes), context);
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          dst, &written, nullptr, in + kHeaderBytes + kNonceBytes, ciphertext_size,
          reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), in + kHeaderBytes,
          key->bytes().data()) != 0) {
    return std::unexpected(SealError::kAuthenticationFailed);
  }
  SPOTEX_ASSERT(written == plaintext.size());
  return plaintext;
}

bool NeedsReencrypt(const MasterKeyring& keyring, std::string_view sealed) {
  const std::expected<uint8_t, SealError> version = SealedKeyVersion(sealed);
  return version.has_value() && *version != keyring.primary_version();
}

// ---------------------------------------------------------------------------------------------
// Session tokens.

std::string GenerateSessionToken() {
  internal::EnsureSodium();
  std::array<unsigned char, kSessionTokenBytes> raw{};
  randombytes_buf(raw.data(), raw.size());
  std::string token(sodium_base64_ENCODED_LEN(raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                    '\0');
  sodium_bin2base64(token.data(), token.size(), raw.data(), raw.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  token.resize(kSessionTokenChars);  // drop the NUL libsodium counts in the length
  sodium_memzero(raw.data(), raw.size());
  return token;
}

std::optional<std::string> SessionTokenHash(std::string_view token) {
  if (token.size() != kSessionTokenChars) {
    return std::nullopt;
  }
  internal::EnsureSodium();
  std::array<unsigned char, kSessionTokenBytes> raw{};
  size_t raw_size = 0;
  // Strict decode (no ignored characters, zero trailing bits): one spelling per token.
  if (sodium_base642bin(raw.data(), raw.size(), token.data(), token.size(), nullptr, &raw_size,
                        nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      raw_size != raw.size()) {
    return std::nullopt;
  }
  std::string hex = Sha256Hex({reinterpret_cast<const char*>(raw.data()), raw.size()});
  sodium_memzero(raw.data(), raw.size());
  return hex;
}

std::string Sha256Hex(std::string_view bytes) {
  internal::EnsureSodium();
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size());
  std::string hex(2 * digest.size() + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  hex.pop_back();
  return hex;
}

}  // namespace spotex::auth
