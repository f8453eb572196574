#include "head/step_placement.h"

#include <gtest/gtest.h>

namespace swell::head {
namespace {

// Three nodes holding 2, 3 and 1 tasks; node2 has the host name "gpu7".
StepAllocation Alloc() { return {"42", {"node1", "node2", "node3"}, {2, 3, 1}, {"h1", "gpu7", "h3"}}; }

pb::ExecRequest Step(int ntasks, int nodes = 0, int per_node = 0) {
  pb::ExecRequest r;
  r.add_argv("hostname");
  r.set_ntasks(ntasks);
  r.set_nodes(nodes);
  r.set_ntasks_per_node(per_node);
  return r;
}

TEST(StepPlacementTest, BlockDistributionOverTheAllocation) {
  // srun with no options: one task per node of the allocation.
  auto p = PlaceStep(Alloc(), Step(0));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->nodes, (std::vector<std::string>{"node1", "node2", "node3"}));
  EXPECT_EQ(p->counts, (std::vector<int>{1, 1, 1}));
  // -n 5: one on each node, then nodes filled in order up to what they hold.
  p = PlaceStep(Alloc(), Step(5));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->counts, (std::vector<int>{2, 2, 1}));
  // -n 2 without -N: as many nodes as tasks.
  p = PlaceStep(Alloc(), Step(2));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->nodes, (std::vector<std::string>{"node1", "node2"}));
  // --ntasks-per-node 2 on -N 2: exactly two each.
  p = PlaceStep(Alloc(), Step(0, 2, 2));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->counts, (std::vector<int>{2, 2}));
}

TEST(StepPlacementTest, NodeListsAndSlurmsRefusals) {
  auto r = Step(0);
  r.add_nodelist("node3");
  auto p = PlaceStep(Alloc(), r);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->nodes, (std::vector<std::string>{"node3"}));
  r = Step(0);
  r.add_exclude("node1");
  p = PlaceStep(Alloc(), r);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->nodes, (std::vector<std::string>{"node2", "node3"}));
  r = Step(0);
  r.add_nodelist("node9");
  EXPECT_NE(PlaceStep(Alloc(), r).status().message().find("node9 is not in job 42's allocation"),
            std::string::npos);
  EXPECT_NE(PlaceStep(Alloc(), Step(0, 4)).status().message().find("4 nodes asked"),
            std::string::npos);
  EXPECT_NE(PlaceStep(Alloc(), Step(7)).status().message().find("More processors requested"),
            std::string::npos);
  EXPECT_NE(PlaceStep(Alloc(), Step(2, 3)).status().message().find("2 tasks on 3 nodes"),
            std::string::npos);
}

TEST(StepPlacementTest, ARelayedCommandRunsOnceOnTheNodeItsHostNames) {
  pb::ExecRequest r;
  r.add_argv("orted");
  r.set_relay(true);
  r.add_nodelist("gpu7");  // by host name
  auto p = PlaceStep(Alloc(), r);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->nodes, (std::vector<std::string>{"node2"}));
  EXPECT_EQ(p->counts, (std::vector<int>{1}));
  r.set_nodelist(0, "node3");  // by node name
  EXPECT_EQ(PlaceStep(Alloc(), r)->nodes, (std::vector<std::string>{"node3"}));
  r.set_nodelist(0, "elsewhere");
  EXPECT_NE(PlaceStep(Alloc(), r).status().message().find("not a node of job 42"),
            std::string::npos);
  // Two nodes with the host name: ambiguous, refused.
  auto a = Alloc();
  a.hostnames = {"same", "same", "h3"};
  r.set_nodelist(0, "same");
  EXPECT_FALSE(PlaceStep(a, r).ok());
}

}  // namespace
}  // namespace swell::head
