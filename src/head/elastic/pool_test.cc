#include "head/elastic/pool.h"

#include <gtest/gtest.h>

namespace swell::head::elastic {
namespace {

namespace as = autoscaler;
using std::chrono::seconds;

std::vector<as::NodeType> Types() {
  as::NodeType small;
  small.name = "small";
  small.cpus = 2;
  small.price_per_hour = 1.0;
  as::NodeType big;
  big.name = "big";
  big.cpus = 8;
  big.price_per_hour = 4.0;
  big.max_nodes = 2;
  return {small, big};
}

as::Action Create(int small, int big) { return {{small, big}, {}}; }

Time T(int s) { return FromMillis(s * 1000LL); }

// In a pool that has no node yet: small-1 is created at 0, boots at 1 and is idle from 2.
void BringUpOneSmallNode(Pool* pool) {
  pool->Apply(Create(1, 0), T(0));
  pool->CreateDone("small-1", Status::Ok(), T(1));
  pool->Registered("small-1", T(2));
}

TEST(Pool, CreatesBootsAndRunsThroughTheLifecycle) {
  Pool pool(Types(), {});
  auto calls = pool.Apply(Create(2, 0), T(0));
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].kind, Call::kCreate);
  EXPECT_EQ(calls[0].name, "small-1");
  EXPECT_EQ(calls[1].name, "small-2");
  EXPECT_EQ(pool.Find("small-1")->phase, Phase::kRequested);
  EXPECT_TRUE(pool.CreateDone("small-1", Status::Ok(), T(1)).empty());
  EXPECT_EQ(pool.Find("small-1")->phase, Phase::kBooting);
  EXPECT_TRUE(pool.Registered("small-1", T(5)));
  EXPECT_EQ(pool.Find("small-1")->phase, Phase::kIdle);
  pool.SetBusy("small-1", true, T(6));
  EXPECT_EQ(pool.Find("small-1")->phase, Phase::kAllocated);
  // The policy may only remove idle nodes: an allocated one stays.
  as::Action remove{{0, 0}, {pool.Find("small-1")->id}};
  EXPECT_TRUE(pool.Apply(remove, T(7)).empty());
  EXPECT_EQ(pool.Find("small-1")->phase, Phase::kAllocated);
  pool.SetBusy("small-1", false, T(8));
  calls = pool.Apply(remove, T(9));
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].kind, Call::kDelete);
  EXPECT_EQ(pool.Find("small-1")->phase, Phase::kDeleting);
  pool.DeleteDone("small-1", Status::Ok(), T(10));
  EXPECT_EQ(pool.Find("small-1")->phase, Phase::kGone);
  EXPECT_EQ(pool.Find("small-1")->gone, T(10));
  EXPECT_EQ(pool.Live(), 1);
  // Names are never reused.
  calls = pool.Apply(Create(1, 0), T(11));
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].name, "small-3");
}

TEST(Pool, MaximumsBudgetAndRatesHoldOnEveryDecision) {
  PoolOptions o;
  o.max_nodes = 3;
  Pool pool(Types(), o);
  EXPECT_EQ(pool.Apply(Create(0, 5), T(0)).size(), 2u);  // big: max 2 per type
  EXPECT_EQ(pool.Apply(Create(5, 0), T(0)).size(), 1u);  // 3 in total
  EXPECT_TRUE(pool.Apply(Create(5, 5), T(1)).empty());

  PoolOptions budget;
  budget.budget_per_hour = 5.5;  // one big (4) and one small (1)
  Pool b(Types(), budget);
  EXPECT_EQ(b.Apply(Create(0, 1), T(0)).size(), 1u);
  EXPECT_EQ(b.Apply(Create(3, 0), T(0)).size(), 1u);

  PoolOptions rate;
  rate.creates_per_minute = 2;
  Pool r(Types(), rate);
  EXPECT_EQ(r.Apply(Create(5, 0), T(0)).size(), 2u);
  EXPECT_TRUE(r.Apply(Create(5, 0), T(30)).empty());
  EXPECT_EQ(r.Apply(Create(5, 0), T(61)).size(), 2u);
}

TEST(Pool, ABootPastTheTimeoutFailsAndIsDeleted) {
  PoolOptions o;
  o.boot_timeout = seconds(100);
  Pool pool(Types(), o);
  pool.Apply(Create(1, 0), T(0));
  pool.CreateDone("small-1", Status::Ok(), T(1));
  EXPECT_TRUE(pool.Tick(T(99)).empty());
  auto calls = pool.Tick(T(100));
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].kind, Call::kDelete);
  const PoolNode* n = pool.Find("small-1");
  EXPECT_TRUE(n->failed);
  EXPECT_EQ(n->reason, "boot timeout");
  // A node registering after it was given up on is refused.
  EXPECT_FALSE(pool.Registered("small-1", T(101)));
  // A failed delete is retried until it works; the node is billed until then.
  pool.DeleteDone("small-1", Unavailable("api down"), T(101));
  EXPECT_EQ(pool.Find("small-1")->phase, Phase::kFailed);
  EXPECT_TRUE(pool.Tick(T(105)).empty());
  calls = pool.Tick(T(111));
  ASSERT_EQ(calls.size(), 1u);
  pool.DeleteDone("small-1", Status::Ok(), T(112));
  EXPECT_EQ(pool.Find("small-1")->phase, Phase::kGone);
}

TEST(Pool, FailedCreatesAreDeletedAndBackTheTypeOff) {
  PoolOptions o;
  o.type_failure_limit = 2;
  o.type_backoff = seconds(300);
  Pool pool(Types(), o);
  pool.Apply(Create(2, 0), T(0));
  // A create that failed is still deleted: the provider may have made half of it.
  auto calls = pool.CreateDone("small-1", Unavailable("quota"), T(1));
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].kind, Call::kDelete);
  EXPECT_TRUE(pool.Usable(0, T(1)));
  pool.CreateDone("small-2", Unavailable("quota"), T(2));
  EXPECT_FALSE(pool.Usable(0, T(2)));
  EXPECT_TRUE(pool.Usable(1, T(2)));
  EXPECT_TRUE(pool.Apply(Create(1, 0), T(3)).empty());
  EXPECT_TRUE(pool.Usable(0, T(302)));
  EXPECT_EQ(pool.Apply(Create(1, 0), T(302)).size(), 1u);
}

TEST(Pool, DeletedWhileCreatingIsDeletedAfterTheCreateReturns) {
  Pool pool(Types(), {});
  pool.Apply(Create(1, 0), T(0));
  EXPECT_TRUE(pool.Drain("small-1", "admin", T(1)).empty());  // the create still runs
  auto calls = pool.CreateDone("small-1", Status::Ok(), T(2));
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].kind, Call::kDelete);
}

TEST(Pool, DrainingWaitsForTheWorkToEnd) {
  Pool pool(Types(), {});
  BringUpOneSmallNode(&pool);
  pool.SetBusy("small-1", true, T(3));
  EXPECT_TRUE(pool.Drain("small-1", "maintenance", T(4)).empty());
  EXPECT_EQ(pool.Find("small-1")->phase, Phase::kDraining);
  auto calls = pool.SetBusy("small-1", false, T(5));
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].kind, Call::kDelete);
}

TEST(Pool, ReconcileDeletesUnknownInstancesAndNoticesLostOnes) {
  Pool pool(Types(), {});
  BringUpOneSmallNode(&pool);
  auto calls = pool.Reconcile({"small-1", "big-7"}, T(3));
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].name, "big-7");
  EXPECT_EQ(pool.Find("big-7")->type, 1);
  pool.DeleteDone("big-7", Status::Ok(), T(4));
  // small-1 vanished (preempted): failed, and deleted to make sure.
  calls = pool.Reconcile({}, T(5));
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].name, "small-1");
  EXPECT_TRUE(pool.Find("small-1")->failed);
  EXPECT_EQ(pool.Find("small-1")->reason, "instance gone");
}

TEST(Pool, RestoreContinuesNamesAndSettlesRequestedNodes) {
  Pool pool(Types(), {});
  PoolNode n;
  n.id = 7;
  n.name = "small-4";
  n.type = 0;
  n.phase = Phase::kRequested;
  n.requested = T(0);
  pool.Restore(n);
  EXPECT_EQ(pool.Find("small-4")->phase, Phase::kBooting);
  auto calls = pool.Apply(Create(1, 0), T(1));
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].name, "small-5");
  EXPECT_GT(pool.Find("small-5")->id, 7);
  auto view = pool.View();
  ASSERT_EQ(view.size(), 2u);
  EXPECT_EQ(view[0].state, as::NodeState::kBooting);
}

TEST(Pool, ViewIsInCreationOrderAndCountsFollowThePhases) {
  Pool pool(Types(), {});
  // A virtual clock may run before the epoch (the simulator's oracle boots nodes then).
  auto calls = pool.Apply(Create(12, 0), T(-90));
  ASSERT_EQ(calls.size(), 12u);
  for (const auto& c : calls) pool.CreateDone(c.name, Status::Ok(), T(-90));
  auto view = pool.View();
  ASSERT_EQ(view.size(), 12u);
  for (size_t i = 1; i < view.size(); ++i) EXPECT_LT(view[i - 1].id, view[i].id);  // small-10 last
  EXPECT_EQ(pool.NameOf(view.back().id), "small-12");
  EXPECT_EQ(calls.back().id, view.back().id);
  EXPECT_EQ(pool.Count(Phase::kBooting), 12);
  pool.Registered("small-1", T(0));
  pool.SetBusy("small-1", true, T(1));
  pool.Registered("small-2", T(0));
  EXPECT_EQ(pool.Count(Phase::kBooting), 10);
  EXPECT_EQ(pool.Count(Phase::kIdle), 1);
  EXPECT_EQ(pool.Count(Phase::kAllocated), 1);
  calls = pool.Apply({{0, 0}, {pool.Find("small-2")->id}}, T(2));
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(pool.Count(Phase::kDeleting), 1);
  pool.DeleteDone("small-2", Status::Ok(), T(3));
  EXPECT_EQ(pool.Count(Phase::kGone), 1);
  EXPECT_EQ(pool.Live(), 11);
  EXPECT_EQ(pool.Live(0), 11);
  EXPECT_EQ(pool.View().size(), 11u);
  // Forgetting drops only a gone node's record.
  pool.Forget("small-1");
  EXPECT_NE(pool.Find("small-1"), nullptr);
  pool.Forget("small-2");
  EXPECT_EQ(pool.Find("small-2"), nullptr);
  EXPECT_EQ(pool.Count(Phase::kGone), 0);
  EXPECT_EQ(pool.Live(), 11);
  for (const auto& name : pool.TakeDirty()) EXPECT_NE(name, "small-2");
}

TEST(Pool, PhaseNamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(Phase::kGone); ++i)
    EXPECT_EQ(ParsePhase(PhaseName(static_cast<Phase>(i))), static_cast<Phase>(i));
  EXPECT_FALSE(ParsePhase("sleeping"));
}

}  // namespace
}  // namespace swell::head::elastic
