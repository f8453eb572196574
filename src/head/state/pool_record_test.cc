#include "head/state/pool_record.h"

#include <gtest/gtest.h>

namespace swell::head {
namespace {

std::vector<autoscaler::NodeType> Types() {
  autoscaler::NodeType small, big;
  small.name = "small";
  big.name = "big";
  return {small, big};
}

TEST(PoolRecordTest, ANodeComesBackAsItWasRecorded) {
  elastic::PoolNode n;
  n.id = 42;
  n.name = "big-3";
  n.type = 1;
  n.phase = elastic::Phase::kAllocated;
  n.requested = FromMillis(1000);
  n.ready = FromMillis(5000);
  auto row = ToPoolRow(n, Types());
  EXPECT_EQ(row.type, "big");
  EXPECT_EQ(row.phase, "allocated");
  EXPECT_EQ(row.gone_ms, 0);
  auto back = FromPoolRow(row, Types(), FromMillis(9000));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->id, 42);
  EXPECT_EQ(back->name, "big-3");
  EXPECT_EQ(back->type, 1);
  EXPECT_EQ(back->phase, elastic::Phase::kAllocated);
  EXPECT_EQ(back->requested, FromMillis(1000));
  EXPECT_EQ(back->ready, FromMillis(5000));
  EXPECT_EQ(back->idle_since, FromMillis(9000)) << "idle counts from the restart";
  EXPECT_TRUE(back->create_done);
  EXPECT_FALSE(back->failed);
}

TEST(PoolRecordTest, ANodeNotReadyRecordsNoReadyTime) {
  elastic::PoolNode n;
  n.name = "small-1";
  n.phase = elastic::Phase::kBooting;
  n.requested = FromMillis(1000);
  EXPECT_EQ(ToPoolRow(n, Types()).ready_ms, 0);
}

TEST(PoolRecordTest, GoneNodesAreHistoryAndUnknownTypesFail) {
  elastic::PoolNode n;
  n.name = "small-1";
  n.phase = elastic::Phase::kGone;
  n.gone = FromMillis(7000);
  auto row = ToPoolRow(n, Types());
  EXPECT_EQ(row.gone_ms, 7000);
  EXPECT_FALSE(FromPoolRow(row, Types(), FromMillis(8000)).has_value());
  row.phase = "no-such-phase";
  EXPECT_FALSE(FromPoolRow(row, Types(), FromMillis(8000)).has_value());

  row.phase = "idle";
  row.type = "huge";  // removed from the cluster file since
  auto back = FromPoolRow(row, Types(), FromMillis(8000));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->phase, elastic::Phase::kFailed);
  EXPECT_TRUE(back->failed);
  EXPECT_NE(back->reason.find("huge"), std::string::npos) << back->reason;
}

// A restart: the live nodes come back; the names and ids of the gone ones are not given again
// (the store keeps a node's record by name: a new node of that name would overwrite history).
TEST(PoolRecordTest, ARestoredPoolGivesNoGoneNodesNameAgain) {
  std::vector<state::PoolRow> rows(2);
  rows[0] = {"small-1", 1, "small", "idle", 1000, 2000, 0, false, ""};
  rows[1] = {"small-2", 9, "small", "gone", 1000, 2000, 5000, false, "idle"};
  elastic::Pool pool(Types(), {});
  EXPECT_EQ(RestorePool(rows, &pool, FromMillis(9000)), 1);
  EXPECT_EQ(pool.nodes().size(), 1u);
  autoscaler::Action a;
  a.create = {1, 0};
  auto calls = pool.Apply(a, FromMillis(9000));
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].name, "small-3");
  EXPECT_GT(calls[0].id, 9);
}

}  // namespace
}  // namespace swell::head
