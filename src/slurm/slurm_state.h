#pragma once

// What `swell autoscale` reads from a running Slurm: its jobs (`squeue --json`) and its nodes
// (`sinfo --json`, Slurm 22.05's data_parser v0.0.38 fields), and how they become the reconcile
// core's input (head/reconcile/reconcile.h): the jobs that wait, and, per node, whether its
// slurmd is registered and until when its work runs. Pure.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "head/reconcile/reconcile.h"

namespace swell::slurm {

struct SlurmJob {
  int64_t id = 0;
  std::string state;      // PENDING, RUNNING, COMPLETING, ...
  std::string reason;     // state_reason: Resources, Priority, Dependency, ...
  std::string partition;  // or partitions: "small,large"
  // The node types swell's job_submit.lua found fit, smallest first ("small,large"; from the
  // admin comment "swell:small,large" it leaves); "" for a job it did not route (`-p` given).
  std::string fits;
  int node_count = 1;
  int tasks = 1;
  int cpus_per_task = 1;
  int64_t mem_per_node_mb = 0;  // --mem, or --mem-per-cpu times the cpus of one node
  int gpus_per_node = 0;
  bool exclusive = false;
  int priority = 0;
  Time submit;
  Time end;                            // running: start + time limit (Slurm's end_time)
  std::optional<Duration> time_limit;  // nullopt: none (INFINITE)
  std::vector<std::string> nodes;      // where it runs (expanded)
  std::vector<std::string> required;   // -w (expanded)
  std::vector<std::string> excluded;   // -x (expanded)
  int64_t array_job_id = 0;            // 0: not an array
  std::string array_task_string;       // pending tasks of an array, "2-6%2"
  int array_max_tasks = 0;             // the %N throttle

  // It holds its nodes now: RUNNING, COMPLETING, CONFIGURING, SUSPENDED, ... (squeue shows
  // ended jobs, COMPLETED or FAILED, for MinJobAge after they end; they hold nothing).
  bool HoldsNodes() const;
};

struct SlurmNode {
  std::string name;
  std::string state;               // idle, mixed, allocated, down, future, unknown, ...
  std::vector<std::string> flags;  // DRAIN, NOT_RESPONDING, DYNAMIC_NORM, ...
  int cpus = 0;
  int alloc_cpus = 0;
  std::string reason;

  bool HasFlag(std::string_view f) const;
  // Its slurmd is registered and answering: it can take work (drained or not).
  bool Up() const;
};

// `squeue --json` and `sinfo --json`; InvalidArgument naming what is wrong when the text is not
// their JSON, or Slurm reports errors in it.
Result<std::vector<SlurmJob>> ParseSqueueJson(std::string_view json);
Result<std::vector<SlurmNode>> ParseSinfoJson(std::string_view json);

// The jobs that wait, for reconcile::Demand: a reason that means "waits for nodes"
// (Resources, Priority, PartitionConfig, PartitionNodeLimit, None) leaves no gate; any other
// (held, Dependency, BeginTime, JobArrayTaskLimit, a QOS or association limit...) is the gate,
// so that no node is made for work that cannot start on it. A pending array counts its pending
// tasks, less what its throttle leaves no room for.
std::vector<head::reconcile::WaitingJob> WaitingJobs(const std::vector<SlurmJob>& jobs);

// Of `waiting` (WaitingJobs(jobs)), the jobs routed by swell's job_submit.lua whose partition
// holds no type that `routing` picks for them now (its nodes failed to boot and it is backed off):
// per job id, the partitions to give it, every type that fits ("small,large"), so that Slurm starts
// it on the nodes the autoscaler makes of the next type. A job is widened once; its demand routes
// as on swell's own head.
std::vector<std::pair<int64_t, std::string>> JobsToWiden(
    const std::vector<SlurmJob>& jobs, const std::vector<head::reconcile::WaitingJob>& waiting,
    const head::reconcile::Routing& routing);

// Per node name: whether its slurmd is up, and until when the work on it runs (nullopt: it runs
// nothing; kNever: a job without a time limit, or cpus allocated to work squeue did not show).
std::map<std::string, head::reconcile::PoolNodeState> NodeStates(
    const std::vector<SlurmNode>& nodes, const std::vector<SlurmJob>& jobs);

}  // namespace swell::slurm
