#include "node/tasks.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "common/files.h"
#include "common/slurm_format.h"
#include "node/host.h"

namespace swell::node {
namespace {

// Jobs idle this long are forgotten; the head resends a job's spec when it has not launched
// on this node for a minute (head/head.cc kSpecResendAfter), well inside this.
constexpr auto kForgetIdleJob = std::chrono::minutes(10);

std::string TaskName(const pb::TaskKey& k) {
  return std::to_string(k.job_id()) + "." + std::to_string(k.pos()) + "." +
         std::to_string(k.attempt());
}

}  // namespace

Tasks::Tasks(Options options, const NodeContext* node, Clock* clock, Poller* poller,
             Launcher* launcher, Limits* limits, std::function<void(pb::TaskReport)> report)
    : opt_(std::move(options)),
      node_(node),
      clock_(clock),
      poller_(poller),
      launcher_(launcher),
      limits_(limits),
      report_(std::move(report)) {}

void Tasks::Refuse(const pb::TaskKey& key, const std::string& error, bool requeue) {
  pb::TaskReport r;
  *r.mutable_key() = key;
  r.set_started(false);
  if (requeue) {
    r.set_requeue(true);
  } else {
    r.set_exit_code(1);
  }
  r.set_error(error);
  r.set_time_ms(ToMillis(clock_->Now()));
  report_(std::move(r));
}

void Tasks::Launch(const pb::Launch& l) {
  if (draining_) {  // too late to start: give them back
    for (const auto& k : l.tasks()) Refuse(k, "the node is stopping", true);
    return;
  }
  Job& job = jobs_[l.job_id()];
  job.last_active = clock_->Now();
  if (l.with_spec()) {
    job.spec = l.spec();
    job.user = l.user();
    job.alloc.nodelist.assign(l.nodelist().begin(), l.nodelist().end());
    job.alloc.tasks_per_node.assign(l.tasks_per_node().begin(), l.tasks_per_node().end());
    job.alloc.cpus_per_node.assign(l.cpus_per_node().begin(), l.cpus_per_node().end());
    job.submit_ms = l.submit_ms();
    Status s = Prepare(l.job_id(), job);
    // Only a prepared job runs tasks: a failed one must not run later tasks as the daemon.
    job.has_spec = s.ok();
    job.spec_error = s.ok() ? "" : s.message();
    if (!s.ok()) {
      for (const auto& k : l.tasks()) Refuse(k, s.message(), false);
      return;
    }
    // The spec sent again (scontrol update TimeLimit=): running tasks take its time limit.
    for (auto& [pid, task] : tasks_) {
      if (task.key.job_id() != l.job_id() || task.timed_out || task.cancelled) continue;
      task.deadline =
          job.spec.time_limit_ms() > 0 ? task.start + Duration(job.spec.time_limit_ms()) : kNever;
    }
  }
  if (l.slots() > 0) job.slots = l.slots();
  if (l.tasks_size() > 0) {  // a launch without tasks (a spec sent again) places nothing
    job.alloc.node_index = l.node_index();
    job.alloc.first_rank = l.first_rank();
  }
  if (!job.has_spec) {
    for (const auto& k : l.tasks()) {
      if (!job.spec_error.empty()) {
        Refuse(k, job.spec_error, false);
      } else {
        Refuse(k, "the node lost the job's description", true);
      }
    }
    return;
  }
  for (const auto& k : l.tasks()) job.queue.push_back(k);
  TryStart(l.job_id(), job);
}

Status Tasks::Prepare(int64_t job_id, Job& job) {
  const pb::JobSpec& spec = job.spec;
  job.identity.reset();
  SWELL_ASSIGN_OR_RETURN(job.identity, ResolveIdentity(job.user));
  std::string dir = opt_.spool_dir + "/jobs";
  if (!spec.script().empty()) {
    job.script_path = dir + "/" + std::to_string(job_id) + ".sh";
    SWELL_RETURN_IF_ERROR(WriteFileAtomic(job.script_path, spec.script(), 0755));
  }
  if (job.alloc.knows_tasks_per_node()) {
    job.hostfile = dir + "/" + std::to_string(job_id) + ".hosts";
    SWELL_RETURN_IF_ERROR(WriteFileAtomic(job.hostfile, Hostfile(job.alloc), 0644));
  }
  std::optional<Account> account;
  if (job.identity) account = LookupAccount(job.identity->uid);
  Env env = JobEnv(spec, job.user, job.alloc, *node_, job.hostfile, account);
  job.path = env["PATH"];
  job.base_env = EnvEntries(env);
  return Status::Ok();
}

void Tasks::TryStart(int64_t job_id, Job& job) {
  while (!draining_ && job.running < job.slots && !job.queue.empty()) {
    pb::TaskKey key = job.queue.front();
    job.queue.pop_front();
    Start(job_id, job, key);
  }
}

void Tasks::Start(int64_t job_id, Job& job, const pb::TaskKey& key) {
  const pb::JobSpec& spec = job.spec;
  Time now = clock_->Now();
  bool is_array = spec.array_indices_size() > 0;
  int64_t task_job_id = TaskJobId(spec, job_id, key.pos());
  auto fail = [&](const std::string& error) { Refuse(key, error, false); };

  SpawnRequest req;
  req.env = job.base_env;
  for (auto& var : EnvEntries(TaskEnv(spec, job_id, key, job.alloc, *node_)))
    req.env.push_back(std::move(var));
  // Every task of a job that launches tasks writes to the job's output; --open-mode=append keeps
  // what the files held (Slurm's default, JobFileAppend=0, truncates them).
  req.append_output = spec.launch_tasks() || spec.open_mode() == "append";
  req.cwd = spec.work_dir().empty() ? "/" : spec.work_dir();
  PatternFields f;
  f.job_id = task_job_id;
  f.array_job_id = job_id;
  f.array_task_id = ArrayTaskIndex(spec, key.pos());
  f.job_name = spec.name();
  f.node = node_->name;
  f.user = job.user.name();
  std::string out_pattern =
      !spec.output().empty() ? spec.output() : DefaultOutputPattern(is_array);
  req.stdout_path = AbsolutePath(ExpandPattern(out_pattern, f), req.cwd);
  if (!spec.error().empty()) {
    req.stderr_path = AbsolutePath(ExpandPattern(spec.error(), f), req.cwd);
    if (req.stderr_path == req.stdout_path) req.stderr_path.clear();
  }
  if (!spec.input().empty()) req.stdin_path = AbsolutePath(spec.input(), req.cwd);
  if (!job.script_path.empty()) {
    req.path = job.script_path;
    req.argv.push_back(spec.script_path().empty() ? job.script_path : spec.script_path());
    for (const auto& a : spec.argv()) req.argv.push_back(a);
  } else {
    if (spec.argv_size() == 0) return fail("nothing to run");
    auto prog = FindProgram(spec.argv(0), job.path, req.cwd);
    if (!prog.ok()) return fail(prog.status().message());
    req.path = *prog;
    req.argv.assign(spec.argv().begin(), spec.argv().end());
  }
  req.user = job.identity;
  req.pid_env = kTaskPidVar;
  int ncpus = std::max(1, spec.ntasks()) * std::max(1, spec.cpus_per_task());
  int64_t mem_mb = spec.mem_mb();
  if (spec.launch_tasks()) {
    // One rank: its own cpus, and its share of the node's memory (--mem is per node).
    ncpus = std::max(1, spec.cpus_per_task());
    int here = std::max(1, job.slots);
    if (mem_mb > 0) mem_mb = std::max<int64_t>(1, mem_mb / here);
  }
  std::unique_ptr<TaskCgroup> cg = limits_->Create(TaskName(key), ncpus, mem_mb);
  if (cg) {
    req.cgroup_procs_fd = cg->procs_fd();
  } else {
    // No memory limit without a cgroup, as Slurm without its cgroup plugin: an address-space
    // limit (RLIMIT_AS) is not one. It counts what threads and allocators reserve, not what
    // they use, and a job's srun (gRPC's threads) hung under --mem-per-cpu=200.
    if (spec.time_limit_ms() > 0)
      req.rlimit_cpu_seconds = ncpus * (spec.time_limit_ms() / 1000 + 1) + 1;
  }
  auto pid = launcher_->Spawn(req);
  if (!pid.ok()) return fail(pid.status().message());
  Task task;
  task.key = key;
  task.start = now;
  if (spec.time_limit_ms() > 0) task.deadline = now + Duration(spec.time_limit_ms());
  task.cgroup = std::move(cg);
  task.pidfd = poller_->WatchPid(*pid);
  tasks_.emplace(*pid, std::move(task));
  ++job.running;
  pb::TaskReport r;
  *r.mutable_key() = key;
  r.set_started(true);
  r.set_time_ms(ToMillis(now));
  r.set_pid(*pid);
  report_(std::move(r));
}

bool Tasks::Exited(pid_t pid, int status, const Usage& usage) {
  auto it = tasks_.find(pid);
  if (it == tasks_.end()) return false;
  Task& task = it->second;
  poller_->UnwatchPid(task.pidfd);
  // The task is over: nothing of it may linger (Slurm does the same at job end).
  kill(-pid, SIGKILL);
  if (task.cgroup) task.cgroup->KillAll();
  pb::TaskReport r;
  *r.mutable_key() = task.key;
  r.set_started(false);
  r.set_time_ms(ToMillis(clock_->Now()));
  Usage used = usage;
  if (task.cgroup) used = CgroupUsage(task.cgroup->path(), usage).value_or(usage);
  r.set_max_rss_kb(used.max_rss_kb);
  r.set_user_cpu_us(used.user_cpu_us);
  r.set_sys_cpu_us(used.sys_cpu_us);
  if (WIFEXITED(status)) r.set_exit_code(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) r.set_signal(WTERMSIG(status));
  r.set_timed_out(task.timed_out);
  r.set_cancelled(task.cancelled);
  r.set_node_failed(task.node_failed);
  r.set_pid(pid);
  r.set_start_ms(ToMillis(task.start));
  int64_t job_id = task.key.job_id();
  tasks_.erase(it);
  report_(std::move(r));
  auto jit = jobs_.find(job_id);
  if (jit != jobs_.end()) {
    --jit->second.running;
    jit->second.last_active = clock_->Now();
    TryStart(job_id, jit->second);
  }
  return true;
}

void Tasks::ForgetIdleJobs() {
  Time now = clock_->Now();
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    Job& j = it->second;
    if (j.running == 0 && j.queue.empty() && now - j.last_active > kForgetIdleJob) {
      if (!j.script_path.empty()) unlink(j.script_path.c_str());
      if (!j.hostfile.empty()) unlink(j.hostfile.c_str());
      it = jobs_.erase(it);
    } else {
      ++it;
    }
  }
}

void Tasks::Cancel(const pb::Cancel& c) {
  Time now = clock_->Now();
  // With attempts, only those attempts: a newer attempt of the same task must survive.
  bool by_attempt = c.attempts_size() == c.positions_size() && c.positions_size() > 0;
  auto matches = [&c, by_attempt](const pb::TaskKey& k) {
    if (c.positions_size() == 0) return true;
    for (int i = 0; i < c.positions_size(); ++i)
      if (c.positions(i) == k.pos() && (!by_attempt || c.attempts(i) == k.attempt())) return true;
    return false;
  };
  for (auto& [pid, task] : tasks_) {
    if (task.key.job_id() != c.job_id() || !matches(task.key)) continue;
    if (c.signal() != 0) {
      kill(c.shell_only() ? pid : -pid, c.signal());  // B: the batch shell alone
      continue;
    }
    if (!task.cancelled) {
      task.cancelled = true;
      kill(-pid, SIGTERM);
      kill(-pid, SIGCONT);
      task.kill_at = now + opt_.kill_wait;
    }
  }
  if (c.signal() != 0) return;
  auto jit = jobs_.find(c.job_id());
  if (jit == jobs_.end()) return;
  auto& q = jit->second.queue;
  for (auto it = q.begin(); it != q.end();) {
    if (matches(*it)) {
      pb::TaskReport r;
      *r.mutable_key() = *it;
      r.set_started(false);
      r.set_cancelled(true);
      r.set_time_ms(ToMillis(now));
      report_(std::move(r));
      it = q.erase(it);
    } else {
      ++it;
    }
  }
}

void Tasks::Kill(const pb::TaskKey& k) {
  for (auto& [pid, task] : tasks_) {
    if (task.key.job_id() == k.job_id() && task.key.pos() == k.pos() &&
        task.key.attempt() == k.attempt()) {
      kill(-pid, SIGKILL);
      task.cancelled = true;
    }
  }
  auto it = jobs_.find(k.job_id());
  if (it != jobs_.end()) {
    auto& q = it->second.queue;
    for (auto qi = q.begin(); qi != q.end();)
      qi = (qi->pos() == k.pos() && qi->attempt() == k.attempt()) ? q.erase(qi) : qi + 1;
  }
}

void Tasks::CheckTimers(Time now) {
  for (auto& [pid, task] : tasks_) {
    if (now >= task.deadline && !task.timed_out && !task.cancelled) {
      task.timed_out = true;
      kill(-pid, SIGTERM);
      kill(-pid, SIGCONT);
      task.kill_at = now + opt_.kill_wait;
    }
    if (now >= task.kill_at) {
      kill(-pid, SIGKILL);
      task.kill_at = kNever;
    }
  }
}

Time Tasks::NextDeadline() const {
  Time next = kNever;
  for (const auto& [pid, task] : tasks_) {
    if (!task.timed_out && !task.cancelled) next = std::min(next, task.deadline);
    next = std::min(next, task.kill_at);
  }
  return next;
}

void Tasks::Describe(pb::Register* r) const {
  for (auto& [pid, task] : tasks_) *r->add_running() = task.key;
  for (auto& [id, job] : jobs_)
    for (auto& k : job.queue) *r->add_queued() = k;
}

void Tasks::Drain() {
  draining_ = true;
  for (auto& [id, job] : jobs_) {
    for (const auto& k : job.queue) Refuse(k, "the node is stopping", true);
    job.queue.clear();
  }
}

void Tasks::TerminateAll(int sig) {
  for (auto& [pid, task] : tasks_) {
    task.node_failed = true;
    kill(-pid, sig);
    if (sig == SIGTERM) kill(-pid, SIGCONT);
  }
}

}  // namespace swell::node
