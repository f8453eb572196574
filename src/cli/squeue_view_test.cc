#include "cli/squeue_view.h"

#include <gtest/gtest.h>

#include "cli/slurm_view_testing.h"
#include "common/slurm_output.h"

namespace swell::cli::slurm {
namespace {

// squeue(1), "The default formats": default "%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R",
// -l, --long "%.18i %.9P %.8j %.8u %.8T %.10M %.9l %.6D %R".
constexpr char kSqueueDefault[] = "%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R";
constexpr char kSqueueLong[] = "%.18i %.9P %.8j %.8u %.8T %.10M %.9l %.6D %R";

// A queue: a running plain job, an array with task 3 running and 4-9 pending (throttled to
// 2), a job pending for resources and a finished one.
pb::QueueReply Queue() {
  pb::QueueReply q;
  auto* run = q.add_jobs();
  *run = Job(1, "hello-world-long", pb::RUNNING);
  run->set_start_ms(kNowMs - 65'000);
  run->add_nodes("node1");
  run->mutable_spec()->set_time_limit_ms(3'600'000);
  run->mutable_spec()->set_mem_mb(4096);
  auto* arr = q.add_jobs();
  *arr = Job(2, "sweep", pb::RUNNING);
  for (int i = 3; i <= 9; ++i) arr->mutable_spec()->add_array_indices(i);
  arr->mutable_spec()->set_array_max_running(2);
  arr->set_array_max_running(2);
  arr->set_task_count(7);
  arr->set_pending_indices("4-9");
  arr->set_reason("JobArrayTaskLimit");
  auto* task = arr->add_tasks();
  task->set_array_index(3);
  task->set_job_id(2);
  task->set_state(pb::RUNNING);
  task->set_node("node2");
  task->set_start_ms(kNowMs - 3'723'000);
  auto* pend = q.add_jobs();
  *pend = Job(9, "big", pb::PENDING);
  pend->set_reason("Resources");
  pend->mutable_spec()->set_ntasks(4);
  pend->mutable_spec()->set_cpus_per_task(2);
  pend->mutable_spec()->set_min_nodes(2);
  auto* done = q.add_jobs();
  *done = Job(10, "done", pb::FAILED);
  done->set_exit_code(3);
  done->set_start_ms(kNowMs - 50'000);
  done->set_end_ms(kNowMs - 40'000);
  return q;
}

std::string Line(const char* format, const JobRow& row) {
  return RenderLine(ParseOutputFormat(format),
                    [&](const OutputField& f) { return JobField(f.type, row, kNow); });
}

std::string Header(const char* format) {
  return RenderLine(ParseOutputFormat(format),
                    [](const OutputField& f) { return JobHeader(f.type); });
}

TEST_F(SlurmViewTest, RowsOfArraysAndSqueueOrder) {
  pb::QueueReply q = Queue();
  auto rows = JobRows(q, false);
  std::vector<std::string> ids;
  for (const auto& r : rows) ids.push_back(r.id);
  // By partition, then compact state ("CD" < "F" < "PD" < "R"), then priority, then id.
  EXPECT_EQ(ids, (std::vector<std::string>{"10", "2_[4-9%2]", "9", "1", "2_3"}));
  const JobRow& task = rows[4];
  EXPECT_EQ(task.own_id, 2);
  EXPECT_EQ(task.index, 3);
  EXPECT_EQ(task.nodes, std::vector<std::string>{"node2"});
  EXPECT_EQ(rows[1].array_tasks, "4-9%2");
  EXPECT_EQ(rows[1].indices.size(), 6u);

  auto each = JobRows(q, true);
  ids.clear();
  for (const auto& r : each) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"10", "2_4", "2_5", "2_6", "2_7", "2_8", "2_9", "9", "1",
                                           "2_3"}));
  EXPECT_EQ(each[1].own_id, 3);  // the second task's own id
}

TEST_F(SlurmViewTest, SqueueDefaultAndLongLines) {
  pb::QueueReply q = Queue();
  auto rows = JobRows(q, false);
  EXPECT_EQ(Header(kSqueueDefault),
            "             JOBID PARTITION     NAME     USER ST       TIME  NODES "
            "NODELIST(REASON)");
  EXPECT_EQ(Line(kSqueueDefault, rows[3]),
            "                 1     batch hello-wo    alice  R       1:05      1 node1");
  EXPECT_EQ(Line(kSqueueDefault, rows[4]),
            "               2_3     batch    sweep    alice  R    1:02:03      1 node2");
  EXPECT_EQ(Line(kSqueueDefault, rows[1]),
            "         2_[4-9%2]     batch    sweep    alice PD       0:00      1 "
            "(JobArrayTaskLimit)");
  EXPECT_EQ(Line(kSqueueDefault, rows[2]),
            "                 9     batch      big    alice PD       0:00      2 (Resources)");
  EXPECT_EQ(Line(kSqueueDefault, rows[0]),
            "                10     batch     done    alice  F       0:10      1 "
            "(NonZeroExitCode)");
  EXPECT_EQ(Header(kSqueueLong),
            "             JOBID PARTITION     NAME     USER    STATE       TIME TIME_LIMI  NODES "
            "NODELIST(REASON)");
  EXPECT_EQ(Line(kSqueueLong, rows[3]),
            "                 1     batch hello-wo    alice  RUNNING       1:05   1:00:00      1 "
            "node1");
}

TEST_F(SlurmViewTest, MoreFields) {
  pb::QueueReply q = Queue();
  auto rows = JobRows(q, false);
  const JobRow& run = rows[3];
  const JobRow& big = rows[2];
  EXPECT_EQ(Line("%i %t %T", run), "1 R RUNNING");
  EXPECT_EQ(Line("%C %c %m %D", big), "8 2 0 2");
  EXPECT_EQ(Line("%m %l %L", run), "4G 1:00:00 58:55");
  EXPECT_EQ(Line("%l", big), "UNLIMITED");
  EXPECT_EQ(Line("%S|%V|%e", run), "2023-11-14T22:12:15|2023-11-14T22:11:40|2023-11-14T23:12:15");
  EXPECT_EQ(Line("%S|%e", big), "N/A|N/A");
  EXPECT_EQ(Line("%A %F %K", rows[4]), "2 2 3");
  EXPECT_EQ(Line("%A %F %K", run), "1 1 N/A");
  EXPECT_EQ(Line("%N|%r|%u|%U|%a|%q|%Z", run), "node1|None|alice|1000|(null)|normal|/home/alice");
  EXPECT_EQ(Line("%.3j|%-6u|%5P|", run), "hel|alice |batch|");
  EXPECT_TRUE(IsJobField('i'));
  EXPECT_FALSE(IsJobField('X'));
}

TEST_F(SlurmViewTest, JobRefsAndNarrowing) {
  EXPECT_EQ(*ParseJobRef("12"), (JobRef{12, std::nullopt}));
  EXPECT_EQ(*ParseJobRef("12_3"), (JobRef{12, 3}));
  for (const char* bad : {"", "x", "12_", "_3", "12_x", "-1", "0", "1.5", "12_3_4"})
    EXPECT_FALSE(ParseJobRef(bad).ok()) << bad;
  // Steps, where the caller takes them (scancel).
  EXPECT_EQ(*ParseJobRef("12.0", true), (JobRef{12, std::nullopt, 0}));
  EXPECT_EQ(*ParseJobRef("12_3.4", true), (JobRef{12, 3, 4}));
  for (const char* bad : {"12.", "12.x", ".3", "12.1.2"})
    EXPECT_FALSE(ParseJobRef(bad, true).ok()) << bad;
  pb::QueueReply q = Queue();
  auto rows = JobRows(q, false);
  JobRow pending = rows[1];
  EXPECT_TRUE(RowMatches(pending, {2, std::nullopt}));
  EXPECT_TRUE(RowMatches(pending, {2, 5}));
  EXPECT_FALSE(RowMatches(pending, {2, 3}));
  EXPECT_TRUE(RowMatches(rows[4], {2, 3}));
  EXPECT_FALSE(RowMatches(rows[3], {2, std::nullopt}));
  NarrowRow(&pending, {5, 7});
  EXPECT_EQ(pending.id, "2_[5,7]");
  NarrowRow(&pending, {7});
  EXPECT_EQ(pending.id, "2_7");
  EXPECT_EQ(pending.own_id, 6);
  EXPECT_TRUE(Recent(rows[0], kNow));
  EXPECT_FALSE(Recent(rows[0], kNow + std::chrono::minutes(5)));
  EXPECT_TRUE(Recent(rows[3], kNow + std::chrono::hours(100)));
}

TEST_F(SlurmViewTest, JobsJson) {
  pb::QueueReply q = Queue();
  auto json = JobsJson(JobRows(q, false));
  ASSERT_EQ(json["jobs"].size(), 5u);
  const auto& run = json["jobs"][3];
  EXPECT_EQ(run["job_id"], 1);
  EXPECT_EQ(run["name"], "hello-world-long");
  EXPECT_EQ(run["user_name"], "alice");
  EXPECT_EQ(run["job_state"], nlohmann::json::array({"RUNNING"}));
  EXPECT_EQ(run["partition"], "batch");
  EXPECT_EQ(run["nodes"], "node1");
  EXPECT_EQ(run["node_count"]["number"], 1);
  EXPECT_EQ(run["time_limit"]["number"], 60);
  EXPECT_EQ(run["start_time"]["number"], kNowMs / 1000 - 65);
  const auto& task = json["jobs"][4];
  EXPECT_EQ(task["array_job_id"]["number"], 2);
  EXPECT_EQ(task["array_task_id"]["number"], 3);
  const auto& pending = json["jobs"][1];
  EXPECT_EQ(pending["array_task_string"], "4-9%2");
  EXPECT_FALSE(pending["array_task_id"]["set"]);
  EXPECT_EQ(json["jobs"][2]["time_limit"]["infinite"], true);
  EXPECT_EQ(json["jobs"][0]["exit_code"]["return_code"]["number"], 3);
}

}  // namespace
}  // namespace swell::cli::slurm
