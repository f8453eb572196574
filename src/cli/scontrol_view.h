#pragma once

// scontrol's view of swell's jobs and nodes: the key=value records of scontrol show job and
// scontrol show node. The command itself (options, RPCs, exit codes) is in slurm_cmds.cc;
// docs/slurm.md lists what is supported and how it differs from Slurm.
//
// Everything here is pure apart from reading the local time zone (times print in local time,
// as Slurm's do) and the user and group databases (for group names). The current time is
// passed in.

#include <cstdint>
#include <optional>
#include <string>

#include "common/clock.h"
#include "rpc/swell.pb.h"

namespace swell::cli::slurm {

// scontrol show job: the records of an Info reply's job in Slurm's key=value layout. A plain
// job is one record; an array gives one per task that has started and one for its pending
// tasks, or only the task `index` when given. Each record ends with a blank line; with
// `one_liner` (scontrol -o) each record is one line.
std::string ShowJob(const pb::JobInfo& job, std::optional<int64_t> index, Time now,
                    bool one_liner = false);

// scontrol show node: one node's record, ending with a blank line (one line with `one_liner`).
std::string ShowNode(const pb::NodeInfo& node, bool one_liner = false);

}  // namespace swell::cli::slurm
