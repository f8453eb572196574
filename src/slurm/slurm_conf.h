#pragma once

// What a Slurm cluster needs to be grown and shrunk by `swell autoscale`, generated from a
// cluster file's node types (`swell slurm-config`, docs/slurm-autoscale.md). Pure.
//
//  - the slurm.conf fragment: one Nodeset (by feature) and one partition per node type, so that
//    a dynamic node (`slurmd -Z --conf "... Feature=<type>"`) joins its type's partition with
//    no restart or reconfigure of slurmctld; MaxNodeCount for the nodes that may ever exist at
//    once; TreeWidth=65533 (Slurm's advice for dynamic nodes: no fan-out through nodes that
//    come and go); JobSubmitPlugins=lua for the routing below.
//  - job_submit.lua: a job that names no partition goes to the smallest type that fits one
//    node of it (CLIC's rule and swell's own: autoscaler::Route over reconcile::NodeRequest).
//  - the --conf line a node of a type gives its slurmd.

#include <string>
#include <vector>

#include "common/status.h"
#include "head/autoscaler/autoscaler.h"

namespace swell::slurm {

// Slurm's name of the nodeset that holds the dynamic nodes of `type`.
std::string NodesetName(const head::autoscaler::NodeType& type);

// The slurm.conf lines for `types` (in the cluster file's order). `max_nodes`: the most nodes
// that may exist at once (MaxNodeCount); 0 takes the sum of the types' max_nodes, or 1024 when
// a type has none. `source` is named in the header comment. InvalidArgument when a type's name
// or feature is not a Slurm name ([A-Za-z0-9._-], 1-63 characters) or there are no types.
Result<std::string> SlurmConfFragment(const std::vector<head::autoscaler::NodeType>& types,
                                      int max_nodes, const std::string& source);

// job_submit.lua: routes a job with no partition to the smallest type that fits one of its
// nodes (cpus of the most tasks a node gets, memory per node, gpus per node); a job no type
// fits is refused at submit with a message that says what it asked for (the partitions are
// empty at rest, so Slurm's EnforcePartLimits cannot tell).
std::string JobSubmitLua(const std::vector<head::autoscaler::NodeType>& types);

// `slurmd -Z --conf` for a node of `type`: "CPUs=.. RealMemory=.. [Gres=gpu:N] Feature=<type>".
std::string DynamicNodeConf(const head::autoscaler::NodeType& type);

}  // namespace swell::slurm
