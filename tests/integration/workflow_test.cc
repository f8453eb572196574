// Workflow tools that drive Slurm, unmodified, against a real `swell up` cluster: Debian's
// Snakemake through its own `--slurm` executor (sbatch, then sacct or `scontrol show jobid -dd`
// for status, `srun -n1 --cpu-bind=q` inside the job) and through its generic `--cluster` mode
// with a status script that reads sacct, as users' profiles do. Each rule's threads, memory and
// runtime must reach the job as Slurm would give them; a failing rule must fail the workflow.

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "cli_harness.h"

namespace swell {
namespace {

using namespace testing_cli;  // NOLINT

bool OnPath(const std::string& tool) {
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "";
  for (size_t start = 0; start <= p.size();) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    if (access((p.substr(start, end - start) + "/" + tool).c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

// Each rule writes what its job saw: the cpus and memory Slurm's variables give it, and the time
// limit scontrol reports for it. A third rule fails (exit 3): with --keep-going the other two
// still run, and the workflow ends in failure naming the broken rule.
constexpr char kSnakefile[] = R"(rule all:
    input: "big.txt", "small.txt", "never.txt"

rule big:
    output: "big.txt"
    threads: 4
    resources: mem_mb=700, runtime=7
    shell: "echo cpus=$SLURM_CPUS_PER_TASK mem=$SLURM_MEM_PER_NODE > {output}; scontrol show job $SLURM_JOB_ID | grep -o 'TimeLimit=[^ ]*' >> {output}"

rule small:
    output: "small.txt"
    threads: 1
    resources: mem_mb=100, runtime=3
    shell: "echo cpus=$SLURM_CPUS_PER_TASK mem=$SLURM_MEM_PER_NODE > {output}; scontrol show job $SLURM_JOB_ID | grep -o 'TimeLimit=[^ ]*' >> {output}"

rule broken:
    output: "never.txt"
    resources: mem_mb=100, runtime=2
    shell: "exit 3"
)";

// A --cluster-status script as users write them: the job's Slurm state from sacct.
constexpr char kStatusScript[] = R"(#!/bin/sh
state=$(sacct -j "$1" -X -n -P -o State | head -n1)
case "$state" in
  COMPLETED) echo success ;;
  PENDING|RUNNING|REQUEUED|CONFIGURING|COMPLETING|SUSPENDED|"") echo running ;;
  *) echo failed ;;
esac
)";

class WorkflowTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    // Snakemake's Slurm executor reads $USER (a login shell always has it).
    if (!std::getenv("USER")) setenv("USER", Me().c_str(), 1);
  }
  // Runs snakemake in a fresh workflow directory holding `snakefile`; at most 5 minutes.
  // Status checks as often as Snakemake allows (its --slurm default is one per 33 s).
  Out Snakemake(const std::string& name, const std::string& snakefile,
                std::vector<std::string> args) {
    const std::string wd = dir_ + "/" + name;
    std::filesystem::create_directories(wd);
    std::ofstream(wd + "/Snakefile") << snakefile;
    args.insert(args.begin(), {"timeout", "300", "snakemake", "-j", "4",
                             "--max-status-checks-per-second", "5"});
    return Exec(args, wd);
  }
  // Snakemake 7 looks at its jobs' states about every 30 s whatever the cluster, so each mode
  // runs one workflow: two good rules and a broken one at once.
  void ExpectTwoRulesRanAndOneFailed(const std::string& wd, const Out& r) {
    EXPECT_NE(r.code, 0) << r.out << r.err;
    EXPECT_NE((r.out + r.err).find("Error in rule broken"), std::string::npos) << r.out << r.err;
    EXPECT_EQ(Read(wd + "/big.txt"), "cpus=4 mem=700\nTimeLimit=00:07:00\n") << r.out << r.err;
    EXPECT_EQ(Read(wd + "/small.txt"), "cpus=1 mem=100\nTimeLimit=00:03:00\n");
    EXPECT_FALSE(std::filesystem::exists(wd + "/never.txt"));
  }
};

TEST_F(WorkflowTest, SnakemakeSlurmExecutorRunsRulesWithTheirThreadsMemoryAndRuntime) {
  if (!OnPath("snakemake")) GTEST_SKIP() << "snakemake is not installed (scripts/setup installs it)";
  Up();
  // No partition given: Snakemake finds the default one in `sinfo -o %P` (batch*) and guesses
  // the account from `sacct -nu $USER -o Account%20`; it reads states with sacct -P -n.
  auto r = Snakemake("slurm", kSnakefile, {"--slurm", "--keep-going"});
  ExpectTwoRulesRanAndOneFailed(dir_ + "/slurm", r);
  // Each rule ran as one sbatch job, logged where Snakemake asked (-o with %j).
  EXPECT_FALSE(std::filesystem::is_empty(dir_ + "/slurm/.snakemake/slurm_logs/rule_big"));
  EXPECT_NE((r.out + r.err).find("SLURM status is: 'FAILED'"), std::string::npos) << r.out;
}

TEST_F(WorkflowTest, SnakemakeClusterModeWithAnSacctStatusScript) {
  if (!OnPath("snakemake")) GTEST_SKIP() << "snakemake is not installed (scripts/setup installs it)";
  Up();
  std::filesystem::create_directories(dir_ + "/cluster/logs");
  std::ofstream(dir_ + "/cluster/status.sh") << kStatusScript;
  chmod((dir_ + "/cluster/status.sh").c_str(), 0755);
  auto r = Snakemake(
      "cluster", kSnakefile,
      {"--keep-going", "--cluster",
       "sbatch --parsable -c {threads} --mem={resources.mem_mb} -t {resources.runtime} "
       "-o logs/{rule}-%j.out",
       "--cluster-status", "./status.sh", "--cluster-cancel", "scancel"});
  ExpectTwoRulesRanAndOneFailed(dir_ + "/cluster", r);
  EXPECT_FALSE(std::filesystem::is_empty(dir_ + "/cluster/logs"));
}

}  // namespace
}  // namespace swell
