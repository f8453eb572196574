#pragma once

// A job's life as pure transitions of its in-memory model (job_model.h): a task dispatched,
// started, ended, requeued or cancelled; an allocation lost with a node; the job's state
// derived from its tasks'. Each transition changes only the Job it is given and returns, in
// `Changes`, what must become durable or known: the task rows to write, the job's events, the
// tasks that left (their lease must let them go), and whether the job's state changed. The
// head (task_dispatch.cc) writes the rows through the store and acts on the rest; the job's
// own row is written at the end of the pass when `Job::row_dirty` is set.
//
// No I/O, no clock (times come in as milliseconds), no other job: unit-tested on plain Jobs.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "head/job_model.h"
#include "head/state/store.h"
#include "rpc/swell.pb.h"

namespace swell::head::lifecycle {

// A task that left the job's live set: it ended, or went back to the queue.
struct Left {
  Task task;
  bool requeued = false;
};

struct Changes {
  struct Event {
    int64_t ms = 0;
    std::string kind;  // "start" or "end"
    std::string detail;
  };
  std::vector<state::TaskRow> task_rows;  // to write, in this order
  std::vector<Event> events;
  std::vector<Left> left;
  bool state_changed = false;  // the job's state changed: the scheduler's input did too
};

// The row that records `task` in `state`.
state::TaskRow RowOf(const Job& job, const Task& task, pb::JobState state, int exit_code = 0,
                     int signal = 0, int64_t end_ms = 0);

// The job's state from its tasks' counts: RUNNING while any runs (or while an array or a job
// of ranks is part way through), a terminal state once every task is (COMPLETED when all
// completed, else CANCELLED, NODE_FAIL, TIMEOUT, FAILED in that precedence), else PENDING.
pb::JobState DerivedState(const Job& job);

// Sets the job's state to DerivedState(); on a change it stamps the start (first RUNNING) or
// the end (terminal), clears the pending reason and records the event.
void UpdateState(Job& job, int64_t now_ms, Changes* changes);

// Dispatch: the job's next position (a requeued one first, in the order they came back; then
// the next never dispatched, skipping cancelled ones) becomes a live task on `node` in lease
// `lease`, recorded as dispatched (with `alloc_nodes`, its allocation's nodes when it spans
// several). nullopt when nothing is left to dispatch.
std::optional<Task> TakeNext(Job& job, int64_t lease, const std::string& node, Changes* changes,
                             const std::string& alloc_nodes = "");

// A dispatched task reports its start at `start_ms`. False (and no change) for a task not
// live or already started.
bool Start(Job& job, int64_t pos, int64_t start_ms, int64_t now_ms, Changes* changes);

// Counts a task as started without a record of its own: its node reported its start and its
// end together, and the end's record carries `start_ms`.
void MarkStarted(Job& job, int64_t pos, int64_t start_ms);

// What a task used, as its node reported with its end (kept on its row for sacct).
struct Usage {
  int64_t max_rss_kb = 0;
  int64_t user_cpu_us = 0;
  int64_t sys_cpu_us = 0;
};

// A live task ends in `state`. The job's exit code is the highest of its tasks' (Slurm's
// derived exit code), its signal the first one seen.
void Finish(Job& job, int64_t pos, pb::JobState state, int exit_code, int signal, int64_t now_ms,
            Changes* changes, const Usage& usage = {});

// A live task goes back to the queue as its next attempt (`count_restart`: the job's restart
// count grows). A task whose cancel was requested, or of a job whose rest is cancelled, ends
// CANCELLED instead: it must not run again.
void Requeue(Job& job, int64_t pos, bool count_restart, int64_t now_ms, Changes* changes);

// A requeued world (a job of ranks) runs again whole: the ranks that had ended join the
// requeued ones, all in rank order; the job's exit code restarts. `ended(pos)` is the stored
// row of a position that is neither live nor queued nor skipped (nullopt when there is none).
void RequeueEndedRanks(Job& job, const std::function<std::optional<state::TaskRow>(int64_t)>& ended,
                       Changes* changes);

// What a node's report about a live task does.
enum class Outcome {
  kIgnore,          // nothing (a start already known)
  kStart,           // Start()
  kLoseAllocation,  // the job's allocation is lost with the node (a job of ranks is one world)
  kRequeue,         // Requeue(), not counted as a restart
  kRequeueCounted,  // Requeue(), counted
  kFinish,          // Finish() in `state`
};
struct Verdict {
  Outcome outcome = Outcome::kIgnore;
  pb::JobState state = pb::PENDING;  // for kFinish
};
// `lease_held`: the task's lease still exists; `spot_node`: the node is a spot node (its
// preempted work runs again, as Slurm requeues preempted jobs).
Verdict Judge(const Job& job, const Task& task, const pb::TaskReport& report, bool lease_held,
              bool spot_node);

// An allocation (lease) lost the node `lost_node`: the cancels its tasks on the allocation's
// other nodes get, and what becomes of each of its tasks (kRequeue, kRequeueCounted, or kFinish
// NODE_FAIL). A job of ranks is one world: all its ranks run again (`world_requeues`: when
// `requeue_world`, the job asks for requeue, its rest is cancelled, or the node was a spot
// node) or all end NODE_FAIL. `primary` is the lease's node, where tasks with no node run.
struct Loss {
  std::map<std::string, pb::Cancel> cancels;       // by node
  std::vector<std::pair<int64_t, Verdict>> tasks;  // by position, in `positions` order
  bool world_requeues = false;
};
Loss LoseAllocation(const Job& job, const std::vector<int64_t>& positions,
                    const std::string& primary, const std::string& lost_node, bool requeue_world,
                    bool spot_node);

// --signal=[B:]SIG[@TIME]: when a started task's warning signal is due (TIME seconds before
// its time limit, counted from its start); nullopt when the job asks for none or has no limit.
std::optional<int64_t> WarnAtMs(const pb::JobSpec& spec, const Task& task);

// Whether the head must look at the job on its tick (--signal, --deadline,
// --kill-on-invalid-dep=yes).
inline bool HasTimers(const pb::JobSpec& spec) {
  return spec.signal() > 0 || spec.deadline_ms() > 0 || spec.kill_on_invalid_dep();
}

// --deadline: whether a job that has not started can no longer end by its deadline (Slurm:
// start > deadline - (time-min, else time limit)). A job without a time limit always can.
bool MissesDeadline(const pb::JobSpec& spec, int64_t now_ms);

// scancel of the whole job: every task not dispatched ends CANCELLED (or `as`: DEADLINE) now
// and none is dispatched again; the live ones are the caller's to cancel on their nodes.
void CancelUndispatched(Job& job, int64_t now_ms, Changes* changes,
                        pb::JobState as = pb::CANCELLED);

// scancel of one array task: a live one is marked cancel-requested and returned (the caller
// sends its node the cancel); a queued or never dispatched one ends CANCELLED now.
std::optional<Task> CancelPosition(Job& job, int64_t pos, int64_t now_ms, Changes* changes);

}  // namespace swell::head::lifecycle
