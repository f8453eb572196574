#include "cli/slurm_values.h"

#include <gtest/gtest.h>

#include <csignal>

namespace swell::cli {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(SlurmTimeLimitTest, SlurmForms) {
  EXPECT_EQ(SlurmTimeLimit("30"), minutes(30));
  EXPECT_EQ(SlurmTimeLimit("1:30"), minutes(1) + seconds(30));
  EXPECT_EQ(SlurmTimeLimit("2:00:00"), hours(2));
  EXPECT_EQ(SlurmTimeLimit("1-"), hours(24));
  EXPECT_EQ(SlurmTimeLimit("1-2"), hours(26));
  EXPECT_EQ(SlurmTimeLimit("1-2:30"), hours(26) + minutes(30));
  EXPECT_EQ(SlurmTimeLimit("1-2:30:05"), hours(26) + minutes(30) + seconds(5));
  // Fields are not bounded: 00-24:00 is a day, 90 minutes is 90 minutes.
  EXPECT_EQ(SlurmTimeLimit("00-24:00"), hours(24));
  EXPECT_EQ(SlurmTimeLimit("0:90:00"), minutes(90));
  EXPECT_EQ(SlurmTimeLimit("72:00:00"), hours(72));
  // No limit: zero, -1, INFINITE, UNLIMITED.
  for (const char* text : {"0", "00:00:00", "0-0", "-1", "infinite", "UNLIMITED"})
    EXPECT_EQ(SlurmTimeLimit(text), kInfinite) << text;
}

TEST(SlurmTimeLimitTest, RejectsWhatSlurmRejects) {
  for (const char* text : {"", "abc", "1:xx", "1h", "1-2-3", "1:2:3:4", "1-2:3:4:5", ":", "1:",
                           "-5", "1 "})
    EXPECT_FALSE(SlurmTimeLimit(text).has_value()) << text;
  // Past a 32-bit count of seconds, as Slurm's int fields: refused, never wrapped, overflowed
  // (fuzz/sbatch_fuzzer found "4888888888888888888:0") or read as 0, which is UNLIMITED.
  for (const char* text : {"4888888888888888888:0", "99999999999999999999", "2147483648",
                           "1-99999999999999999999", "0:0:99999999999999999999", "35791395"})
    EXPECT_FALSE(SlurmTimeLimit(text).has_value()) << text;
  EXPECT_EQ(SlurmTimeLimit("35791394"), minutes(35791394));  // the largest in 2^31 - 1 seconds
}

TEST(SlurmMegabytesTest, Suffixes) {
  EXPECT_EQ(SlurmMegabytes("100"), 100);
  EXPECT_EQ(SlurmMegabytes("100M"), 100);
  EXPECT_EQ(SlurmMegabytes("2G"), 2048);
  EXPECT_EQ(SlurmMegabytes("2gb"), 2048);
  EXPECT_EQ(SlurmMegabytes("1T"), 1024 * 1024);
  EXPECT_EQ(SlurmMegabytes("1500K"), 2);  // rounds up
  EXPECT_EQ(SlurmMegabytes("0"), 0);
  // Past int64 megabytes: refused, never wrapped (fuzz/sbatch_fuzzer).
  for (const char* text : {"30720020480000000G", "9007199254740993T", "9223372036854775807G"})
    EXPECT_FALSE(SlurmMegabytes(text).has_value()) << text;
  EXPECT_EQ(SlurmMegabytes("9223372036854775807K"), 9007199254740992);
  EXPECT_EQ(SlurmMegabytes("8796093022207T"), int64_t{8796093022207} * 1024 * 1024);
  for (const char* text : {"", "G", "-1", "2X", "2GB ", "2GiB", "1.5G"})
    EXPECT_FALSE(SlurmMegabytes(text).has_value()) << text;
}

TEST(SlurmIntTest, ParseIntMessages) {
  EXPECT_EQ(SlurmInt("--ntasks", "4", true).value(), 4);
  EXPECT_EQ(SlurmInt("--ntasks", "0", true).status().message(),
            "error: Invalid numeric value \"0\" for --ntasks.");
  EXPECT_EQ(SlurmInt("--kill-on-bad-exit", "0", false).value(), 0);
  EXPECT_FALSE(SlurmInt("--ntasks", "4x", true).ok());
  EXPECT_FALSE(SlurmInt("--ntasks", "", true).ok());
}

TEST(ParseSignalSpecTest, Forms) {
  EXPECT_EQ(ParseSignalSpec("USR1", true), (SignalSpec{SIGUSR1, 60, false}));
  EXPECT_EQ(ParseSignalSpec("SIGUSR2@120", true), (SignalSpec{SIGUSR2, 120, false}));
  EXPECT_EQ(ParseSignalSpec("B:TERM@30", true), (SignalSpec{SIGTERM, 30, true}));
  EXPECT_EQ(ParseSignalSpec("10", true), (SignalSpec{10, 60, false}));
  EXPECT_EQ(ParseSignalSpec("R:usr1", true), (SignalSpec{SIGUSR1, 60, false}));
  // B: is sbatch's alone.
  EXPECT_FALSE(ParseSignalSpec("B:USR1", false).has_value());
  EXPECT_EQ(ParseSignalSpec("USR1@", true), (SignalSpec{SIGUSR1, 0, false}));  // strtol of ""
  for (const char* text : {"", "NOPE", "USR1@x", "USR1@70000", "0"})
    EXPECT_FALSE(ParseSignalSpec(text, true).has_value()) << text;
}

TEST(ParseMailTypeTest, KnownWords) {
  EXPECT_EQ(ParseMailType("begin,end"), "BEGIN,END");
  EXPECT_EQ(ParseMailType("ALL"), "ALL");
  EXPECT_EQ(ParseMailType("FAIL,bogus"), "FAIL");  // unknown words are skipped, as in Slurm
  EXPECT_EQ(ParseMailType("NONE"), "NONE");
  EXPECT_EQ(ParseMailType("TIME_LIMIT_90"), "TIME_LIMIT_90");
  EXPECT_FALSE(ParseMailType("bogus").has_value());
  EXPECT_FALSE(ParseMailType("").has_value());
}

TEST(GpuValuesTest, CountsAndGres) {
  EXPECT_EQ(ParseGpuCount("2").value(), 2);
  EXPECT_EQ(ParseGpuCount("a100:4").value(), 4);
  EXPECT_FALSE(ParseGpuCount("a:b:2").ok());
  EXPECT_EQ(ParseGpuCount("x").status().message(),
            "refused: Invalid generic resource (gres) specification");
  EXPECT_EQ(ParseGresGpus("gpu").value(), 1);
  EXPECT_EQ(ParseGresGpus("gpu:2").value(), 2);
  EXPECT_EQ(ParseGresGpus("gpu:v100:2").value(), 2);
  EXPECT_EQ(ParseGresGpus("gpu:v100").value(), 1);
  EXPECT_EQ(ParseGresGpus("gres:gpu:3").value(), 3);
  EXPECT_EQ(ParseGresGpus("none").value(), 0);
  EXPECT_FALSE(ParseGresGpus("mps:100").ok());  // not configured here
  EXPECT_FALSE(ParseGresGpus("gpu:v100:x").ok());
}

TEST(ConstraintFeaturesTest, Expressions) {
  EXPECT_EQ(ConstraintFeatures("ssd").value(), (std::vector<std::string>{"ssd"}));
  EXPECT_EQ(ConstraintFeatures("ssd&avx2").value(), (std::vector<std::string>{"ssd", "avx2"}));
  EXPECT_EQ(ConstraintFeatures("[rack1|rack2]").value(),
            (std::vector<std::string>{"rack1", "rack2"}));
  EXPECT_EQ(ConstraintFeatures("gpu*2&ib").value(), (std::vector<std::string>{"gpu", "ib"}));
  EXPECT_FALSE(ConstraintFeatures("").ok());
  EXPECT_FALSE(ConstraintFeatures("a b").ok());
  EXPECT_FALSE(ConstraintFeatures("*2").ok());
}

}  // namespace
}  // namespace swell::cli
