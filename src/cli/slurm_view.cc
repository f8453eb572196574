#include "cli/slurm_view.h"

#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>

#include "common/hostlist.h"
#include "common/local_time.h"
#include "common/slurm_format.h"

namespace swell::cli::slurm {
namespace {

using nlohmann::json;

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Slurm's job states, compact and long (squeue(1), JOB STATE CODES), in Slurm's order.
constexpr std::pair<const char*, const char*> kSlurmJobStates[] = {
    {"PD", "PENDING"},    {"R", "RUNNING"},       {"S", "SUSPENDED"},     {"CD", "COMPLETED"},
    {"CA", "CANCELLED"},  {"F", "FAILED"},        {"TO", "TIMEOUT"},      {"NF", "NODE_FAIL"},
    {"PR", "PREEMPTED"},  {"BF", "BOOT_FAIL"},    {"DL", "DEADLINE"},     {"OOM", "OUT_OF_MEMORY"},
    {"CG", "COMPLETING"}, {"CF", "CONFIGURING"},  {"RS", "RESIZING"},     {"RD", "RESV_DEL_HOLD"},
    {"RQ", "REQUEUED"},   {"RF", "REQUEUE_FED"},  {"RH", "REQUEUE_HOLD"}, {"RV", "REVOKED"},
    {"SI", "SIGNALING"},  {"SE", "SPECIAL_EXIT"}, {"SO", "STAGE_OUT"},    {"ST", "STOPPED"},
};

// A column of squeue or sinfo: its type letter and header word.
struct Column {
  char type;
  const char* header;
};

template <size_t N>
const Column* FindColumn(const Column (&columns)[N], char type) {
  for (const auto& c : columns)
    if (c.type == type) return &c;
  return nullptr;
}

// The number structs of Slurm's JSON: {"set": true, "infinite": false, "number": N}.
json Number(int64_t n) { return {{"set", true}, {"infinite", false}, {"number", n}}; }
json Unset() { return {{"set", false}, {"infinite", false}, {"number", 0}}; }
json Infinite() { return {{"set", false}, {"infinite", true}, {"number", 0}}; }

// Memory in MiB as Slurm prints it: exact units ("100M", "4G", "1536M"; 0 stays "0").
std::string MemText(int64_t mb) {
  if (mb <= 0) return "0";
  const char* units = "MGTP";
  int u = 0;
  while (mb % 1024 == 0 && u < 3) mb /= 1024, ++u;
  return fmt::format("{}{}", mb, units[u]);
}

int Ntasks(const pb::JobSpec& s) { return std::max(1, s.ntasks()); }
int CpusPerTask(const pb::JobSpec& s) { return std::max(1, s.cpus_per_task()); }
int64_t Cpus(const pb::JobSpec& s) { return int64_t{Ntasks(s)} * CpusPerTask(s); }

int64_t NodeCount(const JobRow& row) {
  if (!row.nodes.empty()) return static_cast<int64_t>(row.nodes.size());
  return std::max(1, row.job->spec().min_nodes());
}

// Seconds the line's job has run (0 while pending).
int64_t UsedSeconds(const JobRow& row, Time now) {
  if (row.state == pb::PENDING || row.start_ms == 0) return 0;
  int64_t end = row.end_ms ? row.end_ms : ToMillis(now);
  return std::max<int64_t>(0, (end - row.start_ms) / 1000);
}

std::string Dependency(const pb::JobSpec& spec) {
  std::string out;
  for (const auto& term : spec.dependency().terms()) {
    if (!out.empty()) out += spec.dependency().any() ? "?" : ",";
    out += term.type();
    for (const auto& id : term.job_ids()) out += ":" + id;
  }
  return out;
}

std::string Command(const pb::JobSpec& spec) {
  if (!spec.script_path().empty()) return spec.script_path();
  std::string out;
  for (const auto& a : spec.argv()) out += (out.empty() ? "" : " ") + a;
  return out.empty() ? "(null)" : out;
}

std::string OrNull(const std::string& s) { return s.empty() ? "(null)" : s; }

std::string ArrayId(int64_t id, const std::string& tasks) {
  return fmt::format("{}_[{}]", id, tasks);
}

// The pending line's task string: "3-9" with the array's throttle ("3-9%2").
std::string WithThrottle(const std::string& tasks, const pb::JobInfo& j) {
  int throttle = j.array_max_running() ? j.array_max_running() : j.spec().array_max_running();
  return throttle > 0 ? fmt::format("{}%{}", tasks, throttle) : tasks;
}

// The own job id of array task `index` (tasks take the ids after their array's).
int64_t TaskId(const pb::JobInfo& j, int64_t index) {
  const auto& idx = j.spec().array_indices();
  auto it = std::lower_bound(idx.begin(), idx.end(), index);
  return j.id() + (it - idx.begin());
}

std::string FailReason(const pb::JobInfo& j) {
  if (j.state() == pb::TIMEOUT) return "TimeLimit";
  if (j.state() == pb::FAILED) return j.signal() ? "RaisedSignal" : "NonZeroExitCode";
  if (j.state() == pb::NODE_FAIL) return "NodeDown";
  return j.reason();
}

bool ShowsReason(pb::JobState s) { return s == pb::PENDING || s == pb::FAILED || s == pb::TIMEOUT; }

}  // namespace

// ---- Job states ------------------------------------------------------------------------------

std::string_view JobStateCompact(pb::JobState s) {
  switch (s) {
    case pb::PENDING:
      return "PD";
    case pb::RUNNING:
      return "R";
    case pb::COMPLETED:
      return "CD";
    case pb::FAILED:
      return "F";
    case pb::CANCELLED:
      return "CA";
    case pb::TIMEOUT:
      return "TO";
    case pb::NODE_FAIL:
      return "NF";
    default:
      return "?";
  }
}

std::string_view JobStateName(pb::JobState s) {
  // The enum's own names are Slurm's (PENDING, ..., NODE_FAIL).
  if (s == pb::JOB_STATE_UNSPECIFIED || !pb::JobState_IsValid(s)) return "UNKNOWN";
  return pb::JobState_Name(s);
}

Result<std::optional<std::set<std::string>>> ParseJobStates(std::string_view text) {
  if (Lower(text) == "all") return std::optional<std::set<std::string>>();
  std::set<std::string> out;
  size_t i = 0;
  while (i <= text.size()) {
    size_t j = text.find(',', i);
    if (j == std::string_view::npos) j = text.size();
    std::string_view raw = text.substr(i, j - i);
    std::string item = Upper(raw);
    i = j + 1;
    if (item.empty()) continue;
    bool found = false;
    for (const auto& [compact, name] : kSlurmJobStates) {
      if (item == compact || item == name) {
        out.insert(name);
        found = true;
      }
    }
    if (!found) return InvalidArgument(std::string(raw));
  }
  return std::optional<std::set<std::string>>(std::move(out));
}

std::string ValidJobStates() {
  std::string out;
  for (const auto& [compact, name] : kSlurmJobStates)
    out += (out.empty() ? "" : ",") + std::string(name);
  return out;
}

// ---- squeue ----------------------------------------------------------------------------------

std::vector<JobRow> JobRows(const pb::QueueReply& reply, bool one_per_task) {
  std::vector<JobRow> rows;
  for (const auto& j : reply.jobs()) {
    JobRow base;
    base.job = &j;
    base.own_id = j.id();
    base.id = std::to_string(j.id());
    base.state = j.state();
    base.reason = FailReason(j);
    base.start_ms = j.start_ms();
    base.end_ms = j.end_ms();
    base.partition = j.partition().empty() ? kStaticPartition : j.partition();
    base.nodes.assign(j.nodes().begin(), j.nodes().end());
    const auto& indices = j.spec().array_indices();
    if (indices.empty()) {
      rows.push_back(std::move(base));
      continue;
    }
    if (Terminal(j.state())) {
      // A finished array: one line for all its tasks.
      base.indices.assign(indices.begin(), indices.end());
      base.array_tasks = FormatArrayIndices(base.indices);
      base.id = ArrayId(j.id(), base.array_tasks);
      rows.push_back(std::move(base));
      continue;
    }
    base.nodes.clear();
    if (!j.pending_indices().empty()) {
      auto pending = ParseArraySpec(j.pending_indices(), std::numeric_limits<int64_t>::max());
      JobRow p = base;
      p.state = pb::PENDING;
      p.start_ms = p.end_ms = 0;
      if (pending.ok()) p.indices = pending->indices;
      if (one_per_task && pending.ok()) {
        for (int64_t idx : pending->indices) {
          JobRow t = p;
          t.indices = {idx};
          t.index = idx;
          t.own_id = TaskId(j, idx);
          t.array_tasks = std::to_string(idx);
          t.id = fmt::format("{}_{}", j.id(), idx);
          rows.push_back(std::move(t));
        }
      } else {
        p.array_tasks = WithThrottle(j.pending_indices(), j);
        p.id = ArrayId(j.id(), p.array_tasks);
        if (p.indices.size() == 1) p.index = p.indices[0];
        rows.push_back(std::move(p));
      }
    }
    for (const auto& t : j.tasks()) {
      if (t.state() != pb::RUNNING || t.array_index() < 0) continue;
      JobRow r = base;
      r.state = pb::RUNNING;
      r.reason.clear();
      r.index = t.array_index();
      r.indices = {t.array_index()};
      r.own_id = t.job_id();
      r.array_tasks = std::to_string(t.array_index());
      r.id = fmt::format("{}_{}", j.id(), t.array_index());
      r.start_ms = t.start_ms();
      r.end_ms = 0;
      if (!t.node().empty()) r.nodes = {t.node()};
      rows.push_back(std::move(r));
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const JobRow& a, const JobRow& b) {
    if (a.partition != b.partition) return a.partition < b.partition;
    auto sa = JobStateCompact(a.state), sb = JobStateCompact(b.state);
    if (sa != sb) return sa < sb;
    if (a.job->priority() != b.job->priority()) return a.job->priority() > b.job->priority();
    if (a.job->id() != b.job->id()) return a.job->id() < b.job->id();
    return a.index.value_or(-1) < b.index.value_or(-1);
  });
  return rows;
}

bool Terminal(pb::JobState s) { return s != pb::PENDING && s != pb::RUNNING; }

Result<JobRef> ParseJobRef(std::string_view text, bool steps) {
  auto number = [](std::string_view s) -> std::optional<int64_t> {
    if (s.empty() || s.size() > 15) return std::nullopt;
    int64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + (c - '0');
    }
    return v;
  };
  JobRef ref;
  size_t dot = text.find('.');
  if (steps && dot != std::string_view::npos) {
    auto step = number(text.substr(dot + 1));
    if (!step) return InvalidArgument(std::string(text));
    ref.step = *step;
    text = text.substr(0, dot);
  }
  size_t us = text.find('_');
  auto id = number(text.substr(0, us));
  if (!id || *id <= 0) return InvalidArgument(std::string(text));
  ref.id = *id;
  if (us != std::string_view::npos) {
    auto index = number(text.substr(us + 1));
    if (!index) return InvalidArgument(std::string(text));
    ref.index = *index;
  }
  return ref;
}

bool RowMatches(const JobRow& row, const JobRef& ref) {
  if (row.job->id() != ref.id && row.own_id != ref.id) return false;
  if (!ref.index) return true;
  if (row.own_id == ref.id && row.job->id() != ref.id) return false;  // "12_3" names no task id
  return std::find(row.indices.begin(), row.indices.end(), *ref.index) != row.indices.end();
}

void NarrowRow(JobRow* row, const std::set<int64_t>& indices) {
  std::vector<int64_t> kept;
  for (int64_t i : row->indices)
    if (indices.count(i)) kept.push_back(i);
  if (kept.empty() || kept.size() == row->indices.size()) return;
  row->indices = kept;
  if (kept.size() == 1) {
    row->index = kept[0];
    row->own_id = TaskId(*row->job, kept[0]);
    row->array_tasks = std::to_string(kept[0]);
    row->id = fmt::format("{}_{}", row->job->id(), kept[0]);
  } else {
    row->array_tasks = FormatArrayIndices(kept);
    row->id = ArrayId(row->job->id(), row->array_tasks);
  }
}

bool Recent(const JobRow& row, Time now) {
  if (!Terminal(row.state)) return true;
  int64_t ended = std::max(row.end_ms, row.job->submit_ms());
  return ToMillis(now) - ended < kMinJobAge.count();
}

namespace {

constexpr Column kJobColumns[] = {
    {'a', "ACCOUNT"},
    {'A', "JOBID"},
    {'B', "EXEC_HOST"},
    {'c', "MIN_CPUS"},
    {'C', "CPUS"},
    {'d', "MIN_TMP_DISK"},
    {'D', "NODES"},
    {'e', "END_TIME"},
    {'E', "DEPENDENCY"},
    {'f', "FEATURES"},
    {'F', "ARRAY_JOB_ID"},
    {'g', "GROUP"},
    {'G', "GROUP"},
    {'i', "JOBID"},
    {'j', "NAME"},
    {'k', "COMMENT"},
    {'K', "ARRAY_TASK_ID"},
    {'l', "TIME_LIMIT"},
    {'L', "TIME_LEFT"},
    {'m', "MIN_MEMORY"},
    {'M', "TIME"},
    {'N', "NODELIST"},
    {'o', "COMMAND"},
    {'p', "PRIORITY"},
    {'P', "PARTITION"},
    {'q', "QOS"},
    {'Q', "PRIORITY"},
    {'r', "REASON"},
    {'R', "NODELIST(REASON)"},
    {'S', "START_TIME"},
    {'t', "ST"},
    {'T', "STATE"},
    {'u', "USER"},
    {'U', "UID"},
    {'V', "SUBMIT_TIME"},
    {'y', "NICE"},
    {'Z', "WORK_DIR"},
};

}  // namespace

bool IsJobField(char type) { return FindColumn(kJobColumns, type) != nullptr; }

FieldText JobHeader(char type) {
  const Column* c = FindColumn(kJobColumns, type);
  if (!c) return {};
  // Node lists are never cut, their headers neither.
  return {c->header, type != 'N' && type != 'R'};
}

FieldText JobField(char type, const JobRow& row, Time now) {
  const pb::JobInfo& j = *row.job;
  const pb::JobSpec& spec = j.spec();
  int64_t limit_s = spec.time_limit_ms() / 1000;
  switch (type) {
    case 'a':
      return {"(null)"};
    case 'A':
      return {std::to_string(row.own_id)};
    case 'B':
      return {row.nodes.empty() ? "n/a" : row.nodes[0]};
    case 'c':
      return {std::to_string(CpusPerTask(spec))};
    case 'C':
      return {std::to_string(Cpus(spec))};
    case 'd':
      return {"0"};
    case 'D':
      return {std::to_string(NodeCount(row))};
    case 'e':
      if (row.end_ms) return {TimeStamp(row.end_ms)};
      if (row.state == pb::RUNNING && row.start_ms)
        return {limit_s ? TimeStamp(row.start_ms + limit_s * 1000) : "NONE"};
      return {"N/A"};
    case 'E': {
      bool waiting = row.state == pb::PENDING &&
                     (row.reason == "Dependency" || row.reason == "DependencyNeverSatisfied");
      std::string dep = Dependency(spec);
      return {waiting && !dep.empty() ? dep : "(null)"};
    }
    case 'f':
      return {"(null)"};
    case 'F':
      return {std::to_string(j.id())};
    case 'g':
      return {PrimaryGroup(j.uid()).first};
    case 'G':
      return {std::to_string(PrimaryGroup(j.uid()).second)};
    case 'i':
      return {row.id};
    case 'j':
      return {j.name()};
    case 'k':
      return {OrNull(spec.comment())};
    case 'K':
      return {row.array_tasks.empty() ? "N/A" : row.array_tasks};
    case 'l':
      return {limit_s ? FormatSeconds(limit_s) : "UNLIMITED"};
    case 'L':
      return {limit_s ? FormatSeconds(limit_s - UsedSeconds(row, now)) : "UNLIMITED"};
    case 'm':
      return {MemText(spec.mem_mb())};
    case 'M':
      return {FormatSeconds(UsedSeconds(row, now))};
    case 'N':
      return {CompressHostList(row.nodes), false};
    case 'o':
      return {Command(spec)};
    case 'p':
      return {fmt::format("{:16.14f}", j.priority() / 4294967295.0)};
    case 'P':
      return {row.partition};
    case 'q':
      return {"normal"};
    case 'Q':
      return {std::to_string(j.priority())};
    case 'r':
      return {row.reason.empty() ? "None" : row.reason};
    case 'R':
      if (ShowsReason(row.state)) return {"(" + (row.reason.empty() ? "None" : row.reason) + ")"};
      return {CompressHostList(row.nodes), false};
    case 'S':
      return {TimeStamp(row.start_ms)};
    case 't':
      return {std::string(JobStateCompact(row.state))};
    case 'T':
      return {std::string(JobStateName(row.state))};
    case 'u':
      return {j.user()};
    case 'U':
      return {std::to_string(j.uid())};
    case 'V':
      return {TimeStamp(j.submit_ms())};
    case 'y':
      return {std::to_string(spec.nice())};
    case 'Z':
      return {spec.work_dir()};
    default:
      return {};
  }
}

nlohmann::json JobsJson(const std::vector<JobRow>& rows) {
  json jobs = json::array();
  for (const auto& row : rows) {
    const pb::JobInfo& j = *row.job;
    const pb::JobSpec& spec = j.spec();
    bool is_array = spec.array_indices_size() > 0;
    auto [group, gid] = PrimaryGroup(j.uid());
    auto seconds = [](int64_t ms) { return Number(ms / 1000); };
    json exit_code = {
        {"status",
         json::array({Terminal(row.state)
                          ? (j.signal() ? "SIGNALED" : (j.exit_code() ? "ERROR" : "SUCCESS"))
                          : "PENDING"})},
        {"return_code", Number(j.exit_code())},
        {"signal", {{"id", j.signal() ? Number(j.signal()) : Unset()}, {"name", ""}}}};
    int64_t end_ms = row.end_ms;
    if (!end_ms && row.state == pb::RUNNING && spec.time_limit_ms())
      end_ms = row.start_ms + spec.time_limit_ms();
    jobs.push_back({
        {"account", ""},
        {"array_job_id", is_array ? Number(j.id()) : Number(0)},
        {"array_task_id", row.index ? Number(*row.index) : Unset()},
        {"array_max_tasks", Number(is_array ? spec.array_max_running() : 0)},
        {"array_task_string", row.index ? "" : row.array_tasks},
        {"batch_flag", !spec.script().empty() || !spec.script_path().empty()},
        {"batch_host", row.nodes.empty() ? "" : row.nodes[0]},
        {"command", spec.script_path()},
        {"comment", spec.comment()},
        {"cpus", Number(Cpus(spec))},
        {"cpus_per_task", Number(CpusPerTask(spec))},
        {"current_working_directory", spec.work_dir()},
        {"dependency", Dependency(spec)},
        {"end_time", seconds(end_ms)},
        {"exit_code", exit_code},
        {"group_id", gid},
        {"group_name", group},
        {"job_id", row.own_id},
        {"job_state", json::array({std::string(JobStateName(row.state))})},
        {"memory_per_node", spec.mem_mb() ? Number(spec.mem_mb()) : Unset()},
        {"name", j.name()},
        {"nice", spec.nice()},
        {"node_count", Number(NodeCount(row))},
        {"nodes", CompressHostList(row.nodes)},
        {"partition", row.partition},
        {"priority", Number(j.priority())},
        {"requeue", spec.requeue()},
        {"restart_cnt", j.restarts()},
        {"standard_error", j.stderr_path()},
        {"standard_input", spec.input().empty() ? "/dev/null" : spec.input()},
        {"standard_output", j.stdout_path()},
        {"start_time", seconds(row.start_ms)},
        {"state_reason", row.reason.empty() ? "None" : row.reason},
        {"submit_time", seconds(j.submit_ms())},
        {"tasks", Number(Ntasks(spec))},
        {"time_limit",
         spec.time_limit_ms() ? Number((spec.time_limit_ms() + 59999) / 60000) : Infinite()},
        {"user_id", j.uid()},
        {"user_name", j.user()},
    });
  }
  return {{"jobs", jobs}};
}

// ---- sinfo -----------------------------------------------------------------------------------

NodeState NodeStateOf(const pb::NodeInfo& node) {
  // Slurm's base states and flags (slurm.h): the numbers only order sinfo's lines.
  constexpr uint32_t kDown = 1, kIdle = 2, kAlloc = 3, kMixed = 5;
  constexpr uint32_t kDrain = 1u << 9, kNoRespond = 1u << 11, kPoweringUp = 1u << 14,
                     kPoweringDown = 1u << 18;
  const std::string& s = node.state();
  bool busy = node.cpus_used() > 0;
  bool full = node.cpus() > 0 && node.cpus_used() >= node.cpus();
  if (s == "IDLE") return {"IDLE", "IDLE", "IDLE", kIdle};
  if (s == "MIXED") return {"MIX", "MIXED", "MIXED", kMixed};
  if (s == "ALLOCATED") return {"ALLOC", "ALLOCATED", "ALLOCATED", kAlloc};
  if (s == "DOWN") {
    if (!node.reason().empty()) return {"DOWN", "DOWN", "DOWN", kDown};
    return {"DOWN*", "DOWN*", "DOWN+NOT_RESPONDING", kDown | kNoRespond};
  }
  if (s == "DRAINING") {
    if (!busy) return {"DRAIN", "DRAINED", "IDLE+DRAIN", kIdle | kDrain};
    return {"DRNG", "DRAINING", full ? "ALLOCATED+DRAIN" : "MIXED+DRAIN",
            (full ? kAlloc : kMixed) | kDrain};
  }
  if (s == "POWERING_UP") return {"IDLE#", "IDLE#", "IDLE+POWERING_UP", kIdle | kPoweringUp};
  if (s == "POWERING_DOWN") return {"IDLE%", "IDLE%", "IDLE+POWERING_DOWN", kIdle | kPoweringDown};
  return {"UNK*", "UNKNOWN*", "UNKNOWN+NOT_RESPONDING", kNoRespond};
}

std::string PartitionOf(const pb::NodeInfo& node) {
  return node.partition().empty() ? kStaticPartition : node.partition();
}

std::vector<NodeGroup> NodeGroups(const pb::NodesReply& reply, bool node_oriented, bool by_state,
                                  bool by_reason) {
  // The partitions, in order.
  std::vector<std::string> parts;
  auto add_part = [&](const std::string& p) {
    if (std::find(parts.begin(), parts.end(), p) == parts.end()) parts.push_back(p);
  };
  bool any_static = reply.partitions_size() == 0;
  for (const auto& n : reply.nodes()) any_static = any_static || n.partition().empty();
  if (any_static) add_part(kStaticPartition);
  for (const auto& p : reply.partitions()) add_part(p);
  std::vector<std::string> extra;
  for (const auto& n : reply.nodes())
    if (std::find(parts.begin(), parts.end(), PartitionOf(n)) == parts.end())
      extra.push_back(PartitionOf(n));
  std::sort(extra.begin(), extra.end());
  for (const auto& p : extra) add_part(p);

  std::vector<NodeGroup> out;
  for (const auto& part : parts) {
    std::vector<NodeGroup> groups;
    for (const auto& n : reply.nodes()) {
      if (PartitionOf(n) != part) continue;
      NodeState st = NodeStateOf(n);
      NodeGroup* g = nullptr;
      if (!node_oriented) {
        for (auto& cand : groups) {
          if (by_state && cand.state.name != st.name) continue;
          if (by_reason && cand.nodes[0]->reason() != n.reason()) continue;
          g = &cand;
          break;
        }
      }
      if (!g) {
        groups.push_back({part, part == kStaticPartition, st, {}});
        g = &groups.back();
      }
      g->nodes.push_back(&n);
    }
    if (groups.empty() && !node_oriented)
      groups.push_back({part, part == kStaticPartition, {}, {}});
    if (!node_oriented)
      std::stable_sort(groups.begin(), groups.end(), [](const NodeGroup& a, const NodeGroup& b) {
        return a.state.order > b.state.order;
      });
    for (auto& g : groups) out.push_back(std::move(g));
  }
  if (node_oriented)
    std::stable_sort(out.begin(), out.end(), [](const NodeGroup& a, const NodeGroup& b) {
      return HostLess(a.nodes[0]->name(), b.nodes[0]->name());
    });
  return out;
}

namespace {

constexpr Column kNodeColumns[] = {
    {'a', "AVAIL"},          {'A', "NODES(A/I)"},     {'c', "CPUS"},      {'C', "CPUS(A/I/O/T)"},
    {'d', "TMP_DISK"},       {'D', "NODES"},          {'e', "FREE_MEM"},  {'E', "REASON"},
    {'f', "AVAIL_FEATURES"}, {'F', "NODES(A/I/O/T)"}, {'g', "GROUPS"},    {'G', "GRES"},
    {'h', "OVERSUBSCRIBE"},  {'i', "RESERVATION"},    {'l', "TIMELIMIT"}, {'L', "DEFAULTTIME"},
    {'m', "MEMORY"},         {'n', "HOSTNAMES"},      {'N', "NODELIST"},  {'o', "NODE_ADDR"},
    {'O', "CPU_LOAD"},       {'P', "PARTITION"},      {'r', "ROOT"},      {'R', "PARTITION"},
    {'s', "JOB_SIZE"},       {'S', "ALLOCNODES"},     {'t', "STATE"},     {'T', "STATE"},
    {'w', "WEIGHT"},         {'X', "SOCKETS"},        {'Y', "CORES"},     {'z', "S:C:T"},
    {'Z', "THREADS"},
};

// Counts of a group's nodes and cpus: allocated, idle, other, total.
struct Counts {
  int64_t alloc = 0, idle = 0, other = 0, total = 0;
};

Counts NodeCounts(const NodeGroup& g) {
  Counts c;
  for (const auto* n : g.nodes) {
    std::string s = NodeStateOf(*n).compact;
    if (s == "ALLOC" || s == "MIX")
      ++c.alloc;
    else if (s == "IDLE")
      ++c.idle;
    else
      ++c.other;
    ++c.total;
  }
  return c;
}

Counts CpuCounts(const NodeGroup& g) {
  Counts c;
  for (const auto* n : g.nodes) {
    std::string s = NodeStateOf(*n).compact;
    if (s == "ALLOC" || s == "MIX" || s == "IDLE") {
      c.alloc += n->cpus_used();
      c.idle += std::max(0, n->cpus() - n->cpus_used());
    } else {
      c.other += n->cpus();
    }
    c.total += n->cpus();
  }
  return c;
}

// "8" when every node has 8, "4+" when the smallest has 4 (sinfo without -e).
template <typename F>
std::string MinPlus(const NodeGroup& g, F value) {
  if (g.nodes.empty()) return "0";
  auto lo = value(*g.nodes[0]), hi = lo;
  for (const auto* n : g.nodes) lo = std::min(lo, value(*n)), hi = std::max(hi, value(*n));
  return std::to_string(lo) + (hi > lo ? "+" : "");
}

std::string Names(const NodeGroup& g, bool hostnames) {
  std::vector<std::string> names;
  for (const auto* n : g.nodes)
    names.push_back(hostnames && !n->hostname().empty() ? n->hostname() : n->name());
  return CompressHostList(names);
}

std::string Gres(int gpus) { return gpus > 0 ? fmt::format("gpu:{}", gpus) : "(null)"; }

}  // namespace

bool IsNodeField(char type) { return FindColumn(kNodeColumns, type) != nullptr; }

FieldText NodeHeader(char type) {
  const Column* c = FindColumn(kNodeColumns, type);
  if (!c) return {};
  return {c->header, !(type == 'N' || type == 'n' || type == 'o')};
}

FieldText NodeField(char type, const NodeGroup& g) {
  auto cpus = [](const pb::NodeInfo& n) { return n.cpus(); };
  switch (type) {
    case 'a':
      return {"up"};
    case 'A': {
      Counts c = NodeCounts(g);
      return {fmt::format("{}/{}", c.alloc, c.idle)};
    }
    case 'c':
      return {MinPlus(g, cpus)};
    case 'C': {
      Counts c = CpuCounts(g);
      return {fmt::format("{}/{}/{}/{}", c.alloc, c.idle, c.other, c.total)};
    }
    case 'd':
      return {"0"};
    case 'D':
      return {std::to_string(g.nodes.size())};
    case 'e':
    case 'O':
      return {"N/A"};
    case 'E':
      return {g.nodes.empty() || g.nodes[0]->reason().empty() ? "none" : g.nodes[0]->reason()};
    case 'f':
      return {"(null)"};
    case 'F': {
      Counts c = NodeCounts(g);
      return {fmt::format("{}/{}/{}/{}", c.alloc, c.idle, c.other, c.total)};
    }
    case 'g':
    case 'S':
      return {"all"};
    case 'G':
      return {g.nodes.empty() ? "(null)" : Gres(g.nodes[0]->gpus())};
    case 'h':
      return {"NO"};
    case 'i':
      return {""};
    case 'l':
      return {"infinite"};
    case 'L':
      return {"n/a"};
    case 'm':
      return {MinPlus(g, [](const pb::NodeInfo& n) { return n.mem_mb(); })};
    case 'n':
      return {Names(g, true), true};
    case 'N':
    case 'o':
      return {Names(g, false), true};
    case 'P':
      return {g.partition + (g.is_default ? "*" : "")};
    case 'R':
      return {g.partition};
    case 'r':
      return {"no"};
    case 's':
      return {"1-infinite"};
    case 't':
      return {g.nodes.empty() ? "n/a" : Lower(g.state.compact)};
    case 'T':
      return {g.nodes.empty() ? "n/a" : Lower(g.state.name)};
    case 'w':
    case 'Y':
    case 'Z':
      return {"1"};
    case 'X':
      return {MinPlus(g, cpus)};
    case 'z':
      return {MinPlus(g, cpus) + ":1:1"};
    default:
      return {};
  }
}

nlohmann::json NodesJson(const std::vector<NodeGroup>& groups) {
  json out = json::array();
  for (const auto& g : groups) {
    Counts nc = NodeCounts(g), cc = CpuCounts(g);
    json states = json::array();
    std::string complete = g.nodes.empty() ? "" : g.state.complete;
    size_t i = 0;
    while (!complete.empty() && i <= complete.size()) {
      size_t j = complete.find('+', i);
      if (j == std::string::npos) j = complete.size();
      states.push_back(complete.substr(i, j - i));
      i = j + 1;
    }
    json names = json::array(), hosts = json::array();
    int64_t min_cpus = 0, max_cpus = 0, min_mem = 0, max_mem = 0, mem_used = 0;
    for (size_t k = 0; k < g.nodes.size(); ++k) {
      const auto* n = g.nodes[k];
      names.push_back(n->name());
      hosts.push_back(n->hostname().empty() ? n->name() : n->hostname());
      min_cpus = k ? std::min<int64_t>(min_cpus, n->cpus()) : n->cpus();
      max_cpus = std::max<int64_t>(max_cpus, n->cpus());
      min_mem = k ? std::min(min_mem, n->mem_mb()) : n->mem_mb();
      max_mem = std::max(max_mem, n->mem_mb());
      mem_used += n->mem_used_mb();
    }
    std::string reason = g.nodes.empty() ? "" : g.nodes[0]->reason();
    out.push_back({
        {"node", {{"state", states}}},
        {"nodes",
         {{"allocated", nc.alloc},
          {"idle", nc.idle},
          {"other", nc.other},
          {"total", nc.total},
          {"hostnames", hosts},
          {"addresses", hosts},
          {"nodes", names}}},
        {"cpus",
         {{"allocated", cc.alloc},
          {"idle", cc.idle},
          {"other", cc.other},
          {"total", cc.total},
          {"minimum", min_cpus},
          {"maximum", max_cpus}}},
        {"memory",
         {{"minimum", min_mem},
          {"maximum", max_mem},
          {"allocated", mem_used},
          {"free", {{"minimum", Unset()}, {"maximum", Unset()}}}}},
        {"gres",
         {{"total", g.nodes.empty() || !g.nodes[0]->gpus() ? "" : Gres(g.nodes[0]->gpus())},
          {"used", ""}}},
        {"reason", {{"description", reason}}},
        {"partition",
         {{"name", g.partition},
          {"default", g.is_default},
          {"nodes", {{"configured", Names(g, false)}, {"total", nc.total}}},
          {"partition", {{"state", json::array({"UP"})}}},
          {"maximums", {{"time", Infinite()}}}}},
    });
  }
  return {{"sinfo", out}};
}

// ---- scontrol --------------------------------------------------------------------------------

namespace {

// One record's lines, joined as scontrol joins them ("\n   " between fields' lines).
class Record {
 public:
  void Line(std::string text) { lines_.push_back(std::move(text)); }
  // Job records end with an empty continuation line, node records do not.
  std::string Text(bool trailing_continuation, bool one_liner) const {
    const char* sep = one_liner ? " " : "\n   ";
    std::string out;
    for (size_t i = 0; i < lines_.size(); ++i) out += (i ? sep : "") + lines_[i];
    if (trailing_continuation) out += sep;
    return out + (one_liner ? "\n" : "\n\n");
  }

 private:
  std::vector<std::string> lines_;
};

// What differs between the records of one job: the whole job, one task, or the pending rest.
struct JobPart {
  int64_t job_id = 0;
  std::string array_line;  // "ArrayJobId=.. ArrayTaskId=.. " or empty
  pb::JobState state = pb::PENDING;
  std::string reason;
  int exit_code = 0, signal = 0;
  std::vector<std::string> nodes;
  int64_t start_ms = 0, end_ms = 0;
  int restarts = 0;
};

std::string JobRecord(const pb::JobInfo& j, const JobPart& p, Time now, bool one_liner) {
  const pb::JobSpec& s = j.spec();
  auto [group, gid] = PrimaryGroup(j.uid());
  Record r;
  r.Line(fmt::format("JobId={} {}JobName={}", p.job_id, p.array_line, j.name()));
  r.Line(fmt::format("UserId={}({}) GroupId={}({}) MCS_label=N/A", j.user(), j.uid(), group, gid));
  r.Line(fmt::format("Priority={} Nice={} Account=(null) QOS=normal", j.priority(), s.nice()));
  std::string dep = Dependency(s);
  r.Line(fmt::format("JobState={} Reason={} Dependency={}", JobStateName(p.state),
                     p.reason.empty() ? "None" : p.reason, dep.empty() ? "(null)" : dep));
  r.Line(fmt::format("Requeue={} Restarts={} BatchFlag={} Reboot=0 ExitCode={}:{}",
                     s.requeue() ? 1 : 0, p.restarts, s.script_path().empty() ? 0 : 1, p.exit_code,
                     p.signal));
  int64_t run_ms = 0;
  if (p.state != pb::PENDING && p.start_ms)
    run_ms = std::max<int64_t>(0, (p.end_ms ? p.end_ms : ToMillis(now)) - p.start_ms);
  r.Line(
      fmt::format("RunTime={} TimeLimit={} TimeMin=N/A", FormatDuration(Duration(run_ms)),
                  s.time_limit_ms() ? FormatDuration(Duration(s.time_limit_ms())) : "UNLIMITED"));
  int64_t eligible = std::max(j.submit_ms(), s.begin_time_ms());
  r.Line(fmt::format("SubmitTime={} EligibleTime={}", TimeStamp(j.submit_ms(), "Unknown"),
                     p.state == pb::PENDING && !s.dependency().terms().empty()
                         ? std::string("Unknown")
                         : TimeStamp(eligible, "Unknown")));
  r.Line(fmt::format("AccrueTime={}", TimeStamp(eligible, "Unknown")));
  std::string end = "Unknown";
  if (p.end_ms)
    end = TimeStamp(p.end_ms);
  else if (p.state == pb::RUNNING && s.time_limit_ms())
    end = TimeStamp(p.start_ms + s.time_limit_ms());
  r.Line(
      fmt::format("StartTime={} EndTime={} Deadline=N/A", TimeStamp(p.start_ms, "Unknown"), end));
  r.Line("SuspendTime=None SecsPreSuspend=0 LastSchedEval=" + TimeStamp(j.submit_ms(), "Unknown") +
         " Scheduler=Main");
  std::string partition = j.partition().empty() ? kStaticPartition : j.partition();
  r.Line(fmt::format("Partition={} AllocNode:Sid={}:0", partition, OrNull(s.submit_host())));
  auto names = [](const auto& list) {
    return OrNull(CompressHostList(std::vector<std::string>(list.begin(), list.end())));
  };
  r.Line("ReqNodeList=" + names(s.nodelist()) + " ExcNodeList=" + names(s.exclude()));
  std::string nodelist = CompressHostList(p.nodes);
  r.Line("NodeList=" + OrNull(nodelist));
  if (!p.nodes.empty()) r.Line("BatchHost=" + p.nodes[0]);
  int64_t nodes =
      p.nodes.empty() ? std::max(1, s.min_nodes()) : static_cast<int64_t>(p.nodes.size());
  std::string num_nodes = std::to_string(nodes);
  if (p.state == pb::PENDING && s.max_nodes() > 0)
    num_nodes = fmt::format("{}-{}", nodes, s.max_nodes());
  r.Line(fmt::format("NumNodes={} NumCPUs={} NumTasks={} CPUs/Task={} ReqB:S:C:T=0:0:*:*",
                     num_nodes, Cpus(s), Ntasks(s), CpusPerTask(s)));
  std::string tres = fmt::format("cpu={}", Cpus(s));
  if (s.mem_mb() > 0) tres += ",mem=" + MemText(s.mem_mb() * nodes);
  tres += fmt::format(",node={},billing={}", nodes, Cpus(s));
  if (s.gpus() > 0) tres += fmt::format(",gres/gpu={}", s.gpus());
  r.Line("ReqTRES=" + tres);
  r.Line("AllocTRES=" + (p.state == pb::PENDING ? std::string("(null)") : tres));
  r.Line("Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=*");
  r.Line(fmt::format("MinCPUsNode={} MinMemoryNode={} MinTmpDiskNode=0", CpusPerTask(s),
                     MemText(s.mem_mb())));
  r.Line("Features=(null) DelayBoot=00:00:00");
  r.Line(fmt::format("OverSubscribe={} Contiguous=0 Licenses=(null) Network=(null)",
                     s.exclusive() ? "NO" : "OK"));
  r.Line("Command=" + Command(s));
  r.Line("WorkDir=" + s.work_dir());
  if (!s.comment().empty()) r.Line("Comment=" + s.comment() + " ");
  r.Line("StdErr=" + j.stderr_path());
  r.Line("StdIn=" + (s.input().empty() ? std::string("/dev/null") : s.input()));
  r.Line("StdOut=" + j.stdout_path());
  return r.Text(true, one_liner);
}

}  // namespace

std::string ShowJob(const pb::JobInfo& j, std::optional<int64_t> index, Time now, bool one_liner) {
  JobPart whole;
  whole.job_id = j.id();
  whole.state = j.state();
  whole.reason = j.reason().empty() ? FailReason(j) : j.reason();
  whole.exit_code = j.exit_code();
  whole.signal = j.signal();
  whole.start_ms = j.start_ms();
  whole.end_ms = j.end_ms();
  whole.restarts = j.restarts();
  whole.nodes.assign(j.nodes().begin(), j.nodes().end());
  if (j.spec().array_indices_size() == 0) {
    if (whole.nodes.empty())
      for (const auto& t : j.tasks())
        if (!t.node().empty()) whole.nodes.push_back(t.node());
    return JobRecord(j, whole, now, one_liner);
  }
  std::string throttle = j.spec().array_max_running() > 0
                             ? fmt::format("ArrayTaskThrottle={} ", j.spec().array_max_running())
                             : "";
  std::string out;
  std::vector<int64_t> pending;
  for (const auto& t : j.tasks()) {
    if (index && t.array_index() != *index) continue;
    if (t.state() == pb::PENDING && !index) {
      pending.push_back(t.array_index());
      continue;
    }
    JobPart p;
    p.job_id = t.job_id();
    p.array_line =
        fmt::format("ArrayJobId={} ArrayTaskId={} {}", j.id(), t.array_index(), throttle);
    p.state = t.state();
    p.reason = t.state() == pb::PENDING ? whole.reason : "None";
    if (t.state() == pb::FAILED) p.reason = t.signal() ? "RaisedSignal" : "NonZeroExitCode";
    if (t.state() == pb::TIMEOUT) p.reason = "TimeLimit";
    p.exit_code = t.exit_code();
    p.signal = t.signal();
    if (!t.node().empty()) p.nodes = {t.node()};
    p.start_ms = t.start_ms();
    p.end_ms = t.end_ms();
    p.restarts = t.restarts();
    out += JobRecord(j, p, now, one_liner);
  }
  if (!pending.empty()) {
    JobPart p;
    p.job_id = j.id();
    p.array_line = fmt::format("ArrayJobId={} ArrayTaskId={} {}", j.id(),
                               FormatArrayIndices(pending), throttle);
    p.state = pb::PENDING;
    p.reason = j.reason().empty() ? "None" : j.reason();
    out = JobRecord(j, p, now, one_liner) + out;
  }
  return out;
}

std::string ShowNode(const pb::NodeInfo& n, bool one_liner) {
  NodeState st = NodeStateOf(n);
  Record r;
  r.Line(fmt::format("NodeName={} CoresPerSocket=1 ", n.name()));
  r.Line(fmt::format("CPUAlloc={} CPUEfctv={} CPUTot={} CPULoad=0.00", n.cpus_used(), n.cpus(),
                     n.cpus()));
  r.Line("AvailableFeatures=(null)");
  r.Line("ActiveFeatures=(null)");
  r.Line("Gres=" + Gres(n.gpus()));
  r.Line(fmt::format("NodeAddr={} NodeHostName={} Version=swell",
                     n.hostname().empty() ? n.name() : n.hostname(),
                     n.hostname().empty() ? n.name() : n.hostname()));
  r.Line(fmt::format("RealMemory={} AllocMem={} FreeMem=N/A Sockets={} Boards=1", n.mem_mb(),
                     n.mem_used_mb(), n.cpus()));
  r.Line(fmt::format("State={} ThreadsPerCore=1 TmpDisk=0 Weight=1 Owner=N/A MCS_label=N/A",
                     st.complete));
  r.Line("Partitions=" + PartitionOf(n) + " ");
  r.Line("BootTime=None SlurmdStartTime=None");
  r.Line("LastBusyTime=" + TimeStamp(n.last_seen_ms(), "None") + " ResumeAfterTime=None");
  std::string cfg =
      fmt::format("cpu={},mem={},billing={}", n.cpus(), MemText(n.mem_mb()), n.cpus());
  if (n.gpus() > 0) cfg += fmt::format(",gres/gpu={}", n.gpus());
  r.Line("CfgTRES=" + cfg);
  std::string alloc;
  if (n.cpus_used() > 0) alloc = fmt::format("cpu={}", n.cpus_used());
  if (n.mem_used_mb() > 0)
    alloc += (alloc.empty() ? "" : ",") + ("mem=" + MemText(n.mem_used_mb()));
  if (n.gpus_used() > 0)
    alloc += fmt::format("{}gres/gpu={}", alloc.empty() ? "" : ",", n.gpus_used());
  r.Line("AllocTRES=" + alloc);
  r.Line("CapWatts=n/a");
  r.Line("CurrentWatts=0 AveWatts=0");
  r.Line("ExtSensorsJoules=n/a ExtSensorsWatts=0 ExtSensorsTemp=n/a");
  if (!n.reason().empty()) r.Line("Reason=" + n.reason());
  return r.Text(false, one_liner);
}

// ---- Helpers ---------------------------------------------------------------------------------

std::pair<std::string, uint32_t> PrimaryGroup(uint32_t uid) {
  struct passwd pw, *pwp = nullptr;
  char buf[4096];
  if (getpwuid_r(uid, &pw, buf, sizeof buf, &pwp) != 0 || !pwp) return {std::to_string(uid), uid};
  gid_t gid = pw.pw_gid;
  struct group gr, *grp = nullptr;
  if (getgrgid_r(gid, &gr, buf, sizeof buf, &grp) != 0 || !grp) return {std::to_string(gid), gid};
  return {gr.gr_name, gid};
}

bool HostLess(const std::string& a, const std::string& b) {
  auto split = [](const std::string& s) {
    size_t i = s.size();
    while (i > 0 && std::isdigit(static_cast<unsigned char>(s[i - 1]))) --i;
    int64_t n = -1;
    if (i < s.size() && s.size() - i < 18) n = std::stoll(s.substr(i));
    return std::make_pair(s.substr(0, i), n);
  };
  auto x = split(a), y = split(b);
  if (x != y) return x < y;
  return a < b;
}

std::string TimeStamp(int64_t ms, std::string_view none) {
  return ms ? FormatTime(FromMillis(ms)) : std::string(none);
}

}  // namespace swell::cli::slurm
