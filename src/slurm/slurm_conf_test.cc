#include "slurm/slurm_conf.h"

#include <gtest/gtest.h>

#include "slurm/embedded.h"

namespace swell::slurm {
namespace {

namespace as = head::autoscaler;

as::NodeType Type(const std::string& name, int cpus, int64_t mem_mb, int gpus = 0,
                  int max_nodes = 4) {
  return {.name = name, .cpus = cpus, .memory_mb = mem_mb, .gpus = gpus, .max_nodes = max_nodes};
}

TEST(SlurmConfTest, OneNodesetAndPartitionPerType) {
  auto conf =
      SlurmConfFragment({Type("large", 4, 8000), Type("small", 1, 1000, 0, 8)}, 0, "c.toml");
  ASSERT_TRUE(conf.ok()) << conf.status().ToString();
  EXPECT_NE(conf->find("MaxNodeCount=12\n"), std::string::npos);  // 4 + 8
  EXPECT_NE(conf->find("TreeWidth=65533\n"), std::string::npos);
  EXPECT_NE(conf->find("JobSubmitPlugins=lua\n"), std::string::npos);
  EXPECT_NE(conf->find("Nodeset=swell_small Feature=small\n"), std::string::npos);
  EXPECT_NE(conf->find("PartitionName=large Nodes=swell_large MaxTime=INFINITE State=UP "
                       "Default=YES\n"),
            std::string::npos);
  EXPECT_NE(conf->find("PartitionName=small Nodes=swell_small MaxTime=INFINITE State=UP\n"),
            std::string::npos);
  EXPECT_EQ(conf->find("GresTypes"), std::string::npos);
  auto gpu = SlurmConfFragment({Type("gpu", 4, 8000, 2, 0)}, 0, "c.toml");
  ASSERT_TRUE(gpu.ok());
  EXPECT_NE(gpu->find("MaxNodeCount=1024\n"), std::string::npos);  // a type without a bound
  EXPECT_NE(gpu->find("GresTypes=gpu\n"), std::string::npos);
  auto capped = SlurmConfFragment({Type("a", 1, 0)}, 3, "c.toml");
  ASSERT_TRUE(capped.ok());
  EXPECT_NE(capped->find("MaxNodeCount=3\n"), std::string::npos);
}

TEST(SlurmConfTest, RefusesWhatSlurmCannotName) {
  EXPECT_FALSE(SlurmConfFragment({}, 0, "c.toml").ok());
  auto bad = SlurmConfFragment({Type("a b", 1, 0)}, 0, "c.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'a b'"), std::string::npos);
  as::NodeType t = Type("ok", 1, 0);
  t.features = {"x,y"};
  EXPECT_FALSE(SlurmConfFragment({t}, 0, "c.toml").ok());
}

TEST(SlurmConfTest, DynamicNodeConf) {
  EXPECT_EQ(DynamicNodeConf(Type("small", 2, 1000)), "CPUs=2 RealMemory=1000 Feature=small");
  as::NodeType t = Type("gpu", 8, 0, 2);
  t.features = {"a100", "ib"};
  EXPECT_EQ(DynamicNodeConf(t), "CPUs=8 Gres=gpu:2 Feature=gpu,a100,ib");
}

TEST(SlurmConfTest, LuaListsTheTypesSmallestFirst) {
  std::string lua =
      JobSubmitLua({Type("large", 4, 8000), Type("gpu", 4, 8000, 1), Type("small", 1, 1000)});
  size_t small = lua.find("name = \"small\""), large = lua.find("name = \"large\""),
         gpu = lua.find("name = \"gpu\"");
  ASSERT_NE(small, std::string::npos);
  EXPECT_LT(small, large);
  EXPECT_LT(large, gpu);  // same cpus and memory: fewer gpus first
  EXPECT_NE(lua.find("function slurm_job_submit("), std::string::npos);
  EXPECT_NE(lua.find("function slurm_job_modify("), std::string::npos);
  // One partition, the smallest that fits; the admin comment lists every type that fits.
  EXPECT_NE(lua.find("job_desc.partition = fit[1]"), std::string::npos);
  EXPECT_NE(lua.find("job_desc.admin_comment = \"swell:\" .. table.concat(fit, \",\")"),
            std::string::npos);
}

TEST(EmbeddedSlurmTest, ControllerOnTheBridgeAndTheTypesAfter) {
  EmbeddedSlurm e;
  e.dir = "/h/slurm";
  e.cluster_name = "swell";
  e.host = "box";
  e.address = "10.215.0.1";
  e.ctld_port = 7001;
  e.slurmd_port = 7002;
  e.munge_socket = "/h/slurm/munge/munge.socket";
  e.spool = "/run/swell/0a1b2c3d";
  std::string conf = EmbeddedSlurmConf(e, "PartitionName=small Nodes=swell_small\n");
  for (const char* line :
       {"ClusterName=swell\n", "SlurmctldHost=box(10.215.0.1)\n", "SlurmctldPort=7001\n",
        "SlurmdPort=7002\n", "AuthInfo=socket=/h/slurm/munge/munge.socket\n",
        "SlurmdSpoolDir=/run/swell/0a1b2c3d/%n/spool\n", "TmpFS=/run/swell/0a1b2c3d/%n/tmp\n",
        "SlurmdLogFile=/run/swell/0a1b2c3d/%n/slurmd.log\n", "StateSaveLocation=/h/slurm/ctld\n"})
    EXPECT_NE(conf.find(line), std::string::npos) << line;
  EXPECT_EQ(conf.substr(conf.size() - 38), "PartitionName=small Nodes=swell_small\n");
}

TEST(EmbeddedSlurmTest, ShortSpoolForSlurmstepdsSockets) {
  std::string a = SpoolRoot("/tmp/a-rather-long/home/of/someone/with/a/deep/tree");
  EXPECT_EQ(a.size(), std::string("/run/swell/0a1b2c3d").size());
  EXPECT_EQ(a, SpoolRoot("/tmp/a-rather-long/home/of/someone/with/a/deep/tree"));
  EXPECT_NE(a, SpoolRoot("/tmp/other"));
  // CLIC's type names fit; the socket is <spool>/<node>/spool/<node>_<job>.<step>.
  EXPECT_LE(LongestStepSocket(a, "4cpu100diskhighmem"), 107u);
  EXPECT_GT(LongestStepSocket(a, std::string(40, 'x')), 107u);
}

}  // namespace
}  // namespace swell::slurm
