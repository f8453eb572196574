#include "slurm/autoscale.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

#include "common/files.h"

namespace swell::slurm {
namespace {

namespace as = head::autoscaler;
namespace el = head::elastic;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A Slurm that a test drives: its jobs and nodes as the test sets them; a node the provider
// makes registers at once (as slurmd -Z would), and every call is logged in order.
class FakeSlurm final : public SlurmControl {
 public:
  Result<std::vector<SlurmJob>> Jobs() override {
    std::lock_guard<std::mutex> lock(mu);
    if (on_read) on_read();
    return jobs;
  }
  Result<std::vector<SlurmNode>> Nodes() override {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<SlurmNode> out;
    for (const auto& [name, n] : nodes) out.push_back(n);
    return out;
  }
  Status Drain(const std::string& node, const std::string&) override {
    std::lock_guard<std::mutex> lock(mu);
    log.push_back("drain " + node);
    nodes[node].flags.push_back("DRAIN");
    if (on_drain) on_drain(node);
    return Status::Ok();
  }
  Status DeleteNode(const std::string& node) override {
    std::lock_guard<std::mutex> lock(mu);
    log.push_back("scontrol delete " + node);
    nodes.erase(node);
    return Status::Ok();
  }
  Status SetPartitions(int64_t job, const std::string& partitions) override {
    std::lock_guard<std::mutex> lock(mu);
    log.push_back("partitions " + std::to_string(job) + " " + partitions);
    for (auto& j : jobs)
      if (j.id == job) j.partition = partitions;
    return Status::Ok();
  }

  // Puts `ids` (pending jobs) on `node` as running.
  void RunOn(const std::vector<int64_t>& ids, const std::string& node) {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& j : jobs)
      if (std::find(ids.begin(), ids.end(), j.id) != ids.end()) {
        j.state = "RUNNING";
        j.nodes = {node};
        nodes[node].alloc_cpus += j.tasks;
      }
  }
  void EndJobs() {
    std::lock_guard<std::mutex> lock(mu);
    jobs.clear();
    for (auto& [name, n] : nodes) n.alloc_cpus = 0;
  }

  std::mutex mu;
  std::vector<SlurmJob> jobs;
  std::map<std::string, SlurmNode> nodes;
  std::vector<std::string> log;
  std::set<std::string> machines;  // what the provider made and has not deleted
  std::function<void()> on_read;
  std::function<void(const std::string&)> on_drain;
};

// Machines whose slurmd registers with the fake Slurm as soon as they are made (kept in the
// fake Slurm, so that they outlive the provider object, as instances do).
class FakeMachines final : public provider::Provider {
 public:
  explicit FakeMachines(FakeSlurm* slurm) : slurm_(slurm) {}
  std::string kind() const override { return "fake"; }
  Status Create(const std::string& name, const as::NodeType& type) override {
    std::lock_guard<std::mutex> lock(slurm_->mu);
    slurm_->log.push_back("create " + name);
    slurm_->machines.insert(name);
    SlurmNode n;
    n.name = name;
    n.state = "idle";
    n.cpus = type.cpus;
    slurm_->nodes[name] = n;
    return Status::Ok();
  }
  Status Delete(const std::string& name) override {
    std::lock_guard<std::mutex> lock(slurm_->mu);
    slurm_->log.push_back("delete " + name);
    slurm_->machines.erase(name);
    slurm_->nodes[name].state = "down";
    slurm_->nodes[name].flags.push_back("NOT_RESPONDING");
    return Status::Ok();
  }
  Result<std::vector<std::string>> List() override {
    std::lock_guard<std::mutex> lock(slurm_->mu);
    return std::vector<std::string>(slurm_->machines.begin(), slurm_->machines.end());
  }

 private:
  FakeSlurm* slurm_;
};

SlurmJob Pending(int64_t id, const std::string& partition) {
  SlurmJob j;
  j.id = id;
  j.state = "PENDING";
  j.reason = "PartitionConfig";
  j.partition = partition;
  j.submit = FromMillis(1'700'000'000'000);
  return j;
}

class AutoscaleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    as::NodeType small;
    small.name = "small";
    small.cpus = 1;
    small.max_nodes = 4;
    AutoscaleOptions o;
    o.types = {small};
    o.policy = "greedy";  // a node per waiting job, an idle node goes at once
    o.pool.boot_timeout = seconds(120);
    o.provider_threads = 2;
    ledger_ = ::testing::TempDir() + "/autoscale-ledger-" + std::to_string(getpid()) + ".csv";
    std::remove(ledger_.c_str());
    o.ledger = ledger_;
    Start(o);
  }
  void Start(const AutoscaleOptions& o) {
    autoscaler_.reset();
    SlurmNodeOptions no;
    no.idle_wait = seconds(5);
    no.poll = milliseconds(5);
    provider_ = MakeSlurmNodeProvider(std::make_unique<FakeMachines>(&slurm_), &slurm_, no);
    auto a = Autoscaler::Make(o, &slurm_, provider_.get(), &clock_);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    autoscaler_ = std::move(*a);
  }

  // Passes (the clock standing still) until `done` holds or 5 s of real time went by.
  bool PassUntil(const std::function<bool()>& done) {
    for (int i = 0; i < 500; ++i) {
      EXPECT_TRUE(autoscaler_->Pass().ok());
      if (done()) return true;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return false;
  }
  int InPhase(el::Phase p) {
    int n = 0;
    for (const auto& [name, pn] : autoscaler_->pool().nodes()) n += pn.phase == p;
    return n;
  }
  std::vector<std::string> Log() {
    std::lock_guard<std::mutex> lock(slurm_.mu);
    return slurm_.log;
  }

  void TearDown() override { std::remove(ledger_.c_str()); }

  std::string ledger_;
  ManualClock clock_;
  FakeSlurm slurm_;
  std::unique_ptr<provider::Provider> provider_;
  std::unique_ptr<Autoscaler> autoscaler_;
};

TEST_F(AutoscaleTest, GrowsForWaitingJobsAndShrinksWhenIdleDrainingFirst) {
  for (int64_t id = 1; id <= 2; ++id) slurm_.jobs.push_back(Pending(id, "small"));
  slurm_.jobs.push_back(Pending(9, "small"));
  slurm_.jobs.back().reason = "JobHeldUser";        // not demand
  slurm_.jobs.push_back(Pending(10, "elsewhere"));  // not a partition of ours
  // A node per job; they register, and are idle.
  ASSERT_TRUE(PassUntil([&] { return InPhase(el::Phase::kIdle) == 2; }));
  EXPECT_EQ(autoscaler_->pool().nodes().size(), 2u);
  slurm_.RunOn({1}, "small-1");
  slurm_.RunOn({2}, "small-2");
  ASSERT_TRUE(PassUntil([&] { return InPhase(el::Phase::kAllocated) == 2; }));
  EXPECT_EQ(autoscaler_->pool().nodes().size(), 2u);
  // The work ends: they go.
  slurm_.EndJobs();
  ASSERT_TRUE(PassUntil([&] { return autoscaler_->pool().nodes().empty(); }));
  auto log = Log();
  for (const std::string name : {"small-1", "small-2"}) {
    auto at = [&](const std::string& what) {
      return std::find(log.begin(), log.end(), what + " " + name) - log.begin();
    };
    EXPECT_LT(at("create"), at("drain")) << name;
    EXPECT_LT(at("drain"), at("delete")) << name;
    EXPECT_LT(at("delete"), at("scontrol delete")) << name;
    EXPECT_LT(at("scontrol delete"), static_cast<long>(log.size())) << name;
  }
  EXPECT_TRUE(slurm_.nodes.empty());
  // Each node's life in the ledger: name, type, requested, ready, gone, not failed, deleted in
  // no time (the clock stood still).
  auto ledger = ReadFile(ledger_);
  ASSERT_TRUE(ledger.ok());
  EXPECT_NE(ledger->find("small-1,small,1700000000000,1700000000000,1700000000000,0,0\n"),
            std::string::npos)
      << *ledger;
  EXPECT_NE(ledger->find("small-2,small,"), std::string::npos) << *ledger;
}

TEST_F(AutoscaleTest, ANodeThatGotWorkAtTheDrainIsWaitedFor) {
  slurm_.jobs.push_back(Pending(1, "small"));
  ASSERT_TRUE(PassUntil([&] { return InPhase(el::Phase::kIdle) == 1; }));
  slurm_.EndJobs();
  // Slurm starts a job there just as the drain comes: the delete waits for it.
  std::atomic<bool> raced = false;
  slurm_.on_drain = [&](const std::string& node) {
    SlurmJob j = Pending(2, "small");
    j.state = "RUNNING";
    j.nodes = {node};
    slurm_.jobs.push_back(j);
    slurm_.nodes[node].alloc_cpus = 1;
    raced = true;
  };
  ASSERT_TRUE(PassUntil([&] { return raced.load(); }));
  std::this_thread::sleep_for(milliseconds(100));
  auto log = Log();
  EXPECT_EQ(std::count(log.begin(), log.end(), "delete small-1"), 0);  // its job still runs
  slurm_.on_drain = nullptr;
  slurm_.EndJobs();
  ASSERT_TRUE(PassUntil([&] { return autoscaler_->pool().nodes().empty(); }));
  log = Log();
  EXPECT_EQ(std::count(log.begin(), log.end(), "delete small-1"), 1);
}

TEST_F(AutoscaleTest, ANodeThatNeverRegistersIsDeletedAtTheBootTimeout) {
  slurm_.jobs.push_back(Pending(1, "small"));
  // Machines are made, but their slurmd never shows in Slurm.
  slurm_.on_read = [&] {
    for (auto it = slurm_.nodes.begin(); it != slurm_.nodes.end();)
      it = it->second.state == "idle" ? slurm_.nodes.erase(it) : std::next(it);
  };
  ASSERT_TRUE(PassUntil([&] { return InPhase(el::Phase::kBooting) == 1; }));
  clock_.Advance(seconds(121));
  ASSERT_TRUE(PassUntil([&] {
    auto log = Log();
    return std::count(log.begin(), log.end(), "delete small-1") == 1;
  }));
  // The demand is still there: a new node is asked for.
  ASSERT_TRUE(PassUntil([&] {
    auto log = Log();
    return std::count(log.begin(), log.end(), "create small-2") == 1;
  }));
}

// A job swell's job_submit.lua routed to `small` ("swell:small,large" in its admin comment):
// small's nodes never register, small is backed off, and the job is given both partitions
// while a large node is made for it, as swell's own head re-routes. A job whose user named
// its partition keeps it.
TEST_F(AutoscaleTest, AJobOfATypeThatFailsToBootMovesToTheNextTypeThatFits) {
  AutoscaleOptions o;
  as::NodeType small{"small", 1, 1000}, large{"large", 2, 2000};
  small.max_nodes = large.max_nodes = 1;
  o.types = {small, large};
  o.policy = "greedy";
  o.pool.boot_timeout = seconds(120);
  o.pool.type_failure_limit = 1;
  o.provider_threads = 2;
  Start(o);
  slurm_.jobs.push_back(Pending(1, "small"));
  slurm_.jobs.back().fits = "small,large";
  slurm_.jobs.push_back(Pending(2, "small"));  // -p small
  slurm_.on_read = [&] {
    for (auto it = slurm_.nodes.begin(); it != slurm_.nodes.end();)
      it = it->first.starts_with("small-") ? slurm_.nodes.erase(it) : std::next(it);
  };
  ASSERT_TRUE(PassUntil([&] { return InPhase(el::Phase::kBooting) == 1; }));
  EXPECT_EQ(autoscaler_->pool().nodes().begin()->first, "small-1");
  clock_.Advance(seconds(121));
  ASSERT_TRUE(PassUntil([&] {
    auto log = Log();
    return std::count(log.begin(), log.end(), "create large-1") == 1;
  }));
  auto log = Log();
  EXPECT_EQ(std::count(log.begin(), log.end(), "partitions 1 small,large"), 1);
  EXPECT_LT(std::find(log.begin(), log.end(), "partitions 1 small,large"),
            std::find(log.begin(), log.end(), "create large-1"));
  EXPECT_EQ(std::count_if(log.begin(), log.end(),
                          [](const std::string& l) { return l.starts_with("partitions 2"); }),
            0);
  // Widened once: later passes leave it.
  ASSERT_TRUE(autoscaler_->Pass().ok());
  log = Log();
  EXPECT_EQ(std::count(log.begin(), log.end(), "partitions 1 small,large"), 1);
}

// The daemon stops and starts again with its state file: it carries on with the node it made
// (no delete, no second create for the same job), and a new node gets a new name.
TEST_F(AutoscaleTest, ARestartedDaemonCarriesOnWithTheNodesItMade) {
  std::string state = ::testing::TempDir() + "/autoscale-state-" + std::to_string(getpid());
  for (const char* side : {"", "-wal", "-shm"}) std::remove((state + side).c_str());
  AutoscaleOptions o;
  as::NodeType small{"small", 1, 1000};
  small.max_nodes = 4;
  o.types = {small};
  o.policy = "greedy";
  o.provider_threads = 2;
  o.list_interval = seconds(0);  // List at every pass: unknown instances would be deleted
  o.state = state;
  Start(o);
  slurm_.jobs.push_back(Pending(1, "small"));
  ASSERT_TRUE(PassUntil([&] { return InPhase(el::Phase::kIdle) == 1; }));
  slurm_.RunOn({1}, "small-1");
  ASSERT_TRUE(PassUntil([&] { return InPhase(el::Phase::kAllocated) == 1; }));

  Start(o);  // a new daemon, the same state file
  EXPECT_EQ(autoscaler_->pool().nodes().size(), 1u);
  ASSERT_TRUE(PassUntil([&] { return InPhase(el::Phase::kAllocated) == 1; }));
  slurm_.jobs.push_back(Pending(2, "small"));
  ASSERT_TRUE(PassUntil([&] { return InPhase(el::Phase::kIdle) == 1; }));
  auto log = Log();
  EXPECT_EQ(std::count(log.begin(), log.end(), "create small-1"), 1);
  EXPECT_EQ(std::count(log.begin(), log.end(), "create small-2"), 1);
  EXPECT_EQ(std::count(log.begin(), log.end(), "delete small-1"), 0);
  autoscaler_.reset();
  for (const char* side : {"", "-wal", "-shm"}) std::remove((state + side).c_str());
}

TEST_F(AutoscaleTest, ANodeNotRespondingTooLongIsLostAndReplaced) {
  slurm_.jobs.push_back(Pending(1, "small"));
  ASSERT_TRUE(PassUntil([&] { return InPhase(el::Phase::kIdle) == 1; }));
  {
    std::lock_guard<std::mutex> lock(slurm_.mu);
    slurm_.nodes["small-1"].flags.push_back("NOT_RESPONDING");
  }
  ASSERT_TRUE(autoscaler_->Pass().ok());
  clock_.Advance(seconds(59));
  ASSERT_TRUE(autoscaler_->Pass().ok());
  EXPECT_EQ(InPhase(el::Phase::kIdle) + InPhase(el::Phase::kAllocated), 1);  // not yet
  clock_.Advance(seconds(2));
  ASSERT_TRUE(PassUntil([&] {
    auto log = Log();
    return std::count(log.begin(), log.end(), "delete small-1") == 1 &&
           std::count(log.begin(), log.end(), "create small-2") == 1;
  }));
}

TEST(SlurmdCommandTest, DynamicNodeWithItsOwnSpool) {
  as::NodeType t;
  t.name = "small";
  t.cpus = 2;
  t.memory_mb = 1000;
  auto argv = SlurmdCommand("/usr/sbin/slurmd", "/h/slurm.conf", "/h/nodes", "small-3", t);
  std::vector<std::string> want = {"/bin/sh",
                                   "-c",
                                   "mkdir -p \"$0/spool\" \"$0/tmp\" && exec \"$@\"",
                                   "/h/nodes/small-3",
                                   "/usr/sbin/slurmd",
                                   "-D",
                                   "-Z",
                                   "--conf",
                                   "CPUs=2 RealMemory=1000 Feature=small",
                                   "-N",
                                   "small-3",
                                   "-f",
                                   "/h/slurm.conf"};
  EXPECT_EQ(argv, want);
  EXPECT_EQ(SlurmdCommand("slurmd", "", "", "a", t).front(), "slurmd");
}

}  // namespace
}  // namespace swell::slurm
