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

TEST_F(PolicyTest, PoliciesByName) {
  EXPECT_TRUE(MakePolicy("clic", {}).ok());
  EXPECT_TRUE(MakePolicy("greedy", {}).ok());
  auto bad = MakePolicy("magic", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("clic"), std::string::npos);
}

}  // namespace
}  // namespace swell::head::autoscaler
