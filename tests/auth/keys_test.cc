// API key material, master keys from files, secrets at rest (round trip, wrong key, tampering,
// rotation), session tokens and permissions.
#include "auth/keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "auth/signature.h"

namespace spotex::auth {
namespace {

namespace fs = std::filesystem;

bool AllAlphanumeric(std::string_view s) {
  for (const char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return true;
}

TEST(ApiKeyTest, IdsAndSecretsAre64UniformAlphanumerics) {
  std::set<char> seen;
  std::set<std::string> ids;
  for (int i = 0; i < 200; ++i) {
    const std::string id = GenerateApiKeyId();
    ASSERT_EQ(id.size(), kApiKeyIdChars);
    ASSERT_TRUE(AllAlphanumeric(id)) << id;
    EXPECT_TRUE(IsWellFormedApiKeyId(id));
    ids.insert(id);
    seen.insert(id.begin(), id.end());
  }
  EXPECT_EQ(ids.size(), 200u);
  // 12800 characters over 62 symbols: all of them show up unless the generator is broken.
  EXPECT_EQ(seen.size(), 62u);
  const Secret secret = GenerateHmacSecret();
  ASSERT_EQ(secret.size(), kHmacSecretChars);
  EXPECT_TRUE(AllAlphanumeric(secret.view()));
  EXPECT_NE(secret.view(), GenerateHmacSecret().view());
  // A generated secret works as an HMAC key end to end.
  const std::string sig = ComputeHmacHex(secret.view(), "timestamp=1");
  EXPECT_TRUE(VerifyHmac(secret.view(), "timestamp=1", sig).has_value());
}

TEST(ApiKeyTest, HeaderFormatCheck) {
  const std::string good = GenerateApiKeyId();
  EXPECT_TRUE(CheckApiKeyHeader(good).has_value());
  EXPECT_TRUE(CheckApiKeyHeader(
      "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"));  // Binance's example
  EXPECT_EQ(CheckApiKeyHeader(std::nullopt).error(), errors::kApiKeyFormatInvalid);
  EXPECT_EQ(CheckApiKeyHeader("").error(), errors::kApiKeyFormatInvalid);
  EXPECT_EQ(CheckApiKeyHeader(good.substr(1)).error(), errors::kApiKeyFormatInvalid);
  EXPECT_EQ(CheckApiKeyHeader(good + "x").error(), errors::kApiKeyFormatInvalid);
  EXPECT_EQ(CheckApiKeyHeader(good.substr(1) + "-").error(), errors::kApiKeyFormatInvalid);
  EXPECT_EQ(errors::kApiKeyFormatInvalid.code, -2014);
  EXPECT_EQ(errors::kApiKeyFormatInvalid.http_status, 401);
  EXPECT_EQ(errors::kRejectedApiKey.code, -2015);
  EXPECT_EQ(errors::kRejectedApiKey.http_status, 401);
}

TEST(PermissionsTest, SecurityTypesNeedTheirPermission) {
  const Permissions none;
  const Permissions read = none.With(Permission::kRead);
  const Permissions both = read.With(Permission::kTrade);
  EXPECT_TRUE(Allows(none, SecurityType::kNone));
  EXPECT_FALSE(Allows(none, SecurityType::kUserData));
  EXPECT_TRUE(Allows(read, SecurityType::kUserData));
  EXPECT_TRUE(Allows(read, SecurityType::kUserStream));
  EXPECT_FALSE(Allows(read, SecurityType::kTrade));
  EXPECT_TRUE(Allows(both, SecurityType::kTrade));
  EXPECT_FALSE(Allows(none.With(Permission::kTrade), SecurityType::kUserData));
  EXPECT_EQ(Permissions::FromBits(3), both);
  EXPECT_EQ(Permissions::FromBits(both.bits()), both);
  EXPECT_FALSE(Permissions::FromBits(4).has_value());
  EXPECT_FALSE(Permissions::FromBits(0x80000001).has_value());
}

// ---------------------------------------------------------------------------------------------
// Master keys.

constexpr std::string_view kKeyHex =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "spotex-auth-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

  std::string Write(const std::string& name, std::string_view contents, mode_t mode = 0600) {
    const std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary).write(contents.data(), contents.size());
    ::chmod(p.c_str(), mode);
    return p;
  }

 private:
  std::string path_;
};

TEST(MasterKeyTest, ParseHexOrRaw) {
  auto hex = ParseMasterKey(kKeyHex);
  ASSERT_TRUE(hex.has_value());
  ASSERT_EQ(hex->size(), kMasterKeyBytes);
  EXPECT_EQ(hex->bytes()[31], 0x1f);
  auto with_newline = ParseMasterKey("  " + std::string(kKeyHex) + "\n");
  ASSERT_TRUE(with_newline.has_value());
  EXPECT_EQ(with_newline->view(), hex->view());
  std::string upper(kKeyHex);
  for (char& c : upper) {
    c = static_cast<char>(std::toupper(c));
  }
  EXPECT_EQ(ParseMasterKey(upper)->view(), hex->view());
  auto raw = ParseMasterKey(hex->view());
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(raw->view(), hex->view());
}

TEST(MasterKeyTest, BadContents) {
  const std::string hex(kKeyHex);
  EXPECT_EQ(ParseMasterKey(hex.substr(1)).error(), MasterKeyError::kBadFormat);
  EXPECT_EQ(ParseMasterKey(hex + "0").error(), MasterKeyError::kBadFormat);
  EXPECT_EQ(ParseMasterKey("g" + hex.substr(1)).error(), MasterKeyError::kBadFormat);
  EXPECT_EQ(ParseMasterKey(std::string(31, 'k')).error(), MasterKeyError::kBadFormat);
  EXPECT_EQ(ParseMasterKey(std::string(33, 'k')).error(), MasterKeyError::kBadFormat);
  EXPECT_EQ(ParseMasterKey("").error(), MasterKeyError::kBadFormat);
  EXPECT_EQ(ParseMasterKey(std::string(64, '0')).error(), MasterKeyError::kAllZero);
  EXPECT_EQ(ParseMasterKey(std::string(32, '\0')).error(), MasterKeyError::kAllZero);
}

TEST(MasterKeyTest, LoadChecksFileAndPermissions) {
  TempDir dir;
  auto ok = LoadMasterKey(dir.Write("k600", std::string(kKeyHex) + "\n", 0600));
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok->key.view(), ParseMasterKey(kKeyHex)->view());
  EXPECT_TRUE(ok->warnings.empty());
  EXPECT_TRUE(LoadMasterKey(dir.Write("k400", kKeyHex, 0400)).has_value());

  auto readable = LoadMasterKey(dir.Write("k644", kKeyHex, 0644));
  ASSERT_TRUE(readable.has_value());
  ASSERT_EQ(readable->warnings.size(), 1u);
  EXPECT_NE(readable->warnings[0].find("group or others may read"), std::string::npos);

  EXPECT_EQ(LoadMasterKey(dir.Write("k620", kKeyHex, 0620)).error().kind,
            MasterKeyError::kWritableByOthers);
  EXPECT_EQ(LoadMasterKey(dir.Write("k602", kKeyHex, 0602)).error().kind,
            MasterKeyError::kWritableByOthers);
  EXPECT_EQ(LoadMasterKey(dir.path() + "/missing").error().kind, MasterKeyError::kCannotRead);
  EXPECT_EQ(LoadMasterKey(dir.path()).error().kind, MasterKeyError::kNotRegularFile);
  EXPECT_EQ(LoadMasterKey(dir.Write("big", std::string(1000, 'a'))).error().kind,
            MasterKeyError::kTooLarge);
  auto bad = LoadMasterKey(dir.Write("bad", "not a key"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().kind, MasterKeyError::kBadFormat);
  EXPECT_NE(bad.error().message.find("bad"), std::string::npos) << "names the file";

  // Symlinks are followed (Kubernetes secret volumes).
  const std::string target = dir.Write("real", kKeyHex);
  fs::create_symlink(target, dir.path() + "/link");
  EXPECT_TRUE(LoadMasterKey(dir.path() + "/link").has_value());
}

TEST(MasterKeyTest, KeyringLoadPicksVersionsAndPrimary) {
  TempDir dir;
  std::string key2(kKeyHex);
  key2[0] = 'f';
  dir.Write("auth_master_key.1", kKeyHex);
  dir.Write("auth_master_key.2", key2);
  dir.Write("auth_master_key.02", "ignored: leading zero");
  dir.Write("auth_master_key.256", "ignored: out of range");
  dir.Write("postgres_password", "ignored: another secret");
  auto ring = LoadMasterKeyring(dir.path());
  ASSERT_TRUE(ring.has_value()) << ring.error().message;
  EXPECT_EQ(ring->keyring.primary_version(), 2);
  ASSERT_NE(ring->keyring.Find(1), nullptr);
  EXPECT_EQ(ring->keyring.Find(1)->view(), ParseMasterKey(kKeyHex)->view());
  EXPECT_EQ(ring->keyring.Find(3), nullptr);
  auto explicit_primary = LoadMasterKeyring(dir.path(), 1);
  ASSERT_TRUE(explicit_primary.has_value());
  EXPECT_EQ(explicit_primary->keyring.primary_version(), 1);
  EXPECT_EQ(LoadMasterKeyring(dir.path(), 3).error().kind, MasterKeyError::kNoPrimary);

  TempDir empty;
  EXPECT_EQ(LoadMasterKeyring(empty.path()).error().kind, MasterKeyError::kBadVersion);
  EXPECT_EQ(LoadMasterKeyring(empty.path() + "/nope").error().kind, MasterKeyError::kCannotRead);
  empty.Write("auth_master_key.1", "broken");
  EXPECT_EQ(LoadMasterKeyring(empty.path()).error().kind, MasterKeyError::kBadFormat);
}

TEST(MasterKeyTest, KeyringAddRules) {
  MasterKeyring ring;
  EXPECT_EQ(ring.primary_version(), 0);
  EXPECT_FALSE(ring.Add(0, ParseMasterKey(kKeyHex).value()));
  EXPECT_FALSE(ring.Add(1, Secret("short")));
  EXPECT_TRUE(ring.Add(7, ParseMasterKey(kKeyHex).value()));
  EXPECT_EQ(ring.primary_version(), 7);
  EXPECT_FALSE(ring.Add(7, ParseMasterKey(kKeyHex).value()));
  EXPECT_FALSE(ring.SetPrimary(8));
  EXPECT_FALSE(ring.SetPrimary(0));
}

// ---------------------------------------------------------------------------------------------
// Secrets at rest.

MasterKeyring RingWith(uint8_t version, char first_hex_digit) {
  std::string hex(kKeyHex);
  hex[0] = first_hex_digit;
  MasterKeyring ring;
  EXPECT_TRUE(ring.Add(version, ParseMasterKey(hex).value()));
  return ring;
}

TEST(SealTest, RoundTrip) {
  const MasterKeyring ring = RingWith(1, '1');
  const Secret secret = GenerateHmacSecret();
  const std::string key_id = GenerateApiKeyId();
  auto sealed = EncryptSecret(ring, secret.view(), key_id);
  ASSERT_TRUE(sealed.has_value());
  EXPECT_EQ(sealed->size(), kSealedOverheadBytes + secret.size());
  EXPECT_EQ(static_cast<uint8_t>((*sealed)[0]), kSealedFormat);
  EXPECT_EQ(SealedKeyVersion(*sealed), 1);
  EXPECT_EQ(sealed->find(secret.view()), std::string::npos);
  auto opened = DecryptSecret(ring, *sealed, key_id);
  ASSERT_TRUE(opened.has_value()) << Describe(opened.error());
  EXPECT_EQ(opened->view(), secret.view());
  // Random nonces: the same secret seals differently each time.
  EXPECT_NE(*EncryptSecret(ring, secret.view(), key_id), *sealed);
  // The empty secret round-trips too.
  auto empty = EncryptSecret(ring, "", key_id);
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(DecryptSecret(ring, *empty, key_id)->empty());
}

TEST(SealTest, WrongMasterKeyOrContextFails) {
  const MasterKeyring ring = RingWith(1, '1');
  const MasterKeyring other = RingWith(1, '2');  // same version, different key
  auto sealed = EncryptSecret(ring, "secret bytes", "key-A");
  ASSERT_TRUE(sealed.has_value());
  EXPECT_EQ(DecryptSecret(other, *sealed, "key-A").error(), SealError::kAuthenticationFailed);
  EXPECT_EQ(DecryptSecret(ring, *sealed, "key-B").error(), SealError::kAuthenticationFailed);
  EXPECT_EQ(DecryptSecret(ring, *sealed, "").error(), SealError::kAuthenticationFailed);
  EXPECT_EQ(DecryptSecret(RingWith(2, '1'), *sealed, "key-A").error(),
            SealError::kUnknownKeyVersion);
  EXPECT_EQ(EncryptSecret(MasterKeyring(), "x", "c").error(), SealError::kNoPrimaryKey);
}

TEST(SealTest, EveryTamperedByteIsDetected) {
  const MasterKeyring ring = RingWith(1, '1');
  auto sealed = EncryptSecret(ring, "0123456789abcdef", "ctx");
  ASSERT_TRUE(sealed.has_value());
  for (size_t i = 0; i < sealed->size(); ++i) {
    for (const uint8_t flip : {0x01, 0x80}) {
      std::string bad = *sealed;
      bad[i] = static_cast<char>(bad[i] ^ flip);
      EXPECT_FALSE(DecryptSecret(ring, bad, "ctx").has_value()) << "byte " << i;
    }
  }
  EXPECT_EQ(DecryptSecret(ring, sealed->substr(0, sealed->size() - 1), "ctx").error(),
            SealError::kAuthenticationFailed);
  EXPECT_EQ(DecryptSecret(ring, sealed->substr(0, kSealedOverheadBytes - 1), "ctx").error(),
            SealError::kTooShort);
  EXPECT_EQ(DecryptSecret(ring, *sealed + "x", "ctx").error(), SealError::kAuthenticationFailed);
  std::string other_format = *sealed;
  other_format[0] = 2;
  EXPECT_EQ(DecryptSecret(ring, other_format, "ctx").error(), SealError::kUnknownFormat);
}

TEST(SealTest, LimitsAreEnforced) {
  const MasterKeyring ring = RingWith(1, '1');
  EXPECT_EQ(EncryptSecret(ring, std::string(kSealedPlaintextBytesMax + 1, 'x'), "c").error(),
            SealError::kTooLong);
  EXPECT_EQ(EncryptSecret(ring, "x", std::string(kSealedContextBytesMax + 1, 'c')).error(),
            SealError::kTooLong);
  EXPECT_EQ(DecryptSecret(
                ring, std::string(kSealedOverheadBytes + kSealedPlaintextBytesMax + 1, '\x01'), "c")
                .error(),
            SealError::kTooLong);
}

TEST(SealTest, RotationKeepsOldSecretsReadable) {
  MasterKeyring ring = RingWith(1, '1');
  auto old_sealed = EncryptSecret(ring, "old secret", "k");
  ASSERT_TRUE(old_sealed.has_value());
  std::string hex2(kKeyHex);
  hex2[0] = '2';
  ASSERT_TRUE(ring.Add(2, ParseMasterKey(hex2).value()));
  EXPECT_EQ(ring.primary_version(), 1) << "adding a key does not switch the primary";
  EXPECT_FALSE(NeedsReencrypt(ring, *old_sealed));
  ASSERT_TRUE(ring.SetPrimary(2));
  EXPECT_TRUE(NeedsReencrypt(ring, *old_sealed));
  EXPECT_EQ(DecryptSecret(ring, *old_sealed, "k")->view(), "old secret");
  auto new_sealed = EncryptSecret(ring, "old secret", "k");
  ASSERT_TRUE(new_sealed.has_value());
  EXPECT_EQ(SealedKeyVersion(*new_sealed), 2);
  EXPECT_FALSE(NeedsReencrypt(ring, *new_sealed));
  EXPECT_FALSE(NeedsReencrypt(ring, "garbage"));
}

// ---------------------------------------------------------------------------------------------
// Session tokens.

TEST(SessionTokenTest, FormatUniquenessAndHash) {
  const std::string token = GenerateSessionToken();
  ASSERT_EQ(token.size(), kSessionTokenChars);
  for (const char c : token) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << token;
  }
  EXPECT_NE(GenerateSessionToken(), token);
  auto hash = SessionTokenHash(token);
  ASSERT_TRUE(hash.has_value());
  EXPECT_EQ(hash->size(), 64u);
  EXPECT_EQ(SessionTokenHash(token), hash) << "deterministic";
  EXPECT_EQ(hash->find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(SessionTokenTest, KnownAnswer) {
  // 32 zero bytes are 43 'A's in base64url; their SHA-256 is a well-known value.
  EXPECT_EQ(SessionTokenHash(std::string(43, 'A')),
            "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925");
}

TEST(Sha256HexTest, KnownAnswers) {  // FIPS 180-2's examples
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(std::string("a\0b", 3)), Sha256Hex(std::string("a\0b", 3)));
  EXPECT_NE(Sha256Hex(std::string("a\0b", 3)), Sha256Hex("a"));  // bytes, not a C string
}

TEST(SessionTokenTest, MalformedTokensHaveNoHash) {
  const std::string token = GenerateSessionToken();
  EXPECT_FALSE(SessionTokenHash(token.substr(1)).has_value());
  EXPECT_FALSE(SessionTokenHash(token + "A").has_value());
  EXPECT_FALSE(SessionTokenHash("").has_value());
  EXPECT_FALSE(SessionTokenHash(std::string(42, 'A') + "+").has_value()) << "not base64url";
  EXPECT_FALSE(SessionTokenHash(std::string(42, 'A') + "B").has_value())
      << "non-zero trailing bits: a second spelling of the same bytes";
  EXPECT_FALSE(SessionTokenHash(std::string(42, 'A') + "=").has_value());
}

// ---------------------------------------------------------------------------------------------

TEST(SecretTest, MoveLeavesSourceEmptyAndCloneCopies) {
  Secret a("hunter22");
  Secret b = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_EQ(b.view(), "hunter22");
  Secret c = b.Clone();
  EXPECT_EQ(c.view(), b.view());
  EXPECT_NE(c.view().data(), b.view().data());
  b.Clear();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(c.view(), "hunter22");
  c = Secret("x");
  EXPECT_EQ(c.view(), "x");
  EXPECT_TRUE(Secret::OfSize(0).empty());
  EXPECT_EQ(Secret::OfSize(3).view(), std::string(3, '\0'));
}

}  // namespace
}  // namespace spotex::auth
