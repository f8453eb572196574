#include "head/state/store.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdio>

#include "head/state/store_testing.h"

namespace swell::head::state {
namespace {

TEST_F(StoreTest, CommittedJobSurvivesReopen) {
  {
    auto store = Store::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->Begin().ok());
    JobRow j;
    j.id = 7;
    j.name = "sweep";
    j.task_count = 100;
    j.spec = std::string("\0\1binary", 8);
    ASSERT_TRUE((*store)->PutJob(j).ok());
    ASSERT_TRUE((*store)->PutSpec(j.id, j.spec).ok());
    j.name = "renamed";
    ASSERT_TRUE((*store)->PutJob(j).ok());  // a later row update keeps the spec
    ASSERT_TRUE((*store)->SetCounter("next_job_id", 107).ok());
    ASSERT_TRUE((*store)->Commit().ok());
  }
  auto store = Store::Open(path_);
  ASSERT_TRUE(store.ok());
  auto jobs = (*store)->LoadJobs(/*active_only=*/true);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].name, "renamed");
  EXPECT_EQ((*jobs)[0].task_count, 100);
  EXPECT_EQ((*jobs)[0].spec, std::string("\0\1binary", 8));
  EXPECT_EQ(*(*store)->GetCounter("next_job_id", 1), 107);
}

TEST_F(StoreTest, RolledBackWritesAreGone) {
  auto store = Store::Open(path_);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Begin().ok());
  JobRow j;
  j.id = 1;
  ASSERT_TRUE((*store)->PutJob(j).ok());
  (*store)->Rollback();
  auto job = (*store)->LoadJob(1);
  ASSERT_TRUE(job.ok());
  EXPECT_FALSE(job->has_value());
}

TEST_F(StoreTest, TasksLiveAndCounted) {
  auto store = Store::Open(path_);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Begin().ok());
  for (int pos = 0; pos < 5; ++pos) {
    TaskRow t;
    t.job_id = 3;
    t.pos = pos;
    t.state = pos < 2 ? 2 : 3;  // RUNNING, COMPLETED
    t.node = "n1";
    ASSERT_TRUE((*store)->PutTask(t).ok());
  }
  ASSERT_TRUE((*store)->Commit().ok());
  auto live = (*store)->LoadLiveTasks();
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->size(), 2u);
  auto counts = (*store)->CountTasks(3);
  ASSERT_TRUE(counts.ok());
  ASSERT_EQ(counts->size(), 2u);
  EXPECT_EQ((*counts)[0], (std::pair<int, int64_t>(2, 2)));
  EXPECT_EQ((*counts)[1], (std::pair<int, int64_t>(3, 3)));
  auto one = (*store)->LoadTask(3, 4);
  ASSERT_TRUE(one.ok());
  ASSERT_TRUE(one->has_value());
  EXPECT_EQ((*one)->state, 3);
}

TEST_F(StoreTest, EveryColumnIsReadBackAsWritten) {
  auto opened = Store::Open(path_);
  ASSERT_TRUE(opened.ok());
  Store& store = **opened;
  const JobRow job{7,  "sweep", 1000, 100, "alice", 2, "Resources", 3, 9,
                   11, 12,      13,   5,   40,      6, true,        2, "spec"};
  const TaskRow task{7, 4, 2, "n2", 1, 15, 21, 22, 3, true};
  const LeaseRow lease{5, 7, "n2", 3, "shares"};
  const NodeRow node{"n2", "i-2", "host2", "up", 8, 16000, 1, 99, 1234};
  const PoolRow pool{"small-1", 3, "small", "idle", 10, 20, 30, true, "boot timeout"};
  const TokenRow token{"0123abcd", 100, 200, "s3cr3t", 4, "far1"};
  ASSERT_TRUE(store.PutJob(job).ok());
  ASSERT_TRUE(store.PutSpec(job.id, job.spec).ok());
  ASSERT_TRUE(store.PutTask(task).ok());
  ASSERT_TRUE(store.PutLease(lease).ok());
  ASSERT_TRUE(store.PutNode(node).ok());
  ASSERT_TRUE(store.PutPoolNode(pool).ok());
  EXPECT_EQ(**store.LoadJob(7), job);
  EXPECT_EQ(**store.LoadTask(7, 4), task);
  EXPECT_EQ(*store.LoadLeases(), std::vector<LeaseRow>{lease});
  EXPECT_EQ(*store.LoadNodes(), std::vector<NodeRow>{node});
  EXPECT_EQ(*store.LoadPool(), std::vector<PoolRow>{pool});
  ASSERT_TRUE(store.PutToken(token).ok());
  EXPECT_EQ(*store.LoadToken("0123abcd"), token);
  EXPECT_EQ(*store.LoadToken("0123abce"), std::nullopt);
  ASSERT_TRUE(store.PutRevoked("node:far1", 1'700'000'000'123).ok());
  ASSERT_TRUE(store.PutRevoked("user:ann", 5).ok());
  ASSERT_TRUE(store.PutRevoked("user:ann", 7).ok());  // revoked again: the later time holds
  auto revoked = store.LoadRevoked();
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(*revoked, (std::map<std::string, int64_t>{{"node:far1", 1'700'000'000'123},
                                                      {"user:ann", 7}}));
}

// Job scripts and environments are in the database: nobody but its owner reads it, nor its
// write-ahead log, and one an older swell left readable is narrowed when opened.
TEST_F(StoreTest, TheDatabaseAndItsLogAreTheOwnersOnly) {
  auto mode = [](const std::string& p) {
    struct stat st {};
    return stat(p.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
  };
  {
    auto store = Store::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->Begin().ok());
    ASSERT_TRUE((*store)->SetCounter("next_job", 7).ok());
    ASSERT_TRUE((*store)->Commit().ok());
    EXPECT_EQ(mode(path_), 0600);
    EXPECT_EQ(mode(path_ + "-wal"), 0600);
  }
  ASSERT_EQ(chmod(path_.c_str(), 0644), 0);
  auto store = Store::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(mode(path_), 0600);
  EXPECT_EQ(*(*store)->GetCounter("next_job", 1), 7);
}

TEST_F(StoreTest, RefusesGarbageFile) {
  FILE* f = fopen(path_.c_str(), "w");
  fputs("this is not a database, just some text that is long enough to be read", f);
  fclose(f);
  auto store = Store::Open(path_);
  EXPECT_FALSE(store.ok());
}

}  // namespace
}  // namespace swell::head::state
