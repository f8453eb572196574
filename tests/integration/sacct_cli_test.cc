// sacct through its link next to swell, against a real `swell up` cluster: a job, a failing job,
// a job with an srun step and an array, listed as Slurm's sacct lists them, before and after
// the head is killed with SIGKILL and started again.

#include <signal.h>

#include <regex>
#include <sstream>

#include "cli_harness.h"

namespace swell {
namespace {

using namespace testing_cli;  // NOLINT

class SacctCliTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    // As docs/slurm.md says: build/bin on the PATH, ahead of any other Slurm's commands (jobs
    // inherit it, so their srun is swell's).
    std::string bin = SWELL_BIN;
    const char* path = std::getenv("PATH");
    setenv("PATH", (bin.substr(0, bin.rfind('/')) + ":" + (path ? path : "")).c_str(), 1);
  }
  std::string Sbatch(std::vector<std::string> args) {
    args.insert(args.begin(), {"--parsable", "-o", "/dev/null"});
    auto r = Slurm("sbatch", args);
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }
  void WaitEnded(const std::string& id) {
    WaitFor(std::atoll(id.c_str()), [](const nlohmann::json& j) {
      return j["state"] != "PENDING" && j["state"] != "RUNNING";
    });
  }
};

TEST_F(SacctCliTest, JobsStepsFailuresAndArraysSurviveAHeadKill) {
  Up();
  const std::string ok = Sbatch({"--wrap", "true"});
  const std::string bad = Sbatch({"--wrap", "exit 3"});
  const std::string step = Sbatch({"-e", dir_ + "/step.err", "--wrap", "srun true"});
  const std::string arr = Sbatch({"--array=1-3", "--wrap", "true"});
  // Its shell holds 60 MB: its batch step's MaxRSS shows it.
  const std::string big =
      Sbatch({"--wrap", "x=$(head -c 60000000 /dev/zero | tr '\\0' a); echo ${#x}"});
  for (const auto& id : {ok, bad, step, arr, big}) WaitEnded(id);

  const std::vector<std::string> args = {"-P", "-n", "-j", ok + "," + bad + "," + step + "," + arr,
                                         "--format=JobID,State,ExitCode,Elapsed"};
  auto before = Slurm("sacct", args);
  ASSERT_EQ(before.code, 0) << before.err;
  const std::string t = "\\d\\d:\\d\\d:\\d\\d\n";
  std::string want = ok + "\\|COMPLETED\\|0:0\\|" + t + ok + "\\.batch\\|COMPLETED\\|0:0\\|" + t +
                     bad + "\\|FAILED\\|3:0\\|" + t + bad + "\\.batch\\|FAILED\\|3:0\\|" + t +
                     step + "\\|COMPLETED\\|0:0\\|" + t + step +
                     "\\.batch\\|COMPLETED\\|0:0\\|" + t + step + "\\.0\\|COMPLETED\\|0:0\\|" + t;
  for (int i = 1; i <= 3; ++i)
    want += arr + "_" + std::to_string(i) + "\\|COMPLETED\\|0:0\\|" + t + arr + "_" +
            std::to_string(i) + "\\.batch\\|COMPLETED\\|0:0\\|" + t;
  EXPECT_TRUE(std::regex_match(before.out, std::regex(want)))
      << before.out << "step's stderr: " << Read(dir_ + "/step.err");

  // An array task by its index; the step's name and ranks.
  EXPECT_EQ(Slurm("sacct", {"-X", "-P", "-n", "-j", arr + "_2", "-o", "jobid,state"}).out,
            arr + "_2|COMPLETED\n");
  EXPECT_EQ(Slurm("sacct", {"-P", "-n", "-j", step + ".0", "-o", "jobid,jobname,ntasks"}).out,
            step + "|wrap|\n" + step + ".0|true|1\n");
  auto rss = Slurm("sacct", {"-P", "-n", "-j", big, "-o", "jobid,maxrss"});
  std::smatch m;
  ASSERT_TRUE(std::regex_search(rss.out, m, std::regex("\\.batch\\|([0-9.]+)([KMG])\n")))
      << rss.out;
  const double mb = std::stod(m[1].str()) * (m[2] == "K" ? 1.0 / 1024 : m[2] == "G" ? 1024 : 1);
  EXPECT_GE(mb, 57.0) << rss.out;

  // The head dies without warning and comes back: the history is the same.
  pid_t head = std::atoi(Read(home_ + "/head.pid").c_str());
  ASSERT_GT(head, 0);
  ASSERT_EQ(kill(head, SIGKILL), 0);
  while (kill(head, 0) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  Up();
  auto after = Slurm("sacct", args);
  ASSERT_EQ(after.code, 0) << after.err;
  EXPECT_EQ(after.out, before.out);

  // Slurm's default format: its header and dashes, today's jobs of the caller.
  auto plain = Slurm("sacct", {});
  ASSERT_EQ(plain.code, 0) << plain.err;
  std::istringstream lines(plain.out);
  std::string header, dashes, first;
  std::getline(lines, header);
  std::getline(lines, dashes);
  std::getline(lines, first);
  EXPECT_EQ(header, "JobID           JobName  Partition    Account  AllocCPUS      State ExitCode ");
  EXPECT_EQ(dashes, "------------ ---------- ---------- ---------- ---------- ---------- -------- ");
  EXPECT_TRUE(std::regex_match(first, std::regex(ok + " +wrap +batch +1 +COMPLETED +0:0 ")))
      << plain.out;

  // -p ends with '|'; bad input is refused as Slurm refuses it.
  EXPECT_EQ(Slurm("sacct", {"-p", "-X", "-j", bad, "-o", "jobid,exitcode"}).out,
            "JobID|ExitCode|\n" + bad + "|3:0|\n");
  auto bad_field = Slurm("sacct", {"-o", "jobid,bogus"});
  EXPECT_EQ(bad_field.code, 1);
  EXPECT_EQ(bad_field.err, "sacct: error: Invalid field requested: \"bogus\"\n");
  auto json = nlohmann::json::parse(Slurm("sacct", {"--json", "-j", bad}).out, nullptr, false);
  ASSERT_TRUE(json.is_object());
  ASSERT_EQ(json["jobs"].size(), 1u);
  EXPECT_EQ(json["jobs"][0]["state"]["current"], "FAILED");
  EXPECT_EQ(json["jobs"][0]["exit_code"]["return_code"], 3);
}

}  // namespace
}  // namespace swell
