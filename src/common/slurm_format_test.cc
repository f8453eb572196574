#include "common/slurm_format.h"

#include <gtest/gtest.h>

#include <string>

namespace swell {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// Expects `status` to reject `text` as the header promises: InvalidArgument, quoting the input.
void ExpectRejected(const Status& status, std::string_view text) {
  EXPECT_FALSE(status.ok()) << "'" << text << "' was accepted";
  if (status.ok()) return;
  EXPECT_EQ(status.code(), Code::kInvalidArgument) << text;
  EXPECT_NE(status.message().find("'" + std::string(text) + "'"), std::string::npos)
      << status.message();
}

// ---- Time limits -------------------------------------------------------------------------------

Duration Limit(std::string_view text) {
  Result<Duration> r = ParseTimeLimit(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : Duration(-1);
}

TEST(ParseTimeLimitTest, AcceptsEverySlurmForm) {
  EXPECT_EQ(Limit("90"), minutes(90));                              // minutes
  EXPECT_EQ(Limit("5:30"), minutes(5) + seconds(30));               // minutes:seconds
  EXPECT_EQ(Limit("120:00"), minutes(120));                         // minutes unbounded first
  EXPECT_EQ(Limit("2:03:04"), hours(2) + minutes(3) + seconds(4));  // hours:minutes:seconds
  EXPECT_EQ(Limit("48:00:00"), hours(48));                          // hours unbounded first
  EXPECT_EQ(Limit("00:05:00"), minutes(5));
  EXPECT_EQ(Limit("1-12"), hours(36));                                  // days-hours
  EXPECT_EQ(Limit("1-0:30"), hours(24) + minutes(30));                  // days-hours:minutes
  EXPECT_EQ(Limit("2-03:04:05"), hours(51) + minutes(4) + seconds(5));  // days-h:m:s
  EXPECT_EQ(Limit("0:01"), seconds(1));
}

TEST(ParseTimeLimitTest, UnlimitedSpellings) {
  for (const char* text : {"UNLIMITED", "unlimited", "INFINITE", "Infinite", "-1"}) {
    Result<Duration> r = ParseTimeLimit(text);
    ASSERT_TRUE(r.ok()) << text;
    EXPECT_EQ(*r, kInfinite) << text;
  }
}

TEST(ParseTimeLimitTest, RejectsBadInput) {
  // clang-format off
  constexpr const char* kRejected[] = {
      "", "0", "0:00", "00:00:00", "0-0", "-5", "+5", "-1:00", "abc", "1:xx", "1x", " 5", "5 ",
      "1:2:3:4", "1-2-3", "1-", "-", ":", "1::2", "1:60", "1:00:60", "1:60:00", "1-24", "1-1:60",
      "1-1:1:60", "1.5", "99999999999999999999", "999999999999999:00:00", "9999999999999-00"};
  // clang-format on
  for (const char* text : kRejected) ExpectRejected(ParseTimeLimit(text).status(), text);
}

TEST(ParseTimeLimitTest, MessageQuotesInputAndListsForms) {
  Result<Duration> r = ParseTimeLimit("1:xx");
  ASSERT_FALSE(r.ok());
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("'1:xx'"), std::string::npos) << m;
  EXPECT_NE(m.find("D-H:M:S"), std::string::npos) << m;
  EXPECT_NE(m.find("UNLIMITED"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  EXPECT_NE(ParseTimeLimit("0").status().message().find("greater than zero"), std::string::npos);
}

TEST(FormatDurationTest, SlurmStyle) {
  EXPECT_EQ(FormatDuration(seconds(0)), "00:00:00");
  EXPECT_EQ(FormatDuration(minutes(5)), "00:05:00");
  EXPECT_EQ(FormatDuration(hours(23) + minutes(59) + seconds(59)), "23:59:59");
  EXPECT_EQ(FormatDuration(hours(24)), "1-00:00:00");
  EXPECT_EQ(FormatDuration(hours(24 * 12 + 3) + seconds(7)), "12-03:00:07");
  EXPECT_EQ(FormatDuration(Duration(1999)), "00:00:01");  // truncated
  EXPECT_EQ(FormatDuration(kInfinite), "UNLIMITED");
  EXPECT_EQ(FormatDuration(Duration(-1000)), "INVALID");
}

TEST(FormatDurationTest, RoundTrips) {
  for (Duration d :
       {Duration(seconds(1)), Duration(minutes(5)), Duration(hours(23) + seconds(1)),
        Duration(hours(24)), Duration(hours(24 * 400 + 5) + minutes(6) + seconds(7)), kInfinite}) {
    EXPECT_EQ(Limit(FormatDuration(d)), d) << FormatDuration(d);
  }
}

// ---- Array specs -------------------------------------------------------------------------------

ArraySpec Array(std::string_view text, int64_t max_index = 1'000'000) {
  Result<ArraySpec> r = ParseArraySpec(text, max_index);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : ArraySpec{};
}

using Indices = std::vector<int64_t>;

TEST(ParseArraySpecTest, RangesListsStepsThrottles) {
  EXPECT_EQ(Array("7").indices, (Indices{7}));
  EXPECT_EQ(Array("0-3").indices, (Indices{0, 1, 2, 3}));
  EXPECT_EQ(Array("0-15").indices.size(), 16u);
  EXPECT_EQ(Array("0,6,16-18").indices, (Indices{0, 6, 16, 17, 18}));
  EXPECT_EQ(Array("0-15:4").indices, (Indices{0, 4, 8, 12}));
  EXPECT_EQ(Array("1-10:3").indices, (Indices{1, 4, 7, 10}));
  EXPECT_EQ(Array("3-3").indices, (Indices{3}));
  EXPECT_EQ(Array("0-15:4").max_running, 0);

  ArraySpec throttled = Array("1-100%10");
  EXPECT_EQ(throttled.indices.size(), 100u);
  EXPECT_EQ(throttled.indices.front(), 1);
  EXPECT_EQ(throttled.indices.back(), 100);
  EXPECT_EQ(throttled.max_running, 10);

  ArraySpec list = Array("1,3,5%2");
  EXPECT_EQ(list.indices, (Indices{1, 3, 5}));
  EXPECT_EQ(list.max_running, 2);

  ArraySpec combined = Array("0-4:2,10,20-22%3");
  EXPECT_EQ(combined.indices, (Indices{0, 2, 4, 10, 20, 21, 22}));
  EXPECT_EQ(combined.max_running, 3);
}

TEST(ParseArraySpecTest, SortsAndRemovesDuplicates) {
  EXPECT_EQ(Array("9,1-3,2,0,3").indices, (Indices{0, 1, 2, 3, 9}));
  EXPECT_EQ(Array("5-8,1-6").indices, (Indices{1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(ParseArraySpecTest, MaxIndex) {
  EXPECT_EQ(Array("1000000").indices, (Indices{1'000'000}));
  EXPECT_EQ(Array("0-10", 10).indices.size(), 11u);
  EXPECT_FALSE(ParseArraySpec("0-11", 10).ok());
  EXPECT_FALSE(ParseArraySpec("1000001").ok());
}

TEST(ParseArraySpecTest, ReadsTheThrottleAsSlurmDoes) {
  // Slurm 22.05 accepts each of these (tests/slurm/slurmbox.py): atoi's leading digits.
  for (const char* text : {"1-5%0", "1-5%", "1-5%-2", "1-5%x"})
    EXPECT_EQ(Array(text).max_running, 0) << text << ": no throttle";
  EXPECT_EQ(Array("1-5%2x").max_running, 2);
  EXPECT_EQ(Array("1-5%2%3").max_running, 2);
  EXPECT_EQ(Array("1-5%2x").indices.size(), 5u);
}

TEST(ParseArraySpecTest, Rejects) {
  // clang-format off
  constexpr const char* kRejected[] = {
      "", "%5", "-1", "-1-5", "5-3", "1-5:0", "1-5:-1", "1-5:", "5:2",
      "abc", "1,,2", ",1", "1,", "1-", "-", "1-x", "1.5", " 1", "1 ",
      "99999999999999999999", "1-5%99999999999",
      "0-1000000,0-1000000,0-1000000,0-1000000,0-1000000"};
  // clang-format on
  for (const char* text : kRejected) ExpectRejected(ParseArraySpec(text).status(), text);
}

TEST(FormatArrayIndicesTest, CompressesRuns) {
  EXPECT_EQ(FormatArrayIndices({}), "");
  EXPECT_EQ(FormatArrayIndices({4}), "4");
  EXPECT_EQ(FormatArrayIndices({1, 2}), "1-2");
  EXPECT_EQ(FormatArrayIndices({1, 2, 3, 4, 5, 7, 9, 10, 11}), "1-5,7,9-11");
  EXPECT_EQ(FormatArrayIndices({11, 9, 10, 1, 1, 3}), "1,3,9-11");
  EXPECT_EQ(FormatArrayIndices(Array("0-15:4").indices), "0,4,8,12");
  EXPECT_EQ(FormatArrayIndices(Array("1-100%10").indices), "1-100");
}

// ---- Patterns ----------------------------------------------------------------------------------

PatternFields ArrayTask() {
  PatternFields f;
  f.job_id = 1042;
  f.array_job_id = 1000;
  f.array_task_id = 7;
  f.job_name = "sweep";
  f.node = "node03";
  f.user = "alice";
  return f;
}

std::string ExpandForTask(std::string_view pattern) { return ExpandPattern(pattern, ArrayTask()); }

TEST(ExpandPatternTest, AllSpecifiers) {
  EXPECT_EQ(ExpandForTask("out/%x-%A_%a.out"), "out/sweep-1000_7.out");
  EXPECT_EQ(ExpandForTask("%j %J %N %u %%"), "1042 1042 node03 alice %");
  EXPECT_EQ(ExpandForTask("slurm-%j.out"), "slurm-1042.out");
  EXPECT_EQ(ExpandForTask("plain"), "plain");
  EXPECT_EQ(ExpandForTask(""), "");
  EXPECT_EQ(ExpandForTask("%%j"), "%j");
  EXPECT_EQ(ExpandForTask("%%%j"), "%1042");
}

TEST(ExpandPatternTest, NonArrayJob) {
  PatternFields f;
  f.job_id = 55;
  f.array_job_id = 99;  // ignored: not an array task
  EXPECT_EQ(ExpandPattern("%A_%a", f), "55_4294967294");
}

TEST(ExpandPatternTest, ZeroPadding) {
  EXPECT_EQ(ExpandForTask("%5a"), "00007");
  EXPECT_EQ(ExpandForTask("%3j"), "1042");  // wider values are not cut
  EXPECT_EQ(ExpandForTask("%6A-%2a"), "001000-07");
  EXPECT_EQ(ExpandForTask("%0a"), "7");
  EXPECT_EQ(ExpandForTask("%20a"), "0000000007");                 // clamped to 10
  EXPECT_EQ(ExpandForTask("%5x_%3N_%4u"), "sweep_node03_alice");  // width ignored
}

TEST(ExpandPatternTest, UnknownAndTrailingKeptLiterally) {
  EXPECT_EQ(ExpandForTask("%q.%3q"), "%q.%3q");
  EXPECT_EQ(ExpandForTask("a%"), "a%");
  EXPECT_EQ(ExpandForTask("a%7"), "a%7");
  EXPECT_EQ(ExpandForTask("%5%j"), "%51042");
}

TEST(ExpandPatternTest, BackslashDisablesExpansion) {
  EXPECT_EQ(ExpandForTask("out\\%j.log"), "out%j.log");
  EXPECT_EQ(ExpandForTask("a\\b%x"), "ab%x");
}

// ---- Memory ------------------------------------------------------------------------------------

int64_t Mem(std::string_view text) {
  Result<int64_t> r = ParseMemoryMb(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : -1;
}

TEST(ParseMemoryMbTest, Units) {
  EXPECT_EQ(Mem("100"), 100);
  EXPECT_EQ(Mem("100M"), 100);
  EXPECT_EQ(Mem("100m"), 100);
  EXPECT_EQ(Mem("100MB"), 100);
  EXPECT_EQ(Mem("2G"), 2048);
  EXPECT_EQ(Mem("2gb"), 2048);
  EXPECT_EQ(Mem("1T"), 1024 * 1024);
  EXPECT_EQ(Mem("1024K"), 1);
  EXPECT_EQ(Mem("1025k"), 2);  // rounded up
  EXPECT_EQ(Mem("1K"), 1);
  EXPECT_EQ(Mem("0"), 0);  // all the node's memory
}

TEST(ParseMemoryMbTest, Rejects) {
  for (const char* text : {"", "-1", "+5", "abc", "1.5G", "10X", "10 G", "10GG", "10B", "G",
                           "99999999999999999999", "9999999999999999T"}) {
    ExpectRejected(ParseMemoryMb(text).status(), text);
  }
}

}  // namespace
}  // namespace swell
