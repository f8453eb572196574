// SPMD on swell as users run it: job steps (srun inside a batch script), MPI programs started
// by mpirun (OpenMPI) and mpiexec (MPICH) across the nodes through swell-rsh, and a failed or
// cancelled MPI job that leaves no process behind. Against a real `swell up` cluster.

#include <map>
#include <regex>

#include "spmd_harness.h"

namespace swell {
namespace {

using namespace testing_cli;  // NOLINT

// The batch script, written for Slurm, runs unmodified through sbatch: srun steps see
// Slurm's variables, mpirun reaches the second node without ssh, exit codes come back.
TEST_F(SpmdTest, ASlurmBatchScriptWithStepsAndMpirunRunsUnmodified) {
  Up();
  Script("job.sh", std::string("#!/bin/bash\n"
                               "#SBATCH --nodes=2\n"
                               "#SBATCH --ntasks-per-node=1\n"
                               "#SBATCH --time=00:05:00\n"
                               "#SBATCH --output=name_%j.log\n"
                               "srun bash -c 'echo \"step $SLURM_STEP_ID task $SLURM_PROCID of "
                               "$SLURM_NTASKS local $SLURM_LOCALID node $SLURM_NODEID of "
                               "$SLURM_NNODES on $SLURMD_NODENAME ($SLURM_STEP_NODELIST)\"'\n"
                               "srun -n 1 -l bash -c 'echo step $SLURM_STEPID'\n"
                               "mpirun ") +
                   RING_BIN +
                   " 50\n"
                   "echo \"mpirun said $?\"\n"
                   "srun sh -c 'exit $((SLURM_PROCID + 5))'; echo \"srun said $?\"\n"
                   "srun -n 5 true; echo \"too many said $?\"\n");
  auto r = Slurm("sbatch", {"--parsable", "--wait", "job.sh"});
  EXPECT_EQ(r.code, 0) << r.err;
  int64_t id = std::atoll(r.out.c_str());
  ASSERT_GT(id, 0) << r.out;
  std::string log = Read(dir_ + "/name_" + std::to_string(id) + ".log");
  EXPECT_NE(log.find("step 0 task 0 of 2 local 0 node 0 of 2 on node1 (node[1-2])\n"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("step 0 task 1 of 2 local 0 node 1 of 2 on node2 (node[1-2])\n"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("0: step 1\n"), std::string::npos) << log;
  ExpectRing(log, 2, 50);
  EXPECT_NE(log.find("mpirun said 0\n"), std::string::npos) << log;
  EXPECT_NE(log.find("srun said 6\n"), std::string::npos) << log;
  EXPECT_NE(log.find("srun: error: task 1: Exited with exit code 6"), std::string::npos) << log;
  EXPECT_NE(log.find("srun: error: Unable to create step for job " + std::to_string(id) +
                     ": More processors requested than permitted"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("too many said 1\n"), std::string::npos) << log;
  EXPECT_TRUE(Leftovers().empty());
}

// The book's experiment: 7 ranks on 2 nodes through `swell run --mpi`, one line per hop.
TEST_F(SpmdTest, SwellRunMpiRunsTheRingAcrossTwoNodes) {
  Up();
  auto r = Swell({"run", "--mpi", "--nodes", "2", "-n", "7", RING_BIN, "20"});
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  ExpectRing(r.out, 7, 20);
  // The ranks ran under an orted started through swell-rsh on each node. (One line per rank,
  // written at once: the ranks' outputs interleave by writes.)
  auto where = Swell({"run", "--mpi", "--nodes", "2", "-n", "4", "sh", "-c",
                      "echo \"$(tr '\\0' '\\n' < /proc/$PPID/environ | grep ^SLURMD_NODENAME=)"
                      " $(cat /proc/$PPID/comm)\""});
  ASSERT_EQ(where.code, 0) << where.err;
  EXPECT_NE(where.out.find("SLURMD_NODENAME=node1 orted\n"), std::string::npos) << where.out;
  EXPECT_NE(where.out.find("SLURMD_NODENAME=node2 orted\n"), std::string::npos) << where.out;
  EXPECT_TRUE(Leftovers().empty());
}

#ifdef RING_MPICH_BIN
TEST_F(SpmdTest, MpichRunsTheRingThroughHydra) {
  Up();
  auto r = Swell({"run", "--mpi=mpich", "--nodes", "2", "-n", "7", RING_MPICH_BIN, "20"});
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  ExpectRing(r.out, 7, 20);
  EXPECT_TRUE(Leftovers().empty());
}
#endif

// A rank that fails fails the job with its exit code; a cancelled MPI job leaves nothing.
TEST_F(SpmdTest, AFailedOrCancelledMpiJobLeavesNoProcessBehind) {
  Up();
  auto r = Swell({"run", "--mpi", "--nodes", "2", "-n", "4", "sh", "-c",
                  "if [ \"$OMPI_COMM_WORLD_RANK\" = 3 ]; then sleep 0.5; exit 3; fi; "
                  "exec sleep 60"});
  EXPECT_EQ(r.code, 3) << r.err << r.out;
  EXPECT_TRUE(Leftovers().empty());
  // Cancelled while every rank sleeps: the job is CANCELLED and its orteds and ranks go.
  int64_t id = SubmitOk({"-N", "2", "-n", "4", "--wrap", "mpirun sleep 60"});
  // mpirun, 2 orteds and 4 ranks: counted once the 4 ranks run `sleep` (an orted's fork that
  // has not yet exec'd a rank carries the job's mark too, so a bare count can pass too soon).
  auto ranks_and_launchers = [&] {
    size_t sleeping = 0, all = 0;
    for (pid_t pid : JobProcesses(home_)) {
      ++all;
      if (Read("/proc/" + std::to_string(pid) + "/comm") == "sleep\n") ++sleeping;
    }
    return sleeping >= 4 && all >= 6;
  };
  auto j = WaitFor(id, [&](const nlohmann::json&) { return ranks_and_launchers(); });
  EXPECT_TRUE(ranks_and_launchers()) << j.dump();
  EXPECT_EQ(Slurm("scancel", {std::to_string(id)}).code, 0);
  j = WaitFor(id, [](const nlohmann::json& job) { return job["state"] == "CANCELLED"; });
  EXPECT_EQ(j["state"], "CANCELLED");
  EXPECT_TRUE(Leftovers().empty());
}

// Running steps show in `squeue -s` (Slurm's step format) and end with their job.
TEST_F(SpmdTest, StepsShowInSqueueSteps) {
  Up();
  int64_t id = SubmitOk({"-N", "2", "-J", "steps", "--wrap", "srun -N 2 sleep 60"});
  std::regex line("\\s+" + std::to_string(id) + "\\.0\\s+sleep\\s+\\S+\\s+" + Me() +
                  "\\s+\\d+:\\d\\d node\\[1-2\\]\n");
  std::string out;
  for (int i = 0; i < 500 && !std::regex_match(out, line); ++i) {
    out = Slurm("squeue", {"-s", "-h"}).out;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(std::regex_match(out, line)) << out;
  auto header = Slurm("squeue", {"-s"}).out;
  EXPECT_EQ(header.substr(0, header.find('\n')),
            "         STEPID     NAME PARTITION     USER      TIME NODELIST");
  EXPECT_EQ(Slurm("scancel", {std::to_string(id)}).code, 0);
  WaitFor(id, [](const nlohmann::json& job) { return job["state"] == "CANCELLED"; });
  EXPECT_TRUE(Leftovers().empty());
  EXPECT_EQ(Slurm("squeue", {"-s", "-h"}).out, "");
}

// scancel JOB.STEP ends one step; the job goes on with its next one. A step that does not
// exist is Slurm's error.
TEST_F(SpmdTest, ScancelEndsOneStepAndTheJobGoesOn) {
  int64_t id = UpWithARunningStep(
      "steps.log", "srun -N 2 sleep 60; echo first=$?; srun -N 2 true; echo second=$?");
  ASSERT_GT(id, 0);
  std::string step = std::to_string(id) + ".0";
  auto bad = Slurm("scancel", {std::to_string(id) + ".7"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("scancel: error: Kill job error on job step id " + std::to_string(id) +
                         ".7: Invalid job id specified"),
            std::string::npos)
      << bad.err;
  auto c = Slurm("scancel", {step});
  EXPECT_EQ(c.code, 0) << c.err;
  auto j = WaitFor(id, [](const nlohmann::json& job) { return job["state"] != "RUNNING"; });
  EXPECT_EQ(j["state"], "COMPLETED") << j.dump();
  EXPECT_NE(Read(dir_ + "/steps.log").find("first=143\nsecond=0\n"), std::string::npos)
      << Read(dir_ + "/steps.log");
  EXPECT_TRUE(Leftovers().empty());
}

// A head restart breaks a running step's srun, but the step's ranks still go with their job:
// the nodes tell the new head which jobs ran steps on them.
TEST_F(SpmdTest, AStepsRanksGoWithItsJobAfterAHeadRestart) {
  int64_t id = UpWithARunningStep("restart.log", "srun -N 2 sleep 60; echo srun=$?; sleep 1");
  ASSERT_GT(id, 0);
  pid_t head = std::atoi(Read(home_ + "/head.pid").c_str());
  ASSERT_GT(head, 0);
  EXPECT_EQ(kill(head, SIGKILL), 0);
  while (kill(head, 0) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  Up();
  auto j = WaitFor(id, [](const nlohmann::json& job) { return job["state"] != "RUNNING"; });
  EXPECT_EQ(j["state"], "COMPLETED") << j.dump();
  EXPECT_NE(Read(dir_ + "/restart.log").find("srun="), std::string::npos);
  EXPECT_TRUE(Leftovers().empty());
}

// salloc holds an allocation while its command runs here: srun steps and mpirun in it reach
// the allocation's nodes, its exit code is the command's, and the job ends with it.
TEST_F(SpmdTest, SallocHoldsAnAllocationForStepsAndMpirun) {
  Up();
  auto granted = [](const std::string& err) -> int64_t {
    std::smatch m;
    if (!std::regex_search(err, m, std::regex("salloc: Granted job allocation (\\d+)\n")))
      return -1;
    EXPECT_NE(err.find("salloc: Relinquishing job allocation " + m[1].str() + "\n"),
              std::string::npos)
        << err;
    return std::stoll(m[1].str());
  };
  auto r = Slurm("salloc", {"-N", "2", "sh", "-c",
                            "echo $SLURM_JOB_NODELIST $SLURM_TASKS_PER_NODE; "
                            "srun -l printenv SLURMD_NODENAME | sort"});
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_EQ(r.out, "node[1-2] 1(x2)\n0: node1\n1: node2\n");
  int64_t id = granted(r.err);
  ASSERT_GT(id, 0) << r.err;
  EXPECT_EQ(WaitFor(id, [](const nlohmann::json& j) { return j["state"] != "RUNNING"; })["state"],
            "COMPLETED");
  // mpirun in salloc's shell starts its daemons on the nodes through swell-rsh.
  auto m = Slurm("salloc", {"-N", "2", "-n", "3", "mpirun", RING_BIN, "5"});
  ASSERT_EQ(m.code, 0) << m.err << m.out;
  ExpectRing(m.out, 3, 5);
  EXPECT_TRUE(Leftovers().empty());
  // The command's exit code is salloc's; the job FAILED.
  auto f = Slurm("salloc", {"sh", "-c", "exit 7"});
  EXPECT_EQ(f.code, 7) << f.err;
  id = granted(f.err);
  EXPECT_EQ(WaitFor(id, [](const nlohmann::json& j) { return j["state"] != "RUNNING"; })["state"],
            "FAILED");
  auto bad = Slurm("salloc", {"-c", "1000", "true"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_EQ(bad.err.rfind("salloc: error: Job submit/allocate failed: ", 0), 0u) << bad.err;
}

// As root: the ring across netns nodes, each with its own IP address and host name, with
// OpenMPI and with MPICH; and OpenMPI's ranks started by srun itself (PMIx, pmix_test.cc).
TEST_F(SpmdTest, TheRingRunsAcrossNetnsNodesWithTheirOwnHostnames) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
  int k = 100 + (getpid() + 50) % 100;
  std::string bridge = "swmpi" + std::to_string(k), prefix = "swm" + std::to_string(k) + "-";
  std::ofstream(dir_ + "/netns.toml")
      << "[cluster]\nnodes = 0\nkill_wait_s = 1\n[provider]\nkind = \"netns\"\nsubnet = \"10.216."
      << k << ".0/24\"\nbridge = \"" << bridge << "\"\nprefix = \"" << prefix
      << "\"\n[autoscaler]\npolicy = \"clic\"\nmin_lifetime_s = 600\ninterval_s = 0.2\n"
         "[[node_type]]\nname = \"mpi\"\ncpus = 4\nmemory_mb = 512\nmax_nodes = 2\n";
  auto up = Swell({"up", "--config", dir_ + "/netns.toml"});
  ASSERT_EQ(up.code, 0) << up.err;
  auto r = Swell({"run", "--mpi", "--nodes", "2", "-n", "7", RING_BIN, "20"});
  EXPECT_EQ(r.code, 0) << r.err << r.out;
  ExpectRing(r.out, 7, 20);
  // Both nodes' own names, never this machine's.
  EXPECT_NE(r.out.find(" on mpi-1 got"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" on mpi-2 got"), std::string::npos) << r.out;
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  EXPECT_EQ(r.out.find(std::string(" on ") + host + " got"), std::string::npos) << r.out;
  EXPECT_TRUE(Leftovers().empty());
#ifdef RING_MPICH_BIN
  // MPICH's hydra over the same relay, on the same nodes.
  auto m = Swell({"run", "--mpi=mpich", "--nodes", "2", "-n", "7", RING_MPICH_BIN, "20"});
  EXPECT_EQ(m.code, 0) << m.err << m.out;
  ExpectRing(m.out, 7, 20);
  EXPECT_NE(m.out.find(" on mpi-1 got"), std::string::npos) << m.out;
  EXPECT_NE(m.out.find(" on mpi-2 got"), std::string::npos) << m.out;
  EXPECT_TRUE(Leftovers().empty());
#endif
  // A batch script's srun starts 4 ranks of one world on the two hosts.
  setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
  Script("hello.sh", std::string("#!/bin/bash\n#SBATCH -N 2 --ntasks-per-node=2 -o hello.out\n"
                                 "srun /usr/bin/python3 -m mpi4py.bench helloworld\n"
                                 "srun /usr/bin/python3 -m mpi4py.bench ringtest -n 1000\n"
                                 "echo \"ringtest said $?\"\nsrun ") +
                         RING_BIN + " 20\n");
  auto h = Slurm("sbatch", {"--wait", "hello.sh"});
  EXPECT_EQ(h.code, 0) << h.err;
  std::string hello = Read(dir_ + "/hello.out");
  std::map<std::string, int> hosts;
  std::regex line("Hello, World! I am process ([0-3]) of 4 on (\\S+)\\.\n");
  for (std::sregex_iterator it(hello.begin(), hello.end(), line), end; it != end; ++it)
    ++hosts[(*it)[2]];
  EXPECT_EQ(hosts, (std::map<std::string, int>{{"mpi-1", 2}, {"mpi-2", 2}})) << hello;
  EXPECT_NE(hello.find("ringtest said 0\n"), std::string::npos) << hello;
  ExpectRing(hello, 4, 20);
  EXPECT_NE(hello.find(" on mpi-2 got"), std::string::npos) << hello;
  EXPECT_TRUE(Leftovers().empty());
#ifdef RING_MPICH_BIN
  // MPICH's ranks under srun (PMI-1 from the node daemons), across the bridge.
  Script("mring.sh", std::string("#!/bin/bash\n#SBATCH -N 2 --ntasks-per-node=2 -o mring.out\n"
                                 "srun ") + RING_MPICH_BIN + " 20\n");
  auto mr = Slurm("sbatch", {"--wait", "mring.sh"});
  EXPECT_EQ(mr.code, 0) << mr.err;
  std::string mring = Read(dir_ + "/mring.out");
  ExpectRing(mring, 4, 20);
  EXPECT_NE(mring.find(" on mpi-1 got"), std::string::npos) << mring;
  EXPECT_NE(mring.find(" on mpi-2 got"), std::string::npos) << mring;
  EXPECT_TRUE(Leftovers().empty());
#endif
  EXPECT_EQ(Swell({"down"}).code, 0);
  EXPECT_EQ(Exec({"ip", "netns", "list"}, dir_).out.find(prefix), std::string::npos);
}

}  // namespace
}  // namespace swell
