#include "node/usage.h"

#include <gtest/gtest.h>

namespace swell::node {
namespace {

TEST(UsageTest, FromRusageTakesMaxRssAndCpuTimes) {
  struct rusage ru = {};
  ru.ru_maxrss = 2048;
  ru.ru_utime = {1, 500'000};
  ru.ru_stime = {0, 250};
  EXPECT_EQ(FromRusage(ru), (Usage{2048, 1'500'000, 250}));
}

TEST(UsageTest, CpuStatGivesUserAndSystemMicros) {
  Usage u{100, 0, 0};
  EXPECT_TRUE(ParseCpuStat("usage_usec 9000\nuser_usec 7000\nsystem_usec 2000\nnr_periods 0\n", &u));
  EXPECT_EQ(u, (Usage{100, 7000, 2000}));
  Usage none;
  EXPECT_FALSE(ParseCpuStat("usage_usec 9000\nnr_periods x\n", &none));
  EXPECT_EQ(none, Usage{});
}

TEST(UsageTest, MemoryPeakIsRoundedUpToKiB) {
  EXPECT_EQ(ParseMemoryPeakKb("1025\n"), 2);
  EXPECT_EQ(ParseMemoryPeakKb("4096"), 4);
  EXPECT_EQ(ParseMemoryPeakKb("max\n"), std::nullopt);
  EXPECT_EQ(ParseMemoryPeakKb(""), std::nullopt);
}

TEST(UsageTest, CgroupWithoutFilesGivesNothing) {
  EXPECT_EQ(CgroupUsage("/nonexistent/swell-cgroup", Usage{}), std::nullopt);
}

}  // namespace
}  // namespace swell::node
