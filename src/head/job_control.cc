// scontrol's job control on the head: hold, release, requeue, update, suspend and resume of one
// job (or one array task). The rules are job_update.h's; this file finds the job, applies their
// result (the job's row and spec are written in this pass, so the answer, given after the
// commit, is durable) and sends what the nodes must do.

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "head/head_impl.h"
#include "head/job_update.h"

namespace swell::head {

namespace {
pb::ControlReply Refused(const std::string& why) {
  pb::ControlReply r;
  r.set_error(why);
  return r;
}
}  // namespace

Result<pb::ControlReply> Head::Impl::DoControl(const rpc::Caller& who,
                                               const pb::ControlRequest& req) {
  Time now = clock_->Now();
  const int64_t id = req.job().job_id();
  const control::Asker asker{static_cast<uint32_t>(who.uid)};
  Job* job = FindJob(id);
  if (!job) {
    // A finished job: only a requeue brings it back.
    auto row = store_->LoadJob(id);
    if (!row.ok()) return row.status();
    if (!row->has_value()) return Refused("Invalid job id specified");
    if (!control::MayControl(asker, (*row)->uid)) return Refused(slurm_refusal::kAccessDenied);
    pb::JobSpec spec;
    spec.ParseFromString((*row)->spec);
    control::JobStatus st{static_cast<pb::JobState>((*row)->state), false};
    const auto action = req.action();
    if (action != pb::ControlRequest::REQUEUE && action != pb::ControlRequest::REQUEUE_HOLD) {
      if (action == pb::ControlRequest::SUSPEND || action == pb::ControlRequest::RESUME)
        return Refused(asker.Privileged() ? slurm_refusal::kNotSupported : slurm_refusal::kAccessDenied);
      return Refused(slurm_refusal::kFinished);
    }
    if (req.job().has_index()) return Refused(slurm_refusal::kNotSupported);
    if (auto why = control::CheckRequeue(spec, st); !why.empty()) return Refused(why);
    auto rows = store_->LoadTasks(id);
    if (!rows.ok()) return rows.status();
    Job reopened = control::Reopened(**row, spec);
    if (action == pb::ControlRequest::REQUEUE_HOLD) reopened.spec.set_hold(true);
    lifecycle::Changes changes;
    (void)control::RequeueWhole(reopened, *rows, ToMillis(now), &changes);
    done_.erase(id);
    job = &AddJob(std::move(reopened));
    if (lifecycle::HasTimers(job->spec)) timed_jobs_.insert(id);
    Write(store_->PutSpec(id, job->spec.SerializeAsString()));
    job->row.spec = job->spec.SerializeAsString();
    Apply(*job, changes, now);
    sched_dirty_ = true;
    Changed();
    return pb::ControlReply();
  }
  if (!control::MayControl(asker, job->row.uid)) return Refused(slurm_refusal::kAccessDenied);
  control::JobStatus st{static_cast<pb::JobState>(job->row.state),
                        job->undispatched() > 0 && !job->row.rest_cancelled};
  pb::JobSpec spec = job->spec;
  std::string name = job->row.name;
  std::string why;
  switch (req.action()) {
    case pb::ControlRequest::HOLD:
    case pb::ControlRequest::RELEASE:
      if (req.job().has_index() && job->is_array()) return Refused(slurm_refusal::kNotSupported);
      why = control::Hold(&spec, st, req.action() == pb::ControlRequest::HOLD);
      break;
    case pb::ControlRequest::UPDATE: {
      if (req.job().has_index() && job->is_array()) return Refused(slurm_refusal::kNotSupported);
      auto partition_ok = [this](const std::string& p) {
        if (!pool_) return true;  // a static cluster takes any partition name
        return TypeIndex(p) >= 0;
      };
      auto job_exists = [this](const std::string& ref) {
        bool started;
        return RefState(ref, &started).has_value();
      };
      why = control::Update(&spec, &name, st, req.update(), asker, ToMillis(now), partition_ok,
                            job_exists);
      break;
    }
    case pb::ControlRequest::SUSPEND:
    case pb::ControlRequest::RESUME:
      // Node daemons do not stop and continue a job's processes (docs/slurm.md).
      return Refused(asker.Privileged() ? slurm_refusal::kNotSupported : slurm_refusal::kAccessDenied);
    case pb::ControlRequest::REQUEUE:
    case pb::ControlRequest::REQUEUE_HOLD: {
      if (IsTerminal(st.state) && job->row.rest_cancelled && !job->live.empty())
        st.state = pb::RUNNING;  // cancelled, its tasks still ending: requeued as running
      why = control::CheckRequeue(spec, st);
      if (!why.empty()) return Refused(why);
      std::map<std::string, pb::Cancel> to_nodes;
      auto cancel_on_node = [&](const Task& t) {
        if (t.node.empty()) return;
        auto& c = to_nodes[t.node];
        c.set_job_id(id);
        c.add_positions(t.pos);
        c.add_attempts(t.attempt);
      };
      lifecycle::Changes changes;
      if (req.job().has_index() && job->is_array()) {
        // One task of an array: a running one runs again; others are not supported here.
        auto& idx = job->spec.array_indices();
        auto it = std::lower_bound(idx.begin(), idx.end(), req.job().array_index());
        if (it == idx.end() || *it != req.job().array_index())
          return Refused("Invalid job id specified");
        int64_t pos = it - idx.begin();
        auto live = job->live.find(pos);
        if (live == job->live.end() || !live->second.started)
          return Refused(live == job->live.end() ? slurm_refusal::kNotSupported : slurm_refusal::kPending);
        cancel_on_node(live->second);
        if (req.action() == pb::ControlRequest::REQUEUE_HOLD) job->spec.set_hold(true);
        lifecycle::Requeue(*job, pos, /*count_restart=*/true, ToMillis(now), &changes);
      } else {
        // The allocation goes: its leases first (nothing refills them), then every task.
        for (auto lid : std::set<int64_t>(job->leases)) DropLease(*job, lid);
        auto rows = store_->LoadTasks(id);
        if (!rows.ok()) return rows.status();
        if (req.action() == pb::ControlRequest::REQUEUE_HOLD) job->spec.set_hold(true);
        for (const auto& t : control::RequeueWhole(*job, *rows, ToMillis(now), &changes))
          cancel_on_node(t);
      }
      if (req.action() == pb::ControlRequest::REQUEUE_HOLD) {
        job->row.spec = job->spec.SerializeAsString();
        Write(store_->PutSpec(id, job->row.spec));
      }
      Apply(*job, changes, now);
      for (auto& [node_name, c] : to_nodes) {
        auto nit = nodes_.find(node_name);
        if (nit == nodes_.end() || !nit->second.session) continue;
        *Out(nit->second.session).add_cancels() = std::move(c);
      }
      Event(now, "requeue", id, "", who.user);
      sched_dirty_ = true;
      Changed();
      return pb::ControlReply();
    }
    default:
      return InvalidArgument("unknown control action");
  }
  if (!why.empty()) return Refused(why);
  const bool limit_changed = spec.time_limit_ms() != job->spec.time_limit_ms();
  job->spec = std::move(spec);
  job->row.name = name;
  job->row.priority = JobPriority(job->spec);
  job->row.spec = job->spec.SerializeAsString();
  job->MarkDirty();
  Write(store_->PutSpec(id, job->row.spec));
  // Running tasks learn their new time limit from the job's spec sent again to their nodes.
  if (limit_changed) {
    std::map<std::string, int64_t> where;  // node -> the lease of a task running there
    for (const auto& [pos, t] : job->live)
      if (t.started && !t.node.empty() && leases_.count(t.lease)) where[t.node] = t.lease;
    for (const auto& [n, lid] : where) {
      auto nit = nodes_.find(n);
      if (nit == nodes_.end() || !nit->second.session) continue;
      NodeEntry& node = nit->second;
      pb::Launch l;
      l.set_job_id(id);
      node.spec_sent.erase(id);
      AttachSpec(*job, leases_.at(lid), node, l, now);
      *Out(node.session).add_launches() = std::move(l);
    }
  }
  sched_dirty_ = true;
  Changed();
  return pb::ControlReply();
}

}  // namespace swell::head
