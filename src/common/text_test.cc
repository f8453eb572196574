#include "common/text.h"

#include <gtest/gtest.h>

namespace swell {
namespace {

TEST(TextTest, CharacterClasses) {
  EXPECT_TRUE(IsDigit('0'));
  EXPECT_TRUE(IsDigit('9'));
  EXPECT_FALSE(IsDigit('a'));
  EXPECT_TRUE(IsAlpha('Z'));
  EXPECT_FALSE(IsAlpha('1'));
  EXPECT_TRUE(IsBlank(' '));
  EXPECT_TRUE(IsBlank('\t'));
  EXPECT_FALSE(IsBlank('\n'));
}

TEST(TextTest, CaseFolding) {
  EXPECT_EQ(ToLower("Pending-1"), "pending-1");
  EXPECT_EQ(ToUpper("Pending-1"), "PENDING-1");
  EXPECT_EQ(ToLower('Q'), 'q');
  EXPECT_TRUE(EqualsIgnoreCase("TeaTime", "teatime"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_FALSE(EqualsIgnoreCase("tea", "teatime"));
  EXPECT_FALSE(EqualsIgnoreCase("tea", "tee"));
}

TEST(TextTest, Digits) {
  EXPECT_TRUE(AllDigits("0123"));
  EXPECT_FALSE(AllDigits(""));
  EXPECT_FALSE(AllDigits("12a"));
  EXPECT_EQ(ParseDigits("007"), 7);
  EXPECT_EQ(ParseDigits("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(ParseDigits("9223372036854775808"), std::nullopt);  // overflows
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1.5"}) {
    EXPECT_EQ(ParseDigits(bad), std::nullopt) << bad;
  }
}

TEST(TextTest, Split) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(Split("a,,b", ','), (V{"a", "", "b"}));
  EXPECT_EQ(Split("", ','), V{""});
  EXPECT_EQ(Split("a,", ','), (V{"a", ""}));
  EXPECT_EQ(Split("abc", ','), V{"abc"});
}

TEST(TextTest, SplitNonEmpty) {
  using V = std::vector<std::string>;
  EXPECT_EQ(SplitNonEmpty("a,,b,", ','), (V{"a", "b"}));
  EXPECT_EQ(SplitNonEmpty(",a", ','), V{"a"});
  EXPECT_EQ(SplitNonEmpty("", ','), V{});
  EXPECT_EQ(SplitNonEmpty(",,", ','), V{});
  EXPECT_EQ(SplitNonEmpty("a b", ' '), (V{"a", "b"}));
}

TEST(TextTest, PadNumber) {
  EXPECT_EQ(PadNumber(7, 3), "007");
  EXPECT_EQ(PadNumber(7, 0), "7");
  EXPECT_EQ(PadNumber(1234, 2), "1234");
}

}  // namespace
}  // namespace swell

namespace swell {
namespace {

TEST(PathWithDirFirstTest, TheDirectoryLeadsOnce) {
  EXPECT_EQ(PathWithDirFirst("/usr/bin:/bin", "/opt/swell/bin"), "/opt/swell/bin:/usr/bin:/bin");
  EXPECT_EQ(PathWithDirFirst("/usr/bin:/opt/swell/bin:/bin", "/opt/swell/bin"),
            "/opt/swell/bin:/usr/bin:/bin");
  EXPECT_EQ(PathWithDirFirst("", "/opt/swell/bin"), "/opt/swell/bin");
  EXPECT_EQ(PathWithDirFirst("/a::/b", "/s"), "/s:/a::/b") << "an empty entry (.) stays";
  EXPECT_EQ(PathWithDirFirst("/a:/b", ""), "/a:/b");
}

TEST(TextTest, HostPortAndLoopback) {
  auto hp = ParseHostPort("127.0.0.1:8080");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, 8080);
  hp = ParseHostPort("[::1]:0");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "::1");
  EXPECT_EQ(hp->port, 0);
  for (const char* bad : {"8080", ":80", "host:", "host:65536", "host:-1", "host:8o"})
    EXPECT_FALSE(ParseHostPort(bad)) << bad;
  for (const char* yes : {"127.0.0.1", "127.1.2.3", "localhost", "::1"})
    EXPECT_TRUE(IsLoopbackHost(yes)) << yes;
  for (const char* no : {"0.0.0.0", "10.0.0.1", "127.0.0", "127.0.0.256", "example.org", ""})
    EXPECT_FALSE(IsLoopbackHost(no)) << no;
}

}  // namespace
}  // namespace swell
