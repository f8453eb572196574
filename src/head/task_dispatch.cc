// Task and lease transitions: a task dispatched, started, finished or requeued; leases grown,
// refilled, shrunk and lost with a node; the job's state derived from its tasks.

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/slurm_format.h"
#include "head/head_impl.h"

namespace swell::head {

namespace sched = scheduler;
namespace as = autoscaler;
using state::JobRow;
using state::TaskRow;

Job* Head::Impl::FindJob(int64_t id) {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

Job* Head::Impl::FindJobOfTask(int64_t task_id) {
  if (Job* job = FindJob(task_id)) return job;
  // An array task's own id: its job's id and the ids after it.
  auto it = jobs_.upper_bound(task_id);
  if (it == jobs_.begin()) return nullptr;
  --it;
  Job& j = it->second;
  return j.is_array() && task_id < it->first + j.row.task_count ? &j : nullptr;
}

void Head::Impl::Count(const Job& job, const state::TaskRow& r, Time now) {
  if (r.state == pb::RUNNING && r.start_ms > 0) {
    ++counters_.tasks_started;
    counters_.queue_wait.Observe(static_cast<double>(r.start_ms - job.row.submit_ms) / 1000);
    auto t = job.live.find(r.pos);
    if (t != job.live.end() && t->second.sent != Time{})
      counters_.dispatch_latency.Observe(now - t->second.sent);
  } else if (IsTerminal(static_cast<pb::JobState>(r.state)) && r.start_ms > 0 && r.end_ms > r.start_ms) {
    // Its share of the node's cpus, as the accounting charges it (elastic/accounting.h).
    auto n = nodes_.find(r.node);
    const double cpus = std::max(1, job.spec.cpus_per_task()) * std::max(1, job.spec.ntasks());
    const double share = n == nodes_.end() || n->second.row.cpus <= 0
                             ? 1
                             : std::min(1.0, cpus / n->second.row.cpus);
    counters_.node_hours_used += static_cast<double>(r.end_ms - r.start_ms) / 3.6e6 * share;
  }
}

void Head::Impl::PutJobRow(Job& job) {
  job.row_dirty = false;
  Write(store_->PutJob(job.row));
}

void Head::Impl::Apply(Job& job, lifecycle::Changes& changes, Time now) {
  touched_.push_back(job.row.id);  // its last live task may have ended: it may leave jobs_
  for (const auto& r : changes.task_rows) {
    Write(store_->PutTask(r));
    Count(job, r, now);
  }
  for (const auto& e : changes.events) {
    Event(FromMillis(e.ms), e.kind, job.row.id, "", e.detail);
    // --mail-type, once the change is committed.
    if (!mail_ || job.spec.mail_type().empty()) continue;
    auto m = MailFor(opt_.mail_prog, job.row, job.spec,
                     e.kind == "start" ? MailEvent::kBegin : MailEvent::kEnd);
    if (m) after_commit_.push_back([this, m = std::move(*m)]() mutable { mail_->Send(std::move(m)); });
  }
  if (changes.state_changed) {
    sched_dirty_ = true;
    Changed();
  }
  for (const auto& left : changes.left) {
    const Task& t = left.task;
    if (!exec_nodes_.empty()) {
      // Its steps end everywhere: an array task's own, or a plain job's once it ended.
      if (job.is_array())
        EndExecs(job.row.id + t.pos);
      else if (left.requeued || IsTerminal(static_cast<pb::JobState>(job.row.state)))
        EndExecs(job.row.id);
    }
    if (left.requeued) sched_dirty_ = true;
    Changed();
    // The slot it held goes back, or takes another task.
    auto lit = leases_.find(t.lease);
    if (lit == leases_.end()) continue;
    lit->second.positions.erase(t.pos);
    MaintainLease(job, lit->second, now);
  }
}

void Head::Impl::FinishTask(Job& job, int64_t pos, pb::JobState state, int exit_code, int signal,
                            Time now) {
  lifecycle::Changes changes;
  lifecycle::Finish(job, pos, state, exit_code, signal, ToMillis(now), &changes);
  Apply(job, changes, now);
}

void Head::Impl::RequeueTask(Job& job, int64_t pos, bool count_restart) {
  Time now = clock_->Now();
  lifecycle::Changes changes;
  lifecycle::Requeue(job, pos, count_restart, ToMillis(now), &changes);
  Apply(job, changes, now);
}

void Head::Impl::Dispatch(Job& job, Lease& lease, int64_t max_new, Time now) {
  if (max_new <= 0) return;
  if (job.spec.launch_tasks()) {
    DispatchRanks(job, lease, now);
    return;
  }
  auto nit = nodes_.find(lease.node);
  if (nit == nodes_.end() || !nit->second.session || nit->second.draining) return;
  NodeEntry& node = nit->second;
  pb::Launch launch;
  pb::Launch* l = &launch;
  l->set_job_id(job.row.id);
  l->set_slots(static_cast<int>(lease.units.size()));
  for (int64_t i = 0; i < max_new; ++i)
    if (!DispatchNext(job, lease, lease.node, *l, now)) break;
  if (l->tasks_size() == 0) return;
  AttachSpec(job, lease, node, *l, now);
  *Out(node.session).add_launches() = std::move(launch);
}

// Takes the job's next position onto `node` in `launch` (written as dispatched first). False
// when no position is left.
bool Head::Impl::DispatchNext(Job& job, Lease& lease, const std::string& node, pb::Launch& launch,
                              Time now) {
  // A batch script's allocation over several nodes is kept with its task, for the records of
  // the job once the lease is gone (a job of ranks has a task on each node).
  std::string alloc_nodes;
  if (!job.spec.launch_tasks() && !lease.units.empty() && lease.units.front().size() > 1) {
    std::set<std::string> distinct;
    for (const auto& sh : lease.units.front()) distinct.insert(sh.node);
    for (const auto& n : HostListOrder({distinct.begin(), distinct.end()}))
      alloc_nodes += (alloc_nodes.empty() ? "" : ",") + n;
  }
  lifecycle::Changes changes;
  auto t = lifecycle::TakeNext(job, lease.id, node, &changes, alloc_nodes);
  if (!t) return false;
  Apply(job, changes, now);
  job.live[t->pos].sent = now;
  lease.positions.insert(t->pos);
  auto* key = launch.add_tasks();
  key->set_job_id(job.row.id);
  key->set_pos(t->pos);
  key->set_attempt(t->attempt);
  return true;
}

// srun's launch: rank r of the job runs on the node that holds it in the allocation, ranks in
// blocks over the sorted node list (Slurm's default block distribution), all at once.
void Head::Impl::DispatchRanks(Job& job, Lease& lease, Time now) {
  if (lease.units.empty()) return;
  std::map<std::string, int> per_node;
  for (const auto& sh : lease.units.front()) per_node[sh.node] += sh.ntasks;
  std::vector<std::string> names;
  for (const auto& [n, k] : per_node) names.push_back(n);
  names = HostListOrder(names);
  // All or nothing: a node that went away between allocation and launch leaves the whole
  // world undispatched (the lease is then dropped and the job scheduled again).
  for (const auto& n : names) {
    auto nit = nodes_.find(n);
    if (nit == nodes_.end() || !nit->second.session || nit->second.draining) {
      LogWarning("head: job %lld: node %s cannot take its ranks now",
                 static_cast<long long>(job.row.id), n.c_str());
      return;
    }
  }
  int64_t rank = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    int count = per_node[names[i]];
    NodeEntry& node = nodes_.at(names[i]);
    pb::Launch launch;
    launch.set_job_id(job.row.id);
    launch.set_slots(count);
    launch.set_node_index(static_cast<int>(i));
    launch.set_first_rank(rank);
    for (int k = 0; k < count; ++k)
      if (!DispatchNext(job, lease, names[i], launch, now)) break;
    rank += count;
    if (launch.tasks_size() == 0) continue;
    AttachSpec(job, lease, node, launch, now);
    *Out(node.session).add_launches() = std::move(launch);
  }
}

// Adds the job's spec and allocation to a launch when the node has not had them lately.
void Head::Impl::AttachSpec(const Job& job, const Lease& lease, NodeEntry& node, pb::Launch& l_ref,
                            Time now) {
  pb::Launch* l = &l_ref;
  auto sent = node.spec_sent.find(job.row.id);
  // A job of ranks may be launched again on other nodes (requeued): its node list and layout
  // go with every launch.
  if (sent == node.spec_sent.end() || now - sent->second > kSpecResendAfter ||
      job.spec.launch_tasks()) {
    l->set_with_spec(true);
    *l->mutable_spec() = job.spec;
    l->mutable_user()->set_uid(job.row.uid);
    l->mutable_user()->set_gid(job.row.gid);
    l->mutable_user()->set_name(job.row.user);
    l->set_submit_ms(job.row.submit_ms);
    // The allocation's nodes (this lease's node first) and the tasks and cpus each holds. The
    // units of a lease are alike (several only for single-node units): one tells them all.
    std::vector<std::string> names = {lease.node};
    std::vector<int> tasks = {0}, cpus = {0};
    if (!lease.units.empty())
      for (const auto& sh : lease.units.front()) {
        auto at = std::find(names.begin(), names.end(), sh.node);
        if (at == names.end()) {
          names.push_back(sh.node);
          tasks.push_back(0);
          cpus.push_back(0);
          at = names.end() - 1;
        }
        tasks[static_cast<size_t>(at - names.begin())] += sh.ntasks;
        cpus[static_cast<size_t>(at - names.begin())] += sh.res.cpus;
      }
    for (size_t i = 0; i < names.size(); ++i) {
      l->add_nodelist(names[i]);
      l->add_tasks_per_node(std::max(1, tasks[i]));
      l->add_cpus_per_node(cpus[i]);
    }
  }
  node.spec_sent[job.row.id] = now;
}

bool Head::Impl::RefillAllowed(const Job& job) const {
  if (!top_blocked_) return true;
  return reconcile::OrderKey{-JobPriority(job.spec), job.row.submit_ms, job.row.id} <=
         *top_blocked_;
}

int64_t Head::Impl::DispatchTarget(const Job& job, const Lease& lease) const {
  int64_t slots = static_cast<int64_t>(lease.units.size());
  if (job.spec.launch_tasks()) return job.row.task_count;  // every rank at once
  if (!job.is_array()) return slots;
  // An elastic cluster queues nothing ahead on a node: tasks queued there would be invisible
  // to the autoscaler as demand, and would wait for that node while new ones boot idle.
  if (pool_) return slots;
  // This lease's share of the job's remaining tasks, by slots, so that a small array spreads
  // over all its nodes; capped by the queue depth a node should hold.
  int64_t job_slots = 0, remaining = job.undispatched();
  for (auto lid : job.leases) {
    const Lease& l = leases_.at(lid);
    job_slots += static_cast<int64_t>(l.units.size());
    remaining += static_cast<int64_t>(l.positions.size());
  }
  int64_t fair = job_slots > 0 ? (remaining * slots + job_slots - 1) / job_slots : remaining;
  return std::max(slots, std::min(slots * std::max(1, opt_.dispatch_depth), fair));
}

void Head::Impl::MaintainLease(Job& job, Lease& lease, Time now) {
  int64_t slots = static_cast<int64_t>(lease.units.size());
  int64_t target = DispatchTarget(job, lease);
  if (job.row.state != pb::CANCELLED && !job.spec.hold() && job.undispatched() > 0 &&
      RefillAllowed(job) && static_cast<int64_t>(lease.positions.size()) <= target / 2) {
    Dispatch(job, lease, target - static_cast<int64_t>(lease.positions.size()), now);
  }
  // Slots beyond what the dispatched tasks can use go back to the pool.
  int64_t needed = std::min<int64_t>(slots, static_cast<int64_t>(lease.positions.size()));
  if (needed < slots) {
    touched_.push_back(job.row.id);  // its allocation shrinks (WaitingIndex)
    lease.units.resize(static_cast<size_t>(needed));
    lease.dirty = true;
    dirty_leases_.push_back(lease.id);
    sched_dirty_ = true;
    if (needed == 0) DropLease(job, lease.id);
  }
}

Time Head::Impl::LeaseEnd(const Lease& lease, Time now) {
  const Job* job = FindJob(lease.job_id);
  if (!job || job->spec.time_limit_ms() <= 0 || job->undispatched() != 0) return kNever;
  int64_t latest = 0;
  for (auto pos : lease.positions) {
    auto it = job->live.find(pos);
    latest = std::max(
        latest, it != job->live.end() && it->second.start_ms ? it->second.start_ms : ToMillis(now));
  }
  return FromMillis(latest) + Duration(job->spec.time_limit_ms());
}

void Head::Impl::DropLease(Job& job, int64_t lease_id) {
  touched_.push_back(job.row.id);  // its allocation shrinks (WaitingIndex)
  job.leases.erase(lease_id);
  leases_.erase(lease_id);
  Write(store_->DeleteLease(lease_id));
  sched_dirty_ = true;
}

void Head::Impl::LoseLease(Job& job, int64_t lid, const std::string& lost_node, bool requeue_world,
                           Time now) {
  auto lit = leases_.find(lid);
  if (lit == leases_.end()) return;
  // Take the lease away first, so that nothing below dispatches into it again.
  std::vector<int64_t> positions(lit->second.positions.begin(), lit->second.positions.end());
  auto loss = lifecycle::LoseAllocation(job, positions, lit->second.node, lost_node, requeue_world,
                                        IsSpotNode(lost_node));
  DropLease(job, lid);
  for (auto& [where, c] : loss.cancels) {
    auto pit = nodes_.find(where);
    if (pit != nodes_.end() && pit->second.session)
      *Out(pit->second.session).add_cancels() = std::move(c);
  }
  lifecycle::Changes changes;
  for (const auto& [pos, v] : loss.tasks) {
    if (v.outcome == lifecycle::Outcome::kFinish)
      lifecycle::Finish(job, pos, v.state, 0, 0, ToMillis(now), &changes);
    else
      lifecycle::Requeue(job, pos, v.outcome == lifecycle::Outcome::kRequeueCounted, ToMillis(now),
                         &changes);
  }
  if (loss.world_requeues && !job.row.rest_cancelled) {
    lifecycle::RequeueEndedRanks(
        job,
        [&](int64_t pos) -> std::optional<state::TaskRow> {
          auto row = store_->LoadTask(job.row.id, pos);
          if (!row.ok() || !row->has_value()) return std::nullopt;
          return **row;
        },
        &changes);
  }
  lifecycle::UpdateState(job, ToMillis(now), &changes);
  Apply(job, changes, now);
}

}  // namespace swell::head
