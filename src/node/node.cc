#include "node/node.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "common/files.h"
#include "common/log.h"
#include "common/secret.h"
#include "node/exec_relay.h"
#include "node/head_link.h"
#include "node/host.h"
#include "node/join.h"
#include "node/launcher.h"
#include "node/limits.h"
#include "node/poller.h"
#include "node/slurm_env.h"
#include "node/tasks.h"

namespace swell::node {

// The loop and the wiring: the head link brings the head's messages, which go to the tasks
// and the exec relay; their reports and output go back through the link; the poller wakes the
// loop for a process's end, a rank's output, a signal or the link.
class NodeDaemon::Impl {
 public:
  explicit Impl(NodeOptions o)
      : opt_(std::move(o)),
        limits_(opt_.name),
        clock_(opt_.clock != nullptr ? opt_.clock : &system_clock_),
        node_(Context(opt_)),
        link_({opt_.name, opt_.head_address, opt_.secret, opt_.heartbeat, opt_.tls}, clock_,
              {[this] { poller_.Wake(); }, [this](pb::Register* r) { Describe(r); },
               [this](const pb::HeadMessage& m) { HandleHead(m); }}),
        tasks_({opt_.spool_dir, opt_.kill_wait}, &node_, clock_, &poller_, &launcher_, &limits_,
               [this](pb::TaskReport r) { link_.Report(std::move(r)); }),
        exec_(&node_, opt_.kill_wait, clock_, &poller_, &launcher_, opt_.spool_dir + "/pmix") {
    if (opt_.hostname.empty()) opt_.hostname = Hostname();
    if (opt_.cpus <= 0) opt_.cpus = OnlineCpus();
    if (opt_.mem_mb <= 0) opt_.mem_mb = TotalMemoryMb();
    auto inst = GenerateSecret();
    instance_ = inst.ok() ? inst->substr(0, 16) : std::to_string(getpid());
  }

  Status Run();
  void Stop() {
    stop_requested_ = true;
    poller_.Wake();
  }

 private:
  static NodeContext Context(const NodeOptions& o) {
    NodeContext c;
    c.name = o.name;
    // Marks every task's and rank's environment, so that a later daemon of this node finds the
    // processes an earlier one left behind when it was killed.
    c.owner = o.name + "@" + o.spool_dir;
    c.rsh = SelfDir() + "/swell-rsh";
    c.mpi_interface = MpiInterface(o.head_address);
    c.mpi_dir = o.spool_dir + "/mpi";
    c.partition = o.partition;
    return c;
  }

  // Blocks the daemon's signals in this thread and takes them through a signalfd.
  Status OwnProcess();
  // The node stops: queued tasks go back, the head is told to send no more, and every task
  // and rank gets SIGTERM.
  void BeginStop();
  void DrainInbox() {
    poller_.ClearWake();
    link_.Drain();
  }
  void HandleHead(const pb::HeadMessage& m);
  void HandleCancel(const pb::Cancel& c);
  // The head asked: a new key and certificate, made on a thread of its own (a call to the
  // head) while the loop goes on; one at a time.
  void RenewCertificate();
  // Reaps `pid` (a task or a rank) or, with -1, exited children (adopted orphans too): at most
  // kReapsPerPass of them, since each task's end may start the next and a stream of short tasks
  // would otherwise hold the loop (and the heartbeats) for as long as the stream lasts. Returns
  // false when more may be waiting.
  bool Reap(pid_t pid);
  static constexpr int kReapsPerPass = 32;
  // The node's part of its Register.
  void Describe(pb::Register* r) const;
  void TerminateAll(int sig) {
    exec_.TerminateAll(sig);
    tasks_.TerminateAll(sig);
  }
  // Kills processes left by an earlier daemon of this node (found by their environment).
  void KillLeftovers();
  int NextTimeoutMs(Time now) const;

  NodeOptions opt_;
  std::string instance_;  // random per daemon: the head tells a restarted node from a reconnect
  Launcher launcher_;
  Limits limits_;
  SystemClock system_clock_;  // when the options name no clock
  Clock* const clock_;
  const NodeContext node_;  // what every environment of a task or rank names

  Poller poller_;
  HeadLink link_;
  Tasks tasks_;
  ExecRelay exec_;
  int sigfd_ = -1;
  bool reap_backlog_ = false;  // children may have exited that Reap(-1) has not seen yet
  std::atomic<bool> stop_requested_{false};
  bool stopping_ = false;  // loop only
  std::string refusal_;    // why the head refused the registration, if it did
  std::thread renewer_;    // RenewCertificate's, joined before the next one and at the end
  std::atomic<bool> renewed_{false};
};

Status NodeDaemon::Impl::OwnProcess() {
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
  return Status::Ok();
}

Status NodeDaemon::Impl::Run() {
  if (!poller_.ok()) return Internal("node: cannot create loop fds");
  if (opt_.own_process) SWELL_RETURN_IF_ERROR(OwnProcess());
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
      BeginStop();
      stop_deadline = now + std::min<Duration>(opt_.kill_wait, std::chrono::seconds(5));
    }
    if (stopping_) {
      if (tasks_.running() == 0 && exec_.running() == 0) break;
      if (now >= stop_deadline) {
        TerminateAll(SIGKILL);
        stop_deadline = now + std::chrono::seconds(2);
      }
    }
    epoll_event events[16];
    int timeout = reap_backlog_ ? 0 : NextTimeoutMs(now);
    if (stopping_) timeout = std::min(timeout, 100);
    int n = poller_.Wait(events, 16, timeout);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == sigfd_) {
        signalfd_siginfo si;
        while (read(sigfd_, &si, sizeof si) == sizeof si) {
          if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) stop_requested_ = true;
        }
        reap_backlog_ = true;
      } else if (pid_t pid = poller_.PidOf(fd); pid > 0) {
        Reap(pid);
      } else if (fd == poller_.wake_fd()) {
        DrainInbox();
      } else {
        exec_.HandlePipe(fd);
      }
    }
    if (reap_backlog_) reap_backlog_ = !Reap(-1);
    now = clock_->Now();
    exec_.CheckTimers(now);
    tasks_.CheckTimers(now);
    link_.Heartbeat(now);
    link_.Flush(/*busy=*/tasks_.running() > 0);
    exec_.FlushTo(link_);
  }
  // Give the final reports a moment to reach the head (acks keep arriving: the window of one
  // batch in flight still holds).
  for (int i = 0; i < 50 && link_.pending(); ++i) {
    DrainInbox();
    link_.Flush(/*busy=*/false);  // no task runs any more
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  link_.Stop();
  if (renewer_.joinable()) renewer_.join();
  if (sigfd_ >= 0) {
    poller_.Remove(sigfd_);
    close(sigfd_);
    sigfd_ = -1;
  }
  LogInfo("node %s: stopped", opt_.name.c_str());
  if (!refusal_.empty()) return PermissionDenied("the head refused this node: " + refusal_);
  return Status::Ok();
}

void NodeDaemon::Impl::BeginStop() {
  stopping_ = true;
  link_.BeginStop();
  LogInfo("node %s: stopping, ending %zu tasks", opt_.name.c_str(), tasks_.running());
  // Queued tasks never started: give them back, and tell the head to send no more.
  tasks_.Drain();
  exec_.StopAccepting();
  if (link_.up()) {
    pb::NodeMessage drain;
    drain.set_draining(true);
    link_.Send(std::move(drain));
  }
  TerminateAll(SIGTERM);
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
  tasks_.Describe(r);
  exec_.Describe(r);
}

void NodeDaemon::Impl::HandleHead(const pb::HeadMessage& m) {
  if (m.has_registered()) {
    const auto& reg = m.registered();
    if (!reg.ok()) {
      LogError("node %s: head refused registration: %s", opt_.name.c_str(), reg.message().c_str());
      refusal_ = reg.message();
      stop_requested_ = true;
      return;
    }
    // Exactly the attempts named: a newer attempt of the same task may be here too.
    for (const auto& k : reg.kill()) tasks_.Kill(k);
  }
  // Launches first: a cancel in the same message may name tasks it launches.
  for (const auto& l : m.launches()) tasks_.Launch(l);
  for (const auto& c : m.cancels()) HandleCancel(c);
  for (const auto& x : m.execs()) exec_.Start(x);
  for (const auto& c : m.exec_cancels()) exec_.Cancel(c);
  for (const auto& f : m.fences()) exec_.FenceDone(f);
  if (m.renew_cert()) RenewCertificate();
}

void NodeDaemon::Impl::RenewCertificate() {
  if (!opt_.tls.enabled() || opt_.head_address.rfind("unix:", 0) == 0) return;
  if (renewer_.joinable()) {
    if (!renewed_) return;  // one under way
    renewer_.join();
  }
  renewed_ = false;
  renewer_ = std::thread([this] {
    // A few tries a couple of seconds apart (the head asks again a minute later too).
    for (int attempt = 1; attempt <= 3 && !stop_requested_; ++attempt) {
      Status s = node::RenewCertificate(opt_.head_address, opt_.tls, opt_.name, clock_->Now());
      if (s.ok()) break;
      LogWarning("node %s: cannot renew its certificate (try %d of 3): %s", opt_.name.c_str(),
                 attempt, s.ToString().c_str());
      for (int i = 0; i < 20 && !stop_requested_; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    renewed_ = true;
  });
}

void NodeDaemon::Impl::HandleCancel(const pb::Cancel& c) {
  tasks_.Cancel(c);
  // A cancel of the whole job ends its srun steps and relayed commands too.
  if (c.positions_size() == 0) {
    pb::ExecCancel xc;
    xc.set_job_id(c.job_id());
    xc.set_signal(c.signal());
    exec_.Cancel(xc);
  }
}

bool NodeDaemon::Impl::Reap(pid_t which) {
  bool all = false;
  for (int reaped = 0; reaped < kReapsPerPass; ++reaped) {
    int status = 0;
    struct rusage ru = {};
    pid_t pid = wait4(which, &status, WNOHANG, &ru);
    if (pid <= 0) {
      all = true;
      break;
    }
    const Usage usage = FromRusage(ru);
    // Neither a rank nor a task: an adopted orphan.
    if (!exec_.Exited(pid, status, usage)) tasks_.Exited(pid, status, usage);
    if (which > 0) {
      all = true;
      break;
    }
  }
  tasks_.ForgetIdleJobs();
  return all;
}

int NodeDaemon::Impl::NextTimeoutMs(Time now) const {
  Time next = std::min({link_.NextDeadline(now), exec_.NextDeadline(), tasks_.NextDeadline()});
  auto ms = (next - now).count();
  if (ms < 0) return 0;
  return static_cast<int>(std::min<int64_t>(ms + 1, 1000));
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
