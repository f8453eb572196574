#include "sim/sim.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "sim/workload.h"

namespace swell::sim {
namespace {

using std::chrono::seconds;

TEST(ClicWorkloadTest, SeededBurstsOfSingleCpuSleeps) {
  auto a = ClicWorkload(7), b = ClicWorkload(7), c = ClicWorkload(8);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].run, b[i].run);
  EXPECT_NE(a.size() + static_cast<size_t>(a[0].run.count()),
            c.size() + static_cast<size_t>(c[0].run.count()));
  std::set<int64_t> bursts;
  for (const auto& j : a) {
    EXPECT_EQ(j.need.cpus, 1);
    EXPECT_GE(j.run, seconds(500));
    EXPECT_LE(j.run, seconds(1000));
    int64_t s = ToMillis(j.submit) / 1000;
    EXPECT_EQ(s % 600, 0);
    EXPECT_LT(s, 4 * 3600);
    bursts.insert(s);
  }
  EXPECT_GT(a.size(), 100u);  // ~190 expected (24 bursts of U(0,16))
  EXPECT_LT(a.size(), 300u);
}

// Simulates `jobs`, failing the test when the simulation fails (its metrics are then all zero).
Metrics MustSimulate(const std::vector<SimJob>& jobs, const SimOptions& o,
                     std::vector<Sample>* series = nullptr) {
  auto m = Simulate(jobs, o, series);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? *m : Metrics{};
}

// `n` 100 s one-cpu jobs at t = 0.
std::vector<SimJob> JobsAtOnce(int n) {
  std::vector<SimJob> jobs;
  for (int i = 0; i < n; ++i) jobs.push_back({i + 1, FromMillis(0), seconds(100), {1, 0, 0, 0}});
  return jobs;
}

// Greedy on CLIC's node type, booting in 60 s and stopping at once.
SimOptions GreedyOnQuickNodes() {
  SimOptions o;
  o.types = ClicTypes();
  o.types[0].boot = seconds(60);
  o.types[0].shutdown = seconds(0);
  o.policy = "greedy";
  return o;
}

TEST(SimulateTest, HandComputedGreedyRun) {
  // Four 100 s jobs at t=0, nodes boot in 60 s and stop at once: greedy creates four nodes at
  // the first tick, runs the jobs from 60 s to 160 s and deletes the nodes at 160 s.
  std::vector<SimJob> jobs = JobsAtOnce(4);
  SimOptions o = GreedyOnQuickNodes();
  Metrics m = MustSimulate(jobs, o);
  EXPECT_EQ(m.scale_ups, 4);
  EXPECT_EQ(m.scale_downs, 4);
  EXPECT_EQ(m.nodes_max, 4);
  EXPECT_DOUBLE_EQ(m.wait_max_s, 60);
  EXPECT_NEAR(m.node_hours, 4 * 160.0 / 3600, 1e-9);
  EXPECT_NEAR(m.job_hours, 400.0 / 3600, 1e-9);
  EXPECT_NEAR(m.efficiency, 400.0 / 640, 1e-9);
}

TEST(SimulateTest, AThrottledArrayRunsAtMostItsThrottleAndAsksForNoMore) {
  // Six 100 s tasks of one array at t=0 with %2: greedy sees two tasks of demand, makes two
  // nodes, and the tasks run two at a time: from 60 s, 160 s and 260 s.
  std::vector<SimJob> jobs = JobsAtOnce(6);
  for (auto& j : jobs) j.array = 1, j.max_running = 2;
  Trace trace;
  auto m = Simulate(jobs, GreedyOnQuickNodes(), nullptr, &trace);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->nodes_max, 2);
  EXPECT_EQ(m->scale_ups, 2);
  std::vector<int64_t> starts;
  for (const auto& [id, at] : trace.starts) starts.push_back(ToMillis(at) / 1000);
  EXPECT_EQ(starts, (std::vector<int64_t>{60, 60, 160, 160, 260, 260}));
  // Without the throttle: six nodes at once.
  EXPECT_EQ(MustSimulate(JobsAtOnce(6), GreedyOnQuickNodes()).nodes_max, 6);
}

TEST(SimulateTest, MultiNodeAndExclusiveJobsTakeWholeNodes) {
  // A 2-node job, an exclusive 1-cpu job and a 1-cpu job on 2-cpu nodes: greedy asks for two
  // nodes for the first, and counts the exclusive job as a whole node's cpus beside the
  // plain job's one (two nodes more); all three start once the nodes are up.
  SimOptions o = GreedyOnQuickNodes();
  o.types[0].cpus = 2;
  std::vector<SimJob> jobs = JobsAtOnce(3);
  jobs[0].nodes = 2;
  jobs[1].exclusive = true;
  Trace trace;
  auto m = Simulate(jobs, o, nullptr, &trace);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->nodes_max, 4);
  ASSERT_EQ(trace.starts.size(), 3u);
  for (const auto& [id, at] : trace.starts) EXPECT_EQ(ToMillis(at) / 1000, 60) << "job " << id;
}

TEST(SimulateTest, ATickPhaseDelaysTheFirstDecision) {
  // The run above with the first decision 4 s after the arrivals: every job waits 4 s longer
  // and each node is created (and billed) 4 s later.
  SimOptions o = GreedyOnQuickNodes();
  o.tick_phase = seconds(4);
  Metrics m = MustSimulate(JobsAtOnce(4), o);
  EXPECT_DOUBLE_EQ(m.wait_max_s, 64);
  EXPECT_NEAR(m.node_hours, 4 * 160.0 / 3600, 1e-9);
}

TEST(SimulateTest, RegistrationDelayAndBillingRules) {
  // The greedy run above, with 20 s of registration after each boot, per-minute billing and a
  // 10-minute minimum: jobs wait 80 s and run until 180 s; each node's 180 s is billed 600 s.
  std::vector<SimJob> jobs = JobsAtOnce(4);
  SimOptions o = GreedyOnQuickNodes();
  o.register_delay = seconds(20);
  o.billing_increment = seconds(60);
  o.billing_minimum = seconds(600);
  Metrics m = MustSimulate(jobs, o);
  EXPECT_EQ(m.scale_ups, 4);
  EXPECT_DOUBLE_EQ(m.wait_max_s, 80);
  EXPECT_NEAR(m.node_hours, 4 * 600.0 / 3600, 1e-9);
  // Without the minimum, 180 s is three whole minutes; 190 s would be billed as four.
  o.billing_minimum = seconds(0);
  jobs[0].run = seconds(110);
  m = MustSimulate(jobs, o);
  EXPECT_NEAR(m.node_hours, (3 * 180.0 + 240) / 3600, 1e-9);
}

// 400 jobs in waves; round 0: 1-cpu jobs, round 1: 3-cpu jobs (one shape per type), later
// rounds: 1 to 4 cpus and 0 to 2 GB (several shapes sharing nodes).
std::vector<SimJob> RandomWaves(int round) {
  uint64_t state = 99 + static_cast<uint64_t>(round);
  auto next = [&](int64_t n) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int64_t>((state >> 33) % static_cast<uint64_t>(n));
  };
  std::vector<SimJob> jobs;
  int64_t at = 0;
  for (int i = 0; i < 400; ++i) {
    at += next(4) == 0 ? next(300) : 0;
    int cpus = round < 2 ? 1 + 2 * round : 1 + static_cast<int>(next(4));
    int64_t mem = round < 2 ? 0 : next(3) * 1024;
    jobs.push_back({i + 1, FromMillis(at * 1000), seconds(10 + next(600)), {cpus, mem, 0, 0}});
  }
  return jobs;
}

TEST(SimulateTest, IncrementalPlacementMatchesAFullRescan) {
  // Asking the scheduler only about what changed, with only the nodes that have room and
  // (for one shape) only the jobs that could fit, starts the same jobs at the same times as
  // asking it about everything after every event.
  for (int round = 0; round < 6; ++round) {
    auto jobs = RandomWaves(round);
    SimOptions o;
    o.types = DefaultTypes();
    for (const char* policy : {"greedy", "clic", "powersave", "lookahead", "oracle"}) {
      o.policy = policy;
      o.reference_placement = false;
      auto fast = Simulate(jobs, o);
      o.reference_placement = true;
      auto full = Simulate(jobs, o);
      ASSERT_TRUE(fast.ok() && full.ok()) << policy;
      fast->sim_wall_s = full->sim_wall_s = 0;
      EXPECT_EQ(ToJson(*fast), ToJson(*full)) << policy << " round " << round;
      EXPECT_EQ(fast->scale_ups, fast->scale_downs) << policy;
    }
  }
}

TEST(SimulateTest, ClicHalvesAndWaits) {
  auto jobs = ClicWorkload(1);
  SimOptions o;
  o.types = ClicTypes();
  o.policy = "clic";
  Metrics clic = MustSimulate(jobs, o);
  o.policy = "greedy";
  Metrics greedy = MustSimulate(jobs, o);
  for (const Metrics* m : {&clic, &greedy}) {
    EXPECT_EQ(m->jobs, static_cast<int64_t>(jobs.size()));
    EXPECT_EQ(m->scale_ups, m->scale_downs) << m->policy << " left nodes behind";
    EXPECT_GT(m->efficiency, 0);
    EXPECT_LE(m->efficiency, 1);
  }
  // Greedy starts every job one tick plus one boot after it arrives at the latest.
  EXPECT_LE(greedy.wait_max_s, 10 + 90);
  // CLIC's half rule makes jobs wait longer than that, as its article reports (minutes).
  EXPECT_GT(clic.wait_max_s, greedy.wait_max_s);
}

TEST(SimulateTest, SeriesFollowTheRun) {
  std::vector<SimJob> jobs = JobsAtOnce(4);
  SimOptions o = GreedyOnQuickNodes();
  std::vector<Sample> series;
  ASSERT_TRUE(Simulate(jobs, o, &series).ok());
  ASSERT_GE(series.size(), 10u);
  EXPECT_EQ(series[0].t_s, 0);
  EXPECT_EQ(series[0].queued, 4);
  EXPECT_EQ(series[0].booting, 4);  // created at this very tick
  EXPECT_EQ(series[7].running, 4);  // t = 70 s
  EXPECT_EQ(series[7].nodes_up, 4);
  EXPECT_EQ(series.back().nodes_up + series.back().booting, 0);
  std::string csv = ToCsv(series);
  EXPECT_EQ(csv.rfind("t_s,queued,running,nodes_up,booting\n0,4,0,0,4\n", 0), 0u) << csv;
  std::string svg = ToSvg(series, "greedy <test>");
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("greedy _test_"), std::string::npos);
  EXPECT_EQ(std::count(svg.begin(), svg.end(), '\n') > 8, true);
}

// Lookahead's targets on CLIC's stress test, seeds 1 to 10 (virtual clock, so this is a
// property of the policy, not of the machine): mean efficiency at least 97% of the oracle's
// and at least clic's, and no job waits more than 3 minutes.
TEST(SimulateTest, LookaheadMeetsItsTargetsOnTheClicWorkload) {
  double sum[3] = {0, 0, 0};
  const char* names[3] = {"lookahead", "oracle", "clic"};
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    auto jobs = ClicWorkload(seed);
    for (int k = 0; k < 3; ++k) {
      SimOptions o;
      o.types = ClicTypes();
      o.policy = names[k];
      Metrics m = MustSimulate(jobs, o);
      EXPECT_EQ(m.scale_ups, m.scale_downs) << names[k] << " seed " << seed;
      sum[k] += m.efficiency;
      if (k == 0) {
        EXPECT_LE(m.wait_max_s, 180) << "seed " << seed;
      } else if (k == 1) {
        EXPECT_EQ(m.wait_max_s, 0) << "seed " << seed;
      }
    }
  }
  EXPECT_GE(sum[0], 0.97 * sum[1]);
  EXPECT_GE(sum[0], sum[2]);
}

// On bursts of hundreds of short jobs between quiet hours, and on a generated SWF trace of
// three days (bench/data/synthetic-3day.swf, scripts/gen_swf.py), lookahead costs less than
// clic and its 95th percentile wait is no worse.
TEST(SimulateTest, LookaheadCostsLessThanClicOnBurstsAndOnATrace) {
  auto bursts = Synthetic("jobs=4000,burst=400");
  ASSERT_TRUE(bursts.ok());
  auto trace = LoadSwf(std::string(SWELL_SOURCE_DIR) + "/bench/data/synthetic-3day.swf",
                       {.cpus_per_node = 64});
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  for (const auto* jobs : {&*bursts, &*trace}) {
    SimOptions o;
    o.types = DefaultTypes();
    o.policy = "lookahead";
    Metrics ours = MustSimulate(*jobs, o);
    o.policy = "clic";
    Metrics clic = MustSimulate(*jobs, o);
    EXPECT_LT(ours.cost, clic.cost) << jobs->size() << " jobs";
    EXPECT_LE(ours.wait_p95_s, clic.wait_p95_s) << jobs->size() << " jobs";
  }
}

TEST(SimulateTest, BadInputIsRefused) {
  std::vector<SimJob> jobs = {{1, FromMillis(0), seconds(10), {64, 0, 0, 0}}};
  SimOptions o;
  o.types = ClicTypes();
  EXPECT_EQ(Simulate(jobs, o).status().code(), Code::kInvalidArgument);
  jobs[0].need.cpus = 1;
  o.policy = "nonsense";
  EXPECT_EQ(Simulate(jobs, o).status().code(), Code::kInvalidArgument);
  // Limits under which the work could never run.
  o.policy = "greedy";
  o.register_delay = seconds(20);
  o.pool.boot_timeout = seconds(100);  // a node takes 90 s to boot and 20 s to register
  EXPECT_EQ(Simulate(jobs, o).status().code(), Code::kInvalidArgument);
  o.pool.boot_timeout = seconds(110);
  EXPECT_TRUE(Simulate(jobs, o).ok());
  o.pool.budget_per_hour = 0.01;
  EXPECT_EQ(Simulate(jobs, o).status().code(), Code::kInvalidArgument);
}

TEST(SimulateTest, ThePoolsMaximumHolds) {
  std::vector<SimJob> jobs = JobsAtOnce(40);
  SimOptions o = GreedyOnQuickNodes();
  Metrics free = MustSimulate(jobs, o);
  EXPECT_EQ(free.nodes_max, 40);
  // Greedy asks for 40 nodes; the pool makes 10, and the jobs run on them in four waves.
  o.pool.max_nodes = 10;
  Metrics capped = MustSimulate(jobs, o);
  EXPECT_EQ(capped.nodes_max, 10);
  EXPECT_EQ(capped.scale_ups, 10);
  EXPECT_NEAR(capped.job_hours, free.job_hours, 1e-9);
  EXPECT_DOUBLE_EQ(capped.wait_max_s, 60 + 3 * 100);
}

TEST(SimulateTest, ThePoolsCreateRateHolds) {
  std::vector<SimJob> jobs = JobsAtOnce(40);
  SimOptions o = GreedyOnQuickNodes();
  o.pool.creates_per_minute = 8;
  std::vector<Sample> series;
  Metrics m = MustSimulate(jobs, o, &series);
  // 8 nodes at t = 0, 8 more a minute later (their boot ends as the first ones come up), ...
  for (const auto& s : series) {
    int want = s.t_s < 60 ? 8 : s.t_s < 120 ? 16 : -1;
    if (want > 0) {
      EXPECT_EQ(s.booting + s.nodes_up, want) << "t = " << s.t_s;
    }
  }
  EXPECT_EQ(m.jobs, 40);
  EXPECT_GT(m.wait_max_s, 60);
}

TEST(SimulateTest, AHungBootFailsAtTheBootTimeoutAndIsReplaced) {
  // One 100 s job. The first boot hangs (seed 11 draws 0.17 then 0.77 against the rate of
  // 0.5): the pool fails that node at t = 100 (its boot timeout) and deletes it; greedy creates
  // another at the next tick (110 s), which is up at 170 s and runs the job until 270 s.
  std::vector<SimJob> jobs = JobsAtOnce(1);
  SimOptions o = GreedyOnQuickNodes();
  o.pool.boot_timeout = seconds(100);
  o.boot_hang_rate = 0.5;
  o.boot_hang_seed = 11;
  Metrics m = MustSimulate(jobs, o);
  EXPECT_EQ(m.scale_ups, 2);
  EXPECT_EQ(m.scale_downs, 2);
  EXPECT_EQ(m.nodes_failed, 1);
  EXPECT_DOUBLE_EQ(m.wait_max_s, 170);
  EXPECT_NEAR(m.node_hours, (100.0 + 160.0) / 3600, 1e-9);  // the failed node is paid too
  EXPECT_DOUBLE_EQ(m.makespan_s, 270);
}

}  // namespace
}  // namespace swell::sim
