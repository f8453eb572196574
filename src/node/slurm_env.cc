#include "node/slurm_env.h"

#include <algorithm>
#include <utility>

#include "common/mpi_env.h"
#include "common/slurm_format.h"
#include "common/text.h"

namespace swell::node {
namespace {

// Sets SLURM_<name> and SWELL_<name>.
void SetBoth(Env& env, const std::string& name, const std::string& value) {
  env["SLURM_" + name] = value;
  env["SWELL_" + name] = value;
}

// The allocation's tasks and cpus per node, in the node list's (sorted) order.
struct PerNode {
  std::vector<std::string> nodes;
  std::vector<int> tasks;
  std::vector<int> cpus;  // zeros when the allocation does not know them
  int cpus_here = 0;      // of the node named
};
PerNode PerNodeCounts(const Allocation& alloc, const std::string& here) {
  const bool with_cpus = alloc.cpus_per_node.size() == alloc.nodelist.size();
  std::map<std::string, std::pair<int, int>> per;  // node -> (tasks, cpus)
  for (size_t i = 0; i < alloc.nodelist.size(); ++i)
    per[alloc.nodelist[i]] = {alloc.tasks_per_node[i], with_cpus ? alloc.cpus_per_node[i] : 0};
  PerNode out;
  for (const auto& n : HostListOrder(alloc.nodelist)) {
    out.nodes.push_back(n);
    out.tasks.push_back(per[n].first);
    out.cpus.push_back(per[n].second);
  }
  if (auto it = per.find(here); it != per.end()) out.cpus_here = it->second.second;
  return out;
}

// The MPI relay's variables, and with `node_local` this node's own directories for MPI's
// shared memory and session files: nodes of the `local` provider share one host name and
// /dev/shm, so their files would collide.
void AddMpiEnv(Env& env, const NodeContext& node, bool node_local) {
  AddMpiRelayEnv(env, node.rsh, node.mpi_interface);
  if (node_local) {
    env["OMPI_MCA_btl_vader_backing_directory"] = node.mpi_dir;
    env["OMPI_MCA_orte_tmpdir_base"] = node.mpi_dir;
  }
}

// The default PATH when there is none, with the directory of swell and its Slurm command
// links (srun, squeue...) first, so that scripts written for Slurm find them, and find them
// before an installed Slurm's.
void SetPath(Env& env, const NodeContext& node) {
  if (env.find("PATH") == env.end()) env["PATH"] = kDefaultPath;
  std::string dir = node.rsh.substr(0, node.rsh.rfind('/'));
  env["PATH"] = PathWithDirFirst(env["PATH"], dir);
}

// A launcher's own state, which a command it relays must not inherit (it would take itself
// for part of the launcher's job); OpenMPI's settings (OMPI_MCA_*, OMPI_ALLOW_*) pass.
bool IsLauncherState(const std::string& name) {
  return name.rfind("PMIX_", 0) == 0 || name.rfind("PMI_", 0) == 0 ||
         (name.rfind("OMPI_", 0) == 0 && name.rfind("OMPI_MCA_", 0) != 0 &&
          name.rfind("OMPI_ALLOW_", 0) != 0);
}

}  // namespace

std::string StepOwnerEntry(const std::string& owner) {
  return std::string(kStepOwnerVar) + "=" + owner;
}

std::string ExecJobEntry(const std::string& owner, int64_t job_id) {
  return std::string(kExecJobVar) + "=" + owner + ":" + std::to_string(job_id);
}

Env JobEnv(const pb::JobSpec& spec, const pb::UserIdentity& user, const Allocation& alloc,
           const NodeContext& node, const std::string& hostfile,
           const std::optional<Account>& account) {
  Env env(spec.env().begin(), spec.env().end());
  env.erase(kTaskPidVar);  // the submitter's own, if it ran in a job: the launcher sets ours
  std::string nodelist = CompressHostList(alloc.nodelist);
  int ntasks = std::max(1, spec.ntasks());
  int cpt = std::max(1, spec.cpus_per_task());
  SetBoth(env, "JOB_NAME", spec.name());
  // Only what the job asked for (Slurm leaves them unset otherwise, and scripts read
  // ${SLURM_NTASKS:-1}); srun's tasks always know their count.
  if (spec.ntasks_set() || spec.launch_tasks()) {
    SetBoth(env, "NTASKS", std::to_string(ntasks));
    SetBoth(env, "NPROCS", std::to_string(ntasks));
  }
  if (spec.cpus_per_task_set()) SetBoth(env, "CPUS_PER_TASK", std::to_string(cpt));
  if (spec.ntasks_per_node() > 0)
    SetBoth(env, "NTASKS_PER_NODE", std::to_string(spec.ntasks_per_node()));
  // The memory as asked: per cpu (--mem-per-cpu) or per node (--mem).
  if (spec.mem_per_cpu_mb() > 0)
    SetBoth(env, "MEM_PER_CPU", std::to_string(spec.mem_per_cpu_mb()));
  else if (spec.mem_mb() > 0)
    SetBoth(env, "MEM_PER_NODE", std::to_string(spec.mem_mb()));
  SetBoth(env, "JOB_NODELIST", nodelist);
  SetBoth(env, "NODELIST", nodelist);
  SetBoth(env, "JOB_NUM_NODES", std::to_string(alloc.nodelist.size()));
  // What an older head, which sends no cpus per node, leaves.
  SetBoth(env, "JOB_CPUS_PER_NODE", std::to_string(ntasks * cpt));
  if (alloc.knows_tasks_per_node()) {
    PerNode per = PerNodeCounts(alloc, node.name);
    SetBoth(env, "TASKS_PER_NODE", CompressCounts(per.tasks));
    if (alloc.cpus_per_node.size() == alloc.nodelist.size()) {
      SetBoth(env, "JOB_CPUS_PER_NODE", CompressCounts(per.cpus));
      SetBoth(env, "CPUS_ON_NODE", std::to_string(per.cpus_here));
    }
    if (spec.launch_tasks()) {
      SetBoth(env, "STEP_TASKS_PER_NODE", CompressCounts(per.tasks));
      SetBoth(env, "STEP_NODELIST", nodelist);
    }
    env["SWELL_HOSTFILE"] = hostfile;
  }
  SetBoth(env, "NNODES", std::to_string(alloc.nodelist.size()));
  SetBoth(env, "SUBMIT_DIR", spec.submit_dir());
  SetBoth(env, "SUBMIT_HOST", spec.submit_host());
  SetBoth(env, "JOB_USER", user.name());
  SetBoth(env, "JOB_UID", std::to_string(user.uid()));
  SetBoth(env, "JOB_GID", std::to_string(user.gid()));
  SetBoth(env, "CLUSTER_NAME", "swell");
  SetBoth(env, "JOB_PARTITION", JobPartition(spec, node));
  if (!spec.account().empty()) SetBoth(env, "JOB_ACCOUNT", spec.account());
  // No SLURM_JOB_QOS: Slurm without accounting storage sets none.
  if (spec.dependency().terms_size() > 0) {
    // As given: type:id[:id...] joined by ',' (all) or '?' (any).
    std::string dep;
    for (const auto& t : spec.dependency().terms()) {
      if (!dep.empty()) dep += spec.dependency().any() ? "?" : ",";
      dep += t.type();
      for (const auto& id : t.job_ids()) dep += ":" + id;
    }
    SetBoth(env, "JOB_DEPENDENCY", dep);
  }
  SetBoth(env, "PRIO_PROCESS", std::to_string(spec.prio_process()));
  SetBoth(env, "TOPOLOGY_ADDR", node.name);
  SetBoth(env, "TOPOLOGY_ADDR_PATTERN", "node");
  // swell's own (Slurm 22.05 has no SLURM_TIMELIMIT in a job).
  env["SWELL_TIMELIMIT"] =
      spec.time_limit_ms() > 0 ? std::to_string(spec.time_limit_ms() / 60000) : "UNLIMITED";
  // What slurmd puts there without cloud nodes, and the cluster a job's own Slurm commands
  // would talk to (name:controller:port:rpc version:select plugin).
  env["SLURM_NODE_ALIASES"] = "(null)";
  env["SLURM_WORKING_CLUSTER"] = "swell:" + spec.submit_host() + ":6817:9728:109";
  env["SLURMD_NODENAME"] = node.name;
  env[kStepOwnerVar] = node.owner;
  AddMpiEnv(env, node, false);
  env["SWELL_NODENAME"] = node.name;
  if (spec.array_indices_size() > 0) {
    int64_t lo = spec.array_indices(0), hi = spec.array_indices(spec.array_indices_size() - 1);
    // The stride when the indices have one, else 1 (Slurm's SLURM_ARRAY_TASK_STEP).
    int64_t step = spec.array_indices_size() > 1 ? spec.array_indices(1) - lo : 1;
    for (int i = 2; i < spec.array_indices_size(); ++i)
      if (spec.array_indices(i) - spec.array_indices(i - 1) != step) step = 1;
    SetBoth(env, "ARRAY_TASK_MIN", std::to_string(lo));
    SetBoth(env, "ARRAY_TASK_MAX", std::to_string(hi));
    SetBoth(env, "ARRAY_TASK_COUNT", std::to_string(spec.array_indices_size()));
    SetBoth(env, "ARRAY_TASK_STEP", std::to_string(step));
  }
  if (account) {
    env.emplace("HOME", account->home);
    env.emplace("USER", account->name);
    env.emplace("LOGNAME", account->name);
  }
  SetPath(env, node);
  return env;
}

std::string JobPartition(const pb::JobSpec& spec, const NodeContext& node) {
  if (!spec.partition().empty()) return spec.partition();
  return node.partition.empty() ? "batch" : node.partition;
}

std::string Hostfile(const Allocation& alloc) {
  if (!alloc.knows_tasks_per_node()) return "";
  PerNode per = PerNodeCounts(alloc, "");
  std::string hosts;
  for (size_t i = 0; i < per.nodes.size(); ++i)
    hosts += per.nodes[i] + " slots=" + std::to_string(per.tasks[i]) + "\n";
  return hosts;
}

int64_t TaskJobId(const pb::JobSpec& spec, int64_t job_id, int64_t pos) {
  return spec.array_indices_size() > 0 ? job_id + pos : job_id;
}

std::optional<int64_t> ArrayTaskIndex(const pb::JobSpec& spec, int64_t pos) {
  if (spec.array_indices_size() > 0 && pos < spec.array_indices_size())
    return spec.array_indices(static_cast<int>(pos));
  return std::nullopt;
}

Env TaskEnv(const pb::JobSpec& spec, int64_t job_id, const pb::TaskKey& key,
            const Allocation& alloc, const NodeContext& node) {
  const std::string& owner = node.owner;
  Env env;
  int64_t task_job_id = TaskJobId(spec, job_id, key.pos());
  SetBoth(env, "JOB_ID", std::to_string(task_job_id));
  env["SLURM_JOBID"] = std::to_string(task_job_id);
  env[kExecJobVar] = owner + ":" + std::to_string(task_job_id);
  if (spec.launch_tasks()) {
    // srun's per-task environment: rank, rank on this node, this node's index, the ranks
    // here; one step.
    SetBoth(env, "PROCID", std::to_string(key.pos()));
    SetBoth(env, "LOCALID", std::to_string(key.pos() - alloc.first_rank));
    SetBoth(env, "NODEID", std::to_string(alloc.node_index));
    std::string gtids;
    auto it = std::find(alloc.nodelist.begin(), alloc.nodelist.end(), node.name);
    int here = alloc.knows_tasks_per_node() && it != alloc.nodelist.end()
                   ? alloc.tasks_per_node[static_cast<size_t>(it - alloc.nodelist.begin())]
                   : 1;
    for (int i = 0; i < here; ++i)
      gtids += (i ? "," : "") + std::to_string(alloc.first_rank + i);
    SetBoth(env, "GTIDS", gtids);
    SetBoth(env, "STEP_ID", "0");
    SetBoth(env, "STEPID", "0");
    SetBoth(env, "STEP_NUM_TASKS", std::to_string(std::max(1, spec.ntasks())));
    SetBoth(env, "STEP_NUM_NODES", std::to_string(alloc.nodelist.size()));
  } else {
    // The batch step: one task, rank 0 on the allocation's first node.
    SetBoth(env, "PROCID", "0");
    SetBoth(env, "LOCALID", "0");
    SetBoth(env, "NODEID", "0");
    SetBoth(env, "GTIDS", "0");
  }
  if (auto index = ArrayTaskIndex(spec, key.pos())) {
    SetBoth(env, "ARRAY_JOB_ID", std::to_string(job_id));
    SetBoth(env, "ARRAY_TASK_ID", std::to_string(*index));
  }
  return env;
}

Env ExecEnv(const pb::ExecLaunch& x, const NodeContext& node) {
  Env env;
  for (const auto& kv : x.env()) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    std::string name = kv.substr(0, eq);
    // A relayed command starts clean of its launcher's own state, as over ssh.
    if (x.shell() && IsLauncherState(name)) continue;
    env[name] = kv.substr(eq + 1);
  }
  AddMpiEnv(env, node, node.mpi_interface == "lo");
  env["SLURMD_NODENAME"] = node.name;
  env["SWELL_NODENAME"] = node.name;
  env[kStepOwnerVar] = node.owner;
  env[kExecJobVar] = node.owner + ":" + std::to_string(x.job_id());
  SetPath(env, node);
  if (x.step_id() >= 0) {
    // The caller's own rank (a batch script's SLURM_PROCID=0) is not the ranks': ExecRankEnv
    // sets theirs; so does the PMIx server with their PMIx state.
    for (auto it = env.begin(); it != env.end();) {
      const std::string& name = it->first;
      bool rank_var = x.pmix() && name.starts_with("PMIX_");
      for (const char* v : {"PROCID", "LOCALID"})
        rank_var = rank_var || name == std::string("SLURM_") + v || name == std::string("SWELL_") + v;
      it = rank_var ? env.erase(it) : std::next(it);
    }
    std::string nodes = CompressHostList({x.nodelist().begin(), x.nodelist().end()});
    SetBoth(env, "STEP_ID", std::to_string(x.step_id()));
    SetBoth(env, "STEPID", std::to_string(x.step_id()));
    SetBoth(env, "STEP_NUM_TASKS", std::to_string(x.ntasks()));
    SetBoth(env, "STEP_NUM_NODES", std::to_string(x.nodelist_size()));
    SetBoth(env, "STEP_NODELIST", nodes);
    SetBoth(env, "STEP_TASKS_PER_NODE", x.tasks_per_node());
    SetBoth(env, "NTASKS", std::to_string(x.ntasks()));
    SetBoth(env, "NPROCS", std::to_string(x.ntasks()));
    SetBoth(env, "NNODES", std::to_string(x.nodelist_size()));
    SetBoth(env, "NODELIST", nodes);
    SetBoth(env, "TASKS_PER_NODE", x.tasks_per_node());
    SetBoth(env, "NODEID", std::to_string(x.node_index()));
  }
  return env;
}

Env ExecRankEnv(const pb::ExecLaunch& x, int i) {
  Env env;
  if (x.step_id() < 0) return env;
  SetBoth(env, "PROCID", std::to_string(x.first_rank() + i));
  SetBoth(env, "LOCALID", std::to_string(i));
  return env;
}

std::vector<std::string> EnvEntries(const Env& env) {
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

}  // namespace swell::node
