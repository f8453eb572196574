#pragma once

// The environment a process started by the node gets: the SLURM_* variables scripts written
// for Slurm read (each also as SWELL_*), the variables MPI launchers need on this node, and the
// marks by which the node finds a job's processes again. Pure functions of their inputs: no
// I/O, no clock; thread-safe.
//
// A task's environment is JobEnv (shared by every task of the job, computed once per job)
// followed by TaskEnv (the task's own); an exec rank's (srun, or a command relayed for
// an MPI launcher) is ExecEnv followed by ExecRankEnv. The launcher takes the two lists one
// after the other, as EnvEntries gives them: the second does not replace an entry of the first
// with the same name, both are passed on.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rpc/swell.pb.h"

namespace swell::node {

using Env = std::map<std::string, std::string>;

// Carried by every process the node starts: `<node>@<spool dir>`. A daemon that restarts kills
// what carries its own mark (it was left by its predecessor).
inline constexpr char kStepOwnerVar[] = "SWELL_STEP_OWNER";
// Carried by a job's tasks and exec ranks, and by whatever they start (daemonized MPI
// launchers and their ranks): `<owner>:<task job id>`, so that the job's end finds them all.
inline constexpr char kExecJobVar[] = "SWELL_EXEC_JOB";
// The PATH of a job whose environment has none.
inline constexpr char kDefaultPath[] = "/usr/local/bin:/usr/bin:/bin";

// The entries ("NAME=value") that mark a node's processes and a job's processes.
std::string StepOwnerEntry(const std::string& owner);
std::string ExecJobEntry(const std::string& owner, int64_t job_id);

// What the node puts in every environment it gives.
struct NodeContext {
  std::string name;           // SLURMD_NODENAME, SWELL_NODENAME
  std::string owner;          // the kStepOwnerVar mark
  std::string rsh;            // swell-rsh, next to swell and its Slurm command links
  std::string mpi_interface;  // MpiInterface(); "lo" when every node shares this machine
  std::string mpi_dir;        // this node's directory for MPI's session files
  std::string partition;      // the node type of an elastic node; "" for a static node
};

// The partition a job runs in, as squeue shows it: the job's own, else the node type of an
// elastic node, else "batch" (a static cluster's one partition).
std::string JobPartition(const pb::JobSpec& spec, const NodeContext& node);

// Slurm puts the task's pid in SLURM_TASK_PID: the launcher sets this variable in the child
// (SpawnRequest::pid_env), where the pid is known.
inline constexpr char kTaskPidVar[] = "SLURM_TASK_PID";

// The allocation a job's tasks run in, as the head sent it with the launch.
struct Allocation {
  std::vector<std::string> nodelist;  // the allocation's nodes, in the head's order
  std::vector<int> tasks_per_node;    // parallel to nodelist; any other size: unknown
  std::vector<int> cpus_per_node;     // parallel to nodelist; any other size: unknown (an
                                      // older head)
  int node_index = 0;                 // launch_tasks: this node's place (SLURM_NODEID)
  int64_t first_rank = 0;             // launch_tasks: the lowest rank here (SLURM_LOCALID 0)

  bool knows_tasks_per_node() const { return tasks_per_node.size() == nodelist.size(); }
};

// The account of the user a job runs as (host.h LookupAccount).
struct Account {
  std::string home;
  std::string name;
};

// A job's environment on this node: the spec's own variables, overridden by the job's
// SLURM_*/SWELL_* variables, the MPI relay's and the node's marks (except kExecJobVar, which
// TaskEnv adds); HOME, USER and LOGNAME from `account` (given when the job runs as another user
// than the daemon) unless the spec sets them; and a PATH (kDefaultPath when the spec has none)
// that ends with the directory of swell's own commands. SWELL_HOSTFILE names `hostfile` when
// the allocation knows its tasks per node.
Env JobEnv(const pb::JobSpec& spec, const pb::UserIdentity& user, const Allocation& alloc,
           const NodeContext& node, const std::string& hostfile,
           const std::optional<Account>& account);

// The hostfile for mpirun: "<node> slots=<tasks>\n" per node, in the node list's order
// (HostListOrder). Empty when the allocation does not know its tasks per node.
std::string Hostfile(const Allocation& alloc);

// The job id a task's processes see: an array task's own (the array's id plus its position),
// else the job's.
int64_t TaskJobId(const pb::JobSpec& spec, int64_t job_id, int64_t pos);
// An array task's index; nullopt for other jobs or a position past the array's indices.
std::optional<int64_t> ArrayTaskIndex(const pb::JobSpec& spec, int64_t pos);

// A task's own variables: its job ids, the kExecJobVar mark, an array task's
// SLURM_ARRAY_*, and its place: for a rank of a job that launches tasks (spec.launch_tasks),
// the rank's SLURM_PROCID/LOCALID/NODEID/GTIDS (the ranks on this node) and step 0's
// SLURM_STEP_*; for a batch script, the batch step's (rank 0 of 1 on node 0).
Env TaskEnv(const pb::JobSpec& spec, int64_t job_id, const pb::TaskKey& key,
            const Allocation& alloc, const NodeContext& node);

// An exec's environment: the caller's variables (a relayed command, `shell`, drops its
// launcher's PMI/PMIX/OMPI state as ssh would), the MPI relay's (node-local MPI directories when
// nodes share this machine), the node's marks and PATH, and, for a step (step_id >= 0), the
// step's SLURM_STEP_*, SLURM_NTASKS, SLURM_NNODES, SLURM_NODELIST, SLURM_TASKS_PER_NODE and
// SLURM_NODEID.
Env ExecEnv(const pb::ExecLaunch& x, const NodeContext& node);
// The variables of the exec's `i`th rank on this node: a step's SLURM_PROCID (first_rank + i)
// and SLURM_LOCALID (i); none for a relayed command.
Env ExecRankEnv(const pb::ExecLaunch& x, int i);

// "NAME=value" for each variable, in name order.
std::vector<std::string> EnvEntries(const Env& env);

}  // namespace swell::node
