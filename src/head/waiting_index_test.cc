#include "head/waiting_index.h"

#include <gtest/gtest.h>

#include <map>

namespace swell::head {
namespace {

class WaitingIndexTest : public ::testing::Test {
 protected:
  Job& Add(int64_t id, int64_t tasks = 1) {
    Job& job = jobs_[id];
    job.row.id = id;
    job.row.task_count = tasks;
    return job;
  }
  void Refresh(std::vector<int64_t> ids) { index_.Refresh(std::move(ids), find_, view_); }
  std::vector<int64_t> Ids() const {
    std::vector<int64_t> ids;
    for (const auto& w : index_.jobs()) ids.push_back(w.id);
    return ids;
  }

  std::map<int64_t, Job> jobs_;
  WaitingIndex index_;
  WaitingIndex::Find find_ = [this](int64_t id) -> Job* {
    auto it = jobs_.find(id);
    return it == jobs_.end() ? nullptr : &it->second;
  };
  WaitingIndex::View view_ = [](const Job& job) {
    reconcile::WaitingJob w;
    w.id = job.row.id;
    w.units = job.undispatched();
    w.priority = -job.spec.nice();
    w.reason = job.row.reason;
    return w;
  };
};

TEST_F(WaitingIndexTest, HoldsTheJobsThatWaitInIdOrderAsTheyAre) {
  Add(3);
  Add(1, 4);
  Add(2).row.next_pos = 1;  // dispatched: it does not wait
  Refresh({3, 1, 2, 3});
  EXPECT_EQ(Ids(), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(index_.jobs()[0].units, 4);
  EXPECT_EQ(&index_.job(1), &jobs_.at(3));
  EXPECT_TRUE(index_.Check(jobs_, view_).empty());

  jobs_.at(1).row.next_pos = 3;  // some of it dispatched: seen again
  jobs_.at(3).row.next_pos = 1;  // all of it: it leaves
  Add(5);
  Refresh({1, 3, 5});
  EXPECT_EQ(Ids(), (std::vector<int64_t>{1, 5}));
  EXPECT_EQ(index_.jobs()[0].units, 1);

  // A job that waits again (requeued) goes back in its place among the others.
  jobs_.at(3).requeued.push_back({0, 1});
  Refresh({3});
  EXPECT_EQ(Ids(), (std::vector<int64_t>{1, 3, 5}));
  EXPECT_EQ(index_.IndexOf(3), 1u);
  EXPECT_FALSE(index_.IndexOf(2).has_value());

  // A job gone from the head leaves when it is named.
  jobs_.erase(5);
  Refresh({5});
  EXPECT_EQ(Ids(), (std::vector<int64_t>{1, 3}));
  EXPECT_TRUE(index_.Check(jobs_, view_).empty());
}

TEST_F(WaitingIndexTest, ConditionsAreNamedAndTheGateIsTheCallers) {
  Add(1);
  Add(2).spec.set_hold(true);
  Add(3).spec.set_begin_time_ms(1);
  Add(4).spec.mutable_dependency()->add_terms()->set_type("afterok");
  Refresh({1, 2, 3, 4});
  ASSERT_EQ(index_.size(), 4u);
  EXPECT_FALSE(index_.conditional(0));
  EXPECT_TRUE(index_.conditional(1));
  EXPECT_TRUE(index_.conditional(2));
  EXPECT_TRUE(index_.conditional(3));
  index_.at(1).gate = "JobHeldUser";
  EXPECT_TRUE(index_.Check(jobs_, view_).empty());  // gates are not the index's to judge
}

// The sweep's check finds what a change that did not list its job left behind: an entry as
// the job was, a job that waits unseen, an entry for a job that no longer waits or is gone.
TEST_F(WaitingIndexTest, CheckFindsWhatAnUnlistedChangeLeftBehind) {
  Add(1);
  Add(2);
  Add(3);
  Add(4);
  Refresh({1, 2, 3, 4});
  jobs_.at(1).spec.set_nice(5);  // its priority changed, unlisted
  jobs_.at(2).row.next_pos = 1;  // it no longer waits, unlisted
  jobs_.erase(3);                // gone, unlisted
  Add(6);                        // waits, unlisted
  EXPECT_EQ(index_.Check(jobs_, view_), (std::vector<int64_t>{1, 2, 3, 6}));
  Refresh(index_.Check(jobs_, view_));
  EXPECT_EQ(Ids(), (std::vector<int64_t>{1, 4, 6}));
  EXPECT_EQ(index_.jobs()[0].priority, -5);
  EXPECT_TRUE(index_.Check(jobs_, view_).empty());
}

}  // namespace
}  // namespace swell::head
