#include "slurm/slurm_state.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "common/hostlist.h"
#include "common/slurm_format.h"

namespace swell::slurm {

namespace rc = head::reconcile;
using nlohmann::json;

namespace {

// A field that may be missing or null (Slurm's "not set").
template <typename T>
T Get(const json& j, const char* key, T none) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return none;
  if constexpr (std::is_same_v<T, std::string>) {
    return it->is_string() ? it->template get<std::string>() : none;
  } else {
    return it->is_number() ? it->template get<T>() : none;
  }
}

Time FromSeconds(int64_t s) { return FromMillis(s * 1000); }

std::vector<std::string> Hosts(const std::string& list) {
  if (list.empty()) return {};
  auto hosts = ExpandHostList(list);
  return hosts.ok() ? *hosts : std::vector<std::string>{list};
}

// The gpus in a TRES string: "gres:gpu:2", "gres:gpu:tesla:1", "gres/gpu=2".
int GpusOf(const std::string& tres) {
  size_t at = tres.find("gpu");
  if (at == std::string::npos) return 0;
  size_t end = tres.find(',', at);
  std::string item = tres.substr(at, end == std::string::npos ? std::string::npos : end - at);
  size_t digits = item.find_last_not_of("0123456789");
  if (digits == std::string::npos || digits + 1 == item.size()) return 1;
  return std::atoi(item.c_str() + digits + 1);
}

// The JSON document and its "errors" (Slurm's own, e.g. slurmctld not answering).
Result<json> Document(std::string_view text, const char* command, const char* list) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object())
    return InvalidArgument(fmt::format("{} --json did not print JSON", command));
  if (auto e = doc.find("errors"); e != doc.end() && e->is_array() && !e->empty()) {
    const json& first = (*e)[0];
    std::string what = first.is_object() ? Get<std::string>(first, "error", "") : "";
    return Unavailable(
        fmt::format("{} --json reports an error: {}", command, what.empty() ? first.dump() : what));
  }
  auto l = doc.find(list);
  if (l == doc.end() || !l->is_array())
    return InvalidArgument(fmt::format("{} --json has no \"{}\" list", command, list));
  return doc;
}

// Slurm's reasons for a job that waits only for nodes (squeue(1), JOB REASON CODES).
bool WaitsForNodes(const std::string& reason) {
  static const std::set<std::string> kNodes = {"None",
                                               "Resources",
                                               "Priority",
                                               "PartitionConfig",
                                               "PartitionNodeLimit",
                                               "Nodes_required_for_job_are_DOWN,_DRAINED_or_"
                                               "reserved_for_jobs_in_higher_priority_partitions"};
  return kNodes.count(reason) > 0;
}

// What swell's job_submit.lua puts before the types that fit a job, in its admin comment.
constexpr std::string_view kRoutedMark = "swell:";

// One job of `squeue --json`.
Result<SlurmJob> JobOf(const json& j) {
  SlurmJob s;
  s.id = Get<int64_t>(j, "job_id", 0);
  if (s.id <= 0) return InvalidArgument("squeue --json: a job has no job_id");
  s.state = Get<std::string>(j, "job_state", "");
  s.reason = Get<std::string>(j, "state_reason", "None");
  s.partition = Get<std::string>(j, "partition", "");
  if (std::string c = Get<std::string>(j, "admin_comment", ""); c.starts_with(kRoutedMark))
    s.fits = c.substr(kRoutedMark.size());
  s.node_count = std::max(1, Get<int>(j, "node_count", 1));
  s.tasks = std::max(1, Get<int>(j, "tasks", 1));
  s.cpus_per_task = std::max(1, Get<int>(j, "cpus_per_task", 1));
  int cpus = std::max(s.tasks * s.cpus_per_task, Get<int>(j, "cpus", 1));
  if (int64_t per_node = Get<int64_t>(j, "memory_per_node", 0); per_node > 0) {
    s.mem_per_node_mb = per_node;
  } else if (int64_t per_cpu = Get<int64_t>(j, "memory_per_cpu", 0); per_cpu > 0) {
    int cpus_on_a_node = (cpus + s.node_count - 1) / s.node_count;
    s.mem_per_node_mb = per_cpu * cpus_on_a_node;
  }
  int job_gpus = GpusOf(Get<std::string>(j, "tres_per_job", ""));
  s.gpus_per_node = std::max(GpusOf(Get<std::string>(j, "tres_per_node", "")),
                             (job_gpus + s.node_count - 1) / s.node_count);
  s.exclusive = Get<std::string>(j, "shared", "") == "none";
  s.priority = static_cast<int>(std::min<int64_t>(Get<int64_t>(j, "priority", 0), 1 << 30));
  s.submit = FromSeconds(Get<int64_t>(j, "submit_time", 0));
  s.end = FromSeconds(Get<int64_t>(j, "end_time", 0));
  if (int64_t minutes = Get<int64_t>(j, "time_limit", -1); minutes >= 0)
    s.time_limit = std::chrono::minutes(minutes);
  s.nodes = Hosts(Get<std::string>(j, "nodes", ""));
  s.required = Hosts(Get<std::string>(j, "required_nodes", ""));
  s.excluded = Hosts(Get<std::string>(j, "excluded_nodes", ""));
  s.array_job_id = Get<int64_t>(j, "array_job_id", 0);
  s.array_task_string = Get<std::string>(j, "array_task_string", "");
  s.array_max_tasks = Get<int>(j, "array_max_tasks", 0);
  return s;
}

// One node of `sinfo --json`.
Result<SlurmNode> NodeOf(const json& j) {
  SlurmNode n;
  n.name = Get<std::string>(j, "name", "");
  if (n.name.empty()) return InvalidArgument("sinfo --json: a node has no name");
  n.state = Get<std::string>(j, "state", "unknown");
  if (auto f = j.find("state_flags"); f != j.end() && f->is_array())
    for (const json& flag : *f)
      if (flag.is_string()) n.flags.push_back(flag.get<std::string>());
  n.cpus = Get<int>(j, "cpus", 0);
  n.alloc_cpus = Get<int>(j, "alloc_cpus", 0);
  n.reason = Get<std::string>(j, "reason", "");
  return n;
}

// The objects of the document's `list`, each read by `one`.
template <typename T, typename F>
Result<std::vector<T>> ParseList(std::string_view text, const char* command, const char* list,
                                 F one) {
  SWELL_ASSIGN_OR_RETURN(json doc, Document(text, command, list));
  std::vector<T> out;
  for (const json& j : doc[list]) {
    if (!j.is_object())
      return InvalidArgument(
          fmt::format("{} --json: an entry of \"{}\" is not an object", command, list));
    SWELL_ASSIGN_OR_RETURN(T t, one(j));
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

bool SlurmJob::HoldsNodes() const {
  static const std::set<std::string> kHolding = {"RUNNING",   "COMPLETING", "CONFIGURING",
                                                 "SUSPENDED", "STOPPED",    "RESIZING",
                                                 "SIGNALING", "STAGE_OUT"};
  return kHolding.count(state) > 0;
}

bool SlurmNode::HasFlag(std::string_view f) const {
  return std::find(flags.begin(), flags.end(), f) != flags.end();
}

bool SlurmNode::Up() const {
  if (HasFlag("NOT_RESPONDING")) return false;
  return state != "down" && state != "future" && state != "unknown";
}

Result<std::vector<SlurmJob>> ParseSqueueJson(std::string_view text) {
  return ParseList<SlurmJob>(text, "squeue", "jobs", JobOf);
}

Result<std::vector<SlurmNode>> ParseSinfoJson(std::string_view text) {
  return ParseList<SlurmNode>(text, "sinfo", "nodes", NodeOf);
}

std::vector<rc::WaitingJob> WaitingJobs(const std::vector<SlurmJob>& jobs) {
  // Running tasks per array, for the throttle.
  std::map<int64_t, int64_t> running;
  for (const auto& j : jobs)
    if (j.array_job_id > 0 && j.HoldsNodes()) ++running[j.array_job_id];
  std::vector<rc::WaitingJob> out;
  for (const auto& j : jobs) {
    if (j.state != "PENDING") continue;
    rc::WaitingJob w;
    w.id = j.id;
    w.priority = j.priority;
    w.submit = j.submit;
    w.partition = j.fits.empty() ? j.partition : j.fits;
    w.one_allocation = true;  // a Slurm job starts whole: one allocation of all its nodes
    if (!j.array_task_string.empty()) {
      auto spec = ParseArraySpec(j.array_task_string);
      w.units = spec.ok() ? static_cast<int64_t>(spec->indices.size()) : 1;
      w.one_allocation = false;
      w.max_running = j.array_max_tasks;
      w.held = running[j.array_job_id];
    }
    w.shape.ntasks = j.tasks;
    w.shape.cpus_per_task = j.cpus_per_task;
    w.shape.mem_mb = j.mem_per_node_mb;
    w.shape.gpus = j.gpus_per_node;
    w.shape.min_nodes = j.node_count;
    w.shape.max_nodes = j.node_count;
    w.shape.time_limit = j.time_limit.value_or(kInfinite);
    w.shape.require = j.required;
    w.shape.exclude = j.excluded;
    w.shape.exclusive = j.exclusive;
    if (WaitsForNodes(j.reason)) {
      w.reason = j.reason == "Priority" ? rc::kPriority : rc::kResources;
    } else {
      w.gate = j.reason;
    }
    out.push_back(std::move(w));
  }
  return out;
}

std::map<std::string, rc::PoolNodeState> NodeStates(const std::vector<SlurmNode>& nodes,
                                                    const std::vector<SlurmJob>& jobs) {
  std::map<std::string, rc::PoolNodeState> out;
  for (const auto& n : nodes) out[n.name].connected = n.Up();
  for (const auto& j : jobs) {
    if (!j.HoldsNodes()) continue;
    Time end = j.time_limit ? j.end : kNever;
    for (const auto& name : j.nodes) {
      auto it = out.find(name);
      if (it == out.end()) continue;
      auto& b = it->second.busy_until;
      b = b ? std::max(*b, end) : end;
    }
  }
  // Cpus in use that no job shows (squeue and sinfo are two reads): busy, for how long unknown.
  for (const auto& n : nodes)
    if (n.alloc_cpus > 0 && !out[n.name].busy_until) out[n.name].busy_until = kNever;
  return out;
}

std::vector<std::pair<int64_t, std::string>> JobsToWiden(const std::vector<SlurmJob>& jobs,
                                                         const std::vector<rc::WaitingJob>& waiting,
                                                         const rc::Routing& routing) {
  std::map<int64_t, const SlurmJob*> by_id;
  for (const auto& j : jobs)
    if (!j.fits.empty() && j.fits != j.partition) by_id[j.id] = &j;
  std::vector<std::pair<int64_t, std::string>> out;
  if (by_id.empty() || routing.types == nullptr) return out;
  for (const auto& w : waiting) {
    auto it = by_id.find(w.id);
    if (it == by_id.end()) continue;
    auto t = rc::RouteJob(w, routing);
    if (!t) continue;
    const std::string& name = (*routing.types)[static_cast<size_t>(*t)].name;
    auto in = rc::PartitionNames(it->second->partition);
    if (std::find(in.begin(), in.end(), name) == in.end()) out.emplace_back(w.id, it->second->fits);
  }
  return out;
}

}  // namespace swell::slurm
