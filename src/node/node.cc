#include "node/node.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <variant>

#include "common/files.h"
#include "common/log.h"
#include "common/secret.h"
#include "common/slurm_format.h"
#include "node/head_link.h"
#include "node/host.h"
#include "node/launcher.h"
#include "node/limits.h"
#include "node/poller.h"
#include "node/slurm_env.h"
#include "rpc/client.h"

namespace swell::node {
namespace {

// Jobs idle this long are forgotten; the head resends a job's spec when it has not launched
// on this node for a minute (head/head.cc kSpecResendAfter), well inside this.
constexpr auto kForgetIdleJob = std::chrono::minutes(10);

constexpr size_t kExecReadChunk = 64 * 1024;

std::string StepName(const pb::StepKey& k) {
  return std::to_string(k.job_id()) + "." + std::to_string(k.pos()) + "." +
         std::to_string(k.attempt());
}

}  // namespace

class NodeDaemon::Impl {
 public:
  explicit Impl(NodeOptions o)
      : opt_(std::move(o)),
        limits_(opt_.name),
        clock_(opt_.clock != nullptr ? opt_.clock : &system_clock_),
        link_({opt_.name, opt_.head_address, opt_.secret, opt_.heartbeat}, clock_,
              {[this] { poller_.Wake(); }, [this](pb::Register* r) { Describe(r); },
               [this](const pb::HeadMessage& m) { HandleHead(m); }}) {
    if (opt_.hostname.empty()) opt_.hostname = Hostname();
    if (opt_.cpus <= 0) opt_.cpus = OnlineCpus();
    if (opt_.mem_mb <= 0) opt_.mem_mb = TotalMemoryMb();
    node_.name = opt_.name;
    // Marks every step's environment, so that a later daemon of this node finds the steps an
    // earlier one left behind when it was killed.
    node_.owner = opt_.name + "@" + opt_.spool_dir;
    node_.rsh = SelfDir() + "/swell-rsh";
    node_.mpi_interface = MpiInterface(opt_.head_address);
    node_.mpi_dir = opt_.spool_dir + "/mpi";
    auto inst = GenerateSecret();
    instance_ = inst.ok() ? inst->substr(0, 16) : std::to_string(getpid());
  }

  Status Run();
  void Stop() {
    stop_requested_ = true;
    poller_.Wake();
  }

 private:
  struct Job {
    pb::JobSpec spec;
    bool has_spec = false;   // the spec arrived and PrepareJob accepted it
    std::string spec_error;  // why PrepareJob refused it
    pb::UserIdentity user;
    int slots = 1;
    int running = 0;
    std::deque<pb::StepKey> queue;
    Allocation alloc;
    std::string hostfile;  // the allocation's nodes and slots, for mpirun
    int64_t submit_ms = 0;
    std::string script_path;
    std::vector<std::string> base_env;  // everything but the per-task variables
    std::string path;                   // the PATH in base_env
    std::optional<Identity> identity;   // set when steps run as another user
    Time last_active;
  };
  // One rank of a job step started by srun inside an allocation, or one relayed command.
  struct ExecRank {
    int64_t exec_id = 0;
    int64_t job_id = 0;
    int rank = 0;
    bool step = false;  // a step's rank: its process group ends with it
    int out_fd = -1;
    int err_fd = -1;
    int pidfd = -1;
    bool cancelled = false;
    Time kill_at = kNever;
  };
  struct Step {
    pb::StepKey key;
    Time start;
    Time deadline = kNever;
    Time kill_at = kNever;
    bool timed_out = false;
    bool cancelled = false;
    bool node_failed = false;  // ended by the node's own shutdown
    std::unique_ptr<StepCgroup> cgroup;
    int pidfd = -1;
  };

  void DrainInbox() {
    poller_.ClearWake();
    link_.Drain();
  }
  void HandleHead(const pb::HeadMessage& m);
  void HandleLaunch(const pb::Launch& l);
  void HandleCancel(const pb::Cancel& c);
  void StartExec(const pb::ExecLaunch& x);
  void CancelExec(const pb::ExecCancel& c);
  // Reads what a rank wrote to `fd`; at EOF stops watching it. False at EOF or error.
  bool ReadExecOutput(pid_t pid, int fd);
  void ExecRankExited(pid_t pid, int status);
  void ExecEvent(int64_t exec_id, pb::ExecEvent ev);
  void FlushExecOutput();
  // Kills every process marked with the job's exec mark (daemonized launchers, their ranks).
  void SweepExecJob(int64_t job_id);
  Status PrepareJob(int64_t job_id, Job& job);
  void TryStart(int64_t job_id, Job& job);
  void StartStep(int64_t job_id, Job& job, const pb::StepKey& key);
  // Reaps `pid` (a step) or, with -1, every exited child (steps and adopted orphans).
  void Reap(pid_t pid);
  void StepExited(pid_t pid, int status);
  void CheckTimers(Time now);
  void Report(pb::StepReport r) { link_.Report(std::move(r)); }
  // The node's part of its Register.
  void Describe(pb::Register* r) const;
  void TerminateAll(int sig);
  // Kills processes left by an earlier daemon of this node (found by their environment).
  void KillLeftovers();
  int NextTimeoutMs(Time now) const;

  NodeOptions opt_;
  std::string instance_;
  Launcher launcher_;
  Limits limits_;
  SystemClock system_clock_;  // when the options name no clock
  Clock* const clock_;

  Poller poller_;
  HeadLink link_;
  int sigfd_ = -1;
  std::unordered_map<pid_t, ExecRank> exec_ranks_;
  std::unordered_map<int, pid_t> exec_fds_;     // output pipe -> exec rank pid
  std::map<int64_t, pb::ExecOutput> exec_out_;  // events not yet sent, per exec
  std::set<int64_t> exec_jobs_;                 // jobs that ran exec ranks here
  NodeContext node_;                            // what every environment of a step names
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> stopping_{false};

  // Loop-only state below.
  std::map<int64_t, Job> jobs_;
  std::unordered_map<pid_t, Step> steps_;
};

Status NodeDaemon::Impl::Run() {
  if (!poller_.ok()) return Internal("node: cannot create loop fds");
  if (opt_.own_process) {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &mask, nullptr);
    sigset_t fdmask;
    sigemptyset(&fdmask);
    sigaddset(&fdmask, SIGCHLD);
    sigaddset(&fdmask, SIGTERM);
    sigaddset(&fdmask, SIGINT);
    // Orphaned grandchildren (daemonized MPI launchers, background jobs) come back to us.
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    sigfd_ = signalfd(-1, &fdmask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigfd_ < 0) return Internal("node: cannot create a signalfd");
    poller_.Add(sigfd_);
  }
  SWELL_RETURN_IF_ERROR(MakeDirs(opt_.spool_dir + "/jobs"));
  SWELL_RETURN_IF_ERROR(MakeDirs(node_.mpi_dir, 01777));
  chmod(node_.mpi_dir.c_str(), 01777);  // ranks of every user write here
  KillLeftovers();
  chmod((opt_.spool_dir + "/jobs").c_str(), 0755);
  LogInfo("node %s: %d cpus, %lld MB, %s", opt_.name.c_str(), opt_.cpus,
          static_cast<long long>(opt_.mem_mb), limits_.description().c_str());

  link_.Start();

  Time stop_deadline = kNever;
  for (;;) {
    Time now = clock_->Now();
    if (stop_requested_ && !stopping_) {
      stopping_ = true;
      link_.BeginStop();
      LogInfo("node %s: stopping, ending %zu steps", opt_.name.c_str(), steps_.size());
      // Queued steps never started: give them back, and tell the head to send no more.
      for (auto& [id, job] : jobs_) {
        for (const auto& k : job.queue) {
          pb::StepReport r;
          *r.mutable_key() = k;
          r.set_requeue(true);
          r.set_error("the node is stopping");
          r.set_time_ms(ToMillis(now));
          Report(std::move(r));
        }
        job.queue.clear();
      }
      if (link_.up()) {
        pb::NodeMessage drain;
        drain.set_draining(true);
        link_.Send(std::move(drain));
      }
      TerminateAll(SIGTERM);
      stop_deadline = now + std::min<Duration>(opt_.kill_wait, std::chrono::seconds(5));
    }
    if (stopping_) {
      if (steps_.empty() && exec_ranks_.empty()) break;
      if (now >= stop_deadline) {
        TerminateAll(SIGKILL);
        stop_deadline = now + std::chrono::seconds(2);
      }
    }
    epoll_event events[16];
    int timeout = NextTimeoutMs(now);
    if (stopping_) timeout = std::min(timeout, 100);
    int n = poller_.Wait(events, 16, timeout);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.fd == sigfd_) {
        signalfd_siginfo si;
        while (read(sigfd_, &si, sizeof si) == sizeof si) {
          if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) stop_requested_ = true;
        }
        Reap(-1);
      } else if (pid_t pid = poller_.PidOf(events[i].data.fd); pid > 0) {
        Reap(pid);
      } else if (auto xf = exec_fds_.find(events[i].data.fd); xf != exec_fds_.end()) {
        ReadExecOutput(xf->second, events[i].data.fd);
      } else if (events[i].data.fd == poller_.wake_fd()) {
        DrainInbox();
      }
    }
    now = clock_->Now();
    CheckTimers(now);
    link_.Heartbeat(now);
    link_.Flush(!steps_.empty());
    FlushExecOutput();
  }
  // Give the final reports a moment to reach the head (acks keep arriving: the window of one
  // batch in flight still holds).
  for (int i = 0; i < 50 && link_.pending(); ++i) {
    DrainInbox();
    link_.Flush(!steps_.empty());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  link_.Stop();
  if (sigfd_ >= 0) {
    poller_.Remove(sigfd_);
    close(sigfd_);
    sigfd_ = -1;
  }
  LogInfo("node %s: stopped", opt_.name.c_str());
  return Status::Ok();
}


void NodeDaemon::Impl::Describe(pb::Register* r) const {
  r->set_name(opt_.name);
  r->set_instance(instance_);
  r->set_hostname(opt_.hostname);
  r->set_partition(opt_.partition);
  r->mutable_resources()->set_cpus(opt_.cpus);
  r->mutable_resources()->set_mem_mb(opt_.mem_mb);
  r->mutable_resources()->set_gpus(opt_.gpus);
  r->set_pid(getpid());
  for (auto& [pid, step] : steps_) *r->add_running() = step.key;
  for (auto& [id, job] : jobs_)
    for (auto& k : job.queue) *r->add_queued() = k;
  for (int64_t id : exec_jobs_) r->add_exec_jobs(id);
}

void NodeDaemon::Impl::HandleHead(const pb::HeadMessage& m) {
  if (m.has_registered()) {
    const auto& reg = m.registered();
    if (!reg.ok()) {
      LogError("node %s: head refused registration: %s", opt_.name.c_str(), reg.message().c_str());
      stop_requested_ = true;
      return;
    }
    // Exactly the attempts named: a newer attempt of the same task may be here too.
    for (const auto& k : reg.kill()) {
      for (auto& [pid, step] : steps_) {
        if (step.key.job_id() == k.job_id() && step.key.pos() == k.pos() &&
            step.key.attempt() == k.attempt()) {
          kill(-pid, SIGKILL);
          step.cancelled = true;
        }
      }
      auto it = jobs_.find(k.job_id());
      if (it != jobs_.end()) {
        auto& q = it->second.queue;
        for (auto qi = q.begin(); qi != q.end();)
          qi = (qi->pos() == k.pos() && qi->attempt() == k.attempt()) ? q.erase(qi) : qi + 1;
      }
    }
  }
  // Launches first: a cancel in the same message may name tasks it launches.
  for (const auto& l : m.launches()) HandleLaunch(l);
  for (const auto& c : m.cancels()) HandleCancel(c);
  for (const auto& x : m.execs()) StartExec(x);
  for (const auto& c : m.exec_cancels()) CancelExec(c);
}

void NodeDaemon::Impl::HandleLaunch(const pb::Launch& l) {
  if (stopping_) {  // too late to start: give them back
    for (const auto& k : l.steps()) {
      pb::StepReport r;
      *r.mutable_key() = k;
      r.set_requeue(true);
      r.set_error("the node is stopping");
      r.set_time_ms(ToMillis(clock_->Now()));
      Report(std::move(r));
    }
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
    Status s = PrepareJob(l.job_id(), job);
    // Only a prepared job runs steps: a failed one must not run later steps as the daemon.
    job.has_spec = s.ok();
    job.spec_error = s.ok() ? "" : s.message();
    if (!s.ok()) {
      for (const auto& k : l.steps()) {
        pb::StepReport r;
        *r.mutable_key() = k;
        r.set_started(false);
        r.set_exit_code(1);
        r.set_error(s.message());
        r.set_time_ms(ToMillis(clock_->Now()));
        Report(std::move(r));
      }
      return;
    }
  }
  if (l.slots() > 0) job.slots = l.slots();
  job.alloc.node_index = l.node_index();
  job.alloc.first_rank = l.first_rank();
  if (!job.has_spec) {
    for (const auto& k : l.steps()) {
      pb::StepReport r;
      *r.mutable_key() = k;
      if (!job.spec_error.empty()) {
        r.set_exit_code(1);
        r.set_error(job.spec_error);
      } else {
        r.set_error("the node lost the job's description");
        r.set_requeue(true);
      }
      r.set_time_ms(ToMillis(clock_->Now()));
      Report(std::move(r));
    }
    return;
  }
  for (const auto& k : l.steps()) job.queue.push_back(k);
  TryStart(l.job_id(), job);
}

Status NodeDaemon::Impl::PrepareJob(int64_t job_id, Job& job) {
  const pb::JobSpec& spec = job.spec;
  SWELL_ASSIGN_OR_RETURN(job.identity, ResolveIdentity(job.user));
  if (!spec.script().empty()) {
    std::string dir = opt_.spool_dir + "/jobs";
    job.script_path = dir + "/" + std::to_string(job_id) + ".sh";
    SWELL_RETURN_IF_ERROR(WriteFileAtomic(job.script_path, spec.script(), 0755));
  }
  if (job.alloc.knows_tasks_per_node()) {
    job.hostfile = opt_.spool_dir + "/jobs/" + std::to_string(job_id) + ".hosts";
    SWELL_RETURN_IF_ERROR(WriteFileAtomic(job.hostfile, Hostfile(job.alloc), 0644));
  }
  std::optional<Account> account;
  if (job.identity) account = LookupAccount(job.identity->uid);
  Env env = JobEnv(spec, job.user, job.alloc, node_, job.hostfile, account);
  job.path = env["PATH"];
  job.base_env = EnvEntries(env);
  return Status::Ok();
}

void NodeDaemon::Impl::TryStart(int64_t job_id, Job& job) {
  while (!stopping_ && job.running < job.slots && !job.queue.empty()) {
    pb::StepKey key = job.queue.front();
    job.queue.pop_front();
    StartStep(job_id, job, key);
  }
}

void NodeDaemon::Impl::StartStep(int64_t job_id, Job& job, const pb::StepKey& key) {
  const pb::JobSpec& spec = job.spec;
  Time now = clock_->Now();
  bool is_array = spec.array_indices_size() > 0;
  int64_t task_job_id = TaskJobId(spec, job_id, key.pos());

  auto fail = [&](const std::string& error) {
    pb::StepReport r;
    *r.mutable_key() = key;
    r.set_started(false);
    r.set_exit_code(1);
    r.set_error(error);
    r.set_time_ms(ToMillis(now));
    Report(std::move(r));
  };

  SpawnRequest req;
  req.env = job.base_env;
  for (auto& var : EnvEntries(StepEnv(spec, job_id, key, job.alloc, node_.owner)))
    req.env.push_back(std::move(var));
  // Every task of a job that launches tasks writes to the job's output.
  req.append_output = spec.launch_tasks();
  req.cwd = spec.work_dir().empty() ? "/" : spec.work_dir();
  PatternFields f;
  f.job_id = task_job_id;
  f.array_job_id = job_id;
  f.array_task_id = ArrayTaskIndex(spec, key.pos());
  f.job_name = spec.name();
  f.node = opt_.name;
  f.user = job.user.name();
  std::string out_pattern =
      !spec.output().empty() ? spec.output() : (is_array ? "swell-%A_%a.out" : "swell-%j.out");
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
  int ncpus = std::max(1, spec.ntasks()) * std::max(1, spec.cpus_per_task());
  int64_t mem_mb = spec.mem_mb();
  if (spec.launch_tasks()) {
    // One rank: its own cpus, and its share of the node's memory (--mem is per node).
    ncpus = std::max(1, spec.cpus_per_task());
    int here = std::max(1, job.slots);
    if (mem_mb > 0) mem_mb = std::max<int64_t>(1, mem_mb / here);
  }
  std::unique_ptr<StepCgroup> cg = limits_.Create(StepName(key), ncpus, mem_mb);
  if (cg) {
    req.cgroup_procs_fd = cg->procs_fd();
  } else {
    if (mem_mb > 0) req.rlimit_as_bytes = mem_mb << 20;
    if (spec.time_limit_ms() > 0)
      req.rlimit_cpu_seconds = ncpus * (spec.time_limit_ms() / 1000 + 1) + 1;
  }
  auto pid = launcher_.Spawn(req);
  if (!pid.ok()) return fail(pid.status().message());
  Step step;
  step.key = key;
  step.start = now;
  if (spec.time_limit_ms() > 0) step.deadline = now + Duration(spec.time_limit_ms());
  step.cgroup = std::move(cg);
  step.pidfd = poller_.WatchPid(*pid);
  steps_.emplace(*pid, std::move(step));
  ++job.running;
  pb::StepReport r;
  *r.mutable_key() = key;
  r.set_started(true);
  r.set_time_ms(ToMillis(now));
  r.set_pid(*pid);
  Report(std::move(r));
}

void NodeDaemon::Impl::Reap(pid_t which) {
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(which, &status, WNOHANG);
    if (pid <= 0) break;
    StepExited(pid, status);
    if (which > 0) break;
  }
  // Forget idle jobs now and then.
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

void NodeDaemon::Impl::StepExited(pid_t pid, int status) {
  {
    if (exec_ranks_.count(pid)) return ExecRankExited(pid, status);
    auto it = steps_.find(pid);
    if (it == steps_.end()) return;  // an adopted orphan
    Step& step = it->second;
    poller_.UnwatchPid(step.pidfd);
    // The step is over: nothing of it may linger (Slurm does the same at job end).
    kill(-pid, SIGKILL);
    if (step.cgroup) step.cgroup->KillAll();
    pb::StepReport r;
    *r.mutable_key() = step.key;
    r.set_started(false);
    r.set_time_ms(ToMillis(clock_->Now()));
    if (WIFEXITED(status)) r.set_exit_code(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) r.set_signal(WTERMSIG(status));
    r.set_timed_out(step.timed_out);
    r.set_cancelled(step.cancelled);
    r.set_node_failed(step.node_failed);
    r.set_pid(pid);
    r.set_start_ms(ToMillis(step.start));
    int64_t job_id = step.key.job_id();
    steps_.erase(it);
    Report(std::move(r));
    auto jit = jobs_.find(job_id);
    if (jit != jobs_.end()) {
      --jit->second.running;
      jit->second.last_active = clock_->Now();
      TryStart(job_id, jit->second);
    }
  }
}

void NodeDaemon::Impl::HandleCancel(const pb::Cancel& c) {
  Time now = clock_->Now();
  // With attempts, only those attempts: a newer attempt of the same task must survive.
  bool by_attempt = c.attempts_size() == c.positions_size() && c.positions_size() > 0;
  auto matches = [&c, by_attempt](const pb::StepKey& k) {
    if (c.positions_size() == 0) return true;
    for (int i = 0; i < c.positions_size(); ++i)
      if (c.positions(i) == k.pos() && (!by_attempt || c.attempts(i) == k.attempt())) return true;
    return false;
  };
  for (auto& [pid, step] : steps_) {
    if (step.key.job_id() != c.job_id() || !matches(step.key)) continue;
    if (c.signal() != 0) {
      kill(-pid, c.signal());
      continue;
    }
    if (!step.cancelled) {
      step.cancelled = true;
      kill(-pid, SIGTERM);
      kill(-pid, SIGCONT);
      step.kill_at = now + opt_.kill_wait;
    }
  }
  if (c.positions_size() == 0) {
    pb::ExecCancel xc;
    xc.set_job_id(c.job_id());
    xc.set_signal(c.signal());
    CancelExec(xc);
  }
  if (c.signal() != 0) return;
  auto jit = jobs_.find(c.job_id());
  if (jit == jobs_.end()) return;
  auto& q = jit->second.queue;
  for (auto it = q.begin(); it != q.end();) {
    if (matches(*it)) {
      pb::StepReport r;
      *r.mutable_key() = *it;
      r.set_started(false);
      r.set_cancelled(true);
      r.set_time_ms(ToMillis(now));
      Report(std::move(r));
      it = q.erase(it);
    } else {
      ++it;
    }
  }
}

void NodeDaemon::Impl::ExecEvent(int64_t exec_id, pb::ExecEvent ev) {
  auto& out = exec_out_[exec_id];
  out.set_exec_id(exec_id);
  *out.add_events() = std::move(ev);
}

void NodeDaemon::Impl::FlushExecOutput() {
  if (exec_out_.empty()) return;
  if (!link_.registered()) {
    // The head lost the stream's caller with the session; nothing to deliver to.
    if (!link_.up()) exec_out_.clear();
    return;
  }
  for (auto& [id, out] : exec_out_) {
    pb::NodeMessage m;
    *m.mutable_exec() = std::move(out);
    link_.Send(std::move(m));
  }
  exec_out_.clear();
}

void NodeDaemon::Impl::StartExec(const pb::ExecLaunch& x) {
  auto fail = [&](int rank, const std::string& error) {
    pb::ExecEvent ev;
    ev.set_rank(rank);
    ev.set_ended(true);
    ev.set_exit_code(1);
    ev.set_error(opt_.name + ": " + error);
    ExecEvent(x.exec_id(), std::move(ev));
  };
  auto fail_all = [&](const std::string& error) {
    for (int i = 0; i < x.count(); ++i) fail(x.first_rank() + i, error);
  };
  if (stopping_) return fail_all("the node is stopping");
  auto who = ResolveIdentity(x.user());
  if (!who.ok()) return fail_all(who.status().message());
  Env env = ExecEnv(x, node_);
  SpawnRequest req;
  req.cwd = x.cwd().empty() ? "/" : x.cwd();
  req.user = *who;
  if (x.shell()) {
    // As ssh does: the words joined by spaces, run by the shell.
    std::string line;
    for (const auto& a : x.argv()) line += (line.empty() ? "" : " ") + a;
    req.path = "/bin/sh";
    req.argv = {"sh", "-c", line};
  } else {
    if (x.argv_size() == 0) return fail_all("nothing to run");
    auto prog = FindProgram(x.argv(0), env["PATH"], req.cwd);
    if (!prog.ok()) return fail_all(prog.status().message());
    req.path = *prog;
    req.argv.assign(x.argv().begin(), x.argv().end());
  }
  exec_jobs_.insert(x.job_id());
  const std::vector<std::string> shared = EnvEntries(env);
  for (int i = 0; i < x.count(); ++i) {
    int rank = x.first_rank() + i;
    req.env = shared;
    for (auto& var : EnvEntries(ExecRankEnv(x, i))) req.env.push_back(std::move(var));
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0) return fail(rank, std::string("pipe: ") + strerror(errno));
    if (pipe2(err, O_CLOEXEC) != 0) {
      close(out[0]);
      close(out[1]);
      return fail(rank, std::string("pipe: ") + strerror(errno));
    }
    req.stdout_fd = out[1];
    req.stderr_fd = err[1];
    auto pid = launcher_.Spawn(req);
    close(out[1]);
    close(err[1]);
    if (!pid.ok()) {
      close(out[0]);
      close(err[0]);
      fail(rank, pid.status().message());
      continue;
    }
    ExecRank r;
    r.exec_id = x.exec_id();
    r.job_id = x.job_id();
    r.rank = rank;
    r.step = x.step_id() >= 0;
    r.out_fd = out[0];
    r.err_fd = err[0];
    for (int fd : {out[0], err[0]}) {
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
      poller_.Add(fd);
      exec_fds_[fd] = *pid;
    }
    r.pidfd = poller_.WatchPid(*pid);
    exec_ranks_.emplace(*pid, r);
  }
}

bool NodeDaemon::Impl::ReadExecOutput(pid_t pid, int fd) {
  auto it = exec_ranks_.find(pid);
  if (it == exec_ranks_.end()) return false;
  ExecRank& r = it->second;
  char buf[kExecReadChunk];
  for (int round = 0; round < 16; ++round) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      pb::ExecEvent ev;
      ev.set_rank(r.rank);
      ev.set_fd(fd == r.out_fd ? 1 : 2);
      ev.set_data(buf, static_cast<size_t>(n));
      ExecEvent(r.exec_id, std::move(ev));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    // EOF (or an error): stop watching this pipe.
    poller_.Remove(fd);
    exec_fds_.erase(fd);
    close(fd);
    (fd == r.out_fd ? r.out_fd : r.err_fd) = -1;
    return false;
  }
  return true;
}

void NodeDaemon::Impl::ExecRankExited(pid_t pid, int status) {
  auto it = exec_ranks_.find(pid);
  if (it == exec_ranks_.end()) return;
  // What it wrote before it ended is in the pipes; a child it left behind may hold them open,
  // so read what is there and no more.
  for (int fd : {it->second.out_fd, it->second.err_fd})
    if (fd >= 0)
      while (ReadExecOutput(pid, fd)) {
        int avail = 0;
        if (ioctl(fd, FIONREAD, &avail) != 0 || avail == 0) break;
      }
  ExecRank r = it->second;
  for (int fd : {r.out_fd, r.err_fd}) {
    if (fd < 0) continue;
    poller_.Remove(fd);
    exec_fds_.erase(fd);
    close(fd);
  }
  poller_.UnwatchPid(r.pidfd);
  // A step's rank takes its process group with it (a relayed command may have left a daemon
  // behind on purpose, as over ssh: the job's end sweeps those).
  if (r.step) kill(-pid, SIGKILL);
  exec_ranks_.erase(it);
  pb::ExecEvent ev;
  ev.set_rank(r.rank);
  ev.set_ended(true);
  if (WIFEXITED(status)) ev.set_exit_code(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) ev.set_signal(WTERMSIG(status));
  ExecEvent(r.exec_id, std::move(ev));
}

void NodeDaemon::Impl::CancelExec(const pb::ExecCancel& c) {
  Time now = clock_->Now();
  int sig = c.signal() != 0 ? c.signal() : SIGTERM;
  for (auto& [pid, x] : exec_ranks_) {
    bool match = c.exec_id() != 0 ? x.exec_id == c.exec_id() : x.job_id == c.job_id();
    if (!match) continue;
    kill(-pid, sig);
    kill(pid, sig);
    if (c.signal() == 0 && !x.cancelled) {
      x.cancelled = true;
      kill(-pid, SIGCONT);
      x.kill_at = now + std::min<Duration>(opt_.kill_wait, std::chrono::seconds(2));
    }
  }
  // The job is over: nothing it started through this node may stay.
  if (c.exec_id() == 0 && c.signal() == 0 && exec_jobs_.erase(c.job_id())) SweepExecJob(c.job_id());
}

void NodeDaemon::Impl::SweepExecJob(int64_t job_id) {
  auto pids = ProcessesWithEnv(ExecJobEntry(node_.owner, job_id));
  for (pid_t p : pids) kill(p, SIGKILL);
  if (!pids.empty())
    LogInfo("node %s: job %lld ended; killed %zu of its processes left behind", opt_.name.c_str(),
            static_cast<long long>(job_id), pids.size());
}

void NodeDaemon::Impl::CheckTimers(Time now) {
  for (auto& [pid, x] : exec_ranks_) {
    if (now >= x.kill_at) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      x.kill_at = kNever;
    }
  }
  for (auto& [pid, step] : steps_) {
    if (now >= step.deadline && !step.timed_out && !step.cancelled) {
      step.timed_out = true;
      kill(-pid, SIGTERM);
      kill(-pid, SIGCONT);
      step.kill_at = now + opt_.kill_wait;
    }
    if (now >= step.kill_at) {
      kill(-pid, SIGKILL);
      step.kill_at = kNever;
    }
  }
}

int NodeDaemon::Impl::NextTimeoutMs(Time now) const {
  Time next = link_.NextDeadline(now);
  for (const auto& [pid, x] : exec_ranks_) next = std::min(next, x.kill_at);
  for (const auto& [pid, step] : steps_) {
    if (!step.timed_out && !step.cancelled) next = std::min(next, step.deadline);
    next = std::min(next, step.kill_at);
  }
  auto ms = (next - now).count();
  if (ms < 0) return 0;
  return static_cast<int>(std::min<int64_t>(ms + 1, 1000));
}

void NodeDaemon::Impl::TerminateAll(int sig) {
  for (auto& [pid, x] : exec_ranks_) {
    x.cancelled = true;
    kill(-pid, sig);
    kill(pid, sig);
  }
  for (auto& [pid, step] : steps_) {
    step.node_failed = true;
    kill(-pid, sig);
    if (sig == SIGTERM) kill(-pid, SIGCONT);
  }
}

void NodeDaemon::Impl::KillLeftovers() {
  auto pids = ProcessesWithEnv(StepOwnerEntry(node_.owner));
  for (pid_t p : pids) {
    if (getpgid(p) == p) kill(-p, SIGKILL);
    kill(p, SIGKILL);
  }
  if (!pids.empty())
    LogWarning("node %s: killed %zu processes left by an earlier daemon of this node",
               opt_.name.c_str(), pids.size());
}

NodeDaemon::NodeDaemon(NodeOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
NodeDaemon::~NodeDaemon() = default;
Status NodeDaemon::Run() { return impl_->Run(); }
void NodeDaemon::Stop() { impl_->Stop(); }

}  // namespace swell::node
