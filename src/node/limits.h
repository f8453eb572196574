#pragma once

// Resource limits for tasks: cgroup v2 where the machine offers a writable cgroup2 tree
// with the cpu and memory controllers, rlimits otherwise.

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace swell::node {

// One task attempt's cgroup; removed (after its processes are gone) when destroyed.
class TaskCgroup {
 public:
  ~TaskCgroup();
  int procs_fd() const { return procs_fd_; }
  const std::string& path() const { return path_; }
  // Kills every process left in the cgroup (cgroup.kill) — used when the task ends.
  void KillAll();

 private:
  friend class Limits;
  std::string path_;
  int procs_fd_ = -1;
};

class Limits {
 public:
  // Probes the machine. `node_name` names this node's subtree. Never fails: without cgroup v2
  // it uses rlimits.
  explicit Limits(const std::string& node_name);
  bool cgroups() const { return !root_.empty(); }
  const std::string& description() const { return description_; }

  // A cgroup limited to `cpus` cpus and `mem_mb` MB (0 = no limit), or nullptr when cgroups
  // are unavailable or creating it failed (then the caller uses rlimits).
  std::unique_ptr<TaskCgroup> Create(const std::string& task_name, int cpus, int64_t mem_mb);

 private:
  std::string root_;  // this node's cgroup directory, empty without cgroups
  std::string description_;
};

}  // namespace swell::node
