// --signal=[B:]SIG[@TIME]: a running task's warning, TIME seconds (60 by default) before its time
// limit. As Slurm's slurmctld sends it: with B:, to the batch script's shell alone; without, to
// every step of the job (its srun steps' ranks), not to the batch shell. A job whose tasks are
// themselves a step's ranks (srun or `swell run` outside an allocation) gets it in those ranks.
// The head sends it from its housekeeping tick (250 ms), so it may come that much late; Slurm
// looks every 30 s and documents that it may come up to 60 s early.

#include "head/head_impl.h"

namespace swell::head {

void Head::Impl::SendWarnings(Time now) {
  const int64_t now_ms = ToMillis(now);
  for (auto it = signal_jobs_.begin(); it != signal_jobs_.end();) {
    Job* job = FindJob(*it);
    if (!job) {
      it = signal_jobs_.erase(it);
      continue;
    }
    ++it;
    const pb::JobSpec& spec = job->spec;
    for (auto& [pos, task] : job->live) {
      auto due = lifecycle::WarnAtMs(spec, task);
      if (task.warned || !due || now_ms < *due || task.cancel_requested) continue;
      task.warned = true;
      if (spec.signal_batch_only() || spec.launch_tasks()) {
        auto nit = nodes_.find(task.node);
        if (nit == nodes_.end() || !nit->second.session) continue;
        pb::Cancel* c = Out(nit->second.session).add_cancels();
        c->set_job_id(job->row.id);
        c->add_positions(pos);
        c->add_attempts(task.attempt);
        c->set_signal(spec.signal());
        c->set_shell_only(spec.signal_batch_only());
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

}  // namespace swell::head
