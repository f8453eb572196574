#pragma once

// Where a job step's tasks run inside its allocation (srun in a batch script, or one relayed
// command of swell-rsh), as Slurm places them. Pure.

#include <string>
#include <vector>

#include "common/status.h"
#include "rpc/swell.pb.h"

namespace swell::head {

// The allocation the step runs in: its nodes in host-list order, the tasks each holds, and
// each node's host name.
struct StepAllocation {
  std::string job;  // the job's id as the caller named it, for messages
  std::vector<std::string> nodes;
  std::vector<int> slots;
  std::vector<std::string> hostnames;
};

struct StepPlacement {
  std::vector<std::string> nodes;  // in rank order
  std::vector<int> counts;         // tasks on each node, parallel to `nodes`
};

// A relayed command (req.relay()) runs once on the one node its host names, by node name or
// else by host name when exactly one node has it. A step runs on -N nodes (all nodes of the
// allocation by default, or as many as its tasks when it names neither -N nor -w), after -w and
// -x, with Slurm's block distribution: one task on each node, then nodes filled in order up to
// the tasks they hold in the allocation (or exactly --ntasks-per-node). InvalidArgument with
// Slurm's words ("Requested node configuration is not available", "More processors requested
// than permitted") when it cannot be placed.
Result<StepPlacement> PlaceStep(const StepAllocation& alloc, const pb::ExecRequest& req);

}  // namespace swell::head
