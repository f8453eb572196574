// Scenarios on a whole cluster inside the test process (src/testing/cluster.h): real head,
// real node daemons, real job processes, one unix socket.

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "common/files.h"
#include "testing/cluster.h"
#include "testing/scratch.h"

namespace swell {
namespace {

using testing::ClusterOptions;
using testing::InProcessCluster;

std::string Read(const std::string& path) {
  auto r = ReadFile(path);
  return r.ok() ? *r : "<missing " + path + ">";
}

bool IsTerminal(const pb::JobInfo& j) { return j.state() >= pb::COMPLETED; }

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(cluster_->Start().ok()); }
  std::unique_ptr<InProcessCluster> cluster_ = std::make_unique<InProcessCluster>();
};

TEST_F(ClusterTest, JobOutputAndExitCodes) {
  auto ok = cluster_->Submit(cluster_->Shell("echo hello from $SLURM_JOB_ID"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  auto bad = cluster_->Submit(cluster_->Shell("echo oops >&2; exit 3"));
  ASSERT_TRUE(bad.ok());
  auto a = cluster_->WaitJob(*ok);
  auto b = cluster_->WaitJob(*bad);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->state(), pb::COMPLETED);
  EXPECT_EQ(b->state(), pb::FAILED);
  EXPECT_EQ(b->exit_code(), 3);
  EXPECT_EQ(Read(cluster_->dir() + "/" + std::to_string(*ok) + ".out"),
            "hello from " + std::to_string(*ok) + "\n");
  EXPECT_EQ(Read(cluster_->dir() + "/" + std::to_string(*bad) + ".out"), "oops\n");
}

TEST_F(ClusterTest, SignalledJobRecordsTheSignal) {
  auto id = cluster_->Submit(cluster_->Shell("kill -USR1 $$"));
  ASSERT_TRUE(id.ok());
  auto j = cluster_->WaitJob(*id);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->state(), pb::FAILED);
  EXPECT_EQ(j->signal(), SIGUSR1);
}

TEST_F(ClusterTest, NodesWithoutTasksMeansOneTaskPerNode) {
  // sbatch -N 2 without -n: Slurm gives the job one task per node.
  auto spec = cluster_->Shell(
      "echo ${SLURM_NTASKS:-unset} $SLURM_JOB_NUM_NODES $SLURM_TASKS_PER_NODE > n.out; "
      "cat $SWELL_HOSTFILE >> n.out");
  spec.set_ntasks(0);
  spec.set_min_nodes(2);
  auto id = cluster_->Submit(spec);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto j = cluster_->WaitJob(*id);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->state(), pb::COMPLETED);
  // The allocation's hostfile for mpirun, in node-list order.
  std::string out = Read(cluster_->dir() + "/n.out");
  // Slurm exports SLURM_NTASKS only when -n was given.
  EXPECT_EQ(out.substr(0, out.find('\n')), "unset 2 1(x2)");
  EXPECT_NE(out.find(" slots=1\n"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3) << out;
  spec.set_ntasks(1);  // explicitly fewer tasks than nodes: refused
  EXPECT_FALSE(cluster_->Submit(spec).ok());
}

TEST_F(ClusterTest, LaunchTasksRunsOneProcessPerRankAcrossTheNodes) {
  // srun's semantics (swell run): 3 ranks on the 2 nodes, each with its rank, its rank on the
  // node and the node's index; one job id for all.
  auto spec = cluster_->Shell(
      "echo $SLURM_PROCID $SLURM_LOCALID $SLURM_NODEID $SLURMD_NODENAME $SLURM_JOB_ID "
      "$SLURM_STEP_ID $SLURM_NTASKS >> ranks.out; exit $SLURM_PROCID");
  spec.set_ntasks(3);
  spec.set_min_nodes(2);
  spec.set_launch_tasks(true);
  auto id = cluster_->Submit(spec);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto j = cluster_->WaitJob(*id);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->state(), pb::FAILED);  // ranks 1 and 2 exit non-zero
  EXPECT_EQ(j->exit_code(), 2);       // the highest, as srun returns
  std::istringstream in(Read(cluster_->dir() + "/ranks.out"));
  std::map<int, std::tuple<int, int, std::string>> ranks;  // rank -> local, node id, node
  int rank, local, nodeid, step, ntasks;
  std::string node;
  int64_t job;
  while (in >> rank >> local >> nodeid >> node >> job >> step >> ntasks) {
    ranks[rank] = {local, nodeid, node};
    EXPECT_EQ(job, *id);
    EXPECT_EQ(step, 0);
    EXPECT_EQ(ntasks, 3);
  }
  ASSERT_EQ(ranks.size(), 3u);
  // Blocks over the sorted node list: node 0 holds the lowest ranks, local ids count from 0.
  std::set<std::string> nodes;
  for (auto& [r, v] : ranks) nodes.insert(std::get<2>(v));
  EXPECT_EQ(nodes.size(), 2u);
  EXPECT_EQ(std::get<0>(ranks[0]), 0);
  EXPECT_EQ(std::get<1>(ranks[0]), 0);
  EXPECT_EQ(std::get<1>(ranks[2]), 1);
  int on_first = std::get<1>(ranks[1]) == 0 ? 2 : 1;
  EXPECT_EQ(std::get<0>(ranks[2]), 3 - on_first - 1);
  auto arr = cluster_->Shell("true");
  arr.set_launch_tasks(true);
  arr.add_array_indices(1);
  arr.set_array_spec("1");
  EXPECT_FALSE(cluster_->Submit(arr).ok());  // not with arrays
}

TEST_F(ClusterTest, TasksQueuedOnNodesWaitForResources) {
  // 2 nodes x 2 cpus = 4 slots for 10 tasks: the ones handed to nodes ahead of a free slot are
  // pending "Resources" (the job had no reason once its first tasks started).
  auto spec = cluster_->Shell("sleep 1");
  for (int i = 0; i < 10; ++i) spec.add_array_indices(i);
  spec.set_array_spec("0-9");
  auto id = cluster_->Submit(spec);
  ASSERT_TRUE(id.ok());
  std::string reason;
  for (int i = 0; i < 200 && reason.empty(); ++i) {
    auto info = cluster_->Info(*id);
    if (info.ok() && info->state() == pb::RUNNING) reason = info->reason();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(reason, "Resources");
  auto j = cluster_->WaitJob(*id);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->state(), pb::COMPLETED);
  EXPECT_EQ(j->reason(), "");
}

TEST_F(ClusterTest, ArrayThrottleHoldsAndEveryTaskRunsOnce) {
  // 2 nodes x 2 cpus = 4 slots, throttle 2.
  auto spec = cluster_->Shell(
      "echo S $(date +%s%N) >> log.$SLURM_ARRAY_TASK_ID; sleep 0.05; "
      "echo E $(date +%s%N) >> log.$SLURM_ARRAY_TASK_ID; "
      "echo $SLURM_ARRAY_JOB_ID $SLURM_ARRAY_TASK_ID $SLURM_ARRAY_TASK_COUNT >> runs");
  for (int i = 1; i <= 12; ++i) spec.add_array_indices(i * 2);
  spec.set_array_max_running(2);
  spec.set_array_spec("2-24:2%2");
  auto id = cluster_->Submit(spec);
  ASSERT_TRUE(id.ok());
  auto j = cluster_->WaitJob(*id);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->state(), pb::COMPLETED);
  EXPECT_EQ(j->task_count(), 12);
  // Every task ran exactly once.
  std::istringstream runs(Read(cluster_->dir() + "/runs"));
  std::vector<int> seen;
  int64_t job, idx, count;
  while (runs >> job >> idx >> count) {
    EXPECT_EQ(job, *id);
    EXPECT_EQ(count, 12);
    seen.push_back(static_cast<int>(idx));
  }
  std::sort(seen.begin(), seen.end());
  std::vector<int> want;
  for (int i = 1; i <= 12; ++i) want.push_back(i * 2);
  EXPECT_EQ(seen, want);
  // Never more than two at once.
  std::vector<std::pair<int64_t, int>> edges;
  for (int i = 1; i <= 12; ++i) {
    std::istringstream log(Read(cluster_->dir() + "/log." + std::to_string(i * 2)));
    std::string kind;
    int64_t t;
    while (log >> kind >> t) edges.push_back({t, kind == "S" ? 1 : -1});
  }
  ASSERT_EQ(edges.size(), 24u);
  std::sort(edges.begin(), edges.end(), [](auto& a, auto& b) {
    return a.first != b.first ? a.first < b.first : a.second < b.second;
  });
  int now = 0, peak = 0;
  for (auto& e : edges) peak = std::max(peak, now += e.second);
  EXPECT_LE(peak, 2);
}

TEST_F(ClusterTest, DependenciesFollowSlurmRules) {
  auto fail = cluster_->Submit(cluster_->Shell("exit 1"));
  ASSERT_TRUE(fail.ok());
  ASSERT_TRUE(cluster_->WaitJob(*fail).ok());
  auto dep = [&](const std::string& type, int64_t on) {
    auto s = cluster_->Shell("true");
    auto* t = s.mutable_dependency()->add_terms();
    t->set_type(type);
    t->add_job_ids(std::to_string(on));
    return cluster_->Submit(s);
  };
  auto afterok = dep("afterok", *fail);
  auto afternotok = dep("afternotok", *fail);
  auto afterany = dep("afterany", *fail);
  ASSERT_TRUE(afterok.ok() && afternotok.ok() && afterany.ok());
  EXPECT_EQ(cluster_->WaitJob(*afternotok)->state(), pb::COMPLETED);
  EXPECT_EQ(cluster_->WaitJob(*afterany)->state(), pb::COMPLETED);
  auto never = cluster_->WaitFor(
      *afterok, [](const pb::JobInfo& j) { return j.reason() == "DependencyNeverSatisfied"; });
  ASSERT_TRUE(never.ok()) << never.status().ToString();
  EXPECT_EQ(never->state(), pb::PENDING);
  // A dependency on a job the cluster does not know is met, as Slurm takes it (a job it has
  // forgotten): the job runs.
  auto missing = dep("afterok", 999999);
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_EQ(cluster_->WaitJob(*missing)->state(), pb::COMPLETED);
}

TEST_F(ClusterTest, AfterOkWaitsForTheWholeArray) {
  auto arr = cluster_->Shell("sleep 0.$((RANDOM % 3)); date +%s%N > end.$SLURM_ARRAY_TASK_ID");
  for (int i = 0; i < 8; ++i) arr.add_array_indices(i);
  auto a = cluster_->Submit(arr);
  ASSERT_TRUE(a.ok());
  auto after = cluster_->Shell("date +%s%N > start.after; ls end.* | wc -l > count.after");
  after.mutable_dependency()->add_terms()->set_type("afterok");
  after.mutable_dependency()->mutable_terms(0)->add_job_ids(std::to_string(*a));
  auto b = cluster_->Submit(after);
  ASSERT_TRUE(b.ok());
  auto jb = cluster_->WaitJob(*b);
  ASSERT_TRUE(jb.ok());
  EXPECT_EQ(jb->state(), pb::COMPLETED);
  EXPECT_EQ(Read(cluster_->dir() + "/count.after"), "8\n");
  int64_t start = std::stoll(Read(cluster_->dir() + "/start.after"));
  for (int i = 0; i < 8; ++i)
    EXPECT_LT(std::stoll(Read(cluster_->dir() + "/end." + std::to_string(i))), start);
}

TEST_F(ClusterTest, SingletonRunsOneAtATime) {
  auto first = cluster_->Shell("echo $$ > one.pid; sleep 0.3; echo done >> order");
  first.set_name("solo");
  auto second = cluster_->Shell("echo second >> order");
  second.set_name("solo");
  second.mutable_dependency()->add_terms()->set_type("singleton");
  auto a = cluster_->Submit(first);
  auto b = cluster_->Submit(second);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(cluster_->WaitJob(*b).ok());
  EXPECT_EQ(Read(cluster_->dir() + "/order"), "done\nsecond\n");
}

TEST_F(ClusterTest, CancelEndsRunningAndPendingWork) {
  auto run = cluster_->Shell("echo $$ > run.pid; exec sleep 60");
  auto id = cluster_->Submit(run);
  ASSERT_TRUE(id.ok());
  auto running =
      cluster_->WaitFor(*id, [](const pb::JobInfo& j) { return j.state() == pb::RUNNING; });
  ASSERT_TRUE(running.ok());
  auto arr = cluster_->Shell("sleep 60");
  for (int i = 0; i < 100; ++i) arr.add_array_indices(i);
  auto aid = cluster_->Submit(arr);
  ASSERT_TRUE(aid.ok());
  pb::CancelRequest c;
  c.add_jobs()->set_job_id(*id);
  c.add_jobs()->set_job_id(*aid);
  ASSERT_TRUE(cluster_->client().Cancel(c).ok());
  auto j = cluster_->WaitJob(*id);
  auto ja = cluster_->WaitJob(*aid);
  ASSERT_TRUE(j.ok() && ja.ok());
  EXPECT_EQ(j->state(), pb::CANCELLED);
  EXPECT_EQ(ja->state(), pb::CANCELLED);
  EXPECT_EQ(ja->state_counts(pb::CANCELLED), 100);
  pid_t pid = std::stoi(Read(cluster_->dir() + "/run.pid"));
  EXPECT_NE(kill(pid, 0), 0) << "the cancelled task still runs";
}

TEST_F(ClusterTest, CancelOneArrayTask) {
  auto arr = cluster_->Shell("true");
  for (int i = 0; i < 3; ++i) arr.add_array_indices(i);
  arr.set_hold(true);  // keep it pending so the cancel hits a queued task
  auto id = cluster_->Submit(arr);
  ASSERT_TRUE(id.ok());
  pb::CancelRequest c;
  auto* ref = c.add_jobs();
  ref->set_job_id(*id);
  ref->set_has_index(true);
  ref->set_array_index(1);
  ASSERT_TRUE(cluster_->client().Cancel(c).ok());
  auto info = cluster_->Info(*id);
  ASSERT_TRUE(info.ok());
  ASSERT_EQ(info->tasks_size(), 3);
  EXPECT_EQ(info->tasks(0).state(), pb::PENDING);
  EXPECT_EQ(info->tasks(1).state(), pb::CANCELLED);
  EXPECT_EQ(info->tasks(2).state(), pb::PENDING);
  EXPECT_EQ(info->reason(), "JobHeldUser");
}

TEST_F(ClusterTest, TimeLimitSendsTermThenEnds) {
  auto s = cluster_->Shell("trap 'echo got TERM > term; exit 5' TERM; sleep 30 & wait");
  s.set_time_limit_ms(300);
  auto id = cluster_->Submit(s);
  ASSERT_TRUE(id.ok());
  auto j = cluster_->WaitJob(*id);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->state(), pb::TIMEOUT);
  EXPECT_EQ(Read(cluster_->dir() + "/term"), "got TERM\n");
}

TEST_F(ClusterTest, TimeLimitKillsWhatIgnoresTerm) {
  auto s = cluster_->Shell("trap '' TERM; sleep 30");
  s.set_time_limit_ms(200);
  auto id = cluster_->Submit(s);
  ASSERT_TRUE(id.ok());
  auto j = cluster_->WaitJob(*id);  // kill_wait is 1 s in the harness
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->state(), pb::TIMEOUT);
}

TEST_F(ClusterTest, BeginTimeHoldsTheJobUntilDue) {
  auto s = cluster_->Shell("date +%s%N > began");
  int64_t begin = ToMillis(SystemClock().Now()) + 700;
  s.set_begin_time_ms(begin);
  auto id = cluster_->Submit(s);
  ASSERT_TRUE(id.ok());
  auto waiting = cluster_->Info(*id);
  ASSERT_TRUE(waiting.ok());
  EXPECT_EQ(waiting->state(), pb::PENDING);
  EXPECT_EQ(waiting->reason(), "BeginTime");
  ASSERT_EQ(cluster_->WaitJob(*id)->state(), pb::COMPLETED);
  EXPECT_GE(std::stoll(Read(cluster_->dir() + "/began")) / 1000000, begin);
}

TEST_F(ClusterTest, ImpossibleRequestsAreRefusedAtSubmit) {
  auto s = cluster_->Shell("true");
  s.set_cpus_per_task(64);
  auto r = cluster_->Submit(s);
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("cpus"), std::string::npos) << r.status().message();
  s = cluster_->Shell("true");
  s.set_mem_mb(1 << 30);
  EXPECT_EQ(cluster_->Submit(s).status().code(), Code::kInvalidArgument);
  s = cluster_->Shell("true");
  s.set_work_dir("relative/dir");
  EXPECT_EQ(cluster_->Submit(s).status().code(), Code::kInvalidArgument);
  pb::QueueRequest q;
  q.set_all(true);
  EXPECT_EQ(cluster_->client().Queue(q)->jobs_size(), 0);
}

TEST_F(ClusterTest, ABriefListingCarriesWhatSqueueShowsAndNoMore) {
  auto s = cluster_->Shell("sleep 30");
  s.set_hold(true);
  s.set_min_nodes(2);
  s.set_ntasks(2);
  s.set_time_limit_ms(90'000);
  s.set_comment("not listed briefly");
  for (int64_t i : {3, 5, 7}) s.add_array_indices(i);
  s.set_array_max_running(2);
  auto id = cluster_->Submit(s);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  pb::QueueRequest q;
  q.add_job_ids(*id);
  q.set_specs(true);
  auto full = cluster_->client().Queue(q);
  q.set_brief_specs(true);
  auto brief = cluster_->client().Queue(q);
  ASSERT_TRUE(full.ok() && brief.ok());
  ASSERT_EQ(full->jobs_size(), 1);
  ASSERT_EQ(brief->jobs_size(), 1);
  const pb::JobSpec& f = full->jobs(0).spec();
  const pb::JobInfo& b = brief->jobs(0);
  EXPECT_EQ(f.comment(), "not listed briefly");
  EXPECT_FALSE(f.work_dir().empty());
  EXPECT_EQ(f.min_nodes(), 2);
  // The brief listing: the few fields squeue's columns need in the job itself, and no spec.
  EXPECT_FALSE(b.has_spec());
  EXPECT_EQ(b.min_nodes(), 2);
  EXPECT_EQ(b.time_limit_ms(), 90'000);
  EXPECT_EQ(std::vector<int64_t>(b.array_indices().begin(), b.array_indices().end()),
            (std::vector<int64_t>{3, 5, 7}));
  EXPECT_EQ(b.array_max_running(), 2);
  EXPECT_EQ(b.partition(), full->jobs(0).partition());
  // A full listing has them in its spec only.
  EXPECT_EQ(full->jobs(0).min_nodes(), 0);
  EXPECT_TRUE(full->jobs(0).array_indices().empty());
  // The job's own fields are the same either way.
  EXPECT_EQ(brief->jobs(0).pending_indices(), full->jobs(0).pending_indices());
  EXPECT_EQ(brief->jobs(0).reason(), "JobHeldUser");
}

TEST_F(ClusterTest, AListingTravelsAsWireBytesAndReadsAsTheJobsInIdOrder) {
  auto held = cluster_->Shell("sleep 30");
  held.set_hold(true);
  auto first = cluster_->Submit(held);
  auto finished = cluster_->Submit(cluster_->Shell("true"));
  auto last = cluster_->Submit(held);
  ASSERT_TRUE(first.ok() && finished.ok() && last.ok());
  ASSERT_TRUE(cluster_->WaitJob(*finished).ok());
  pb::QueueRequest q;
  q.set_all(true);
  q.set_specs(true);
  q.set_tasks(true);
  auto listed = cluster_->client().Queue(q);  // the client asks for wire bytes and parses them
  rpc::Caller me{getuid(), getgid(), getpid(), true, false, "", "", "test"};
  auto direct = cluster_->head().Queue(me, q);  // the dashboard's way: JobInfo messages
  q.set_wire(true);
  auto raw = cluster_->head().Queue(me, q);
  ASSERT_TRUE(listed.ok() && direct.ok() && raw.ok());
  std::vector<int64_t> ids;
  for (const auto& j : listed->jobs()) ids.push_back(j.id());
  // The finished job among the active ones, in id order.
  EXPECT_EQ(ids, (std::vector<int64_t>{*first, *finished, *last}));
  EXPECT_TRUE(listed->jobs_wire().empty());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*listed, *direct))
      << listed->DebugString() << "\nvs\n"
      << direct->DebugString();
  EXPECT_EQ(raw->jobs_size(), 0);
  pb::QueueReply parsed;
  ASSERT_TRUE(parsed.ParseFromString(raw->jobs_wire()));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(parsed, *direct));
  // Paging bounds the active jobs only: the finished one is listed besides.
  q.set_limit(1);
  auto page = cluster_->client().Queue(q);
  ASSERT_TRUE(page.ok());
  ids.clear();
  for (const auto& j : page->jobs()) ids.push_back(j.id());
  EXPECT_EQ(ids, (std::vector<int64_t>{*first, *finished}));
}

TEST_F(ClusterTest, LaunchFailureIsAFailedJob) {
  auto s = cluster_->Shell("true");
  s.set_output(cluster_->dir() + "/no/such/dir/out");
  auto id = cluster_->Submit(s);
  ASSERT_TRUE(id.ok());
  auto j = cluster_->WaitJob(*id);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->state(), pb::FAILED);
}

TEST_F(ClusterTest, WideJobSpansNodesAndNamesThem) {
  auto s = cluster_->Shell("echo \"$SLURM_JOB_NODELIST $SLURM_NTASKS\" > nodes");
  s.set_ntasks(4);  // 2 cpus per node
  s.set_ntasks_set(true);
  auto id = cluster_->Submit(s);
  ASSERT_TRUE(id.ok());
  ASSERT_EQ(cluster_->WaitJob(*id)->state(), pb::COMPLETED);
  EXPECT_EQ(Read(cluster_->dir() + "/nodes"), "node[1-2] 4\n");
}

TEST_F(ClusterTest, HeadRestartLosesNothingAndRunsNothingTwice) {
  auto s = cluster_->Shell("echo x >> ran.$SLURM_ARRAY_TASK_ID; sleep 0.01");
  s.set_output("/dev/null");
  for (int i = 0; i < 300; ++i) s.add_array_indices(i);
  auto id = cluster_->Submit(s);
  ASSERT_TRUE(id.ok());
  auto part = cluster_->WaitFor(
      *id, [](const pb::JobInfo& j) { return j.state_counts(pb::COMPLETED) >= 50; });
  ASSERT_TRUE(part.ok());
  ASSERT_TRUE(cluster_->RestartHead().ok());
  auto j = cluster_->WaitJob(*id);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ(j->state(), pb::COMPLETED);
  EXPECT_EQ(j->state_counts(pb::COMPLETED), 300);
  for (int i = 0; i < 300; ++i)
    ASSERT_EQ(Read(cluster_->dir() + "/ran." + std::to_string(i)), "x\n") << "task " << i;
}

TEST_F(ClusterTest, ArrayCancelledAcrossAHeadRestartEnds) {
  // Tasks that ignore SIGTERM keep the cancel in flight for kill_wait (1 s) while the head
  // restarts; the array must still end, every task CANCELLED.
  auto s = cluster_->Shell("trap '' TERM; sleep 30");
  s.set_output("/dev/null");
  for (int i = 0; i < 100; ++i) s.add_array_indices(i);
  auto id = cluster_->Submit(s);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(cluster_
                  ->WaitFor(*id, [](const pb::JobInfo& j) {
                    return j.state_counts(pb::RUNNING) >= 4;
                  })
                  .ok());
  pb::CancelRequest c;
  c.add_jobs()->set_job_id(*id);
  ASSERT_TRUE(cluster_->client().Cancel(c).ok());
  ASSERT_TRUE(cluster_->RestartHead().ok());
  auto j = cluster_->WaitJob(*id);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ(j->state(), pb::CANCELLED);
  EXPECT_EQ(j->state_counts(pb::CANCELLED), 100);
}

TEST(ClusterNodeTest, NodeShutdownFailsOrRequeuesItsJobs) {
  ClusterOptions o;
  o.nodes = 1;
  InProcessCluster cluster(o);
  ASSERT_TRUE(cluster.Start().ok());
  auto plain = cluster.Shell("sleep 30");
  auto requeue = cluster.Shell("echo run >> runs; [ -e second ] || { touch second; sleep 30; }");
  requeue.set_requeue(true);
  auto a = cluster.Submit(plain);
  auto b = cluster.Submit(requeue);
  ASSERT_TRUE(a.ok() && b.ok());
  auto both = [&](int64_t id) {
    return cluster.WaitFor(id, [](const pb::JobInfo& j) { return j.state() == pb::RUNNING; });
  };
  ASSERT_TRUE(both(*a).ok());
  ASSERT_TRUE(both(*b).ok());
  // Its first run must have begun its script (RUNNING says only that its process started).
  const std::string second = cluster.dir() + "/second";
  for (int i = 0; i < 1000 && access(second.c_str(), F_OK) != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  cluster.StopNode(0);
  auto fa = cluster.WaitFor(*a, IsTerminal);
  ASSERT_TRUE(fa.ok());
  EXPECT_EQ(fa->state(), pb::NODE_FAIL);
  auto pb = cluster.WaitFor(*b, [](const pb::JobInfo& j) { return j.state() == pb::PENDING; });
  ASSERT_TRUE(pb.ok()) << pb.status().ToString() << " " << cluster.Info(*b)->DebugString();
  EXPECT_EQ(pb->restarts(), 1);
  ASSERT_TRUE(cluster.StartNode(0).ok());
  auto fb = cluster.WaitJob(*b);
  ASSERT_TRUE(fb.ok());
  EXPECT_EQ(fb->state(), pb::COMPLETED);
  EXPECT_EQ(Read(cluster.dir() + "/runs"), "run\nrun\n");
}

ClusterOptions TwoSingleCpuNodes() {
  ClusterOptions o;
  o.nodes = 2;
  o.cpus = 1;
  return o;
}

// Submits `script` as a job of 2 ranks on 2 nodes and waits until both run.
Result<int64_t> StartTwoRanks(InProcessCluster& cluster, const std::string& script) {
  auto s = cluster.Shell(script);
  s.set_ntasks(2);
  s.set_min_nodes(2);
  s.set_launch_tasks(true);
  auto id = cluster.Submit(s);
  if (!id.ok()) return id;
  auto running = cluster.WaitFor(
      *id, [](const pb::JobInfo& j) { return j.state_counts(pb::RUNNING) == 2; });
  if (!running.ok()) return running.status();
  return id;
}

// A job of ranks is one world: a lost node ends every rank, on the other nodes too.
TEST(ClusterNodeTest, ALostNodeEndsEveryRankOfTheJob) {
  InProcessCluster cluster(TwoSingleCpuNodes());
  ASSERT_TRUE(cluster.Start().ok());
  auto id = StartTwoRanks(cluster, "echo $$ > pid.$SLURM_PROCID; exec sleep 60");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  std::vector<pid_t> pids;
  for (int i = 0; i < 500 && pids.size() < 2; ++i) {
    pids = swell::testing::PidsIn(cluster.dir() + "/pid.0");
    auto one = swell::testing::PidsIn(cluster.dir() + "/pid.1");
    pids.insert(pids.end(), one.begin(), one.end());
    if (pids.size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(pids.size(), 2u);
  cluster.StopNode(1);  // node2: rank 1's; rank 0 runs on node1
  auto f = cluster.WaitFor(*id, IsTerminal);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->state(), pb::NODE_FAIL);
  EXPECT_TRUE(swell::testing::GoneSoon(pids[0])) << "rank 0 still runs on node1";
}

// Three single-cpu nodes: room for a world of 2 ranks to run again without one of them.
ClusterOptions SpareNodeForAWorld() {
  ClusterOptions o = TwoSingleCpuNodes();
  o.nodes = 3;
  return o;
}

// A job of 2 ranks on 2 of the cluster's nodes that runs again when it loses one.
pb::JobSpec RequeuedWorld(InProcessCluster& cluster, const std::string& script) {
  auto s = cluster.Shell(script);
  s.set_ntasks(2);
  s.set_min_nodes(2);
  s.set_max_nodes(2);
  s.set_launch_tasks(true);
  s.set_requeue(true);
  return s;
}

// Stops the node of rank 1, which wrote its name to started.1 ("nodeN\n"), once it has;
// returns the node's index, or -1 when the name did not come within 5 s.
int StopRankOnesNode(InProcessCluster& cluster) {
  std::string text;
  for (int i = 0; i < 500 && text.empty(); ++i) {
    text = Read(cluster.dir() + "/started.1");
    if (text.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  int node = text.size() > 4 ? std::atoi(text.substr(4).c_str()) - 1 : -1;
  if (node >= 0) cluster.StopNode(node);
  return node;
}

// A requeued world runs again on other nodes, and every rank sees the new node list (a node
// that ran the job a moment ago gets the new layout too).
TEST(ClusterNodeTest, ARequeuedWorldSeesItsNewNodes) {
  InProcessCluster cluster(SpareNodeForAWorld());
  ASSERT_TRUE(cluster.Start().ok());
  auto id = cluster.Submit(RequeuedWorld(
      cluster,
      "if [ -e started.$SLURM_PROCID ]; then echo $SLURM_JOB_NODELIST > again.$SLURM_PROCID; "
      "exit 0; fi; echo $SLURMD_NODENAME > started.$SLURM_PROCID; exec sleep 60"));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(cluster
                  .WaitFor(*id, [](const pb::JobInfo& j) { return j.state_counts(pb::RUNNING) == 2; })
                  .ok());
  // Rank 1's node goes; rank 0's stays and runs rank 0 again with the new list.
  int lost = StopRankOnesNode(cluster);
  ASSERT_GE(lost, 0);
  auto f = cluster.WaitJob(*id);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->state(), pb::COMPLETED);
  std::string again = Read(cluster.dir() + "/again.0");
  EXPECT_EQ(again.find(cluster.NodeName(lost)), std::string::npos) << again;
  EXPECT_FALSE(again.empty());
}

// A requeued world runs again whole: a rank that had already ended runs again with the rank
// its lost node was running.
TEST(ClusterNodeTest, ARequeuedWorldRunsItsEndedRanksAgainToo) {
  InProcessCluster cluster(SpareNodeForAWorld());
  ASSERT_TRUE(cluster.Start().ok());
  auto id = cluster.Submit(RequeuedWorld(
      cluster,
      "echo run >> runs.$SLURM_PROCID; [ -e started.$SLURM_PROCID ] && exit 0; "
      "echo $SLURMD_NODENAME > started.$SLURM_PROCID; [ $SLURM_PROCID = 0 ] && exit 3; "
      "exec sleep 60"));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  // Rank 0 has failed (exit 3), rank 1 runs.
  ASSERT_TRUE(cluster
                  .WaitFor(*id,
                           [](const pb::JobInfo& j) {
                             return j.state_counts(pb::FAILED) == 1 &&
                                    j.state_counts(pb::RUNNING) == 1;
                           })
                  .ok());
  int lost = StopRankOnesNode(cluster);
  ASSERT_GE(lost, 0);
  auto f = cluster.WaitJob(*id);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->state(), pb::COMPLETED) << "exit " << f->exit_code();
  EXPECT_EQ(f->exit_code(), 0);
  EXPECT_EQ(f->restarts(), 1);
  EXPECT_EQ(Read(cluster.dir() + "/runs.0"), "run\nrun\n");
  EXPECT_EQ(Read(cluster.dir() + "/runs.1"), "run\nrun\n");
}

// After a head restart the ranks on every node are still the job's: none runs twice.
TEST(ClusterNodeTest, RanksSurviveAHeadRestart) {
  InProcessCluster cluster(TwoSingleCpuNodes());
  ASSERT_TRUE(cluster.Start().ok());
  auto id = StartTwoRanks(cluster, "echo run >> runs.$SLURM_PROCID; sleep 1");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(cluster.RestartHead().ok());
  auto f = cluster.WaitJob(*id);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->state(), pb::COMPLETED);
  EXPECT_EQ(Read(cluster.dir() + "/runs.0"), "run\n");
  EXPECT_EQ(Read(cluster.dir() + "/runs.1"), "run\n");
}

TEST(ClusterNodeTest, AStoppingNodeGivesItsQueuedTasksBack) {
  ClusterOptions o;
  o.nodes = 1;
  o.cpus = 1;
  InProcessCluster cluster(o);
  ASSERT_TRUE(cluster.Start().ok());
  auto s = cluster.Shell("sleep 0.2");
  s.set_output("/dev/null");
  for (int i = 0; i < 10; ++i) s.add_array_indices(i);
  auto id = cluster.Submit(s);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(cluster
                  .WaitFor(*id, [](const pb::JobInfo& j) { return j.state_counts(pb::RUNNING) == 1; })
                  .ok());
  cluster.StopNode(0);  // one task runs, the others wait in the node's queue
  ASSERT_TRUE(cluster
                  .WaitFor(*id,
                           [](const pb::JobInfo& j) { return j.state_counts(pb::NODE_FAIL) == 1; })
                  .ok());
  ASSERT_TRUE(cluster.StartNode(0).ok());
  auto j = cluster.WaitJob(*id);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->state_counts(pb::NODE_FAIL), 1);
  EXPECT_EQ(j->state_counts(pb::COMPLETED), 9) << "queued tasks were lost or failed";
}

}  // namespace
}  // namespace swell
