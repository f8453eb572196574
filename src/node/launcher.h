#pragma once

// Starts tasks and exec ranks. Each gets its own process group, its limits, its user and its
// output files before its first instruction runs.
//
// Why not posix_spawn: it cannot switch user, set rlimits or enter a cgroup before exec, and
// doing those after the spawn races with the program. We use the same mechanism glibc's
// posix_spawn uses, clone(CLONE_VM | CLONE_VFORK) with a small stack, and do those steps in
// the child with raw system calls only (no malloc, no locks, no glibc setxid broadcast), so a
// launch costs what posix_spawn costs. Not thread-safe: one Launcher per launching thread.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace swell::node {

struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

struct SpawnRequest {
  std::string path;               // absolute path of the program to execute
  std::vector<std::string> argv;  // argv[0] included
  std::vector<std::string> env;   // "NAME=value"
  std::string cwd = "/";
  std::string stdin_path = "/dev/null";
  std::string stdout_path = "/dev/null";
  std::string stderr_path;         // empty: same file as stdout
  bool append_output = false;      // open the output files to append (several tasks share them)
  int stdout_fd = -1;              // when set: standard output goes here (stdout_path unused)
  int stderr_fd = -1;              // when set: standard error goes here (stderr_path unused)
  std::optional<Identity> user;    // switch to this user (needs root)
  int64_t rlimit_as_bytes = 0;     // 0: unlimited
  int64_t rlimit_cpu_seconds = 0;  // 0: unlimited
  int cgroup_procs_fd = -1;        // write our pid here first (cgroup v2), -1: none
  std::string pid_env;             // when set: the environment also gets NAME=<the child's pid>
  int inherit_fd = -1;             // when set: stays open in the program (PMI_FD), at its number
};

class Launcher {
 public:
  Launcher();
  ~Launcher();
  Launcher(const Launcher&) = delete;
  Launcher& operator=(const Launcher&) = delete;

  // Starts the program; returns its pid (also its process group id). On failure nothing is
  // left running and the error names the step that failed (chdir, open output, exec...).
  Result<pid_t> Spawn(const SpawnRequest& req);

 private:
  void* stack_ = nullptr;
  size_t stack_size_ = 0;
};

// Searches `name` in the PATH given (colon separated) unless it contains a slash. Returns the
// absolute path of an executable regular file.
Result<std::string> FindProgram(const std::string& name, const std::string& path_env,
                                const std::string& cwd);

}  // namespace swell::node
