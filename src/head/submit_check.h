#pragma once

// What the head checks of a submitted job before it queues it, as a pure function: Slurm's
// defaults filled in and Slurm's refusals for what this cluster could never run.

#include <functional>
#include <map>
#include <tuple>
#include <string>
#include <vector>

#include "common/status.h"
#include "head/autoscaler/autoscaler.h"
#include "head/scheduler/scheduler.h"
#include "rpc/swell.pb.h"

namespace swell::head {

// A node the cluster knows now.
struct KnownNode {
  std::string name;
  std::string node_type;  // "" for a static node
  scheduler::Resources total;
};

struct SubmitCluster {
  std::vector<KnownNode> nodes;
  // An elastic cluster's node types (jobs must fit one of them; nodes come and go); null for
  // a static cluster (jobs must fit its nodes).
  const std::vector<autoscaler::NodeType>* types = nullptr;
  // Whether a job a dependency names ("123" or "123_4") exists.
  std::function<bool(const std::string& ref)> job_exists;
  // What CheckSubmit found of each shape (-n -c --mem --gpus -N --exclusive) not bound to
  // named nodes on these nodes: a thousand nodes cost ~100 us a submission to check again.
  mutable std::map<std::tuple<int, int, int64_t, int, int, int, bool>, Status> feasible;
};

// Fills in what Slurm fills in (-N without -n: one task per node; -w: at least as many nodes as
// it names; at least one node, task and cpu per task; an elastic job bound to named nodes takes
// their partition) and checks the job. InvalidArgument, with a message saying why, for: nothing
// to run, negative resources, counts past slurm_refusal::kMaxJobCpus, a bad node range, array indices out of order, a relative working
// directory, node names this cluster does not know (Slurm's "invalid node name specified"),
// an unknown partition, resources no node (or node type) could ever hold, an unknown
// dependency type or a dependency on a job that does not exist. `spec` may be changed also
// when the check fails.
Status CheckSubmit(pb::JobSpec* spec, const SubmitCluster& cluster);

}  // namespace swell::head
