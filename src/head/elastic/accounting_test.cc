#include "head/elastic/accounting.h"

#include <gtest/gtest.h>

namespace swell::head::elastic {
namespace {

constexpr int64_t kHour = 3600 * 1000;

TEST(Accounting, ChargesTasksTheirShareAndThePoolTheRest) {
  // Two 2-cpu nodes at $1/h: a lives 2 h, b lives 1 h (and is still up).
  std::vector<PaidNode> nodes = {{"a", 2, 1.0, 0, 2 * kHour, true},
                                 {"b", 2, 1.0, kHour / 2, kHour + kHour / 2, false}};
  // alice: one 2-cpu task for 1 h on a (a whole node); bob: a 1-cpu task for 1 h on b (half),
  // and a task on a static node (not paid).
  std::vector<UsedTask> tasks = {{"alice", 1, 0, 60 * 1000, 60 * 1000 + kHour, "a", 2},
                                 {"bob", 2, kHour / 2, kHour / 2, kHour + kHour / 2, "b", 1},
                                 {"bob", 3, 0, 10 * 1000, 10 * 1000 + kHour, "static1", 4}};
  Usage u = Account(nodes, tasks);
  EXPECT_DOUBLE_EQ(u.node_hours, 3.0);
  EXPECT_DOUBLE_EQ(u.cost, 3.0);
  EXPECT_DOUBLE_EQ(u.job_hours, 1.0 + 0.5 + 1.0);
  EXPECT_DOUBLE_EQ(u.efficiency, 1.5 / 3.0);  // only work on paid nodes
  EXPECT_DOUBLE_EQ(u.overhead_cost, 3.0 - 1.5);
  EXPECT_EQ(u.jobs, 3);
  EXPECT_EQ(u.nodes_max, 2);
  EXPECT_EQ(u.scale_ups, 2);
  EXPECT_EQ(u.scale_downs, 1);
  EXPECT_DOUBLE_EQ(u.wait_max_s, 60);
  EXPECT_DOUBLE_EQ(u.wait_p50_s, 10);
  EXPECT_DOUBLE_EQ(u.users["alice"].cost, 1.0);
  EXPECT_DOUBLE_EQ(u.users["bob"].cost, 0.5);
  EXPECT_EQ(u.users["bob"].jobs, 2);
  EXPECT_NE(ToJson(u).find("\"efficiency\":0.5"), std::string::npos) << ToJson(u);
}

TEST(Accounting, NodesThatFollowEachOtherAreNotCountedAtOnce) {
  std::vector<PaidNode> nodes = {{"a", 1, 1.0, 0, kHour, true},
                                 {"b", 1, 1.0, kHour, 2 * kHour, true}};
  EXPECT_EQ(Account(nodes, {}).nodes_max, 1);
  EXPECT_EQ(Account({}, {}).efficiency, 0);
}

TEST(Accounting, JsonNamesEveryFieldAndTheUsers) {
  Usage u{2, 3, 1.5, 2, 0.75, 1, 2, 4, 2.5, 0.5, 2, 3, 1, {}};
  EXPECT_EQ(ToJson(u),
            R"({"cost":2.5,"efficiency":0.75,"job_hours":1.5,"jobs":2,"node_hours":2.0,)"
            R"("nodes_max":2,"overhead_cost":0.5,"scale_downs":1,"scale_ups":3,"tasks":3,)"
            R"("users":{},"wait_max_s":4.0,"wait_p50_s":1.0,"wait_p95_s":2.0})");
  u.users["alice"] = {2, 3, 1.5, 2};
  EXPECT_NE(ToJson(u).find(R"("users":{"alice":{"cost":2.0,"job_hours":1.5,"jobs":2,"tasks":3}})"),
            std::string::npos)
      << ToJson(u);
}

}  // namespace
}  // namespace swell::head::elastic
