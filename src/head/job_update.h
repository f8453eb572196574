#pragma once

// scontrol's job control as pure rules on a job's model: who may change a job, which fields a
// job in a given state may change (Slurm's rules: most only while it is pending), and a requeue
// (the job goes back to the queue whole, each task as its next attempt). The head
// (job_control.cc) loads what these need, applies their result and sends the cancels.
//
// Refusals are Slurm's words (its slurm_strerror texts, in common/slurm_refusal.h), which
// scontrol prints as "<words> for job <id>".
//
// No I/O, no clock: unit-tested on plain Jobs.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/slurm_refusal.h"
#include "head/job_lifecycle.h"
#include "head/job_model.h"
#include "rpc/swell.pb.h"

namespace swell::head::control {

// Who asks: the job's owner, root, or someone else.
struct Asker {
  uint32_t uid = 0;
  bool Privileged() const { return uid == 0; }
};

// Whether `asker` may act on a job of `owner` (Slurm: the owner, an operator or root).
bool MayControl(const Asker& asker, uint32_t owner);

// The job's state as the rules see it: an array still has pending tasks while it runs.
struct JobStatus {
  pb::JobState state = pb::PENDING;
  bool has_pending = false;  // some task waits to be dispatched (pending to the user)
};

// scontrol hold / release. Empty when done (the spec's hold changed as asked), else why not.
std::string Hold(pb::JobSpec* spec, const JobStatus& job, bool hold);

// scontrol update: `update` applied to `spec` and `name` all at once, or nothing changed and
// the first refusal returned. `partition_ok` says whether a partition may be named,
// `job_exists` whether a dependency's job ("12" or "12_3") exists.
// Slurm's rules: a finished job changes nothing; Partition, NumCPUs, Dependency and StartTime
// only while pending; TimeLimit while pending or running, raised only by a privileged asker
// unless the job is pending; a negative Nice only by a privileged asker.
std::string Update(pb::JobSpec* spec, std::string* name, const JobStatus& job,
                   const pb::JobUpdate& update, const Asker& asker, int64_t now_ms,
                   const std::function<bool(const std::string&)>& partition_ok,
                   const std::function<bool(const std::string&)>& job_exists);

// Whether a job may be requeued: a batch job that asks for requeue and is not (all) pending.
std::string CheckRequeue(const pb::JobSpec& spec, const JobStatus& job);

// A finished job's model rebuilt from its row and spec, with no task live or queued: what
// RequeueWhole() then sends back to the queue.
Job Reopened(const state::JobRow& row, const pb::JobSpec& spec);

// The job goes back to the queue whole: every task runs again, as its next attempt (a task
// queued keeps its attempt; one never dispatched starts at 0), in position order, and the
// job's start, end and exit code are cleared; its restart count grows by one. `rows` are the
// job's stored task rows (the attempts of tasks that ended). Returns the live tasks, which the
// caller cancels on their nodes (their leases must be dropped first).
std::vector<Task> RequeueWhole(Job& job, const std::vector<state::TaskRow>& rows, int64_t now_ms,
                               lifecycle::Changes* changes);

}  // namespace swell::head::control
