#include "cli/sinfo_view.h"

#include <gtest/gtest.h>

#include <initializer_list>

#include "cli/slurm_view_testing.h"
#include "common/slurm_output.h"

namespace swell::cli::slurm {
namespace {

// sinfo(1): default "%#P %.5a %.10l %.6D %.6t %N" ("#": the longest partition name, at least
// 9; older pages write "%9P %.5a %.10l %.6D %.6t %N"), --Node "%#N %.6D %#P %6t" (sinfo's
// source right-justifies that partition: "partition:.9").
constexpr char kSinfoDefault[] = "%9P %.5a %.10l %.6D %.6t %N";
constexpr char kSinfoNode[] = "%9N %.6D %.9P %6t";

std::string NodeLine(const std::string& format, const NodeGroup& g) {
  return RenderLine(ParseOutputFormat(format),
                    [&](const OutputField& f) { return NodeField(f.type, g); });
}

std::string NodeHeaderLine(const std::string& format) {
  return RenderLine(ParseOutputFormat(format),
                    [](const OutputField& f) { return NodeHeader(f.type); });
}

// The head's answer listing `nodes`.
pb::NodesReply Reply(std::initializer_list<pb::NodeInfo> nodes) {
  pb::NodesReply r;
  for (const auto& n : nodes) *r.add_nodes() = n;
  return r;
}

TEST_F(SlurmViewTest, SinfoDefaultLines) {
  pb::NodesReply r = Reply({Node("node2", "IDLE"), Node("node1", "IDLE"), Node("node3", "MIXED", 2),
                            Node("node4", "DOWN")});
  auto groups = NodeGroups(r, false, true, false);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(NodeHeaderLine(kSinfoDefault), "PARTITION AVAIL  TIMELIMIT  NODES  STATE NODELIST");
  // Within a partition, by Slurm's state number, highest first.
  EXPECT_EQ(NodeLine(kSinfoDefault, groups[0]), "batch*       up   infinite      1  down* node4");
  EXPECT_EQ(NodeLine(kSinfoDefault, groups[1]), "batch*       up   infinite      1    mix node3");
  EXPECT_EQ(NodeLine(kSinfoDefault, groups[2]),
            "batch*       up   infinite      2   idle node[1-2]");
  EXPECT_EQ(NodeLine("%C %F %A %c %m %T %E %G", groups[1]),
            "2/6/0/8 1/0/0/1 1/0 8 4096 mixed none (null)");
  EXPECT_EQ(NodeLine("%C %F %n", groups[0]), "0/0/8/8 0/0/1/1 host-node4");
  // Without a state column a partition is one line.
  auto one = NodeGroups(r, false, false, false);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(NodeLine("%R %D %N", one[0]), "batch 4 node[1-4]");
}

TEST_F(SlurmViewTest, SinfoNodeOriented) {
  pb::NodesReply r = Reply({Node("node10", "IDLE"), Node("node2", "ALLOCATED", 8)});
  auto groups = NodeGroups(r, true, true, false);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(NodeHeaderLine(kSinfoNode), "NODELIST   NODES PARTITION STATE ");
  EXPECT_EQ(NodeLine(kSinfoNode, groups[0]), "node2          1    batch* alloc ");
  EXPECT_EQ(NodeLine(kSinfoNode, groups[1]), "node10         1    batch* idle  ");
}

TEST_F(SlurmViewTest, ElasticPartitions) {
  pb::NodesReply r;
  r.add_partitions("small");
  r.add_partitions("large");
  auto n = Node("small-1", "POWERING_UP");
  n.set_partition("small");
  *r.add_nodes() = n;
  auto groups = NodeGroups(r, false, true, false);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(NodeLine(kSinfoDefault, groups[0]), "small        up   infinite      1  idle# small-1");
  EXPECT_EQ(NodeLine(kSinfoDefault, groups[1]), "large        up   infinite      0    n/a ");
  auto json = NodesJson(groups);
  ASSERT_EQ(json["sinfo"].size(), 2u);
  EXPECT_EQ(json["sinfo"][0]["node"]["state"], nlohmann::json::array({"IDLE", "POWERING_UP"}));
  EXPECT_EQ(json["sinfo"][0]["nodes"]["nodes"], nlohmann::json::array({"small-1"}));
  EXPECT_EQ(json["sinfo"][0]["partition"]["name"], "small");
  EXPECT_EQ(json["sinfo"][1]["nodes"]["total"], 0);
}

}  // namespace
}  // namespace swell::cli::slurm
