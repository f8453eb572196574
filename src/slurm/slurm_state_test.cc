#include "slurm/slurm_state.h"

#include <gtest/gtest.h>

#include "common/files.h"

namespace swell::slurm {
namespace {

namespace rc = head::reconcile;

std::string Fixture(const std::string& name) {
  auto text = ReadFile(std::string(SWELL_SOURCE_DIR) + "/tests/data/slurm/" + name);
  EXPECT_TRUE(text.ok()) << name;
  return text.ok() ? *text : "";
}

const SlurmJob* Find(const std::vector<SlurmJob>& jobs, int64_t id) {
  for (const auto& j : jobs)
    if (j.id == id) return &j;
  return nullptr;
}

const rc::WaitingJob* FindWaiting(const std::vector<rc::WaitingJob>& jobs, int64_t id) {
  for (const auto& j : jobs)
    if (j.id == id) return &j;
  return nullptr;
}

// Captured from Debian's Slurm 22.05: two 1-cpu jobs running on dynamic node small-1, a third
// waiting for Resources, a 2-node job in an empty partition (PartitionConfig), a held one.
TEST(SlurmStateTest, ReadsSqueueOfDynamicNodes) {
  auto jobs = ParseSqueueJson(Fixture("squeue_dynamic.json"));
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), 5u);
  const SlurmJob* running = Find(*jobs, 1);
  ASSERT_NE(running, nullptr);
  EXPECT_EQ(running->state, "RUNNING");
  EXPECT_EQ(running->nodes, std::vector<std::string>{"small-1"});
  EXPECT_EQ(running->mem_per_node_mb, 100);
  EXPECT_FALSE(running->time_limit.has_value());
  const SlurmJob* wide = Find(*jobs, 4);
  ASSERT_NE(wide, nullptr);
  EXPECT_EQ(wide->reason, "PartitionConfig");
  EXPECT_EQ(wide->partition, "large");
  EXPECT_EQ(wide->node_count, 2);
  EXPECT_EQ(wide->time_limit, std::chrono::minutes(5));

  auto waiting = WaitingJobs(*jobs);
  ASSERT_EQ(waiting.size(), 3u);
  const rc::WaitingJob* w3 = FindWaiting(waiting, 3);
  ASSERT_NE(w3, nullptr);
  EXPECT_EQ(w3->gate, "");
  EXPECT_EQ(w3->reason, rc::kResources);
  EXPECT_EQ(w3->partition, "small");
  const rc::WaitingJob* w4 = FindWaiting(waiting, 4);
  ASSERT_NE(w4, nullptr);
  EXPECT_EQ(w4->gate, "");  // an empty partition: it waits for nodes
  EXPECT_EQ(w4->shape.min_nodes, 2);
  EXPECT_TRUE(w4->one_allocation);
  const rc::WaitingJob* held = FindWaiting(waiting, 5);
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(held->gate, "JobHeldUser");
}

TEST(SlurmStateTest, DemandGoesToTheNamedTypes) {
  auto jobs = ParseSqueueJson(Fixture("squeue_dynamic.json"));
  ASSERT_TRUE(jobs.ok());
  std::vector<head::autoscaler::NodeType> types(2);
  types[0].name = "small";
  types[0].cpus = 2;
  types[0].memory_mb = 1000;
  types[1].name = "large";
  types[1].cpus = 4;
  types[1].memory_mb = 8000;
  rc::Routing routing;
  routing.types = &types;
  auto demand = rc::Demand(WaitingJobs(*jobs), routing);
  // Job 3 (one small node's cpu) and job 4 (two large nodes); the held job 5 is not demand.
  ASSERT_EQ(demand.size(), 2u);
  EXPECT_EQ(demand[0].type, 0);
  EXPECT_EQ(demand[0].nodes, 1);
  EXPECT_EQ(demand[1].type, 1);
  EXPECT_EQ(demand[1].nodes, 2);
  EXPECT_EQ(demand[1].time_limit, std::chrono::minutes(5));
}

// Captured from Debian's Slurm 22.05 with swell's job_submit.lua: job 5 routed by it (admin
// comment "swell:small,large", partition small), job 4 submitted with `-p small,large`, job 6
// with `-p small`; all held.
TEST(SlurmStateTest, AJobRoutedBySwellMovesOnlyWhenItsTypeIsBackedOff) {
  auto jobs = ParseSqueueJson(Fixture("squeue_routed.json"));
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  const SlurmJob* routed = Find(*jobs, 5);
  ASSERT_NE(routed, nullptr);
  EXPECT_EQ(routed->fits, "small,large");
  EXPECT_EQ(routed->partition, "small");
  EXPECT_EQ(Find(*jobs, 4)->fits, "");
  EXPECT_EQ(Find(*jobs, 4)->partition, "small,large");
  EXPECT_EQ(Find(*jobs, 6)->fits, "");
  auto waiting = WaitingJobs(*jobs);
  ASSERT_NE(FindWaiting(waiting, 5), nullptr);
  EXPECT_EQ(FindWaiting(waiting, 5)->partition, "small,large");  // its demand may move

  std::vector<head::autoscaler::NodeType> types(2);
  types[0].name = "small";
  types[0].cpus = 1;
  types[1].name = "large";
  types[1].cpus = 2;
  rc::Routing routing;
  routing.types = &types;
  EXPECT_TRUE(JobsToWiden(*jobs, waiting, routing).empty());  // small is usable: nothing moves
  routing.usable = {false, true};
  auto widen = JobsToWiden(*jobs, waiting, routing);
  ASSERT_EQ(widen.size(), 1u);  // not job 6: its user named small
  EXPECT_EQ(widen[0], std::make_pair(int64_t{5}, std::string("small,large")));
  routing.usable = {false, false};  // nothing usable: it stays where it is
  EXPECT_TRUE(JobsToWiden(*jobs, waiting, routing).empty());
}

// An array 1-6%2 with task 1 running and 2-6 pending; an exclusive job; --mem-per-cpu; a job
// with a dependency, a begin time and -w.
TEST(SlurmStateTest, ArraysThrottlesAndGates) {
  auto jobs = ParseSqueueJson(Fixture("squeue_array.json"));
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  auto waiting = WaitingJobs(*jobs);
  const rc::WaitingJob* array = FindWaiting(waiting, 1);
  ASSERT_NE(array, nullptr);
  EXPECT_EQ(array->units, 5);
  EXPECT_EQ(array->max_running, 2);
  EXPECT_EQ(array->held, 1);
  EXPECT_FALSE(array->one_allocation);
  const rc::WaitingJob* exclusive = FindWaiting(waiting, 2);
  ASSERT_NE(exclusive, nullptr);
  EXPECT_TRUE(exclusive->shape.exclusive);
  EXPECT_EQ(exclusive->reason, rc::kPriority);
  const rc::WaitingJob* per_cpu = FindWaiting(waiting, 3);
  ASSERT_NE(per_cpu, nullptr);
  EXPECT_EQ(per_cpu->shape.mem_mb, 1000);  // 500 MB x 2 cpus on its one node
  EXPECT_EQ(per_cpu->shape.ntasks, 2);
  const rc::WaitingJob* dependent = FindWaiting(waiting, 4);
  ASSERT_NE(dependent, nullptr);
  EXPECT_EQ(dependent->gate, "Dependency");
  EXPECT_EQ(dependent->shape.require, std::vector<std::string>{"node1"});
}

TEST(SlurmStateTest, NodesUpAndBusy) {
  auto nodes = ParseSinfoJson(Fixture("sinfo_dynamic.json"));
  ASSERT_TRUE(nodes.ok()) << nodes.status().ToString();
  ASSERT_EQ(nodes->size(), 1u);
  EXPECT_EQ((*nodes)[0].name, "small-1");
  EXPECT_EQ((*nodes)[0].state, "allocated");
  EXPECT_TRUE((*nodes)[0].HasFlag("DYNAMIC_NORM"));
  auto jobs = ParseSqueueJson(Fixture("squeue_dynamic.json"));
  ASSERT_TRUE(jobs.ok());
  auto states = NodeStates(*nodes, *jobs);
  ASSERT_EQ(states.count("small-1"), 1u);
  EXPECT_TRUE(states["small-1"].connected);
  EXPECT_EQ(states["small-1"].busy_until, kNever);  // its jobs have no time limit

  auto draining = ParseSinfoJson(Fixture("sinfo_draining.json"));
  ASSERT_TRUE(draining.ok());
  EXPECT_TRUE((*draining)[0].HasFlag("DRAIN"));
  EXPECT_TRUE((*draining)[0].Up());
  auto empty = ParseSinfoJson(Fixture("sinfo_empty.json"));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(SlurmStateTest, BusyUntilTheLatestLimitOrUnknown) {
  SlurmNode n;
  n.name = "a";
  n.state = "mixed";
  n.alloc_cpus = 2;
  SlurmJob j1, j2;
  j1.state = j2.state = "RUNNING";
  j1.nodes = j2.nodes = {"a"};
  j1.time_limit = j2.time_limit = std::chrono::minutes(10);
  j1.end = FromMillis(5'000'000);
  j2.end = FromMillis(7'000'000);
  auto states = NodeStates({n}, {j1, j2});
  EXPECT_EQ(states["a"].busy_until, FromMillis(7'000'000));
  j2.state = "COMPLETED";  // squeue shows it for MinJobAge: it holds nothing
  EXPECT_EQ(NodeStates({n}, {j1, j2})["a"].busy_until, FromMillis(5'000'000));
  // Cpus allocated with no job seen: busy for an unknown time. Idle: busy for none.
  EXPECT_EQ(NodeStates({n}, {})["a"].busy_until, kNever);
  n.alloc_cpus = 0;
  n.state = "idle";
  EXPECT_FALSE(NodeStates({n}, {})["a"].busy_until.has_value());
  n.flags = {"NOT_RESPONDING"};
  EXPECT_FALSE(NodeStates({n}, {})["a"].connected);
}

TEST(SlurmStateTest, RefusesWhatIsNotSlurmsJson) {
  EXPECT_FALSE(ParseSqueueJson("").ok());
  EXPECT_FALSE(ParseSqueueJson("[1,2]").ok());
  EXPECT_FALSE(ParseSqueueJson(R"({"jobs": 3})").ok());
  EXPECT_FALSE(ParseSqueueJson(R"({"jobs": [{"job_state": "PENDING"}]})").ok());
  auto err = ParseSinfoJson(R"({"errors": [{"error": "Unable to contact slurm controller"}],
                                "nodes": []})");
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.status().message().find("Unable to contact"), std::string::npos);
  EXPECT_FALSE(ParseSinfoJson(R"({"nodes": [{"state": "idle"}]})").ok());
}

}  // namespace
}  // namespace swell::slurm
