#include "cli/scontrol_update.h"

#include <gtest/gtest.h>

namespace swell::cli::slurm {
namespace {

const Time kNow = FromMillis(1'700'000'000'000);

TEST(ScontrolUpdateTest, KeysAbbreviateAndTakeTheirValues) {
  auto u = ParseJobUpdate({"jobid=12,13_4", "TimeLimit=1:30:00", "Part=gpu", "Name=x", "Nice=5",
                           "NumCPUs=4", "Comment", "hello there", "Requeue=1", "Dependency="},
                          kNow);
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_EQ(u->job_ids, (std::vector<std::string>{"12", "13_4"}));
  EXPECT_EQ(u->update.time_limit_ms(), 5'400'000);
  EXPECT_EQ(u->update.partition(), "gpu");
  EXPECT_EQ(u->update.name(), "x");
  EXPECT_EQ(u->update.nice(), 5);
  EXPECT_EQ(u->update.num_cpus(), 4);
  EXPECT_EQ(u->update.comment(), "hello there");
  EXPECT_TRUE(u->update.requeue());
  EXPECT_TRUE(u->update.set_dependency());
  EXPECT_EQ(u->update.dependency().terms_size(), 0) << "Dependency= clears it";
  EXPECT_FALSE(u->update.has_begin_time_ms());

  auto more = ParseJobUpdate({"JobName=y", "JobId=7", "TimeLimit=UNLIMITED", "Dependency=afterok:5",
                              "StartTime=now+1hour"},
                             kNow);
  ASSERT_TRUE(more.ok()) << more.status().message();
  EXPECT_EQ(more->update.name(), "y") << "JobName= renames when JobId is given";
  EXPECT_TRUE(more->update.has_time_limit_ms());
  EXPECT_EQ(more->update.time_limit_ms(), 0);
  EXPECT_EQ(more->update.dependency().terms(0).type(), "afterok");
  EXPECT_EQ(more->update.begin_time_ms(), ToMillis(kNow) + 3'600'000);
}

TEST(ScontrolUpdateTest, RelativeTimeLimits) {
  auto plus = ParseJobUpdate({"JobId=3", "TimeLimit=+10"}, kNow);
  ASSERT_TRUE(plus.ok());
  EXPECT_EQ(plus->time_delta_ms, 600'000);
  EXPECT_FALSE(plus->update.has_time_limit_ms());
  auto minus = ParseJobUpdate({"JobId=3", "TimeLimit-=10"}, kNow);
  ASSERT_TRUE(minus.ok());
  EXPECT_EQ(minus->time_delta_ms, -600'000);
  EXPECT_EQ(ParseJobUpdate({"TimeLimit=+10", "JobId=3"}, kNow).status().message(),
            "scontrol: error: JobId must precede TimeLimit increment or decrement");
}

TEST(ScontrolUpdateTest, SlurmsMessagesForBadWords) {
  auto msg = [](std::vector<std::string> w) { return ParseJobUpdate(w, kNow).status().message(); };
  EXPECT_EQ(msg({"JobId=3", "TimeLimit=soon"}), "scontrol: error: Invalid TimeLimit value");
  EXPECT_EQ(msg({"JobId=3", "NumCPUs=0"}), "scontrol: error: Invalid NumCPUs value: 0");
  EXPECT_EQ(msg({"JobId=3", "Bogus=1"}),
            "Update of this parameter is not supported: Bogus=1\nRequest aborted");
  EXPECT_EQ(msg({"JobId=3", "Partition"}), "Invalid input: Partition\nRequest aborted");
  EXPECT_EQ(msg({"JobId=3"}), "No changes specified");
  EXPECT_EQ(msg({"Name=x"}), "scontrol: error: No job ID specified");
  EXPECT_EQ(msg({"JobId=3", "Nice=99999999999"}),
            "scontrol: error: Nice value out of range (+/- 2147483645). Value ignored");
  EXPECT_EQ(msg({"JobId=3", "Comment+=x"}),
            "scontrol: error: Option Comment does not accept [+|-]= syntax");
  EXPECT_EQ(msg({"JobId=3", "N=1"}),
            "Update of this parameter is not supported: N=1\nRequest aborted")
      << "too short to name a key";
  auto bad_dep = ParseJobUpdate({"JobId=3", "Dependency=whenever:3"}, kNow);
  ASSERT_TRUE(bad_dep.ok()) << "the controller judges a dependency";
  EXPECT_TRUE(bad_dep->bad_dependency);
}

}  // namespace
}  // namespace swell::cli::slurm
