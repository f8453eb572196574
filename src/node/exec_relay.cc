#include "node/exec_relay.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "common/hostlist.h"
#include "common/log.h"
#include "node/host.h"

namespace swell::node {
namespace {

constexpr size_t kReadChunk = 64 * 1024;

}  // namespace

ExecRelay::ExecRelay(const NodeContext* node, Duration kill_wait, Clock* clock, Poller* poller,
                     Launcher* launcher, std::string pmix_dir)
    : node_(node),
      kill_wait_(kill_wait),
      clock_(clock),
      poller_(poller),
      launcher_(launcher),
      pmix_dir_(std::move(pmix_dir)),
      pmi1_(poller) {}

Result<PmixServer*> ExecRelay::Pmix() {
  if (!pmix_) {
    SWELL_ASSIGN_OR_RETURN(pmix_, PmixServer::Start(pmix_dir_, [p = poller_] { p->Wake(); }));
  }
  return pmix_.get();
}

Status ExecRelay::AddPmixStep(const pb::ExecLaunch& x, const std::optional<Identity>& who) {
  SWELL_ASSIGN_OR_RETURN(PmixServer * pmix, Pmix());
  PmixStep step;
  step.exec_id = x.exec_id();
  const std::string job = std::to_string(x.job_id()) + "." + std::to_string(x.step_id());
  step.nspace = "swell." + job;
  step.job = job;
  step.nodes.assign(x.nodelist().begin(), x.nodelist().end());
  SWELL_ASSIGN_OR_RETURN(step.counts, ExpandCounts(x.tasks_per_node()));
  if (step.counts.size() != step.nodes.size() || x.node_index() < 0 ||
      static_cast<size_t>(x.node_index()) >= step.nodes.size())
    return InvalidArgument("the step's layout does not add up");
  step.node_index = x.node_index();
  step.uid = who ? who->uid : getuid();
  step.gid = who ? who->gid : getgid();
  pmi1_.AddStep({x.exec_id(), "swell_" + std::to_string(x.job_id()) + "_" +
                                  std::to_string(x.step_id()),
                 step.size(), x.count(), step.counts});
  return pmix->AddStep(step);
}

void ExecRelay::FenceDone(const pb::PmixFence& f) {
  if (f.seq() < 0) {
    pmi1_.FenceDone(f.exec_id(), f.seq(), f.data(), f.error());
  } else if (pmix_) {
    pmix_->FenceDone(f.exec_id(), f.seq(), f.data(), f.error());
  }
}

void ExecRelay::Event(int64_t exec_id, pb::ExecEvent ev) {
  auto& out = out_[exec_id];
  out.set_exec_id(exec_id);
  *out.add_events() = std::move(ev);
}

void ExecRelay::FlushPmi(HeadLink& link) {
  // Both servers' requests: a fence's part, or an abort.
  std::vector<PmixServer::Request> requests = pmi1_.Take();
  if (pmix_)
    for (auto& r : pmix_->Take()) requests.push_back(std::move(r));
  for (auto& r : requests) {
    if (!link.registered()) {
      if (r.kind == PmixServer::Request::kFence) {
        pb::PmixFence no;
        no.set_exec_id(r.exec_id);
        no.set_seq(r.seq);
        no.set_error("the node has no session with the head");
        FenceDone(no);
      }
      continue;
    }
    pb::NodeMessage m;
    if (r.kind == PmixServer::Request::kFence) {
      auto* f = m.mutable_fence();
      f->set_exec_id(r.exec_id);
      f->set_seq(r.seq);
      f->set_data(std::move(r.data));
    } else {
      for (auto& [pid, x] : ranks_)
        if (x.exec_id == r.exec_id && x.rank == r.rank) x.aborted = true;
      auto* a = m.mutable_abort();
      a->set_exec_id(r.exec_id);
      a->set_rank(r.rank);
      a->set_status(r.status);
      a->set_message(std::move(r.message));
    }
    link.Send(std::move(m));
  }
}

void ExecRelay::FlushTo(HeadLink& link) {
  FlushPmi(link);
  if (out_.empty()) return;
  if (!link.registered()) {
    // The head lost the stream's caller with the session; nothing to deliver to.
    if (!link.up()) out_.clear();
    return;
  }
  for (auto& [id, out] : out_) {
    pb::NodeMessage m;
    *m.mutable_exec() = std::move(out);
    link.Send(std::move(m));
  }
  out_.clear();
}

void ExecRelay::Describe(pb::Register* r) const {
  for (int64_t id : jobs_) r->add_exec_jobs(id);
}

void ExecRelay::Start(const pb::ExecLaunch& x) {
  auto fail = [&](int rank, const std::string& error) {
    pb::ExecEvent ev;
    ev.set_rank(rank);
    ev.set_ended(true);
    ev.set_exit_code(1);
    ev.set_error(node_->name + ": " + error);
    Event(x.exec_id(), std::move(ev));
  };
  auto fail_all = [&](const std::string& error) {
    for (int i = 0; i < x.count(); ++i) fail(x.first_rank() + i, error);
  };
  if (!accepting_) return fail_all("the node is stopping");
  auto who = ResolveIdentity(x.user());
  if (!who.ok()) return fail_all(who.status().message());
  Env env = ExecEnv(x, *node_);
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
  const bool pmix = x.pmix() && x.step_id() >= 0;
  if (pmix) {
    Status s = AddPmixStep(x, *who);
    if (!s.ok()) return fail_all(s.message());
  }
  jobs_.insert(x.job_id());
  const std::vector<std::string> shared = EnvEntries(env);
  for (int i = 0; i < x.count(); ++i) {
    int rank = x.first_rank() + i;
    req.env = shared;
    for (auto& var : EnvEntries(ExecRankEnv(x, i))) req.env.push_back(std::move(var));
    int pmi_fd = -1;
    if (pmix) {
      auto vars = pmix_->RankEnv(x.exec_id(), rank);
      auto fd = pmi1_.Connect(x.exec_id(), rank);
      if (!vars.ok() || !fd.ok()) {
        if (fd.ok()) close(*fd);
        fail(rank, (!vars.ok() ? vars.status() : fd.status()).message());
        continue;
      }
      for (auto& var : *vars) req.env.push_back(std::move(var));
      pmi_fd = *fd;
      req.inherit_fd = pmi_fd;
      req.env.push_back("PMI_FD=" + std::to_string(pmi_fd));
      req.env.push_back("PMI_RANK=" + std::to_string(rank));
      req.env.push_back("PMI_SIZE=" + std::to_string(x.ntasks()));
    }
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
      if (pmi_fd >= 0) close(pmi_fd);
      return fail(rank, std::string("pipe: ") + strerror(errno));
    }
    if (pipe2(err, O_CLOEXEC) != 0) {
      close(out[0]);
      close(out[1]);
      if (pmi_fd >= 0) close(pmi_fd);
      return fail(rank, std::string("pipe: ") + strerror(errno));
    }
    req.stdout_fd = out[1];
    req.stderr_fd = err[1];
    auto pid = launcher_->Spawn(req);
    close(out[1]);
    close(err[1]);
    if (pmi_fd >= 0) close(pmi_fd);  // the rank's end, now the rank's alone
    if (!pid.ok()) {
      close(out[0]);
      close(err[0]);
      fail(rank, pid.status().message());
      continue;
    }
    Rank r;
    r.exec_id = x.exec_id();
    r.job_id = x.job_id();
    r.rank = rank;
    r.step = x.step_id() >= 0;
    r.pmix = pmix;
    r.out_fd = out[0];
    r.err_fd = err[0];
    for (int fd : {out[0], err[0]}) {
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
      poller_->Add(fd);
      pipes_[fd] = *pid;
    }
    r.pidfd = poller_->WatchPid(*pid);
    ranks_.emplace(*pid, r);
  }
  if (pmix && std::none_of(ranks_.begin(), ranks_.end(), [&](const auto& kv) {
        return kv.second.exec_id == x.exec_id();
      })) {
    pmix_->RemoveStep(x.exec_id());  // no rank started here
    pmi1_.RemoveStep(x.exec_id());
  }
}

bool ExecRelay::HandlePipe(int fd) {
  if (pmi1_.Owns(fd)) {
    pmi1_.Handle(fd);
    return true;
  }
  auto it = pipes_.find(fd);
  if (it == pipes_.end()) return false;
  ReadOutput(it->second, fd);
  return true;
}

bool ExecRelay::ReadOutput(pid_t pid, int fd) {
  auto it = ranks_.find(pid);
  if (it == ranks_.end()) return false;
  Rank& r = it->second;
  char buf[kReadChunk];
  for (int round = 0; round < 16; ++round) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      pb::ExecEvent ev;
      ev.set_rank(r.rank);
      ev.set_fd(fd == r.out_fd ? 1 : 2);
      ev.set_data(buf, static_cast<size_t>(n));
      Event(r.exec_id, std::move(ev));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    // EOF (or an error): stop watching this pipe.
    poller_->Remove(fd);
    pipes_.erase(fd);
    close(fd);
    (fd == r.out_fd ? r.out_fd : r.err_fd) = -1;
    return false;
  }
  return true;
}

bool ExecRelay::Exited(pid_t pid, int status, const Usage& usage) {
  auto it = ranks_.find(pid);
  if (it == ranks_.end()) return false;
  // What it wrote before it ended is in the pipes; a child it left behind may hold them open,
  // so read what is there and no more.
  for (int fd : {it->second.out_fd, it->second.err_fd})
    if (fd >= 0)
      while (ReadOutput(pid, fd)) {
        int avail = 0;
        if (ioctl(fd, FIONREAD, &avail) != 0 || avail == 0) break;
      }
  Rank r = it->second;
  for (int fd : {r.out_fd, r.err_fd}) {
    if (fd < 0) continue;
    poller_->Remove(fd);
    pipes_.erase(fd);
    close(fd);
  }
  poller_->UnwatchPid(r.pidfd);
  // A step's rank takes its process group with it (a relayed command may have left a daemon
  // behind on purpose, as over ssh: the job's end sweeps those).
  if (r.step) kill(-pid, SIGKILL);
  ranks_.erase(it);
  // The step's last rank here: the PMIx server forgets it.
  if (r.pmix && std::none_of(ranks_.begin(), ranks_.end(),
                             [&](const auto& kv) { return kv.second.exec_id == r.exec_id; })) {
    pmix_->RemoveStep(r.exec_id);
    pmi1_.RemoveStep(r.exec_id);
  }
  pb::ExecEvent ev;
  ev.set_rank(r.rank);
  ev.set_ended(true);
  ev.set_max_rss_kb(usage.max_rss_kb);
  ev.set_user_cpu_us(usage.user_cpu_us);
  ev.set_sys_cpu_us(usage.sys_cpu_us);
  if (WIFEXITED(status)) ev.set_exit_code(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) ev.set_signal(WTERMSIG(status));
  Event(r.exec_id, std::move(ev));
  return true;
}

void ExecRelay::Cancel(const pb::ExecCancel& c) {
  Time now = clock_->Now();
  int sig = c.signal() != 0 ? c.signal() : SIGTERM;
  for (auto& [pid, x] : ranks_) {
    bool match = c.exec_id() != 0 ? x.exec_id == c.exec_id() : x.job_id == c.job_id();
    if (!match) continue;
    if (!(x.aborted && c.signal() == 0)) {
      kill(-pid, sig);
      kill(pid, sig);
    }
    if (c.signal() == 0 && !x.cancelled) {
      x.cancelled = true;
      kill(-pid, SIGCONT);
      x.kill_at = now + std::min<Duration>(kill_wait_, std::chrono::seconds(2));
    }
  }
  // The job is over: nothing it started through this node may stay.
  if (c.exec_id() == 0 && c.signal() == 0 && jobs_.erase(c.job_id())) SweepJob(c.job_id());
}

void ExecRelay::SweepJob(int64_t job_id) {
  auto pids = ProcessesWithEnv(ExecJobEntry(node_->owner, job_id));
  for (pid_t p : pids) kill(p, SIGKILL);
  if (!pids.empty())
    LogInfo("node %s: job %lld ended; killed %zu of its processes left behind", node_->name.c_str(),
            static_cast<long long>(job_id), pids.size());
}

void ExecRelay::CheckTimers(Time now) {
  for (auto& [pid, x] : ranks_) {
    if (now >= x.kill_at) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      x.kill_at = kNever;
    }
  }
}

Time ExecRelay::NextDeadline() const {
  Time next = kNever;
  for (const auto& [pid, x] : ranks_) next = std::min(next, x.kill_at);
  return next;
}

void ExecRelay::TerminateAll(int sig) {
  for (auto& [pid, x] : ranks_) {
    x.cancelled = true;
    kill(-pid, sig);
    kill(pid, sig);
  }
}

}  // namespace swell::node
