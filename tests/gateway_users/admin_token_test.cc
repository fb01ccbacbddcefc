// AdminToken: read from the secrets directory, matched only by the exact value.
#include "gateway/users/admin_api.h"

#include <gtest/gtest.h>

#include <fstream>

#include "harness.h"

namespace spotex::gateway::users {
namespace {

TEST(AdminTokenTest, LoadsTheFirstLineOfTheSecretFile) {
  spotex::testing::TempDir dir;
  std::ofstream(dir.path() + "/admin-token") << "0123456789abcdefXYZ\n";
  auto token = AdminToken::Load(dir.path());
  ASSERT_TRUE(token) << token.error();
  EXPECT_TRUE(token->Matches("0123456789abcdefXYZ"));
  EXPECT_FALSE(token->Matches("0123456789abcdefXYZ\n"));
  EXPECT_FALSE(token->Matches("0123456789abcdefXY"));
  EXPECT_FALSE(token->Matches("0123456789abcdefXYz"));
  EXPECT_FALSE(token->Matches(""));
  EXPECT_FALSE(token->Matches(std::nullopt));
  EXPECT_FALSE(token->Matches(std::string(10000, 'a')));
}

TEST(AdminTokenTest, RefusesMissingShortOrBlankTokens) {
  spotex::testing::TempDir dir;
  EXPECT_FALSE(AdminToken::Load(dir.path()));  // no file
  std::ofstream(dir.path() + "/admin-token") << "short\n";
  auto shorter = AdminToken::Load(dir.path());
  ASSERT_FALSE(shorter);
  EXPECT_NE(shorter.error().find("admin-token"), std::string::npos) << shorter.error();
  EXPECT_FALSE(AdminToken::FromString("with a space in the middle"));
  EXPECT_FALSE(AdminToken::FromString(std::string(257, 'a')));
  EXPECT_TRUE(AdminToken::FromString(std::string(256, 'a')));
}

}  // namespace
}  // namespace spotex::gateway::users
