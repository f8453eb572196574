// The cluster as users run it: the real `swell` binary, `swell up` daemons in a private
// SWELL_HOME, real processes on this machine. Every test tears its cluster down, also when it
// fails, and kills the job processes it left behind.

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <regex>
#include <set>
#include <sstream>

#include "cli_harness.h"

namespace swell {
namespace {

using namespace testing_cli;  // NOLINT

// Under ThreadSanitizer every job start is a fork of a huge process (see launcher.cc): the
// big array shrinks there so that the suite stays within minutes.
#if defined(__SANITIZE_THREAD__)
constexpr int kBigArray = 200;
#else
constexpr int kBigArray = 2000;
#endif

TEST_F(CliTest, SbatchArrayWithPatternsEnvironmentAndDependency) {
  Up();
  Script("sweep.sh", R"(#!/bin/bash
#SBATCH -J sweep
#SBATCH --array=1-100%10
#SBATCH --time=00:05:00
#SBATCH --mem=100M
#SBATCH -o out/%x-%A_%a.out
echo "$SLURM_JOB_ID $SLURM_JOB_NAME $SLURM_ARRAY_JOB_ID $SLURM_ARRAY_TASK_ID $SLURM_ARRAY_TASK_MIN $SLURM_ARRAY_TASK_MAX $SLURM_ARRAY_TASK_COUNT $SLURM_ARRAY_TASK_STEP ${SLURM_NTASKS:-unset} ${SLURM_CPUS_PER_TASK:-unset} $SLURM_MEM_PER_NODE $SLURM_SUBMIT_DIR $SLURMD_NODENAME"
echo "nodelist=$SLURM_JOB_NODELIST host=$SLURM_SUBMIT_HOST"
date +%s%N
)");
  std::filesystem::create_directory(dir_ + "/out");
  auto sub = Swell({"submit", "sweep.sh"});
  ASSERT_EQ(sub.code, 0) << sub.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(sub.out, m, std::regex("Submitted batch job (\\d+)"))) << sub.out;
  int64_t id = std::stoll(m[1]);
  int64_t after = SubmitOk({"--dependency=afterok:" + std::to_string(id), "-o", "after.out",
                            "--wrap", "date +%s%N; ls out | wc -l"});
  auto w = Swell({"wait", std::to_string(id), std::to_string(after)});
  ASSERT_EQ(w.code, 0) << w.err;
  int64_t last_end = 0;
  for (int i = 1; i <= 100; ++i) {
    std::string path = dir_ + "/out/sweep-" + std::to_string(id) + "_" + std::to_string(i) + ".out";
    std::istringstream f(Read(path));
    std::string job_id, name, array_id, task, lo, hi, count, step, ntasks, cpt, mem, submit_dir,
        node;
    f >> job_id >> name >> array_id >> task >> lo >> hi >> count >> step >> ntasks >> cpt >> mem >>
        submit_dir >> node;
    ASSERT_EQ(task, std::to_string(i)) << path;
    EXPECT_EQ(job_id, std::to_string(id + i - 1));
    EXPECT_EQ(name, "sweep");
    EXPECT_EQ(array_id, std::to_string(id));
    EXPECT_EQ(lo + " " + hi + " " + count + " " + step, "1 100 100 1");
    EXPECT_EQ(ntasks + " " + cpt + " " + mem, "unset unset 100");  // no -n, no -c
    EXPECT_EQ(submit_dir, dir_);
    EXPECT_TRUE(node == "node1" || node == "node2") << node;
    std::string line;
    std::getline(f, line);
    std::getline(f, line);
    EXPECT_EQ(line.rfind("nodelist=" + node + " host=", 0), 0u) << line;
    int64_t end = 0;
    f >> end;
    last_end = std::max(last_end, end);
  }
  std::istringstream a(Read(dir_ + "/after.out"));
  int64_t start = 0, files = 0;
  a >> start >> files;
  EXPECT_EQ(files, 100);
  EXPECT_GT(start, last_end) << "the dependent job started before the array ended";
  auto q = Queue();
  ASSERT_EQ(q["jobs"].size(), 2u);
  EXPECT_EQ(q["jobs"][0]["state"], "COMPLETED");
  EXPECT_EQ(q["jobs"][1]["state"], "COMPLETED");
}

TEST_F(CliTest, RunStreamsOutputAndExitsWithTheJobsCode) {
  Up();
  auto r = Swell({"run", "--", "sh", "-c", "echo to-out; echo to-err >&2; exit 7"});
  EXPECT_EQ(r.code, 7);
  EXPECT_EQ(r.out, "to-out\n");
  EXPECT_EQ(r.err, "to-err\n");
  auto t = Swell({"run", "-t", "0:01", "--", "sleep", "30"});
  EXPECT_NE(t.code, 0);
  EXPECT_NE(t.err.find("TIMEOUT"), std::string::npos) << t.err;
}

TEST_F(CliTest, ExportLogsAndListings) {
  Up();
  setenv("SWELL_TEST_VAR", "from-submitter", 1);
  int64_t all = SubmitOk({"-J", "exp-all", "--wrap", "echo \"${SWELL_TEST_VAR:-unset}\""});
  int64_t none = SubmitOk({"--export=FOO=bar", "-e", "err-%j.txt", "--wrap",
                           "echo \"${FOO}-${SWELL_TEST_VAR:-unset}\"; echo oops >&2"});
  unsetenv("SWELL_TEST_VAR");
  ASSERT_EQ(Swell({"wait", std::to_string(all), std::to_string(none)}).code, 0);
  auto l1 = Swell({"logs", std::to_string(all)});
  EXPECT_EQ(l1.code, 0) << l1.err;
  EXPECT_EQ(l1.out, "from-submitter\n");
  EXPECT_EQ(Swell({"logs", std::to_string(none)}).out, "bar-unset\n");
  EXPECT_EQ(Swell({"logs", "-e", std::to_string(none)}).out, "oops\n");
  EXPECT_EQ(Read(dir_ + "/err-" + std::to_string(none) + ".txt"), "oops\n");
  // Listings in both forms.
  auto q = Swell({"queue", "--all"});
  EXPECT_NE(q.out.find("exp-all"), std::string::npos) << q.out;
  EXPECT_NE(q.out.find("CD"), std::string::npos) << q.out;
  auto n = nlohmann::json::parse(Swell({"nodes", "--json"}).out, nullptr, false);
  ASSERT_TRUE(n.is_object());
  EXPECT_EQ(n["nodes"].size(), 2u);
  EXPECT_EQ(n["nodes"][0]["cpus"], 8);
  auto info = Swell({"info", std::to_string(all)});
  EXPECT_NE(info.out.find("JobState=COMPLETED"), std::string::npos) << info.out;
}

TEST_F(CliTest, BadInputIsRefusedAndNothingIsWritten) {
  Up();
  Script("ok.sh", "#!/bin/sh\ntrue\n");
  Script("noshebang.sh", "echo hi\n");
  Script("baddirective.sh", "#!/bin/sh\n#SBATCH --time=1:xx\ntrue\n");
  struct Case {
    std::vector<std::string> args;
    std::string message;
  } cases[] = {
      {{"submit", "missing.sh"}, "cannot read script"},
      {{"submit", "noshebang.sh"}, "#!"},
      {{"submit", "baddirective.sh"}, "Invalid --time specification"},
      {{"submit", "--time=abc", "ok.sh"}, "Invalid --time specification"},
      {{"submit", "--array=5-1", "ok.sh"}, "Invalid job array specification"},
      {{"submit", "-n", "0", "ok.sh"}, "ntasks"},
      {{"submit", "-c", "-2", "ok.sh"}, "cpus-per-task"},
      {{"submit", "--no-such-option", "ok.sh"}, "no-such-option"},
      {{"submit", "-c", "1000", "ok.sh"}, "cpus"},
      {{"submit", "--mem=100T", "ok.sh"}, "memory"},
      {{"submit", "--deadline=now-60", "ok.sh"}, "Requested time limit is invalid"},
      {{"submit", "--dependency=sometime:1", "ok.sh"}, "Job dependency problem"},
      {{"cancel", "abc"}, "abc"},
      {{"info", "99999"}, "99999"},
  };
  for (const auto& c : cases) {
    auto r = Swell(c.args);
    EXPECT_NE(r.code, 0) << c.args[1];
    EXPECT_NE(r.err.find(c.message), std::string::npos) << "for " << c.args[1] << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_EQ(Queue()["jobs"].size(), 0u);
  EXPECT_EQ(SubmitOk({"ok.sh"}), 1) << "a refused submit used up a job id";
}

TEST_F(CliTest, GarbageOnTheSocketDropsOnlyThatConnection) {
  Up();
  for (int i = 0; i < 5; ++i) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, (home_ + "/head.sock").c_str());
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    std::string junk = "GET / HTTP/1.1\r\n\r\n" + std::string(1000, static_cast<char>(i * 37));
    ASSERT_GT(write(fd, junk.data(), junk.size()), 0);
    close(fd);
  }
  auto r = Swell({"nodes"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("node2"), std::string::npos);
  EXPECT_EQ(Swell({"run", "--", "true"}).code, 0);
}

TEST_F(CliTest, HeadKilledDuringA2000TaskArrayLosesNothingAndRunsNothingTwice) {
  Up();
  std::filesystem::create_directory(dir_ + "/ran");
  int64_t id = SubmitOk({"--array=1-" + std::to_string(kBigArray), "-o", "/dev/null", "--wrap",
                         "echo x >> ran/$SLURM_ARRAY_TASK_ID"});
  WaitFor(id, [](const nlohmann::json& j) { return I64(j["state_counts"][3]) >= kBigArray / 10; });
  // A user's `swell wait` started before the crash follows the head through its restart.
  pid_t head = std::atoi(Read(home_ + "/head.pid").c_str());
  ASSERT_GT(head, 0);
  Out waited;
  std::thread waiter([&] { waited = Swell({"wait", std::to_string(id)}); });
  EXPECT_EQ(kill(head, SIGKILL), 0);
  while (kill(head, 0) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // nodes run on without it
  Up();
  auto w = Swell({"wait", std::to_string(id)});
  waiter.join();
  ASSERT_EQ(w.code, 0) << w.err;
  EXPECT_EQ(waited.code, 0) << waited.err;
  auto j = InfoJson(id)["job"];
  EXPECT_EQ(j["state"], "COMPLETED");
  EXPECT_EQ(I64(j["state_counts"][3]), kBigArray);
  int twice = 0, missing = 0;
  for (int i = 1; i <= kBigArray; ++i) {
    std::string text = Read(dir_ + "/ran/" + std::to_string(i));
    if (text.empty())
      ++missing;
    else if (text != "x\n")
      ++twice;
  }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(twice, 0);
}

TEST_F(CliTest, NodeKilledMidJobFailsItOrRequeuesIt) {
  Up();
  int64_t plain = SubmitOk({"-o", "/dev/null", "--wrap", "echo $$ > plain.pid; exec sleep 60"});
  int64_t again = SubmitOk({"--requeue", "-o", "/dev/null", "--wrap",
                            "echo run >> runs; if [ ! -e first ]; then touch first; "
                            "echo $$ > again.pid; exec sleep 60; fi"});
  auto running = [](const nlohmann::json& j) { return j["state"] == "RUNNING"; };
  auto pj = WaitFor(plain, running);
  WaitFor(again, running);
  // Put both on one node, then kill that node's daemon.
  std::string node = pj["tasks"][0]["node"];
  auto aj = InfoJson(again)["job"];
  for (int i = 0;
       i < 100 && (Read(dir_ + "/plain.pid").empty() || Read(dir_ + "/again.pid").empty()); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  leftovers_.push_back(PidOf("plain.pid"));
  leftovers_.push_back(PidOf("again.pid"));
  std::set<std::string> nodes = {node, aj["tasks"][0]["node"].get<std::string>()};
  for (const auto& n : nodes) {
    pid_t daemon = std::atoi(Read(home_ + "/nodes/" + n + "/pid").c_str());
    ASSERT_GT(daemon, 0);
    kill(daemon, SIGKILL);
  }
  auto pf = WaitFor(plain, [](const nlohmann::json& j) { return j["state"] == "NODE_FAIL"; });
  EXPECT_EQ(pf["state"], "NODE_FAIL");
  // The requeued job comes back once a node is up again; the new daemons end what the
  // killed ones left running.
  Up();
  for (pid_t pid : leftovers_) {
    for (int i = 0; i < 100 && Alive(pid); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_FALSE(Alive(pid)) << "task " << pid << " of the killed node still runs";
  }
  auto w = Swell({"wait", std::to_string(again)});
  EXPECT_EQ(w.code, 0) << w.err;
  auto af = InfoJson(again)["job"];
  EXPECT_EQ(af["state"], "COMPLETED");
  EXPECT_EQ(af["restarts"], 1);
  EXPECT_EQ(Read(dir_ + "/runs"), "run\nrun\n");
}

TEST_F(CliTest, ANodeThatWasOnlyStalledComesBackAndEndsItsStaleTasks) {
  Up();
  int64_t id = SubmitOk({"-o", "/dev/null", "--wrap", "echo $$ > stale.pid; exec sleep 60"});
  auto j = WaitFor(id, [](const nlohmann::json& j) { return j["state"] == "RUNNING"; });
  std::string node = j["tasks"][0]["node"];
  for (int i = 0; i < 100 && Read(dir_ + "/stale.pid").empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  pid_t task = PidOf("stale.pid");
  ASSERT_GT(task, 0);
  leftovers_.push_back(task);
  pid_t daemon = std::atoi(Read(home_ + "/nodes/" + node + "/pid").c_str());
  ASSERT_GT(daemon, 0);
  // Freeze the node daemon past node_timeout (2 s): the head gives its job up...
  kill(daemon, SIGSTOP);
  auto failed = WaitFor(id, [](const nlohmann::json& j) { return j["state"] == "NODE_FAIL"; });
  kill(daemon, SIGCONT);
  EXPECT_EQ(failed["state"], "NODE_FAIL");
  // ...and when the node wakes up it registers again and ends the task nobody wants.
  for (int i = 0; i < 250 && Alive(task); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(Alive(task)) << "the stale task still runs";
  bool up = false;
  for (int i = 0; i < 250 && !up; ++i) {
    auto n = nlohmann::json::parse(Swell({"nodes", "--json"}).out, nullptr, false);
    up = true;
    for (auto& x : n["nodes"]) up = up && x["state"] != "DOWN";
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(up) << "the node stayed DOWN";
  EXPECT_EQ(Swell({"run", "--", "true"}).code, 0);
}

TEST_F(CliTest, UpAgainRepairsWhatCrashedAndKeepsTheQueue) {
  Up();
  int64_t held = SubmitOk({"--hold", "--wrap", "true"});
  pid_t node1 = std::atoi(Read(home_ + "/nodes/node1/pid").c_str());
  pid_t head = std::atoi(Read(home_ + "/head.pid").c_str());
  kill(node1, SIGKILL);
  kill(head, SIGKILL);
  for (int i = 0; i < 100 && (kill(node1, 0) == 0 || kill(head, 0) == 0); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Up();
  auto nodes = Swell({"nodes", "--json"});
  auto j = nlohmann::json::parse(nodes.out);
  ASSERT_EQ(j["nodes"].size(), 2u);
  for (auto& n : j["nodes"]) EXPECT_NE(n["state"], "DOWN");
  EXPECT_EQ(InfoJson(held)["job"]["reason"], "JobHeldUser");
  EXPECT_EQ(SubmitOk({"--wrap", "true"}), held + 1);
}

TEST_F(CliTest, JobsRunAsTheSubmittingUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: the daemons must run as root to switch users";
  Up();
  std::string work = dir_ + "/nobody";
  std::filesystem::create_directory(work);
  chmod(work.c_str(), 0777);
  auto as_nobody = [&](std::vector<std::string> args) {
    args.insert(args.begin(),
                {"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", SWELL_BIN});
    return Exec(args, work);
  };
  auto sub = as_nobody({"submit", "--parsable", "-o", "who.out", "--wrap", "id -u; id -g"});
  ASSERT_EQ(sub.code, 0) << sub.err;
  int64_t id = std::atoll(sub.out.c_str());
  ASSERT_EQ(Swell({"wait", std::to_string(id)}).code, 0);
  EXPECT_EQ(Read(work + "/who.out"), "65534\n65534\n");
  struct stat st;
  ASSERT_EQ(stat((work + "/who.out").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  // nobody may not cancel root's job; root may cancel anyone's.
  int64_t mine = SubmitOk({"--hold", "--wrap", "true"});
  auto denied = as_nobody({"cancel", std::to_string(mine)});
  EXPECT_NE(denied.code, 0);
  EXPECT_NE(denied.err.find("belongs to"), std::string::npos) << denied.err;
  auto theirs = as_nobody({"submit", "--parsable", "--hold", "--wrap", "true"});
  ASSERT_EQ(theirs.code, 0) << theirs.err;
  EXPECT_EQ(Swell({"cancel", std::to_string(std::atoll(theirs.out.c_str()))}).code, 0);
}

// The issue's live check: examples/clusters/local-elastic.toml starts with no nodes; twenty
// queued `sleep 2` jobs make the autoscaler create local node daemons; once the queue has
// drained and the idle rule has passed, the cluster is back to zero nodes and no node daemon
// runs.
TEST_F(CliTest, LocalElasticGrowsFromZeroAndReturnsToZero) {
  auto up = Swell(
      {"up", "--config", std::string(SWELL_SOURCE_DIR) + "/examples/clusters/local-elastic.toml"});
  ASSERT_EQ(up.code, 0) << up.err;
  auto nodes = [&] {
    auto j = nlohmann::json::parse(Swell({"nodes", "--json"}).out, nullptr, false);
    return j.is_discarded() ? nlohmann::json::array() : j["nodes"];
  };
  EXPECT_EQ(nodes().size(), 0u);
  std::vector<int64_t> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(SubmitOk({"-o", "/dev/null", "--wrap", "sleep 2"}));
  // A job no node type can hold is refused at once, naming the largest type.
  auto big = Swell({"submit", "-c", "64", "--wrap", "true"});
  EXPECT_NE(big.code, 0);
  EXPECT_NE(big.err.find("the largest is large (2 cpus"), std::string::npos) << big.err;
  size_t most = 0;
  std::set<std::string> seen;
  for (int i = 0; i < 600; ++i) {
    auto n = nodes();
    most = std::max(most, n.size());
    for (const auto& e : n) {
      seen.insert(e["name"].get<std::string>());
      EXPECT_EQ(e["partition"], "small");
    }
    auto q = nlohmann::json::parse(Swell({"queue", "--json"}).out, nullptr, false);
    if (!q.is_discarded() && q["jobs"].empty()) break;  // nothing pending or running
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_LE(most, 4u);  // max_nodes = 4
  for (auto id : ids) EXPECT_EQ(InfoJson(id)["job"]["state"], "COMPLETED") << id;
  // What the head counted (the polls above may all come after the last job on a slow machine:
  // under ThreadSanitizer, with another test beside it, the twenty submissions took as long as
  // the jobs).
  auto stats = nlohmann::json::parse(Swell({"stats", "--json"}).out, nullptr, false);
  ASSERT_FALSE(stats.is_discarded());
  EXPECT_GT(stats["scale_ups"].get<int64_t>(), 0);
  EXPECT_GT(stats["nodes_max"].get<int64_t>(), 0);
  EXPECT_LE(stats["nodes_max"].get<int64_t>(), 4);
  // Back to zero: min_lifetime is 5 s, and the halving rule takes a few decisions.
  size_t left = 1;
  for (int i = 0; i < 600 && left > 0; ++i) {
    left = nodes().size();
    if (left > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(left, 0u);
  for (const auto& name : seen) {
    pid_t pid = std::atoi(Read(home_ + "/nodes/" + name + "/pid").c_str());
    EXPECT_TRUE(pid <= 0 || !Alive(pid)) << name << " still runs";
  }
}

// As root: netns nodes have their own IPs and hostnames, and jobs on them report those;
// `swell down` removes the namespaces and the bridge.
TEST_F(CliTest, NetnsNodesHaveTheirOwnHostnamesAndAddresses) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
  int k = 100 + getpid() % 100;
  std::string bridge = "swcli" + std::to_string(k), prefix = "swc" + std::to_string(k) + "-";
  std::ofstream(dir_ + "/netns.toml")
      << "[cluster]\nnodes = 0\nkill_wait_s = 1\n[provider]\nkind = \"netns\"\nsubnet = \"10.215."
      << k << ".0/24\"\nbridge = \"" << bridge << "\"\nprefix = \"" << prefix
      << "\"\n[autoscaler]\npolicy = \"clic\"\nmin_lifetime_s = 600\ninterval_s = 0.2\n"
         "[[node_type]]\nname = \"small\"\ncpus = 1\nmemory_mb = 512\nmax_nodes = 2\n";
  auto up = Swell({"up", "--config", dir_ + "/netns.toml"});
  ASSERT_EQ(up.code, 0) << up.err;
  std::vector<int64_t> ids;
  for (int i = 0; i < 2; ++i)
    ids.push_back(SubmitOk({"-o", dir_ + "/ns-%j.out", "--wrap",
                            "sleep 1; echo $(hostname) $(ip -4 -o addr show eth0 | "
                            "awk '{print $4}')"}));
  EXPECT_EQ(Swell({"wait", std::to_string(ids[0]), std::to_string(ids[1])}).code, 0);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  for (auto id : ids) {
    std::string out = Read(dir_ + "/ns-" + std::to_string(id) + ".out");
    auto node = InfoJson(id)["job"]["tasks"][0]["node"].get<std::string>();
    EXPECT_EQ(out.rfind(node + " 10.215." + std::to_string(k) + ".", 0), 0u) << out;
    EXPECT_EQ(out.find(host), std::string::npos) << out;
  }
  EXPECT_EQ(Swell({"down"}).code, 0);
  auto ns = Exec({"ip", "netns", "list"}, dir_);
  EXPECT_EQ(ns.out.find(prefix), std::string::npos) << ns.out;
  EXPECT_NE(Exec({"ip", "link", "show", bridge}, dir_).code, 0) << "the bridge is still there";
}

}  // namespace
}  // namespace swell

namespace swell::testing_cli {
namespace {

// The state directory on a full filesystem (a 96 MB tmpfs, root only): submissions are refused
// with a message that says why while less than the head's 64 MB margin is free, nothing queued
// before is lost, and submissions are taken again once there is room.
TEST_F(CliTest, AFullDiskRefusesSubmissionsUntilThereIsRoom) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs for SWELL_HOME needs root";
  ASSERT_EQ(mkdir(home_.c_str(), 0700), 0);
  auto mounted = Exec({"mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", home_});
  if (mounted.code != 0) GTEST_SKIP() << "cannot mount a tmpfs here: " << mounted.err;
  struct Unmount {
    std::string dir;
    ~Unmount() {
      Exec({SWELL_BIN, "down"});
      Exec({"umount", "-l", dir});
    }
  } unmount{home_};
  Up();
  int64_t before = SubmitOk({"--hold", "--wrap", "echo before"});
  ASSERT_EQ(Exec({"fallocate", "-l", "48M", home_ + "/filler"}).code, 0);
  auto refused = Swell({"submit", "--wrap", "echo during"});
  EXPECT_NE(refused.code, 0);
  EXPECT_NE(refused.err.find("MB free"), std::string::npos) << refused.err;
  auto sbatch = Slurm("sbatch", {"--wrap", "echo during"});
  EXPECT_NE(sbatch.code, 0);
  EXPECT_NE(sbatch.err.find("sbatch: error: Batch job submission failed"), std::string::npos)
      << sbatch.err;
  EXPECT_EQ(InfoJson(before)["job"]["state"], "PENDING") << "the queue kept what it had";
  ASSERT_EQ(unlink((home_ + "/filler").c_str()), 0);
  int64_t after = SubmitOk({"--wrap", "echo after"});
  EXPECT_EQ(
      WaitFor(after, [](const nlohmann::json& j) { return j["state"] == "COMPLETED"; })["state"],
      "COMPLETED");
  auto release = Slurm("scontrol", {"release", std::to_string(before)});
  EXPECT_EQ(release.code, 0) << release.err;
  EXPECT_EQ(
      WaitFor(before, [](const nlohmann::json& j) { return j["state"] == "COMPLETED"; })["state"],
      "COMPLETED");
}

// An elastic cluster's machines go with it: `swell down` deletes what its provider still lists,
// here a machine that never boots (bench/faulty-provider, every create a boot that hangs; the
// head's boot timeout is far away), which no pid file of swell's names.
TEST_F(CliTest, DownDeletesTheMachinesItsProviderStillLists) {
  const std::string fp = std::string(SWELL_SOURCE_DIR) + "/bench/faulty-provider";
  setenv("SWELL_FAULT_LOG", (dir_ + "/faults.log").c_str(), 1);
  for (const char* v :
       {"SWELL_FAULT_QUOTA", "SWELL_FAULT_CREATE_HANG", "SWELL_FAULT_DELETE", "SWELL_FAULT_LIST"})
    setenv(v, "0", 1);
  setenv("SWELL_FAULT_BOOT_HANG", "100", 1);
  std::ofstream(dir_ + "/cluster.toml")
      << "[cluster]\nnodes = 0\n[provider]\nkind = \"command\"\ncreate = \"" << fp
      << "/create\"\ndelete = \"" << fp << "/delete\"\nlist = \"" << fp
      << "/list\"\ntimeout_s = 10\n[autoscaler]\npolicy = \"greedy\"\nboot_timeout_s = 600\n"
         "max_nodes = 1\ninterval_s = 0.2\n[[node_type]]\nname = \"small\"\ncpus = 1\n"
         "memory_mb = 512\n";
  Up();
  SubmitOk({"--wrap", "true"});
  std::string listed;
  for (int i = 0; i < 500 && listed.empty(); ++i) {
    listed = Exec({fp + "/list"}).out;
    if (listed.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(listed, "small-1\n") << Read(home_ + "/head.log");
  auto down = Swell({"down"});
  EXPECT_EQ(down.code, 0) << down.err;
  EXPECT_EQ(Exec({fp + "/list"}).out, "") << "a machine outlived its cluster";
  for (const char* v : {"SWELL_FAULT_LOG", "SWELL_FAULT_QUOTA", "SWELL_FAULT_CREATE_HANG",
                        "SWELL_FAULT_DELETE", "SWELL_FAULT_LIST", "SWELL_FAULT_BOOT_HANG"})
    unsetenv(v);
}

}  // namespace
}  // namespace swell::testing_cli
