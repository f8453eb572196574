#pragma once

// The SPMD tests' fixture (spmd_test.cc, pmix_test.cc): a `swell up` cluster with OpenMPI told
// it may run as root, the job processes a cluster left behind, and the ring's output checked.

#include <dirent.h>

#include "cli_harness.h"

namespace swell::testing_cli {

// Processes that carry a job mark of this cluster's nodes in their environment (ranks, orted,
// hydra proxies, steps): none may outlive their job.
inline std::vector<pid_t> JobProcesses(const std::string& home) {
  std::vector<pid_t> out;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return out;
  const std::string mark = "SWELL_EXEC_JOB=";
  while (dirent* e = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end != 0 || pid <= 1) continue;
    std::string env = Read(std::string("/proc/") + e->d_name + "/environ");
    size_t at = env.find(mark);
    if (at == std::string::npos) continue;
    std::string entry = env.substr(at, env.find('\0', at) - at);
    if (entry.find(home) != std::string::npos && Alive(static_cast<pid_t>(pid)))
      out.push_back(static_cast<pid_t>(pid));
  }
  closedir(proc);
  return out;
}

// One line per hop in hop order, with the right numbers, and the summary line.
inline void ExpectRing(const std::string& out, int ranks, int rounds) {
  size_t at = 0;
  for (int hop = 1; hop <= ranks; ++hop) {
    std::string want = "hop " + std::to_string(hop) + ": rank " + std::to_string(hop % ranks) +
                       " on ";
    size_t found = out.find(want, at);
    ASSERT_NE(found, std::string::npos) << want << "\n" << out;
    std::string tail = " got token " + std::to_string(hop) + " from rank " +
                       std::to_string(hop - 1) + "\n";
    EXPECT_EQ(out.find(tail, found), out.find('\n', found) - tail.size() + 1) << out;
    at = found + 1;
  }
  EXPECT_NE(out.find("ring of " + std::to_string(ranks) + " ranks: " +
                     std::to_string(ranks * rounds) + " messages, "),
            std::string::npos)
      << out;
}

class SpmdTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    // As root (CI), OpenMPI wants to be told; the sanitizer builds must not fail on OpenMPI's
    // own leaks at exit.
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
  }
  // Polls `squeue -s -h` (up to 10 s) until it lists `step`; returns what it printed last.
  std::string WaitForStep(const std::string& step) {
    std::string out;
    for (int i = 0; i < 500 && out.find(step) == std::string::npos; ++i) {
      out = Slurm("squeue", {"-s", "-h"}).out;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return out;
  }
  // Brings the cluster up and submits `script` on 2 nodes (output to `log` in the test's
  // directory); returns its id once its step 0 runs, -1 (with a failure) if it does not.
  int64_t UpWithARunningStep(const std::string& log, const std::string& script) {
    Up();
    int64_t id = SubmitOk({"-N", "2", "-o", dir_ + "/" + log, "--wrap", script});
    std::string step = std::to_string(id) + ".0";
    std::string out = WaitForStep(step);
    EXPECT_NE(out.find(step), std::string::npos) << out;
    return out.find(step) == std::string::npos ? -1 : id;
  }
  // Waits (up to 15 s) until no process of the cluster's jobs is left; returns those left.
  std::vector<pid_t> Leftovers() {
    std::vector<pid_t> left;
    for (int i = 0; i < 300; ++i) {
      left = JobProcesses(home_);
      if (left.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (pid_t p : left) leftovers_.push_back(p);
    return left;
  }
};

}  // namespace swell::testing_cli
