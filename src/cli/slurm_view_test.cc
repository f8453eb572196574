#include "cli/slurm_view.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

namespace swell::cli::slurm {
namespace {

constexpr int64_t kNowMs = 1'700'000'000'000;  // 2023-11-14T22:13:20 UTC
const Time kNow = FromMillis(kNowMs);

// squeue(1), "The default formats": default "%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R",
// -l, --long "%.18i %.9P %.8j %.8u %.8T %.10M %.9l %.6D %R".
constexpr char kSqueueDefault[] = "%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R";
constexpr char kSqueueLong[] = "%.18i %.9P %.8j %.8u %.8T %.10M %.9l %.6D %R";
// sinfo(1): default "%#P %.5a %.10l %.6D %.6t %N" ("#": the longest partition name, at least
// 9; older pages write "%9P %.5a %.10l %.6D %.6t %N"), --Node "%#N %.6D %#P %6t" (sinfo's
// source right-justifies that partition: "partition:.9").
constexpr char kSinfoDefault[] = "%9P %.5a %.10l %.6D %.6t %N";
constexpr char kSinfoNode[] = "%9N %.6D %.9P %6t";

class SlurmViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};

pb::JobInfo Job(int64_t id, const std::string& name, pb::JobState state) {
  pb::JobInfo j;
  j.set_id(id);
  j.set_name(name);
  j.set_user("alice");
  j.set_uid(1000);
  j.set_state(state);
  j.set_submit_ms(kNowMs - 100'000);
  j.set_task_count(1);
  j.set_priority(1);
  j.mutable_spec()->set_ntasks(1);
  j.mutable_spec()->set_cpus_per_task(1);
  j.mutable_spec()->set_min_nodes(1);
  j.mutable_spec()->set_work_dir("/home/alice");
  return j;
}

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

TEST_F(SlurmViewTest, JobStateNames) {
  EXPECT_EQ(JobStateCompact(pb::PENDING), "PD");
  EXPECT_EQ(JobStateCompact(pb::RUNNING), "R");
  EXPECT_EQ(JobStateCompact(pb::COMPLETED), "CD");
  EXPECT_EQ(JobStateCompact(pb::FAILED), "F");
  EXPECT_EQ(JobStateCompact(pb::CANCELLED), "CA");
  EXPECT_EQ(JobStateCompact(pb::TIMEOUT), "TO");
  EXPECT_EQ(JobStateCompact(pb::NODE_FAIL), "NF");
  EXPECT_EQ(JobStateName(pb::NODE_FAIL), "NODE_FAIL");
  EXPECT_EQ(JobStateName(pb::CANCELLED), "CANCELLED");
}

TEST_F(SlurmViewTest, ParseJobStates) {
  auto s = ParseJobStates("PD,r");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(**s, (std::set<std::string>{"PENDING", "RUNNING"}));
  EXPECT_EQ(**ParseJobStates("completed,CA,,to"),
            (std::set<std::string>{"COMPLETED", "CANCELLED", "TIMEOUT"}));
  EXPECT_EQ(**ParseJobStates("S,suspended"), (std::set<std::string>{"SUSPENDED"}));
  EXPECT_FALSE(ParseJobStates("all")->has_value());
  EXPECT_FALSE(ParseJobStates("ALL")->has_value());
  auto bad = ParseJobStates("PD,bogus");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "bogus");
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

pb::NodeInfo Node(const std::string& name, const std::string& state, int used = 0) {
  pb::NodeInfo n;
  n.set_name(name);
  n.set_hostname("host-" + name);
  n.set_state(state);
  n.set_cpus(8);
  n.set_cpus_used(used);
  n.set_mem_mb(4096);
  return n;
}

std::string NodeLine(const std::string& format, const NodeGroup& g) {
  return RenderLine(ParseOutputFormat(format),
                    [&](const OutputField& f) { return NodeField(f.type, g); });
}

std::string NodeHeaderLine(const std::string& format) {
  return RenderLine(ParseOutputFormat(format),
                    [](const OutputField& f) { return NodeHeader(f.type); });
}

TEST_F(SlurmViewTest, NodeStates) {
  EXPECT_EQ(NodeStateOf(Node("n", "IDLE")).compact, "IDLE");
  EXPECT_EQ(NodeStateOf(Node("n", "MIXED", 2)).compact, "MIX");
  EXPECT_EQ(NodeStateOf(Node("n", "ALLOCATED", 8)).name, "ALLOCATED");
  EXPECT_EQ(NodeStateOf(Node("n", "DOWN")).compact, "DOWN*");
  EXPECT_EQ(NodeStateOf(Node("n", "DOWN")).complete, "DOWN+NOT_RESPONDING");
  EXPECT_EQ(NodeStateOf(Node("n", "DRAINING", 2)).compact, "DRNG");
  EXPECT_EQ(NodeStateOf(Node("n", "DRAINING")).name, "DRAINED");
  EXPECT_EQ(NodeStateOf(Node("n", "POWERING_UP")).compact, "IDLE#");
  EXPECT_EQ(NodeStateOf(Node("n", "POWERING_DOWN")).compact, "IDLE%");
  EXPECT_EQ(NodeStateOf(Node("n", "UNKNOWN")).compact, "UNK*");
}

TEST_F(SlurmViewTest, SinfoDefaultLines) {
  pb::NodesReply r;
  *r.add_nodes() = Node("node2", "IDLE");
  *r.add_nodes() = Node("node1", "IDLE");
  *r.add_nodes() = Node("node3", "MIXED", 2);
  *r.add_nodes() = Node("node4", "DOWN");
  auto groups = NodeGroups(r, false, true, false);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(NodeHeaderLine(kSinfoDefault), "PARTITION AVAIL  TIMELIMIT  NODES  STATE NODELIST");
  // Within a partition, by Slurm's state number, highest first.
  EXPECT_EQ(NodeLine(kSinfoDefault, groups[0]), "batch*       up   infinite      1  down* node4");
  EXPECT_EQ(NodeLine(kSinfoDefault, groups[1]), "batch*       up   infinite      1    mix node3");
  EXPECT_EQ(NodeLine(kSinfoDefault, groups[2]),
            "batch*       up   infinite      2   idle node[1-2]");
  EXPECT_EQ(NodeLine("%C %F %A %c %m %T %E %G", groups[1]),
            "2/6/0/8 1/0/0/1 1/0 8 4096 mixed none (null)");
  EXPECT_EQ(NodeLine("%C %F %n", groups[0]), "0/0/8/8 0/0/1/1 host-node4");
  // Without a state column a partition is one line.
  auto one = NodeGroups(r, false, false, false);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(NodeLine("%R %D %N", one[0]), "batch 4 node[1-4]");
}

TEST_F(SlurmViewTest, SinfoNodeOriented) {
  pb::NodesReply r;
  *r.add_nodes() = Node("node10", "IDLE");
  *r.add_nodes() = Node("node2", "ALLOCATED", 8);
  auto groups = NodeGroups(r, true, true, false);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(NodeHeaderLine(kSinfoNode), "NODELIST   NODES PARTITION STATE ");
  EXPECT_EQ(NodeLine(kSinfoNode, groups[0]), "node2          1    batch* alloc ");
  EXPECT_EQ(NodeLine(kSinfoNode, groups[1]), "node10         1    batch* idle  ");
}

TEST_F(SlurmViewTest, ElasticPartitions) {
  pb::NodesReply r;
  r.add_partitions("small");
  r.add_partitions("large");
  auto n = Node("small-1", "POWERING_UP");
  n.set_partition("small");
  *r.add_nodes() = n;
  auto groups = NodeGroups(r, false, true, false);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(NodeLine(kSinfoDefault, groups[0]), "small        up   infinite      1  idle# small-1");
  EXPECT_EQ(NodeLine(kSinfoDefault, groups[1]), "large        up   infinite      0    n/a ");
  auto json = NodesJson(groups);
  ASSERT_EQ(json["sinfo"].size(), 2u);
  EXPECT_EQ(json["sinfo"][0]["node"]["state"], nlohmann::json::array({"IDLE", "POWERING_UP"}));
  EXPECT_EQ(json["sinfo"][0]["nodes"]["nodes"], nlohmann::json::array({"small-1"}));
  EXPECT_EQ(json["sinfo"][0]["partition"]["name"], "small");
  EXPECT_EQ(json["sinfo"][1]["nodes"]["total"], 0);
}

TEST_F(SlurmViewTest, ScontrolShowJob) {
  pb::JobInfo j = Job(1, "hello", pb::RUNNING);
  j.set_start_ms(kNowMs - 65'000);
  j.add_nodes("node1");
  j.set_stdout_path("/home/alice/slurm-1.out");
  j.set_stderr_path("/home/alice/slurm-1.out");
  j.mutable_spec()->set_script_path("/home/alice/job.sh");
  std::string text = ShowJob(j, std::nullopt, kNow);
  EXPECT_EQ(text.rfind("JobId=1 JobName=hello\n   UserId=alice(1000) GroupId=", 0), 0u) << text;
  EXPECT_NE(text.find("\n   JobState=RUNNING Reason=None Dependency=(null)\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("\n   RunTime=00:01:05 TimeLimit=UNLIMITED TimeMin=N/A\n"),
            std::string::npos);
  EXPECT_NE(text.find("\n   StartTime=2023-11-14T22:12:15 EndTime=Unknown"), std::string::npos);
  EXPECT_NE(text.find("\n   NodeList=node1\n   BatchHost=node1\n"), std::string::npos);
  EXPECT_NE(text.find("\n   Command=/home/alice/job.sh\n"), std::string::npos);
  EXPECT_NE(text.find("\n   StdOut=/home/alice/slurm-1.out\n   \n\n"), std::string::npos);
  std::string one = ShowJob(j, std::nullopt, kNow, /*one_liner=*/true);
  EXPECT_EQ(std::count(one.begin(), one.end(), '\n'), 1);
  EXPECT_EQ(one.rfind("JobId=1 JobName=hello UserId=alice(1000)", 0), 0u);
}

TEST_F(SlurmViewTest, ScontrolShowArrayJob) {
  pb::JobInfo j = Job(5, "arr", pb::RUNNING);
  for (int i = 1; i <= 4; ++i) {
    j.mutable_spec()->add_array_indices(i);
    auto* t = j.add_tasks();
    t->set_array_index(i);
    t->set_job_id(4 + i);
    t->set_state(i == 1 ? pb::COMPLETED : i == 2 ? pb::RUNNING : pb::PENDING);
    if (i <= 2) t->set_node("node1"), t->set_start_ms(kNowMs - 1000);
  }
  std::string text = ShowJob(j, std::nullopt, kNow);
  EXPECT_NE(text.find("JobId=5 ArrayJobId=5 ArrayTaskId=3-4 JobName=arr"), std::string::npos)
      << text;
  EXPECT_NE(text.find("JobId=5 ArrayJobId=5 ArrayTaskId=1 JobName=arr"), std::string::npos);
  EXPECT_NE(text.find("JobId=6 ArrayJobId=5 ArrayTaskId=2 JobName=arr"), std::string::npos);
  std::string one = ShowJob(j, 2, kNow);
  EXPECT_EQ(one.rfind("JobId=6 ArrayJobId=5 ArrayTaskId=2 JobName=arr", 0), 0u) << one;
  EXPECT_NE(one.find("JobState=RUNNING"), std::string::npos);
  EXPECT_EQ(ShowJob(j, 99, kNow), "");
}

TEST_F(SlurmViewTest, ScontrolShowNode) {
  pb::NodeInfo n = Node("node1", "MIXED", 2);
  n.set_gpus(1);
  std::string text = ShowNode(n);
  EXPECT_EQ(text.rfind("NodeName=node1 ", 0), 0u) << text;
  EXPECT_NE(text.find("\n   CPUAlloc=2 CPUEfctv=8 CPUTot=8 "), std::string::npos) << text;
  EXPECT_NE(text.find("\n   Gres=gpu:1\n"), std::string::npos);
  EXPECT_NE(text.find("\n   RealMemory=4096 "), std::string::npos);
  EXPECT_NE(text.find("\n   State=MIXED "), std::string::npos);
  EXPECT_NE(text.find("\n   Partitions=batch \n"), std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 2), "\n\n");
}

TEST_F(SlurmViewTest, HostOrder) {
  EXPECT_TRUE(HostLess("node2", "node10"));
  EXPECT_FALSE(HostLess("node10", "node2"));
  EXPECT_TRUE(HostLess("a9", "b1"));
}

}  // namespace
}  // namespace swell::cli::slurm
