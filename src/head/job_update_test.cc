#include "head/job_update.h"

#include <gtest/gtest.h>

namespace swell::head::control {

using namespace slurm_refusal;  // Slurm's words
namespace {

const auto kAnyPartition = [](const std::string&) { return true; };
const auto kAnyJob = [](const std::string&) { return true; };

JobStatus St(pb::JobState s, bool has_pending = false) { return {s, has_pending}; }

TEST(JobControlTest, OwnersAndRootMayControlAJob) {
  EXPECT_TRUE(MayControl({1000}, 1000));
  EXPECT_TRUE(MayControl({0}, 1000));
  EXPECT_FALSE(MayControl({1001}, 1000));
}

TEST(JobControlTest, HoldAndReleaseOnlyWhilePending) {
  pb::JobSpec spec;
  EXPECT_EQ(Hold(&spec, St(pb::PENDING), true), "");
  EXPECT_TRUE(spec.hold());
  EXPECT_EQ(Hold(&spec, St(pb::PENDING), false), "");
  EXPECT_FALSE(spec.hold());
  EXPECT_EQ(Hold(&spec, St(pb::RUNNING), true), kNotPending);
  EXPECT_FALSE(spec.hold());
  EXPECT_EQ(Hold(&spec, St(pb::RUNNING, /*has_pending=*/true), true), "")
      << "an array's pending tasks can be held while others run";
  EXPECT_EQ(Hold(&spec, St(pb::COMPLETED), false), kFinished);
}

TEST(JobControlTest, UpdateFollowsSlurmsRulesAndIsAllOrNothing) {
  pb::JobSpec spec;
  spec.set_time_limit_ms(600'000);
  spec.set_ntasks(2);
  std::string name = "a";
  pb::JobUpdate u;
  u.set_time_limit_ms(1'200'000);
  u.set_name("b");
  u.set_num_cpus(3);
  u.set_nice(5);
  u.set_comment("c");
  u.set_begin_time_ms(10);
  EXPECT_EQ(Update(&spec, &name, St(pb::PENDING), u, {1000}, 5000, kAnyPartition, kAnyJob), "");
  EXPECT_EQ(spec.time_limit_ms(), 1'200'000);
  EXPECT_EQ(name, "b");
  EXPECT_EQ(spec.name(), "b");
  EXPECT_EQ(spec.cpus_per_task(), 2) << "3 cpus over 2 tasks: 2 each";
  EXPECT_EQ(spec.nice(), 5);
  EXPECT_EQ(spec.comment(), "c");
  EXPECT_EQ(spec.begin_time_ms(), 5000) << "a start in the past is now";

  // Running: a user may lower the limit, not raise it; pending-only fields are refused and
  // nothing else changes.
  pb::JobUpdate raise;
  raise.set_time_limit_ms(0);  // UNLIMITED
  EXPECT_EQ(Update(&spec, &name, St(pb::RUNNING), raise, {1000}, 0, kAnyPartition, kAnyJob),
            kAccessDenied);
  EXPECT_EQ(Update(&spec, &name, St(pb::RUNNING), raise, {0}, 0, kAnyPartition, kAnyJob), "");
  EXPECT_EQ(spec.time_limit_ms(), 0);
  pb::JobUpdate lower_and_move;
  lower_and_move.set_time_limit_ms(60'000);
  lower_and_move.set_partition("other");
  EXPECT_EQ(
      Update(&spec, &name, St(pb::RUNNING), lower_and_move, {1000}, 0, kAnyPartition, kAnyJob),
      kNotPending);
  EXPECT_EQ(spec.time_limit_ms(), 0) << "all or nothing";
  EXPECT_EQ(spec.partition(), "");

  pb::JobUpdate negative;
  negative.set_nice(-5);
  EXPECT_EQ(Update(&spec, &name, St(pb::PENDING), negative, {1000}, 0, kAnyPartition, kAnyJob),
            kAccessDenied);
  pb::JobUpdate bad;
  bad.set_partition("nope");
  EXPECT_EQ(Update(
                &spec, &name, St(pb::PENDING), bad, {1000}, 0,
                [](const std::string&) { return false; }, kAnyJob),
            kInvalidPartition);
  pb::JobUpdate huge;
  huge.set_num_cpus(2'104'931'144);
  EXPECT_EQ(Update(&spec, &name, St(pb::PENDING), huge, {0}, 0, kAnyPartition, kAnyJob),
            kBadCpus);
  pb::JobUpdate dep;
  dep.set_set_dependency(true);
  dep.mutable_dependency()->add_terms()->add_job_ids("99");
  EXPECT_EQ(Update(&spec, &name, St(pb::PENDING), dep, {1000}, 0, kAnyPartition,
                   [](const std::string&) { return false; }),
            kDependency);
  EXPECT_EQ(Update(&spec, &name, St(pb::PENDING), dep, {1000}, 0, kAnyPartition, kAnyJob), "");
  EXPECT_EQ(spec.dependency().terms(0).job_ids(0), "99");
  EXPECT_EQ(Update(&spec, &name, St(pb::FAILED), u, {0}, 0, kAnyPartition, kAnyJob), kFinished);
}

TEST(JobControlTest, RequeueNeedsABatchJobThatAsksForItAndIsNotPending) {
  pb::JobSpec spec;
  EXPECT_EQ(CheckRequeue(spec, St(pb::RUNNING)), kDisabled);
  spec.set_requeue(true);
  EXPECT_EQ(CheckRequeue(spec, St(pb::RUNNING)), "");
  EXPECT_EQ(CheckRequeue(spec, St(pb::COMPLETED)), "");
  EXPECT_EQ(CheckRequeue(spec, St(pb::PENDING)), kPending);
  spec.set_launch_tasks(true);
  EXPECT_EQ(CheckRequeue(spec, St(pb::RUNNING)), kBatchOnly);
}

TEST(JobControlTest, RequeueSendsEveryTaskBackAsItsNextAttempt) {
  // An array of 4: task 0 ended (attempt 2), task 1 runs (attempt 0), task 2 is queued again
  // (attempt 1), task 3 was never dispatched.
  Job job;
  job.row.id = 100;
  job.row.task_count = 4;
  job.row.next_pos = 3;
  job.row.state = pb::RUNNING;
  job.row.start_ms = 50;
  job.row.exit_code = 3;
  job.row.restarts = 1;
  for (int i = 0; i < 4; ++i) job.spec.add_array_indices(i);
  Task running;
  running.pos = 1;
  running.node = "n1";
  running.started = true;
  job.live[1] = running;
  job.requeued.push_back({2, 1});
  job.counts[pb::FAILED] = 1;
  job.counts[pb::RUNNING] = 1;
  job.counts[pb::PENDING] = 2;
  state::TaskRow ended;
  ended.job_id = 100;
  ended.pos = 0;
  ended.state = pb::FAILED;
  ended.attempt = 2;
  state::TaskRow live_row = ended;
  live_row.pos = 1;
  live_row.state = pb::RUNNING;
  live_row.attempt = 0;

  lifecycle::Changes c;
  auto cancel = RequeueWhole(job, {ended, live_row}, 1000, &c);
  ASSERT_EQ(cancel.size(), 1u);
  EXPECT_EQ(cancel[0].node, "n1");
  EXPECT_EQ(cancel[0].attempt, 0) << "the attempt the node runs is the one to end";
  ASSERT_EQ(job.requeued.size(), 4u);
  std::vector<std::pair<int64_t, int>> want = {{0, 3}, {1, 1}, {2, 1}, {3, 0}};
  using Queued = std::vector<std::pair<int64_t, int>>;
  EXPECT_EQ(Queued(job.requeued.begin(), job.requeued.end()), want);
  EXPECT_TRUE(job.live.empty());
  EXPECT_EQ(job.undispatched(), 4);
  EXPECT_EQ(job.counts[pb::PENDING], 4);
  EXPECT_EQ(job.counts[pb::FAILED], 0);
  EXPECT_EQ(job.row.state, pb::PENDING);
  EXPECT_EQ(job.row.start_ms, 0);
  EXPECT_EQ(job.row.exit_code, 0);
  EXPECT_EQ(job.row.restarts, 2);
  EXPECT_TRUE(job.row_dirty);
  ASSERT_EQ(c.task_rows.size(), 4u) << "every task's new attempt is written";
  for (const auto& r : c.task_rows) {
    EXPECT_EQ(r.state, pb::PENDING);
    EXPECT_TRUE(r.node.empty()) << "pending and not dispatched: how the store reloads it";
  }
  ASSERT_EQ(c.left.size(), 1u);
  EXPECT_TRUE(c.left[0].requeued);
}

TEST(JobControlTest, AFinishedJobReopensWithItsRow) {
  state::JobRow row;
  row.id = 7;
  row.state = pb::COMPLETED;
  row.task_count = 1;
  row.next_pos = 1;
  row.end_ms = 99;
  pb::JobSpec spec;
  spec.set_requeue(true);
  Job job = Reopened(row, spec);
  state::TaskRow done;
  done.job_id = 7;
  done.state = pb::COMPLETED;
  lifecycle::Changes c;
  EXPECT_TRUE(RequeueWhole(job, {done}, 5, &c).empty());
  EXPECT_EQ(job.row.state, pb::PENDING);
  EXPECT_EQ(job.row.end_ms, 0);
  EXPECT_EQ(job.row.restarts, 1);
  ASSERT_EQ(job.requeued.size(), 1u);
  EXPECT_EQ(job.requeued.front().second, 1);
  EXPECT_TRUE(job.Waits());
}

}  // namespace
}  // namespace swell::head::control
