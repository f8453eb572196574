// scontrol as tools and users call it, against a real `swell up` cluster: options anywhere
// (Snakemake's `scontrol show jobid -dd ID`), show config / partition / step, and job control
// (hold, release, update, requeue), each checked through squeue and scontrol show job.

#include <regex>
#include <sstream>

#include "cli_harness.h"

namespace swell {
namespace {

using namespace testing_cli;  // NOLINT

class ScontrolTest : public CliTest {
 protected:
  std::string Sbatch(std::vector<std::string> args) {
    args.insert(args.begin(), "--parsable");
    auto r = Slurm("sbatch", args);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(std::regex_match(r.out, std::regex("\\d+\n"))) << r.out;
    return r.out.substr(0, r.out.size() - 1);
  }
  // `squeue -h -o FORMAT -j ID -t all` once it prints `want` (or 30 s pass).
  std::string SqueueUntil(const std::string& id, const std::string& format,
                          const std::string& want) {
    std::string out;
    for (int i = 0; i < 1500; ++i) {
      out = Slurm("squeue", {"-h", "-t", "all", "-j", id, "-o", format}).out;
      if (out == want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return out;
  }
  // Waits until `file` (in the test's directory) has `lines` lines.
  int LinesOf(const std::string& file, int lines) {
    int n = 0;
    for (int i = 0; i < 1500; ++i) {
      std::istringstream in(Read(dir_ + "/" + file));
      n = 0;
      for (std::string l; std::getline(in, l);) ++n;
      if (n >= lines) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return n;
  }
};

TEST_F(ScontrolTest, ShowJobidDetailsConfigPartitionAndStep) {
  Up();
  // The link next to swell: a real Slurm's srun may come first on the PATH.
  std::string bin = SWELL_BIN;
  Script("steps.sh", "#!/bin/sh\n" + bin.substr(0, bin.rfind('/') + 1) + "srun -n 1 sleep 60\n");
  std::string id = Sbatch({"-o", "steps.out", "steps.sh"});
  ASSERT_EQ(SqueueUntil(id, "%t", "R\n"), "R\n") << Read(dir_ + "/steps.out");

  // Snakemake's status fallback: options after the command's words.
  auto dd = Slurm("scontrol", {"show", "jobid", "-dd", id});
  ASSERT_EQ(dd.code, 0) << dd.err;
  EXPECT_EQ(dd.out.rfind("JobId=" + id + " JobName=steps.sh\n", 0), 0u) << dd.out;
  EXPECT_NE(dd.out.find("\n   JobState=RUNNING Reason=None "), std::string::npos) << dd.out;
  EXPECT_NE(dd.out.find("\n   DerivedExitCode=0:0\n"), std::string::npos) << dd.out;
  EXPECT_TRUE(
      std::regex_search(dd.out, std::regex("\n     Nodes=node[12] CPU_IDs=0 Mem=0 GRES=\n")))
      << dd.out;
  auto plain = Slurm("scontrol", {"show", "job", id});
  EXPECT_EQ(plain.out.find("DerivedExitCode"), std::string::npos) << "only with -d";
  auto one = Slurm("scontrol", {"show", "job", id, "-o"});
  ASSERT_EQ(one.code, 0) << one.err;
  EXPECT_EQ(one.out.find('\n'), one.out.size() - 1) << one.out;
  auto bad = Slurm("scontrol", {"show", "job", id, "--bogus"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_EQ(
      bad.err,
      "scontrol: unrecognized option '--bogus'\nTry \"scontrol --help\" for more information\n");

  auto config = Slurm("scontrol", {"show", "config"});
  ASSERT_EQ(config.code, 0) << config.err;
  EXPECT_EQ(config.out.rfind("Configuration data as of 20", 0), 0u) << config.out;
  for (const char* line :
       {"\nClusterName             = swell\n", "\nMinJobAge               = 300 sec\n",
        "\nSLURM_VERSION           = 22.05.8\n", "\nKillWait                = 1 sec\n",
        "\nSelectType              = select/cons_tres\n"})
    EXPECT_NE(config.out.find(line), std::string::npos) << line << config.out;
  EXPECT_TRUE(std::regex_search(config.out, std::regex("\nSlurmctld\\(primary\\) at .+ is UP\n$")))
      << config.out;

  auto part = Slurm("scontrol", {"show", "partition"});
  ASSERT_EQ(part.code, 0) << part.err;
  EXPECT_EQ(part.out.rfind("PartitionName=batch\n   AllowGroups=ALL ", 0), 0u) << part.out;
  EXPECT_NE(part.out.find("\n   AllocNodes=ALL Default=YES QoS=N/A\n"), std::string::npos);
  EXPECT_NE(part.out.find("\n   Nodes=node[1-2]\n"), std::string::npos) << part.out;
  EXPECT_NE(part.out.find("\n   State=UP TotalCPUs=16 TotalNodes=2 "), std::string::npos);
  auto nopart = Slurm("scontrol", {"show", "partition", "gpu"});
  EXPECT_EQ(nopart.code, 1);
  EXPECT_EQ(nopart.out, "Partition gpu not found\n");

  // The batch script's srun is step 0.
  std::string step;
  for (int i = 0; i < 1500 && step.empty(); ++i) {
    auto s = Slurm("scontrol", {"show", "step", id + ".0"});
    if (s.code == 0)
      step = s.out;
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(step.rfind("StepId=" + id + ".0 UserId=", 0), 0u) << step;
  EXPECT_NE(step.find("\n   State=RUNNING Partition=batch NodeList=node"), std::string::npos)
      << step;
  EXPECT_NE(step.find("\n   Nodes=1 CPUs=1 Tasks=1 Name=sleep "), std::string::npos) << step;
  auto nostep = Slurm("scontrol", {"show", "step", id + ".7"});
  EXPECT_EQ(nostep.code, 1);
  EXPECT_EQ(nostep.out, "Job step " + id + ".7 not found\n");

  auto keyword = Slurm("scontrol", {"frobnicate"});
  EXPECT_EQ(keyword.code, 1);
  EXPECT_EQ(keyword.err, "invalid keyword: frobnicate\n");
}

TEST_F(ScontrolTest, HoldReleaseAndUpdate) {
  Up();
  std::string id = Sbatch({"-H", "-J", "first", "-o", "/dev/null", "--wrap", "sleep 60"});
  ASSERT_EQ(SqueueUntil(id, "%t %r", "PD JobHeldUser\n"), "PD JobHeldUser\n");
  auto up = Slurm("scontrol",
                  {"update", "JobId=" + id, "TimeLimit=5", "Name=renamed", "Comment=hi", "Nice=3"});
  EXPECT_EQ(up.code, 0) << up.err;
  EXPECT_EQ(up.err, "");
  EXPECT_EQ(Slurm("squeue", {"-h", "-j", id, "-o", "%j %l %k %y %r"}).out,
            "renamed 5:00 hi 3 JobHeldUser\n");
  auto show = Slurm("scontrol", {"show", "job", id});
  EXPECT_NE(show.out.find(" JobName=renamed\n"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("\n   RunTime=00:00:00 TimeLimit=00:05:00 "), std::string::npos);

  EXPECT_EQ(Slurm("scontrol", {"release", id}).code, 0);
  ASSERT_EQ(SqueueUntil(id, "%t", "R\n"), "R\n");

  // Running: no longer pending, so no hold and no new partition; the time limit is the
  // job's own, and lowered it reaches the running task.
  auto hold = Slurm("scontrol", {"hold", id});
  EXPECT_EQ(hold.code, 1);
  EXPECT_EQ(hold.err, "Job is no longer pending execution for job " + id +
                          "\nslurm_suspend error: Job is no longer pending execution\n");
  auto move = Slurm("scontrol", {"update", "jobid", id, "partition=other"});
  EXPECT_EQ(move.code, 1);
  EXPECT_EQ(move.err, "Job is no longer pending execution for job " + id + "\n");
  EXPECT_EQ(Slurm("scontrol", {"update", "JobId=" + id, "TimeLimit=0:02"}).code, 0);
  EXPECT_EQ(SqueueUntil(id, "%T", "TIMEOUT\n"), "TIMEOUT\n");

  auto none = Slurm("scontrol", {"update", "JobId=999999", "Name=x"});
  EXPECT_EQ(none.code, 1);
  EXPECT_EQ(none.err, "Invalid job id specified for job 999999\n");
  auto nohold = Slurm("scontrol", {"hold", "999999"});
  EXPECT_EQ(nohold.code, 1);
  EXPECT_EQ(nohold.err,
            "Invalid job id specified for job 999999\n"
            "slurm_suspend error: Invalid job id specified\n");
  auto key = Slurm("scontrol", {"update", "JobId=" + id, "Frequency=9"});
  EXPECT_EQ(key.code, 1);
  EXPECT_EQ(key.err, "Update of this parameter is not supported: Frequency=9\nRequest aborted\n");
  auto finished = Slurm("scontrol", {"update", "JobId=" + id, "Name=late"});
  EXPECT_EQ(finished.code, 1);
  EXPECT_EQ(finished.err, "Job has already finished for job " + id + "\n");
}

TEST_F(ScontrolTest, RequeueRunsAJobAgain) {
  Up();
  std::string run = Sbatch({"--requeue", "-o", "/dev/null", "--wrap", "echo x >> runs; sleep 60"});
  ASSERT_EQ(SqueueUntil(run, "%t", "R\n"), "R\n");
  ASSERT_EQ(LinesOf("runs", 1), 1);
  auto rq = Slurm("scontrol", {"requeue", run});
  EXPECT_EQ(rq.code, 0) << rq.err;
  EXPECT_EQ(LinesOf("runs", 2), 2) << "the job ran again";
  EXPECT_EQ(SqueueUntil(run, "%t", "R\n"), "R\n");
  EXPECT_NE(Slurm("scontrol", {"show", "job", run}).out.find(" Restarts=1 "), std::string::npos);

  // requeuehold: back to the queue, held, until released.
  EXPECT_EQ(Slurm("scontrol", {"requeuehold", run}).code, 0);
  EXPECT_EQ(SqueueUntil(run, "%t %r", "PD JobHeldUser\n"), "PD JobHeldUser\n");
  auto pending = Slurm("scontrol", {"requeue", run});
  EXPECT_EQ(pending.code, 1);
  EXPECT_EQ(pending.err, "Job is pending execution for job " + run + "\n");
  EXPECT_EQ(Slurm("scontrol", {"release", run}).code, 0);
  EXPECT_EQ(SqueueUntil(run, "%t", "R\n"), "R\n");
  EXPECT_EQ(LinesOf("runs", 3), 3);
  EXPECT_NE(Slurm("scontrol", {"show", "job", run}).out.find(" Restarts=2 "), std::string::npos);

  // A finished job comes back too.
  std::string done = Sbatch({"--requeue", "-o", "/dev/null", "--wrap", "echo y >> done"});
  ASSERT_EQ(SqueueUntil(done, "%T", "COMPLETED\n"), "COMPLETED\n");
  EXPECT_EQ(Slurm("scontrol", {"requeue", done}).code, 0);
  EXPECT_EQ(LinesOf("done", 2), 2);
  EXPECT_EQ(SqueueUntil(done, "%T", "COMPLETED\n"), "COMPLETED\n");

  // A job that does not ask for requeue (JobRequeue=0), and suspend, are refused.
  std::string plain = Sbatch({"-o", "/dev/null", "--wrap", "sleep 60"});
  auto no = Slurm("scontrol", {"requeue", plain});
  EXPECT_EQ(no.code, 1);
  EXPECT_EQ(no.err, "Requested operation is presently disabled for job " + plain + "\n");
  auto suspend = Slurm("scontrol", {"suspend", plain});
  EXPECT_EQ(suspend.code, 1);
  EXPECT_NE(suspend.err.find(" for job " + plain + "\n"), std::string::npos) << suspend.err;
}

}  // namespace
}  // namespace swell
