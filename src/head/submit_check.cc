#include "head/submit_check.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "common/slurm_refusal.h"
#include "head/job_model.h"

namespace swell::head {

namespace {

constexpr char kBatch[] = "batch";  // the static cluster's one partition

// Slurm's -w/-x: names of nodes of this cluster (Slurm: "Invalid node name specified"). On an
// elastic cluster, -w names nodes that exist now and picks their partition; -x may name any
// node, as nodes come and go.
Status CheckNodeNames(pb::JobSpec* spec, const SubmitCluster& cluster) {
  if (spec->nodelist().empty() && spec->exclude().empty()) return Status::Ok();
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
      return InvalidArgument(slurm_refusal::Encode(
          {{},
           slurm_refusal::kInvalidNodeName,
           name + (elastic ? " is not up (on an elastic cluster, -w names nodes that are up now)"
                           : " is not a node of this cluster")}));
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
      return InvalidArgument(slurm_refusal::Encode(
          {{}, slurm_refusal::kInvalidNodeName, name + " is not a node of this cluster"}));
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

// The feature names of a -C/--constraint expression (words between & | , [ ] ( ), "*N"
// counts dropped), and whether it is an alternative ('|': any of them will do).
std::vector<std::string> Features(const std::string& text, bool* any) {
  std::vector<std::string> out;
  std::string word;
  bool count = false;
  *any = text.find('|') != std::string::npos;
  for (char c : text + ",") {
    if (std::string_view("&|,[]()*").find(c) != std::string_view::npos) {
      if (!word.empty()) out.push_back(word);
      word.clear();
      count = c == '*';
    } else if (!count) {
      word += c;
    }
  }
  return out;
}

// Slurm's partitions: `batch` on a static cluster, one per node type on an elastic one; "a,b"
// names several, each of which must exist (the job runs in the first that can hold it). And
// -C/--constraint: the features of node types (static nodes have none); a feature no node has
// is "Invalid feature specification", one the job's partition lacks "Requested node
// configuration is not available". Licenses and reservations are not configured.
Status CheckPartitionAndFeatures(pb::JobSpec* spec, const SubmitCluster& cluster) {
  if (!spec->licenses().empty()) return InvalidArgument("Invalid license specification");
  if (!spec->reservation().empty()) return InvalidArgument("Requested reservation is invalid");
  std::vector<std::string> names;
  if (cluster.types == nullptr) {
    names.push_back(kBatch);
  } else {
    for (const auto& t : *cluster.types) names.push_back(t.name);
  }
  std::vector<std::string> asked;
  for (size_t start = 0; !spec->partition().empty() && start <= spec->partition().size();) {
    size_t comma = spec->partition().find(',', start);
    if (comma == std::string::npos) comma = spec->partition().size();
    std::string name = spec->partition().substr(start, comma - start);
    if (std::find(names.begin(), names.end(), name) == names.end())
      return InvalidArgument(slurm_refusal::Encode(
          {{"invalid partition specified: " + name}, slurm_refusal::kInvalidPartition, ""}));
    asked.push_back(name);
    start = comma + 1;
  }
  // Slurm checks -w/-x names after the partition and before features (script 25 of
  // tests/slurm: an unknown -x name with an unknown feature is "Invalid node name specified").
  // On an elastic cluster -w decides the partition, so there it comes after (CheckSubmit).
  if (cluster.types == nullptr) SWELL_RETURN_IF_ERROR(CheckNodeNames(spec, cluster));
  // Which node types can serve the constraint.
  std::vector<bool> allowed(names.size(), true);
  if (!spec->constraint().empty()) {
    bool any = false;
    std::vector<std::string> wanted = Features(spec->constraint(), &any);
    std::set<std::string> known;
    if (cluster.types != nullptr)
      for (const auto& t : *cluster.types) known.insert(t.features.begin(), t.features.end());
    for (const auto& f : wanted)
      if (!known.count(f)) return InvalidArgument("Invalid feature specification");
    // A constraint of no words ("&", "[]") names no feature: nothing to check on a static
    // cluster, whose one partition has no node types (fuzz/rpc_fuzzer: the head dereferenced
    // the missing types here).
    for (size_t i = 0; cluster.types != nullptr && i < names.size(); ++i) {
      const auto& have = (*cluster.types)[i].features;
      auto has = [&](const std::string& f) {
        return std::find(have.begin(), have.end(), f) != have.end();
      };
      allowed[i] = any ? std::any_of(wanted.begin(), wanted.end(), has)
                       : std::all_of(wanted.begin(), wanted.end(), has);
    }
  }
  if (cluster.types == nullptr) {
    if (!asked.empty()) spec->clear_partition();  // the static nodes serve it
    return Status::Ok();
  }
  const auto& types = *cluster.types;
  autoscaler::Request need = reconcile::NodeRequest(ShapeOf(*spec));
  std::vector<bool> usable = allowed;
  if (!asked.empty()) {
    for (size_t i = 0; i < names.size(); ++i)
      usable[i] = allowed[i] && std::find(asked.begin(), asked.end(), names[i]) != asked.end();
    if (std::none_of(usable.begin(), usable.end(), [](bool b) { return b; }))
      return InvalidArgument("Requested node configuration is not available");
    // The first partition named that can hold the job; else the first named (refused below).
    std::string pick = asked.front();
    for (const auto& name : asked) {
      size_t i = static_cast<size_t>(std::find(names.begin(), names.end(), name) - names.begin());
      if (usable[i] && autoscaler::Route({types[i]}, need)) {
        pick = name;
        break;
      }
    }
    spec->set_partition(pick);
  } else if (!spec->constraint().empty()) {
    auto t = autoscaler::Route(types, need, &usable);
    if (!t) return InvalidArgument("Requested node configuration is not available");
    spec->set_partition(types[static_cast<size_t>(*t)].name);
  }
  return Status::Ok();
}

// GPUs asked of a cluster that has none: Slurm without GresTypes refuses the request before it
// looks at partitions or licenses.
bool GpusUnknown(const pb::JobSpec& spec, const SubmitCluster& cluster) {
  if (spec.gpus() <= 0 && spec.gpus_per_node() <= 0 && spec.gpus_per_task() <= 0) return false;
  if (cluster.types != nullptr)
    return std::none_of(cluster.types->begin(), cluster.types->end(),
                        [](const autoscaler::NodeType& t) { return t.gpus > 0; });
  return std::none_of(cluster.nodes.begin(), cluster.nodes.end(),
                      [](const KnownNode& n) { return n.total.gpus > 0; });
}

// A request no set of the cluster's nodes can hold, in Slurm 22.05's words (as its sbatch said
// them in tests/slurm): more cpus or nodes than the partition has at all is "More processors
// requested than permitted"; else more memory than a node has, or more cpus than a node has,
// each with its line before "Requested node configuration is not available"; anything else
// (gpus, -w/-x) is that alone. `detail` is swell's explanation.
Status Infeasible(const scheduler::Group& g, const std::vector<scheduler::Resources>& totals,
                  std::string detail) {
  namespace sr = slurm_refusal;
  int64_t all_cpus = 0, most_cpus = 0, most_mem = 0;
  for (const auto& t : totals) {
    all_cpus += t.cpus;
    most_cpus = std::max<int64_t>(most_cpus, t.cpus);
    most_mem = std::max<int64_t>(most_mem, t.mem_mb);
  }
  const int64_t cpt = std::max(1, g.cpus_per_task);
  const int64_t cpus = std::max<int64_t>(std::max(1, g.ntasks) * cpt, g.min_nodes);
  // The cpus one node must give: the whole job when it must fit on one node.
  const int64_t node_cpus = g.max_nodes == 1 ? cpus : cpt;
  sr::Refusal r{{}, sr::kNodeConfig, std::move(detail)};
  if (cpus > all_cpus || g.min_nodes > static_cast<int64_t>(totals.size()))
    r.reason = sr::kTooManyCpus;
  else if (g.mem_mb > most_mem)
    r.before.push_back(sr::kMemoryLine);
  else if (node_cpus > most_cpus)
    r.before.push_back(sr::kCpusPerNodeLine);
  return InvalidArgument(sr::Encode(r));
}

}  // namespace

Status CheckSubmit(pb::JobSpec* spec, const SubmitCluster& cluster) {
  if (spec->min_nodes() < 1) spec->set_min_nodes(1);
  if (GpusUnknown(*spec, cluster))
    return InvalidArgument(slurm_refusal::Encode(
        {{}, slurm_refusal::kInvalidGres, "no node of this cluster has gpus"}));
  SWELL_RETURN_IF_ERROR(CheckPartitionAndFeatures(spec, cluster));
  if (cluster.types != nullptr) SWELL_RETURN_IF_ERROR(CheckNodeNames(spec, cluster));
  // As Slurm: -N without -n means one task per node.
  if (spec->ntasks() < 1) spec->set_ntasks(spec->min_nodes());
  if (spec->cpus_per_task() < 1) spec->set_cpus_per_task(1);
  if (spec->script().empty() && spec->argv_size() == 0)
    return InvalidArgument("nothing to run: give a script or a command");
  if (spec->script().size() > slurm_refusal::kMaxScriptBytes)
    return InvalidArgument(slurm_refusal::Encode(
        {{}, slurm_refusal::kTooLong,
         "the script is " + std::to_string(spec->script().size()) + " bytes; at most " +
             std::to_string(slurm_refusal::kMaxScriptBytes) + ", as Slurm's max_script_size"}));
  if (spec->script().find('\0') != std::string::npos)
    return InvalidArgument("the script contains a NUL byte (Slurm refuses such scripts too)");
  if (spec->mem_mb() < 0 || spec->gpus() < 0 || spec->time_limit_ms() < 0)
    return InvalidArgument("negative resources");
  if (int64_t{spec->ntasks()} * spec->cpus_per_task() > slurm_refusal::kMaxJobCpus ||
      spec->min_nodes() > slurm_refusal::kMaxJobCpus || spec->max_nodes() > slurm_refusal::kMaxJobCpus)
    return InvalidArgument(slurm_refusal::Encode(
        {{}, slurm_refusal::kTooManyCpus,
         "at most " + std::to_string(slurm_refusal::kMaxJobCpus) + " cpus, tasks or nodes in one job"}));
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
  std::vector<std::string> names;  // only -w and -x need them
  const bool named = !spec->nodelist().empty() || !spec->exclude().empty();
  totals.reserve(cluster.nodes.size());
  for (const auto& n : cluster.nodes) {
    totals.push_back(n.total);
    if (named) names.push_back(n.name);
  }
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
      if (t < 0) return InvalidArgument("Invalid partition name specified");
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
    auto check = [&] {
      Status f = scheduler::CheckFeasible(totals, g, names);
      return f.code() == Code::kInvalidArgument ? Infeasible(g, totals, std::string(f.message()))
                                                : f;
    };
    if (named) {
      SWELL_RETURN_IF_ERROR(check());
    } else {
      auto key = std::make_tuple(g.ntasks, g.cpus_per_task, g.mem_mb, g.gpus, g.min_nodes,
                                 g.max_nodes, g.exclusive);
      auto it = cluster.feasible.find(key);
      if (it == cluster.feasible.end()) {
        if (cluster.feasible.size() >= 4096) cluster.feasible.clear();  // bounded
        it = cluster.feasible.emplace(key, check()).first;
      }
      SWELL_RETURN_IF_ERROR(it->second);
    }
  }
  // A job a dependency names that this cluster does not know is gone, as Slurm takes it (a job
  // it no longer remembers): that part of the dependency is met (Slurm 22.05 accepts
  // afterok:999999 and the job waits for Priority, not Dependency).
  for (auto& term : *spec->mutable_dependency()->mutable_terms()) {
    static const std::set<std::string> kTypes = {"after", "afterok", "afterany", "afternotok",
                                                 "singleton"};
    if (!kTypes.count(term.type()))
      return InvalidArgument("unknown dependency type '" + term.type() + "'");
    auto* ids = term.mutable_job_ids();
    ids->erase(std::remove_if(ids->begin(), ids->end(),
                              [&](const std::string& ref) { return !cluster.job_exists(ref); }),
               ids->end());
  }
  auto* terms = spec->mutable_dependency()->mutable_terms();
  auto met = [](const pb::DependencyTerm& t) {
    return t.type() != "singleton" && t.job_ids_size() == 0;
  };
  // With '?' one met term is enough; with ',' the met ones go.
  if (spec->dependency().any() && std::any_of(terms->begin(), terms->end(), met))
    terms->Clear();
  terms->erase(std::remove_if(terms->begin(), terms->end(), met), terms->end());
  if (terms->empty()) spec->clear_dependency();
  return Status::Ok();
}

}  // namespace swell::head
