#include "sim/oracle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "sim/sim.h"

namespace swell::sim {
namespace {

using std::chrono::seconds;

Time At(int64_t s) { return FromMillis(s * 1000); }

std::vector<head::autoscaler::NodeType> OneCpu(int boot_s, int shutdown_s) {
  auto types = ClicTypes();
  types[0].boot = seconds(boot_s);
  types[0].shutdown = seconds(shutdown_s);
  return types;
}

TEST(OracleTest, HandMadeWorkloadRunsWithoutWaitingAtThePlannedCost) {
  // Boot 60 s, shutdown 30 s: a gap below 90 s is cheaper kept than a new node.
  // A [0, 100) and B [150, 250) share a node (gap 50); C [400, 500) gets a new one (gap 150).
  std::vector<SimJob> jobs = {{1, At(0), seconds(100), {1, 0, 0, 0}},
                              {2, At(150), seconds(100), {1, 0, 0, 0}},
                              {3, At(400), seconds(100), {1, 0, 0, 0}}};
  SimOptions o;
  o.types = OneCpu(60, 30);
  o.policy = "oracle";
  auto lives = PlanLives(jobs, o.types, {0, 0, 0});
  ASSERT_EQ(lives.size(), 2u);
  EXPECT_EQ(lives[0].create, At(-60));
  EXPECT_EQ(lives[0].end, At(250));
  EXPECT_EQ(lives[0].jobs, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(lives[1].create, At(340));
  // Node time: (250 + 60 + 30) + (100 + 60 + 30) = 530 s.
  EXPECT_EQ(PlanNodeTime(lives, o.types), seconds(530));
  auto m = Simulate(jobs, o);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->wait_max_s, 0);
  EXPECT_EQ(m->scale_ups, 2);
  EXPECT_NEAR(m->node_hours, 530.0 / 3600, 1e-9);
  // Clairvoyant, it also boots early enough for nodes to register: 20 s more per life.
  o.register_delay = seconds(20);
  m = Simulate(jobs, o);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->wait_max_s, 0);
  EXPECT_NEAR(m->node_hours, 570.0 / 3600, 1e-9);
}

// The cheapest zero-wait schedule of one-job-at-a-time nodes, by trying every assignment of
// jobs (in arrival order) to the nodes already used or a new one.
Duration ExactMinimum(const std::vector<SimJob>& jobs, Duration boot, Duration shutdown) {
  std::vector<std::pair<Time, Time>> nodes;  // (first arrival, last end)
  Duration best = Duration::max();
  std::function<void(size_t)> go = [&](size_t i) {
    if (i == jobs.size()) {
      Duration sum{0};
      for (auto [first, last] : nodes) sum += last - first + boot + shutdown;
      best = std::min(best, sum);
      return;
    }
    const SimJob& j = jobs[i];
    for (size_t k = 0; k < nodes.size(); ++k) {  // by index: the recursion grows `nodes`
      if (nodes[k].second > j.submit) continue;  // busy
      Time saved = nodes[k].second;
      nodes[k].second = j.submit + j.run;
      go(i + 1);
      nodes[k].second = saved;
    }
    nodes.push_back({j.submit, j.submit + j.run});
    go(i + 1);
    nodes.pop_back();
  };
  go(0);
  return best;
}

TEST(OracleTest, PlanIsTheExactOptimumForOneJobPerNode) {
  // Random tiny workloads (up to 8 jobs) on 1-cpu nodes: the greedy plan costs exactly what
  // exhaustive search finds cheapest.
  uint64_t state = 12345;
  auto next = [&](int64_t lo, int64_t hi) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + static_cast<int64_t>((state >> 33) % static_cast<uint64_t>(hi - lo + 1));
  };
  for (int round = 0; round < 300; ++round) {
    int n = static_cast<int>(next(1, 8));
    std::vector<SimJob> jobs;
    for (int i = 0; i < n; ++i)
      jobs.push_back({i + 1, At(next(0, 600)), seconds(next(10, 300)), {1, 0, 0, 0}});
    std::stable_sort(jobs.begin(), jobs.end(),
                     [](const SimJob& a, const SimJob& b) { return a.submit < b.submit; });
    int boot = static_cast<int>(next(0, 120)), shutdown = static_cast<int>(next(0, 60));
    auto types = OneCpu(boot, shutdown);
    auto lives = PlanLives(jobs, types, std::vector<int>(jobs.size(), 0));
    EXPECT_EQ(PlanNodeTime(lives, types), ExactMinimum(jobs, seconds(boot), seconds(shutdown)))
        << "round " << round;
    // And the simulator, following the plan through the production scheduler, pays just that.
    SimOptions o;
    o.types = types;
    o.policy = "oracle";
    auto m = Simulate(jobs, o);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->wait_max_s, 0) << "round " << round;
    EXPECT_NEAR(m->node_hours,
                std::chrono::duration<double>(PlanNodeTime(lives, types)).count() / 3600, 1e-9)
        << "round " << round;
  }
}

TEST(OracleTest, PacksSmallJobsOntoBigNodes) {
  // Four 1-cpu jobs at once on 4-cpu nodes: one life.
  auto types = DefaultTypes();
  types[0].cpus = 4;
  std::vector<SimJob> jobs;
  for (int i = 0; i < 4; ++i) jobs.push_back({i + 1, At(0), seconds(100 + i), {1, 0, 0, 0}});
  auto lives = PlanLives(jobs, types, std::vector<int>(4, 0));
  ASSERT_EQ(lives.size(), 1u);
  EXPECT_EQ(lives[0].end, At(103));
}

TEST(OracleTest, OnlyTheSimulatorCanRunIt) {
  auto p = head::autoscaler::MakePolicy("oracle", {});
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("only the simulator"), std::string::npos);
}

}  // namespace
}  // namespace swell::sim
