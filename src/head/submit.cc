// Submitting and cancelling: a job's spec checked against the cluster and queued; cancels and
// signals sent to its tasks and steps.

#include "head/head_impl.h"
#include "head/submit_check.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/log.h"

namespace swell::head {

namespace sched = scheduler;
namespace as = autoscaler;
using state::JobRow;
using state::TaskRow;

// sbatch --test-only: the job is checked and not queued. The estimate is the best effort of an
// idle cluster: now (or its --begin), on the nodes it names or the first of its partition.
pb::SubmitReply Head::Impl::TestOnly(const pb::JobSpec& spec, const SubmitCluster& cluster,
                                     Time now) {
  pb::SubmitReply reply;
  reply.set_job_id(next_job_id_);
  reply.set_start_ms(std::max(ToMillis(now), spec.begin_time_ms()));
  reply.set_cpus(std::max(1, spec.ntasks()) * std::max(1, spec.cpus_per_task()));
  reply.set_partition(spec.partition().empty() ? "batch" : spec.partition());
  std::vector<std::string> nodes(spec.nodelist().begin(), spec.nodelist().end());
  std::vector<std::string> candidates;
  for (const auto& n : cluster.nodes)
    if (n.node_type == spec.partition()) candidates.push_back(n.name);
  std::sort(candidates.begin(), candidates.end());
  for (const auto& name : candidates) {
    if (static_cast<int>(nodes.size()) >= std::max(1, spec.min_nodes())) break;
    if (std::find(nodes.begin(), nodes.end(), name) == nodes.end()) nodes.push_back(name);
  }
  std::string list;
  for (const auto& n : nodes) list += (list.empty() ? "" : ",") + n;
  reply.set_nodes(list);
  return reply;
}

Result<pb::SubmitReply> Head::Impl::DoSubmit(const rpc::Caller& who, pb::JobSpec spec) {
  if (!submit_cluster_) {
    SubmitCluster c;
    for (const auto& [name, n] : nodes_) c.nodes.push_back({name, n.node_type, n.total()});
    if (pool_) c.types = &pool_->types();
    c.job_exists = [this](const std::string& ref) {
      bool started;
      return RefState(ref, &started).has_value();
    };
    submit_cluster_ = std::move(c);
  }
  const SubmitCluster& cluster = *submit_cluster_;
  SWELL_RETURN_IF_ERROR(CheckSubmit(&spec, cluster));
  Time now = clock_->Now();
  // --deadline as Slurm 22.05 checks it at submit (tests/slurm/slurmbox.py): one already past, or
  // sooner than the job's --time-min.
  if (spec.deadline_ms() > 0) {
    if (spec.deadline_ms() <= ToMillis(now))
      return InvalidArgument("Requested time limit is invalid (missing or exceeds some limit)");
    if (spec.time_min_ms() > 0 && ToMillis(now) + spec.time_min_ms() > spec.deadline_ms())
      return InvalidArgument("Invalid time-min specification (exceeds job's time or other limits)");
  }
  if (spec.test_only()) return TestOnly(spec, cluster, now);
  int64_t count = std::max<int64_t>(1, spec.array_indices_size());
  int64_t id = next_job_id_;
  next_job_id_ += count;  // array tasks take the ids after their job's (SLURM_JOB_ID)
  if (spec.launch_tasks()) count = spec.ntasks();  // one task per rank, under the job's id
  Write(store_->SetCounter("next_job_id", next_job_id_));
  Job job;
  job.spec = std::move(spec);  // a submission's environment is most of it: moved, not copied
  job.row.id = id;
  job.row.name = job.spec.name();
  job.row.uid = who.uid;
  job.row.gid = who.gid;
  job.row.user = who.user;
  job.row.state = pb::PENDING;
  job.row.submit_ms = ToMillis(now);
  job.row.priority = JobPriority(job.spec);
  job.row.task_count = count;
  job.row.next_pos = 0;
  job.spec.SerializeToString(&job.row.spec);
  job.counts[pb::PENDING] = count;
  Write(store_->PutJob(job.row));
  Write(store_->PutSpec(id, job.row.spec));
  Event(now, "submit", id, "", job.spec.name());
  if (!job.spec.mail_type().empty() && job.spec.mail_type() != "NONE" && opt_.mail_prog.empty())
    LogInfo("job %lld: --mail-type=%s for %s recorded; no mail program is configured",
            static_cast<long long>(id), job.spec.mail_type().c_str(),
            job.spec.mail_user().empty() ? who.user.c_str() : job.spec.mail_user().c_str());
  if (pool_) {
    if (auto t = JobType(job, now)) {
      arrived_.resize(pool_->types().size(), 0);
      arrived_[static_cast<size_t>(*t)] += job.spec.launch_tasks() ? 1 : count;  // allocations
    }
  }
  if (lifecycle::HasTimers(job.spec)) timed_jobs_.insert(id);
  Job& queued = AddJob(std::move(job));
  // A job that cannot end by its deadline never starts (job_timers.cc checks it as it waits).
  if (lifecycle::MissesDeadline(queued.spec, ToMillis(now))) {
    lifecycle::Changes changes;
    lifecycle::CancelUndispatched(queued, ToMillis(now), &changes, pb::DEADLINE);
    Event(now, "deadline", id, "", "");
    Apply(queued, changes, now);
  }
  sched_dirty_ = true;
  Changed();
  ++counters_.jobs_submitted;
  pb::SubmitReply reply;
  reply.set_job_id(id);
  return reply;
}


Result<pb::CancelReply> Head::Impl::DoCancel(const rpc::Caller& who, const pb::CancelRequest& req) {
  Time now = clock_->Now();
  int cancelled = 0;
  for (const auto& ref : req.jobs()) {
    // A step is named by its task's id, which may be an array task's own.
    Job* job = ref.has_step() ? FindJobOfTask(ref.job_id()) : FindJob(ref.job_id());
    if (!job) {
      if (done_.count(ref.job_id())) continue;  // already finished: nothing to do
      return NotFound("no job " + std::to_string(ref.job_id()));
    }
    if (who.uid != 0 && who.uid != job->row.uid)
      return PermissionDenied("job " + std::to_string(ref.job_id()) + " belongs to " +
                              job->row.user);
    if (ref.has_step()) {
      // One step: its ranks end (or get the signal) and the job goes on, as Slurm's.
      std::shared_ptr<ExecCall> call;
      for (const auto& [id, c] : execs_)
        if (c->job_id == ref.job_id() && c->step_id == ref.step_id()) call = c;
      if (!call)
        return NotFound("job " + std::to_string(ref.job_id()) + " has no running step " +
                        std::to_string(ref.step_id()));
      SignalStep(*call, req.signal());
      if (req.signal() == 0) {
        ++cancelled;
        Event(now, "cancel", job->row.id, "", who.user);
      }
      continue;
    }
    std::vector<int64_t> positions;  // empty: all
    if (ref.has_index()) {
      auto& idx = job->spec.array_indices();
      auto it = std::lower_bound(idx.begin(), idx.end(), ref.array_index());
      if (it == idx.end() || *it != ref.array_index())
        return NotFound("job " + std::to_string(ref.job_id()) + " has no array index " +
                        std::to_string(ref.array_index()));
      positions.push_back(it - idx.begin());
    }
    // Signals only reach running steps.
    auto send_cancel = [&](const Task& t) { CancelTask(job->row.id, t, req.signal()); };
    if (req.signal() != 0) {
      for (auto& [pos, t] : job->live)
        if (t.started && (positions.empty() || positions[0] == pos)) send_cancel(t);
    } else {
      ++cancelled;
      Event(now, "cancel", job->row.id, "", who.user);
      // Pending tasks end here; dispatched ones end when their node confirms.
      lifecycle::Changes changes;
      if (positions.empty()) {
        lifecycle::CancelUndispatched(*job, ToMillis(now), &changes);
        for (auto& [pos, t] : job->live) send_cancel(t);
      } else if (auto live = lifecycle::CancelPosition(*job, positions[0], ToMillis(now),
                                                       &changes)) {
        send_cancel(*live);
      }
      Apply(*job, changes, now);
      sched_dirty_ = true;
      Changed();
    }
  }
  pb::CancelReply reply;
  reply.set_cancelled(cancelled);
  return reply;
}


}  // namespace swell::head
