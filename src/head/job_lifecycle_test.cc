#include "head/job_lifecycle.h"

#include <gtest/gtest.h>

namespace swell::head::lifecycle {
namespace {

// A job of `n` tasks, all pending (an array when `array`, a job of ranks when `ranks`).
Job MakeJob(int64_t n, bool array = false, bool ranks = false) {
  Job job;
  job.row.id = 100;
  job.row.task_count = n;
  job.row.state = pb::PENDING;
  if (array)
    for (int64_t i = 0; i < n; ++i) job.spec.add_array_indices(i);
  job.spec.set_launch_tasks(ranks);
  job.counts[pb::PENDING] = n;
  return job;
}

// Dispatches every task of `job` onto `node` in lease 7 and starts them at `ms`.
void RunAll(Job& job, const std::string& node, int64_t ms) {
  Changes c;
  while (auto t = TakeNext(job, 7, node, &c)) ASSERT_TRUE(Start(job, t->pos, ms, ms, &c));
}

pb::TaskReport Report(bool started) {
  pb::TaskReport r;
  r.set_started(started);
  return r;
}

TEST(JobLifecycleTest, TheJobStateFollowsItsTasks) {
  Job job = MakeJob(3, /*array=*/true);
  EXPECT_EQ(DerivedState(job), pb::PENDING);
  job.counts[pb::PENDING] = 2;
  job.counts[pb::COMPLETED] = 1;
  EXPECT_EQ(DerivedState(job), pb::RUNNING) << "an array part way through runs";
  job.counts[pb::PENDING] = 0;
  job.counts[pb::FAILED] = 1;
  job.counts[pb::TIMEOUT] = 1;
  EXPECT_EQ(DerivedState(job), pb::TIMEOUT);
  job.counts[pb::FAILED] = 0;
  job.counts[pb::NODE_FAIL] = 1;
  EXPECT_EQ(DerivedState(job), pb::NODE_FAIL);
  job.counts[pb::COMPLETED] = 0;
  job.counts[pb::CANCELLED] = 1;
  EXPECT_EQ(DerivedState(job), pb::CANCELLED) << "cancelled wins over the other failures";

  Job plain = MakeJob(1);
  plain.counts[pb::PENDING] = 0;
  plain.counts[pb::COMPLETED] = 1;
  EXPECT_EQ(DerivedState(plain), pb::COMPLETED);
}

TEST(JobLifecycleTest, StartAndEndAreStampedOnceWithTheirEvents) {
  Job job = MakeJob(2, /*array=*/true);
  Changes c;
  auto t0 = TakeNext(job, 7, "n1", &c);
  ASSERT_TRUE(t0.has_value());
  EXPECT_EQ(job.row.state, pb::PENDING) << "dispatched is not started";
  EXPECT_TRUE(Start(job, t0->pos, 1000, 1001, &c));
  EXPECT_FALSE(Start(job, t0->pos, 1000, 1001, &c)) << "a start counts once";
  EXPECT_EQ(job.row.state, pb::RUNNING);
  EXPECT_EQ(job.row.start_ms, 1001);
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].kind, "start");
  EXPECT_TRUE(c.state_changed);

  Changes d;
  Finish(job, t0->pos, pb::COMPLETED, 0, 0, 2000, &d);
  EXPECT_EQ(job.row.state, pb::RUNNING) << "the other task has not run yet";
  EXPECT_TRUE(d.events.empty());
  ASSERT_EQ(d.left.size(), 1u);
  EXPECT_FALSE(d.left[0].requeued);
  EXPECT_EQ(d.left[0].task.lease, 7);
  auto t1 = TakeNext(job, 7, "n1", &d);
  ASSERT_TRUE(t1.has_value());
  EXPECT_EQ(t1->pos, 1);
  Finish(job, t1->pos, pb::FAILED, 3, 0, 3000, &d);
  EXPECT_EQ(job.row.state, pb::FAILED);
  EXPECT_EQ(job.row.end_ms, 3000);
  EXPECT_EQ(job.row.exit_code, 3) << "the job's exit code is its tasks' highest";
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].kind, "end");
  EXPECT_EQ(d.events[0].detail, "FAILED");
  // The end row carries the start taken at the end (it never reported one) and the end.
  const auto& row = d.task_rows.back();
  EXPECT_EQ(row.state, pb::FAILED);
  EXPECT_EQ(row.start_ms, 3000);
  EXPECT_EQ(row.end_ms, 3000);
  EXPECT_EQ(row.node, "n1");
  EXPECT_FALSE(TakeNext(job, 7, "n1", &d).has_value());
}

// Its node reported the start and the end together: the job still has its start time.
TEST(JobLifecycleTest, AJobWhoseTaskStartedAndEndedInOneReportHasItsStart) {
  Job job = MakeJob(1);
  Changes c;
  auto t = TakeNext(job, 7, "n1", &c);
  MarkStarted(job, t->pos, 500);
  Finish(job, t->pos, pb::COMPLETED, 0, 0, 900, &c);
  EXPECT_EQ(job.row.state, pb::COMPLETED);
  EXPECT_EQ(job.row.start_ms, 500);
  EXPECT_EQ(job.row.end_ms, 900);
  ASSERT_EQ(c.events.size(), 2u);
  EXPECT_EQ(c.events[0].kind, "start");
  EXPECT_EQ(c.events[1].kind, "end");
}

TEST(JobLifecycleTest, ARequeuedTaskRunsAgainFirstAsItsNextAttempt) {
  Job job = MakeJob(3, /*array=*/true);
  Changes c;
  auto t0 = TakeNext(job, 7, "n1", &c);
  ASSERT_TRUE(Start(job, t0->pos, 10, 10, &c));
  Requeue(job, t0->pos, /*count_restart=*/true, 20, &c);
  EXPECT_EQ(job.row.restarts, 1);
  EXPECT_EQ(job.row.state, pb::PENDING) << "nothing runs any more";
  EXPECT_EQ(job.counts[pb::PENDING], 3);
  EXPECT_EQ(job.undispatched(), 3);
  ASSERT_EQ(c.left.size(), 1u);
  EXPECT_TRUE(c.left[0].requeued);
  const auto& row = c.task_rows.back();
  EXPECT_EQ(row.attempt, 1);
  EXPECT_TRUE(row.node.empty());
  auto again = TakeNext(job, 8, "n2", &c);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->pos, 0);
  EXPECT_EQ(again->attempt, 1);
  EXPECT_EQ(TakeNext(job, 8, "n2", &c)->pos, 1) << "then the never dispatched";
}

TEST(JobLifecycleTest, ATaskWhoseCancelWasAskedEndsInsteadOfRunningAgain) {
  Job job = MakeJob(2, /*array=*/true);
  RunAll(job, "n1", 5);
  Changes c;
  auto live = CancelPosition(job, 1, 6, &c);
  ASSERT_TRUE(live.has_value());
  EXPECT_TRUE(live->cancel_requested);
  EXPECT_TRUE(c.task_rows.back().cancel_requested) << "the request is durable";
  Requeue(job, 1, true, 7, &c);  // its node went away before confirming
  EXPECT_EQ(job.counts[pb::CANCELLED], 1);
  EXPECT_EQ(job.row.restarts, 0);
  EXPECT_TRUE(job.requeued.empty());
  EXPECT_EQ(c.task_rows.back().state, pb::CANCELLED);
}

TEST(JobLifecycleTest, CancellingTheRestEndsWhatWaitsAndDispatchesNothingMore) {
  Job job = MakeJob(5, /*array=*/true);
  Changes c;
  auto t0 = TakeNext(job, 7, "n1", &c);
  auto t1 = TakeNext(job, 7, "n1", &c);
  ASSERT_TRUE(Start(job, t1->pos, 1, 1, &c));
  Requeue(job, t0->pos, false, 2, &c);  // back in the queue
  Changes d;
  CancelUndispatched(job, 3, &d);
  EXPECT_EQ(job.counts[pb::CANCELLED], 4) << "queued, requeued and never dispatched";
  EXPECT_EQ(job.counts[pb::RUNNING], 1);
  EXPECT_EQ(job.undispatched(), 0);
  EXPECT_TRUE(job.row.rest_cancelled);
  EXPECT_EQ(job.row.state, pb::RUNNING) << "until the running task confirms";
  ASSERT_EQ(d.task_rows.size(), 1u) << "the requeued one gets its row; the rest stay implicit";
  EXPECT_EQ(d.task_rows[0].attempt, 1);
  EXPECT_FALSE(TakeNext(job, 7, "n1", &d).has_value());
  Finish(job, t1->pos, pb::CANCELLED, 0, 0, 4, &d);
  EXPECT_EQ(job.row.state, pb::CANCELLED);
}

TEST(JobLifecycleTest, CancellingOneQueuedArrayTaskSkipsIt) {
  Job job = MakeJob(3, /*array=*/true);
  Changes c;
  EXPECT_FALSE(CancelPosition(job, 1, 5, &c).has_value());
  EXPECT_EQ(job.counts[pb::CANCELLED], 1);
  EXPECT_EQ(TakeNext(job, 7, "n1", &c)->pos, 0);
  EXPECT_EQ(TakeNext(job, 7, "n1", &c)->pos, 2) << "the cancelled position is skipped";
  EXPECT_FALSE(TakeNext(job, 7, "n1", &c).has_value());
}

TEST(JobLifecycleTest, NodeReportsAreJudgedAsSlurmWould) {
  Job job = MakeJob(1);
  RunAll(job, "n1", 1);
  const Task& t = job.live.at(0);
  EXPECT_EQ(Judge(job, t, Report(true), true, false).outcome, Outcome::kIgnore);
  auto end = Report(false);
  EXPECT_EQ(Judge(job, t, end, true, false).state, pb::COMPLETED);
  end.set_exit_code(2);
  EXPECT_EQ(Judge(job, t, end, true, false).state, pb::FAILED);
  end.set_exit_code(0);
  end.set_error("no such user");
  EXPECT_EQ(Judge(job, t, end, true, false).state, pb::FAILED);
  end.clear_error();
  end.set_timed_out(true);
  EXPECT_EQ(Judge(job, t, end, true, false).state, pb::TIMEOUT);
  end.set_cancelled(true);
  EXPECT_EQ(Judge(job, t, end, true, false).state, pb::CANCELLED);
  auto lost = Report(false);
  lost.set_node_failed(true);
  EXPECT_EQ(Judge(job, t, lost, true, false).state, pb::NODE_FAIL);
  EXPECT_EQ(Judge(job, t, lost, true, true).outcome, Outcome::kRequeueCounted)
      << "a preempted spot node's work runs again";
  auto back = Report(false);
  back.set_requeue(true);
  EXPECT_EQ(Judge(job, t, back, true, false).outcome, Outcome::kRequeue);

  Job world = MakeJob(4, false, /*ranks=*/true);
  RunAll(world, "n1", 1);
  EXPECT_EQ(Judge(world, world.live.at(2), lost, true, false).outcome, Outcome::kLoseAllocation);
  EXPECT_EQ(Judge(world, world.live.at(2), lost, false, false).state, pb::NODE_FAIL)
      << "once its allocation is gone, a rank ends on its own";
}

TEST(JobLifecycleTest, ALostNodeEndsOrRequeuesEachTaskOfTheAllocation) {
  Job job = MakeJob(3, /*array=*/true);
  Changes c;
  auto a = TakeNext(job, 7, "n1", &c);
  auto b = TakeNext(job, 7, "n1", &c);
  auto d = TakeNext(job, 7, "n2", &c);
  ASSERT_TRUE(Start(job, a->pos, 1, 1, &c));
  ASSERT_TRUE(Start(job, d->pos, 1, 1, &c));
  auto loss = LoseAllocation(job, {0, 1, 2}, "n1", "n1", false, false);
  ASSERT_EQ(loss.tasks.size(), 3u);
  EXPECT_EQ(loss.tasks[0].second.state, pb::NODE_FAIL) << "a started task fails with its node";
  EXPECT_EQ(loss.tasks[1].second.outcome, Outcome::kRequeue) << "one not started runs again";
  EXPECT_EQ(loss.tasks[2].second.state, pb::NODE_FAIL);
  ASSERT_EQ(loss.cancels.size(), 1u) << "only the other node gets a cancel";
  EXPECT_EQ(loss.cancels.at("n2").positions(0), 2);
  EXPECT_FALSE(loss.world_requeues);
  job.spec.set_requeue(true);
  loss = LoseAllocation(job, {0, 1, 2}, "n1", "n1", false, false);
  EXPECT_EQ(loss.tasks[0].second.outcome, Outcome::kRequeueCounted) << "--requeue";
}

TEST(JobLifecycleTest, AJobOfRanksIsOneWorldWhenANodeIsLost) {
  Job job = MakeJob(4, false, /*ranks=*/true);
  Changes c;
  for (const char* n : {"n1", "n1", "n2", "n2"}) {
    auto t = TakeNext(job, 7, n, &c);
    ASSERT_TRUE(Start(job, t->pos, 1, 1, &c));
  }
  Finish(job, 0, pb::COMPLETED, 0, 0, 2, &c);  // rank 0 ended before the loss
  std::vector<int64_t> positions = {1, 2, 3};
  auto fails = LoseAllocation(job, positions, "n1", "n2", false, false);
  EXPECT_FALSE(fails.world_requeues);
  for (const auto& [pos, v] : fails.tasks) EXPECT_EQ(v.state, pb::NODE_FAIL) << pos;
  EXPECT_EQ(fails.cancels.at("n1").positions_size(), 1) << "rank 1 on the surviving node";

  auto again = LoseAllocation(job, positions, "n1", "n2", /*requeue_world=*/true, false);
  ASSERT_TRUE(again.world_requeues);
  EXPECT_EQ(again.tasks[0].second.outcome, Outcome::kRequeueCounted) << "one restart counted";
  EXPECT_EQ(again.tasks[1].second.outcome, Outcome::kRequeue);
  for (const auto& [pos, v] : again.tasks)
    Requeue(job, pos, v.outcome == Outcome::kRequeueCounted, 3, &c);
  job.row.exit_code = 9;
  RequeueEndedRanks(
      job,
      [](int64_t pos) -> std::optional<state::TaskRow> {
        state::TaskRow r;
        r.pos = pos;
        r.state = pb::COMPLETED;
        r.attempt = 0;
        return r;
      },
      &c);
  ASSERT_EQ(job.requeued.size(), 4u);
  for (int64_t i = 0; i < 4; ++i) EXPECT_EQ(job.requeued[static_cast<size_t>(i)].first, i);
  EXPECT_EQ(job.requeued[0].second, 1) << "rank 0 runs as its next attempt";
  EXPECT_EQ(job.counts[pb::PENDING], 4);
  EXPECT_EQ(job.row.exit_code, 0) << "the new world's exit code starts afresh";
  EXPECT_EQ(job.row.restarts, 1);
}

TEST(JobLifecycleTest, AFinishedTaskRowKeepsWhatItUsed) {
  Job job = MakeJob(1);
  RunAll(job, "n1", 10);
  Changes c;
  Finish(job, 0, pb::FAILED, 3, 0, 20, &c, Usage{4096, 1'200'000, 300'000});
  ASSERT_EQ(c.task_rows.size(), 1u);
  const state::TaskRow& row = c.task_rows[0];
  EXPECT_EQ(row.state, pb::FAILED);
  EXPECT_EQ(row.exit_code, 3);
  EXPECT_EQ(row.max_rss_kb, 4096);
  EXPECT_EQ(row.user_cpu_us, 1'200'000);
  EXPECT_EQ(row.sys_cpu_us, 300'000);
  EXPECT_EQ(job.row.state, pb::FAILED);
}

TEST(JobLifecycleTest, TheWarningSignalIsDueItsSecondsBeforeTheTimeLimit) {
  Job job = MakeJob(1);
  job.spec.set_time_limit_ms(600'000);
  Task task;
  task.started = true;
  task.start_ms = 1'000'000;
  EXPECT_FALSE(WarnAtMs(job.spec, task)) << "no --signal, no warning";
  job.spec.set_signal(10);  // SIGUSR1
  job.spec.set_signal_seconds(90);
  EXPECT_EQ(WarnAtMs(job.spec, task), 1'000'000 + 600'000 - 90'000);
  task.started = false;
  EXPECT_FALSE(WarnAtMs(job.spec, task)) << "not before it starts";
  task.started = true;
  job.spec.set_time_limit_ms(0);
  EXPECT_FALSE(WarnAtMs(job.spec, task)) << "no time limit, nothing to warn of";
}

TEST(JobLifecycleTest, AJobThatCannotMeetItsDeadlineEndsDeadline) {
  Job job = MakeJob(3, /*array=*/true);
  job.spec.set_deadline_ms(100'000);
  job.spec.set_time_limit_ms(60'000);
  EXPECT_FALSE(MissesDeadline(job.spec, 40'000)) << "it can still end by then";
  EXPECT_TRUE(MissesDeadline(job.spec, 40'001));
  job.spec.set_time_min_ms(10'000);
  EXPECT_FALSE(MissesDeadline(job.spec, 90'000)) << "--time-min is what must fit";
  job.spec.clear_time_limit_ms();
  job.spec.clear_time_min_ms();
  EXPECT_FALSE(MissesDeadline(job.spec, 99'999)) << "no limit: it may start until the deadline";
  job.spec.set_time_limit_ms(60'000);

  Changes c;
  auto t = TakeNext(job, 7, "n1", &c);
  ASSERT_TRUE(Start(job, t->pos, 1'000, 1'000, &c));
  CancelUndispatched(job, 50'000, &c, pb::DEADLINE);
  EXPECT_EQ(job.counts[pb::DEADLINE], 2);
  // The running one is ended at the deadline: its node reports it cancelled.
  job.live[t->pos].past_deadline = true;
  pb::TaskReport ended = Report(false);
  ended.set_cancelled(true);
  Verdict v = Judge(job, job.live[t->pos], ended, true, false);
  EXPECT_EQ(v.state, pb::DEADLINE);
  Finish(job, t->pos, v.state, 0, 15, 100'000, &c);
  EXPECT_EQ(job.row.state, pb::DEADLINE);
}

}  // namespace
}  // namespace swell::head::lifecycle
