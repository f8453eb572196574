// What needs no head: running commands under a deadline, the command provider's script
// contract (arguments, environment, errors, timeouts), the static provider and the factory.
// The conformance suite (provider_conformance_test.cc) covers the life of real nodes.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "common/files.h"
#include "common/process.h"
#include "provider/command.h"
#include "provider/local.h"
#include "provider/providers.h"
#include "provider/static.h"
#include "testing/scratch.h"

namespace swell::provider {
namespace {

using namespace std::chrono_literals;

using swell::testing::GoneSoon;
using swell::testing::PidFile;
using swell::testing::TempDir;

// ---- the command provider

ProviderContext Context(const std::string& home) {
  ProviderContext ctx;
  ctx.home = home;
  ctx.swell_exe = "/usr/bin/swell-test";
  ctx.head_address = "10.0.0.1:7000";
  ctx.secret_file = home + "/secret";
  ctx.kill_wait_s = 3;
  return ctx;
}

// ---- the node daemon's command line

TEST(NodeDaemonArgsTest, SwellNodeOrTheGivenCommandAfterTheBootDelay) {
  ProviderContext ctx = Context("/h");
  head::autoscaler::NodeType t;
  t.name = "small";
  auto swell = NodeDaemonArgs(ctx, "n1", t, 0s);
  ASSERT_GE(swell.size(), 2u);
  EXPECT_EQ(swell[0], "/usr/bin/swell-test");
  EXPECT_EQ(swell[1], "node");
  ctx.node_command = [](const std::string& name, const head::autoscaler::NodeType& type) {
    return std::vector<std::string>{"slurmd", "-N", name, type.name};
  };
  EXPECT_EQ(NodeDaemonArgs(ctx, "n1", t, 0s),
            (std::vector<std::string>{"slurmd", "-N", "n1", "small"}));
  EXPECT_EQ(NodeDaemonArgs(ctx, "n1", t, 1500ms),
            (std::vector<std::string>{"/bin/sh", "-c", "sleep \"$0\" && exec \"$@\"", "1.500",
                                      "slurmd", "-N", "n1", "small"}));
}

head::autoscaler::NodeType Gpu() {
  head::autoscaler::NodeType t;
  t.name = "gpu";
  t.cpus = 8;
  t.memory_mb = 61440;
  t.disk_gb = 100;
  t.gpus = 1;
  t.spot = true;
  return t;
}

TEST(CommandProvider, PassesNameTypeAndEnvironmentToTheScripts) {
  TempDir dir;
  std::string log = dir.path() + "/log";
  std::string dump = "echo \"$0 $*\" >> " + log + "; env | grep '^SWELL_' | sort >> " + log + "\n";
  CommandOptions o;
  o.create = dir.Script("create", dump);
  o.remove = dir.Script("delete", dump);
  o.list = dir.Script("list", dump + "echo a\necho '# a comment'\necho\necho '  b  '\n");
  o.env = {"SWELL_CLUSTER=c1"};
  auto p = MakeCommandProvider(Context(dir.path()), o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE((*p)->Create("gpu-3", Gpu()).ok());
  auto text = ReadFile(log);
  ASSERT_TRUE(text.ok());
  for (const std::string& want : std::vector<std::string>{
           o.create + " gpu-3 gpu\n", "SWELL_NODE_NAME=gpu-3\n", "SWELL_NODE_TYPE=gpu\n",
           "SWELL_NODE_CPUS=8\n", "SWELL_NODE_MEMORY_MB=61440\n", "SWELL_NODE_DISK_GB=100\n",
           "SWELL_NODE_GPUS=1\n", "SWELL_NODE_SPOT=1\n", "SWELL_HEAD_ADDRESS=10.0.0.1:7000\n",
           "SWELL_SECRET_FILE=" + dir.path() + "/secret\n", "SWELL_HOME=" + dir.path() + "\n",
           "SWELL_EXE=/usr/bin/swell-test\n", "SWELL_KILL_WAIT_S=3\n", "SWELL_CLUSTER=c1\n"})
    EXPECT_NE(text->find(want), std::string::npos) << "missing " << want << " in\n" << *text;

  unlink(log.c_str());
  ASSERT_TRUE((*p)->Delete("gpu-3").ok());
  text = ReadFile(log);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find(o.remove + " gpu-3\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("SWELL_NODE_NAME=gpu-3\n"), std::string::npos) << *text;
  EXPECT_EQ(text->find("SWELL_NODE_TYPE"), std::string::npos) << *text;

  auto names = (*p)->List();
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "b"}));
}

TEST(CommandProvider, FailingScriptReportsItsStderr) {
  TempDir dir;
  CommandOptions o;
  o.create = dir.Script("create",
                        "echo progress\necho 'quota exceeded for n2-standard-8' >&2\n"
                        "exit 3\n");
  o.remove = dir.Script("delete", "echo 'permission denied' >&2\nexit 1\n");
  o.list = dir.Script("list", "exit 2\n");
  auto p = MakeCommandProvider(Context(dir.path()), o);
  ASSERT_TRUE(p.ok());
  Status s = (*p)->Create("n-1", Gpu());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("quota exceeded for n2-standard-8"), std::string::npos)
      << s.ToString();
  EXPECT_NE(s.message().find("exited with 3"), std::string::npos) << s.ToString();
  EXPECT_EQ(s.message().find("progress"), std::string::npos) << "stdout is not the error";
  s = (*p)->Delete("n-1");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("permission denied"), std::string::npos) << s.ToString();
  auto names = (*p)->List();
  ASSERT_FALSE(names.ok());
  EXPECT_NE(names.status().message().find("no stderr"), std::string::npos);
}

TEST(CommandProvider, HungScriptIsKilledAfterItsTimeout) {
  TempDir dir;
  PidFile pids;
  CommandOptions o;
  o.create = dir.Script("create", "sleep 1000 &\necho $! > " + pids.path() + "\necho $$ >> " +
                                      pids.path() + "\necho 'waiting for the cloud' >&2\nwait\n");
  o.remove = dir.Script("delete", "exit 0\n");
  o.list = dir.Script("list", "exec sleep 1000\n");
  o.timeout = 1s;
  o.kill_grace = 1s;
  auto p = MakeCommandProvider(Context(dir.path()), o);
  ASSERT_TRUE(p.ok());
  Status s = (*p)->Create("n-1", Gpu());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kDeadlineExceeded) << s.ToString();
  EXPECT_NE(s.message().find("waiting for the cloud"), std::string::npos) << s.ToString();
  auto started = pids.Pids();
  ASSERT_EQ(started.size(), 2u);
  for (pid_t pid : started) EXPECT_TRUE(GoneSoon(pid)) << "pid " << pid << " survived";
  auto names = (*p)->List();
  ASSERT_FALSE(names.ok());
  EXPECT_EQ(names.status().code(), Code::kDeadlineExceeded);
}

TEST(CommandProvider, RefusesMissingScriptsAndBadNames) {
  TempDir dir;
  CommandOptions o;
  o.create = dir.Script("create", "exit 0\n");
  o.remove = dir.path() + "/missing";
  o.list = dir.Script("list", "exit 0\n");
  auto p = MakeCommandProvider(Context(dir.path()), o);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("`delete`"), std::string::npos) << p.status().message();
  o.remove = dir.Script("delete", "exit 0\n");
  p = MakeCommandProvider(Context(dir.path()), o);
  ASSERT_TRUE(p.ok());
  // A name goes to a shell script and into paths: nothing odd gets there.
  for (const char* bad : {"", "../x", "a b", "-rf", "a;b", ".hidden"})
    EXPECT_EQ((*p)->Create(bad, Gpu()).code(), Code::kInvalidArgument) << bad;
}

// ---- the static provider

TEST(StaticProvider, ListsItsHostsAndNeverCreates) {
  auto p = MakeStaticProvider({"gpu1", "gpu2"});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)->kind(), "static");
  Status s = (*p)->Create("gpu3", Gpu());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("the static provider cannot create nodes"), std::string::npos);
  EXPECT_NE(s.message().find("add hosts to the list"), std::string::npos);
  EXPECT_TRUE((*p)->Delete("gpu1").ok());
  EXPECT_TRUE((*p)->Delete("unknown").ok());
  auto names = (*p)->List();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"gpu1", "gpu2"}));
}

TEST(StaticProvider, RefusesBadOrRepeatedHosts) {
  EXPECT_FALSE(MakeStaticProvider({"a", "a"}).ok());
  EXPECT_FALSE(MakeStaticProvider({"ok", "not ok"}).ok());
  auto empty = MakeStaticProvider({});
  ASSERT_TRUE(empty.ok());
  auto names = (*empty)->List();
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty());
}

// ---- the factory

TEST(ProviderFactory, MakesEachKindFromItsConfig) {
  TempDir dir;
  auto ctx = Context(dir.path());
  ProviderConfig c;
  auto local = MakeProvider(c, ctx);
  ASSERT_TRUE(local.ok());
  EXPECT_EQ((*local)->kind(), "local");

  c.kind = "static";
  c.hosts = {"h1"};
  auto st = MakeProvider(c, ctx);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ((*st)->kind(), "static");

  c.kind = "command";
  EXPECT_FALSE(MakeProvider(c, ctx).ok()) << "no scripts";
  c.create = dir.Script("c", "exit 0\n");
  c.remove = dir.Script("d", "exit 0\n");
  c.list = dir.Script("l", "echo x\n");
  auto cmd = MakeProvider(c, ctx);
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  EXPECT_EQ((*cmd)->kind(), "command");

  c.kind = "netns";
  auto ns = MakeProvider(c, ctx);
  if (geteuid() == 0) {
    ASSERT_TRUE(ns.ok()) << ns.status().ToString();
    EXPECT_EQ((*ns)->kind(), "netns");  // nothing is made until the first Create
    c.subnet = "10.213.0.0/8";
    EXPECT_EQ(MakeProvider(c, ctx).status().code(), Code::kInvalidArgument);
    c.subnet = "10.213.0.0/24";
    c.bridge = "much-too-long";
    EXPECT_EQ(MakeProvider(c, ctx).status().code(), Code::kInvalidArgument);
  } else {
    EXPECT_EQ(ns.status().code(), Code::kPermissionDenied);
  }

  c.kind = "cloud";
  auto bad = MakeProvider(c, ctx);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("local, netns, command, static"), std::string::npos);
}

}  // namespace
}  // namespace swell::provider
