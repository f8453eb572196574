#include "head/submit_check.h"

#include <gtest/gtest.h>

#include "common/slurm_refusal.h"

namespace swell::head {
namespace {

pb::JobSpec Spec() {
  pb::JobSpec s;
  s.add_argv("true");
  s.set_work_dir("/tmp");
  return s;
}

SubmitCluster Static() {
  SubmitCluster c;
  c.nodes = {{"node1", "", {4, 8192, 0}}, {"node2", "", {4, 8192, 1}}};
  c.job_exists = [](const std::string& ref) { return ref == "7" || ref == "8_1"; };
  return c;
}

std::string Error(pb::JobSpec spec, const SubmitCluster& c) {
  Status s = CheckSubmit(&spec, c);
  return s.ok() ? "" : s.message();
}

TEST(SubmitCheckTest, FillsInSlurmsDefaults) {
  auto spec = Spec();
  spec.set_min_nodes(2);
  ASSERT_TRUE(CheckSubmit(&spec, Static()).ok());
  EXPECT_EQ(spec.ntasks(), 2);  // -N without -n: one task per node
  EXPECT_EQ(spec.cpus_per_task(), 1);
  spec = Spec();
  spec.add_nodelist("node2");
  spec.add_nodelist("node1");
  ASSERT_TRUE(CheckSubmit(&spec, Static()).ok());
  EXPECT_EQ(spec.min_nodes(), 2);  // every -w node is used
}

// A shape's verdict is kept for the cluster it was checked against: the same again, refusal
// and message included; a cluster with other nodes (a new SubmitCluster) decides afresh.
TEST(SubmitCheckTest, AShapesVerdictIsKeptForItsNodes) {
  SubmitCluster c = Static();
  auto big = Spec();
  big.set_ntasks(9);  // 9 cpus: the two nodes hold 8
  const std::string refused = Error(big, c);
  ASSERT_NE(refused, "");
  EXPECT_EQ(Error(big, c), refused);
  EXPECT_EQ(Error(Spec(), c), "");
  EXPECT_EQ(c.feasible.size(), 2u);
  auto named = big;
  named.add_nodelist("node1");  // bound to named nodes: checked each time, never kept
  EXPECT_NE(Error(named, c), "");
  EXPECT_EQ(c.feasible.size(), 2u);
  SubmitCluster bigger = Static();
  bigger.nodes.push_back({"node3", "", {4, 8192, 0}});
  EXPECT_EQ(Error(big, bigger), "");
}

// Scripts as Slurm bounds them: 4 MiB at most (max_script_size) and no NUL byte, whichever
// client sent them.
TEST(SubmitCheckTest, RefusesScriptsSlurmRefuses) {
  auto spec = Spec();
  spec.clear_argv();
  spec.set_script("#!/bin/sh\n" + std::string(slurm_refusal::kMaxScriptBytes - 10, '#'));
  ASSERT_EQ(spec.script().size(), slurm_refusal::kMaxScriptBytes);
  EXPECT_EQ(Error(spec, Static()), "");
  spec.mutable_script()->push_back('\n');
  std::string err = Error(spec, Static());
  EXPECT_EQ(slurm_refusal::Decode(err).reason, slurm_refusal::kTooLong) << err;
  EXPECT_NE(err.find("4194305 bytes"), std::string::npos) << err;
  spec.set_script(std::string("#!/bin/sh\n#SBATCH -J a\0b\ntrue\n", 30));
  EXPECT_NE(Error(spec, Static()).find("NUL byte"), std::string::npos);
}

// Counts past any cluster's (the fuzzer's 2,104,931,144 tasks) are refused in Slurm's words,
// on a static and an elastic cluster, before anything multiplies them.
TEST(SubmitCheckTest, RefusesCountsNoClusterHolds) {
  std::vector<autoscaler::NodeType> types(1);
  types[0].name = "small", types[0].cpus = 2, types[0].memory_mb = 4096;
  const SubmitCluster fixed = Static();
  SubmitCluster elastic = Static();
  elastic.types = &types;
  elastic.nodes.clear();
  for (const SubmitCluster* c : std::initializer_list<const SubmitCluster*>{&elastic, &fixed}) {
    for (int field = 0; field < 4; ++field) {
      auto spec = Spec();
      if (field == 0) spec.set_ntasks(2'104'931'144);
      if (field == 1) spec.set_cpus_per_task(2'104'931'144);
      if (field == 2) spec.set_ntasks(1 << 12), spec.set_cpus_per_task(1 << 11);
      if (field == 3) spec.set_min_nodes(2'104'931'144);
      std::string err = Error(spec, *c);
      EXPECT_EQ(slurm_refusal::Decode(err).reason, slurm_refusal::kTooManyCpus) << field << err;
    }
  }
}

// A constraint without a feature word on a static cluster (no node types): checked, not a
// dereference of the missing types.
TEST(SubmitCheckTest, AnEmptyConstraintOnAStaticCluster) {
  for (const char* c : {"&", "[]", "|", "*2", "(&)"}) {
    auto spec = Spec();
    spec.set_constraint(c);
    EXPECT_EQ(Error(spec, Static()), "") << c;
  }
  auto spec = Spec();
  spec.set_constraint("gpu");
  EXPECT_EQ(Error(spec, Static()), "Invalid feature specification");
}

TEST(SubmitCheckTest, RefusesWhatTheClusterCouldNeverRun) {
  auto c = Static();
  auto spec = Spec();
  spec.clear_argv();
  EXPECT_NE(Error(spec, c).find("nothing to run"), std::string::npos);
  spec = Spec();
  spec.set_work_dir("relative");
  EXPECT_NE(Error(spec, c).find("absolute"), std::string::npos);
  spec = Spec();
  spec.set_cpus_per_task(8);  // no node has 8 cpus
  EXPECT_NE(Error(spec, c), "");
  spec = Spec();
  spec.set_gpus(1);
  EXPECT_EQ(Error(spec, c), "");  // node2 has one
  spec = Spec();
  spec.add_nodelist("node9");
  EXPECT_EQ(Error(spec, c), "Invalid node name specified (node9 is not a node of this cluster)");
  spec = Spec();
  spec.add_nodelist("node1");
  spec.add_exclude("node1");
  EXPECT_NE(Error(spec, c).find("both"), std::string::npos);
  spec = Spec();
  spec.add_array_indices(3);
  spec.add_array_indices(2);
  EXPECT_NE(Error(spec, c).find("increasing"), std::string::npos);
  spec = Spec();
  auto* term = spec.mutable_dependency()->add_terms();
  term->set_type("afterok");
  term->add_job_ids("7");
  term->add_job_ids("8_1");
  EXPECT_EQ(Error(spec, c), "");
  term->add_job_ids("9");
  EXPECT_EQ(Error(spec, c), "") << "a job the cluster does not know is gone, as in Slurm";
  pb::JobSpec checked = spec;
  ASSERT_TRUE(CheckSubmit(&checked, c).ok());
  ASSERT_EQ(checked.dependency().terms_size(), 1);
  EXPECT_EQ(checked.dependency().terms(0).job_ids_size(), 2) << "job 9 is dropped";
  spec.mutable_dependency()->mutable_terms(0)->clear_job_ids();
  spec.mutable_dependency()->mutable_terms(0)->add_job_ids("9");
  checked = spec;
  ASSERT_TRUE(CheckSubmit(&checked, c).ok());
  EXPECT_FALSE(checked.has_dependency()) << "nothing left to wait for";
  term = spec.mutable_dependency()->mutable_terms(0);
  term->set_type("before");
  EXPECT_NE(Error(spec, c).find("unknown dependency type"), std::string::npos);
}

TEST(SubmitCheckTest, AnElasticClusterChecksItsNodeTypes) {
  std::vector<autoscaler::NodeType> types = {{"small", 2, 4096}, {"big", 8, 16384}};
  SubmitCluster c;
  c.types = &types;
  c.nodes = {{"big-1", "big", {8, 16384, 0}}};
  c.job_exists = [](const std::string&) { return false; };
  auto spec = Spec();
  spec.set_cpus_per_task(8);
  EXPECT_EQ(Error(spec, c), "");
  spec.set_cpus_per_task(16);
  EXPECT_NE(Error(spec, c).find("no node type can hold the job"), std::string::npos);
  spec = Spec();
  spec.set_partition("tiny");
  EXPECT_EQ(Error(spec, c), "invalid partition specified: tiny\nInvalid partition name specified");
  // -w names nodes that are up now, and the job takes their partition.
  spec = Spec();
  spec.add_nodelist("big-1");
  ASSERT_TRUE(CheckSubmit(&spec, c).ok());
  EXPECT_EQ(spec.partition(), "big");
  spec = Spec();
  spec.add_nodelist("small-1");
  EXPECT_NE(Error(spec, c).find("-w names nodes that are up now"), std::string::npos);
  spec = Spec();
  spec.add_exclude("small-7");  // -x may name nodes that come later
  EXPECT_EQ(Error(spec, c), "");
}

}  // namespace
}  // namespace swell::head
