#pragma once

// What a task or a step's rank used, for accounting (sacct's MaxRSS, UserCPU, SystemCPU): from
// its cgroup (v2: memory.peak and cpu.stat cover every process of the task) where it has one,
// else from wait4's rusage of its main process (which counts the descendants it waited for).
// The parsers are pure; CgroupUsage reads the cgroup's files.

#include <sys/resource.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace swell::node {

struct Usage {
  int64_t max_rss_kb = 0;
  int64_t user_cpu_us = 0;
  int64_t sys_cpu_us = 0;

  bool operator==(const Usage&) const = default;
};

// From wait4's rusage (ru_maxrss is in KiB on Linux).
Usage FromRusage(const struct rusage& ru);

// cpu.stat's "user_usec N" and "system_usec N" lines into `u`; false when neither is there.
bool ParseCpuStat(std::string_view text, Usage* u);

// memory.peak's byte count in KiB (rounded up); nullopt when it is not a number.
std::optional<int64_t> ParseMemoryPeakKb(std::string_view text);

// The usage of the cgroup at `dir` (read before the cgroup is removed); nullopt when its files
// cannot be read. A cgroup without memory.peak (kernels before 5.19) keeps `fallback`'s memory.
std::optional<Usage> CgroupUsage(const std::string& dir, const Usage& fallback);

}  // namespace swell::node
