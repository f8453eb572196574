#include "head/autoscaler/autoscaler.h"

#include <gtest/gtest.h>

namespace swell::head::autoscaler {
namespace {

using std::chrono::seconds;

NodeType Type(const std::string& name, int cpus, int64_t mem, int64_t disk = 10, double price = 1) {
  NodeType t;
  t.name = name;
  t.cpus = cpus;
  t.memory_mb = mem;
  t.disk_gb = disk;
  t.price_per_hour = price;
  return t;
}

class PolicyTest : public ::testing::Test {
 protected:
  View At(int64_t seconds_now) {
    View v;
    v.now = FromMillis(seconds_now * 1000);
    v.types = &types_;
    v.nodes = nodes_;
    v.pending = pending_;
    return v;
  }
  void AddNode(NodeState s, int64_t created_s, int type = 0) {
    NodeView n;
    n.id = static_cast<int64_t>(nodes_.size()) + 1;
    n.type = type;
    n.state = s;
    n.created = FromMillis(created_s * 1000);
    n.idle_since = n.created;
    nodes_.push_back(n);
  }
  void AddPending(int count, int type = 0) {
    for (int i = 0; i < count; ++i) pending_.push_back({type, FromMillis(0), 1});
  }
  std::vector<NodeType> types_ = {Type("small", 1, 3840)};
  std::vector<NodeView> nodes_;
  std::vector<Pending> pending_;
};

TEST(RouteTest, SmallestTypeThatFits) {
  std::vector<NodeType> types = {Type("big", 8, 30000), Type("mid-hm", 2, 13000),
                                 Type("mid", 2, 7500), Type("gpu", 2, 7500)};
  types[3].gpus = 1;
  EXPECT_EQ(Route(types, {1, 1000, 0, 0}), 2);   // fewest cpus, then least memory
  EXPECT_EQ(Route(types, {2, 8000, 0, 0}), 1);   // needs the high-memory one
  EXPECT_EQ(Route(types, {4, 1000, 0, 0}), 0);
  EXPECT_EQ(Route(types, {1, 1000, 0, 1}), 3);   // gpus only there
  EXPECT_FALSE(Route(types, {16, 1000, 0, 0}).has_value());
  EXPECT_FALSE(Route(types, {1, 1000, 500, 0}).has_value());  // disk
}

TEST_F(PolicyTest, ClicColdStartCreatesHalfThePending) {
  AddPending(7);
  auto a = MakeClic({})->Decide(At(0));
  ASSERT_EQ(a.create.size(), 1u);
  EXPECT_EQ(a.create[0], 4);  // ceil(7 / 2)
  EXPECT_TRUE(a.remove.empty());
}

TEST_F(PolicyTest, ClicSubtractsIdleAndBooting) {
  AddPending(10);
  AddNode(NodeState::kBooting, 0);
  AddNode(NodeState::kIdle, 0);
  AddNode(NodeState::kAllocated, 0);
  EXPECT_EQ(MakeClic({})->Decide(At(100)).create[0], 3);  // 5 - 1 - 1
  pending_.resize(3);
  EXPECT_EQ(MakeClic({})->Decide(At(100)).create[0], 0);  // 2 - 2, never negative
}

// A job that needs 4 nodes at once: halving would make 2, then 0 more while those idle.
TEST_F(PolicyTest, ClicCoversTheWidestWaitingJobWhole) {
  pending_.push_back({0, FromMillis(0), 4});
  EXPECT_EQ(MakeClic({})->Decide(At(0)).create[0], 4);
  AddNode(NodeState::kIdle, 0);
  AddNode(NodeState::kBooting, 0);
  EXPECT_EQ(MakeClic({})->Decide(At(10)).create[0], 2);  // 4 - 1 idle - 1 booting
}

TEST_F(PolicyTest, ClicDeletesHalfTheOldIdleNodesOnlyWhenTheQueueIsEmpty) {
  for (int i = 0; i < 5; ++i) AddNode(NodeState::kIdle, i * 100);  // created at 0..400 s
  AddNode(NodeState::kAllocated, 0);
  // At 900 s nodes created at 0, 100, 200, 300 have lived 600 s: ceil(4 / 2) = 2, oldest first.
  auto a = MakeClic({})->Decide(At(900));
  EXPECT_EQ(a.remove, (std::vector<int64_t>{1, 2}));
  AddPending(1);
  EXPECT_TRUE(MakeClic({})->Decide(At(900)).remove.empty());
  // Nothing old enough: nothing goes.
  pending_.clear();
  EXPECT_TRUE(MakeClic({})->Decide(At(500)).remove.empty());
}

TEST_F(PolicyTest, GreedyMatchesPendingAndDropsEveryIdleNode) {
  AddPending(6);
  AddNode(NodeState::kBooting, 0);
  AddNode(NodeState::kIdle, 0);
  EXPECT_EQ(MakeGreedy({})->Decide(At(10)).create[0], 4);
  pending_.clear();
  auto a = MakeGreedy({})->Decide(At(10));
  EXPECT_EQ(a.create[0], 0);
  EXPECT_EQ(a.remove, (std::vector<int64_t>{2}));
}

TEST_F(PolicyTest, LimitsHold) {
  types_[0].max_nodes = 3;
  AddNode(NodeState::kAllocated, 0);
  AddPending(100);
  EXPECT_EQ(MakeGreedy({})->Decide(At(10)).create[0], 2);
  PolicyOptions o;
  o.max_nodes = 2;
  EXPECT_EQ(MakeGreedy(o)->Decide(At(10)).create[0], 1);
}

TEST_F(PolicyTest, PowerSaveSuspendsAfterTheIdleTimeout) {
  PolicyOptions o;
  o.idle_timeout = seconds(300);
  AddNode(NodeState::kIdle, 0);
  nodes_[0].idle_since = FromMillis(100 * 1000);
  AddNode(NodeState::kIdle, 0);
  nodes_[1].idle_since = FromMillis(350 * 1000);
  auto p = MakePolicy("powersave", o);
  ASSERT_TRUE(p.ok());
  auto a = (*p)->Decide(At(420));  // node 1 idle 320 s, node 2 idle 70 s
  EXPECT_EQ(a.remove, (std::vector<int64_t>{1}));
  AddPending(2);  // both idle nodes have work coming: keep them
  EXPECT_TRUE((*p)->Decide(At(420)).remove.empty());
  AddPending(3);
  EXPECT_EQ((*p)->Decide(At(420)).create[0], 3);
}

TEST_F(PolicyTest, SmallJobsArePackedOntoBigNodes) {
  types_[0].cpus = 4;
  AddPending(16);  // sixteen 1-cpu jobs fill four 4-cpu nodes
  EXPECT_EQ(MakeGreedy({})->Decide(At(0)).create[0], 4);
  pending_.push_back({0, FromMillis(0), 3, 4});  // and one job of three whole nodes
  EXPECT_EQ(MakeGreedy({})->Decide(At(0)).create[0], 7);
}

TEST_F(PolicyTest, LookaheadWaitsForANodeAboutToFinishRatherThanBootOne) {
  types_[0].boot = seconds(60);
  types_[0].shutdown = seconds(30);
  AddNode(NodeState::kAllocated, 0);
  nodes_[0].busy_until = FromMillis(130 * 1000);  // free 30 s from now: sooner than a boot
  pending_.push_back({0, FromMillis(100 * 1000), 1, 1, seconds(600)});
  auto p = MakePolicy("lookahead", {});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)->Decide(At(100)).create[0], 0);
  // Within the horizon (boot + (boot + shutdown) / wait_weight = 105 s after submission) it
  // still waits; beyond it, or with no known end, a new node is cheaper than the wait.
  nodes_[0].busy_until = FromMillis(200 * 1000);
  EXPECT_EQ((*p)->Decide(At(100)).create[0], 0);
  nodes_[0].busy_until = FromMillis(400 * 1000);
  EXPECT_EQ((*p)->Decide(At(100)).create[0], 1);
  nodes_[0].busy_until = kNever;
  EXPECT_EQ((*p)->Decide(At(100)).create[0], 1);
}

TEST_F(PolicyTest, LookaheadKeepsIdleNodesOnlyForAnArrivalDueSoon) {
  // Bursts of four jobs every 600 s, seen through the arrival counts; boot 90 s, shutdown
  // 30 s: a node is worth keeping for an arrival less than a few minutes away.
  types_[0].boot = seconds(90);
  types_[0].shutdown = seconds(30);
  auto p = MakePolicy("lookahead", {});
  ASSERT_TRUE(p.ok());
  for (int64_t burst = 0; burst < 4; ++burst) {
    View v = At(burst * 600);
    v.arrived = {4 * (burst + 1)};
    (*p)->Decide(v);
  }
  for (int i = 0; i < 3; ++i) AddNode(NodeState::kIdle, 1800);
  View soon = At(2350);  // the next burst is due at 2400
  soon.arrived = {16};
  EXPECT_TRUE((*p)->Decide(soon).remove.empty());
  // Right after a burst the next is 600 s away: every idle node goes.
  View v = At(2410);
  v.arrived = {20};
  EXPECT_EQ((*p)->Decide(v).remove.size(), 3u);
  // Long past every gap seen: nothing is expected, nothing is kept.
  v = At(5000);
  v.arrived = {20};
  EXPECT_EQ((*p)->Decide(v).remove.size(), 3u);
}

TEST_F(PolicyTest, LookaheadNeverNamesABusyOrBootingNode) {
  uint64_t state = 7;
  auto next = [&](int64_t n) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int64_t>((state >> 33) % static_cast<uint64_t>(n));
  };
  types_ = {Type("a", 1, 3840), Type("b", 4, 16000)};
  auto p = MakePolicy("lookahead", {});
  ASSERT_TRUE(p.ok());
  int64_t arrived[2] = {0, 0};
  for (int round = 0; round < 500; ++round) {
    nodes_.clear();
    pending_.clear();
    int64_t now = round * 10;
    for (int64_t i = 0, n = next(12); i < n; ++i) {
      AddNode(static_cast<NodeState>(next(4)), now - next(2000), static_cast<int>(next(2)));
      nodes_.back().idle_since = FromMillis((now - next(600)) * 1000);
      if (nodes_.back().state == NodeState::kAllocated)
        nodes_.back().busy_until = FromMillis((now + next(900)) * 1000);
    }
    for (int64_t i = 0, n = next(6); i < n; ++i)
      pending_.push_back({static_cast<int>(next(2)), FromMillis((now - next(300)) * 1000), 1,
                          1 + static_cast<int>(next(4)), seconds(next(1000))});
    arrived[0] += next(3);
    arrived[1] += next(2);
    View v = At(now);
    v.arrived = {arrived[0], arrived[1]};
    Action a = (*p)->Decide(v);
    for (int64_t id : a.remove) {
      ASSERT_GE(id, 1);
      ASSERT_LE(id, static_cast<int64_t>(nodes_.size()));
      EXPECT_EQ(nodes_[static_cast<size_t>(id - 1)].state, NodeState::kIdle) << "round " << round;
    }
    for (int c : a.create) EXPECT_GE(c, 0);
  }
}

TEST_F(PolicyTest, PoliciesByName) {
  EXPECT_TRUE(MakePolicy("clic", {}).ok());
  EXPECT_TRUE(MakePolicy("greedy", {}).ok());
  EXPECT_TRUE(MakePolicy("lookahead", {}).ok());
  auto bad = MakePolicy("magic", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("clic"), std::string::npos);
}

}  // namespace
}  // namespace swell::head::autoscaler
