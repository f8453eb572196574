#include "cli/squeue_view.h"

#include <fmt/format.h>
#include <sys/mman.h>

#include <algorithm>
#include <limits>
#include <numeric>

#include "cli/job_state.h"
#include "cli/slurm_fields.h"
#include "common/hostlist.h"
#include "common/slurm_format.h"

namespace swell::cli::slurm {
namespace {

using nlohmann::json;

// What a brief listing (QueueRequest.brief_specs) carries of the spec in the job's own fields.
int32_t MinNodes(const pb::JobInfo& j) {
  return j.has_spec() ? j.spec().min_nodes() : j.min_nodes();
}
int64_t TimeLimitMs(const pb::JobInfo& j) {
  return j.has_spec() ? j.spec().time_limit_ms() : j.time_limit_ms();
}
const google::protobuf::RepeatedField<int64_t>& ArrayIndices(const pb::JobInfo& j) {
  return j.has_spec() ? j.spec().array_indices() : j.array_indices();
}

int64_t NodeCount(const JobRow& row) {
  if (!row.nodes.empty()) return static_cast<int64_t>(row.nodes.size());
  return std::max(1, MinNodes(*row.job));
}

// Seconds the line's job has run (0 while pending).
int64_t UsedSeconds(const JobRow& row, Time now) {
  if (row.state == pb::PENDING || row.start_ms == 0) return 0;
  int64_t end = row.end_ms ? row.end_ms : ToMillis(now);
  return std::max<int64_t>(0, (end - row.start_ms) / 1000);
}

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
  const auto& idx = ArrayIndices(j);
  auto it = std::lower_bound(idx.begin(), idx.end(), index);
  return j.id() + (it - idx.begin());
}

bool ShowsReason(pb::JobState s) { return s == pb::PENDING || s == pb::FAILED || s == pb::TIMEOUT; }

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

// Asks for huge pages for a large allocation not yet touched: the lines of 100,000 jobs are
// ~25 MB, and faulting them in 4 KiB pages was a fifth of squeue's time. (Only the whole 2 MiB
// pages inside it; where the kernel gives none, nothing changes.)
void AdviseHugePages(void* p, size_t bytes) {
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(kHuge - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

}  // namespace

std::vector<JobRow> JobRows(const pb::QueueReply& reply, bool one_per_task) {
  std::vector<JobRow> rows;
  size_t lines = 0;  // a line per job and per running task (with one_per_task, more may come)
  for (const auto& j : reply.jobs()) lines += 1 + static_cast<size_t>(j.tasks_size());
  rows.reserve(lines);
  AdviseHugePages(rows.data(), rows.capacity() * sizeof(JobRow));
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
    const auto& indices = ArrayIndices(j);
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
  // Sorted by position, then moved once into place, in place: a merge sort of the rows
  // themselves moved each a dozen times (a fifth of squeue's time with 100,000 jobs), and a
  // second vector of them was 25 MB of fresh pages to fault in.
  std::vector<uint32_t> order(rows.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) {
    const JobRow& a = rows[x];
    const JobRow& b = rows[y];
    if (a.partition != b.partition) return a.partition < b.partition;
    auto sa = JobStateCompact(a.state), sb = JobStateCompact(b.state);
    if (sa != sb) return sa < sb;
    if (a.job->priority() != b.job->priority()) return a.job->priority() > b.job->priority();
    if (a.job->id() != b.job->id()) return a.job->id() < b.job->id();
    return a.index.value_or(-1) < b.index.value_or(-1);
  });
  // order[k] is the row that belongs at k: each cycle of the permutation is followed once.
  constexpr uint32_t kPlaced = std::numeric_limits<uint32_t>::max();
  for (uint32_t start = 0; start < order.size(); ++start) {
    if (order[start] == kPlaced) continue;
    JobRow first = std::move(rows[start]);
    uint32_t at = start;
    while (order[at] != start) {
      uint32_t from = order[at];
      rows[at] = std::move(rows[from]);
      order[at] = kPlaced;
      at = from;
    }
    rows[at] = std::move(first);
    order[at] = kPlaced;
  }
  return rows;
}

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
  int64_t limit_s = TimeLimitMs(j) / 1000;
  switch (type) {
    case 'a':
      return {spec.account().empty() ? "(null)" : spec.account()};
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
      return {spec.constraint().empty() ? "(null)" : spec.constraint()};
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
      return {spec.qos().empty() ? "normal" : spec.qos()};
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
    auto seconds = [](int64_t ms) { return JsonNumber(ms / 1000); };
    json exit_code = {
        {"status",
         json::array({Terminal(row.state)
                          ? (j.signal() ? "SIGNALED" : (j.exit_code() ? "ERROR" : "SUCCESS"))
                          : "PENDING"})},
        {"return_code", JsonNumber(j.exit_code())},
        {"signal", {{"id", j.signal() ? JsonNumber(j.signal()) : JsonUnset()}, {"name", ""}}}};
    int64_t end_ms = row.end_ms;
    if (!end_ms && row.state == pb::RUNNING && spec.time_limit_ms())
      end_ms = row.start_ms + spec.time_limit_ms();
    jobs.push_back({
        {"account", spec.account()},
        {"array_job_id", is_array ? JsonNumber(j.id()) : JsonNumber(0)},
        {"array_task_id", row.index ? JsonNumber(*row.index) : JsonUnset()},
        {"array_max_tasks", JsonNumber(is_array ? spec.array_max_running() : 0)},
        {"array_task_string", row.index ? "" : row.array_tasks},
        {"batch_flag", !spec.script().empty() || !spec.script_path().empty()},
        {"batch_host", row.nodes.empty() ? "" : row.nodes[0]},
        {"command", spec.script_path()},
        {"comment", spec.comment()},
        {"cpus", JsonNumber(Cpus(spec))},
        {"cpus_per_task", JsonNumber(CpusPerTask(spec))},
        {"current_working_directory", spec.work_dir()},
        {"dependency", Dependency(spec)},
        {"end_time", seconds(end_ms)},
        {"exit_code", exit_code},
        {"group_id", gid},
        {"group_name", group},
        {"job_id", row.own_id},
        {"job_state", json::array({std::string(JobStateName(row.state))})},
        {"memory_per_node", spec.mem_mb() ? JsonNumber(spec.mem_mb()) : JsonUnset()},
        {"name", j.name()},
        {"nice", spec.nice()},
        {"node_count", JsonNumber(NodeCount(row))},
        {"nodes", CompressHostList(row.nodes)},
        {"partition", row.partition},
        {"priority", JsonNumber(j.priority())},
        {"requeue", spec.requeue()},
        {"restart_cnt", j.restarts()},
        {"standard_error", j.stderr_path()},
        {"standard_input", spec.input().empty() ? "/dev/null" : spec.input()},
        {"standard_output", j.stdout_path()},
        {"start_time", seconds(row.start_ms)},
        {"state_reason", row.reason.empty() ? "None" : row.reason},
        {"submit_time", seconds(j.submit_ms())},
        {"tasks", JsonNumber(Ntasks(spec))},
        {"time_limit", spec.time_limit_ms() ? JsonNumber((spec.time_limit_ms() + 59999) / 60000)
                                            : JsonInfinite()},
        {"user_id", j.uid()},
        {"user_name", j.user()},
    });
  }
  return {{"jobs", jobs}};
}

}  // namespace swell::cli::slurm
