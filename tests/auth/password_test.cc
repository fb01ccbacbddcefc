// Password policy, argon2id hash/verify, rehash detection and the concurrency bound.
#include "auth/password.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <latch>
#include <string>
#include <thread>
#include <vector>

namespace spotex::auth {
namespace {

TEST(PasswordPolicyTest, LengthInCodePoints) {
  EXPECT_EQ(CheckPasswordPolicy("Tr0ub4d").error(), PasswordPolicyError::kTooShort);
  EXPECT_TRUE(CheckPasswordPolicy("Tr0ub4d&").has_value());
  EXPECT_TRUE(CheckPasswordPolicy(std::string(128, 'x')).has_value());
  EXPECT_EQ(CheckPasswordPolicy(std::string(129, 'x')).error(), PasswordPolicyError::kTooLong);
  // 8 code points of 3 bytes each pass; 7 do not, though they are 21 bytes.
  EXPECT_TRUE(CheckPasswordPolicy("密码密码密码密码").has_value());
  EXPECT_EQ(CheckPasswordPolicy("密码密码密码密").error(), PasswordPolicyError::kTooShort);
  std::string emoji;
  for (int i = 0; i < 128; ++i) {
    emoji += "\xF0\x9F\x94\x91";  // U+1F511, 4 bytes
  }
  EXPECT_TRUE(CheckPasswordPolicy(emoji).has_value());
  EXPECT_EQ(CheckPasswordPolicy(emoji + "x").error(), PasswordPolicyError::kTooLong);
  EXPECT_EQ(CheckPasswordPolicy(std::string(100000, 'x')).error(), PasswordPolicyError::kTooLong);
}

TEST(PasswordPolicyTest, Utf8AndControlCharacters) {
  EXPECT_EQ(CheckPasswordPolicy("abcdefg\xff").error(), PasswordPolicyError::kInvalidUtf8);
  EXPECT_EQ(CheckPasswordPolicy("abcdefg\xC0\xAF").error(), PasswordPolicyError::kInvalidUtf8)
      << "overlong '/'";
  EXPECT_EQ(CheckPasswordPolicy("abcdefg\xED\xA0\x80").error(), PasswordPolicyError::kInvalidUtf8)
      << "surrogate";
  EXPECT_EQ(CheckPasswordPolicy("abcdefg\xE6\x97").error(), PasswordPolicyError::kInvalidUtf8);
  EXPECT_EQ(CheckPasswordPolicy("abcd\tefgh").error(), PasswordPolicyError::kControlCharacter);
  EXPECT_EQ(CheckPasswordPolicy(std::string("abcd\0efgh", 9)).error(),
            PasswordPolicyError::kControlCharacter);
  EXPECT_EQ(CheckPasswordPolicy("abcdefgh\x7f").error(), PasswordPolicyError::kControlCharacter);
  EXPECT_EQ(CheckPasswordPolicy("abcdefgh\xC2\x85").error(),
            PasswordPolicyError::kControlCharacter);  // U+0085 NEL
  EXPECT_TRUE(CheckPasswordPolicy("correct horse battery staple").has_value());
}

TEST(PasswordPolicyTest, CommonPasswordsAndUsername) {
  EXPECT_EQ(CheckPasswordPolicy("password").error(), PasswordPolicyError::kTooCommon);
  EXPECT_EQ(CheckPasswordPolicy("PassWord1").error(), PasswordPolicyError::kTooCommon);
  EXPECT_EQ(CheckPasswordPolicy("12345678").error(), PasswordPolicyError::kTooCommon);
  EXPECT_EQ(CheckPasswordPolicy("alice@example.com", "Alice@Example.com").error(),
            PasswordPolicyError::kSameAsUsername);
  EXPECT_TRUE(CheckPasswordPolicy("alice@example.com!", "alice@example.com").has_value());
  EXPECT_FALSE(Describe(PasswordPolicyError::kTooCommon).empty());
}

TEST(PasswordHasherTest, HashVerifyWrongPassword) {
  PasswordHasher hasher(kPasswordTestOnlyMin);
  auto hash = hasher.Hash("correct horse battery staple");
  ASSERT_TRUE(hash.has_value());
  EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=8,t=1,p=1$")) << *hash;
  EXPECT_EQ(hasher.Verify(*hash, "correct horse battery staple"), true);
  EXPECT_EQ(hasher.Verify(*hash, "correct horse battery stapl"), false);
  EXPECT_EQ(hasher.Verify(*hash, "Correct horse battery staple"), false);
  EXPECT_EQ(hasher.Verify(*hash, ""), false);
  // A fresh salt each time.
  auto again = hasher.Hash("correct horse battery staple");
  ASSERT_TRUE(again.has_value());
  EXPECT_NE(*hash, *again);
  EXPECT_EQ(hasher.Verify(*again, "correct horse battery staple"), true);
}

TEST(PasswordHasherTest, ProductionParametersWork) {
  PasswordHasher hasher;  // INTERACTIVE: 64 MiB, 2 passes
  EXPECT_EQ(hasher.params().mem_limit_bytes, size_t{64} << 20);
  const auto start = std::chrono::steady_clock::now();
  auto hash = hasher.Hash("Tr0ub4dor&3");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(hash.has_value());
  EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=65536,t=2,p=1$")) << *hash;
  EXPECT_LT(hash->size(), 128u);
  EXPECT_EQ(hasher.Verify(*hash, "Tr0ub4dor&3"), true);
  EXPECT_EQ(hasher.Verify(*hash, "Tr0ub4dor&4"), false);
  EXPECT_FALSE(hasher.NeedsRehash(*hash));
  std::printf("argon2id INTERACTIVE hash: %lld ms\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));
}

TEST(PasswordHasherTest, NeedsRehashWhenParametersChange) {
  PasswordHasher weak(kPasswordTestOnlyMin);
  PasswordHasher strong(PasswordParams{2, size_t{1} << 20});
  auto weak_hash = weak.Hash("some password");
  ASSERT_TRUE(weak_hash.has_value());
  EXPECT_FALSE(weak.NeedsRehash(*weak_hash));
  EXPECT_TRUE(strong.NeedsRehash(*weak_hash));
  // The old hash still verifies under the new hasher: parameters are in the string.
  EXPECT_EQ(strong.Verify(*weak_hash, "some password"), true);
  EXPECT_TRUE(strong.NeedsRehash("not a hash"));
  EXPECT_TRUE(strong.NeedsRehash(""));
}

TEST(PasswordHasherTest, MalformedStoredHashIsAnErrorNotAMismatch) {
  PasswordHasher hasher(kPasswordTestOnlyMin);
  auto good = hasher.Hash("some password");
  ASSERT_TRUE(good.has_value());
  for (const std::string& bad : {
           std::string(), std::string("plaintext"), std::string("$argon2i$v=19$m=8,t=1,p=1$x$y"),
           std::string("$2b$12$abcdefghijklmnopqrstuv"),  // bcrypt
           *good + std::string(200, 'A'),                 // too long
           good->substr(0, 20),                           // truncated
           std::string(*good).insert(5, 1, '\0'),         // embedded NUL
       }) {
    auto r = hasher.Verify(bad, "some password");
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error(), PasswordError::kMalformedHash) << bad;
  }
}

TEST(PasswordHasherTest, OverlongPasswordsAreRefused) {
  PasswordHasher hasher(kPasswordTestOnlyMin);
  const std::string big(kPasswordBytesMax + 1, 'x');
  EXPECT_EQ(hasher.Hash(big).error(), PasswordError::kTooLong);
  auto hash = hasher.Hash("some password");
  ASSERT_TRUE(hash.has_value());
  EXPECT_EQ(hasher.Verify(*hash, big).error(), PasswordError::kTooLong);
}

TEST(PasswordHasherTest, UnknownUserNeverMatches) {
  PasswordHasher hasher(kPasswordTestOnlyMin);
  EXPECT_EQ(hasher.VerifyUnknownUser("anything at all"), false);
  EXPECT_EQ(hasher.VerifyUnknownUser(""), false);
}

TEST(PasswordHasherTest, ConcurrencyIsBoundedAndExcessCallersGetBusy) {
  // One slot, no waiting: of several simultaneous 64 MiB hashes, those that find the slot
  // taken are refused at once rather than queued.
  PasswordHasher hasher(kPasswordInteractive, 1, std::chrono::milliseconds(0));
  constexpr int kThreads = 4;
  std::atomic<int> ok{0};
  std::atomic<int> busy{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      auto r = hasher.Hash("concurrent password");
      if (r.has_value()) {
        ok.fetch_add(1);
      } else if (r.error() == PasswordError::kBusy) {
        busy.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  EXPECT_GE(ok.load(), 1);
  EXPECT_GE(busy.load(), 1);
  EXPECT_EQ(ok.load() + busy.load(), kThreads);
}

}  // namespace
}  // namespace spotex::auth
