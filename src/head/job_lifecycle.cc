#include "head/job_lifecycle.h"

#include <algorithm>
#include <set>
#include <utility>

#include "head/head.h"

namespace swell::head::lifecycle {

state::TaskRow RowOf(const Job& job, const Task& task, pb::JobState state, int exit_code,
                     int signal, int64_t end_ms) {
  state::TaskRow r;
  r.job_id = job.row.id;
  r.pos = task.pos;
  r.state = state;
  r.node = task.node;
  r.exit_code = exit_code;
  r.signal = signal;
  r.start_ms = task.start_ms;
  r.end_ms = end_ms;
  r.attempt = task.attempt;
  r.cancel_requested = task.cancel_requested;
  r.alloc_nodes = task.alloc_nodes;
  return r;
}

pb::JobState DerivedState(const Job& job) {
  const auto& c = job.counts;
  const int64_t n = job.row.task_count;
  int64_t terminal = 0;
  for (int s = pb::COMPLETED; s < kNumStates; ++s) terminal += c[s];
  if (c[pb::RUNNING] > 0) return pb::RUNNING;
  if (terminal == n) {
    if (c[pb::COMPLETED] == n) return pb::COMPLETED;
    if (c[pb::CANCELLED] > 0) return pb::CANCELLED;
    if (c[pb::DEADLINE] > 0) return pb::DEADLINE;
    if (c[pb::NODE_FAIL] > 0) return pb::NODE_FAIL;
    if (c[pb::TIMEOUT] > 0) return pb::TIMEOUT;
    return pb::FAILED;
  }
  // An array part way through: some done, the rest queued.
  if (c[pb::COMPLETED] + c[pb::FAILED] + c[pb::TIMEOUT] + c[pb::NODE_FAIL] > 0 &&
      (job.is_array() || job.spec.launch_tasks()))
    return pb::RUNNING;
  return pb::PENDING;
}

void UpdateState(Job& job, int64_t now_ms, Changes* changes) {
  pb::JobState st = DerivedState(job);
  if (st == job.row.state) return;
  job.row.state = st;
  job.MarkDirty();
  changes->state_changed = true;
  if (st == pb::RUNNING && job.row.start_ms == 0) {
    job.row.start_ms = now_ms;
    job.row.reason.clear();
    changes->events.push_back({now_ms, "start", ""});
  }
  if (IsTerminal(st)) {
    job.row.end_ms = now_ms;
    job.row.reason.clear();
    changes->events.push_back({now_ms, "end", StateName(st)});
  }
}

std::optional<Task> TakeNext(Job& job, int64_t lease, const std::string& node, Changes* changes,
                             const std::string& alloc_nodes) {
  Task t;
  t.node = node;
  t.alloc_nodes = alloc_nodes;
  t.lease = lease;
  if (!job.requeued.empty()) {
    std::tie(t.pos, t.attempt) = job.requeued.front();
    job.requeued.pop_front();
  } else {
    for (;;) {
      if (job.row.next_pos >= job.row.task_count) return std::nullopt;
      t.pos = job.row.next_pos++;
      job.MarkDirty();
      if (!job.skip.erase(t.pos)) break;
    }
  }
  changes->task_rows.push_back(RowOf(job, t, pb::PENDING));
  job.live[t.pos] = t;
  return t;
}

bool Start(Job& job, int64_t pos, int64_t start_ms, int64_t now_ms, Changes* changes) {
  auto it = job.live.find(pos);
  if (it == job.live.end() || it->second.started) return false;
  Task& t = it->second;
  t.started = true;
  t.start_ms = start_ms;
  job.counts[pb::PENDING]--;
  job.counts[pb::RUNNING]++;
  changes->task_rows.push_back(RowOf(job, t, pb::RUNNING));
  UpdateState(job, now_ms, changes);
  return true;
}

void MarkStarted(Job& job, int64_t pos, int64_t start_ms) {
  auto it = job.live.find(pos);
  if (it == job.live.end() || it->second.started) return;
  it->second.started = true;
  it->second.start_ms = start_ms;
  job.counts[pb::PENDING]--;
  job.counts[pb::RUNNING]++;
}

void Finish(Job& job, int64_t pos, pb::JobState state, int exit_code, int signal, int64_t now_ms,
            Changes* changes, const Usage& usage) {
  auto it = job.live.find(pos);
  if (it == job.live.end()) return;
  Task t = it->second;
  job.live.erase(it);
  job.counts[t.started ? pb::RUNNING : pb::PENDING]--;
  job.counts[state]++;
  if (t.start_ms == 0 && state != pb::CANCELLED) t.start_ms = now_ms;
  changes->task_rows.push_back(RowOf(job, t, state, exit_code, signal, now_ms));
  changes->task_rows.back().max_rss_kb = usage.max_rss_kb;
  changes->task_rows.back().user_cpu_us = usage.user_cpu_us;
  changes->task_rows.back().sys_cpu_us = usage.sys_cpu_us;
  if (exit_code > job.row.exit_code || (signal != 0 && job.row.signal == 0)) {
    job.row.exit_code = std::max(job.row.exit_code, exit_code);
    if (signal != 0) job.row.signal = signal;
    job.MarkDirty();
  }
  // A task that started and ended within one report of its node never made the job
  // RUNNING: the job started when it did.
  if (t.started && job.row.start_ms == 0 && t.start_ms != 0) {
    job.row.start_ms = t.start_ms;
    job.MarkDirty();
    changes->events.push_back({t.start_ms, "start", ""});
  }
  changes->left.push_back({t, false});
  UpdateState(job, now_ms, changes);
}

void Requeue(Job& job, int64_t pos, bool count_restart, int64_t now_ms, Changes* changes) {
  auto it = job.live.find(pos);
  if (it == job.live.end()) return;
  if (job.row.rest_cancelled || it->second.cancel_requested) {
    // Cancelled while its node was away: it ends here instead of running again.
    Finish(job, pos, pb::CANCELLED, 0, 0, now_ms, changes);
    return;
  }
  Task t = it->second;
  job.live.erase(it);
  job.counts[t.started ? pb::RUNNING : pb::PENDING]--;
  job.counts[pb::PENDING]++;
  changes->left.push_back({t, true});
  t.node.clear();
  t.started = false;
  t.start_ms = 0;
  t.attempt++;
  changes->task_rows.push_back(RowOf(job, t, pb::PENDING));
  job.requeued.push_back({pos, t.attempt});
  if (count_restart) {
    job.row.restarts++;
    job.MarkDirty();
  }
  UpdateState(job, now_ms, changes);  // a running job may be pending again
}

void RequeueEndedRanks(Job& job, const std::function<std::optional<state::TaskRow>(int64_t)>& ended,
                       Changes* changes) {
  std::set<int64_t> queued;
  for (const auto& [pos, attempt] : job.requeued) queued.insert(pos);
  for (int64_t pos = 0; pos < job.row.next_pos; ++pos) {
    if (job.live.count(pos) || queued.count(pos) || job.skip.count(pos)) continue;
    auto row = ended(pos);
    if (!row) continue;
    const int st = row->state;
    if (st != pb::COMPLETED && st != pb::FAILED && st != pb::TIMEOUT && st != pb::NODE_FAIL &&
        st != pb::DEADLINE)
      continue;
    job.counts[st]--;
    job.counts[pb::PENDING]++;
    Task t;
    t.pos = pos;
    t.attempt = row->attempt + 1;
    changes->task_rows.push_back(RowOf(job, t, pb::PENDING));
    job.requeued.push_back({pos, t.attempt});
  }
  // A node's ranks are consecutive: they go out in rank order.
  std::stable_sort(job.requeued.begin(), job.requeued.end());
  // The earlier attempt's exit codes are void: the job's is its new world's.
  job.row.exit_code = 0;
  job.row.signal = 0;
  job.MarkDirty();
  changes->state_changed = true;
}

Verdict Judge(const Job& job, const Task& task, const pb::TaskReport& report, bool lease_held,
              bool spot_node) {
  if (report.started()) return {task.started ? Outcome::kIgnore : Outcome::kStart};
  const bool node_lost = report.node_failed() && !report.cancelled();
  // A job of ranks is one world: a rank its node handed back unstarted, or lost as it shut
  // down, takes the others along (they all run again, or all end NODE_FAIL).
  if (job.spec.launch_tasks() && lease_held && (report.requeue() || node_lost))
    return {Outcome::kLoseAllocation};
  if (report.requeue()) return {Outcome::kRequeue};
  if (node_lost) {
    // The node shut down under the task: as a node failure; a preempted spot node's work
    // runs again.
    if (job.spec.requeue() || spot_node) return {Outcome::kRequeueCounted};
    return {Outcome::kFinish, pb::NODE_FAIL};
  }
  if (report.cancelled()) return {Outcome::kFinish, task.past_deadline ? pb::DEADLINE : pb::CANCELLED};
  if (report.timed_out()) return {Outcome::kFinish, pb::TIMEOUT};
  if (report.exit_code() == 0 && report.signal() == 0 && report.error().empty())
    return {Outcome::kFinish, pb::COMPLETED};
  return {Outcome::kFinish, pb::FAILED};
}

Loss LoseAllocation(const Job& job, const std::vector<int64_t>& positions,
                    const std::string& primary, const std::string& lost_node, bool requeue_world,
                    bool spot_node) {
  Loss loss;
  // The job's tasks on the allocation's other nodes end too: a job that lost a secondary
  // node ends on its primary (where its tasks run), a job of ranks loses every rank.
  for (auto pos : positions) {
    const Task& t = job.live.at(pos);
    const std::string& where = t.node.empty() ? primary : t.node;
    if (where == lost_node) continue;
    auto& c = loss.cancels[where];
    c.set_job_id(job.row.id);
    c.add_positions(pos);
    c.add_attempts(t.attempt);
  }
  const bool ranks = job.spec.launch_tasks();
  const bool again = job.spec.requeue() || job.row.rest_cancelled || spot_node;
  loss.world_requeues = ranks && (requeue_world || again);
  // A restart counts when some rank had started (a world handed back unstarted did not run).
  bool any_started = false;
  for (auto pos : positions) any_started = any_started || job.live.at(pos).started;
  for (auto pos : positions) {
    const Task& t = job.live.at(pos);
    Verdict v{Outcome::kFinish, pb::NODE_FAIL};
    if (ranks) {
      if (loss.world_requeues)
        v.outcome =
            any_started && pos == positions.front() ? Outcome::kRequeueCounted : Outcome::kRequeue;
    } else if (!t.started) {
      v.outcome = Outcome::kRequeue;
    } else if (again || t.cancel_requested) {
      v.outcome = Outcome::kRequeueCounted;
    }
    loss.tasks.emplace_back(pos, v);
  }
  return loss;
}

namespace {
void CancelQueued(Job& job, int64_t pos, int attempt, int64_t now_ms, Changes* changes,
                  pb::JobState as = pb::CANCELLED) {
  Task t;
  t.pos = pos;
  t.attempt = attempt;
  changes->task_rows.push_back(RowOf(job, t, as, 0, 0, now_ms));
  job.counts[pb::PENDING]--;
  job.counts[as]++;
}
}  // namespace

bool MissesDeadline(const pb::JobSpec& spec, int64_t now_ms) {
  if (spec.deadline_ms() <= 0) return false;
  const int64_t need = spec.time_min_ms() > 0 ? spec.time_min_ms() : spec.time_limit_ms();
  return now_ms + need > spec.deadline_ms();
}

std::optional<int64_t> WarnAtMs(const pb::JobSpec& spec, const Task& task) {
  if (spec.signal() <= 0 || spec.time_limit_ms() <= 0 || !task.started) return std::nullopt;
  return task.start_ms + spec.time_limit_ms() - int64_t{spec.signal_seconds()} * 1000;
}

void CancelUndispatched(Job& job, int64_t now_ms, Changes* changes, pb::JobState as) {
  for (auto [pos, attempt] : job.requeued) CancelQueued(job, pos, attempt, now_ms, changes, as);
  job.requeued.clear();
  int64_t rest = job.row.task_count - job.row.next_pos - static_cast<int64_t>(job.skip.size());
  job.counts[pb::PENDING] -= rest;
  job.counts[as] += rest;
  job.row.next_pos = job.row.task_count;
  job.row.rest_cancelled = true;
  job.skip.clear();
  job.MarkDirty();
  UpdateState(job, now_ms, changes);
}

std::optional<Task> CancelPosition(Job& job, int64_t pos, int64_t now_ms, Changes* changes) {
  std::optional<Task> live;
  if (auto it = job.live.find(pos); it != job.live.end()) {
    it->second.cancel_requested = true;
    live = it->second;
    changes->task_rows.push_back(
        RowOf(job, it->second, it->second.started ? pb::RUNNING : pb::PENDING));
  } else if (auto rq = std::find_if(job.requeued.begin(), job.requeued.end(),
                                    [pos](const auto& p) { return p.first == pos; });
             rq != job.requeued.end()) {
    int attempt = rq->second;
    job.requeued.erase(rq);
    CancelQueued(job, pos, attempt, now_ms, changes);
  } else if (pos >= job.row.next_pos && !job.skip.count(pos)) {
    job.skip.insert(pos);
    CancelQueued(job, pos, 0, now_ms, changes);
  }
  UpdateState(job, now_ms, changes);
  return live;
}

}  // namespace swell::head::lifecycle
