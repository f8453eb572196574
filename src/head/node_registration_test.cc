#include "head/node_registration.h"

#include <gtest/gtest.h>

#include "head/job_model_testing.h"

namespace swell::head {
namespace {

pb::TaskKey Key(int64_t job, int64_t pos, int attempt) {
  pb::TaskKey k;
  k.set_job_id(job);
  k.set_pos(pos);
  k.set_attempt(attempt);
  return k;
}

using testing::AddLiveJob;

TEST(NodeRegistrationTest, WhatTheHeadAndTheNodeDisagreeOnIsSettled) {
  std::map<int64_t, Job> jobs;
  std::map<int64_t, Lease> leases;
  AddLiveJob(jobs, leases, 1, {{0, "n1"}, {1, "n1"}, {2, "n1"}});
  AddLiveJob(jobs, leases, 2, {{0, "n2"}});  // another node's: none of n1's business
  jobs[1].live[2].cancel_requested = true;

  pb::Register reg;
  reg.set_name("n1");
  *reg.add_running() = Key(1, 0, 1);  // current
  *reg.add_running() = Key(1, 1, 0);  // an earlier attempt: the head requeued it since
  *reg.add_queued() = Key(9, 0, 0);   // a job the head no longer has
  *reg.add_unacked()->mutable_key() = Key(1, 2, 1);  // ended, its report not yet acked
  auto s = SettleRegistration(reg, jobs, leases);

  ASSERT_EQ(s.kill.size(), 2u);
  EXPECT_EQ(s.kill[0].pos(), 1);
  EXPECT_EQ(s.kill[1].job_id(), 9);
  ASSERT_EQ(s.lost.size(), 1u) << "attempt 1 of task 1 never reached the node";
  EXPECT_EQ(s.lost[0], (std::pair<int64_t, int64_t>{1, 1}));
  ASSERT_EQ(s.cancels.size(), 1u) << "its cancel is sent again";
  EXPECT_EQ(s.cancels[0].job_id(), 1);
  ASSERT_EQ(s.cancels[0].positions_size(), 1);
  EXPECT_EQ(s.cancels[0].positions(0), 2);
  EXPECT_EQ(s.cancels[0].attempts(0), 1);
}

TEST(NodeRegistrationTest, ARankIsJudgedByItsOwnNode) {
  std::map<int64_t, Job> jobs;
  std::map<int64_t, Lease> leases;
  AddLiveJob(jobs, leases, 5, {{0, "n1"}, {1, "n2"}}, /*ranks=*/true);
  pb::Register reg;
  reg.set_name("n2");  // registers with nothing: its rank never arrived
  auto s = SettleRegistration(reg, jobs, leases);
  ASSERT_EQ(s.lost.size(), 1u);
  EXPECT_EQ(s.lost[0].second, 1) << "rank 0 is n1's, not lost";
  jobs[5].row.rest_cancelled = true;
  *reg.add_running() = Key(5, 1, 1);
  s = SettleRegistration(reg, jobs, leases);
  EXPECT_TRUE(s.lost.empty());
  ASSERT_EQ(s.cancels.size(), 1u) << "a cancelled job's rank ends";
}

TEST(NodeRegistrationTest, ALeaseIsOnEveryNodeItsUnitsShare) {
  std::map<int64_t, Lease> leases;
  leases[1].id = 1;
  leases[1].node = "n1";
  leases[1].units = {{Share{"n1", 1, {}}, Share{"n2", 1, {}}}};
  leases[2].id = 2;
  leases[2].node = "n2";
  leases[3].id = 3;
  leases[3].node = "n3";
  EXPECT_EQ(LeasesOnNode(leases, "n2"), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(LeasesOnNode(leases, "n1"), (std::vector<int64_t>{1}));
  EXPECT_TRUE(LeasesOnNode(leases, "n4").empty());
}

}  // namespace
}  // namespace swell::head
