#include "head/scheduler/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace swell::head::scheduler {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

const Time kNow = FromMillis(1'700'000'000'000);

Node MakeNode(int cpus, int used_cpus = 0, int64_t mem_mb = 64'000, int gpus = 0) {
  return Node{.name = "node", .total = {cpus, mem_mb, gpus}, .used = {used_cpus, 0, 0}};
}

// A plain job: one unit of `ntasks` one-cpu tasks. Lower ids were submitted earlier.
Group Job(uint64_t id, int ntasks, Duration limit = hours(1)) {
  return Group{.id = id,
               .submit_time = kNow - minutes(100) + minutes(id),
               .ntasks = ntasks,
               .time_limit = limit};
}

Release Frees(int node, int cpus, Time end) { return Release{node, {cpus, 0, 0}, end}; }

std::vector<uint64_t> StartedGroups(const Decision& d) {
  std::vector<uint64_t> ids;
  for (const Start& s : d.starts) ids.push_back(s.group);
  return ids;
}

// The one node each start of `group` landed on (the starts must be single-node).
std::vector<int> NodesOf(const Decision& d, uint64_t group) {
  std::vector<int> out;
  for (const Start& s : d.starts) {
    if (s.group != group) continue;
    EXPECT_EQ(s.shares.size(), 1u);
    if (!s.shares.empty()) out.push_back(s.shares[0].node);
  }
  return out;
}

// node -> tasks for the only start of `group`.
std::map<int, int> TasksOf(const Decision& d, uint64_t group) {
  std::map<int, int> out;
  for (const Start& s : d.starts) {
    if (s.group != group) continue;
    for (const Share& share : s.shares) out[share.node] += share.ntasks;
  }
  return out;
}

std::optional<Blocked> FindBlocked(const Decision& d, uint64_t group) {
  for (const Blocked& b : d.blocked) {
    if (b.group == group) return b;
  }
  return std::nullopt;
}

void ExpectBlocked(const Decision& d, uint64_t group, Reason reason, int units_left) {
  std::optional<Blocked> b = FindBlocked(d, group);
  ASSERT_TRUE(b.has_value()) << "group " << group << " is not blocked";
  EXPECT_EQ(ReasonName(b->reason), std::string(ReasonName(reason))) << "group " << group;
  EXPECT_EQ(b->units_left, units_left) << "group " << group;
}

// No node ends up with more in use than it has.
void ExpectWithinCapacity(const std::vector<Node>& nodes, const Decision& d) {
  std::vector<Resources> used;
  for (const Node& n : nodes) used.push_back(n.used);
  for (const Start& s : d.starts) {
    for (const Share& share : s.shares) {
      ASSERT_GE(share.node, 0);
      ASSERT_LT(share.node, static_cast<int>(nodes.size()));
      used[share.node] += share.res;
    }
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Resources& total = nodes[i].total;
    const Resources& before = nodes[i].used;
    const Resources added = used[i] - before;
    // What was free: total - used, each dimension clamped to [0, total].
    const Resources room = total - Resources{std::clamp(before.cpus, 0, total.cpus),
                                             std::clamp<int64_t>(before.mem_mb, 0, total.mem_mb),
                                             std::clamp(before.gpus, 0, total.gpus)};
    EXPECT_TRUE(added.FitsIn(room)) << "node " << i << " overcommitted";
  }
}

TEST(ScheduleTest, EmptyInputsDecideNothing) {
  Decision d = Schedule({}, {}, {}, kNow);
  EXPECT_TRUE(d.starts.empty());
  EXPECT_TRUE(d.blocked.empty());
  EXPECT_EQ(d.reservation_group, 0u);
  EXPECT_FALSE(d.reservation_time.has_value());

  d = Schedule({MakeNode(4)}, {Frees(0, 4, kNow + hours(1))}, {}, kNow);
  EXPECT_TRUE(d.starts.empty());
  EXPECT_TRUE(d.blocked.empty());

  // No nodes: work is blocked on resources, nothing is reserved.
  d = Schedule({}, {}, {Job(1, 1)}, kNow);
  EXPECT_TRUE(d.starts.empty());
  ExpectBlocked(d, 1, Reason::kResources, 1);
  EXPECT_EQ(d.reservation_group, 0u);

  // A group with no units allowed now is ignored.
  Group none = Job(2, 1);
  none.units = 0;
  d = Schedule({MakeNode(4)}, {}, {none}, kNow);
  EXPECT_TRUE(d.starts.empty());
  EXPECT_TRUE(d.blocked.empty());
}

TEST(ScheduleTest, OrdersByPriorityThenSubmitTimeThenId) {
  Group a{.id = 1, .priority = 0, .submit_time = kNow - hours(5)};
  Group b{.id = 2, .priority = 5, .submit_time = kNow};
  Group c{.id = 4, .priority = 5, .submit_time = kNow - minutes(1)};
  Group d{.id = 3, .priority = 5, .submit_time = kNow - minutes(1)};
  Decision out = Schedule({MakeNode(3)}, {}, {a, b, c, d}, kNow);
  EXPECT_EQ(StartedGroups(out), (std::vector<uint64_t>{3, 4, 2}));
  ASSERT_EQ(out.blocked.size(), 1u);
  ExpectBlocked(out, 1, Reason::kResources, 1);
}

TEST(ScheduleTest, BestFitPicksTheNodeLeftWithFewestCpus) {
  // Free cpus: 8, 2, 4, 4.
  std::vector<Node> nodes = {MakeNode(8), MakeNode(4, 2), MakeNode(4), MakeNode(6, 2)};
  Decision d = Schedule(nodes, {}, {Job(1, 3), Job(2, 2), Job(3, 4), Job(4, 1)}, kNow);
  EXPECT_EQ(StartedGroups(d), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(NodesOf(d, 1), std::vector<int>{2});  // 4 free, tie with node 3: lower index
  EXPECT_EQ(NodesOf(d, 2), std::vector<int>{1});  // exact fit
  EXPECT_EQ(NodesOf(d, 3), std::vector<int>{3});  // node 2 has only 1 left
  EXPECT_EQ(NodesOf(d, 4), std::vector<int>{2});  // the last cpu of node 2, not node 0
  EXPECT_TRUE(d.blocked.empty());
  ExpectWithinCapacity(nodes, d);
}

TEST(ScheduleTest, SpreadsTasksOverTheMostFreeNodesWhenNoNodeHoldsTheUnit) {
  std::vector<Node> nodes = {MakeNode(4, 0, 1000), MakeNode(6, 0, 1000), MakeNode(2, 0, 1000),
                             MakeNode(6, 0, 100)};  // node 3 lacks the memory
  Group g = Job(1, 11);
  g.mem_mb = 500;
  Decision d = Schedule(nodes, {}, {g}, kNow);
  ASSERT_EQ(d.starts.size(), 1u);
  const std::vector<Share>& shares = d.starts[0].shares;
  ASSERT_EQ(shares.size(), 3u);
  EXPECT_EQ(shares[0].node, 0);
  EXPECT_EQ(shares[0].ntasks, 4);
  EXPECT_EQ(shares[1].node, 1);
  EXPECT_EQ(shares[1].ntasks, 6);
  EXPECT_EQ(shares[2].node, 2);
  EXPECT_EQ(shares[2].ntasks, 1);
  for (const Share& s : shares) {
    EXPECT_EQ(s.res.cpus, s.ntasks);
    EXPECT_EQ(s.res.mem_mb, 500);  // --mem is per node
  }
  ExpectWithinCapacity(nodes, d);
}

TEST(ScheduleTest, NeverSplitsATaskAcrossNodes) {
  Group g = Job(1, 5);
  g.cpus_per_task = 2;
  // Four 3-cpu nodes have 12 cpus but room for only four 2-cpu tasks.
  std::vector<Node> four(4, MakeNode(3));
  std::vector<Node> five(5, MakeNode(3));
  Decision d = Schedule(four, {}, {g}, kNow);
  EXPECT_TRUE(d.starts.empty());
  ExpectBlocked(d, 1, Reason::kResources, 1);

  d = Schedule(five, {}, {g}, kNow);
  ASSERT_EQ(d.starts.size(), 1u);
  ASSERT_EQ(d.starts[0].shares.size(), 5u);
  for (const Share& s : d.starts[0].shares) {
    EXPECT_EQ(s.ntasks, 1);
    EXPECT_EQ(s.res.cpus, 2);
  }
}

TEST(ScheduleTest, MaxNodesBoundsTheSpread) {
  // Free cpus 3, 3, 4: eight tasks need three nodes.
  std::vector<Node> nodes = {MakeNode(4, 1), MakeNode(4, 1), MakeNode(4)};
  Group bounded = Job(1, 8);
  bounded.max_nodes = 2;
  Decision d = Schedule(nodes, {}, {bounded}, kNow);
  EXPECT_TRUE(d.starts.empty());
  ExpectBlocked(d, 1, Reason::kResources, 1);

  Group free_form = Job(2, 8);
  d = Schedule(nodes, {}, {free_form}, kNow);
  EXPECT_EQ(TasksOf(d, 2), (std::map<int, int>{{0, 3}, {1, 1}, {2, 4}}));
}

TEST(ScheduleTest, MinNodesSpreadsTasksEvenly) {
  std::vector<Node> nodes(4, MakeNode(8));
  Group g = Job(1, 6);
  g.min_nodes = 3;  // it would fit on one node, but must use three
  Decision d = Schedule(nodes, {}, {g}, kNow);
  EXPECT_EQ(TasksOf(d, 1), (std::map<int, int>{{0, 2}, {1, 2}, {2, 2}}));

  g.ntasks = 5;
  g.min_nodes = 2;
  d = Schedule(nodes, {}, {g}, kNow);
  std::map<int, int> tasks = TasksOf(d, 1);
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0] + tasks[1], 5);
  EXPECT_LE(std::abs(tasks[0] - tasks[1]), 1);

  // A node with one free cpu takes one task; the others share the rest evenly.
  nodes = {MakeNode(8), MakeNode(8, 7), MakeNode(8)};
  g.ntasks = 6;
  g.min_nodes = 3;
  d = Schedule(nodes, {}, {g}, kNow);
  tasks = TasksOf(d, 1);
  ASSERT_EQ(tasks.size(), 3u);
  EXPECT_EQ(tasks[1], 1);
  EXPECT_EQ(tasks[0] + tasks[2], 5);
  EXPECT_LE(std::abs(tasks[0] - tasks[2]), 1);
  ExpectWithinCapacity(nodes, d);
}

TEST(ScheduleTest, GpuUnitStaysOnOneNode) {
  std::vector<Node> nodes = {MakeNode(8), MakeNode(2, 0, 64'000, 2), MakeNode(2, 0, 64'000, 2)};
  Group wide = Job(1, 4);
  wide.gpus = 1;  // 4 cpus and a gpu: no single node has both, and it may not spread
  Group narrow = Job(2, 2);
  narrow.gpus = 2;
  Decision d = Schedule(nodes, {}, {wide, narrow}, kNow);
  ExpectBlocked(d, 1, Reason::kResources, 1);
  ASSERT_EQ(d.starts.size(), 1u);
  ASSERT_EQ(d.starts[0].group, 2u);
  ASSERT_EQ(d.starts[0].shares.size(), 1u);
  EXPECT_EQ(d.starts[0].shares[0].node, 1);
  EXPECT_EQ(d.starts[0].shares[0].res, (Resources{2, 0, 2}));
}

TEST(ScheduleTest, ArrayGroupStopsAtCapacityWithoutVisitingEveryUnit) {
  std::vector<Node> nodes = {MakeNode(2), MakeNode(2)};
  Group array = Job(7, 1);
  array.units = 10'000;
  Decision d = Schedule(nodes, {}, {array}, kNow);
  ASSERT_EQ(d.starts.size(), 4u);
  EXPECT_EQ(NodesOf(d, 7), (std::vector<int>{0, 0, 1, 1}));
  ASSERT_EQ(d.blocked.size(), 1u);
  ExpectBlocked(d, 7, Reason::kResources, 9'996);
  // One placement per node filled, one that fails, and the reservation's few probes.
  EXPECT_LE(d.placement_attempts, 8);
  ExpectWithinCapacity(nodes, d);
}

TEST(ScheduleTest, ArrayGroupFillsEachNodeInOnePlacement) {
  std::vector<Node> nodes(100, MakeNode(64));
  Group array = Job(1, 1);
  array.units = 10'000;
  Decision d = Schedule(nodes, {}, {array}, kNow);
  EXPECT_EQ(d.starts.size(), 6'400u);
  ExpectBlocked(d, 1, Reason::kResources, 3'600);
  EXPECT_LE(d.placement_attempts, 110);
  ExpectWithinCapacity(nodes, d);
}

// A long queue of a few shapes: once a shape does not fit what is free, the rest of its jobs
// wait for resources without a placement each; a smaller shape behind them still starts.
TEST(ScheduleTest, AShapeThatNoLongerFitsCostsNoPlacementPerJob) {
  std::vector<Node> nodes = {MakeNode(4, 3), MakeNode(4, 4)};  // one cpu free
  std::vector<Group> groups;
  for (uint64_t id = 1; id <= 5'000; ++id) groups.push_back(Job(id, 2));
  groups.push_back(Job(5'001, 1));
  groups.push_back(Job(5'002, 1));
  Decision d = Schedule(nodes, {Frees(1, 4, kNow + hours(2))}, groups, kNow);
  EXPECT_EQ(StartedGroups(d), std::vector<uint64_t>{5'001});
  ASSERT_EQ(d.blocked.size(), 5'001u);
  for (uint64_t id = 1; id <= 5'000; ++id) ExpectBlocked(d, id, Reason::kResources, 1);
  ExpectBlocked(d, 5'002, Reason::kResources, 1);  // the cpu went to 5,001
  EXPECT_LE(d.placement_attempts, 40);
  ExpectWithinCapacity(nodes, d);
}

TEST(ScheduleTest, ReservationCountsUnitsStartedInThisPass) {
  Decision d = Schedule({MakeNode(4)}, {}, {Job(1, 4, hours(1)), Job(2, 4, minutes(30))}, kNow);
  EXPECT_EQ(StartedGroups(d), std::vector<uint64_t>{1});
  ExpectBlocked(d, 2, Reason::kResources, 1);
  EXPECT_EQ(d.reservation_group, 2u);
  ASSERT_TRUE(d.reservation_time.has_value());
  EXPECT_EQ(*d.reservation_time, kNow + hours(1));
}

TEST(ScheduleTest, ShadowTimeIsTheEarliestReleaseAfterWhichTheUnitFits) {
  std::vector<Node> nodes = {MakeNode(4, 4), MakeNode(4, 4)};
  std::vector<Release> releases = {Frees(0, 4, kNow + hours(3)), Frees(1, 2, kNow + hours(1)),
                                   Frees(1, 2, kNow + hours(2)),
                                   Frees(9, 4, kNow + minutes(1))};  // unknown node: ignored
  Decision d = Schedule(nodes, releases, {Job(1, 4)}, kNow);
  EXPECT_TRUE(d.starts.empty());
  EXPECT_EQ(d.reservation_group, 1u);
  ASSERT_TRUE(d.reservation_time.has_value());
  EXPECT_EQ(*d.reservation_time, kNow + hours(2));

  // An overdue release puts the reservation at `now`, never in the past.
  d = Schedule(nodes, {Frees(1, 4, kNow - hours(1))}, {Job(1, 4)}, kNow);
  ASSERT_TRUE(d.reservation_time.has_value());
  EXPECT_EQ(*d.reservation_time, kNow);
}

// Two 4-cpu nodes; node 0 is busy for two more hours. A wide job at the top needs both nodes.
class BackfillTest : public ::testing::Test {
 protected:
  std::vector<Node> nodes_ = {MakeNode(4, 4), MakeNode(4)};
  std::vector<Release> releases_ = {Frees(0, 4, kNow + hours(2))};
  Group wide_ = [] {
    Group g = Job(1, 8, hours(4));
    g.priority = 10;
    return g;
  }();
};

TEST_F(BackfillTest, ShortJobsBackfillLongOnesDoNot) {
  Group shorter = Job(2, 2, hours(1));
  Group exact = Job(3, 1, hours(2));  // ends right at the shadow time
  Group longer = Job(4, 1, hours(3));
  Group too_big = Job(5, 5, minutes(1));
  Decision d = Schedule(nodes_, releases_, {wide_, shorter, exact, longer, too_big}, kNow);
  EXPECT_EQ(StartedGroups(d), (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(d.reservation_group, 1u);
  ASSERT_TRUE(d.reservation_time.has_value());
  EXPECT_EQ(*d.reservation_time, kNow + hours(2));
  ExpectBlocked(d, 1, Reason::kResources, 1);
  ExpectBlocked(d, 4, Reason::kPriority, 1);   // fits on node 1 now, but would delay the job
  ExpectBlocked(d, 5, Reason::kResources, 1);  // does not fit now, reservation or not
  ExpectWithinCapacity(nodes_, d);
}

TEST_F(BackfillTest, UnitWithoutTimeLimitNeverEndsBeforeTheShadowTime) {
  Decision d = Schedule(nodes_, releases_, {wide_, Job(2, 1, kInfinite)}, kNow);
  EXPECT_TRUE(d.starts.empty());
  ExpectBlocked(d, 2, Reason::kPriority, 1);
}

TEST_F(BackfillTest, WithoutBackfillNothingPassesTheFirstBlockedGroup) {
  Group fits = Job(2, 1, minutes(1));
  Group too_big = Job(3, 5, minutes(1));
  Decision d = Schedule(nodes_, releases_, {wide_, fits, too_big}, kNow, {.backfill = false});
  EXPECT_TRUE(d.starts.empty());
  ExpectBlocked(d, 1, Reason::kResources, 1);
  ExpectBlocked(d, 2, Reason::kPriority, 1);
  ExpectBlocked(d, 3, Reason::kResources, 1);
  // The top group's expected start is still reported.
  EXPECT_EQ(d.reservation_group, 1u);
  ASSERT_TRUE(d.reservation_time.has_value());
  EXPECT_EQ(*d.reservation_time, kNow + hours(2));

  // Above the first blocked group, strict order still starts what fits.
  Group top = Job(9, 2);
  top.priority = 20;
  d = Schedule(nodes_, releases_, {wide_, fits, top}, kNow, {.backfill = false});
  EXPECT_EQ(StartedGroups(d), std::vector<uint64_t>{9});
}

TEST(ScheduleTest, LongJobMayUseWhatTheReservationLeaves) {
  // Nodes 0 and 1 are busy for two hours; at that point the wide job takes them, not node 2.
  std::vector<Node> nodes = {MakeNode(4, 4), MakeNode(4, 4), MakeNode(4)};
  std::vector<Release> releases = {Frees(0, 4, kNow + hours(2)), Frees(1, 4, kNow + hours(2))};
  Group wide = Job(1, 8, hours(4));
  wide.priority = 10;
  Decision d = Schedule(nodes, releases, {wide, Job(2, 4, hours(10))}, kNow);
  EXPECT_EQ(StartedGroups(d), std::vector<uint64_t>{2});
  EXPECT_EQ(NodesOf(d, 2), std::vector<int>{2});

  // Part of a node: the wide job will use 8 + 4 cpus of two 8-cpu nodes, leaving 4 on node 1.
  nodes = {MakeNode(8, 8), MakeNode(8)};
  releases = {Frees(0, 8, kNow + hours(2))};
  wide.ntasks = 12;
  d = Schedule(nodes, releases, {wide, Job(2, 4, hours(10)), Job(3, 4, hours(10))}, kNow);
  EXPECT_EQ(StartedGroups(d), std::vector<uint64_t>{2});
  ExpectBlocked(d, 3, Reason::kPriority, 1);  // 4 cpus are free now, but they are reserved
  ExpectWithinCapacity(nodes, d);
}

TEST(ScheduleTest, WorkWithoutLimitLeavesNoShadowTimeButHoldsResources) {
  // Half the node runs work with no time limit: the wide job can only start once it is gone.
  std::vector<Node> nodes = {MakeNode(8, 4)};
  std::vector<Release> releases = {Frees(0, 4, kNever)};
  Group wide = Job(1, 8);
  wide.priority = 10;
  Decision d = Schedule(nodes, releases, {wide, Job(2, 2, hours(1)), Job(3, 2, kInfinite)}, kNow);
  EXPECT_EQ(d.reservation_group, 1u);
  EXPECT_FALSE(d.reservation_time.has_value());
  EXPECT_EQ(StartedGroups(d), std::vector<uint64_t>{2});  // ends some day: may run
  ExpectBlocked(d, 3, Reason::kPriority, 1);              // would block the wide job forever
}

TEST(ScheduleTest, NoReservationWhenUsageHasNoRelease) {
  // Node 0 is busy with usage the caller gave no release for: no shadow time can be found,
  // so backfill carries on unconstrained, as in Slurm.
  std::vector<Node> nodes = {MakeNode(8, 6), MakeNode(4)};
  Group wide = Job(1, 8);
  wide.priority = 10;
  Decision d = Schedule(nodes, {}, {wide, Job(2, 4, kInfinite)}, kNow);
  ExpectBlocked(d, 1, Reason::kResources, 1);
  EXPECT_EQ(d.reservation_group, 0u);
  EXPECT_FALSE(d.reservation_time.has_value());
  EXPECT_EQ(StartedGroups(d), std::vector<uint64_t>{2});
}

TEST(ScheduleTest, GroupThatCannotRunOnTheseNodesDoesNotBlockOthers) {
  Group huge = Job(1, 100);
  huge.priority = 10;
  Group invalid = Job(2, 0);  // ntasks < 1
  invalid.priority = 10;
  Decision d = Schedule({MakeNode(4), MakeNode(4)}, {}, {huge, invalid, Job(3, 1)}, kNow,
                        {.backfill = false});
  EXPECT_EQ(StartedGroups(d), std::vector<uint64_t>{3});
  ExpectBlocked(d, 1, Reason::kResources, 1);
  ExpectBlocked(d, 2, Reason::kResources, 1);
  EXPECT_EQ(d.reservation_group, 0u);
}

// Nodes named n0, n1, ... with `cpus` each and `used` cpus in use.
std::vector<Node> Named(std::vector<int> cpus, std::vector<int> used = {}) {
  std::vector<Node> nodes;
  for (size_t i = 0; i < cpus.size(); ++i) {
    nodes.push_back(MakeNode(cpus[i], i < used.size() ? used[i] : 0));
    nodes.back().name = "n" + std::to_string(i);
  }
  return nodes;
}

TEST(ScheduleTest, RequiredNodesEachGetATaskAndTheRestSpreadsAsUsual) {
  // Best fit alone would take n1 (fewest free cpus that hold 2); -w n0 means n0.
  Group one = Job(1, 2);
  one.require = {"n0"};
  Decision d = Schedule(Named({8, 2, 4}), {}, {one}, kNow);
  EXPECT_EQ(NodesOf(d, 1), std::vector<int>{0});
  // Two required nodes and more tasks than they hold: both used, the rest on the most free.
  Group wide = Job(2, 6);
  wide.require = {"n1", "n0"};
  wide.min_nodes = 2;
  d = Schedule(Named({2, 2, 1, 4}), {}, {wide}, kNow);
  EXPECT_EQ(TasksOf(d, 2), (std::map<int, int>{{0, 2}, {1, 2}, {3, 2}}));
  // A required node that is full, or not among the nodes, holds the unit back.
  d = Schedule(Named({4, 4}, {4, 0}), {}, {one}, kNow);
  EXPECT_TRUE(d.starts.empty());
  one.require = {"n9"};
  d = Schedule(Named({4, 4}), {}, {one}, kNow);
  EXPECT_TRUE(d.starts.empty());
  ExpectBlocked(d, 1, Reason::kResources, 1);
}

TEST(ScheduleTest, ExcludedNodesGetNothing) {
  Group array = Job(1, 1);
  array.units = 10;
  array.exclude = {"n1"};
  Decision d = Schedule(Named({2, 8, 2}), {}, {array}, kNow);
  EXPECT_EQ(NodesOf(d, 1), (std::vector<int>{0, 0, 2, 2}));
  Group spread = Job(2, 4);
  spread.exclude = {"n0"};
  d = Schedule(Named({8, 2, 2}), {}, {spread}, kNow);
  EXPECT_EQ(TasksOf(d, 2), (std::map<int, int>{{1, 2}, {2, 2}}));
}

TEST(ScheduleTest, ExclusiveUnitsTakeWholeIdleNodes) {
  Group ex = Job(1, 1);
  ex.exclusive = true;
  ex.units = 3;
  // n0 has one cpu in use: an exclusive unit skips it; each unit takes a whole node.
  Decision d = Schedule(Named({4, 4, 2}, {1}), {}, {ex, Job(2, 1)}, kNow);
  EXPECT_EQ(NodesOf(d, 1), (std::vector<int>{2, 1}));
  for (const Start& s : d.starts) {
    if (s.group == 1) {
      EXPECT_EQ(s.shares[0].res.cpus, s.shares[0].node == 1 ? 4 : 2);
    }
  }
  // Nothing else lands on an exclusive unit's node.
  EXPECT_EQ(NodesOf(d, 2), std::vector<int>{0});
  // Spread over whole nodes.
  Group wide = Job(3, 3);
  wide.exclusive = true;
  wide.min_nodes = 2;
  d = Schedule(Named({2, 2, 2}, {0, 1}), {}, {wide}, kNow);
  EXPECT_EQ(TasksOf(d, 3), (std::map<int, int>{{0, 2}, {2, 1}}));
}

TEST(ScheduleTest, InconsistentInputNeverOvercommits) {
  std::vector<Node> nodes = {MakeNode(4, 10), MakeNode(4, -3)};  // over-used, negative use
  std::vector<Release> releases = {Release{0, {1'000, -5, 0}, kNow + hours(1)}};
  Group array = Job(1, 1);
  array.units = 100;
  Decision d = Schedule(nodes, releases, {array}, kNow);
  EXPECT_EQ(NodesOf(d, 1), (std::vector<int>{1, 1, 1, 1}));
  ExpectBlocked(d, 1, Reason::kResources, 96);
  ASSERT_TRUE(d.reservation_time.has_value());
  EXPECT_EQ(*d.reservation_time, kNow + hours(1));
}

TEST(ScheduleTest, LargeClusterKeepsEveryInvariant) {
  uint64_t seed = 42;
  auto next = [&seed](int bound) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<int>((seed >> 33) % static_cast<uint64_t>(bound));
  };
  std::vector<Node> nodes;
  std::vector<Release> releases;
  for (int i = 0; i < 1'000; ++i) {
    const int cpus = 8 << next(4);
    const int used = next(cpus + 1);
    nodes.push_back(Node{.name = "n",
                         .total = {cpus, 4'000LL * cpus, next(3) == 0 ? 4 : 0},
                         .used = {used, 1'000LL * used, 0}});
    if (used > 0) {
      releases.push_back(Release{i, {used, 1'000LL * used, 0}, kNow + minutes(1 + next(600))});
    }
  }
  std::vector<Group> groups;
  for (int i = 0; i < 1'000; ++i) {
    Group g{.id = static_cast<uint64_t>(i + 1),
            .priority = next(5),
            .submit_time = kNow - minutes(next(1'000)),
            .units = 1 + next(20),
            .ntasks = 1 + next(48),
            .cpus_per_task = 1 + next(4),
            .mem_mb = next(2) * 1'000LL,
            .gpus = next(10) == 0 ? 1 : 0,
            .time_limit = next(10) == 0 ? kInfinite : minutes(1 + next(900))};
    if (next(4) == 0) g.min_nodes = 1 + next(3);
    if (g.gpus > 0) g.min_nodes = 1;
    if (g.min_nodes > g.ntasks) g.min_nodes = g.ntasks;
    groups.push_back(g);
  }
  Decision d = Schedule(nodes, releases, groups, kNow);
  ExpectWithinCapacity(nodes, d);

  std::map<uint64_t, int> started;
  for (const Start& s : d.starts) {
    const Group& g = groups[s.group - 1];
    ++started[s.group];
    int tasks = 0;
    for (const Share& share : s.shares) {
      tasks += share.ntasks;
      EXPECT_GE(share.ntasks, 1);
      EXPECT_EQ(share.res.cpus, share.ntasks * g.cpus_per_task);
      EXPECT_EQ(share.res.mem_mb, g.mem_mb);
    }
    EXPECT_EQ(tasks, g.ntasks);
    EXPECT_GE(static_cast<int>(s.shares.size()), g.min_nodes);
    if (g.gpus > 0) {
      EXPECT_EQ(s.shares.size(), 1u);
    }
  }
  EXPECT_FALSE(d.starts.empty());
  for (const Group& g : groups) {
    std::optional<Blocked> b = FindBlocked(d, g.id);
    EXPECT_EQ(started[g.id] + (b ? b->units_left : 0), g.units) << "group " << g.id;
  }
  // Work grows with groups, nodes filled and the reservation search, not with pending units.
  EXPECT_LE(d.placement_attempts, static_cast<int64_t>(d.starts.size() + 3 * groups.size() + 64));
}

TEST(ReasonTest, Names) {
  EXPECT_STREQ(ReasonName(Reason::kNone), "None");
  EXPECT_STREQ(ReasonName(Reason::kResources), "Resources");
  EXPECT_STREQ(ReasonName(Reason::kPriority), "Priority");
}

class CheckFeasibleTest : public ::testing::Test {
 protected:
  // Two 8-cpu nodes with 16 GB each; the second has two gpus.
  std::vector<Resources> nodes_ = {{8, 16'000, 0}, {8, 16'000, 2}};

  std::string Message(const Group& g) {
    Status s = CheckFeasible(nodes_, g);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
    return s.message();
  }
  // The message for Job(1, ntasks) as `shape` changes it.
  std::string Message(int ntasks, const std::function<void(Group&)>& shape) {
    Group g = Job(1, ntasks);
    shape(g);
    return Message(g);
  }
};

TEST_F(CheckFeasibleTest, AcceptsWhatSomePlacementHolds) {
  EXPECT_TRUE(CheckFeasible(nodes_, Job(1, 16)).ok());  // spread over both nodes
  Group gpu = Job(2, 8);
  gpu.gpus = 2;
  gpu.mem_mb = 16'000;
  EXPECT_TRUE(CheckFeasible(nodes_, gpu).ok());
  Group per_node = Job(3, 2);
  per_node.min_nodes = 2;
  per_node.mem_mb = 16'000;
  EXPECT_TRUE(CheckFeasible(nodes_, per_node).ok());
}

TEST_F(CheckFeasibleTest, NamesTooManyCpus) {
  EXPECT_EQ(Message(64, [](Group& g) { g.max_nodes = 1; }),
            "needs 64 cpus on one node; the largest node has 8");
  EXPECT_EQ(Message(Job(2, 17)),
            "needs 17 cpus (17 tasks x 1 cpus); all the nodes together hold 16 such tasks");
  EXPECT_EQ(Message(2, [](Group& g) { g.cpus_per_task = 16; }),
            "needs 16 cpus per task on one node (a task cannot span nodes); the largest node "
            "has 8");
  nodes_.push_back({8, 16'000, 0});
  EXPECT_EQ(Message(20, [](Group& g) { g.max_nodes = 2; }),
            "needs 20 cpus (20 tasks x 1 cpus) on at most 2 nodes; the largest 2 nodes hold 16 "
            "such tasks");
}

TEST_F(CheckFeasibleTest, NamesTooMuchMemory) {
  EXPECT_EQ(Message(4, [](Group& g) { g.mem_mb = 32'000; }),
            "needs 32000 MB of memory on each node it uses; the largest node has 16000 MB");
  EXPECT_EQ(Message(4,
                    [](Group& g) {
                      g.mem_mb = 32'000;
                      g.max_nodes = 1;
                    }),
            "needs 32000 MB of memory on one node; the largest node has 16000 MB");
}

TEST_F(CheckFeasibleTest, NamesTooManyGpus) {
  EXPECT_EQ(Message(1, [](Group& g) { g.gpus = 4; }),
            "needs 4 gpus on one node; the largest node has 2");
  // gpus keep the unit on one node, so the cpus must be there too
  EXPECT_EQ(Message(12, [](Group& g) { g.gpus = 1; }),
            "needs 12 cpus on one node; the largest node has 8");
  nodes_ = {{8, 16'000, 0}, {2, 16'000, 2}};
  EXPECT_EQ(Message(4, [](Group& g) { g.gpus = 1; }),
            "needs 4 cpus, 0 MB of memory and 1 gpus on one node; no node has all of them");
}

TEST_F(CheckFeasibleTest, NamesTooManyNodes) {
  Group g = Job(1, 6);
  g.min_nodes = 3;
  EXPECT_EQ(Message(g),
            "needs 3 nodes with at least 1 cpus and 0 MB of memory each; 2 of the 2 nodes "
            "qualify");
  nodes_.push_back({8, 1'000, 0});
  g.min_nodes = 3;
  g.mem_mb = 2'000;
  EXPECT_EQ(Message(g),
            "needs 3 nodes with at least 1 cpus and 2000 MB of memory each; 2 of the 3 nodes "
            "qualify");
}

TEST_F(CheckFeasibleTest, RejectsInvalidShapes) {
  Group g = Job(1, 0);
  EXPECT_EQ(Message(g), "ntasks must be at least 1 (got 0)");
  g = Job(1, 4);
  g.cpus_per_task = 0;
  EXPECT_EQ(Message(g), "cpus_per_task must be at least 1 (got 0)");
  g = Job(1, 4);
  g.min_nodes = 3;
  g.max_nodes = 2;
  EXPECT_EQ(Message(g), "max_nodes (2) is less than min_nodes (3)");
  g = Job(1, 2);
  g.min_nodes = 3;
  EXPECT_EQ(Message(g),
            "min_nodes (3) is more than ntasks (2); every node needs at least one task");
  g = Job(1, 2);
  g.min_nodes = 2;
  g.gpus = 1;
  EXPECT_EQ(Message(g), "a unit with gpus must run on one node, but min_nodes is 2");
  g = Job(1, 1, Duration(-1));
  EXPECT_EQ(Message(g), "time_limit must not be negative");
  g = Job(1, 1);
  g.mem_mb = -1;
  EXPECT_EQ(Message(g), "mem_mb must not be negative (got -1)");
}

TEST_F(CheckFeasibleTest, NodeNamesRequireAndExclude) {
  const std::vector<std::string> names = {"a", "b"};
  Group g = Job(1, 9);
  g.require = {"a"};
  EXPECT_TRUE(CheckFeasible(nodes_, g, names).ok());  // a and then b
  g.exclude = {"b"};
  EXPECT_EQ(CheckFeasible(nodes_, g, names).message(),
            "does not fit on the nodes it may use (-w/--nodelist, -x/--exclude)");
  g = Job(1, 2);
  g.require = {"c"};
  EXPECT_EQ(CheckFeasible(nodes_, g, names).message(), "a required node is not among the nodes");
  g.require = {"a"};
  g.exclude = {"a"};
  EXPECT_EQ(Message(g), "node a is both required and excluded");
  g = Job(1, 1);
  g.require = {"a", "b"};
  EXPECT_EQ(Message(g), "2 nodes are required but there are only 1 tasks; every node needs one");
  g = Job(1, 2);
  g.require = {"a", "b"};
  g.max_nodes = 1;
  EXPECT_EQ(Message(g), "2 nodes are required but max_nodes is 1");
}

TEST_F(CheckFeasibleTest, NoNodes) {
  nodes_.clear();
  EXPECT_EQ(Message(Job(1, 1)), "there are no nodes to run on");
}

TEST_F(CheckFeasibleTest, AgreesWithScheduleOnEmptyNodes) {
  nodes_ = {{4, 8'000, 0}, {8, 4'000, 1}, {2, 16'000, 2}};
  std::vector<Node> nodes;
  for (const Resources& r : nodes_) nodes.push_back(Node{.name = "n", .total = r, .used = {}});
  for (int ntasks = 1; ntasks <= 16; ++ntasks) {
    for (int gpus = 0; gpus <= 2; ++gpus) {
      for (int64_t mem : {0, 4'000, 8'000, 16'000}) {
        for (int max_nodes : {0, 1, 2}) {
          Group g = Job(1, ntasks);
          g.gpus = gpus;
          g.mem_mb = mem;
          g.max_nodes = max_nodes;
          const bool feasible = CheckFeasible(nodes_, g).ok();
          const bool started = !Schedule(nodes, {}, {g}, kNow).starts.empty();
          EXPECT_EQ(feasible, started)
              << ntasks << " tasks, " << gpus << " gpus, " << mem << " MB, max_nodes " << max_nodes;
        }
      }
    }
  }
}

}  // namespace
}  // namespace swell::head::scheduler
