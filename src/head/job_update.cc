#include "head/job_update.h"

#include <algorithm>
#include <map>

#include "head/head.h"

namespace swell::head::control {

using namespace slurm_refusal;  // Slurm's words

bool MayControl(const Asker& asker, uint32_t owner) {
  return asker.Privileged() || asker.uid == owner;
}

namespace {
bool Finished(const JobStatus& job) { return IsTerminal(job.state); }
bool Pending(const JobStatus& job) { return job.state == pb::PENDING || job.has_pending; }

// A time limit in milliseconds, 0 meaning none, as a comparable number.
int64_t Limit(int64_t ms) { return ms == 0 ? INT64_MAX : ms; }
}  // namespace

std::string Hold(pb::JobSpec* spec, const JobStatus& job, bool hold) {
  if (Finished(job)) return kFinished;
  if (!Pending(job)) return kNotPending;
  spec->set_hold(hold);
  return "";
}

std::string Update(pb::JobSpec* spec, std::string* name, const JobStatus& job,
                   const pb::JobUpdate& u, const Asker& asker, int64_t now_ms,
                   const std::function<bool(const std::string&)>& partition_ok,
                   const std::function<bool(const std::string&)>& job_exists) {
  if (Finished(job)) return kFinished;
  pb::JobSpec s = *spec;
  std::string n = *name;
  const bool pending = Pending(job);
  if (u.has_time_limit_ms() && u.time_limit_ms() != s.time_limit_ms()) {
    bool raise = Limit(u.time_limit_ms()) > Limit(s.time_limit_ms());
    if (raise && !asker.Privileged() && job.state != pb::PENDING) return kAccessDenied;
    s.set_time_limit_ms(u.time_limit_ms());
  }
  if (u.has_partition() && u.partition() != s.partition()) {
    if (!pending) return kNotPending;
    if (!partition_ok(u.partition())) return kInvalidPartition;
    s.set_partition(u.partition());
  }
  if (u.has_num_cpus()) {
    if (!pending) return kNotPending;
    if (u.num_cpus() < 1 || u.num_cpus() > kMaxJobCpus) return kBadCpus;
    int ntasks = std::max(1, s.ntasks());
    s.set_cpus_per_task((u.num_cpus() + ntasks - 1) / ntasks);
  }
  if (u.set_dependency()) {
    if (!pending) return kNotPending;
    for (const auto& t : u.dependency().terms())
      for (const auto& id : t.job_ids())
        if (!job_exists(id)) return kDependency;
    *s.mutable_dependency() = u.dependency();
  }
  if (u.has_begin_time_ms()) {
    if (!pending) return kNotPending;
    s.set_begin_time_ms(std::max(u.begin_time_ms(), now_ms));
  }
  if (u.has_nice() && u.nice() != s.nice()) {
    if (u.nice() < 0 && !asker.Privileged()) return kAccessDenied;
    s.set_nice(u.nice());
  }
  if (u.has_name()) {
    n = u.name();
    s.set_name(u.name());
  }
  if (u.has_comment()) s.set_comment(u.comment());
  if (u.has_requeue()) s.set_requeue(u.requeue());
  *spec = std::move(s);
  *name = std::move(n);
  return "";
}

std::string CheckRequeue(const pb::JobSpec& spec, const JobStatus& job) {
  if (!spec.requeue()) return kDisabled;
  if (spec.launch_tasks()) return kBatchOnly;
  if (job.state == pb::PENDING) return kPending;
  return "";
}

Job Reopened(const state::JobRow& row, const pb::JobSpec& spec) {
  Job job;
  job.row = row;
  job.spec = spec;
  return job;
}

std::vector<Task> RequeueWhole(Job& job, const std::vector<state::TaskRow>& rows, int64_t now_ms,
                               lifecycle::Changes* changes) {
  const int64_t n = job.row.task_count;
  // Each position's next attempt: queued ones keep theirs, live and ended ones take the next.
  std::map<int64_t, int> attempt;
  for (const auto& r : rows) attempt[r.pos] = r.attempt + 1;
  std::vector<Task> live;
  for (const auto& [pos, t] : job.live) {
    attempt[pos] = t.attempt + 1;
    live.push_back(t);
    changes->left.push_back({t, true});
  }
  for (const auto& [pos, a] : job.requeued) attempt[pos] = a;
  job.live.clear();
  job.requeued.clear();
  job.skip.clear();
  for (int64_t pos = 0; pos < n; ++pos) {
    Task t;
    t.pos = pos;
    auto it = attempt.find(pos);
    t.attempt = it == attempt.end() ? 0 : it->second;
    changes->task_rows.push_back(lifecycle::RowOf(job, t, pb::PENDING));
    job.requeued.push_back({pos, t.attempt});
  }
  std::fill(std::begin(job.counts), std::end(job.counts), 0);
  job.counts[pb::PENDING] = n;
  job.row.next_pos = n;
  job.row.rest_cancelled = false;
  job.row.state = pb::PENDING;
  job.row.reason.clear();
  job.row.start_ms = 0;
  job.row.end_ms = 0;
  job.row.exit_code = 0;
  job.row.signal = 0;
  job.row.restarts++;
  job.MarkDirty();
  changes->state_changed = true;
  changes->events.push_back({now_ms, "requeue", ""});
  return live;
}

}  // namespace swell::head::control
