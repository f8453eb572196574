#pragma once

// squeue's view of swell's jobs: the lines of a Queue reply, the job ids squeue -j and scancel
// take, the columns of squeue -o and the JSON of squeue --json. The command itself (options,
// RPCs, exit codes) is in slurm_cmds.cc; docs/slurm.md lists what is supported and how it
// differs from Slurm.
//
// Everything here is pure apart from reading the local time zone (times print in local time,
// as Slurm's do) and the user and group databases (for group names). The current time is
// passed in.

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

// How long a finished job stays in listings (Slurm's default MinJobAge).
inline constexpr Duration kMinJobAge = std::chrono::seconds(300);

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

}  // namespace swell::cli::slurm
