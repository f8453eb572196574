#include "head/submit_check.h"

#include <map>
#include <set>
#include <tuple>

#include "head/job_model.h"

namespace swell::head {

namespace {

// Slurm's -w/-x: names of nodes of this cluster (Slurm: "Invalid node name specified"). On an
// elastic cluster, -w names nodes that exist now and picks their partition; -x may name any
// node, as nodes come and go.
Status CheckNodeNames(pb::JobSpec* spec, const SubmitCluster& cluster) {
  std::map<std::string, const KnownNode*> known;
  for (const auto& n : cluster.nodes) known[n.name] = &n;
  const bool elastic = cluster.types != nullptr;
  std::set<std::string> wanted(spec->nodelist().begin(), spec->nodelist().end());
  std::set<std::string> avoided(spec->exclude().begin(), spec->exclude().end());
  spec->clear_nodelist();
  spec->clear_exclude();
  std::optional<std::string> partition;
  for (const auto& name : wanted) {
    auto it = known.find(name);
    if (it == known.end())
      return InvalidArgument("invalid node name specified: " + name +
                             (elastic ? " (on an elastic cluster, -w names nodes that are up now)"
                                    : ""));
    if (elastic && partition && it->second->node_type != *partition)
      return InvalidArgument("-w/--nodelist names nodes of different partitions (" +
                             (partition->empty() ? "static" : *partition) + ", " +
                             (it->second->node_type.empty() ? "static" : it->second->node_type) +
                             "); a job runs in one");
    partition = it->second->node_type;
    spec->add_nodelist(name);
  }
  for (const auto& name : avoided) {
    if (!elastic && !known.count(name))
      return InvalidArgument("invalid node name specified: " + name);
    if (wanted.count(name))
      return InvalidArgument("node " + name + " is both in -w/--nodelist and -x/--exclude");
    spec->add_exclude(name);
  }
  if (elastic && partition && !partition->empty()) {
    if (spec->partition().empty()) spec->set_partition(*partition);
    if (spec->partition() != *partition)
      return InvalidArgument("-w/--nodelist names nodes of partition " + *partition +
                             ", not of partition " + spec->partition());
  }
  int listed = spec->nodelist_size();
  if (spec->max_nodes() != 0 && listed > spec->max_nodes())
    return InvalidArgument("-w/--nodelist names " + std::to_string(listed) +
                           " nodes but --nodes allows at most " +
                           std::to_string(spec->max_nodes()));
  // As Slurm: the job uses every listed node, and more if its node count asks for more.
  if (listed > spec->min_nodes()) spec->set_min_nodes(listed);
  return Status::Ok();
}

}  // namespace

Status CheckSubmit(pb::JobSpec* spec, const SubmitCluster& cluster) {
  if (spec->min_nodes() < 1) spec->set_min_nodes(1);
  SWELL_RETURN_IF_ERROR(CheckNodeNames(spec, cluster));
  // As Slurm: -N without -n means one task per node.
  if (spec->ntasks() < 1) spec->set_ntasks(spec->min_nodes());
  if (spec->cpus_per_task() < 1) spec->set_cpus_per_task(1);
  if (spec->script().empty() && spec->argv_size() == 0)
    return InvalidArgument("nothing to run: give a script or a command");
  if (spec->mem_mb() < 0 || spec->gpus() < 0 || spec->time_limit_ms() < 0)
    return InvalidArgument("negative resources");
  if (spec->max_nodes() != 0 && spec->max_nodes() < spec->min_nodes())
    return InvalidArgument("--nodes: maximum below minimum");
  for (int i = 1; i < spec->array_indices_size(); ++i)
    if (spec->array_indices(i) <= spec->array_indices(i - 1))
      return InvalidArgument("array indices must be increasing");
  if (spec->array_max_running() < 0) return InvalidArgument("negative array throttle");
  if (spec->launch_tasks() && spec->array_indices_size() > 0)
    return InvalidArgument("an array job cannot launch one process per task (srun semantics)");
  if (spec->work_dir().empty() || spec->work_dir()[0] != '/')
    return InvalidArgument("the working directory must be an absolute path");
  // Resources no node could ever hold.
  std::vector<scheduler::Resources> totals;
  std::vector<std::string> names;
  for (const auto& n : cluster.nodes) totals.push_back(n.total), names.push_back(n.name);
  if (cluster.types != nullptr) {
    // An elastic cluster holds what its node types can: the job's type must exist and fit.
    const auto& types = *cluster.types;
    autoscaler::Request need = reconcile::NodeRequest(ShapeOf(*spec));
    if (!spec->partition().empty()) {
      int t = -1;
      for (size_t i = 0; i < types.size(); ++i)
        if (types[i].name == spec->partition()) t = static_cast<int>(i);
      std::string known;
      for (const auto& ty : types) known += (known.empty() ? "" : ", ") + ty.name;
      if (t < 0)
        return InvalidArgument("invalid partition '" + spec->partition() + "' (partitions: " +
                               known + ")");
      if (!autoscaler::Route({types[static_cast<size_t>(t)]}, need))
        return InvalidArgument("the job does not fit a node of partition " + spec->partition());
    } else if (!autoscaler::Route(types, need)) {
      const autoscaler::NodeType* largest = &types.front();
      for (const auto& ty : types)
        if (std::tie(ty.cpus, ty.memory_mb, ty.gpus) >
            std::tie(largest->cpus, largest->memory_mb, largest->gpus))
          largest = &ty;
      return InvalidArgument(
          "no node type can hold the job (" + std::to_string(need.cpus) + " cpus, " +
          std::to_string(need.memory_mb) + " MB, " + std::to_string(need.gpus) +
          " gpus per node); the largest is " + largest->name + " (" +
          std::to_string(largest->cpus) + " cpus, " + std::to_string(largest->memory_mb) +
          " MB, " + std::to_string(largest->gpus) + " gpus)");
    }
    totals.clear();  // nodes come and go: the types decide
  }
  if (!totals.empty()) {
    scheduler::Group g;
    g.ntasks = spec->ntasks();
    g.cpus_per_task = spec->cpus_per_task();
    g.mem_mb = spec->mem_mb();
    g.gpus = spec->gpus();
    g.min_nodes = spec->min_nodes();
    g.max_nodes = spec->max_nodes();
    g.require.assign(spec->nodelist().begin(), spec->nodelist().end());
    g.exclude.assign(spec->exclude().begin(), spec->exclude().end());
    g.exclusive = spec->exclusive();
    Status f = scheduler::CheckFeasible(totals, g, names);
    if (!f.ok()) return f;
  }
  // Dependencies must name jobs that exist.
  for (const auto& term : spec->dependency().terms()) {
    static const std::set<std::string> kTypes = {"after", "afterok", "afterany", "afternotok",
                                                 "singleton"};
    if (!kTypes.count(term.type()))
      return InvalidArgument("unknown dependency type '" + term.type() + "'");
    for (const auto& ref : term.job_ids()) {
      if (!cluster.job_exists(ref))
        return InvalidArgument("--dependency names job " + ref + ", which does not exist");
    }
  }
  return Status::Ok();
}

}  // namespace swell::head
