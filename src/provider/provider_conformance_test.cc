// One conformance suite for every provider (the contract in provider.h), each against a real
// head in this process and real `swell node` daemons: local, command (with the
// examples/providers/local-scripts), netns (root only) and faulty(local) with no faults. Then
// what only one kind has: the command provider's timeouts and errors, the static provider, the
// netns network layout, the factory.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "common/files.h"
#include "common/process.h"
#include "common/secret.h"
#include "head/head.h"
#include "provider/faulty.h"
#include "provider/local.h"
#include "provider/providers.h"
#include "provider/static.h"
#include "rpc/client.h"
#include "testing/scratch.h"

#ifndef SWELL_BIN
#error "SWELL_BIN must name the swell binary"
#endif
#ifndef SWELL_SOURCE_DIR
#error "SWELL_SOURCE_DIR must name the source tree"
#endif

namespace swell::provider {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;

const std::string kScripts = std::string(SWELL_SOURCE_DIR) + "/examples/providers/local-scripts";

using swell::testing::GoneSoon;
using swell::testing::ParsePids;
using swell::testing::TempDir;

// Network names of this test process, so runs in parallel and a user's own cluster on this
// machine (swell0, 10.213.0.0/24, swell-*) are never touched.
NetnsOptions TestNetnsOptions() {
  int pid = getpid();
  NetnsOptions o;
  o.bridge = "swt" + std::to_string(pid % 100000);
  o.subnet =
      "10." + std::to_string(200 + pid % 50) + "." + std::to_string(pid / 50 % 250) + ".0/24";
  o.prefix = "swt" + std::to_string(pid) + "-";
  o.boot_delay = 1s;
  o.stop_timeout = 10s;
  return o;
}

// Runs `ip args...`, for setting up and checking what the provider should (not) touch.
bool Ip(std::vector<std::string> args) {
  args.insert(args.begin(), "ip");
  RunOptions o;
  o.timeout = 30s;
  auto r = RunCommand(args, o);
  return r.ok() && r->exit_code == 0;
}

// Removes whatever a netns test may have left, even when the provider itself failed: the
// namespaces with the test's prefix (and their processes) and the bridge.
class NetnsGuard {
 public:
  explicit NetnsGuard(NetnsOptions o) : o_(std::move(o)) {}
  ~NetnsGuard() {
    std::error_code ec;
    for (auto& e : std::filesystem::directory_iterator("/run/netns", ec)) {
      std::string ns = e.path().filename().string();
      if (ns.rfind(o_.prefix, 0) != 0 &&
          std::find(extra_.begin(), extra_.end(), ns) == extra_.end())
        continue;
      auto pids = RunCommand({"ip", "netns", "pids", ns}, {});
      for (pid_t p : pids.ok() ? ParsePids(pids->out) : std::vector<pid_t>{}) {
        kill(p, SIGKILL);
        StopProcess(p, 5s);  // reaps it when it is our child
      }
      Ip({"netns", "delete", ns});
    }
    // Host ends of veth pairs (<bridge>v<k>), then the bridge.
    for (auto& e : std::filesystem::directory_iterator("/sys/class/net", ec))
      if (e.path().filename().string().rfind(o_.bridge + "v", 0) == 0)
        Ip({"link", "delete", e.path().filename().string()});
    if (access(("/sys/class/net/" + o_.bridge).c_str(), F_OK) == 0)
      Ip({"link", "delete", o_.bridge});
  }
  // Another namespace to remove at the end (one the provider must not list).
  void Add(const std::string& ns) { extra_.push_back(ns); }

 private:
  NetnsOptions o_;
  std::vector<std::string> extra_;
};

// Kills the daemons every node directory names, whatever the provider did: the last line of
// defence against a daemon outliving its test.
void KillNodeDaemons(const std::string& home) {
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator(home + "/nodes", ec))
    for (const char* file : {"/instance", "/pid"})
      if (pid_t pid = ReadLivePid(e.path().string() + file); pid > 0 && pid != getpid())
        StopProcess(pid, 5s);
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// A head in this process with its state, socket and secret in a temporary directory.
class TestHead {
 public:
  // `tcp`: also listen there (netns nodes reach the head over the bridge).
  Status Start(const std::string& home, const std::string& tcp) {
    SWELL_ASSIGN_OR_RETURN(secret_, LoadOrCreateSecret(home + "/secret"));
    head::HeadOptions o;
    o.state_path = home + "/state.db";
    o.unix_path = home + "/head.sock";
    o.tcp_address = tcp;
    o.secret = secret_;
    o.node_timeout = 3s;
    SWELL_ASSIGN_OR_RETURN(head_, head::Head::Open(o, &clock_));
    SWELL_RETURN_IF_ERROR(head_->Start());
    client_ = rpc::HeadClient::Create({"unix:" + o.unix_path, ""});
    return Status::Ok();
  }
  void Stop() {
    if (head_) head_->Stop();
  }
  int tcp_port() const { return head_->tcp_port(); }

  // Polls the head's node list until node `name` satisfies `pred` (absent: nullptr).
  Result<pb::NodeInfo> WaitNode(const std::string& name,
                                const std::function<bool(const pb::NodeInfo*)>& pred,
                                Duration timeout = 30s) {
    auto end = std::chrono::steady_clock::now() + timeout;
    std::string last = "absent";
    for (;;) {
      auto r = client_->Nodes({});
      if (r.ok()) {
        const pb::NodeInfo* found = nullptr;
        for (const auto& n : r->nodes())
          if (n.name() == name) found = &n;
        if (pred(found)) return found ? *found : pb::NodeInfo();
        last = found ? found->state() : "absent";
      }
      if (std::chrono::steady_clock::now() > end)
        return DeadlineExceeded("node " + name + " stayed " + last);
      std::this_thread::sleep_for(50ms);
    }
  }
  Result<pb::NodeInfo> WaitUp(const std::string& name) {
    return WaitNode(name, [](const pb::NodeInfo* n) {
      return n && n->state() != "DOWN" && n->state() != "UNKNOWN";
    });
  }
  // The head noticed the session end: the node is no longer up (or is gone from the list).
  Result<pb::NodeInfo> WaitGone(const std::string& name) {
    return WaitNode(name, [](const pb::NodeInfo* n) {
      return !n || n->state() == "DOWN" || n->state() == "UNKNOWN";
    });
  }

 private:
  SystemClock clock_;
  std::string secret_;
  std::unique_ptr<head::Head> head_;
  std::unique_ptr<rpc::HeadClient> client_;
};

head::autoscaler::NodeType Small() {
  head::autoscaler::NodeType t;
  t.name = "small";
  t.cpus = 1;
  t.memory_mb = 256;
  return t;
}

class ProviderConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    home_ = dir_.path();
    std::string kind = GetParam();
    std::string tcp;
    if (kind == "netns") {
      if (geteuid() != 0)
        GTEST_SKIP() << "the netns provider needs root (it makes network namespaces, a bridge "
                        "and veth pairs); run the tests as root";
      netns_options_ = TestNetnsOptions();
      guard_ = std::make_unique<NetnsGuard>(netns_options_);
      auto bind = PrepareNetns(netns_options_);
      ASSERT_TRUE(bind.ok()) << bind.status().ToString();
      tcp = *bind;
    }
    ASSERT_TRUE(head_.Start(home_, tcp).ok());
    ProviderContext ctx;
    ctx.home = home_;
    ctx.swell_exe = SWELL_BIN;
    ctx.head_address = "unix:" + home_ + "/head.sock";
    ctx.secret_file = home_ + "/secret";
    ctx.kill_wait_s = 1;
    if (kind == "local") {
      provider_ = MakeLocalProvider(ctx, {.boot_delay = 1s, .stop_timeout = 10s});
    } else if (kind == "faulty_local") {
      provider_ = std::make_unique<FaultyProvider>(
          MakeLocalProvider(ctx, {.boot_delay = 1s, .stop_timeout = 10s}), FaultPlan{});
    } else if (kind == "command") {
      CommandOptions o;
      o.create = kScripts + "/create";
      o.remove = kScripts + "/delete";
      o.list = kScripts + "/list";
      o.timeout = 60s;
      o.env = {"SWELL_BOOT_DELAY=1", "SWELL_STOP_TIMEOUT=10"};
      auto p = MakeCommandProvider(ctx, o);
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      provider_ = std::move(p).value();
    } else if (kind == "netns") {
      // The head listens on "<bridge address>:0"; nodes dial the port it got.
      ctx.head_address = tcp.substr(0, tcp.rfind(':')) + ":" + std::to_string(head_.tcp_port());
      auto p = MakeNetnsProvider(ctx, netns_options_);
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      netns_ = p->get();
      provider_ = std::move(p).value();
    }
    ASSERT_TRUE(provider_);
  }

  void TearDown() override {
    // Nodes first, while the head still listens; then whatever a failed Delete left.
    if (provider_) {
      auto names = provider_->List();
      if (names.ok())
        for (const auto& n : *names) (void)provider_->Delete(n);
      if (netns_) (void)netns_->Teardown();
    }
    KillNodeDaemons(home_);
    head_.Stop();
    if (provider_) (void)provider_->Cleanup();
    guard_.reset();
  }

  TempDir dir_;
  std::string home_;
  TestHead head_;
  NetnsOptions netns_options_;
  std::unique_ptr<NetnsGuard> guard_;
  std::unique_ptr<Provider> provider_;
  NetnsProvider* netns_ = nullptr;  // provider_, when it is netns
};

TEST_P(ProviderConformance, CreateRegistersAndDeleteEnds) {
  // Create returns once the request is accepted, long before the node has booted (1 s).
  ASSERT_TRUE(provider_->Create("t-1", Small()).ok());
  auto listed = provider_->List();
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_TRUE(Contains(*listed, "t-1")) << "a booting node is an instance too";

  auto up = head_.WaitUp("t-1");
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  pid_t pid = up->pid();
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(ProcessAlive(pid));
  // It joins as a node of its type. (Read from its command line: the head's node list does not
  // report partitions yet.)
  auto cmdline = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  ASSERT_TRUE(cmdline.ok());
  EXPECT_NE(cmdline->find("--partition\0small\0"s), std::string::npos);
  EXPECT_NE(cmdline->find("--name\0t-1\0"s), std::string::npos);
  listed = provider_->List();
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(Contains(*listed, "t-1"));

  Status del = provider_->Delete("t-1");
  ASSERT_TRUE(del.ok()) << del.ToString();
  listed = provider_->List();
  ASSERT_TRUE(listed.ok());
  EXPECT_FALSE(Contains(*listed, "t-1"));
  EXPECT_TRUE(GoneSoon(pid)) << "the node daemon (pid " << pid << ") still runs";
  auto gone = head_.WaitGone("t-1");
  EXPECT_TRUE(gone.ok()) << gone.status().ToString();

  // Idempotent: again, and for a name that never existed.
  EXPECT_TRUE(provider_->Delete("t-1").ok());
  EXPECT_TRUE(provider_->Delete("never-made").ok());
}

TEST_P(ProviderConformance, ListNamesOnlyItsOwnInstances) {
  auto listed = provider_->List();
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_TRUE(listed->empty());
  // A static node of `swell up`: a node directory with a live pid file but no `instance`.
  ASSERT_TRUE(MakeDirs(home_ + "/nodes/static1").ok());
  ASSERT_TRUE(WriteFileAtomic(home_ + "/nodes/static1/pid", std::to_string(getpid())).ok());
  if (netns_) {
    // Someone else's namespace, and one whose name merely contains ours.
    std::string other = "other-" + std::to_string(getpid());
    std::string lookalike = "x" + netns_options_.prefix + "t-9";
    guard_->Add(other);
    guard_->Add(lookalike);
    ASSERT_TRUE(Ip({"netns", "add", other}));
    ASSERT_TRUE(Ip({"netns", "add", lookalike}));
  }
  ASSERT_TRUE(provider_->Create("t-1", Small()).ok());
  listed = provider_->List();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, std::vector<std::string>{"t-1"});
  ASSERT_TRUE(provider_->Delete("t-1").ok());
  listed = provider_->List();
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST_P(ProviderConformance, ParallelCreatesFromTwoThreads) {
  Status s1, s2;
  std::thread a([&] { s1 = provider_->Create("t-1", Small()); });
  std::thread b([&] { s2 = provider_->Create("t-2", Small()); });
  a.join();
  b.join();
  ASSERT_TRUE(s1.ok()) << s1.ToString();
  ASSERT_TRUE(s2.ok()) << s2.ToString();
  auto up1 = head_.WaitUp("t-1");
  auto up2 = head_.WaitUp("t-2");
  ASSERT_TRUE(up1.ok()) << up1.status().ToString();
  ASSERT_TRUE(up2.ok()) << up2.status().ToString();
  EXPECT_NE(up1->pid(), up2->pid());
  if (netns_) {
    auto ip1 = netns_->NodeAddress("t-1"), ip2 = netns_->NodeAddress("t-2");
    ASSERT_TRUE(ip1.ok() && ip2.ok());
    EXPECT_NE(*ip1, *ip2);
  }
  std::thread c([&] { s1 = provider_->Delete("t-1"); });
  std::thread d([&] { s2 = provider_->Delete("t-2"); });
  c.join();
  d.join();
  EXPECT_TRUE(s1.ok()) << s1.ToString();
  EXPECT_TRUE(s2.ok()) << s2.ToString();
  auto listed = provider_->List();
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

INSTANTIATE_TEST_SUITE_P(Providers, ProviderConformance,
                         ::testing::Values("local", "command", "netns", "faulty_local"),
                         [](const auto& info) { return info.param; });

// What only the netns provider promises, on the same fixture.
class NetnsNode : public ProviderConformance {};

// A netns node is a host of its own: its own name, address and network namespace.
TEST_P(NetnsNode, HasItsOwnHostnameAndAddress) {
  ASSERT_TRUE(provider_->Create("t-1", Small()).ok());
  auto up = head_.WaitUp("t-1");
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  EXPECT_EQ(up->hostname(), "t-1");
  EXPECT_NE(up->hostname(), host);

  auto ip = netns_->NodeAddress("t-1");
  ASSERT_TRUE(ip.ok()) << ip.status().ToString();
  EXPECT_NE(*ip, netns_->BridgeAddress());
  std::string net_prefix = netns_->BridgeAddress().substr(0, netns_->BridgeAddress().rfind('.'));
  EXPECT_EQ(ip->rfind(net_prefix + ".", 0), 0u) << *ip << " is not in " << netns_options_.subnet;

  // The registered daemon runs in the node's namespace, not in ours.
  struct stat daemon_ns {
  }, node_ns{}, our_ns{};
  ASSERT_EQ(stat(("/proc/" + std::to_string(up->pid()) + "/ns/net").c_str(), &daemon_ns), 0);
  ASSERT_EQ(stat(("/run/netns/" + netns_options_.prefix + "t-1").c_str(), &node_ns), 0);
  ASSERT_EQ(stat("/proc/self/ns/net", &our_ns), 0);
  EXPECT_EQ(daemon_ns.st_ino, node_ns.st_ino);
  EXPECT_NE(daemon_ns.st_ino, our_ns.st_ino);
  // And there its address is on eth0, its way out goes through the bridge.
  auto route = RunCommand({"nsenter", "--net=/run/netns/" + netns_options_.prefix + "t-1", "ip",
                           "-4", "route", "show", "default"},
                          {});
  ASSERT_TRUE(route.ok());
  EXPECT_NE(route->out.find("via " + netns_->BridgeAddress()), std::string::npos) << route->out;

  ASSERT_TRUE(provider_->Delete("t-1").ok());
  EXPECT_NE(access(("/run/netns/" + netns_options_.prefix + "t-1").c_str(), F_OK), 0);
  std::string veth = netns_options_.bridge + "v" + ip->substr(ip->rfind('.') + 1);
  EXPECT_NE(access(("/sys/class/net/" + veth).c_str(), F_OK), 0) << veth << " is left";
}

// The bridge keeps its MAC address as nodes come and go: the nodes' ARP entries for the head's
// address stay right (a bridge left to itself takes its lowest port's address, and a node
// that goes would send the others' traffic to the head nowhere until their entries expire).
TEST_P(NetnsNode, TheBridgeKeepsItsAddressAsNodesComeAndGo) {
  const std::string address = "/sys/class/net/" + netns_options_.bridge + "/address";
  ASSERT_TRUE(provider_->Create("t-1", Small()).ok());
  auto before = ReadFile(address);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(before->rfind("02:73:77:", 0), 0u) << *before;
  ASSERT_TRUE(provider_->Create("t-2", Small()).ok());
  auto now = [&] {
    auto a = ReadFile(address);
    return a.ok() ? *a : a.status().ToString();
  };
  ASSERT_TRUE(provider_->Delete("t-1").ok());
  EXPECT_EQ(now(), *before);
  ASSERT_TRUE(provider_->Delete("t-2").ok());
  EXPECT_EQ(now(), *before);
}

// The bridge outlives nodes while the head runs; Cleanup removes it once none is left.
TEST_P(NetnsNode, CleanupRemovesTheBridgeOnlyWhenNoNodeIsLeft) {
  const std::string bridge = "/sys/class/net/" + netns_options_.bridge;
  ASSERT_TRUE(provider_->Create("t-1", Small()).ok());
  ASSERT_TRUE(netns_->Cleanup().ok());
  EXPECT_EQ(access(bridge.c_str(), F_OK), 0) << "a node still uses the bridge";
  ASSERT_TRUE(provider_->Delete("t-1").ok());
  EXPECT_EQ(access(bridge.c_str(), F_OK), 0) << "the head still listens on the bridge";
  ASSERT_TRUE(netns_->Cleanup().ok());
  EXPECT_NE(access(bridge.c_str(), F_OK), 0);
  EXPECT_TRUE(netns_->Cleanup().ok()) << "idempotent";
  // Teardown deletes the nodes first.
  ASSERT_TRUE(provider_->Create("t-2", Small()).ok());
  ASSERT_TRUE(netns_->Teardown().ok());
  auto listed = provider_->List();
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  EXPECT_NE(access(bridge.c_str(), F_OK), 0);
}

INSTANTIATE_TEST_SUITE_P(Netns, NetnsNode, ::testing::Values("netns"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace swell::provider
