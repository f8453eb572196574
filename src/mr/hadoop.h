#pragma once

// `--mr-mode=hadoop`: the same jobs run the way Hadoop runs them, for the CGL-MapReduce
// paper's ablation. Every iteration starts a fresh process per map task and per reduce task
// (at most `slots` at a time, as a TaskTracker's slots), each map task loads its partition from
// its file again, map outputs are sorted and spilled to files, and reduce tasks read them back.
// Nothing is slowed down on purpose: the point is to show where the time goes.

#include <memory>
#include <string>
#include <vector>

#include "mr/worker.h"
#include "swell/mr/mr.h"

namespace swell::mr {

Result<std::unique_ptr<internal::DriverJob>> OpenHadoop(
    const std::string& name, const internal::JobFactory& make, std::vector<std::string> partitions,
    const JobOptions& options, bool map_only, const std::string& program,
    const std::vector<std::string>& args, int slots, bool print_stats);

// In a task process (SWELL_MR_TASK is set): runs the one task and returns its exit code.
bool IsHadoopTask();
int RunHadoopTask(const Registry& jobs);

}  // namespace swell::mr
