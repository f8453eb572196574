#pragma once

// The exec relay: runs the ranks of a job step started by srun inside an allocation, and the
// commands an MPI launcher relays through swell-rsh (its daemons on this node), and streams
// what they write and how they end back to the caller through the head (ExecOutput).
//
// Each rank runs in its own process group, as the job's user, with its output on pipes the
// node loop reads. A step's rank takes its process group with it when it ends; a relayed
// command may leave a daemon behind on purpose (as over ssh). Every process carries the job's
// exec mark (slurm_env.h kExecJobVar), so when the job is over (a cancel of the whole job)
// whatever it left on this node is killed. Cancel sends SIGTERM (and SIGCONT), then SIGKILL
// after kill_wait, at most 2 s.
//
// Runs on the node loop; not thread-safe.

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "node/usage.h"
#include "common/clock.h"
#include "node/head_link.h"
#include "node/launcher.h"
#include "node/pmi1_server.h"
#include "node/pmix_server.h"
#include "node/poller.h"
#include "node/slurm_env.h"
#include "rpc/swell.pb.h"

namespace swell::node {

class ExecRelay {
 public:
  // Every pointer must outlive the object; `poller` learns each rank's pidfd and pipes.
  // `pmix_dir`: where the PMIx server (started with the first step that asks for it) keeps its
  // rendezvous files.
  ExecRelay(const NodeContext* node, Duration kill_wait, Clock* clock, Poller* poller,
            Launcher* launcher, std::string pmix_dir);

  // Starts the exec's ranks on this node; a rank that cannot start ends at once with exit
  // code 1 and the reason (as every rank does after StopAccepting).
  void Start(const pb::ExecLaunch& x);
  // Ends one exec's ranks, or (exec_id 0) a job's; with a signal only signals them. Ending a
  // whole job also kills every process that carries its mark.
  void Cancel(const pb::ExecCancel& c);
  // A rank's output pipe is readable: reads it (at EOF stops watching it). False when `fd` is
  // not a rank's pipe.
  bool HandlePipe(int fd);
  // A child ended: if it is a rank, reads what is left in its pipes and reports its end.
  // False for other processes.
  // `usage`: wait4's rusage of it, reported with its end.
  bool Exited(pid_t pid, int status, const Usage& usage = {});
  // The SIGKILL after a cancel's kill_wait.
  void CheckTimers(Time now);
  // The earliest pending SIGKILL; kNever without one.
  Time NextDeadline() const;

  // Sends the output and ends gathered since the last call, once the head has accepted the
  // node's registration; drops them when the session is gone (the head lost their callers).
  // Also the PMIx server's fences and aborts; a fence fails when there is no session.
  void FlushTo(HeadLink& link);
  // The head's answer to a PMIx fence.
  void FenceDone(const pb::PmixFence& f);
  // For the node's Register: the jobs that ran ranks here and have not been swept.
  void Describe(pb::Register* r) const;
  // The node stops: every later Start fails.
  void StopAccepting() { accepting_ = false; }
  // Sends `sig` to every rank and its process group (no SIGKILL follows of itself).
  void TerminateAll(int sig);
  size_t running() const { return ranks_.size(); }

 private:
  struct Rank {
    int64_t exec_id = 0;
    int64_t job_id = 0;
    int rank = 0;
    bool step = false;  // a step's rank: its process group ends with it
    bool pmix = false;  // served by the PMIx server
    int out_fd = -1;
    int err_fd = -1;
    int pidfd = -1;
    bool cancelled = false;
    // It called MPI_Abort: the step's end spares it (it exits with the abort's status on its
    // own, as srun reports it), SIGKILL only if it has not within the kill wait.
    bool aborted = false;
    Time kill_at = kNever;
  };

  // Reads what a rank wrote to `fd`; at EOF stops watching it. False at EOF or error.
  bool ReadOutput(pid_t pid, int fd);
  void Event(int64_t exec_id, pb::ExecEvent ev);
  // Kills every process marked with the job's exec mark (daemonized launchers, their ranks).
  void SweepJob(int64_t job_id);

  // The PMIx server, started on first use.
  Result<PmixServer*> Pmix();
  // Registers a --mpi=pmix step's layout with the PMIx server and the PMI-1 server.
  Status AddPmixStep(const pb::ExecLaunch& x, const std::optional<Identity>& who);
  // Sends the PMI servers' requests (fences, aborts) to the head.
  void FlushPmi(HeadLink& link);

  const NodeContext* const node_;
  const Duration kill_wait_;
  Clock* const clock_;
  Poller* const poller_;
  Launcher* const launcher_;
  bool accepting_ = true;
  const std::string pmix_dir_;
  std::unique_ptr<PmixServer> pmix_;
  Pmi1Server pmi1_;  // MPICH's ranks (PMI-1), beside PMIx for every --mpi=pmix step

  std::unordered_map<pid_t, Rank> ranks_;
  std::unordered_map<int, pid_t> pipes_;   // output pipe -> rank pid
  std::map<int64_t, pb::ExecOutput> out_;  // events not yet sent, per exec
  std::set<int64_t> jobs_;                 // jobs that ran ranks here, not yet swept
};

}  // namespace swell::node
