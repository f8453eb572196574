#pragma once

// The tasks the head leases to this node, one attempt of each at a time (docs/glossary.md): a
// job's description arrives with its first launch (Prepare: its user, its script and hostfile in
// the spool directory, the environment its tasks share); its tasks queue and start while the
// lease has free slots; each runs in its own process group (launcher.h) with its limits
// (limits.h); its end, cancel or time limit is reported. At the time limit or a cancel a task's
// group gets SIGTERM (and SIGCONT), then SIGKILL after kill_wait. When a task's main process
// ends the rest of its group and cgroup is killed. A task that cannot start is reported as ended
// with exit code 1 and the reason.
//
// Every report goes to `report` (the head link keeps it until the head acks it). Runs on the
// node loop; not thread-safe.

#include <sys/types.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "node/usage.h"

#include "common/clock.h"
#include "common/status.h"
#include "node/launcher.h"
#include "node/limits.h"
#include "node/poller.h"
#include "node/slurm_env.h"
#include "rpc/swell.pb.h"

namespace swell::node {

class Tasks {
 public:
  struct Options {
    std::string spool_dir;  // scripts and hostfiles go to <spool_dir>/jobs
    Duration kill_wait = std::chrono::seconds(10);
  };
  // Every pointer must outlive the object; `poller` learns each task's pidfd.
  Tasks(Options options, const NodeContext* node, Clock* clock, Poller* poller, Launcher* launcher,
        Limits* limits, std::function<void(pb::TaskReport)> report);

  // Queues the launch's tasks and starts what the lease's slots allow. A launch with the job's
  // spec prepares the job first; when that fails, or the node has no spec for the job (it
  // forgot an idle job), the tasks are reported as not started. After Drain() they are given
  // back (requeue).
  void Launch(const pb::Launch& launch);
  // Cancels a job's tasks (all, or the positions named; with attempts, only those attempts),
  // queued ones too, or with a signal only signals the running ones.
  void Cancel(const pb::Cancel& cancel);
  // Kills exactly this attempt, running or queued, without a report of its own beyond its end
  // (the head no longer knows it).
  void Kill(const pb::TaskKey& key);

  // A child ended: if it is a task's, reports its end, kills what is left of it and starts
  // the job's next queued task. False for other processes.
  // `usage`: wait4's rusage of it, reported with its end (a cgroup's own count wins).
  bool Exited(pid_t pid, int status, const Usage& usage = {});
  // Forgets jobs idle for ten minutes (and removes their script and hostfile). The head
  // resends a job's spec when it has not launched on this node for a minute.
  void ForgetIdleJobs();
  // Time limits and the SIGKILL after kill_wait.
  void CheckTimers(Time now);
  // The earliest deadline or pending SIGKILL; kNever without one.
  Time NextDeadline() const;

  // For the node's Register: the tasks running and queued.
  void Describe(pb::Register* r) const;
  // The node stops: gives back the queued tasks (requeue) and refuses launches from now on.
  void Drain();
  // Sends `sig` to every task's process group (and SIGCONT after SIGTERM); their ends are
  // reported as the node's failure.
  void TerminateAll(int sig);
  size_t running() const { return tasks_.size(); }

 private:
  struct Job {
    pb::JobSpec spec;
    bool has_spec = false;   // the spec arrived and Prepare accepted it
    std::string spec_error;  // why Prepare refused it
    pb::UserIdentity user;
    int slots = 1;
    int running = 0;
    std::deque<pb::TaskKey> queue;
    Allocation alloc;
    std::string hostfile;  // the allocation's nodes and slots, for mpirun
    int64_t submit_ms = 0;
    std::string script_path;
    std::vector<std::string> base_env;  // JobEnv: everything but the task's own variables
    std::string path;                   // the PATH in base_env
    std::optional<Identity> identity;   // set when tasks run as another user
    Time last_active;
  };
  struct Task {
    pb::TaskKey key;
    Time start;
    Time deadline = kNever;
    Time kill_at = kNever;
    bool timed_out = false;
    bool cancelled = false;
    bool node_failed = false;  // ended by the node's own shutdown
    std::unique_ptr<TaskCgroup> cgroup;
    int pidfd = -1;
  };

  Status Prepare(int64_t job_id, Job& job);
  void TryStart(int64_t job_id, Job& job);
  void Start(int64_t job_id, Job& job, const pb::TaskKey& key);
  // Reports `key` as not started: failed with `error` (exit code 1), or given back (`requeue`).
  void Refuse(const pb::TaskKey& key, const std::string& error, bool requeue);

  const Options opt_;
  const NodeContext* const node_;
  Clock* const clock_;
  Poller* const poller_;
  Launcher* const launcher_;
  Limits* const limits_;
  const std::function<void(pb::TaskReport)> report_;
  bool draining_ = false;

  std::map<int64_t, Job> jobs_;
  std::unordered_map<pid_t, Task> tasks_;  // by pid, which is also the process group
};

}  // namespace swell::node
