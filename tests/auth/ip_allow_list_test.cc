// IP allow-lists: exact addresses and CIDR ranges in IPv4 and IPv6, mapped addresses, strict
// parsing.
#include "auth/ip_allow_list.h"

#include <gtest/gtest.h>

#include <string>

namespace spotex::auth {
namespace {

IpAllowList MustParse(std::string_view text) {
  auto list = IpAllowList::Parse(text);
  EXPECT_TRUE(list.has_value()) << text << ": " << list.error().message;
  return list.value_or(IpAllowList());
}

TEST(IpAllowListTest, EmptyListIsUnrestricted) {
  const IpAllowList open = MustParse("  ,\n ");
  EXPECT_TRUE(open.unrestricted());
  EXPECT_TRUE(open.Allows("203.0.113.9"));
  EXPECT_TRUE(open.Allows("garbage"));
  EXPECT_TRUE(IpAllowList().unrestricted());
}

TEST(IpAllowListTest, ExactAddresses) {
  const IpAllowList list = MustParse("203.0.113.9, 2001:db8::1");
  EXPECT_EQ(list.size(), 2u);
  EXPECT_TRUE(list.Allows("203.0.113.9"));
  EXPECT_FALSE(list.Allows("203.0.113.8"));
  EXPECT_FALSE(list.Allows("203.0.113.10"));
  EXPECT_TRUE(list.Allows("2001:db8::1"));
  EXPECT_TRUE(list.Allows("2001:0db8:0000:0000:0000:0000:0000:0001"));
  EXPECT_FALSE(list.Allows("2001:db8::2"));
  EXPECT_FALSE(list.Allows(""));
  EXPECT_FALSE(list.Allows("not an ip"));
  EXPECT_FALSE(list.Allows("203.0.113.9:443")) << "no ports";
}

TEST(IpAllowListTest, Ipv4Cidr) {
  const IpAllowList list = MustParse("10.1.2.0/24 192.168.0.0/31");
  EXPECT_TRUE(list.Allows("10.1.2.0"));
  EXPECT_TRUE(list.Allows("10.1.2.255"));
  EXPECT_FALSE(list.Allows("10.1.3.0"));
  EXPECT_FALSE(list.Allows("10.1.1.255"));
  EXPECT_TRUE(list.Allows("192.168.0.1"));
  EXPECT_FALSE(list.Allows("192.168.0.2"));
  const IpAllowList odd = MustParse("172.16.0.0/12");
  EXPECT_TRUE(odd.Allows("172.31.255.255"));
  EXPECT_FALSE(odd.Allows("172.32.0.0"));
  EXPECT_TRUE(MustParse("0.0.0.0/0").Allows("8.8.8.8"));
  EXPECT_FALSE(MustParse("0.0.0.0/0").Allows("::1")) << "an IPv4 range never holds IPv6";
}

TEST(IpAllowListTest, Ipv6Cidr) {
  const IpAllowList list = MustParse("2001:db8:abcd:12::/64");
  EXPECT_TRUE(list.Allows("2001:db8:abcd:12::1"));
  EXPECT_TRUE(list.Allows("2001:db8:abcd:12:ffff:ffff:ffff:ffff"));
  EXPECT_FALSE(list.Allows("2001:db8:abcd:13::1"));
  const IpAllowList odd = MustParse("2001:db8::/33");
  EXPECT_TRUE(odd.Allows("2001:db8:7fff::1"));
  EXPECT_FALSE(odd.Allows("2001:db8:8000::1"));
  EXPECT_TRUE(MustParse("::/0").Allows("2001:db8::1"));
  EXPECT_FALSE(MustParse("::/0").Allows("1.2.3.4"));
}

TEST(IpAllowListTest, Ipv4MappedAddressesCountAsIpv4) {
  const IpAllowList v4 = MustParse("198.51.100.0/24");
  EXPECT_TRUE(v4.Allows("::ffff:198.51.100.7"));  // dual-stack socket view of an IPv4 client
  EXPECT_FALSE(v4.Allows("::ffff:198.51.101.7"));
  const IpAllowList mapped = MustParse("::ffff:198.51.100.0/120, ::ffff:203.0.113.5");
  EXPECT_TRUE(mapped.Allows("198.51.100.200"));
  EXPECT_TRUE(mapped.Allows("203.0.113.5"));
  EXPECT_FALSE(mapped.Allows("203.0.113.6"));
  EXPECT_EQ(mapped.ToString(), "198.51.100.0/24,203.0.113.5");
}

TEST(IpAllowListTest, HostBitsAreClearedAndToStringIsCanonical) {
  const IpAllowList list = MustParse("10.1.2.3/8,2001:DB8:0:0::7/32 1.2.3.4/32");
  EXPECT_EQ(list.ToString(), "10.0.0.0/8,2001:db8::/32,1.2.3.4");
  EXPECT_TRUE(list.Allows("10.200.0.1"));
  EXPECT_EQ(MustParse(list.ToString()).ToString(), list.ToString());
}

TEST(IpAllowListTest, BadEntriesFailTheWholeList) {
  for (const char* bad :
       {"1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4/33", "1.2.3.4/", "1.2.3.4/08",
        "1.2.3.4/-1", "1.2.3.4/3a", "::1/129", "fe80::1%eth0", "example.com", "1.2.3.4, bogus",
        "::ffff:1.2.3.4/95", "1.2.3.4/1234", ":::1", "1.2.3.4/24/8"}) {
    auto list = IpAllowList::Parse(bad);
    ASSERT_FALSE(list.has_value()) << bad;
    EXPECT_FALSE(list.error().message.empty());
  }
}

TEST(IpAllowListTest, SizeLimits) {
  std::string many;
  for (size_t i = 0; i < IpAllowList::kEntriesMax; ++i) {
    many += "10.0.0." + std::to_string(i) + ",";
  }
  EXPECT_EQ(MustParse(many).size(), IpAllowList::kEntriesMax);
  EXPECT_FALSE(IpAllowList::Parse(many + "10.0.1.1").has_value());
  EXPECT_FALSE(IpAllowList::Parse(std::string(IpAllowList::kTextBytesMax + 1, ' ')).has_value());
}

}  // namespace
}  // namespace spotex::auth
