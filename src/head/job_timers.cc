// Timers on jobs, checked on the head's housekeeping tick (250 ms; Slurm looks every 30 s).
//
// --signal=[B:]SIG[@TIME]: a running task's warning, TIME seconds (60 by default) before its
// time limit. As Slurm's slurmctld sends it: with B:, to the batch script's shell alone;
// without, to every step of the job (its srun steps' ranks), not to the batch shell. A job whose
// tasks are themselves a step's ranks (srun or `swell run` outside an allocation) gets it in
// those ranks. It may come up to a tick late; Slurm documents up to 60 s early.
//
// --deadline: a job that has not started and can no longer end by its deadline (start >
// deadline - time-min, else - time limit) ends DEADLINE (reason DeadLine) without running, and
// what still runs at the deadline is ended (SIGTERM, the kill wait, SIGKILL) and ends DEADLINE.
//
// --kill-on-invalid-dep=yes: a waiting job whose dependency can never be satisfied ends
// CANCELLED (without it, it waits with reason DependencyNeverSatisfied, as Slurm's default).

#include "head/head_impl.h"

namespace swell::head {

void Head::Impl::JobTimers(Time now) {
  const int64_t now_ms = ToMillis(now);
  for (auto it = timed_jobs_.begin(); it != timed_jobs_.end();) {
    Job* job = FindJob(*it);
    if (!job) {
      it = timed_jobs_.erase(it);
      continue;
    }
    ++it;
    const pb::JobSpec& spec = job->spec;
    std::string why;
    if (spec.kill_on_invalid_dep() && job->Waits() && spec.has_dependency() &&
        DependencyState(*job, &why) == pb::FAILED) {
      lifecycle::Changes changes;
      lifecycle::CancelUndispatched(*job, now_ms, &changes);
      Event(now, "cancel", job->row.id, "", why);
      Apply(*job, changes, now);
      sched_dirty_ = true;
    }
    if (spec.deadline_ms() > 0) {
      lifecycle::Changes changes;
      if (job->Waits() && lifecycle::MissesDeadline(spec, now_ms)) {
        lifecycle::CancelUndispatched(*job, now_ms, &changes, pb::DEADLINE);
        Event(now, "deadline", job->row.id, "", "");
      }
      if (now_ms >= spec.deadline_ms()) {
        for (auto& [pos, task] : job->live) {
          if (task.past_deadline) continue;
          task.past_deadline = task.cancel_requested = true;
          changes.task_rows.push_back(
              lifecycle::RowOf(*job, task, task.started ? pb::RUNNING : pb::PENDING));
          CancelTask(job->row.id, task);
        }
      }
      Apply(*job, changes, now);
    }
    for (auto& [pos, task] : job->live) {
      auto due = lifecycle::WarnAtMs(spec, task);
      if (task.warned || !due || now_ms < *due || task.cancel_requested) continue;
      task.warned = true;
      if (spec.signal_batch_only() || spec.launch_tasks()) {
        CancelTask(job->row.id, task, spec.signal(), spec.signal_batch_only());
        continue;
      }
      // The steps of this task's allocation (an array task's steps name its own id).
      const int64_t task_id = job->is_array() ? job->row.id + pos : job->row.id;
      for (const auto& [id, call] : execs_)
        if (call->job_id == task_id) SignalStep(*call, spec.signal());
    }
  }
}

void Head::Impl::SignalStep(const ExecCall& call, int signal) {
  for (const auto& n : call.nodes) {
    auto nit = nodes_.find(n);
    if (nit == nodes_.end() || !nit->second.session) continue;
    auto* c = Out(nit->second.session).add_exec_cancels();
    c->set_exec_id(call.id);
    c->set_signal(signal);
  }
}

void Head::Impl::CancelTask(int64_t job_id, const Task& task, int signal, bool shell_only) {
  auto nit = nodes_.find(task.node);
  if (nit == nodes_.end() || !nit->second.session) return;
  auto* cancels = Out(nit->second.session).mutable_cancels();
  if (cancels->empty() || cancels->rbegin()->job_id() != job_id ||
      cancels->rbegin()->signal() != signal || cancels->rbegin()->shell_only() != shell_only) {
    pb::Cancel* c = cancels->Add();
    c->set_job_id(job_id);
    c->set_signal(signal);
    c->set_shell_only(shell_only);
  }
  pb::Cancel& c = *cancels->rbegin();
  c.add_positions(task.pos);
  c.add_attempts(task.attempt);
}

}  // namespace swell::head
