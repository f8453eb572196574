#pragma once

// Slurm's views of swell's jobs and nodes: the lines, columns, records and JSON that squeue,
// sinfo and scontrol print, computed from the head's Queue, Info and Nodes replies. The
// commands themselves (options, RPCs, exit codes) are in slurm_cmds.cc; docs/slurm.md lists
// what is supported and how it differs from Slurm.
//
// Everything here is pure apart from reading the local time zone (times print in local time,
// as Slurm's do) and the user and group databases (getpwuid/getgrgid, for group names). The
// current time is passed in.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/slurm_output.h"
#include "common/status.h"
#include "rpc/swell.pb.h"

namespace swell::cli::slurm {

// The partition of the static nodes, and of jobs that name none on a static cluster (elastic
// clusters have one partition per node type).
inline constexpr char kStaticPartition[] = "batch";

// How long a finished job stays in listings (Slurm's default MinJobAge).
inline constexpr Duration kMinJobAge = std::chrono::seconds(300);

// ---- Job states ------------------------------------------------------------------------------

// Slurm's names of a job state: compact ("PD", "R", "CD", "F", "CA", "TO", "NF") and long
// ("PENDING", ...).
std::string_view JobStateCompact(pb::JobState s);
std::string_view JobStateName(pb::JobState s);

// Parses a state list (squeue -t): comma-separated compact or long names in any case, e.g.
// "PD,r" or "pending,RUNNING". Returns long names; every state Slurm knows is accepted (those
// swell never has, like SUSPENDED, match nothing). "all" gives nullopt. An unknown name is
// InvalidArgument with the name as message.
Result<std::optional<std::set<std::string>>> ParseJobStates(std::string_view text);

// The long names of Slurm's job states, comma-separated, in Slurm's order.
std::string ValidJobStates();

// ---- squeue ----------------------------------------------------------------------------------

// One line of squeue: a job, the pending tasks of an array ("12_[3-9]"), or one array task
// ("12_3").
struct JobRow {
  const pb::JobInfo* job = nullptr;  // what the line shows (owned by the reply)
  std::string id;                    // %i
  int64_t own_id = 0;                // %A: the id a task runs as (SLURM_JOB_ID)
  std::string array_tasks;           // %K: "3", "3-9%2"; empty when not an array
  std::optional<int64_t> index;      // the array index of a one-task line
  std::vector<int64_t> indices;      // the array indices the line covers
  pb::JobState state = pb::PENDING;
  std::string reason;  // pending, failed and timed-out lines: why
  std::vector<std::string> nodes;
  int64_t start_ms = 0, end_ms = 0;
  std::string partition;
};

// The lines of a Queue reply asked with tasks and specs, sorted as squeue sorts by default:
// by partition, then compact state, then priority (highest first), then id. Arrays: their
// pending tasks form one line (one line per task with `one_per_task`, squeue -r), each running
// task has its own; a finished array is one line "ID_[indices]" with its overall state.
std::vector<JobRow> JobRows(const pb::QueueReply& reply, bool one_per_task);

// A job id as squeue -j and scancel take them: "12" (the job, every task of an array) or
// "12_3" (one task).
struct JobRef {
  int64_t id = 0;
  std::optional<int64_t> index;
  std::optional<int64_t> step;  // "ID.STEP": one job step

  bool operator==(const JobRef&) const = default;
};
// Whether a job in state `s` has ended (neither PENDING nor RUNNING).
bool Terminal(pb::JobState s);
// "ID", "ID_INDEX", and with `steps` also "ID.STEP".
Result<JobRef> ParseJobRef(std::string_view text, bool steps = false);
// Whether the line shows (part of) the job `ref` names: the job or array by its id, a task by
// its own id or by "ID_INDEX".
bool RowMatches(const JobRow& row, const JobRef& ref);
// Keeps only `indices` of an array line that covers several tasks (squeue -j 12_3,12_5 shows
// "12_[3,5]" of a pending "12_[1-9]"); a line left with one task becomes "12_3".
void NarrowRow(JobRow* row, const std::set<int64_t>& indices);

// Whether a finished line is still listed at `now` (it ended less than kMinJobAge ago).
bool Recent(const JobRow& row, Time now);

// squeue's header word for field `type`, and whether squeue knows the type at all.
bool IsJobField(char type);
FieldText JobHeader(char type);
// The value of field `type` for a line.
FieldText JobField(char type, const JobRow& row, Time now);

// squeue --json: {"jobs": [...]} with a subset of Slurm's job fields (see docs/slurm.md).
nlohmann::json JobsJson(const std::vector<JobRow>& rows);

// ---- sinfo -----------------------------------------------------------------------------------

// A node's state in Slurm's words.
struct NodeState {
  std::string compact;   // sinfo %t before lower-casing: "IDLE", "MIX", "ALLOC", "DOWN*", ...
  std::string name;      // sinfo %T before lower-casing: "IDLE", "MIXED", "ALLOCATED", ...
  std::string complete;  // scontrol State=: "IDLE", "DOWN+NOT_RESPONDING", "IDLE+POWERING_UP"
  uint32_t order = 0;    // Slurm's numeric state (base | flags): sinfo sorts by it
};
NodeState NodeStateOf(const pb::NodeInfo& node);

// One line of sinfo: nodes of one partition that print alike (with -N: one node).
struct NodeGroup {
  std::string partition;
  bool is_default = false;
  NodeState state;  // of the first node; all share it when the format shows states
  std::vector<const pb::NodeInfo*> nodes;  // owned by the reply; may be empty
};

// A node's partition as sinfo names it.
std::string PartitionOf(const pb::NodeInfo& node);

// The lines of a Nodes reply. Partitions come in order (the static one first, then the node
// types as configured); one with no nodes still has a line. Without `node_oriented`, nodes of a
// partition are grouped by state when `by_state` (the format shows %t or %T) and by reason when
// `by_reason` (%E), then ordered by state as sinfo does; with it, one line per node, by name.
std::vector<NodeGroup> NodeGroups(const pb::NodesReply& reply, bool node_oriented, bool by_state,
                                  bool by_reason);

bool IsNodeField(char type);
FieldText NodeHeader(char type);
FieldText NodeField(char type, const NodeGroup& group);

// sinfo --json: {"sinfo": [...]}, one entry per line of the default format.
nlohmann::json NodesJson(const std::vector<NodeGroup>& groups);

// ---- scontrol --------------------------------------------------------------------------------

// scontrol show job: the records of an Info reply's job in Slurm's key=value layout. A plain
// job is one record; an array gives one per task that has started and one for its pending
// tasks, or only the task `index` when given. Each record ends with a blank line; with
// `one_liner` (scontrol -o) each record is one line.
std::string ShowJob(const pb::JobInfo& job, std::optional<int64_t> index, Time now,
                    bool one_liner = false);

// scontrol show node: one node's record, ending with a blank line (one line with `one_liner`).
std::string ShowNode(const pb::NodeInfo& node, bool one_liner = false);

// ---- Helpers shared with the commands --------------------------------------------------------

// The primary group of a user id (name and gid) from the user and group databases; the number
// as text when a database does not know it.
std::pair<std::string, uint32_t> PrimaryGroup(uint32_t uid);

// Natural order of host names: "node2" before "node10".
bool HostLess(const std::string& a, const std::string& b);

// Slurm's time stamp: "YYYY-MM-DDTHH:MM:SS" in local time; 0 gives `none`.
std::string TimeStamp(int64_t ms, std::string_view none = "N/A");

}  // namespace swell::cli::slurm
