#include "head/config/config.h"

#include <gtest/gtest.h>

namespace swell::head::config {
namespace {

TEST(ConfigTest, EmptyFileGivesDefaults) {
  auto c = Parse("", "c.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->nodes, 2);
  EXPECT_EQ(c->policy, "clic");
  EXPECT_TRUE(c->node_types.empty());
}

TEST(ConfigTest, EverySection) {
  auto c = Parse(R"(
[cluster]
nodes = 0
node_timeout_s = 3

[provider]
kind = "local"
boot_seconds = 4

[autoscaler]
policy = "greedy"
min_lifetime_s = 60
max_nodes = 5
wait_weight = 0.5

[[node_type]]
name = "small"
cpus = 2
memory_mb = 8192
price_per_hour = 0.1
boot_seconds = 30
max_nodes = 3

[[node_type]]
name = "gpu"
cpus = 8
memory_mb = 65536
gpus = 1
spot = true
)",
                 "c.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->nodes, 0);
  EXPECT_EQ(c->node_timeout_s, 3);
  EXPECT_EQ(c->provider_boot_s, 4);
  EXPECT_EQ(c->policy, "greedy");
  EXPECT_EQ(c->policy_options.min_lifetime, std::chrono::seconds(60));
  EXPECT_EQ(c->policy_options.max_nodes, 5);
  EXPECT_DOUBLE_EQ(c->policy_options.wait_weight, 0.5);
  ASSERT_EQ(c->node_types.size(), 2u);
  EXPECT_EQ(c->node_types[0].name, "small");
  EXPECT_EQ(c->node_types[0].boot, std::chrono::seconds(30));
  EXPECT_EQ(c->node_types[0].max_nodes, 3);
  EXPECT_DOUBLE_EQ(c->node_types[0].price_per_hour, 0.1);
  EXPECT_TRUE(c->node_types[1].spot);
  EXPECT_EQ(c->node_types[1].gpus, 1);
}

TEST(ConfigTest, ClicProductFormIsNamedAsClicNamesIt) {
  auto c = Parse(R"(
[clic]
cpus = [1, 4]
memory = ["standard", "highmem", "highcpu"]
disk_gb = [10, 100]
)",
                 "c.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  // 1 cpu: standard only (x2 disks); 4 cpus: three classes x two disks.
  ASSERT_EQ(c->node_types.size(), 8u);
  EXPECT_EQ(c->node_types[0].name, "1cpu10diskstandard");
  EXPECT_EQ(c->node_types[0].memory_mb, 3840);
  EXPECT_EQ(c->node_types[2].name, "4cpu10diskstandard");
  EXPECT_EQ(c->node_types[2].memory_mb, 15360);
  EXPECT_EQ(c->node_types[5].name, "4cpu100diskhighmem");
  EXPECT_EQ(c->node_types[5].memory_mb, 26624);
  EXPECT_EQ(c->node_types[7].name, "4cpu100diskhighcpu");
}

// A letter between U+00A1 and U+0499 where toml++ 3.3.0 looks for whitespace reached its
// __builtin_unreachable() (fuzz/cluster_toml_fuzzer): now a parse error like any other.
TEST(ConfigTest, NonAsciiWhereWhitespaceMayStandIsAnError) {
  for (const char* text : {"disk_gb = [10\xcf\xa2]\n", "a = 1\xd0\x96\n", "\xc2\xa1 = 1\n"}) {
    auto c = Parse(text, "c.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_NE(c.status().message().find("c.toml"), std::string::npos) << c.status().ToString();
  }
  // The whitespace it does know still is: U+00A0 is not allowed between tokens either.
  EXPECT_FALSE(Parse("nodes\xc2\xa0= 1\n", "c.toml").ok());
}

TEST(ConfigTest, MistakesNameTheLineAndTheKey) {
  struct Case {
    const char* text;
    const char* want;
  } cases[] = {
      {"[cluster]\nnodes = \"two\"\n", "c.toml:2: cluster.nodes must be an integer"},
      {"[cluster]\nnodes = -1\n", "cluster.nodes must be at least 0"},
      {"[cluster]\nnode = 2\n", "c.toml:2: unknown key 'node' in [cluster]"},
      {"[clusters]\n", "unknown table 'clusters'"},
      {"[autoscaler]\npolicy = \"magic\"\n", "unknown policy 'magic'"},
      {"[provider]\nkind = \"cloud\"\n", "provider.kind 'cloud'"},
      {"[[node_type]]\ncpus = 2\n", "needs a name"},
      {"[[node_type]]\nname = \"a\"\n[[node_type]]\nname = \"a\"\n", "two node types are named 'a'"},
      {"[clic]\ncpus = [2]\nmemory = [\"huge\"]\ndisk_gb = [10]\n", "unknown class 'huge'"},
      {"[cluster\n", "c.toml:1:"},
      {"[[node_type]]\nname = \"a\"\ncpus = 2147483648\n", "node_type.cpus is too large"},
      {"[autoscaler]\nmin_lifetime_s = 9300000000000000\n", "more than ten years"},
      {"[autoscaler]\nwait_weight = -1\n", "c.toml:2: autoscaler.wait_weight must be a number"},
      {"[autoscaler]\npolicy = \"oracle\"\n", "only the simulator"},
      {"[clic]\ncpus = [4294967297]\nmemory = [\"standard\"]\ndisk_gb = [10]\n", "from 1 to"},
      {"[provider]\nkind = \"command\"\ncreate = \"/c\"\n", "needs provider.create"},
      {"[provider]\nhosts = [1]\n", "c.toml:2: provider.hosts must hold host names"},
      {"[autoscaler]\ninterval_s = 0.001\n", "interval_s must be from 0.05"},
      {"[autoscaler]\nmax_preemptions = 0\n", "autoscaler.max_preemptions must be at least 1"},
      {"[provider]\nboot_seconds = 7200\n", "provider.boot_seconds must be at most 3600"},
      {"[provider]\nboot_seconds = -1\n", "c.toml:2: provider.boot_seconds must be a number"},
      {"[slurm]\nembedded = true\n[[node_type]]\nname = \"a\"\n", "needs provider.kind = \"netns\""},
      {"[slurm]\nembedded = 1\n", "c.toml:2: slurm.embedded must be"},
      {"[slurm]\nconf = \"/etc\"\n", "unknown key 'conf' in [slurm]"},
      {"[cluster]\nhttp = \"8080\"\n", "cluster.http must be host:port, not '8080'"},
      {"[cluster]\nhttp = \"127.0.0.1:99999\"\n", "cluster.http must be host:port"},
      {"[cluster]\nhttp = \"0.0.0.0:8080\"\n", "is not a loopback address: the dashboard needs TLS"},
  };
  for (const auto& k : cases) {
    auto c = Parse(k.text, "c.toml");
    ASSERT_FALSE(c.ok()) << k.text;
    EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
    EXPECT_NE(c.status().message().find(k.want), std::string::npos)
        << "for:\n" << k.text << "got: " << c.status().message();
  }
}

TEST(ConfigTest, TheExamplesParse) {
  for (const char* name :
       {"embedded.toml", "clic.toml", "local-elastic.toml", "slurm-netns.toml"}) {
    auto c = Load(std::string(SWELL_SOURCE_DIR) + "/examples/clusters/" + name);
    EXPECT_TRUE(c.ok()) << name << ": " << c.status().ToString();
  }
  auto clic = Load(std::string(SWELL_SOURCE_DIR) + "/examples/clusters/clic.toml");
  ASSERT_TRUE(clic.ok());
  EXPECT_EQ(clic->node_types.size(), 2u + 3 * 6);  // 1 cpu: standard only
}

TEST(ConfigTest, ElasticKeysAndTheSavedClusterFile) {
  auto c = Parse(
      "[provider]\nkind = \"command\"\ncreate = \"/c\"\ndelete = \"/d\"\nlist = \"/l\"\n"
      "timeout_s = 5\nboot_seconds = 1.5\n[autoscaler]\ncreates_per_minute = 3\ndeletes_per_minute = 4\n"
      "budget_per_hour = 1.5\nmax_preemptions = 2\ninterval_s = 0.5\n"
      "[[node_type]]\nname = \"a\"\ncpus = 2\n",
      "c.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->provider_delete, "/d");
  EXPECT_EQ(c->provider_timeout_s, 5);
  EXPECT_DOUBLE_EQ(c->provider_boot_s, 1.5);  // fractions: time-compressed replays
  EXPECT_EQ(c->creates_per_minute, 3);
  EXPECT_EQ(c->deletes_per_minute, 4);
  EXPECT_DOUBLE_EQ(c->budget_per_hour, 1.5);
  EXPECT_DOUBLE_EQ(c->interval_s, 0.5);
  EXPECT_TRUE(c->elastic());
  // `swell up --nodes 3` keeps everything else of the file and replaces [cluster].
  ClusterConfig settings = *c;
  settings.nodes = 3;
  auto saved = WithClusterTable("[cluster]\nnodes = 1\n[[node_type]]\nname = \"a\"\ncpus = 2\n",
                                "c.toml", settings);
  ASSERT_TRUE(saved.ok());
  auto again = Parse(*saved, "saved.toml");
  ASSERT_TRUE(again.ok()) << *saved;
  EXPECT_EQ(again->nodes, 3);
  ASSERT_EQ(again->node_types.size(), 1u);
  EXPECT_EQ(again->node_types[0].cpus, 2);
}

}  // namespace
}  // namespace swell::head::config
