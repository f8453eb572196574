#include "node/limits.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/files.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

namespace swell::node {
namespace {

bool WriteSmall(const std::string& path, const std::string& value) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size());
  close(fd);
  return ok;
}

bool HasControllers(const std::string& dir) {
  auto text = ReadFile(dir + "/cgroup.controllers");
  return text.ok() && text->find("cpu") != std::string::npos &&
         text->find("memory") != std::string::npos;
}

}  // namespace

TaskCgroup::~TaskCgroup() {
  if (procs_fd_ >= 0) close(procs_fd_);
  if (!path_.empty()) rmdir(path_.c_str());
}

void TaskCgroup::KillAll() {
  if (!path_.empty()) WriteSmall(path_ + "/cgroup.kill", "1");
}

Limits::Limits(const std::string& node_name) {
  const std::string base = "/sys/fs/cgroup";
  struct statfs fs;
  if (statfs(base.c_str(), &fs) != 0 || fs.f_type != CGROUP2_SUPER_MAGIC) {
    description_ = "rlimits: cpu time only (no cgroup v2 at /sys/fs/cgroup)";
    return;
  }
  if (!HasControllers(base) || access((base + "/cgroup.subtree_control").c_str(), W_OK) != 0) {
    description_ = "rlimits (cgroup v2 without writable cpu and memory controllers)";
    return;
  }
  std::string swell = base + "/swell";
  std::string node = swell + "/" + node_name;
  if (!MakeDirs(node).ok() || !WriteSmall(base + "/cgroup.subtree_control", "+cpu +memory") ||
      !WriteSmall(swell + "/cgroup.subtree_control", "+cpu +memory") ||
      !WriteSmall(node + "/cgroup.subtree_control", "+cpu +memory")) {
    description_ = "rlimits (could not delegate cpu and memory under " + swell + ")";
    return;
  }
  root_ = node;
  description_ = "cgroup v2 at " + node;
}

std::unique_ptr<TaskCgroup> Limits::Create(const std::string& task_name, int cpus, int64_t mem_mb) {
  if (root_.empty()) return nullptr;
  auto cg = std::make_unique<TaskCgroup>();
  std::string dir = root_ + "/" + task_name;
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return nullptr;
  cg->path_ = dir;
  if (cpus > 0 && !WriteSmall(dir + "/cpu.max", std::to_string(cpus * 100000) + " 100000"))
    return nullptr;
  if (mem_mb > 0 && !WriteSmall(dir + "/memory.max", std::to_string(mem_mb << 20))) return nullptr;
  cg->procs_fd_ = open((dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
  if (cg->procs_fd_ < 0) return nullptr;
  return cg;
}

}  // namespace swell::node
