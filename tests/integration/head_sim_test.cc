// The head and `swell sim` run one policy: one elastic workload through the in-process head
// (fake nodes and a fake provider on a paused clock) and through the simulator gives the same
// decisions, node creates and deletes and job start times, to the millisecond.

#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/clock.h"
#include "head/head.h"
#include "sim/sim.h"

namespace swell {
namespace {

namespace as = head::autoscaler;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A node daemon as the head sees it through its session: it registers, runs each task it is
// sent for the time its argv says (`sleep S`) on the test's clock, and reports starts and ends.
class FakeNode final : public rpc::Stream<pb::NodeMessage, pb::HeadMessage> {
 public:
  FakeNode(const std::string& name, const as::NodeType& type, const ManualClock* clock)
      : clock_(clock) {
    pb::NodeMessage m;
    auto* r = m.mutable_register_();
    r->set_name(name);
    r->set_instance(name + "-instance");
    r->set_hostname(name);
    r->set_partition(type.name);
    r->mutable_resources()->set_cpus(type.cpus);
    r->mutable_resources()->set_mem_mb(type.memory_mb);
    in_.push_back(std::move(m));
  }

  bool Read(pb::NodeMessage* msg) override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return closed_ || !in_.empty(); });
    if (closed_) return false;
    *msg = std::move(in_.front());
    in_.pop_front();
    return true;
  }
  bool Write(const pb::HeadMessage& m) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return false;
    ++written_;
    Time now = clock_->Now();
    pb::ReportBatch batch;
    for (const auto& l : m.launches()) {
      if (l.with_spec()) run_[l.job_id()] = seconds(std::stoll(l.spec().argv(1)));
      for (const auto& key : l.tasks()) {
        running_.push_back({key, now + run_.at(l.job_id())});
        auto* rep = batch.add_reports();
        *rep->mutable_key() = key;
        rep->set_started(true);
        rep->set_time_ms(ToMillis(now));
      }
    }
    if (batch.reports_size() > 0) Send(std::move(batch));
    return true;
  }
  void Cancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }

  // Reports the tasks whose time is up.
  void EndDue(Time now) {
    std::lock_guard<std::mutex> lock(mu_);
    pb::ReportBatch batch;
    for (auto it = running_.begin(); it != running_.end();) {
      if (it->second > now) {
        ++it;
        continue;
      }
      auto* rep = batch.add_reports();
      *rep->mutable_key() = it->first;
      rep->set_time_ms(ToMillis(now));
      it = running_.erase(it);
    }
    if (batch.reports_size() > 0) Send(std::move(batch));
  }
  std::optional<Time> NextEnd() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::optional<Time> next;
    for (const auto& [key, end] : running_) next = next ? std::min(*next, end) : end;
    return next;
  }
  // The head has read all it was sent and answered the registration.
  bool Idle() const {
    std::lock_guard<std::mutex> lock(mu_);
    return in_.empty() && (written_ > 0 || closed_);
  }
  std::string Snapshot() const {
    std::lock_guard<std::mutex> lock(mu_);
    return std::to_string(written_) + "/" + std::to_string(in_.size()) + "/" +
           std::to_string(running_.size());
  }

 private:
  void Send(pb::ReportBatch batch) {  // mu_ held
    batch.set_seq(seq_ += static_cast<uint64_t>(batch.reports_size()));
    pb::NodeMessage m;
    *m.mutable_reports() = std::move(batch);
    in_.push_back(std::move(m));
    cv_.notify_all();
  }

  const ManualClock* clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<pb::NodeMessage> in_;
  std::vector<std::pair<pb::TaskKey, Time>> running_;  // and when each ends
  std::map<int64_t, Duration> run_;                    // by job
  uint64_t seq_ = 0;
  int64_t written_ = 0;
  bool closed_ = false;
};

// Makes a node by registering a FakeNode one boot time after the create; deletes at once.
class FakeProvider final : public provider::Provider {
 public:
  explicit FakeProvider(const ManualClock* clock) : clock_(clock) {}
  std::string kind() const override { return "fake"; }
  Status Create(const std::string& name, const as::NodeType& type) override {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back({clock_->Now(), name, true});
    boots_.push_back({clock_->Now() + type.boot, name, type});
    return Status::Ok();
  }
  Status Delete(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back({clock_->Now(), name, false});
    deleted_.insert(name);
    return Status::Ok();
  }
  Result<std::vector<std::string>> List() override { return std::vector<std::string>{}; }

  struct Boot {
    Time at;
    std::string name;
    as::NodeType type;
  };
  std::vector<Boot> TakeBoots(Time now) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Boot> due;
    for (auto it = boots_.begin(); it != boots_.end();) {
      if (it->at <= now)
        due.push_back(*it), it = boots_.erase(it);
      else
        ++it;
    }
    return due;
  }
  std::optional<Time> NextBoot() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::optional<Time> next;
    for (const auto& b : boots_) next = next ? std::min(*next, b.at) : b.at;
    return next;
  }
  std::vector<std::string> TakeDeleted() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out(deleted_.begin(), deleted_.end());
    deleted_.clear();
    return out;
  }
  std::vector<sim::Trace::NodeCall> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  const ManualClock* clock_;
  mutable std::mutex mu_;
  std::vector<sim::Trace::NodeCall> calls_;
  std::vector<Boot> boots_;
  std::set<std::string> deleted_;
};

std::vector<as::NodeType> Types() {
  as::NodeType small;
  small.name = "small";
  small.cpus = 1;
  small.memory_mb = 2048;
  small.boot = seconds(25);
  small.shutdown = seconds(0);
  small.price_per_hour = 0.05;
  as::NodeType big = small;
  big.name = "big";
  big.cpus = 4;
  big.memory_mb = 8192;
  big.boot = seconds(45);
  big.price_per_hour = 0.2;
  return {small, big};
}

// Bursts of jobs of several shapes: 1-cpu jobs route to small nodes, 2- and 3-cpu ones to big
// nodes, whose queue then holds two shapes (EASY reservations against running work matter).
std::vector<sim::SimJob> Workload(Time first) {
  struct Spec {
    int burst;
    int run_s;
    int cpus;
  };
  const Spec specs[] = {{0, 73, 1},  {0, 91, 1},  {0, 47, 1},  {0, 61, 2},  {0, 123, 3},
                        {0, 37, 2},  {12, 53, 1}, {12, 29, 1}, {12, 87, 2}, {12, 41, 3},
                        {12, 67, 1}, {30, 31, 1}, {30, 59, 3}, {30, 43, 2}};
  std::vector<sim::SimJob> jobs;
  for (const auto& s : specs) {
    sim::SimJob j;
    j.id = static_cast<int64_t>(jobs.size()) + 1;
    j.submit = first + seconds(10) * s.burst;
    j.run = seconds(s.run_s);
    j.need.cpus = s.cpus;
    jobs.push_back(j);
  }
  return jobs;
}

class HeadSimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/swell-headsim-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override {
    if (head_) head_->Stop();
    // Sessions end when their fake node does (a test that failed early left some open).
    for (auto& [name, node] : nodes_) node->Cancel();
    for (auto& t : sessions_) t.join();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Lets every message in flight arrive: every fake node's messages are read, and the head's
  // replies and the fakes' counters stay the same over a few rounds, each of which waits for
  // passes of the head's loop.
  void Settle() {
    for (int stable = 0; stable < 4;) {
      std::string before = Snapshot();
      std::this_thread::sleep_for(milliseconds(10));
      std::string after = Snapshot();
      bool read = true;
      for (const auto& [name, node] : nodes_) read = read && node->Idle();
      stable = read && after == before ? stable + 1 : 0;
    }
  }
  std::string Snapshot() {
    auto q = head_->Queue(caller_, pb::QueueRequest());
    auto n = head_->Nodes(caller_, pb::NodesRequest());
    std::string s = q.ok() ? q->SerializeAsString() : "?";
    s += n.ok() ? n->SerializeAsString() : "?";
    s += std::to_string(provider_->calls().size());
    for (const auto& [name, node] : nodes_) s += name + node->Snapshot();
    return s;
  }

  std::string dir_;
  // A local caller with the secret (as a node daemon on the head's host), named by no
  // certificate.
  rpc::Caller caller_{getuid(), getgid(), 0, true, true, "", "test", "test"};
  ManualClock clock_{FromMillis(1'800'000'000'000)};
  std::shared_ptr<FakeProvider> provider_;
  std::unique_ptr<head::Head> head_;
  std::map<std::string, std::unique_ptr<FakeNode>> nodes_;
  std::vector<std::thread> sessions_;
};

TEST_F(HeadSimTest, TheHeadDecidesWhatTheSimulatorDecides) {
  const auto types = Types();
  const Duration interval = seconds(10);
  as::PolicyOptions policy;
  policy.min_lifetime = seconds(60);
  // The head starts at S and decides at S, S + 10 s, ...; jobs arrive 1 ms before a decision
  // (so that they are queued when it comes, in both), the first at A - 1 ms.
  const Time start = clock_.Now();
  const Time first = start + seconds(20) - milliseconds(1);
  auto jobs = Workload(first);

  sim::SimOptions so;
  so.types = types;
  so.policy = "clic";
  so.policy_options = policy;
  so.tick = interval;
  so.tick_phase = milliseconds(1);
  sim::Trace trace;
  auto m = sim::Simulate(jobs, so, nullptr, &trace);
  ASSERT_TRUE(m.ok()) << m.status().ToString();

  provider_ = std::make_shared<FakeProvider>(&clock_);
  head::HeadOptions ho;
  ho.state_path = dir_ + "/state.db";
  ho.unix_path = dir_ + "/head.sock";
  ho.secret = std::string(64, 's');
  ho.node_timeout = std::chrono::hours(24);  // fake nodes send no heartbeats
  head::ElasticOptions e;
  e.types = types;
  e.policy = "clic";
  e.policy_options = policy;
  e.interval = interval;
  e.list_interval = std::chrono::hours(24);
  e.provider = provider_;
  e.provider_threads = 1;
  ho.elastic = e;
  auto h = head::Head::Open(ho, &clock_);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  head_ = std::move(h).value();
  ASSERT_TRUE(head_->Start().ok());
  Settle();

  size_t next_job = 0;
  const Time give_up = start + std::chrono::hours(2);
  for (Time now = start; now < give_up;) {
    // What happens at `now`: boots end (nodes register), tasks end, jobs arrive.
    // Nodes booted at one instant register one after the other in name order: the head's
    // passes take them one at a time, the simulator all at once, which places the same work
    // (equal nodes of a type are filled in name order either way).
    auto boots = provider_->TakeBoots(now);
    std::sort(boots.begin(), boots.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    for (const auto& b : boots) {
      auto node = std::make_unique<FakeNode>(b.name, b.type, &clock_);
      FakeNode* raw = node.get();
      nodes_[b.name] = std::move(node);
      sessions_.emplace_back([this, raw] { (void)rpc::RunNodeSession(*head_, caller_, *raw); });
      Settle();
    }
    for (auto& [name, node] : nodes_) node->EndDue(now);
    for (; next_job < jobs.size() && jobs[next_job].submit <= now; ++next_job) {
      const auto& j = jobs[next_job];
      pb::SubmitRequest req;
      auto* spec = req.mutable_spec();
      spec->add_argv("sleep");
      spec->add_argv(std::to_string(j.run.count() / 1000));
      spec->set_work_dir(dir_);
      spec->set_cpus_per_task(j.need.cpus);
      spec->set_time_limit_ms(j.run.count());
      auto r = head_->Submit(caller_, req);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_EQ(r->job_id(), j.id);
    }
    Settle();
    for (const auto& name : provider_->TakeDeleted()) nodes_.at(name)->Cancel();
    Settle();
    // The next instant anything happens: a decision, a boot's end, a task's end, an arrival.
    const Time tick = start + interval * ((now - start) / interval + 1);
    Time next = tick;
    if (auto b = provider_->NextBoot()) next = std::min(next, *b);
    for (const auto& [name, node] : nodes_)
      if (auto e = node->NextEnd()) {
        // Coinciding with a decision, the head's order of the two would be a race.
        ASSERT_NE((*e - start) % interval, Duration(0)) << "a task ends at a decision";
        next = std::min(next, *e);
      }
    if (next_job < jobs.size()) next = std::min(next, jobs[next_job].submit);
    auto q = head_->Queue(caller_, pb::QueueRequest());
    ASSERT_TRUE(q.ok());
    bool done = next_job == jobs.size() && q->jobs_size() == 0 && !provider_->NextBoot();
    auto n = head_->Nodes(caller_, pb::NodesRequest());
    if (done && n.ok() && n->nodes_size() == 0) break;
    clock_.Set(next);
    now = next;
  }

  // Job starts, from the head's records.
  std::map<int64_t, Time> head_starts, sim_starts;
  for (const auto& j : jobs) {
    pb::InfoRequest req;
    req.mutable_job()->set_job_id(j.id);
    auto info = head_->Info(caller_, req);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->job().state(), pb::COMPLETED) << "job " << j.id;
    head_starts[j.id] = FromMillis(info->job().start_ms());
  }
  for (const auto& [id, at] : trace.starts) sim_starts[id] = at;
  EXPECT_EQ(head_starts.size(), jobs.size());
  for (const auto& [id, at] : head_starts)
    EXPECT_EQ(ToMillis(at) - ToMillis(start), ToMillis(sim_starts[id]) - ToMillis(start))
        << "job " << id << " starts at another time";

  auto key = [&](const sim::Trace::NodeCall& c) {
    return std::to_string(ToMillis(c.at) - ToMillis(start)) + (c.create ? " create " : " delete ") +
           c.name;
  };
  std::vector<std::string> head_calls, sim_calls;
  for (const auto& c : provider_->calls()) head_calls.push_back(key(c));
  for (const auto& c : trace.calls) sim_calls.push_back(key(c));
  std::sort(head_calls.begin(), head_calls.end());
  std::sort(sim_calls.begin(), sim_calls.end());
  EXPECT_EQ(head_calls, sim_calls);
  EXPECT_GE(sim_calls.size(), 6u);  // the workload made several nodes of both types
}

// A head that took long to load its state and start serving gives the nodes its state names
// their node_timeout from when they can reach it, not from when it began loading (a large state,
// a slow machine: under TSan a restarted head declared its nodes down before they could
// register). Once that has passed in silence, the node is down.
TEST_F(HeadSimTest, ARestartedHeadCountsItsNodesTimeoutFromWhenItServes) {
  provider_ = std::make_shared<FakeProvider>(&clock_);
  head::HeadOptions ho;
  ho.state_path = dir_ + "/state.db";
  ho.unix_path = dir_ + "/head.sock";
  ho.secret = std::string(64, 's');
  ho.node_timeout = seconds(10);
  auto state_of = [&](const std::string& name) -> std::string {
    auto n = head_->Nodes(caller_, pb::NodesRequest());
    if (!n.ok()) return n.status().ToString();
    for (const auto& node : n->nodes())
      if (node.name() == name) return node.state();
    return "missing";
  };
  auto h = head::Head::Open(ho, &clock_);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  head_ = std::move(h).value();
  ASSERT_TRUE(head_->Start().ok());
  auto node = std::make_unique<FakeNode>("n1", Types().front(), &clock_);
  FakeNode* raw = node.get();
  nodes_["n1"] = std::move(node);
  sessions_.emplace_back([this, raw] { (void)rpc::RunNodeSession(*head_, caller_, *raw); });
  Settle();
  ASSERT_EQ(state_of("n1"), "IDLE");
  head_->Stop();  // the node's session ends with it; its row says it was up
  raw->Cancel();
  sessions_.back().join();
  sessions_.clear();
  nodes_.clear();
  head_.reset();

  h = head::Head::Open(ho, &clock_);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  head_ = std::move(h).value();
  clock_.Advance(seconds(30));  // three node timeouts between the load and the serving
  ASSERT_TRUE(head_->Start().ok());
  Settle();
  EXPECT_NE(state_of("n1"), "DOWN");
  clock_.Advance(seconds(11));
  Settle();
  EXPECT_EQ(state_of("n1"), "DOWN");
}

}  // namespace
}  // namespace swell
