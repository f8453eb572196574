#include "cli/scontrol_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "cli/job_state.h"
#include "cli/sinfo_view.h"
#include "cli/slurm_fields.h"
#include "common/hostlist.h"
#include "common/slurm_format.h"

namespace swell::cli::slurm {
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

std::string JobRecord(const pb::JobInfo& j, const JobPart& p, Time now, bool one_liner,
                      bool details) {
  const pb::JobSpec& s = j.spec();
  auto [group, gid] = PrimaryGroup(j.uid());
  Record r;
  r.Line(fmt::format("JobId={} {}JobName={}", p.job_id, p.array_line, j.name()));
  r.Line(fmt::format("UserId={}({}) GroupId={}({}) MCS_label=N/A", j.user(), j.uid(), group, gid));
  r.Line(fmt::format("Priority={} Nice={} Account={} QOS={}", j.priority(), s.nice(),
                     OrNull(s.account()), s.qos().empty() ? "normal" : s.qos()));
  std::string dep = Dependency(s);
  r.Line(fmt::format("JobState={} Reason={} Dependency={}", JobStateName(p.state),
                     p.reason.empty() ? "None" : p.reason, dep.empty() ? "(null)" : dep));
  r.Line(fmt::format("Requeue={} Restarts={} BatchFlag={} Reboot=0 ExitCode={}:{}",
                     s.requeue() ? 1 : 0, p.restarts, s.script_path().empty() ? 0 : 1, p.exit_code,
                     p.signal));
  if (details) r.Line(fmt::format("DerivedExitCode={}:{}", p.exit_code, p.signal));
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
  if (details && !p.nodes.empty() && p.state == pb::RUNNING) {
    // One line per node, by the tasks the job holds there (all of them on one node for a
    // task of an array).
    r.Line("JOB_GRES=" + (s.gpus() > 0 ? fmt::format("gpu:{}", s.gpus()) : std::string("(null)")));
    for (size_t i = 0; i < p.nodes.size(); ++i) {
      int64_t tasks = p.nodes.size() == 1 ? Ntasks(s) : 0;
      if (p.nodes.size() > 1 && static_cast<int>(i) < j.node_tasks_size())
        tasks = j.node_tasks(static_cast<int>(i));
      int64_t cpus = std::max<int64_t>(1, tasks * CpusPerTask(s));
      r.Line(fmt::format("  Nodes={} CPU_IDs={} Mem={} GRES={}", p.nodes[i],
                         cpus > 1 ? fmt::format("0-{}", cpus - 1) : std::string("0"), s.mem_mb(),
                         s.gpus() > 0 ? fmt::format("gpu:{}", s.gpus()) : ""));
    }
  }
  r.Line(fmt::format("MinCPUsNode={} MinMemoryNode={} MinTmpDiskNode=0", CpusPerTask(s),
                     MemText(s.mem_mb())));
  r.Line(fmt::format("Features={} DelayBoot=00:00:00", OrNull(s.constraint())));
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
  return ShowJob(j, index, now, one_liner, false);
}

std::string ShowJob(const pb::JobInfo& j, std::optional<int64_t> index, Time now, bool one_liner,
                    bool details) {
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
    if (whole.nodes.empty())  // ended: the nodes its tasks held, each once
      for (const auto& t : j.tasks())
        for (auto& n : TaskNodes(t))
          if (std::find(whole.nodes.begin(), whole.nodes.end(), n) == whole.nodes.end())
            whole.nodes.push_back(std::move(n));
    return JobRecord(j, whole, now, one_liner, details);
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
    p.nodes = TaskNodes(t);
    p.start_ms = t.start_ms();
    p.end_ms = t.end_ms();
    p.restarts = t.restarts();
    out += JobRecord(j, p, now, one_liner, details);
  }
  if (!pending.empty()) {
    JobPart p;
    p.job_id = j.id();
    p.array_line = fmt::format("ArrayJobId={} ArrayTaskId={} {}", j.id(),
                               FormatArrayIndices(pending), throttle);
    p.state = pb::PENDING;
    p.reason = j.reason().empty() ? "None" : j.reason();
    out = JobRecord(j, p, now, one_liner, details) + out;
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

}  // namespace swell::cli::slurm

namespace swell::cli::slurm {

std::string ShowConfig(const ConfigFacts& f, Time now) {
  auto sec = [](int64_t n) { return std::to_string(n) + " sec"; };
  const std::string home = f.state_dir;
  // Slurm's keys in its order; the values say what swell does where Slurm has the concept.
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"AccountingStorageBackupHost", "(null)"},
      {"AccountingStorageEnforce", "none"},
      {"AccountingStorageHost", f.controller},
      {"AccountingStorageExternalHost", "(null)"},
      {"AccountingStorageParameters", "(null)"},
      {"AccountingStoragePort", "0"},
      {"AccountingStorageTRES", "cpu,mem,energy,node,billing,fs/disk,vmem,pages"},
      {"AccountingStorageType", "accounting_storage/slurmdbd"},
      {"AccountingStorageUser", "N/A"},
      {"AccountingStoreFlags", "(null)"},
      {"AcctGatherEnergyType", "acct_gather_energy/none"},
      {"AcctGatherFilesystemType", "acct_gather_filesystem/none"},
      {"AcctGatherInterconnectType", "acct_gather_interconnect/none"},
      {"AcctGatherNodeFreq", "0 sec"},
      {"AcctGatherProfileType", "acct_gather_profile/none"},
      {"AllowSpecResourcesUsage", "No"},
      {"BatchStartTimeout", sec(10)},
      {"BOOT_TIME", f.boot_ms ? TimeStamp(f.boot_ms) : std::string("Unknown")},
      {"BurstBufferType", "(null)"},
      {"CliFilterPlugins", "(null)"},
      {"ClusterName", f.cluster_name},
      {"CommunicationParameters", "(null)"},
      {"CompleteWait", sec(0)},
      {"CoreSpecPlugin", "core_spec/none"},
      {"CpuFreqDef", "Unknown"},
      {"DebugFlags", "(null)"},
      {"DefMemPerNode",
       f.def_mem_per_node_mb ? std::to_string(f.def_mem_per_node_mb) : std::string("UNLIMITED")},
      {"DependencyParameters", "(null)"},
      {"DisableRootJobs", "No"},
      {"EnforcePartLimits", "NO"},
      {"Epilog", "(null)"},
      {"EpilogSlurmctld", "(null)"},
      {"FirstJobId", "1"},
      {"GetEnvTimeout", sec(2)},
      {"GresTypes", "gpu"},
      {"HealthCheckInterval", sec(0)},
      {"HealthCheckNodeState", "ANY"},
      {"HealthCheckProgram", "(null)"},
      {"InactiveLimit", sec(0)},
      {"JobAcctGatherFrequency", "30"},
      {"JobAcctGatherType", "jobacct_gather/none"},
      {"JobAcctGatherParams", "(null)"},
      {"JobCompType", "jobcomp/none"},
      {"JobContainerType", "job_container/none"},
      {"JobDefaults", "(null)"},
      {"JobFileAppend", "0"},
      {"JobRequeue", "0"},
      {"JobSubmitPlugins", "(null)"},
      {"KillOnBadExit", "0"},
      {"KillWait", sec(f.kill_wait_s)},
      {"LaunchParameters", "(null)"},
      {"LaunchType", "launch/slurm"},
      {"Licenses", "(null)"},
      {"MailProg", "/bin/mail"},
      {"MaxArraySize", "1000001"},
      {"MaxJobCount", "1000000"},
      {"MaxJobId", "67043328"},
      {"MaxMemPerNode", "UNLIMITED"},
      {"MaxStepCount", "40000"},
      {"MaxTasksPerNode", "512"},
      {"MCSPlugin", "mcs/none"},
      {"MessageTimeout", sec(10)},
      {"MinJobAge", sec(300)},
      {"MpiDefault", "none"},
      {"MpiParams", "(null)"},
      {"OverTimeLimit", "0 min"},
      {"PlugStackConfig", "(null)"},
      {"PreemptMode", "OFF"},
      {"PreemptType", "preempt/none"},
      {"PreemptExemptTime", "00:00:00"},
      {"PriorityType", "priority/basic"},
      {"PrivateData", "none"},
      {"ProctrackType", "proctrack/pgid"},
      {"Prolog", "(null)"},
      {"PrologSlurmctld", "(null)"},
      {"PrologFlags", "(null)"},
      {"PropagatePrioProcess", "0"},
      {"PropagateResourceLimits", "ALL"},
      {"PropagateResourceLimitsExcept", "(null)"},
      {"RebootProgram", "(null)"},
      {"ReconfigFlags", "(null)"},
      {"RequeueExit", "(null)"},
      {"RequeueExitHold", "(null)"},
      {"ResumeProgram", f.elastic ? std::string("swell provider") : std::string("(null)")},
      {"ResumeTimeout", sec(600)},
      {"ResvOverRun", "0 min"},
      {"ReturnToService", "2"},
      {"SchedulerParameters", "(null)"},
      {"SchedulerTimeSlice", sec(30)},
      {"SchedulerType", "sched/backfill"},
      {"SelectType", "select/cons_tres"},
      {"SelectTypeParameters", "CR_CPU_MEMORY"},
      {"SlurmUser", f.slurm_user},
      {"SlurmctldAddr", "(null)"},
      {"SlurmctldDebug", "info"},
      {"SlurmctldHost[0]", f.controller},
      {"SlurmctldLogFile", home + "/head.log"},
      {"SlurmctldPort", std::to_string(f.port)},
      {"SlurmctldTimeout", sec(120)},
      {"SlurmctldParameters", "(null)"},
      {"SlurmdDebug", "info"},
      {"SlurmdLogFile", home + "/nodes/%n/log"},
      {"SlurmdPidFile", home + "/nodes/%n/pid"},
      {"SlurmdPort", "0"},
      {"SlurmdTimeout", sec(f.slurmd_timeout_s)},
      {"SlurmdUser", f.slurm_user},
      {"SlurmctldPidFile", home + "/head.pid"},
      {"SLURM_CONF", home + "/cluster.toml"},
      {"SLURM_VERSION", kConfigVersion},
      {"SrunEpilog", "(null)"},
      {"SrunProlog", "(null)"},
      {"StateSaveLocation", home},
      {"SuspendProgram", f.elastic ? std::string("swell provider") : std::string("(null)")},
      {"SuspendTime", "NONE"},
      {"SwitchType", "switch/none"},
      {"TaskEpilog", "(null)"},
      {"TaskPlugin", "task/none"},
      {"TaskProlog", "(null)"},
      {"TCPTimeout", sec(2)},
      {"TmpFS", "/tmp"},
      {"TopologyPlugin", "topology/none"},
      {"TrackWCKey", "No"},
      {"TreeWidth", "50"},
      {"UsePam", "No"},
      {"UnkillableStepTimeout", sec(60)},
      {"VSizeFactor", "0 percent"},
      {"WaitTime", sec(0)},
  };
  std::string out = "Configuration data as of " + TimeStamp(ToMillis(now)) + "\n";
  for (const auto& [k, v] : pairs) out += fmt::format("{:<23} = {}\n", k, v);
  out += "\nSlurmctld(primary) at " + f.controller + " is UP\n";
  return out;
}

std::vector<PartitionFacts> Partitions(const pb::NodesReply& reply) {
  std::vector<PartitionFacts> out;
  for (const auto& g : NodeGroups(reply, false, false, false)) {
    PartitionFacts p;
    p.name = g.partition;
    p.is_default = g.is_default;
    for (const auto* n : g.nodes) {
      p.nodes.push_back(n->name());
      p.cpus += n->cpus();
      p.mem_mb += n->mem_mb();
      p.gpus += n->gpus();
    }
    out.push_back(std::move(p));
  }
  return out;
}

std::string ShowPartition(const PartitionFacts& p, bool one_liner) {
  Record r;
  r.Line("PartitionName=" + p.name);
  r.Line("AllowGroups=ALL AllowAccounts=ALL AllowQos=ALL");
  r.Line(fmt::format("AllocNodes=ALL Default={} QoS=N/A", p.is_default ? "YES" : "NO"));
  r.Line("DefaultTime=NONE DisableRootJobs=NO ExclusiveUser=NO GraceTime=0 Hidden=NO");
  r.Line("MaxNodes=UNLIMITED MaxTime=UNLIMITED MinNodes=0 LLN=NO MaxCPUsPerNode=UNLIMITED");
  std::vector<std::string> sorted = p.nodes;
  std::sort(sorted.begin(), sorted.end(), HostLess);
  r.Line("Nodes=" + OrNull(CompressHostList(sorted)));
  r.Line("PriorityJobFactor=1 PriorityTier=1 RootOnly=NO ReqResv=NO OverSubscribe=NO");
  r.Line("OverTimeLimit=NONE PreemptMode=OFF");
  r.Line(fmt::format("State=UP TotalCPUs={} TotalNodes={} SelectTypeParameters=NONE", p.cpus,
                     p.nodes.size()));
  r.Line("JobDefaults=(null)");
  r.Line("DefMemPerNode=UNLIMITED MaxMemPerNode=UNLIMITED");
  std::string tres = fmt::format("cpu={}", p.cpus);
  if (p.mem_mb > 0) tres += ",mem=" + MemText(p.mem_mb);
  tres += fmt::format(",node={},billing={}", p.nodes.size(), p.cpus);
  if (p.gpus > 0) tres += fmt::format(",gres/gpu={}", p.gpus);
  r.Line("TRES=" + tres);
  return r.Text(false, one_liner);
}

std::string ShowStep(const pb::JobInfo& j, const pb::StepInfo& st, bool one_liner) {
  const pb::JobSpec& s = j.spec();
  std::string limit = s.time_limit_ms() ? FormatDuration(Duration(s.time_limit_ms())) : "UNLIMITED";
  std::vector<std::string> nodes(st.nodes().begin(), st.nodes().end());
  std::sort(nodes.begin(), nodes.end(), HostLess);
  int64_t cpus = static_cast<int64_t>(st.ntasks()) * CpusPerTask(s);
  Record r;
  r.Line(fmt::format("StepId={}.{} UserId={} StartTime={} TimeLimit={}", j.id(), st.step_id(),
                     j.uid(), TimeStamp(st.start_ms(), "Unknown"), limit));
  r.Line(fmt::format("State=RUNNING Partition={} NodeList={}",
                     j.partition().empty() ? kStaticPartition : j.partition(),
                     CompressHostList(nodes)));
  r.Line(fmt::format("Nodes={} CPUs={} Tasks={} Name={} Network=(null)", nodes.size(), cpus,
                     st.ntasks(), st.name()));
  std::string tres = fmt::format("cpu={}", cpus);
  if (s.mem_mb() > 0) tres += ",mem=" + MemText(s.mem_mb() * static_cast<int64_t>(nodes.size()));
  tres += fmt::format(",node={}", nodes.size());
  r.Line("TRES=" + tres);
  r.Line("ResvPorts=(null)");
  r.Line("CPUFreqReq=Default Dist=Block");
  r.Line("SrunHost:Pid=(null):0");
  return r.Text(false, one_liner);
}

}  // namespace swell::cli::slurm
