#pragma once

// sinfo's view of swell's nodes: the lines of a Nodes reply, the columns of sinfo -o and the
// JSON of sinfo --json. The command itself (options, RPCs, exit codes) is in slurm_cmds.cc;
// docs/slurm.md lists what is supported and how it differs from Slurm. All functions are pure
// and thread-safe.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/slurm_fields.h"
#include "common/slurm_output.h"
#include "rpc/swell.pb.h"

namespace swell::cli::slurm {

// One line of sinfo: nodes of one partition that print alike (with -N: one node).
struct NodeGroup {
  std::string partition;
  bool is_default = false;
  NodeState state;  // of the first node; all share it when the format shows states
  std::vector<const pb::NodeInfo*> nodes;  // owned by the reply; may be empty
};

// The lines of a Nodes reply. Partitions come in order (the static one first, then the node
// types as configured); one with no nodes still has a line. Without `node_oriented`, nodes of a
// partition are grouped by state when `by_state` (the format shows %t or %T) and by reason when
// `by_reason` (%E), then ordered by state as sinfo does; with it, one line per node, by name.
std::vector<NodeGroup> NodeGroups(const pb::NodesReply& reply, bool node_oriented, bool by_state,
                                  bool by_reason);

// sinfo's header word for field `type`, and whether sinfo knows the type at all.
bool IsNodeField(char type);
FieldText NodeHeader(char type);
// The value of field `type` for a line.
FieldText NodeField(char type, const NodeGroup& group);

// sinfo --json: {"sinfo": [...]}, one entry per line of the default format.
nlohmann::json NodesJson(const std::vector<NodeGroup>& groups);

}  // namespace swell::cli::slurm
