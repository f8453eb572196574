#include "head/reconcile/reconcile.h"

#include <gtest/gtest.h>

#include <map>

namespace swell::head::reconcile {
namespace {

namespace as = autoscaler;
using std::chrono::seconds;

const Time kT0 = FromMillis(1'000'000);

WaitingJob Job(int64_t id, int cpus = 1, int64_t units = 1) {
  WaitingJob j;
  j.id = id;
  j.submit = kT0 + Duration(id);
  j.units = units;
  j.shape.cpus_per_task = cpus;
  return j;
}

Node StaticNode(const std::string& name, int cpus) { return {name, {cpus, 1024, 0}, -1, true}; }

std::map<int64_t, std::string> Reasons(const Plan& p) {
  std::map<int64_t, std::string> r;
  for (const auto& [id, reason] : p.reasons) r[id] = reason;
  return r;
}

std::vector<as::NodeType> Types() {
  as::NodeType small{"small", 2, 4096};
  as::NodeType big{"big", 8, 16384};
  as::NodeType spot{"spot", 2, 4096};
  spot.spot = true;
  spot.price_per_hour = 0.01;
  small.price_per_hour = 0.1;
  return {small, big, spot};
}

TEST(ReconcileTest, NodeRequestSpreadsTasksEvenly) {
  Shape s;
  s.ntasks = 5;
  s.cpus_per_task = 2;
  s.min_nodes = 2;
  s.mem_mb = 100;
  auto r = NodeRequest(s);
  EXPECT_EQ(r.cpus, 6);  // 3 tasks on the fuller node
  EXPECT_EQ(r.memory_mb, 100);
}

TEST(ReconcileTest, RoutesToNamedTypeOrSmallestUsableAndAvoidsSpotAfterPreemptions) {
  auto types = Types();
  Routing r{&types, {}, 2};
  WaitingJob j = Job(1);
  EXPECT_EQ(RouteJob(j, r), 2);  // of two equal shapes, the cheaper
  j.partition = "big";
  EXPECT_EQ(RouteJob(j, r), 1);
  j.partition = "nope";
  EXPECT_EQ(RouteJob(j, r), std::nullopt);
  // A list (a Slurm job's partitions): the first listed that is not backed off and fits.
  j.partition = "small,nope,big";
  EXPECT_EQ(RouteJob(j, r), 0);
  r.usable = {false, true, true};
  EXPECT_EQ(RouteJob(j, r), 1);
  r.usable = {false, false, true};  // none listed is usable: the first that fits
  EXPECT_EQ(RouteJob(j, r), 0);
  j.shape.cpus_per_task = 4;  // too big for small
  EXPECT_EQ(RouteJob(j, r), 1);
  j.shape.cpus_per_task = 1;
  r.usable.clear();
  j.partition.clear();
  j.shape.cpus_per_task = 4;
  EXPECT_EQ(RouteJob(j, r), 1);
  j.shape.cpus_per_task = 16;
  EXPECT_EQ(RouteJob(j, r), std::nullopt);

  j.shape.cpus_per_task = 1;
  j.restarts = 2;  // preempted too often: no spot
  EXPECT_EQ(RouteJob(j, r), 0);
  r.usable = {false, true, true};  // and small backed off: big
  EXPECT_EQ(RouteJob(j, r), 1);
  r.usable = {false, false, false};  // none left: the smallest that fits at all
  EXPECT_EQ(RouteJob(j, r), 2);
  EXPECT_EQ(RouteJob(j, Routing{}), std::nullopt);  // a static cluster has no types
}

TEST(ReconcileTest, GatesAndThrottlesHoldJobsWhateverTheResources) {
  std::string reason;
  WaitingJob j = Job(1, 1, 10);
  j.gate = "Dependency";
  EXPECT_FALSE(GroupOf(j, &reason));
  EXPECT_EQ(reason, "Dependency");
  j.gate.clear();
  j.max_running = 3;
  j.held = 3;
  EXPECT_FALSE(GroupOf(j, &reason));
  EXPECT_EQ(reason, kArrayTaskLimit);
  j.held = 1;
  auto g = GroupOf(j, &reason);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->units, 2);
  EXPECT_EQ(reason, "");
  j.max_running = 0;
  j.one_allocation = true;
  EXPECT_EQ(GroupOf(j, &reason)->units, 1);
}

TEST(ReconcileTest, SchedulesOnUsableNodesAndGivesReasons) {
  std::vector<Node> nodes = {StaticNode("a", 2), StaticNode("b", 2)};
  nodes[1].usable = false;  // draining
  std::vector<WaitingJob> jobs = {Job(1, 2), Job(2, 2), Job(3)};
  jobs[2].gate = "BeginTime";
  auto plan = Schedule(nodes, {}, jobs, Routing{}, kT0);
  ASSERT_EQ(plan.starts.size(), 1u);
  EXPECT_EQ(plan.starts[0].group, 1u);
  EXPECT_EQ(plan.starts[0].shares[0].node, 0);
  auto r = Reasons(plan);
  EXPECT_EQ(r[1], "");
  EXPECT_EQ(r[2], kResources);
  EXPECT_EQ(r[3], "BeginTime");
  ASSERT_TRUE(plan.top_blocked);
  EXPECT_EQ(std::get<2>(*plan.top_blocked), 2);

  // A job bound to a node that is not usable waits for it.
  WaitingJob w = Job(4);
  w.shape.require = {"b"};
  EXPECT_EQ(Reasons(Schedule(nodes, {}, {w}, Routing{}, kT0))[4], kReqNodeNotAvail);
  // No usable node at all: everything waits for resources, and no job blocks the others.
  nodes[0].usable = false;
  plan = Schedule(nodes, {}, {Job(5)}, Routing{}, kT0);
  EXPECT_EQ(Reasons(plan)[5], kResources);
  EXPECT_FALSE(plan.top_blocked);
}

// The plan says what changed: a job that keeps its reason is not listed again (a queue of
// 100,000 is mostly that), one whose reason changed is, and a gate is said every pass. Jobs
// handed over out of id order keep the lower id first among equals.
TEST(ReconcileTest, ReasonsAreTheChangesAndTheGates) {
  std::vector<Node> nodes = {StaticNode("a", 2)};
  std::vector<WaitingJob> jobs = {Job(4, 2), Job(3, 2), Job(2, 2), Job(1, 2)};
  for (auto& j : jobs) j.submit = kT0;
  jobs[0].reason = kResources;  // job 4: the pass before said so, and says so again
  jobs[1].gate = "BeginTime";   // job 3: its gate again
  jobs[1].reason = "BeginTime";
  jobs[2].reason = kPriority;  // job 2: nothing is free now, so Resources
  auto plan = Schedule(nodes, {Hold{0, {2, 0, 0}, kT0 + seconds(60)}}, jobs, Routing{}, kT0);
  EXPECT_TRUE(plan.starts.empty());
  EXPECT_EQ(Reasons(plan),
            (std::map<int64_t, std::string>{{1, kResources}, {2, kResources}, {3, "BeginTime"}}));
  ASSERT_TRUE(plan.top_blocked);
  EXPECT_EQ(std::get<2>(*plan.top_blocked), 1);
}

TEST(ReconcileTest, RunningWorkReleaseTimesMakeTheReservation) {
  // Node a: 1 of 2 cpus held until T0+100 s. Job 1 needs 2 cpus: it is reserved at +100 s.
  // Job 2 (1 cpu, 1000 s) would delay it: Priority. Job 3 (1 cpu, 50 s) backfills.
  std::vector<Node> nodes = {StaticNode("a", 2)};
  std::vector<Hold> holds = {{0, {1, 0, 0}, kT0 + seconds(100)}};
  std::vector<WaitingJob> jobs = {Job(1, 2), Job(2), Job(3)};
  jobs[1].shape.time_limit = seconds(1000);
  jobs[2].shape.time_limit = seconds(50);
  auto plan = Schedule(nodes, holds, jobs, Routing{}, kT0);
  ASSERT_EQ(plan.starts.size(), 1u);
  EXPECT_EQ(plan.starts[0].group, 3u);
  auto r = Reasons(plan);
  EXPECT_EQ(r[1], kResources);
  EXPECT_EQ(r[2], kPriority);
  EXPECT_TRUE(plan.priority_blocked);
  // Work with no limit: job 1 fits only once it ends, never; job 2 is not held back for it.
  holds[0].end = kNever;
  plan = Schedule(nodes, holds, jobs, Routing{}, kT0);
  ASSERT_EQ(plan.starts.size(), 1u);
  EXPECT_EQ(plan.starts[0].group, 2u);
}

TEST(ReconcileTest, ElasticJobsRunOnlyOnTheirTypesNodes) {
  auto types = Types();
  Routing routing{&types, {}, 2};
  std::vector<Node> nodes = {{"big-1", {8, 16384, 0}, 1, true}};
  // Job 1 routes to small (no node yet): Resources, and it is the top blocked job even though
  // job 2 starts on the big node.
  WaitingJob j2 = Job(2);
  j2.partition = "big";
  auto plan = Schedule(nodes, {}, {Job(1), j2}, routing, kT0);
  ASSERT_EQ(plan.starts.size(), 1u);
  EXPECT_EQ(plan.starts[0].group, 2u);
  EXPECT_EQ(Reasons(plan)[1], kResources);
  EXPECT_EQ(std::get<2>(*plan.top_blocked), 1);
}

TEST(ReconcileTest, DemandCountsWhatWaitsForResources) {
  auto types = Types();
  Routing routing{&types, {}, 2};
  std::vector<WaitingJob> jobs;
  jobs.push_back(Job(1, 1, 3));  // 3 units of 1 cpu
  WaitingJob gated = Job(2);
  gated.gate = "Dependency";
  jobs.push_back(gated);
  WaitingJob throttled = Job(3, 1, 10);
  throttled.max_running = 4;
  throttled.held = 1;  // 3 free slots
  jobs.push_back(throttled);
  WaitingJob full = throttled;
  full.id = 4;
  full.reason = kArrayTaskLimit;
  jobs.push_back(full);
  WaitingJob bound = Job(5);
  bound.shape.require = {"small-1"};
  jobs.push_back(bound);
  WaitingJob exclusive = Job(6);
  exclusive.shape.exclusive = true;
  exclusive.shape.time_limit = seconds(60);
  jobs.push_back(exclusive);
  WaitingJob ranks = Job(7, 1, 4);
  ranks.one_allocation = true;
  ranks.shape.ntasks = 4;
  ranks.shape.min_nodes = 2;
  jobs.push_back(ranks);
  auto pending = Demand(jobs, routing);
  std::map<int64_t, int> per_submit;
  for (const auto& p : pending) per_submit[ToMillis(p.submitted) - ToMillis(kT0)]++;
  EXPECT_EQ(per_submit[1], 3);
  EXPECT_EQ(per_submit.count(2), 0u);
  EXPECT_EQ(per_submit[3], 3);
  EXPECT_EQ(per_submit.count(4), 0u);
  EXPECT_EQ(per_submit.count(5), 0u);
  EXPECT_EQ(per_submit[6], 1);
  EXPECT_EQ(per_submit[7], 1);
  for (const auto& p : pending) {
    if (p.submitted == kT0 + Duration(6)) {
      EXPECT_EQ(p.cpus, 2);  // the whole small node
      EXPECT_EQ(p.time_limit, seconds(60));
    }
    if (p.submitted == kT0 + Duration(7)) {
      EXPECT_EQ(p.nodes, 2);
      EXPECT_EQ(p.cpus, 2);
    }
  }
  EXPECT_TRUE(Demand(jobs, Routing{}).empty());  // a static cluster grows no nodes
}

TEST(ReconcileTest, BusyUntilIsTheLatestHoldPerNode) {
  std::vector<Hold> holds = {{0, {1, 0, 0}, kT0 + seconds(5)},
                             {0, {1, 0, 0}, kT0 + seconds(9)},
                             {2, {1, 0, 0}, kNever},
                             {7, {1, 0, 0}, kT0}};  // out of range: ignored
  auto busy = BusyUntil(holds, 3);
  ASSERT_EQ(busy.size(), 3u);
  EXPECT_EQ(busy[0], kT0 + seconds(9));
  EXPECT_FALSE(busy[1]);
  EXPECT_EQ(busy[2], kNever);
}

TEST(ReconcileTest, AutoscaleMarksNodesAndAppliesTheDecision) {
  auto types = Types();
  elastic::Pool pool(types, {});
  auto policy = as::MakePolicy("greedy", {}).value();
  // Two pending 1-cpu units routed to the cheapest fitting type (spot), no nodes: greedy
  // creates what they need, packed by cpus: one 2-cpu node.
  Routing routing{&types, {}, 2};
  auto pending = Demand({Job(1, 1, 2)}, routing);
  auto turn = Autoscale(pool, *policy, [](const elastic::PoolNode&) { return PoolNodeState{}; },
                        pending, {}, kT0);
  ASSERT_EQ(turn.calls.size(), 1u);
  EXPECT_EQ(turn.calls[0].kind, elastic::Call::kCreate);
  EXPECT_EQ(turn.calls[0].type, 2);
  const std::string name = turn.calls[0].name;
  (void)pool.CreateDone(name, Status::Ok(), kT0);
  ASSERT_TRUE(pool.Registered(name, kT0 + seconds(60)));
  // Connected and running work: allocated, so greedy deletes nothing.
  turn = Autoscale(
      pool, *policy,
      [&](const elastic::PoolNode&) { return PoolNodeState{true, kT0 + seconds(200)}; }, {}, {},
      kT0 + seconds(61));
  EXPECT_TRUE(turn.calls.empty());
  EXPECT_EQ(pool.Find(name)->phase, elastic::Phase::kAllocated);
  // Away: left as it is. Back and idle: greedy deletes it.
  turn = Autoscale(pool, *policy, [](const elastic::PoolNode&) { return PoolNodeState{}; }, {},
                   {}, kT0 + seconds(62));
  EXPECT_EQ(pool.Find(name)->phase, elastic::Phase::kAllocated);
  turn = Autoscale(pool, *policy, [](const elastic::PoolNode&) { return PoolNodeState{true, {}}; },
                   {}, {}, kT0 + seconds(63));
  ASSERT_EQ(turn.calls.size(), 1u);
  EXPECT_EQ(turn.calls[0].kind, elastic::Call::kDelete);
}

}  // namespace
}  // namespace swell::head::reconcile
