// The Slurm commands as users run them: build/bin/sbatch, squeue, scancel, sinfo and scontrol
// (links to swell) against a real `swell up` cluster. The expected texts are Slurm's default
// formats (squeue(1): "%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R"; sinfo(1):
// "%#P %.5a %.10l %.6D %.6t %N" and, with -N, "%#N %.6D %#P %6t").


#include <regex>
#include <sstream>

#include "cli_harness.h"

namespace swell {
namespace {

using namespace testing_cli;  // NOLINT

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

class SlurmCliTest : public CliTest {
 protected:
  int64_t Sbatch(std::vector<std::string> args) {
    args.insert(args.begin(), "--parsable");
    auto r = Slurm("sbatch", args);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(std::regex_match(r.out, std::regex("\\d+\n"))) << r.out;
    return std::atoll(r.out.c_str());
  }
  // `squeue -h -o FORMAT ARGS...` once it prints `want` (or 30 s pass).
  std::string SqueueUntil(const std::string& format, std::vector<std::string> args,
                          const std::string& want) {
    args.insert(args.begin(), {"-h", "-o", format});
    std::string out;
    for (int i = 0; i < 1500; ++i) {
      auto r = Slurm("squeue", args);
      EXPECT_EQ(r.code, 0) << r.err;
      out = r.out;
      if (out == want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return out;
  }
};

TEST_F(SlurmCliTest, SbatchAndSqueue) {
  Up();
  auto plain = Slurm("sbatch", {"--wrap", "true"});
  EXPECT_EQ(plain.code, 0) << plain.err;
  EXPECT_TRUE(std::regex_match(plain.out, std::regex("Submitted batch job \\d+\n"))) << plain.out;
  int64_t run = Sbatch({"-o", "/dev/null", "--wrap", "sleep 60"});
  int64_t held = Sbatch({"-H", "-J", "a-long-job-name", "--wrap", "true"});
  std::string r = std::to_string(run), h = std::to_string(held);
  EXPECT_EQ(SqueueUntil("%i %t", {}, h + " PD\n" + r + " R\n"), h + " PD\n" + r + " R\n");

  // The default format: Slurm's header, then right- and left-justified columns.
  auto q = Slurm("squeue", {});
  ASSERT_EQ(q.code, 0) << q.err;
  auto lines = Lines(q.out);
  ASSERT_EQ(lines.size(), 3u) << q.out;
  EXPECT_EQ(lines[0],
            "             JOBID PARTITION     NAME     USER ST       TIME  NODES "
            "NODELIST(REASON)");
  std::string user8 = std::string(8 - std::min<size_t>(8, Me().size()), ' ') + Me().substr(0, 8);
  EXPECT_EQ(lines[1], std::string(18 - h.size(), ' ') + h + "     batch a-long-j " + user8 +
                          " PD       0:00      1 (JobHeldUser)");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(
      lines[2], m,
      std::regex(" {" + std::to_string(18 - r.size()) + "}" + r + "     batch     wrap " + user8 +
                 "  R {6,7}\\d:\\d\\d      1 (node[12])")))
      << lines[2];

  // Filters.
  EXPECT_EQ(Slurm("squeue", {"-h", "-o", "%i", "-t", "PD"}).out, h + "\n");
  EXPECT_EQ(Slurm("squeue", {"-h", "-o", "%i", "--states=running"}).out, r + "\n");
  EXPECT_EQ(Slurm("squeue", {"-h", "-o", "%i", "-t", "PD,R", "-u", Me()}).out, h + "\n" + r + "\n");
  EXPECT_EQ(Slurm("squeue", {"-h", "-o", "%i", "-u", "nobody"}).out, "");
  EXPECT_EQ(Slurm("squeue", {"-h", "-o", "%i", "-j", r}).out, r + "\n");
  EXPECT_EQ(Slurm("squeue", {"-h", "-o", "%i %N %C %D", "-j" + r}).out,
            r + " " + m[1].str() + " 1 1\n");
  // The finished job shows with -t all, with its node.
  auto all = Slurm("squeue", {"-h", "-t", "all", "-o", "%i %T %N"});
  EXPECT_NE(all.out.find(" COMPLETED node"), std::string::npos) << all.out;

  // Arrays: the pending part as ID_[...], each running task as ID_N.
  int64_t arr = Sbatch({"--array=1-4%1", "-o", "/dev/null", "--wrap", "sleep 60"});
  std::string a = std::to_string(arr);
  EXPECT_EQ(SqueueUntil("%i %t", {"-j", a}, a + "_[2-4%1] PD\n" + a + "_1 R\n"),
            a + "_[2-4%1] PD\n" + a + "_1 R\n");
  EXPECT_EQ(Slurm("squeue", {"-h", "-o", "%i", "-j", a + "_3"}).out, a + "_3\n");

  // JSON.
  auto js = Slurm("squeue", {"--json"});
  ASSERT_EQ(js.code, 0) << js.err;
  auto j = nlohmann::json::parse(js.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << js.out;
  bool found = false;
  for (const auto& job : j["jobs"]) {
    if (job["job_id"] != run) continue;
    found = true;
    EXPECT_EQ(job["name"], "wrap");
    EXPECT_EQ(job["user_name"], Me());
    EXPECT_EQ(job["job_state"], nlohmann::json::array({"RUNNING"}));
    EXPECT_EQ(job["partition"], "batch");
    EXPECT_EQ(job["nodes"], m[1].str());
  }
  EXPECT_TRUE(found) << js.out;

  // Bad input: Slurm's messages and exit code 1.
  auto bad_state = Slurm("squeue", {"-t", "bogus"});
  EXPECT_EQ(bad_state.code, 1);
  EXPECT_EQ(bad_state.err.rfind("squeue: error: Invalid job state specified: bogus\n", 0), 0u)
      << bad_state.err;
  auto bad_opt = Slurm("squeue", {"--bogus"});
  EXPECT_EQ(bad_opt.code, 1);
  EXPECT_NE(bad_opt.err.find("unrecognized option '--bogus'"), std::string::npos);
  auto unknown = Slurm("squeue", {"-j", "999999"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_EQ(unknown.err, "slurm_load_jobs error: Invalid job id specified\n");
  auto bad_fmt = Slurm("squeue", {"-h", "-o", "%i %X"});
  EXPECT_EQ(bad_fmt.code, 0);
  EXPECT_NE(bad_fmt.err.find("squeue: error: Invalid job format specification: X"),
            std::string::npos);
}

TEST_F(SlurmCliTest, Scancel) {
  Up();
  int64_t run = Sbatch({"-o", "/dev/null", "--wrap", "sleep 60"});
  int64_t arr = Sbatch({"--array=1-4%1", "-o", "/dev/null", "--wrap", "sleep 60"});
  std::string r = std::to_string(run), a = std::to_string(arr);
  SqueueUntil("%i %t", {}, a + "_[2-4%1] PD\n" + r + " R\n" + a + "_1 R\n");

  auto c = Slurm("scancel", {r});
  EXPECT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(c.err, "");
  EXPECT_EQ(SqueueUntil("%T", {"-t", "all", "-j", r}, "CANCELLED\n"), "CANCELLED\n");

  // One pending task of an array, then one running.
  EXPECT_EQ(Slurm("scancel", {a + "_2"}).code, 0);
  EXPECT_EQ(SqueueUntil("%i %t", {"-j", a}, a + "_[3-4%1] PD\n" + a + "_1 R\n"),
            a + "_[3-4%1] PD\n" + a + "_1 R\n");
  EXPECT_EQ(Slurm("scancel", {a + "_1"}).code, 0);
  EXPECT_EQ(SqueueUntil("%i %t", {"-j", a}, a + "_[4%1] PD\n" + a + "_3 R\n"),
            a + "_[4%1] PD\n" + a + "_3 R\n");

  // Unknown ids, as Slurm: ignored when given alone (reported with -v), an error when a
  // filter or signal makes scancel check them.
  auto quiet = Slurm("scancel", {"999999"});
  EXPECT_EQ(quiet.code, 0);
  EXPECT_EQ(quiet.err, "");
  auto verbose = Slurm("scancel", {"-v", "999999"});
  EXPECT_EQ(verbose.code, 0);
  EXPECT_NE(verbose.err.find(
                "scancel: error: Kill job error on job id 999999: Invalid job id specified\n"),
            std::string::npos)
      << verbose.err;
  auto checked = Slurm("scancel", {"-s", "USR1", "999999"});
  EXPECT_EQ(checked.code, 1);
  EXPECT_EQ(checked.err,
            "scancel: error: Kill job error on job id 999999: Invalid job id specified\n");
  auto bad = Slurm("scancel", {"12x"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_EQ(bad.err, "scancel: error: Invalid job id 12x\n");
  auto none = Slurm("scancel", {});
  EXPECT_EQ(none.code, 1);
  EXPECT_EQ(none.err, "scancel: error: No job identification provided\n");

  // Filters: by name and user, what is left of the array.
  auto by_name = Slurm("scancel", {"-n", "wrap", "-u", Me()});
  EXPECT_EQ(by_name.code, 0) << by_name.err;
  EXPECT_EQ(SqueueUntil("%i", {}, ""), "");
}

TEST_F(SlurmCliTest, SinfoAndScontrol) {
  Up();
  auto s = Slurm("sinfo", {});
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_EQ(s.out,
            "PARTITION AVAIL  TIMELIMIT  NODES  STATE NODELIST\n"
            "batch*       up   infinite      2   idle node[1-2]\n");
  auto n = Slurm("sinfo", {"-N"});
  ASSERT_EQ(n.code, 0) << n.err;
  EXPECT_EQ(n.out,
            "NODELIST   NODES PARTITION STATE \n"
            "node1          1    batch* idle  \n"
            "node2          1    batch* idle  \n");
  EXPECT_EQ(Slurm("sinfo", {"-h", "-o", "%P %D %c %m"}).out, "batch* 2 8 4096\n");
  auto js = nlohmann::json::parse(Slurm("sinfo", {"--json"}).out, nullptr, false);
  ASSERT_TRUE(js.is_object());
  EXPECT_EQ(js["sinfo"][0]["nodes"]["total"], 2);
  EXPECT_EQ(js["sinfo"][0]["partition"]["name"], "batch");

  int64_t run = Sbatch({"-c", "8", "-J", "busy", "-o", "/dev/null", "--wrap", "sleep 60"});
  std::string r = std::to_string(run);
  SqueueUntil("%i %t", {}, r + " R\n");
  auto busy = Slurm("sinfo", {"-h"});
  EXPECT_TRUE(busy.out ==
                  "batch*       up   infinite      1  alloc node1\n"
                  "batch*       up   infinite      1   idle node2\n" ||
              busy.out ==
                  "batch*       up   infinite      1  alloc node2\n"
                  "batch*       up   infinite      1   idle node1\n")
      << busy.out;
  auto bad = Slurm("sinfo", {"-t", "sleepy"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_EQ(bad.err.rfind("sinfo: error: Bad state string: \"sleepy\"\n", 0), 0u) << bad.err;

  auto job = Slurm("scontrol", {"show", "job", r});
  ASSERT_EQ(job.code, 0) << job.err;
  EXPECT_EQ(job.out.rfind("JobId=" + r + " JobName=busy\n   UserId=" + Me() + "(", 0), 0u)
      << job.out;
  EXPECT_NE(job.out.find("\n   JobState=RUNNING Reason=None "), std::string::npos) << job.out;
  EXPECT_NE(job.out.find("\n   NumNodes=1 NumCPUs=8 NumTasks=1 CPUs/Task=8 "), std::string::npos)
      << job.out;
  EXPECT_EQ(Slurm("scontrol", {"-o", "show", "job=" + r}).out.find('\n'),
            Slurm("scontrol", {"-o", "show", "job=" + r}).out.size() - 1);
  auto unknown = Slurm("scontrol", {"show", "job", "999999"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_EQ(unknown.err, "slurm_load_jobs error: Invalid job id specified\n");

  auto node = Slurm("scontrol", {"show", "node", "node1"});
  ASSERT_EQ(node.code, 0) << node.err;
  EXPECT_EQ(node.out.rfind("NodeName=node1 ", 0), 0u) << node.out;
  EXPECT_NE(node.out.find("\n   CPUAlloc="), std::string::npos);
  EXPECT_NE(node.out.find(" CPUTot=8 "), std::string::npos);
  EXPECT_NE(node.out.find("\n   RealMemory=4096 "), std::string::npos);
  EXPECT_EQ(Lines(Slurm("scontrol", {"show", "nodes"}).out).size(), 2 * Lines(node.out).size());
  auto missing = Slurm("scontrol", {"show", "node", "node9"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.out, "Node node9 not found\n");
  EXPECT_EQ(Slurm("scontrol", {"show", "hostnames", "node[1-2]"}).out, "node1\nnode2\n");
  auto entity = Slurm("scontrol", {"show", "bogus"});
  EXPECT_EQ(entity.code, 1);
  EXPECT_EQ(entity.err, "invalid entity:bogus for keyword:show \n");
}

TEST_F(SlurmCliTest, SbatchWaitScriptAndErrors) {
  Up();
  auto w = Slurm("sbatch", {"--wait", "-o", "/dev/null", "--wrap", "exit 3"});
  EXPECT_EQ(w.code, 3) << w.err;
  EXPECT_TRUE(std::regex_match(w.out, std::regex("Submitted batch job \\d+\n"))) << w.out;
  Script("job.sh",
         "#!/bin/bash\n#SBATCH --job-name=scripted\n#SBATCH --output=name_%j.log\n"
         "echo \"$SLURM_JOB_NAME on $SLURM_JOB_NODELIST\"\n");
  auto sub = Slurm("sbatch", {"--parsable", "--wait", "job.sh"});
  ASSERT_EQ(sub.code, 0) << sub.err;
  std::string id = sub.out.substr(0, sub.out.size() - 1);
  EXPECT_TRUE(
      std::regex_match(Read(dir_ + "/name_" + id + ".log"), std::regex("scripted on node[12]\n")))
      << Read(dir_ + "/name_" + id + ".log");
  // sbatch's errors: Slurm's message, exit 255 for a bad value (Slurm's exit(-1)).
  auto bad = Slurm("sbatch", {"--time=abc", "job.sh"});
  EXPECT_EQ(bad.code, 255);
  EXPECT_EQ(bad.err, "sbatch: error: Invalid --time specification\n");
  auto empty = Slurm("sbatch", {});  // the script from stdin, which is empty here
  EXPECT_EQ(empty.code, 1);
  EXPECT_EQ(empty.err, "sbatch: error: Batch script is empty!\n");
  auto huge = Slurm("sbatch", {"-c", "1000", "--wrap", "true"});
  EXPECT_EQ(huge.code, 1);
  EXPECT_EQ(huge.err.rfind("sbatch: error: Batch job submission failed: ", 0), 0u) << huge.err;
  // A script is bytes, not UTF-8: Latin-1 in a comment, an argument and the environment run
  // as under Slurm (protobuf's `string` refused them with an empty error, found by
  // fuzz/rpc_fuzzer).
  Script("latin1.sh", "#!/bin/bash\n# r\xe9sum\xe9 (Latin-1)\necho \"$1 $LATIN1\"\n");
  setenv("LATIN1", "na\xefve", 1);
  auto latin =
      Slurm("sbatch", {"--parsable", "--wait", "-o", "latin1.out", "latin1.sh", "caf\xe9"});
  unsetenv("LATIN1");
  ASSERT_EQ(latin.code, 0) << latin.err;
  EXPECT_EQ(Read(dir_ + "/latin1.out"), "caf\xe9 na\xefve\n");
}

// Options of real scripts beyond the counts: known, recorded and shown, or refused as Slurm
// refuses them on a cluster without the feature.
TEST_F(SlurmCliTest, OptionsOfRealScripts) {
  Up();
  Script("real.sh",
         "#!/bin/bash\n#SBATCH -A proj -q high --mail-type=END --mail-user=me@example.org\n"
         "#SBATCH --mem-per-cpu=10M -t 0 --tasks-per-node=1 --open-mode=append\n"
         "#SBATCH --signal=B:USR1@5 --mincpus=1 --gres=gpu:0 -J \"\"\necho ok\n");
  auto sub = Slurm("sbatch", {"--parsable", "-o", "/dev/null", "--wait", "real.sh"});
  ASSERT_EQ(sub.code, 0) << sub.err;
  std::string id = sub.out.substr(0, sub.out.size() - 1);
  auto show = Slurm("scontrol", {"show", "job", id});
  EXPECT_NE(show.out.find("Account=proj QOS=high"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("TimeLimit=UNLIMITED"), std::string::npos) << show.out;
  auto q = Slurm("squeue", {"-h", "-t", "all", "-j", id, "-o", "%a %q %m"});
  EXPECT_EQ(q.out, "proj high 10M\n") << q.err;
  // What Slurm's controller refuses, in each command's words.
  auto refused = [&](const std::string& cmd, std::vector<std::string> args) {
    auto r = Slurm(cmd, args);
    EXPECT_EQ(r.code, 1) << r.out;
    return r.err;
  };
  EXPECT_EQ(refused("sbatch", {"-p", "nope", "--wrap", "true"}),
            "sbatch: error: invalid partition specified: nope\n"
            "sbatch: error: Batch job submission failed: Invalid partition name specified\n");
  EXPECT_EQ(refused("sbatch", {"-C", "ssd", "--wrap", "true"}),
            "sbatch: error: Batch job submission failed: Invalid feature specification\n");
  EXPECT_EQ(refused("sbatch", {"-L", "matlab", "--wrap", "true"}),
            "sbatch: error: Batch job submission failed: Invalid license specification\n");
  EXPECT_EQ(refused("sbatch", {"--reservation=r", "--wrap", "true"}),
            "sbatch: error: Batch job submission failed: Requested reservation is invalid\n");
  EXPECT_EQ(refused("srun", {"-p", "nope", "true"}),
            "srun: error: invalid partition specified: nope\n"
            "srun: error: Unable to allocate resources: Invalid partition name specified\n");
  // Resources no node set can hold, in Slurm's words (swell's explanation is for `swell submit`).
  EXPECT_EQ(refused("sbatch", {"-c", "1000", "--wrap", "true"}),
            "sbatch: error: Batch job submission failed: More processors requested than permitted\n");
  EXPECT_EQ(refused("sbatch", {"--mem=1T", "--wrap", "true"}),
            "sbatch: error: Memory specification can not be satisfied\n"
            "sbatch: error: Batch job submission failed: Requested node configuration is not "
            "available\n");
  EXPECT_EQ(refused("sbatch", {"--gres=gpu:1", "--wrap", "true"}),
            "sbatch: error: Invalid generic resource (gres) specification\n");
  auto explained = Swell({"submit", "--mem=1T", "--wrap", "true"});
  EXPECT_NE(explained.err.find("Requested node configuration is not available (needs 1048576 MB"),
            std::string::npos)
      << explained.err;
  EXPECT_EQ(Slurm("sbatch", {"-p", "batch", "-W", "-o", "/dev/null", "--wrap", "true"}).code, 0);
  // An option no command has: getopt's words, exit 255.
  auto unknown = Slurm("sbatch", {"--bogus", "--wrap", "true"});
  EXPECT_EQ(unknown.code, 255);
  EXPECT_EQ(unknown.err, "sbatch: unrecognized option '--bogus'\nTry \"sbatch --help\" for more information\n");
  // --test-only: an estimate, and no job.
  auto test = Slurm("sbatch", {"--test-only", "-n", "2", "--wrap", "true"});
  EXPECT_EQ(test.code, 0) << test.err;
  EXPECT_EQ(test.out, "");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(
      test.err, m,
      std::regex("sbatch: Job (\\d+) to start at \\S+ using 2 processors on nodes node1 in "
                 "partition batch\n")))
      << test.err;
  EXPECT_EQ(Slurm("scontrol", {"show", "job", m[1].str()}).code, 1);
}

// -w, -x and --exclusive choose the allocation's nodes as in Slurm.
TEST_F(SlurmCliTest, NodelistExcludeAndExclusive) {
  Up();
  auto where = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--wait", "-o", "out_%j.log"});
    args.insert(args.end(),
                {"--wrap", "echo $SLURM_JOB_NODELIST $SLURM_CPUS_ON_NODE ${SLURM_NTASKS:-unset}"});
    auto r = Slurm("sbatch", args);
    EXPECT_EQ(r.code, 0) << r.err;
    std::string id = r.out.substr(r.out.rfind(' ') + 1);
    id.pop_back();
    return Read(dir_ + "/out_" + id + ".log");
  };
  EXPECT_EQ(where({"-w", "node2"}), "node2 1 unset\n");
  EXPECT_EQ(where({"-x", "node1", "-n", "3"}), "node2 3 3\n");
  // Every listed node gets a task: the node count grows to the list's length.
  EXPECT_EQ(where({"--nodelist=node[1-2]"}), "node[1-2] 1 unset\n");
  EXPECT_EQ(where({"-w", "node[1-2]", "--ntasks-per-node=2"}), "node[1-2] 2 4\n");
  Script("nodes.txt", "node2\n");
  EXPECT_EQ(where({"-w", dir_ + "/nodes.txt"}), "node2 1 unset\n");
  // --exclusive: the whole node, and never a node where other work runs.
  int64_t busy = Sbatch({"-w", "node1", "-o", "/dev/null", "--wrap", "sleep 30"});
  EXPECT_EQ(where({"--exclusive"}), "node2 8 unset\n");
  EXPECT_EQ(Slurm("scancel", {std::to_string(busy)}).code, 0);
  // scontrol shows the requests.
  int64_t shown = Sbatch({"-w", "node2", "-x", "node1", "--exclusive", "-W", "--wrap", "true"});
  auto show = Slurm("scontrol", {"show", "job", std::to_string(shown)});
  EXPECT_NE(show.out.find("ReqNodeList=node2 ExcNodeList=node1\n"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("OverSubscribe=NO "), std::string::npos) << show.out;
  // Names that are not nodes of the cluster, as Slurm refuses them.
  for (auto args : std::vector<std::vector<std::string>>{
           {"-w", "node9"}, {"-x", "nodeX"}, {"-w", "node1", "-x", "node1"}}) {
    args.insert(args.end(), {"--wrap", "true"});
    auto bad = Slurm("sbatch", args);
    EXPECT_EQ(bad.code, 1) << bad.out;
    EXPECT_EQ(bad.err.rfind("sbatch: error: Batch job submission failed: ", 0), 0u) << bad.err;
  }
  auto bad = Slurm("sbatch", {"-w", "node9", "--wrap", "true"});
  EXPECT_EQ(bad.err, "sbatch: error: Batch job submission failed: Invalid node name specified\n");
  bad = Slurm("sbatch", {"-N", "1", "-w", "node[1-2]", "--wrap", "true"});
  EXPECT_NE(bad.err.find("-w/--nodelist names 2 nodes but --nodes allows at most 1"),
            std::string::npos)
      << bad.err;
}

TEST_F(SlurmCliTest, SrunOutsideAnAllocationRunsOneProcessPerTask) {
  Up();
  auto r = Slurm("srun", {"-n", "2", "sh", "-c", "echo rank $SLURM_PROCID of $SLURM_NTASKS"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("rank 0 of 2\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rank 1 of 2\n"), std::string::npos) << r.out;
  // srun's exit code is the highest of its tasks'.
  EXPECT_EQ(Slurm("srun", {"-n", "2", "sh", "-c", "exit $((SLURM_PROCID + 3))"}).code, 4);
  // Inside an allocation that does not exist: Slurm's error and exit code.
  std::string bin = SWELL_BIN;
  auto in = Exec({"env", "SLURM_JOB_ID=777", bin.substr(0, bin.rfind('/') + 1) + "srun", "true"},
                 dir_);
  EXPECT_EQ(in.code, 1);
  EXPECT_NE(in.err.find("srun: error: Unable to create step for job 777: Invalid job id"),
            std::string::npos)
      << in.err;
}

// --signal warns before the time limit: B: the batch shell alone (its trap runs, the job ends
// well), without B: the job's srun step (not the shell). --open-mode=append keeps the output.
TEST_F(SlurmCliTest, SignalWarnsBeforeTheTimeLimitAndOpenModeAppends) {
  Up();
  Script("out.txt", "before\n");
  // A 60 s limit, warned 54 s before: the signal comes 6 s in (time for srun to start the step
  // and the step to set its trap, also under ASan, where 2 s were too few); without it the job
  // would time out.
  const int64_t shell =
      Sbatch({"-t", "1", "--signal=B:USR1@54", "--open-mode=append", "-o", dir_ + "/out.txt",
              "--wrap", "trap 'echo shell got USR1; exit 0' USR1; sleep 100 & wait"});
  const int64_t step = Sbatch(
      {"-t", "1", "--signal=USR1@54", "-o", dir_ + "/step.txt", "--wrap",
       "trap 'echo shell got USR1' USR1; "
       "srun sh -c 'trap \"echo step got USR1; exit 0\" USR1; sleep 100 & wait'; echo step ended"});
  for (int64_t id : {shell, step})
    EXPECT_EQ(WaitFor(id, [](const nlohmann::json& j) {
                return j["state"] != "PENDING" && j["state"] != "RUNNING";
              })["state"],
              "COMPLETED")
        << id;
  EXPECT_EQ(Read(dir_ + "/out.txt"), "before\nshell got USR1\n");
  EXPECT_EQ(Read(dir_ + "/step.txt"), "step got USR1\nstep ended\n");
}

// A job that ended keeps the nodes it held: its whole allocation, each node once.
TEST_F(SlurmCliTest, FinishedJobsKeepTheNodesTheyHeld) {
  Up();
  const int64_t two = Sbatch({"-N", "2", "-o", "/dev/null", "-W", "--wrap", "srun true"});
  auto run = Swell({"run", "-n", "16", "--", "true"});  // 8 cpus on each of 2 nodes
  ASSERT_EQ(run.code, 0) << run.err;
  int64_t ranks = 0;
  for (const auto& id : Lines(Slurm("squeue", {"-h", "-t", "all", "-o", "%i"}).out))
    ranks = std::max<int64_t>(ranks, std::atoll(id.c_str()));
  ASSERT_GT(ranks, two);
  for (int64_t id : {two, ranks}) {
    auto show = Slurm("scontrol", {"show", "job", std::to_string(id)});
    EXPECT_NE(show.out.find(" NodeList=node[1-2]\n"), std::string::npos) << show.out;
    EXPECT_NE(show.out.find("NumNodes=2 "), std::string::npos) << show.out;
  }
  auto acct = Slurm("sacct", {"-X", "-n", "-P", "-j", std::to_string(two) + "," +
                              std::to_string(ranks), "-o", "JobID,NNodes,NodeList"});
  EXPECT_EQ(acct.out, std::to_string(two) + "|2|node[1-2]\n" + std::to_string(ranks) +
                          "|2|node[1-2]\n")
      << acct.err;
}

// --mail-type through the cluster file's mail_prog (Slurm's MailProg): `prog -s SUBJECT USER`.
TEST_F(SlurmCliTest, MailTypeMailsThroughTheMailProgram) {
  Script("mail.sh", "#!/bin/sh\necho \"$1|$2|$3|$SLURM_JOB_MAIL_TYPE\" >> " + dir_ + "/mails\n");
  chmod((dir_ + "/mail.sh").c_str(), 0755);
  std::ofstream(dir_ + "/cluster.toml", std::ios::app) << "mail_prog = \"" << dir_ << "/mail.sh\"\n";
  Up();
  const int64_t ok = Sbatch({"-J", "m1", "--mail-type=ALL", "--mail-user=ann@example.org", "-o",
                             "/dev/null", "-W", "--wrap", "true"});
  auto failed = Slurm("sbatch", {"--parsable", "-J", "m2", "--mail-type=FAIL", "-o", "/dev/null",
                                 "-W", "--wrap", "exit 3"});
  EXPECT_EQ(failed.code, 3) << failed.err;  // -W: the job's exit code
  const int64_t bad = std::atoll(failed.out.c_str());
  Sbatch({"-J", "m3", "--mail-type=FAIL", "-o", "/dev/null", "-W", "--wrap", "true"});
  std::string mails;
  for (int i = 0; i < 100 && std::count(mails.begin(), mails.end(), '\n') < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    mails = Read(dir_ + "/mails");
  }
  const std::string id = std::to_string(ok), id2 = std::to_string(bad);
  EXPECT_TRUE(std::regex_search(
      mails, std::regex("-s\\|Slurm Job_id=" + id + " Name=m1 Began, Queued time "
                        "\\d\\d:\\d\\d:\\d\\d\\|ann@example.org\\|Began\n")))
      << mails;
  EXPECT_TRUE(std::regex_search(
      mails, std::regex("-s\\|Slurm Job_id=" + id + " Name=m1 Ended, Run time "
                        "\\d\\d:\\d\\d:\\d\\d, COMPLETED, ExitCode 0\\|ann@example.org\\|Ended\n")))
      << mails;
  EXPECT_TRUE(std::regex_search(
      mails, std::regex("-s\\|Slurm Job_id=" + id2 + " Name=m2 Failed, Run time "
                        "\\d\\d:\\d\\d:\\d\\d, FAILED, ExitCode 3\\|" + Me() + "\\|Failed\n")))
      << mails;
  EXPECT_EQ(std::count(mails.begin(), mails.end(), '\n'), 3) << "m3 completed: no FAIL mail";
}

// --deadline as Slurm 22.05 takes it: one already past is refused; a job that cannot end by
// its deadline never starts; what runs at the deadline is ended; both end DEADLINE.
TEST_F(SlurmCliTest, DeadlinesEndJobsDeadline) {
  Up();
  auto past = Slurm("sbatch", {"--deadline=now-60", "--wrap", "true"});
  EXPECT_EQ(past.code, 1);
  EXPECT_EQ(past.err, "sbatch: error: Batch job submission failed: Requested time limit is "
                      "invalid (missing or exceeds some limit)\n");
  Script("never", "");
  const int64_t too_long = Sbatch({"--deadline=now+30", "-t", "5", "-o", "/dev/null", "--wrap",
                                   "rm " + dir_ + "/never"});
  const int64_t cut = Sbatch({"--deadline=now+3", "-o", "/dev/null", "--wrap", "sleep 60"});
  for (int64_t id : {too_long, cut}) {
    auto j = WaitFor(id, [](const nlohmann::json& j) {
      return j["state"] != "PENDING" && j["state"] != "RUNNING";
    });
    EXPECT_EQ(j["state"], "DEADLINE") << id;
    auto show = Slurm("scontrol", {"show", "job", std::to_string(id)});
    EXPECT_NE(show.out.find("JobState=DEADLINE Reason=DeadLine "), std::string::npos) << show.out;
  }
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/never")) << "the job that could not make it ran";
  auto acct = Slurm("sacct", {"-X", "-n", "-P", "-j",
                              std::to_string(too_long) + "," + std::to_string(cut), "-o",
                              "JobID,State"});
  EXPECT_EQ(acct.out, std::to_string(too_long) + "|DEADLINE\n" + std::to_string(cut) +
                          "|DEADLINE\n");
}

// --kill-on-invalid-dep=yes cancels a job whose dependency can never be satisfied; without it
// the job waits with reason DependencyNeverSatisfied, as Slurm's default.
TEST_F(SlurmCliTest, KillOnInvalidDepCancelsAJobThatCanNeverRun) {
  Up();
  auto failed = Slurm("sbatch", {"--parsable", "-o", "/dev/null", "-W", "--wrap", "exit 1"});
  ASSERT_EQ(failed.code, 1) << failed.err;
  const std::string dep = "--dependency=afterok:" + failed.out.substr(0, failed.out.find('\n'));
  const int64_t killed = Sbatch({dep, "--kill-on-invalid-dep=yes", "-o", "/dev/null", "--wrap", "true"});
  const int64_t waits = Sbatch({dep, "-o", "/dev/null", "--wrap", "true"});
  EXPECT_EQ(WaitFor(killed, [](const nlohmann::json& j) { return j["state"] != "PENDING"; })["state"],
            "CANCELLED");
  auto j = WaitFor(waits, [](const nlohmann::json& j) {
    return j["reason"] == "DependencyNeverSatisfied";
  });
  EXPECT_EQ(j["state"], "PENDING");
  EXPECT_EQ(j["reason"], "DependencyNeverSatisfied");
}

}  // namespace
}  // namespace swell
