#include "cli/slurm_fields.h"

#include <gtest/gtest.h>

#include "cli/slurm_view_testing.h"

namespace swell::cli::slurm {
namespace {

TEST_F(SlurmViewTest, NodeStates) {
  EXPECT_EQ(NodeStateOf(Node("n", "IDLE")).compact, "IDLE");
  EXPECT_EQ(NodeStateOf(Node("n", "MIXED", 2)).compact, "MIX");
  EXPECT_EQ(NodeStateOf(Node("n", "ALLOCATED", 8)).name, "ALLOCATED");
  EXPECT_EQ(NodeStateOf(Node("n", "DOWN")).compact, "DOWN*");
  EXPECT_EQ(NodeStateOf(Node("n", "DOWN")).complete, "DOWN+NOT_RESPONDING");
  EXPECT_EQ(NodeStateOf(Node("n", "DRAINING", 2)).compact, "DRNG");
  EXPECT_EQ(NodeStateOf(Node("n", "DRAINING")).name, "DRAINED");
  EXPECT_EQ(NodeStateOf(Node("n", "POWERING_UP")).compact, "IDLE#");
  EXPECT_EQ(NodeStateOf(Node("n", "POWERING_DOWN")).compact, "IDLE%");
  EXPECT_EQ(NodeStateOf(Node("n", "UNKNOWN")).compact, "UNK*");
}

TEST_F(SlurmViewTest, HostOrder) {
  EXPECT_TRUE(HostLess("node2", "node10"));
  EXPECT_FALSE(HostLess("node10", "node2"));
  EXPECT_TRUE(HostLess("a9", "b1"));
}

}  // namespace
}  // namespace swell::cli::slurm
