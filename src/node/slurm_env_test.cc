#include "node/slurm_env.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <utility>

namespace swell::node {
namespace {

// Each variable set as SLURM_<name> must also be SWELL_<name>, with the same value.
void ExpectBoth(const Env& env, const std::string& name, const std::string& value) {
  for (const char* prefix : {"SLURM_", "SWELL_"}) {
    auto it = env.find(prefix + name);
    ASSERT_NE(it, env.end()) << prefix << name << " is not set";
    EXPECT_EQ(it->second, value) << prefix << name;
  }
}
void ExpectBoth(const Env& env,
                std::initializer_list<std::pair<std::string, std::string>> variables) {
  for (const auto& [name, value] : variables) ExpectBoth(env, name, value);
}
void ExpectNeither(const Env& env, const std::string& name) {
  EXPECT_EQ(env.count("SLURM_" + name), 0u) << "SLURM_" << name;
  EXPECT_EQ(env.count("SWELL_" + name), 0u) << "SWELL_" << name;
}

NodeContext Node(const std::string& name, const std::string& mpi_interface = "eth0") {
  NodeContext n;
  n.name = name;
  n.owner = name + "@/spool";
  n.rsh = "/opt/swell/bin/swell-rsh";
  n.mpi_interface = mpi_interface;
  n.mpi_dir = "/spool/mpi";
  return n;
}

pb::UserIdentity Alice() {
  pb::UserIdentity u;
  u.set_uid(1000);
  u.set_gid(100);
  u.set_name("alice");
  return u;
}

pb::TaskKey Key(int64_t job_id, int64_t pos) {
  pb::TaskKey k;
  k.set_job_id(job_id);
  k.set_pos(pos);
  return k;
}

pb::JobSpec OneTask() {
  pb::JobSpec s;
  s.set_name("job");
  s.set_ntasks(1);
  s.set_ntasks_set(true);
  s.set_cpus_per_task(2);
  s.set_cpus_per_task_set(true);
  s.set_mem_mb(512);
  s.set_submit_dir("/home/alice");
  s.set_submit_host("login1");
  s.set_prio_process(5);  // submitted under `nice -n 5`
  s.set_time_limit_ms(90 * 60'000);
  (*s.mutable_env())["PATH"] = "/usr/bin";
  (*s.mutable_env())["FOO"] = "bar";
  return s;
}

Allocation OneNode() {
  Allocation a;
  a.nodelist = {"n1"};
  a.tasks_per_node = {1};
  a.cpus_per_node = {2};
  return a;
}

TEST(SlurmEnvTest, SingleTask) {
  Env env = JobEnv(OneTask(), Alice(), OneNode(), Node("n1"), "/spool/jobs/7.hosts",
                   Account{"/home/alice", "alice"});
  ExpectBoth(env, {{"JOB_NAME", "job"},
                   {"NTASKS", "1"},
                   {"NPROCS", "1"},
                   {"CPUS_PER_TASK", "2"},
                   {"MEM_PER_NODE", "512"},
                   {"JOB_NODELIST", "n1"},
                   {"NODELIST", "n1"},
                   {"JOB_NUM_NODES", "1"},
                   {"NNODES", "1"},
                   {"TASKS_PER_NODE", "1"},
                   {"JOB_CPUS_PER_NODE", "2"},
                   {"CPUS_ON_NODE", "2"},
                   {"SUBMIT_DIR", "/home/alice"},
                   {"SUBMIT_HOST", "login1"},
                   {"JOB_USER", "alice"},
                   {"JOB_UID", "1000"},
                   {"JOB_GID", "100"},
                   {"CLUSTER_NAME", "swell"},
                   {"JOB_PARTITION", "batch"},
                   {"PRIO_PROCESS", "5"},
                   {"TOPOLOGY_ADDR", "n1"},
                   {"TOPOLOGY_ADDR_PATTERN", "node"}});
  ExpectNeither(env, "NTASKS_PER_NODE");
  ExpectNeither(env, "JOB_ACCOUNT");
  EXPECT_EQ(env.count("SLURM_TIMELIMIT"), 0u);
  EXPECT_EQ(env["SWELL_TIMELIMIT"], "90");
  EXPECT_EQ(env["SLURM_NODE_ALIASES"], "(null)");
  ExpectNeither(env, "STEP_TASKS_PER_NODE");
  ExpectNeither(env, "STEP_NODELIST");
  ExpectNeither(env, "ARRAY_TASK_COUNT");
  ExpectNeither(env, "JOB_ID");  // the task's own (TaskEnv)
  EXPECT_EQ(env["SWELL_HOSTFILE"], "/spool/jobs/7.hosts");
  EXPECT_EQ(env["SLURMD_NODENAME"], "n1");
  EXPECT_EQ(env["SWELL_NODENAME"], "n1");
  EXPECT_EQ(env[kStepOwnerVar], "n1@/spool");
  EXPECT_EQ(env.count(kExecJobVar), 0u);
  EXPECT_EQ(env["OMPI_MCA_plm_rsh_agent"], "/opt/swell/bin/swell-rsh");
  EXPECT_EQ(env["HYDRA_LAUNCHER_EXEC"], "/opt/swell/bin/swell-rsh");
  EXPECT_EQ(env["OMPI_MCA_oob_tcp_if_include"], "eth0");
  EXPECT_EQ(env.count("OMPI_MCA_btl_vader_backing_directory"), 0u);  // only for exec ranks
  EXPECT_EQ(env["HOME"], "/home/alice");
  EXPECT_EQ(env["USER"], "alice");
  EXPECT_EQ(env["LOGNAME"], "alice");
  EXPECT_EQ(env["PATH"], "/opt/swell/bin:/usr/bin");
  EXPECT_EQ(env["FOO"], "bar");

  // The batch step: rank 0 of one task on the allocation's first node.
  EXPECT_EQ(TaskEnv(OneTask(), 7, Key(7, 0), OneNode(), Node("n1")),
            (Env{{"SLURM_JOB_ID", "7"},
                 {"SWELL_JOB_ID", "7"},
                 {"SLURM_JOBID", "7"},
                 {"SWELL_EXEC_JOB", "n1@/spool:7"},
                 {"SLURM_PROCID", "0"},
                 {"SWELL_PROCID", "0"},
                 {"SLURM_LOCALID", "0"},
                 {"SWELL_LOCALID", "0"},
                 {"SLURM_NODEID", "0"},
                 {"SWELL_NODEID", "0"},
                 {"SLURM_GTIDS", "0"},
                 {"SWELL_GTIDS", "0"}}));
  EXPECT_EQ(Hostfile(OneNode()), "n1 slots=1\n");
  EXPECT_EQ(TaskJobId(OneTask(), 7, 0), 7);
  EXPECT_EQ(ArrayTaskIndex(OneTask(), 0), std::nullopt);
}

TEST(SlurmEnvTest, TheJobsVariablesOverrideTheSpecsButNotItsHome) {
  pb::JobSpec spec = OneTask();
  (*spec.mutable_env())["SLURM_NTASKS"] = "99";
  (*spec.mutable_env())["HOME"] = "/elsewhere";
  Env env = JobEnv(spec, Alice(), OneNode(), Node("n1"), "/h", Account{"/home/alice", "alice"});
  EXPECT_EQ(env["SLURM_NTASKS"], "1");
  EXPECT_EQ(env["HOME"], "/elsewhere");
  EXPECT_EQ(env["USER"], "alice");
}

// Slurm exports SLURM_NTASKS and SLURM_CPUS_PER_TASK only when -n and -c were given:
// scripts read ${SLURM_CPUS_PER_TASK:-1}. The partition is the one squeue shows.
TEST(SlurmEnvTest, OnlyWhatTheJobAskedForIsExported) {
  pb::JobSpec spec = OneTask();
  spec.set_ntasks_set(false);
  spec.set_cpus_per_task_set(false);
  Env env = JobEnv(spec, Alice(), OneNode(), Node("n1"), "/h", std::nullopt);
  ExpectNeither(env, "NTASKS");
  ExpectNeither(env, "NPROCS");
  ExpectNeither(env, "CPUS_PER_TASK");
  ExpectBoth(env, "JOB_CPUS_PER_NODE", "2");

  spec.set_ntasks_set(true);
  spec.set_ntasks(4);
  spec.set_ntasks_per_node(2);
  spec.set_account("physics");
  spec.set_qos("long");
  NodeContext elastic = Node("c5-1");
  elastic.partition = "c5";
  env = JobEnv(spec, Alice(), OneNode(), elastic, "/h", std::nullopt);
  ExpectBoth(env, {{"NTASKS", "4"},
                   {"NTASKS_PER_NODE", "2"},
                   {"JOB_PARTITION", "c5"},
                   {"JOB_ACCOUNT", "physics"}});
  ExpectNeither(env, "JOB_QOS");
  spec.set_mem_per_cpu_mb(100);
  env = JobEnv(spec, Alice(), OneNode(), elastic, "/h", std::nullopt);
  ExpectBoth(env, "MEM_PER_CPU", "100");
  ExpectNeither(env, "MEM_PER_NODE");
  spec.set_partition("gpu");
  EXPECT_EQ(JobPartition(spec, elastic), "gpu");
  ExpectNeither(env, "JOB_DEPENDENCY");
  auto* dep = spec.mutable_dependency();
  dep->set_any(true);
  auto* t = dep->add_terms();
  t->set_type("afterok");
  t->add_job_ids("12");
  t->add_job_ids("13_2");
  dep->add_terms()->set_type("singleton");
  ExpectBoth(JobEnv(spec, Alice(), OneNode(), elastic, "/h", std::nullopt), "JOB_DEPENDENCY",
             "afterok:12:13_2?singleton");

  // The submitter's own task pid does not leak in: the launcher sets the task's.
  (*spec.mutable_env())[kTaskPidVar] = "4242";
  EXPECT_EQ(JobEnv(spec, Alice(), OneNode(), elastic, "/h", std::nullopt).count(kTaskPidVar), 0u);
}

TEST(SlurmEnvTest, WhatAnOlderHeadAndABareSpecLeave) {
  pb::JobSpec spec;
  spec.set_ntasks(3);
  spec.set_cpus_per_task(2);
  Allocation alloc;
  alloc.nodelist = {"n1"};  // no tasks or cpus per node
  Env env = JobEnv(spec, Alice(), alloc, Node("n1"), "/h", std::nullopt);
  ExpectBoth(env, "JOB_CPUS_PER_NODE", "6");  // ntasks x cpus per task
  EXPECT_EQ(env["SWELL_TIMELIMIT"], "UNLIMITED");
  ExpectNeither(env, "TASKS_PER_NODE");
  ExpectNeither(env, "CPUS_ON_NODE");
  ExpectNeither(env, "MEM_PER_NODE");
  EXPECT_EQ(env.count("SWELL_HOSTFILE"), 0u);
  EXPECT_EQ(env.count("HOME"), 0u);  // runs as the daemon: its own
  EXPECT_EQ(env["PATH"], std::string("/opt/swell/bin:") + kDefaultPath);
  EXPECT_EQ(Hostfile(alloc), "");

  alloc.tasks_per_node = {3};  // tasks, but no cpus per node
  env = JobEnv(spec, Alice(), alloc, Node("n1"), "/h", std::nullopt);
  ExpectBoth(env, {{"TASKS_PER_NODE", "3"}, {"JOB_CPUS_PER_NODE", "6"}});
  ExpectNeither(env, "CPUS_ON_NODE");
}

TEST(SlurmEnvTest, AnArrayTask) {
  pb::JobSpec spec = OneTask();
  for (int64_t i : {1, 3, 5, 7}) spec.add_array_indices(i);
  Env env = JobEnv(spec, Alice(), OneNode(), Node("n1"), "/h", std::nullopt);
  ExpectBoth(env, {{"ARRAY_TASK_MIN", "1"},
                   {"ARRAY_TASK_MAX", "7"},
                   {"ARRAY_TASK_COUNT", "4"},
                   {"ARRAY_TASK_STEP", "2"}});

  // The task at position 2 has index 5 and its own job id, the array's plus its position.
  EXPECT_EQ(TaskJobId(spec, 100, 2), 102);
  EXPECT_EQ(ArrayTaskIndex(spec, 2), 5);
  EXPECT_EQ(ArrayTaskIndex(spec, 4), std::nullopt);
  Env task = TaskEnv(spec, 100, Key(100, 2), OneNode(), Node("n1"));
  ExpectBoth(task, {{"JOB_ID", "102"}, {"ARRAY_JOB_ID", "100"}, {"ARRAY_TASK_ID", "5"}});
  EXPECT_EQ(task["SLURM_JOBID"], "102");
  EXPECT_EQ(task["SWELL_EXEC_JOB"], "n1@/spool:102");
}

TEST(SlurmEnvTest, AnArrayWithoutAStrideHasStepOne) {
  pb::JobSpec spec = OneTask();
  for (int64_t i : {1, 2, 5}) spec.add_array_indices(i);
  ExpectBoth(JobEnv(spec, Alice(), OneNode(), Node("n1"), "/h", std::nullopt), "ARRAY_TASK_STEP",
             "1");
  spec.clear_array_indices();
  spec.add_array_indices(4);
  Env env = JobEnv(spec, Alice(), OneNode(), Node("n1"), "/h", std::nullopt);
  ExpectBoth(env, {{"ARRAY_TASK_STEP", "1"}, {"ARRAY_TASK_COUNT", "1"}});
}

TEST(SlurmEnvTest, ARankOfAMultiNodeJob) {
  pb::JobSpec spec;
  spec.set_name("ranks");
  spec.set_ntasks(5);
  spec.set_cpus_per_task(1);
  spec.set_launch_tasks(true);
  // The head's order; Slurm lists nodes (and their counts) sorted: n1, n2, n10.
  Allocation alloc;
  alloc.nodelist = {"n2", "n10", "n1"};
  alloc.tasks_per_node = {2, 1, 2};
  alloc.cpus_per_node = {2, 1, 2};
  alloc.node_index = 1;  // n2
  alloc.first_rank = 2;
  Env env = JobEnv(spec, Alice(), alloc, Node("n2"), "/spool/jobs/9.hosts", std::nullopt);
  ExpectBoth(env, {{"NTASKS", "5"},
                   {"JOB_NODELIST", "n[1-2,10]"},
                   {"JOB_NUM_NODES", "3"},
                   {"NNODES", "3"},
                   {"TASKS_PER_NODE", "2(x2),1"},
                   {"STEP_TASKS_PER_NODE", "2(x2),1"},
                   {"STEP_NODELIST", "n[1-2,10]"},
                   {"JOB_CPUS_PER_NODE", "2(x2),1"},
                   {"CPUS_ON_NODE", "2"}});
  EXPECT_EQ(env["SWELL_HOSTFILE"], "/spool/jobs/9.hosts");
  EXPECT_EQ(Hostfile(alloc), "n1 slots=2\nn2 slots=2\nn10 slots=1\n");

  // Rank 3 is n2's second.
  Env task = TaskEnv(spec, 9, Key(9, 3), alloc, Node("n2"));
  ExpectBoth(task, {{"JOB_ID", "9"},
                    {"PROCID", "3"},
                    {"LOCALID", "1"},
                    {"NODEID", "1"},
                    {"GTIDS", "2,3"},
                    {"STEP_ID", "0"},
                    {"STEPID", "0"},
                    {"STEP_NUM_TASKS", "5"},
                    {"STEP_NUM_NODES", "3"}});
  EXPECT_EQ(task["SLURM_JOBID"], "9");
  EXPECT_EQ(task[kExecJobVar], "n2@/spool:9");
  EXPECT_EQ(task.size(), 2u * 9 + 2);
}

pb::ExecLaunch SrunStep() {
  pb::ExecLaunch x;
  x.set_exec_id(9);
  x.set_job_id(42);
  x.set_step_id(1);
  for (const char* kv : {"PATH=/bin", "SLURM_JOB_ID=42", "SLURM_PROCID=0", "SWELL_LOCALID=0",
                         "PMIX_RANK=3", "OMPI_COMM_WORLD_RANK=1",
                         "OMPI_MCA_foo=1", "OMPI_ALLOW_RUN_AS_ROOT=1", "=bad", "novalue"})
    x.add_env(kv);
  x.add_argv("hostname");
  x.set_first_rank(2);
  x.set_count(2);
  x.set_node_index(1);
  x.set_ntasks(4);
  x.add_nodelist("n1");
  x.add_nodelist("n2");
  x.set_tasks_per_node("2(x2)");
  return x;
}

TEST(SlurmEnvTest, ARankOfAnSrunStep) {
  pb::ExecLaunch x = SrunStep();
  Env env = ExecEnv(x, Node("n2", "lo"));
  ExpectBoth(env, {{"STEP_ID", "1"},
                   {"STEPID", "1"},
                   {"STEP_NUM_TASKS", "4"},
                   {"STEP_NUM_NODES", "2"},
                   {"STEP_NODELIST", "n[1-2]"},
                   {"STEP_TASKS_PER_NODE", "2(x2)"},
                   {"NTASKS", "4"},
                   {"NPROCS", "4"},
                   {"NNODES", "2"},
                   {"NODELIST", "n[1-2]"},
                   {"TASKS_PER_NODE", "2(x2)"},
                   {"NODEID", "1"}});
  ExpectNeither(env, "PROCID");          // per rank (ExecRankEnv), not the caller's
  ExpectNeither(env, "LOCALID");
  EXPECT_EQ(env["SLURM_JOB_ID"], "42");  // the caller's, passed on
  EXPECT_EQ(env["PMIX_RANK"], "3");      // a step's rank keeps its caller's variables
  EXPECT_EQ(env["OMPI_COMM_WORLD_RANK"], "1");
  EXPECT_EQ(env.count(""), 0u);
  // Served by the PMIx server, the rank gets its PMIx state from it alone.
  x.set_pmix(true);
  EXPECT_EQ(ExecEnv(x, Node("n2", "lo")).count("PMIX_RANK"), 0u);
  EXPECT_EQ(env.count("novalue"), 0u);
  EXPECT_EQ(env["SLURMD_NODENAME"], "n2");
  EXPECT_EQ(env["SWELL_NODENAME"], "n2");
  EXPECT_EQ(env[kStepOwnerVar], "n2@/spool");
  EXPECT_EQ(env[kExecJobVar], "n2@/spool:42");
  EXPECT_EQ(env["PATH"], "/opt/swell/bin:/bin");
  // Nodes that share this machine ("lo") keep MPI's files apart.
  EXPECT_EQ(env["OMPI_MCA_btl_vader_backing_directory"], "/spool/mpi");
  EXPECT_EQ(env["OMPI_MCA_orte_tmpdir_base"], "/spool/mpi");
  EXPECT_EQ(env["OMPI_MCA_oob_tcp_if_include"], "lo");

  // The node's second rank of the step is rank 3.
  EXPECT_EQ(ExecRankEnv(x, 1), (Env{{"SLURM_PROCID", "3"},
                                    {"SWELL_PROCID", "3"},
                                    {"SLURM_LOCALID", "1"},
                                    {"SWELL_LOCALID", "1"}}));
}

TEST(SlurmEnvTest, ARelayedCommandDropsItsLaunchersState) {
  pb::ExecLaunch x = SrunStep();
  x.set_step_id(-1);
  x.set_shell(true);
  x.set_env(0, "PATH=/bin:/opt/swell/bin");
  Env env = ExecEnv(x, Node("n2"));
  EXPECT_EQ(env.count("PMIX_RANK"), 0u);
  EXPECT_EQ(env.count("OMPI_COMM_WORLD_RANK"), 0u);
  EXPECT_EQ(env["OMPI_MCA_foo"], "1");
  EXPECT_EQ(env["OMPI_ALLOW_RUN_AS_ROOT"], "1");
  EXPECT_EQ(env["PATH"], "/opt/swell/bin:/bin");  // swell's directory moves to the front
  EXPECT_EQ(env.count("OMPI_MCA_btl_vader_backing_directory"), 0u);
  EXPECT_EQ(env[kExecJobVar], "n2@/spool:42");
  ExpectNeither(env, "STEP_ID");
  ExpectNeither(env, "NODEID");
  EXPECT_TRUE(ExecRankEnv(x, 1).empty());
}

TEST(SlurmEnvTest, MarksAndEntries) {
  EXPECT_EQ(StepOwnerEntry("n1@/spool"), "SWELL_STEP_OWNER=n1@/spool");
  EXPECT_EQ(ExecJobEntry("n1@/spool", 12), "SWELL_EXEC_JOB=n1@/spool:12");
  EXPECT_EQ(EnvEntries(Env{{"B", "2"}, {"A", "1=2"}}), (std::vector<std::string>{"A=1=2", "B=2"}));
}

}  // namespace
}  // namespace swell::node
