#include "cli/sacct_view.h"

#include <gtest/gtest.h>

#include <ctime>

#include "cli/slurm_view_testing.h"

namespace swell::cli::slurm {
namespace {

// Job() in `state`, as accounting has it: submitted at kNowMs, it ran from 1 s to 4 s after on
// node1 with 2 cpus for account physics, and its one task used 2 MB and 1.504 s of cpu.
pb::JobInfo AcctJob(int64_t id, const std::string& name, pb::JobState state, int exit_code = 0) {
  pb::JobInfo j = Job(id, name, state);
  j.set_exit_code(exit_code);
  j.set_submit_ms(kNowMs);
  j.set_start_ms(kNowMs + 1000);
  j.set_end_ms(kNowMs + 4000);
  j.mutable_spec()->set_cpus_per_task(2);
  j.mutable_spec()->set_account("physics");
  auto* t = j.add_tasks();
  t->set_array_index(-1);
  t->set_job_id(id);
  t->set_state(state);
  t->set_exit_code(exit_code);
  t->set_node("node1");
  t->set_start_ms(kNowMs + 1000);
  t->set_end_ms(kNowMs + 4000);
  t->set_max_rss_kb(2048);
  t->set_user_cpu_us(1'500'000);
  t->set_sys_cpu_us(4000);
  return j;
}

SacctOptions Parsed(std::vector<std::string> args) {
  auto o = ParseSacctArgs(args, kNowMs + 60'000);
  EXPECT_TRUE(o.ok()) << o.status().message();
  return o.ok() ? *o : SacctOptions();
}

std::string Print(const std::vector<pb::JobInfo>& jobs, std::vector<std::string> args) {
  SacctOptions o = Parsed(args);
  auto fields = ParseAcctFields(AcctFormat(o, nullptr));
  EXPECT_TRUE(fields.ok());
  std::string out = o.no_header ? "" : AcctHeader(*fields, o);
  for (const auto& r : AcctRecords(jobs, kNowMs + 60'000, o.allocations))
    out += AcctLine(r, *fields, o);
  return out;
}

TEST(SacctViewTest, DefaultFormatHasSlurmsHeaderAndColumns) {
  pb::JobInfo j = AcctJob(12, "hello", pb::COMPLETED);
  std::string out = Print({j}, {});
  EXPECT_EQ(out,
            "JobID           JobName  Partition    Account  AllocCPUS      State ExitCode \n"
            "------------ ---------- ---------- ---------- ---------- ---------- -------- \n"
            "12                hello      batch    physics          2  COMPLETED      0:0 \n"
            "12.batch          batch               physics          2  COMPLETED      0:0 \n");
}

TEST(SacctViewTest, ParsableListsJobsStepsFailuresAndArrayTasks) {
  pb::JobInfo done = AcctJob(12, "ok", pb::COMPLETED);
  auto* step = done.add_steps();
  step->set_job_id(12);
  step->set_step_id(0);
  step->set_name("hostname");
  step->add_nodes("node1");
  step->set_ntasks(1);
  step->set_start_ms(kNowMs + 2000);
  step->set_end_ms(kNowMs + 3000);
  step->set_state(pb::COMPLETED);
  pb::JobInfo failed = AcctJob(13, "bad", pb::FAILED, 3);
  pb::JobInfo array = AcctJob(14, "arr", pb::RUNNING);
  array.mutable_spec()->add_array_indices(1);
  array.mutable_spec()->add_array_indices(2);
  array.mutable_spec()->add_array_indices(3);
  array.set_task_count(3);
  array.set_end_ms(0);
  array.mutable_tasks(0)->set_array_index(2);
  array.mutable_tasks(0)->set_job_id(15);
  array.set_pending_indices("1,3");
  std::string out = Print({done, failed, array},
                          {"-P", "-n", "-j", "12,13,14", "--format=JobID,State,ExitCode,Elapsed"});
  EXPECT_EQ(out,
            "12|COMPLETED|0:0|00:00:03\n"
            "12.batch|COMPLETED|0:0|00:00:03\n"
            "12.0|COMPLETED|0:0|00:00:01\n"
            "13|FAILED|3:0|00:00:03\n"
            "13.batch|FAILED|3:0|00:00:03\n"
            "14_2|RUNNING|0:0|00:00:03\n"
            "14_2.batch|RUNNING|0:0|00:00:03\n"
            "14_[1,3]|PENDING|0:0|00:00:00\n");
  // -X: allocations only.
  EXPECT_EQ(Print({done}, {"-X", "-P", "-n", "-o", "jobid,jobidraw"}), "12|12\n");
}

TEST(SacctViewTest, SelectionByJobIndexAndStepFollowsSlurm) {
  pb::JobInfo array = AcctJob(14, "arr", pb::COMPLETED);
  array.mutable_spec()->add_array_indices(5);
  array.mutable_spec()->add_array_indices(6);
  array.set_task_count(2);
  array.mutable_tasks(0)->set_array_index(5);
  *array.add_tasks() = array.tasks(0);
  array.mutable_tasks(1)->set_array_index(6);
  array.mutable_tasks(1)->set_job_id(15);
  SacctOptions o = Parsed({"-j", "14_6"});
  std::vector<std::string> ids;
  for (const auto& r : AcctRecords({array}, kNowMs, false))
    if (AcctSelected(r, o, 0, 0)) ids.push_back(r.job_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"14_6", "14_6.batch"}));
  o = Parsed({"-j", "15"});  // a task's own id
  ids.clear();
  for (const auto& r : AcctRecords({array}, kNowMs, true))
    if (AcctSelected(r, o, 0, 0)) ids.push_back(r.job_id_raw);
  EXPECT_EQ(ids, std::vector<std::string>{"15"});
}

TEST(SacctViewTest, ParsableWithEndingWidthsAndTruncation) {
  pb::JobInfo j = AcctJob(7, "averylongname", pb::CANCELLED);
  EXPECT_EQ(Print({j}, {"-p", "-X", "-o", "jobid,jobname,state"}),
            "JobID|JobName|State|\n7|averylongname|CANCELLED by 1000|\n");
  EXPECT_EQ(Print({j}, {"-X", "-n", "-o", "jobid%20,jobname,state%-20"}),
            "                   7 averylong+ CANCELLED by 1000    \n");
  EXPECT_EQ(Print({j}, {"-X", "-n", "-P", "--delimiter=;", "-o", "jobid,uid"}), "7;1000\n");
}

TEST(SacctViewTest, UsageFieldsAreSlurms) {
  pb::JobInfo j = AcctJob(9, "mem", pb::COMPLETED);
  j.mutable_spec()->set_mem_mb(4000);
  EXPECT_EQ(Print({j}, {"-P", "-n", "-o", "jobid,maxrss,reqmem,totalcpu,cputime,ntasks,nodelist"}),
            "9||3.91G|00:01.504|00:00:06||node1\n"
            "9.batch|2M||00:01.504|00:00:06|1|node1\n");
}

TEST(SacctViewTest, FieldNamesMatchByPrefixInAnyCase) {
  auto f = ParseAcctFields("jobid,STATE,exit,Elapsed%5,maxrssn");
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f->size(), 5u);
  EXPECT_EQ((*f)[2].name, "ExitCode");
  EXPECT_EQ((*f)[3].width, 5);
  EXPECT_EQ((*f)[4].name, "MaxRSSNode");
  EXPECT_EQ((*f)[0].width, -12);
  auto bad = ParseAcctFields("jobid,bogus");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "sacct: error: Invalid field requested: \"bogus\"");
  EXPECT_EQ(ParseAcctFields("ALL")->size(), 109u);
}

TEST(SacctViewTest, DurationsAndSizesAsSlurmPrintsThem) {
  EXPECT_EQ(AcctElapsed(0), "00:00:00");
  EXPECT_EQ(AcctElapsed(3723), "01:02:03");
  EXPECT_EQ(AcctElapsed(90061), "1-01:01:01");
  EXPECT_EQ(AcctCpuTime(5'000'000), "00:00:05");
  EXPECT_EQ(AcctCpuTime(5'004'000), "00:05.004");
  EXPECT_EQ(AcctCpuTime(3'600'000'000), "01:00:00");
  EXPECT_EQ(AcctSize(0, 0), "0");
  EXPECT_EQ(AcctSize(1536.0 * 1024, 0), "1.50M");
  EXPECT_EQ(AcctSize(512 * 1024, 0), "512K");
  EXPECT_EQ(AcctSize(1024, 2), "1G");
}

TEST(SacctViewTest, OptionErrorsAreSlurms) {
  auto bad_state = ParseSacctArgs({"-s", "bogus"}, kNowMs);
  ASSERT_FALSE(bad_state.ok());
  EXPECT_EQ(bad_state.status().message(), "sacct: fatal: unrecognized job state value 'bogus'");
  auto both = ParseSacctArgs({"-l", "-o", "jobid"}, kNowMs);
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.status().message().find("mutually exclusive"), std::string::npos);
  auto bad_job = ParseSacctArgs({"-j", "x12"}, kNowMs);
  ASSERT_FALSE(bad_job.ok());
  EXPECT_EQ(bad_job.status().message(), "sacct: fatal: Bad job/step specified: x12");
  EXPECT_TRUE(ParseSacctArgs({"-s", "CD,f,ca,TIMEOUT"}, kNowMs).ok());
}

TEST(SacctViewTest, DefaultWindowIsTodayWithoutJobsOrStates) {
  const int64_t now = kNowMs;
  SacctOptions plain;
  auto [start, end] = AcctWindow(plain, now);
  time_t t = static_cast<time_t>(start / 1000);
  struct tm tm;
  localtime_r(&t, &tm);
  EXPECT_EQ(tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec, 0);
  EXPECT_LE(start, now);
  EXPECT_GT(start, now - 86'400'000);
  EXPECT_EQ(end, now);
  SacctOptions with_jobs;
  with_jobs.jobs.push_back({12, std::nullopt, std::nullopt});
  EXPECT_EQ(AcctWindow(with_jobs, now), (std::pair<int64_t, int64_t>(0, now)));
  SacctOptions with_states;
  with_states.states.insert(pb::FAILED);
  EXPECT_EQ(AcctWindow(with_states, now), (std::pair<int64_t, int64_t>(now, now)));
}

TEST(SacctViewTest, JsonHasJobsWithTheirSteps) {
  auto json = AcctJson(AcctRecords({AcctJob(12, "hello", pb::FAILED, 3)}, kNowMs, false));
  ASSERT_EQ(json["jobs"].size(), 1u);
  const auto& job = json["jobs"][0];
  EXPECT_EQ(job["job_id"], 12);
  EXPECT_EQ(job["state"]["current"], "FAILED");
  EXPECT_EQ(job["exit_code"]["return_code"], 3);
  EXPECT_EQ(job["account"], "physics");
  ASSERT_EQ(job["steps"].size(), 1u);
  EXPECT_EQ(job["steps"][0]["step"]["id"], "12.batch");
}

}  // namespace
}  // namespace swell::cli::slurm
