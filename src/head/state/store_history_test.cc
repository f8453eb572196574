// The store's accounting side: task usage, step rows, the jobs of a time window, and the
// upgrade of a database written before these columns existed.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "head/state/store.h"
#include "head/state/store_testing.h"

namespace swell::head::state {
namespace {

using StoreHistoryTest = StoreTest;

TEST_F(StoreHistoryTest, TaskUsageAndStepsAreReadBack) {
  auto opened = Store::Open(path_);
  ASSERT_TRUE(opened.ok());
  Store& store = **opened;
  TaskRow task{7, 0, 3, "n1", 0, 0, 10, 20, 0, false};
  task.max_rss_kb = 5120;
  task.user_cpu_us = 1'500'000;
  task.sys_cpu_us = 250'000;
  ASSERT_TRUE(store.PutTask(task).ok());
  EXPECT_EQ(**store.LoadTask(7, 0), task);

  const StepRow s0{7, 0, "hostname", "n1,n2", 2, 11, 12, 3, 0, 0, 900, 10, 20};
  const StepRow s1{7, 1, "sleep", "n1", 1, 13, 0, 2, 0, 0, 0, 0, 0};
  const StepRow other{9, 0, "x", "n3", 1, 1, 2, 4, 3, 0, 0, 0, 0};
  for (const auto& s : {s1, other, s0}) ASSERT_TRUE(store.PutStep(s).ok());
  EXPECT_EQ(*store.LoadSteps(7, 8), (std::vector<StepRow>{s0, s1}));
  EXPECT_EQ(*store.LoadSteps(7, 10), (std::vector<StepRow>{s0, s1, other}));
  EXPECT_EQ(*store.LoadRunningSteps(), std::vector<StepRow>{s1});
  StepRow ended = s1;
  ended.end_ms = 30;
  ended.state = 5;
  ASSERT_TRUE(store.PutStep(ended).ok());
  EXPECT_TRUE(store.LoadRunningSteps()->empty());
}

TEST_F(StoreHistoryTest, WindowSelectsJobsAliveInItByIdInPages) {
  auto opened = Store::Open(path_);
  ASSERT_TRUE(opened.ok());
  Store& store = **opened;
  auto job = [](int64_t id, int64_t submit, int64_t end) {
    JobRow j;
    j.id = id;
    j.submit_ms = submit;
    j.end_ms = end;
    return j;
  };
  // Ended before the window, ended in it, still running, submitted after it.
  for (const auto& j : {job(1, 10, 50), job(2, 60, 120), job(3, 70, 0), job(4, 300, 0)})
    ASSERT_TRUE(store.PutJob(j).ok());
  auto ids = [&](int64_t after, int64_t start, int64_t end, int limit) {
    std::vector<int64_t> out;
    auto rows = store.LoadJobsInWindow(after, start, end, limit);
    EXPECT_TRUE(rows.ok());
    if (!rows.ok()) return out;
    for (const auto& j : *rows) out.push_back(j.id);
    return out;
  };
  EXPECT_EQ(ids(0, 100, 200, 10), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(ids(0, 0, 0, 10), (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(ids(0, 0, 0, 2), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(ids(2, 0, 0, 2), (std::vector<int64_t>{3, 4}));
}

TEST_F(StoreHistoryTest, OlderDatabaseGainsTheUsageColumns) {
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    // The tasks table as the first swell wrote it, with a finished task.
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TABLE tasks(job_id INTEGER, pos INTEGER, state INTEGER, node TEXT,"
                           " exit_code INTEGER, signal INTEGER, start_ms INTEGER, end_ms INTEGER,"
                           " attempt INTEGER, PRIMARY KEY(job_id, pos)) WITHOUT ROWID;"
                           "INSERT INTO tasks VALUES(5, 0, 4, 'n1', 3, 0, 100, 200, 0);",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto opened = Store::Open(path_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto task = (*opened)->LoadTask(5, 0);
  ASSERT_TRUE(task.ok());
  ASSERT_TRUE(task->has_value());
  EXPECT_EQ((*task)->exit_code, 3);
  EXPECT_EQ((*task)->max_rss_kb, 0);
  TaskRow t = **task;
  t.max_rss_kb = 77;
  ASSERT_TRUE((*opened)->PutTask(t).ok());
  EXPECT_EQ((**(*opened)->LoadTask(5, 0)).max_rss_kb, 77);
  ASSERT_TRUE((*opened)->PutStep(StepRow{5, 0, "a", "n1", 1, 1, 2, 3, 0, 0, 0, 0, 0}).ok());
}

}  // namespace
}  // namespace swell::head::state
