#pragma once

// What the head and a node settle when the node registers (again): after a restart of either,
// or a lost stream, each may hold tasks the other no longer knows. Pure: it reads the head's
// jobs and leases and the node's Register message and says what to do; node_sessions.cc does it.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "head/job_model.h"
#include "rpc/swell.pb.h"

namespace swell::head {

struct Settlement {
  // Attempts the node runs or queues that the head does not hold as current there: the node
  // ends them (the head requeued, ended or moved them while the node was away).
  std::vector<pb::TaskKey> kill;
  // Tasks the node has whose cancel the head asked for (the cancel may have been lost): sent
  // again, one message per job.
  std::vector<pb::Cancel> cancels;
  // Tasks the head dispatched to the node that the node never got: (job id, position), to go
  // back to the queue.
  std::vector<std::pair<int64_t, int64_t>> lost;
};

// Each task is judged by its own node: a job of ranks has tasks on every node of its lease.
Settlement SettleRegistration(const pb::Register& reg, const std::map<int64_t, Job>& jobs,
                              const std::map<int64_t, Lease>& leases);

// The leases with a share of any unit on `node` (a multi-node job's secondary nodes too).
std::vector<int64_t> LeasesOnNode(const std::map<int64_t, Lease>& leases, const std::string& node);

}  // namespace swell::head
