// The elastic pool on a live head: nodes made by a provider when work waits, deleted when
// idle, and what happens when the provider misbehaves (the fault-injecting wrapper around
// in-process node daemons).

#include <gtest/gtest.h>

#include <future>
#include <set>
#include <thread>

#include "node/node.h"
#include "provider/faulty.h"
#include "testing/cluster.h"

namespace swell {
namespace {

using provider::FaultPlan;
using provider::FaultyProvider;
using std::chrono::milliseconds;
using std::chrono::seconds;

head::autoscaler::NodeType Type(const std::string& name, int cpus, double price, bool spot) {
  head::autoscaler::NodeType t;
  t.name = name;
  t.cpus = cpus;
  t.memory_mb = 1024L * cpus;
  t.price_per_hour = price;
  t.spot = spot;
  return t;
}

testing::ClusterOptions Elastic(std::vector<head::autoscaler::NodeType> types) {
  testing::ClusterOptions o;
  o.nodes = 0;
  head::ElasticOptions e;
  e.types = std::move(types);
  e.policy = "greedy";
  e.policy_options.max_nodes = 3;
  e.interval = milliseconds(100);
  e.list_interval = milliseconds(500);
  e.pool.boot_timeout = seconds(3);
  e.pool.delete_retry = milliseconds(500);
  e.pool.type_backoff = seconds(1);
  e.max_preemptions = 1;
  o.elastic = e;
  return o;
}

// Where the job ran (running: its node list; finished: its task's node).
std::string FirstNode(const pb::JobInfo& i) {
  if (i.nodes_size() > 0) return i.nodes(0);
  return i.tasks_size() > 0 ? i.tasks(0).node() : "";
}

// Nodes the head lists, by state.
std::multiset<std::string> NodeStates(testing::InProcessCluster& c) {
  std::multiset<std::string> out;
  auto r = c.client().Nodes({});
  if (r.ok())
    for (const auto& n : r->nodes()) out.insert(n.state());
  return out;
}

// Polls until the head lists no node at all.
bool WaitEmpty(testing::InProcessCluster& c, Duration timeout = seconds(30)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    auto r = c.client().Nodes({});
    if (r.ok() && r->nodes_size() == 0) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return false;
}

TEST(Elastic, GrowsFromZeroForWaitingWorkAndShrinksBackToZero) {
  testing::InProcessCluster c(Elastic({Type("small", 1, 0.05, false), Type("big", 4, 0.2, false)}));
  ASSERT_TRUE(c.Start().ok());
  EXPECT_TRUE(NodeStates(c).empty());
  std::vector<int64_t> ids;
  for (int i = 0; i < 6; ++i) {
    auto id = c.Submit(c.Shell("sleep 0.3"));
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    ids.push_back(*id);
  }
  auto big = c.Shell("echo big");
  big.set_cpus_per_task(3);
  auto big_id = c.Submit(big);
  ASSERT_TRUE(big_id.ok());
  for (auto id : ids) {
    ASSERT_TRUE(c.WaitJob(id).ok());
    auto info = c.Info(id);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->state(), pb::COMPLETED);
    EXPECT_EQ(FirstNode(*info).rfind("small-", 0), 0u) << FirstNode(*info);
  }
  ASSERT_TRUE(c.WaitJob(*big_id).ok());
  auto info = c.Info(*big_id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->state(), pb::COMPLETED);
  EXPECT_EQ(FirstNode(*info).rfind("big-", 0), 0u)
      << FirstNode(*info);  // routed to the type that fits
  EXPECT_TRUE(WaitEmpty(c)) << "the pool did not return to zero nodes";
}

// What the pool deleted stays deleted: a daemon under a deleted node's name (with its
// certificate, were the link TCP: it names the node) opens no session, and names are never
// given again, so that certificate admits nothing for as long as it is valid.
TEST(Elastic, ADeletedNodeCannotComeBack) {
  testing::InProcessCluster c(Elastic({Type("small", 1, 0.05, false)}));
  ASSERT_TRUE(c.Start().ok());
  auto id = c.Submit(c.Shell("true"));
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(c.WaitJob(*id).ok());
  auto info = c.Info(*id);
  ASSERT_TRUE(info.ok());
  const std::string gone = FirstNode(*info);
  ASSERT_TRUE(WaitEmpty(c));
  node::NodeOptions o;
  o.name = gone;
  o.partition = "small";
  o.head_address = "unix:" + c.dir() + "/head.sock";
  o.secret = c.secret();
  o.spool_dir = c.dir() + "/" + gone + "-again";
  o.cpus = 1;
  o.own_process = false;
  node::NodeDaemon daemon(o);
  auto run = std::async(std::launch::async, [&] { return daemon.Run(); });
  if (run.wait_for(seconds(20)) != std::future_status::ready) daemon.Stop();
  Status s = run.get();
  EXPECT_EQ(s.code(), Code::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find("not an elastic node of this cluster any more"), std::string::npos)
      << s.ToString();
  EXPECT_TRUE(NodeStates(c).empty());
  // The next node of the type gets a new name.
  auto next = c.Submit(c.Shell("true"));
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(c.WaitJob(*next).ok());
  auto again = c.Info(*next);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(FirstNode(*again), gone);
}

TEST(Elastic, AJobNoTypeCanHoldIsRejectedAtSubmit) {
  testing::InProcessCluster c(Elastic({Type("small", 1, 0.05, false), Type("big", 4, 0.2, false)}));
  ASSERT_TRUE(c.Start().ok());
  auto spec = c.Shell("true");
  spec.set_cpus_per_task(8);
  auto id = c.Submit(spec);
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.status().message().find("the largest is big (4 cpus"), std::string::npos)
      << id.status().message();
  spec.set_cpus_per_task(1);
  spec.set_partition("huge");
  id = c.Submit(spec);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().message(),
            "invalid partition specified: huge\nInvalid partition name specified");
  EXPECT_TRUE(NodeStates(c).empty());  // nothing was created for them
}

TEST(Elastic, FailedCreatesAndHungBootsLeakNothingAndTheJobStillRuns) {
  auto o = Elastic({Type("small", 1, 0.05, false)});
  testing::InProcessCluster c(o);
  auto faulty = std::make_shared<FaultyProvider>(c.NodeProvider(), FaultPlan{2, 1});
  c.SetProvider(faulty);
  ASSERT_TRUE(c.Start().ok());
  auto id = c.Submit(c.Shell("echo ran"));
  ASSERT_TRUE(id.ok());
  auto info = c.WaitJob(*id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->state(), pb::COMPLETED);
  // Two creates failed, one hung past the boot timeout, the fourth worked.
  EXPECT_GE(faulty->creates(), 4);
  EXPECT_TRUE(WaitEmpty(c));
  EXPECT_TRUE(faulty->Existing().empty()) << "leaked: " << *faulty->Existing().begin();
}

TEST(Elastic, PreemptedSpotWorkIsRequeuedAndThenGoesOnDemand) {
  // The spot type is cheaper, so routing prefers it; after one preemption the job must go to
  // the on-demand type.
  testing::InProcessCluster c(
      Elastic({Type("spot", 1, 0.01, true), Type("ondemand", 1, 0.05, false)}));
  auto faulty = std::make_shared<FaultyProvider>(c.NodeProvider(), FaultPlan{});
  c.SetProvider(faulty);
  ASSERT_TRUE(c.Start().ok());
  auto id = c.Submit(c.Shell("sleep 1; echo done"));
  ASSERT_TRUE(id.ok());
  auto running = c.WaitFor(*id, [](const pb::JobInfo& i) { return i.state() == pb::RUNNING; });
  ASSERT_TRUE(running.ok()) << running.status().ToString();
  ASSERT_EQ(FirstNode(*running).rfind("spot-", 0), 0u) << FirstNode(*running);
  ASSERT_TRUE(faulty->Preempt(FirstNode(*running)).ok());
  ASSERT_TRUE(c.WaitJob(*id).ok());
  auto info = c.Info(*id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->state(), pb::COMPLETED);
  EXPECT_GE(info->restarts(), 1);
  EXPECT_EQ(FirstNode(*info).rfind("ondemand-", 0), 0u) << FirstNode(*info);
  EXPECT_TRUE(WaitEmpty(c));
  EXPECT_TRUE(faulty->Existing().empty());
}

TEST(Elastic, TheMaximumHoldsWhileManyJobsWait) {
  testing::InProcessCluster c(Elastic({Type("small", 1, 0.05, false)}));
  ASSERT_TRUE(c.Start().ok());
  std::vector<int64_t> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(*c.Submit(c.Shell("sleep 0.2")));
  size_t most = 0;
  for (auto id : ids) {
    for (;;) {
      most = std::max(most, NodeStates(c).size());
      auto info = c.Info(id);
      if (info.ok() && head::IsTerminal(info->state())) break;
      std::this_thread::sleep_for(milliseconds(20));
    }
  }
  EXPECT_GE(most, 1u);
  EXPECT_LE(most, 3u);  // max_nodes = 3
  for (auto id : ids) EXPECT_EQ(c.Info(id)->state(), pb::COMPLETED);
}

// The pending tasks of an array job that already runs some count as demand (they were
// invisible to the autoscaler once the first task started, so the rest queued behind it).
TEST(Elastic, PendingTasksOfARunningArrayAreDemand) {
  auto o = Elastic({Type("small", 1, 0.05, false)});
  o.elastic->policy = "clic";  // ceil(3/2) = 2 nodes first, then one for the task left
  o.elastic->policy_options.min_lifetime = seconds(0);
  testing::InProcessCluster c(o);
  ASSERT_TRUE(c.Start().ok());
  auto spec = c.Shell("sleep 2");
  for (int i = 0; i < 3; ++i) spec.add_array_indices(i);
  spec.set_array_spec("0-2");
  auto id = c.Submit(spec);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(c.WaitJob(*id).ok());
  auto info = c.Info(*id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->state(), pb::COMPLETED);
  std::set<std::string> nodes;
  for (const auto& t : info->tasks()) nodes.insert(t.node());
  EXPECT_EQ(nodes.size(), 3u) << "each task on a node of its own";
}

}  // namespace
}  // namespace swell
