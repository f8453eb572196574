#include "cli/job_state.h"

#include <gtest/gtest.h>

#include "cli/slurm_view_testing.h"

namespace swell::cli::slurm {
namespace {

TEST_F(SlurmViewTest, JobStateNames) {
  EXPECT_EQ(JobStateCompact(pb::PENDING), "PD");
  EXPECT_EQ(JobStateCompact(pb::RUNNING), "R");
  EXPECT_EQ(JobStateCompact(pb::COMPLETED), "CD");
  EXPECT_EQ(JobStateCompact(pb::FAILED), "F");
  EXPECT_EQ(JobStateCompact(pb::CANCELLED), "CA");
  EXPECT_EQ(JobStateCompact(pb::TIMEOUT), "TO");
  EXPECT_EQ(JobStateCompact(pb::NODE_FAIL), "NF");
  EXPECT_EQ(JobStateName(pb::NODE_FAIL), "NODE_FAIL");
  EXPECT_EQ(JobStateName(pb::CANCELLED), "CANCELLED");
  EXPECT_EQ(JobStateCompact(pb::JOB_STATE_UNSPECIFIED), "?");
  EXPECT_EQ(JobStateName(pb::JOB_STATE_UNSPECIFIED), "UNKNOWN");
}

TEST_F(SlurmViewTest, ParseJobStates) {
  auto s = ParseJobStates("PD,r");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(**s, (std::set<std::string>{"PENDING", "RUNNING"}));
  EXPECT_EQ(**ParseJobStates("completed,CA,,to"),
            (std::set<std::string>{"COMPLETED", "CANCELLED", "TIMEOUT"}));
  EXPECT_EQ(**ParseJobStates("S,suspended"), (std::set<std::string>{"SUSPENDED"}));
  EXPECT_FALSE(ParseJobStates("all")->has_value());
  EXPECT_FALSE(ParseJobStates("ALL")->has_value());
  auto bad = ParseJobStates("PD,bogus");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "bogus");
}

}  // namespace
}  // namespace swell::cli::slurm
