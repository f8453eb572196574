// srun starts MPI ranks itself, as on Slurm with MpiDefault=pmix: each node daemon serves its
// ranks PMIx, and the head relays the fences between the nodes (docs/mpi.md). OpenMPI's ranks
// (Debian's, through mpi4py and the book's ring) form one MPI_COMM_WORLD across 2 nodes; an
// MPI_Abort ends the step with its status; a fence that cannot complete fails, never hangs.

#include <fstream>

#include "spmd_harness.h"

namespace swell {
namespace {

using namespace testing_cli;  // NOLINT

constexpr char kPython[] = "/usr/bin/python3";  // Debian's, with python3-mpi4py

class PmixTest : public SpmdTest {
 protected:
  // Runs `body` as a batch script of `nodes` x `per_node` tasks and returns its output.
  std::string Batch(const std::string& body, int nodes = 2, int per_node = 2) {
    Script("job.sh", "#!/bin/bash\n#SBATCH -N " + std::to_string(nodes) +
                         " --ntasks-per-node=" + std::to_string(per_node) +
                         "\n#SBATCH -o job.out\n" + body);
    auto r = Slurm("sbatch", {"--wait", "job.sh"});
    EXPECT_EQ(r.code, 0) << r.err << r.out;
    return Read(dir_ + "/job.out");
  }
};

TEST_F(PmixTest, SrunStartsOneWorldOfMpiRanksAcrossTheNodes) {
  Up();
  std::string out = Batch(std::string("srun ") + kPython +
                          " -m mpi4py.bench helloworld\necho \"hello said $?\"\n"
                          "srun " + RING_BIN + " 20\necho \"ring said $?\"\n"
                          "srun --mpi=pmix_v4 -n 3 " + kPython +
                          " -m mpi4py.bench ringtest -n 1000\necho \"ringtest said $?\"\n");
  for (int r = 0; r < 4; ++r)
    EXPECT_NE(out.find("Hello, World! I am process " + std::to_string(r) + " of 4 on "),
              std::string::npos)
        << out;
  EXPECT_NE(out.find("hello said 0\n"), std::string::npos) << out;
  ExpectRing(out, 4, 20);
  EXPECT_NE(out.find("ring said 0\n"), std::string::npos) << out;
  EXPECT_NE(out.find("ringtest said 0\n"), std::string::npos) << out;
  EXPECT_TRUE(Leftovers().empty());
}

#ifdef RING_MPICH_BIN
// Debian's MPICH links no PMIx: its ranks speak PMI-1 to the node daemons (PMI_FD).
TEST_F(PmixTest, MpichRanksUnderSrunThroughPmi1) {
  Up();
  std::string out = Batch(std::string("srun ") + RING_MPICH_BIN + " 20\necho \"ring said $?\"\n");
  ExpectRing(out, 4, 20);
  EXPECT_NE(out.find("ring said 0\n"), std::string::npos) << out;
  EXPECT_TRUE(Leftovers().empty());
}
#endif

// libswell_mr's K-means as srun's ranks (rank 0 drives, both work), bit for bit the serial
// reference's centres.
TEST_F(PmixTest, KMeansRunsAsSrunsRanksAcrossTheNodes) {
  Up();
  std::string common = " --dims 3 --k 5 --iterations 6";
  auto gen = Exec({"sh", "-c",
                   std::string(KMEANS_SERIAL_BIN) + " --generate 20000 --data d --partitions 4 "
                   "--output serial.txt" + common},
                  dir_);
  ASSERT_EQ(gen.code, 0) << gen.err;
  std::string out = Batch(std::string("export SWELL_MR_RENDEZVOUS=$PWD/rdv\nsrun ") +
                              KMEANS_BIN + " --output run.txt --input d/part-0000.bin "
                              "d/part-0001.bin d/part-0002.bin d/part-0003.bin" + common +
                              "\necho \"kmeans said $?\"\n",
                          2, 1);
  EXPECT_NE(out.find("kmeans said 0\n"), std::string::npos) << out;
  EXPECT_NE(out.find("2 workers)"), std::string::npos) << out;
  std::string want = Read(dir_ + "/serial.txt");
  EXPECT_FALSE(want.empty());
  EXPECT_EQ(Read(dir_ + "/run.txt"), want);
  EXPECT_TRUE(Leftovers().empty());
}

// srun outside an allocation makes one and runs the ranks as its step, as Slurm's.
TEST_F(PmixTest, SrunOutsideAnAllocationToo) {
  Up();
  auto r = Slurm("srun", {"-N", "2", "-n", "4", kPython, "-m", "mpi4py.bench", "helloworld"});
  EXPECT_EQ(r.code, 0) << r.err << r.out;
  for (int rank = 0; rank < 4; ++rank)
    EXPECT_NE(r.out.find("Hello, World! I am process " + std::to_string(rank) + " of 4 on "),
              std::string::npos)
        << r.out;
  // The allocation is given back: the job ended well, its step recorded.
  auto q = Slurm("sacct", {"-n", "-P", "-o", "JobID,State"});
  EXPECT_NE(q.out.find(".0|COMPLETED\n"), std::string::npos) << q.out;
  EXPECT_EQ(Slurm("squeue", {"-h"}).out, "");
  EXPECT_TRUE(Leftovers().empty());
}

// salloc's command is outside the nodes; its srun's ranks run on them, one world.
TEST_F(PmixTest, SrunInsideSallocToo) {
  Up();
  auto r = Slurm("salloc", {"-N", "2", "--ntasks-per-node=1", "srun", kPython, "-m",
                            "mpi4py.bench", "helloworld"});
  EXPECT_EQ(r.code, 0) << r.err << r.out;
  for (int rank = 0; rank < 2; ++rank)
    EXPECT_NE(r.out.find("Hello, World! I am process " + std::to_string(rank) + " of 2 on "),
              std::string::npos)
        << r.out;
  EXPECT_TRUE(Leftovers().empty());
}

TEST_F(PmixTest, MpiTypesAsSlurmNamesThem) {
  Up();
  std::string out = Batch(std::string("srun --mpi=list\n"
                                      "srun --mpi=foo true; echo \"foo said $?\"\n"
                                      "SLURM_MPI_TYPE=none srun -n 1 ") +
                          kPython + " -m mpi4py.bench helloworld; echo \"none said $?\"\n");
  EXPECT_NE(out.find("MPI plugin types are...\n\tpmix\n\tnone\n"
                     "specific pmix plugin versions available: pmix_v4\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("srun: error: Invalid MPI type 'foo', --mpi=list for acceptable types\n"
                     "foo said 1\n"),
            std::string::npos)
      << out;
  // Without PMIx, OpenMPI's rank finds Slurm's variables and no server: its own error.
  EXPECT_NE(out.find("direct launched using \"srun\""), std::string::npos) << out;
  EXPECT_EQ(out.find("none said 0\n"), std::string::npos) << out;
}

// As Slurm: the aborting rank's status is srun's, the other ranks are ended, nothing stays.
TEST_F(PmixTest, MpiAbortEndsTheStepWithItsStatus) {
  Up();
  std::string out = Batch(std::string("srun ") + kPython +
                              " -c \"from mpi4py import MPI\nimport time\nc = MPI.COMM_WORLD\n"
                              "if c.rank == 1: c.Abort(3)\ntime.sleep(60)\n"
                              "print('rank', c.rank, 'survived')\"\n"
                              "echo \"srun said $?\"\n",
                          2, 1);
  EXPECT_NE(out.find("srun: Job step aborted: Waiting up to 3 seconds for job step to finish."),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("srun: error: task 1: Exited with exit code 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("srun said 3\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("survived"), std::string::npos) << out;
  EXPECT_TRUE(Leftovers().empty());
}

// A rank that fails: the others go on (Slurm's default, as Slurm 22.05 in the box did), unless
// -K ends the step.
TEST_F(PmixTest, ARankThatFailsEndsTheStepOnlyWithKillOnBadExit) {
  Up();
  const std::string prog = std::string(kPython) +
                           " -c \"import os, time\nfrom mpi4py import MPI\n"
                           "if MPI.COMM_WORLD.rank == 1: os._exit(5)\ntime.sleep(3)\n"
                           "print('rank 0 done', flush=True)\"";
  std::string out = Batch("srun " + prog + "\necho \"srun said $?\"\nsrun -K " + prog +
                              "\necho \"srun -K said $?\"\n",
                          2, 1);
  // (os._exit: MPI_Finalize would wait for rank 0 in its fence.)
  EXPECT_NE(out.find("rank 0 done\n"), std::string::npos) << out;
  EXPECT_LT(out.find("rank 0 done\n"), out.find("srun said 5\n")) << out;
  EXPECT_NE(out.find("srun -K said "), std::string::npos) << out;
  EXPECT_EQ(out.find("rank 0 done", out.find("srun said 5")), std::string::npos) << out;
  EXPECT_TRUE(Leftovers().empty());
}

// A rank that does not join (it sleeps, then ends without MPI): the fence fails after
// pmix_timeout_s and the other rank's first message to it (OpenMPI's MPI_Init does not wait
// for the fence) fails with an error. (A rank that has ended fails its step's fences at once.)
TEST_F(PmixTest, AFenceThatCannotCompleteFailsAfterItsTimeout) {
  std::ofstream(dir_ + "/cluster.toml", std::ios::app) << "pmix_timeout_s = 2\n";
  Up();
  std::string out = Batch(std::string("srun ") + kPython +
                              " -c \"import os, sys, time\n"
                              "if os.environ['SLURM_PROCID'] == '1': time.sleep(8); sys.exit(0)\n"
                              "from mpi4py import MPI\nMPI.COMM_WORLD.Barrier()\n"
                              "print('barrier done')\"\n"
                              "echo \"srun said $?\"\n",
                          2, 1);
  EXPECT_EQ(out.find("barrier done"), std::string::npos) << out;
  EXPECT_NE(out.find("srun: error: task 0: Exited with exit code"), std::string::npos) << out;
  EXPECT_EQ(out.find("srun said 0\n"), std::string::npos) << out;
  EXPECT_NE(Read(home_ + "/head.log").find("a PMIx fence timed out after 2 s with 1 of 2 nodes"),
            std::string::npos);
  EXPECT_TRUE(Leftovers().empty());
}

// scancel of the step ends every rank on every node; the job goes on.
TEST_F(PmixTest, ScancelOfTheStepEndsEveryRank) {
  int64_t id = UpWithARunningStep(
      "step.out", std::string("srun ") + kPython +
                      " -c 'from mpi4py import MPI; import time; time.sleep(120)'; "
                      "echo \"srun said $?\"; echo job goes on");
  ASSERT_GT(id, 0);
  // Every rank is up (in MPI_Init or past it) before the cancel.
  for (int i = 0; i < 500 && JobProcesses(home_).size() < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(Slurm("scancel", {std::to_string(id) + ".0"}).code, 0);
  auto w = Swell({"wait", std::to_string(id)});
  EXPECT_EQ(w.code, 0) << w.err;
  std::string out = Read(dir_ + "/step.out");
  EXPECT_NE(out.find("job goes on\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("srun said 0\n"), std::string::npos) << out;
  EXPECT_TRUE(Leftovers().empty());
}

}  // namespace
}  // namespace swell
