#pragma once

// Slurm's names of swell's job states, as squeue, scontrol and scancel print and take them.
// All functions are pure and thread-safe.

#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common/status.h"
#include "rpc/swell.pb.h"

namespace swell::cli::slurm {

// Slurm's names of a job state: compact ("PD", "R", "CD", "F", "CA", "TO", "NF") and long
// ("PENDING", ...). A state swell does not know gives "?" and "UNKNOWN".
std::string_view JobStateCompact(pb::JobState s);
std::string_view JobStateName(pb::JobState s);

// Whether a job in state `s` has ended (neither PENDING nor RUNNING).
bool Terminal(pb::JobState s);

// Parses a state list (squeue -t): comma-separated compact or long names in any case, e.g.
// "PD,r" or "pending,RUNNING". Returns long names; every state Slurm knows is accepted (those
// swell never has, like SUSPENDED, match nothing). "all" gives nullopt. An unknown name is
// InvalidArgument with the name as message.
Result<std::optional<std::set<std::string>>> ParseJobStates(std::string_view text);

// The long names of Slurm's job states, comma-separated, in Slurm's order.
std::string ValidJobStates();

// The nodes a task held: its allocation's when that spans several, else its own node (none
// while it waits).
std::vector<std::string> TaskNodes(const pb::TaskInfo& t);

}  // namespace swell::cli::slurm
