#include "cli/sacct_view.h"

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <map>

#include <fmt/format.h>

#include "cli/job_state.h"
#include "cli/slurm_fields.h"
#include "common/hostlist.h"
#include "common/slurm_format.h"
#include "common/text.h"

namespace swell::cli::slurm {
namespace {

using json = nlohmann::json;

// How print_fields prints a kind of value: strings are cut with a '+', dates cut silently,
// numbers and durations never.
enum Kind { kStr, kNum, kTime, kDate };

struct FieldDef {
  const char* name;
  int width;
  Kind kind;
};

// Slurm 22.05's sacct field table: names, widths (negative: left-justified) and kinds.
constexpr FieldDef kFields[] = {
    {"Account", 10, kStr},
    {"AdminComment", 15, kStr},
    {"AllocCPUS", 10, kNum},
    {"AllocNodes", 10, kStr},
    {"AllocTRES", 10, kStr},
    {"AssocID", 7, kNum},
    {"AveCPU", 10, kStr},
    {"AveCPUFreq", 10, kStr},
    {"AveDiskRead", 14, kStr},
    {"AveDiskWrite", 14, kStr},
    {"AvePages", 10, kStr},
    {"AveRSS", 10, kStr},
    {"AveVMSize", 10, kStr},
    {"BlockID", 16, kStr},
    {"Cluster", 10, kStr},
    {"Comment", 14, kStr},
    {"Constraints", 19, kStr},
    {"ConsumedEnergy", 14, kStr},
    {"ConsumedEnergyRaw", 17, kNum},
    {"Container", 19, kStr},
    {"CPUTime", 10, kTime},
    {"CPUTimeRAW", 10, kNum},
    {"DBIndex", -10, kNum},
    {"DerivedExitCode", 15, kStr},
    {"Elapsed", 10, kTime},
    {"ElapsedRaw", 10, kNum},
    {"Eligible", 19, kDate},
    {"End", 19, kDate},
    {"ExitCode", 8, kStr},
    {"Flags", 19, kStr},
    {"GID", 6, kNum},
    {"Group", 9, kStr},
    {"JobID", -12, kStr},
    {"JobIDRaw", -12, kStr},
    {"JobName", 10, kStr},
    {"Layout", 9, kStr},
    {"MaxDiskRead", 12, kStr},
    {"MaxDiskReadNode", 15, kStr},
    {"MaxDiskReadTask", 15, kNum},
    {"MaxDiskWrite", 12, kStr},
    {"MaxDiskWriteNode", 16, kStr},
    {"MaxDiskWriteTask", 16, kNum},
    {"MaxPages", 8, kStr},
    {"MaxPagesNode", 12, kStr},
    {"MaxPagesTask", 14, kNum},
    {"MaxRSS", 10, kStr},
    {"MaxRSSNode", 10, kStr},
    {"MaxRSSTask", 10, kNum},
    {"MaxVMSize", 10, kStr},
    {"MaxVMSizeNode", 14, kStr},
    {"MaxVMSizeTask", 14, kNum},
    {"McsLabel", 12, kStr},
    {"MinCPU", 10, kStr},
    {"MinCPUNode", 10, kStr},
    {"MinCPUTask", 10, kNum},
    {"NCPUS", 10, kNum},
    {"NNodes", 8, kNum},
    {"NodeList", 15, kStr},
    {"NTasks", 8, kNum},
    {"Partition", 10, kStr},
    {"Priority", 10, kNum},
    {"QOS", 10, kStr},
    {"QOSRAW", 6, kNum},
    {"Reason", 22, kStr},
    {"ReqCPUFreq", 10, kStr},
    {"ReqCPUFreqGov", 13, kStr},
    {"ReqCPUFreqMax", 13, kStr},
    {"ReqCPUFreqMin", 13, kStr},
    {"ReqCPUS", 8, kNum},
    {"ReqMem", 10, kStr},
    {"ReqNodes", 8, kStr},
    {"ReqTRES", 10, kStr},
    {"Reservation", 20, kStr},
    {"ReservationId", 8, kNum},
    {"Reserved", 10, kTime},
    {"ResvCPU", 10, kTime},
    {"ResvCPURAW", 10, kNum},
    {"Start", 19, kDate},
    {"State", 10, kStr},
    {"Submit", 19, kDate},
    {"SubmitLine", 20, kStr},
    {"Suspended", 10, kTime},
    {"SystemComment", 15, kStr},
    {"SystemCPU", 10, kStr},
    {"Timelimit", 10, kStr},
    {"TimelimitRaw", 10, kStr},
    {"TotalCPU", 10, kStr},
    {"TRESUsageInAve", 14, kStr},
    {"TRESUsageInMax", 14, kStr},
    {"TRESUsageInMaxNode", 18, kStr},
    {"TRESUsageInMaxTask", 18, kStr},
    {"TRESUsageInMin", 14, kStr},
    {"TRESUsageInMinNode", 18, kStr},
    {"TRESUsageInMinTask", 18, kStr},
    {"TRESUsageInTot", 14, kStr},
    {"TRESUsageOutAve", 15, kStr},
    {"TRESUsageOutMax", 15, kStr},
    {"TRESUsageOutMaxNode", 19, kStr},
    {"TRESUsageOutMaxTask", 19, kStr},
    {"TRESUsageOutMin", 15, kStr},
    {"TRESUsageOutMinNode", 19, kStr},
    {"TRESUsageOutMinTask", 19, kStr},
    {"TRESUsageOutTot", 15, kStr},
    {"UID", 6, kNum},
    {"User", 9, kStr},
    {"UserCPU", 10, kStr},
    {"WCKey", 10, kStr},
    {"WCKeyID", 10, kNum},
    {"WorkDir", 20, kStr},
};

const FieldDef* FindDef(std::string_view name) {
  for (const auto& f : kFields)
    if (name == f.name) return &f;
  return nullptr;
}

int64_t Seconds(int64_t ms) { return ms / 1000; }

std::string StepSuffix(const AcctRecord& job, const std::string& step) {
  return job.job_id + "." + step;
}

// A step's record from a job's: the job's labels, the step's own numbers.
AcctRecord StepOf(const AcctRecord& job, const std::string& step) {
  AcctRecord s = job;
  s.step = true;
  s.step_name = step;
  s.job_id = StepSuffix(job, step);
  s.job_id_raw = std::to_string(job.raw_id) + "." + step;
  s.cancelled_by_owner = false;
  s.partition.clear();
  s.has_usage = true;
  return s;
}

void SetTimes(AcctRecord* r, int64_t start_ms, int64_t end_ms, int64_t now_ms) {
  r->start_ms = start_ms;
  r->end_ms = end_ms;
  if (start_ms == 0)
    r->elapsed_s = 0;
  else
    r->elapsed_s = std::max<int64_t>(0, Seconds(end_ms ? end_ms : now_ms) - Seconds(start_ms));
}

// The batch step's state: a job that ran out of time or was cancelled had its script killed.
pb::JobState BatchState(pb::JobState s) {
  return s == pb::TIMEOUT ? pb::CANCELLED : s;
}

// The records of one allocation (a plain job, or an array task): itself, its batch step and
// its recorded steps.
void AddAllocation(const pb::JobInfo& job, AcctRecord rec, const pb::TaskInfo* task,
                   int64_t now_ms, bool allocations_only, std::vector<AcctRecord>* out) {
  std::vector<AcctRecord> steps;
  const bool started = rec.start_ms != 0;
  if (started && task != nullptr) {
    AcctRecord b = StepOf(rec, "batch");
    b.name = "batch";
    b.state = BatchState(rec.state);
    b.nodes = task->node();
    b.nnodes = 1;
    b.ntasks = 1;
    b.cpus = rec.nnodes > 1 ? (rec.cpus + rec.nnodes - 1) / rec.nnodes : rec.cpus;
    b.exit_code = task->exit_code();
    b.signal = task->signal();
    if (b.state == pb::CANCELLED && b.signal == 0 && rec.state != pb::CANCELLED) b.signal = 15;
    b.max_rss_kb = task->max_rss_kb();
    b.user_cpu_us = task->user_cpu_us();
    b.sys_cpu_us = task->sys_cpu_us();
    b.has_usage = task->end_ms() != 0;
    SetTimes(&b, task->start_ms(), task->end_ms() ? task->end_ms() : rec.end_ms, now_ms);
    steps.push_back(std::move(b));
  }
  for (const auto& st : job.steps()) {
    if (st.job_id() != rec.raw_id) continue;
    AcctRecord s = StepOf(rec, std::to_string(st.step_id()));
    s.name = st.name();
    s.state = st.state();
    s.nodes = CompressHostList({st.nodes().begin(), st.nodes().end()});
    s.nnodes = st.nodes_size();
    s.ntasks = st.ntasks();
    s.cpus = int64_t{st.ntasks()} * CpusPerTask(job.spec());
    s.exit_code = st.exit_code();
    s.signal = st.signal();
    s.max_rss_kb = st.max_rss_kb();
    s.user_cpu_us = st.user_cpu_us();
    s.sys_cpu_us = st.sys_cpu_us();
    s.has_usage = st.end_ms() != 0;
    SetTimes(&s, st.start_ms(), st.end_ms() ? st.end_ms() : rec.end_ms, now_ms);
    steps.push_back(std::move(s));
  }
  for (const auto& s : steps) {
    rec.user_cpu_us += s.user_cpu_us;
    rec.sys_cpu_us += s.sys_cpu_us;
    rec.derived_exit_code = std::max(rec.derived_exit_code, s.exit_code);
  }
  out->push_back(rec);
  if (!allocations_only)
    for (auto& s : steps) out->push_back(std::move(s));
}

}  // namespace

std::vector<AcctRecord> AcctRecords(const std::vector<pb::JobInfo>& jobs, int64_t now_ms,
                                    bool allocations_only) {
  std::vector<AcctRecord> out;
  for (const auto& job : jobs) {
    const pb::JobSpec& spec = job.spec();
    AcctRecord base;
    base.raw_id = job.id();
    base.job_id = base.job_id_raw = std::to_string(job.id());
    base.name = job.name();
    base.partition = !job.partition().empty() ? job.partition()
                     : !spec.partition().empty() ? spec.partition()
                                                 : kStaticPartition;
    base.account = spec.account();
    base.qos = spec.qos().empty() ? "normal" : spec.qos();
    base.user = job.user();
    base.uid = job.uid();
    base.state = job.state();
    base.cancelled_by_owner = job.state() == pb::CANCELLED;
    base.exit_code = job.exit_code();
    base.signal = job.signal();
    base.submit_ms = job.submit_ms();
    base.cpus = Cpus(spec);
    base.req_cpus = static_cast<int>(base.cpus);
    base.req_mem_mb = spec.mem_mb();
    base.time_limit_ms = spec.time_limit_ms();
    base.priority = job.priority();
    base.work_dir = spec.work_dir();
    base.comment = spec.comment();
    base.reason = "None";
    base.nnodes = std::max(1, spec.min_nodes());
    std::vector<const pb::TaskInfo*> tasks;
    for (const auto& t : job.tasks()) tasks.push_back(&t);
    std::sort(tasks.begin(), tasks.end(), [](const pb::TaskInfo* a, const pb::TaskInfo* b) {
      return a->job_id() < b->job_id();
    });
    if (spec.array_indices_size() > 0) {
      for (const pb::TaskInfo* t : tasks) {
        AcctRecord rec = base;
        rec.raw_id = t->job_id();
        rec.array_job_id = job.id();
        rec.array_task_id = t->array_index();
        rec.job_id = fmt::format("{}_{}", job.id(), t->array_index());
        rec.job_id_raw = std::to_string(t->job_id());
        rec.state = t->state();
        rec.cancelled_by_owner = t->state() == pb::CANCELLED;
        rec.exit_code = t->exit_code();
        rec.signal = t->signal();
        rec.nodes = t->node().empty() ? "None assigned" : t->node();
        SetTimes(&rec, t->start_ms(), t->end_ms(), now_ms);
        AddAllocation(job, rec, t, now_ms, allocations_only, &out);
      }
      if (!job.pending_indices().empty()) {
        AcctRecord rec = base;
        rec.array_job_id = job.id();
        rec.job_id = fmt::format("{}_[{}]", job.id(), job.pending_indices());
        const bool active = job.state() == pb::PENDING || job.state() == pb::RUNNING;
        rec.state = active ? pb::PENDING : pb::CANCELLED;
        rec.cancelled_by_owner = !active;
        rec.exit_code = rec.signal = 0;
        rec.nodes = "None assigned";
        rec.end_ms = active ? 0 : job.end_ms();
        out.push_back(std::move(rec));
      }
      continue;
    }
    AcctRecord rec = base;
    std::vector<std::string> nodes(job.nodes().begin(), job.nodes().end());
    for (const pb::TaskInfo* t : tasks)
      if (!t->node().empty() && std::find(nodes.begin(), nodes.end(), t->node()) == nodes.end())
        nodes.push_back(t->node());
    rec.nodes = nodes.empty() ? "None assigned" : CompressHostList(nodes);
    if (!nodes.empty()) rec.nnodes = static_cast<int64_t>(nodes.size());
    SetTimes(&rec, job.start_ms(), job.end_ms(), now_ms);
    if (spec.launch_tasks()) {
      // `swell run` (srun outside an allocation): its ranks are the job's step 0.
      AcctRecord s = StepOf(rec, "0");
      s.ntasks = static_cast<int>(job.task_count());
      s.has_usage = job.end_ms() != 0;
      for (const pb::TaskInfo* t : tasks) {
        s.max_rss_kb = std::max(s.max_rss_kb, t->max_rss_kb());
        s.user_cpu_us += t->user_cpu_us();
        s.sys_cpu_us += t->sys_cpu_us();
      }
      rec.user_cpu_us = s.user_cpu_us;
      rec.sys_cpu_us = s.sys_cpu_us;
      rec.derived_exit_code = rec.exit_code;
      out.push_back(rec);
      if (!allocations_only && rec.start_ms != 0) out.push_back(std::move(s));
      continue;
    }
    AddAllocation(job, rec, tasks.empty() ? nullptr : tasks.front(), now_ms, allocations_only,
                  &out);
  }
  return out;
}

// ---- Values ------------------------------------------------------------------------------------

std::string AcctElapsed(int64_t s) {
  if (s < 0) return "INVALID";
  const int64_t days = s / 86400;
  if (days) return fmt::format("{}-{:02}:{:02}:{:02}", days, s / 3600 % 24, s / 60 % 60, s % 60);
  return fmt::format("{:02}:{:02}:{:02}", s / 3600 % 24, s / 60 % 60, s % 60);
}

std::string AcctCpuTime(int64_t micros) {
  const int64_t s = micros / 1'000'000;
  const int64_t ms = micros % 1'000'000 / 1000;
  const int64_t days = s / 86400, hours = s / 3600 % 24, minutes = s / 60 % 60;
  if (days) return fmt::format("{}-{:02}:{:02}:{:02}", days, hours, minutes, s % 60);
  if (hours) return fmt::format("{:02}:{:02}:{:02}", hours, minutes, s % 60);
  if (ms) return fmt::format("{:02}:{:02}.{:03}", minutes, s % 60, ms);
  return fmt::format("00:{:02}:{:02}", minutes, s % 60);
}

std::string AcctSize(double value, int unit) {
  if (static_cast<int64_t>(value) == 0) return "0";
  while (value >= 1024) {
    value /= 1024;
    ++unit;
  }
  const char* units = "\0KMGTP?";
  const char u = unit >= 0 && unit <= 5 ? units[unit] : '?';
  const auto whole = static_cast<uint64_t>(value);
  std::string text = static_cast<double>(whole) == value ? std::to_string(whole)
                                                         : fmt::format("{:.2f}", value);
  if (u) text += u;
  return text;
}

namespace {

std::string ExitText(int code, int signal) {
  if (signal != 0) return fmt::format("0:{}", signal);
  if (code >= 128) code -= 128;
  return fmt::format("{}:0", code);
}

std::string StateText(const AcctRecord& r) {
  std::string name(JobStateName(r.state));
  if (r.state == pb::CANCELLED && r.cancelled_by_owner) name += " by " + std::to_string(r.uid);
  return name;
}

// Slurm's mins2time_str.
std::string LimitText(int64_t ms) {
  if (ms <= 0) return "UNLIMITED";
  int64_t m = (ms + 59'999) / 60'000;
  if (m >= 1440) return fmt::format("{}-{:02}:{:02}:00", m / 1440, m / 60 % 24, m % 60);
  return fmt::format("{:02}:{:02}:00", m / 60, m % 60);
}

std::string Tres(const AcctRecord& r, bool billing) {
  std::string out;
  if (billing) out += fmt::format("billing={},", r.cpus);
  out += fmt::format("cpu={},", r.cpus);
  if (r.req_mem_mb > 0) out += "mem=" + MemText(r.req_mem_mb) + ",";
  out += fmt::format("node={}", r.nnodes);
  return out;
}

struct Value {
  std::string text;
  bool set = true;  // false: Slurm's unset value (blank)
};

Value Unset() { return {"", false}; }

Value FieldValue(std::string_view f, const AcctRecord& r) {
  const bool job = !r.step;
  auto num = [](int64_t n) { return Value{std::to_string(n)}; };
  auto date = [](int64_t ms) { return Value{ms ? TimeStamp(ms) : "Unknown"}; };
  if (f == "Account") return {r.account, !r.account.empty()};
  if (f == "AllocCPUS" || f == "NCPUS") return num(r.cpus);
  if (f == "ReqCPUS") return num(job ? r.req_cpus : r.cpus);
  if (f == "AllocNodes") return {std::to_string(r.start_ms ? r.nnodes : 0)};
  if (f == "NNodes") return num(r.nnodes);
  if (f == "ReqNodes") return {std::to_string(r.nnodes)};
  if (f == "AllocTRES") return {r.start_ms ? Tres(r, job) : ""};
  if (f == "ReqTRES") return {job ? Tres(r, true) : ""};
  if (f == "Cluster") return {"swell"};
  if (f == "Comment") return job ? Value{r.comment} : Unset();
  if (f == "ConsumedEnergy") return {"0"};
  if (f == "ConsumedEnergyRaw") return num(0);
  if (f == "CPUTime") return {AcctElapsed(r.elapsed_s * r.cpus)};
  if (f == "CPUTimeRAW") return num(r.elapsed_s * r.cpus);
  if (f == "DerivedExitCode") return {job ? ExitText(r.derived_exit_code, 0) : ""};
  if (f == "Elapsed") return {AcctElapsed(r.elapsed_s)};
  if (f == "ElapsedRaw") return num(r.elapsed_s);
  if (f == "Eligible") return date(job ? r.submit_ms : r.start_ms);
  if (f == "Submit") return date(job ? r.submit_ms : r.start_ms);
  if (f == "Start") return date(r.start_ms);
  if (f == "End") return date(r.end_ms);
  if (f == "ExitCode") return {ExitText(r.exit_code, r.signal)};
  if (f == "GID" || f == "Group") {
    if (!job) return Unset();
    auto [name, gid] = PrimaryGroup(r.uid);
    return f == "GID" ? num(gid) : Value{name};
  }
  if (f == "JobID") return {r.job_id};
  if (f == "JobIDRaw") return {r.job_id_raw};
  if (f == "JobName") return {r.name};
  if (f == "MaxRSS" || f == "AveRSS") return {r.step && r.has_usage ? AcctSize(double(r.max_rss_kb) * 1024, 0) : ""};
  if (f == "MaxRSSNode") return {r.step && r.has_usage ? r.nodes.substr(0, r.nodes.find_first_of(",[")) : ""};
  if (f == "MaxRSSTask") return r.step && r.has_usage ? num(0) : Unset();
  if (f == "AveCPU" || f == "MinCPU") {
    if (!r.step || !r.has_usage) return {""};
    return {AcctElapsed((r.user_cpu_us + r.sys_cpu_us) / 1'000'000 / std::max(1, r.ntasks))};
  }
  if (f == "NodeList") return {r.nodes};
  if (f == "NTasks") return r.step ? num(r.ntasks) : Unset();
  if (f == "Partition") return job ? Value{r.partition} : Unset();
  if (f == "Priority") return job ? num(r.priority) : Unset();
  if (f == "QOS") return {r.qos};
  if (f == "Reason") return job ? Value{r.reason} : Unset();
  if (f == "ReqMem") return {job ? AcctSize(double(r.req_mem_mb), 2) : ""};
  if (f == "State") return {StateText(r)};
  if (f == "Suspended") return {AcctElapsed(0)};
  if (f == "Reserved") return {job ? AcctElapsed(r.start_ms ? Seconds(r.start_ms) - Seconds(r.submit_ms) : 0) : ""};
  if (f == "SystemCPU") return {AcctCpuTime(r.sys_cpu_us)};
  if (f == "UserCPU") return {AcctCpuTime(r.user_cpu_us)};
  if (f == "TotalCPU") return {AcctCpuTime(r.user_cpu_us + r.sys_cpu_us)};
  if (f == "Timelimit") return job ? Value{LimitText(r.time_limit_ms)} : Unset();
  if (f == "TimelimitRaw") {
    if (!job) return Unset();
    return {r.time_limit_ms <= 0 ? "UNLIMITED" : std::to_string((r.time_limit_ms + 59'999) / 60'000)};
  }
  if (f == "UID") return job ? num(r.uid) : Unset();
  if (f == "User") return job ? Value{r.user} : Unset();
  if (f == "WorkDir") return job ? Value{r.work_dir} : Unset();
  if (f == "ReqCPUFreq" || f == "ReqCPUFreqMin" || f == "ReqCPUFreqMax" || f == "ReqCPUFreqGov")
    return {r.step ? "Unknown" : ""};
  return Unset();
}

// One value as print_fields prints it.
std::string Cell(const Value& v, const FieldDef& def, int width, const SacctOptions& o,
                 bool last) {
  if (o.parsable || o.parsable2) {
    if (o.parsable2 && last) return v.text;
    return v.text + o.delimiter;
  }
  const size_t abs = static_cast<size_t>(std::abs(width));
  const bool left = width < 0;
  std::string text = v.text;
  if (!v.set) text = " ";
  if (def.kind == kStr && v.set && text.size() > abs) {
    text.resize(abs);
    if (abs > 0) text[abs - 1] = '+';
  } else if (def.kind == kDate && text.size() > abs) {
    text.resize(abs);
  } else if (!v.set && (def.kind == kNum || def.kind == kTime)) {
    text = "";
  }
  if (text.size() < abs) {
    std::string pad(abs - text.size(), ' ');
    text = left ? text + pad : pad + text;
  }
  return text + " ";
}

}  // namespace

Result<std::vector<AcctField>> ParseAcctFields(std::string_view list) {
  std::vector<AcctField> out;
  for (std::string_view item : Split(list, ',')) {
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front())))
      item.remove_prefix(1);
    if (item.empty()) continue;
    std::optional<int> width;
    if (size_t pct = item.find('%'); pct != std::string_view::npos) {
      width = std::atoi(std::string(item.substr(pct + 1)).c_str());
      item = item.substr(0, pct);
    }
    auto prefix_of = [&](std::string_view name) {
      return item.size() <= name.size() && EqualsIgnoreCase(item, name.substr(0, item.size()));
    };
    if (prefix_of("ALL") && item.size() <= 3) {
      for (const auto& f : kFields) out.push_back({f.name, width.value_or(f.width)});
      continue;
    }
    const FieldDef* found = nullptr;
    for (const auto& f : kFields)
      if (prefix_of(f.name)) {
        found = &f;
        break;
      }
    if (!found)
      return InvalidArgument("sacct: error: Invalid field requested: \"" + std::string(item) +
                             "\"");
    out.push_back({found->name, width.value_or(found->width)});
  }
  return out;
}

std::string AcctHeader(const std::vector<AcctField>& fields, const SacctOptions& o) {
  std::string line;
  if (o.parsable || o.parsable2) {
    for (size_t k = 0; k < fields.size(); ++k) {
      line += fields[k].name;
      if (!(o.parsable2 && k + 1 == fields.size())) line += o.delimiter;
    }
    return line + "\n";
  }
  std::string dashes;
  for (const auto& f : fields) {
    const size_t abs = static_cast<size_t>(std::abs(f.width));
    std::string name = f.name.substr(0, abs);
    std::string pad(abs - name.size(), ' ');
    line += (f.width < 0 ? name + pad : pad + name) + " ";
    dashes += std::string(abs, '-') + " ";
  }
  return line + "\n" + dashes + "\n";
}

std::string AcctLine(const AcctRecord& r, const std::vector<AcctField>& fields,
                     const SacctOptions& o) {
  std::string line;
  for (size_t k = 0; k < fields.size(); ++k) {
    const FieldDef* def = FindDef(fields[k].name);
    if (!def) continue;
    line += Cell(FieldValue(def->name, r), *def, fields[k].width, o, k + 1 == fields.size());
  }
  return line + "\n";
}

// ---- JSON --------------------------------------------------------------------------------------

namespace {

json ExitJson(int code, int signal) {
  json e = {{"status", signal ? "SIGNALED" : code ? "FAILED" : "SUCCESS"}, {"return_code", code}};
  if (signal) e["signal"] = {{"signal_id", signal}, {"name", ""}};
  return e;
}

json CpuJson(int64_t micros) {
  return {{"seconds", micros / 1'000'000}, {"microseconds", micros % 1'000'000}};
}

json TimeJson(const AcctRecord& r) {
  return {{"elapsed", r.elapsed_s},
          {"eligible", Seconds(r.step ? r.start_ms : r.submit_ms)},
          {"end", Seconds(r.end_ms)},
          {"start", Seconds(r.start_ms)},
          {"submission", Seconds(r.step ? r.start_ms : r.submit_ms)},
          {"suspended", 0},
          {"system", CpuJson(r.sys_cpu_us)},
          {"limit", r.time_limit_ms > 0 ? (r.time_limit_ms + 59'999) / 60'000 : 0},
          {"total", CpuJson(r.user_cpu_us + r.sys_cpu_us)},
          {"user", CpuJson(r.user_cpu_us)}};
}

json TresJson(const AcctRecord& r, bool billing) {
  json list = json::array();
  if (billing) list.push_back({{"type", "billing"}, {"name", ""}, {"id", 5}, {"count", r.cpus}});
  list.push_back({{"type", "cpu"}, {"name", ""}, {"id", 1}, {"count", r.cpus}});
  if (r.req_mem_mb > 0)
    list.push_back({{"type", "mem"}, {"name", ""}, {"id", 2}, {"count", r.req_mem_mb}});
  list.push_back({{"type", "node"}, {"name", ""}, {"id", 4}, {"count", r.nnodes}});
  return list;
}

json StepJson(const AcctRecord& s) {
  std::vector<std::string> nodes;
  if (auto expanded = ExpandHostList(s.nodes); expanded.ok()) nodes = *expanded;
  json used = json::array();
  if (s.has_usage)
    used.push_back({{"type", "mem"}, {"name", ""}, {"id", 2}, {"count", s.max_rss_kb * 1024}});
  return {{"time", TimeJson(s)},
          {"exit_code", ExitJson(s.exit_code, s.signal)},
          {"nodes", {{"count", s.nnodes}, {"range", s.nodes}, {"list", nodes}}},
          {"tasks", {{"count", s.ntasks}}},
          {"pid", ""},
          {"CPU", {{"requested_frequency", {{"min", 0}, {"max", 0}}}, {"governor", json::array()}}},
          {"kill_request_user", ""},
          {"state", std::string(JobStateName(s.state))},
          {"statistics", {{"CPU", {{"actual_frequency", 0}}}, {"energy", {{"consumed", 0}}}}},
          {"step",
           {{"job_id", s.raw_id}, {"het", {{"component", nullptr}}}, {"id", s.job_id_raw},
            {"name", s.name}}},
          {"task", {{"distribution", "Block"}}},
          {"tres",
           {{"requested", {{"max", used}, {"total", used}}},
            {"allocated", TresJson(s, false)}}}};
}

json JobJson(const AcctRecord& r) {
  json array = {{"job_id", r.array_job_id},
                {"limits", {{"max", {{"running", {{"tasks", 0}}}}}}},
                {"task", ""},
                {"task_id", r.array_task_id >= 0 ? json(r.array_task_id) : json(nullptr)}};
  if (size_t b = r.job_id.find("_["); b != std::string::npos)
    array["task"] = r.job_id.substr(b + 2, r.job_id.size() - b - 3);
  return {{"account", r.account},
          {"comment", {{"administrator", ""}, {"job", r.comment}, {"system", ""}}},
          {"allocation_nodes", r.start_ms ? r.nnodes : 0},
          {"array", array},
          {"association",
           {{"account", r.account}, {"cluster", "swell"}, {"partition", ""}, {"user", r.user}}},
          {"cluster", "swell"},
          {"constraints", ""},
          {"container", ""},
          {"derived_exit_code", ExitJson(r.derived_exit_code, 0)},
          {"time", TimeJson(r)},
          {"exit_code", ExitJson(r.exit_code, r.signal)},
          {"flags", json::array()},
          {"group", PrimaryGroup(r.uid).first},
          {"het", {{"job_id", 0}, {"job_offset", nullptr}}},
          {"job_id", r.raw_id},
          {"name", r.name},
          {"mcs", {{"label", ""}}},
          {"nodes", r.nodes},
          {"partition", r.partition},
          {"priority", r.priority},
          {"qos", r.qos},
          {"required", {{"CPUs", r.req_cpus}, {"memory", r.req_mem_mb}}},
          {"kill_request_user", r.cancelled_by_owner ? json(r.user) : json(nullptr)},
          {"reservation", {{"id", 0}, {"name", 0}}},
          {"state", {{"current", std::string(JobStateName(r.state))}, {"reason", r.reason}}},
          {"steps", json::array()},
          {"submit_line", r.submit_line},
          {"tres",
           {{"allocated", r.start_ms ? TresJson(r, true) : json::array()},
            {"requested", TresJson(r, true)}}},
          {"user", r.user},
          {"wckey", {{"wckey", ""}, {"flags", json::array()}}},
          {"working_directory", r.work_dir}};
}

}  // namespace

json AcctJson(const std::vector<AcctRecord>& records) {
  json jobs = json::array();
  for (const auto& r : records) {
    if (!r.step) {
      jobs.push_back(JobJson(r));
    } else if (!jobs.empty()) {
      jobs.back()["steps"].push_back(StepJson(r));
    }
  }
  return {{"meta",
           {{"plugin", {{"type", "openapi/dbv0.0.38"}, {"name", "Slurm OpenAPI DB v0.0.38"}}},
            {"Slurm", {{"version", {{"major", 22}, {"micro", 0}, {"minor", 5}}}, {"release", "swell"}}}}},
          {"errors", json::array()},
          {"warnings", json::array()},
          {"jobs", jobs}};
}

}  // namespace swell::cli::slurm
