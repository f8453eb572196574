// The head's adapter to the reconcile core: its jobs, nodes and leases as the core's input;
// the core's plan as leases granted and tasks dispatched.

#include "head/head_impl.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>


namespace swell::head {

namespace sched = scheduler;
namespace as = autoscaler;
using state::JobRow;
using state::TaskRow;

void Head::Impl::ClusterNodes(Time now, std::vector<reconcile::Node>* nodes,
                              std::vector<reconcile::Hold>* holds) {
  std::map<std::string, int> index;
  for (auto& [name, n] : nodes_) {
    bool usable = n.up && n.session && !n.draining && (!pool_ || PoolNodeUsable(name));
    index[name] = static_cast<int>(nodes->size());
    nodes->push_back({name, n.total(), TypeIndex(n.node_type), usable});
  }
  for (auto& [lid, lease] : leases_) {
    Time end = LeaseEnd(lease, now);
    for (const auto& unit : lease.units)
      for (const auto& sh : unit) {
        auto it = index.find(sh.node);
        if (it != index.end()) holds->push_back({it->second, sh.res, end});
      }
  }
}

void Head::Impl::RefreshWaiting(std::vector<int64_t> ids) {
  waiting_.Refresh(
      std::move(ids), [this](int64_t id) { return FindJob(id); },
      [this](const Job& job) { return WaitingOf(job); });
}

const std::vector<reconcile::WaitingJob>& Head::Impl::WaitingJobs(Time now) {
  RefreshWaiting(touched_);  // this pass's submissions and changes, not flushed yet
  for (size_t i = 0; i < waiting_.size(); ++i) {
    if (!waiting_.conditional(i)) continue;
    Job& job = waiting_.job(i);
    std::string& gate = waiting_.at(i).gate;
    gate.clear();
    if (job.spec.hold())
      gate = "JobHeldUser";
    else if (job.spec.begin_time_ms() > ToMillis(now))
      gate = "BeginTime";
    else if (DependencyState(job, &gate) == pb::COMPLETED)
      gate.clear();
  }
  return waiting_.jobs();
}

reconcile::WaitingJob Head::Impl::WaitingOf(const Job& job) const {
  reconcile::WaitingJob w;
  w.id = job.row.id;
  w.priority = JobPriority(job.spec);
  w.submit = FromMillis(job.row.submit_ms);
  w.units = job.undispatched();
  w.one_allocation = job.spec.launch_tasks();
  w.max_running = job.spec.array_max_running();
  w.restarts = job.row.restarts;
  w.partition = job.spec.partition();
  w.shape = ShapeOf(job.spec);
  w.reason = job.row.reason;
  for (auto lid : job.leases) w.held += static_cast<int64_t>(leases_.at(lid).units.size());
  return w;
}

reconcile::Routing Head::Impl::Routing(Time now) const {
  reconcile::Routing r;
  if (!pool_) return r;
  r.types = &pool_->types();
  r.usable = reconcile::UsableTypes(*pool_, now);
  r.max_preemptions = opt_.elastic->max_preemptions;
  return r;
}

void Head::Impl::Schedule(Time now) {
  const Time start = clock_->Now();
  sched_dirty_ = false;
  std::vector<reconcile::Node> nodes;
  std::vector<reconcile::Hold> holds;
  ClusterNodes(now, &nodes, &holds);
  const auto& waiting = WaitingJobs(now);
  const auto queued = static_cast<int64_t>(waiting.size());
  auto plan = reconcile::Schedule(nodes, holds, waiting, Routing(now), now);
  top_blocked_ = plan.top_blocked;
  for (const auto& [id, reason] : plan.reasons) {
    // Found in the index: a lookup in jobs_ per job took 27-58 ms of a pass at 100,000.
    const size_t i = *waiting_.IndexOf(id);
    if (IsGate(reason)) gated_.insert(id);
    if (waiting[i].reason == reason) continue;
    Job& job = waiting_.job(i);
    waiting_.at(i).reason = reason;
    job.row.reason = reason;
    job.MarkDirty();
    if (!reason.empty()) Changed();
  }
  std::set<int64_t> grown;
  for (const auto& start : plan.starts) {
    int64_t job_id = static_cast<int64_t>(start.group);
    Job& job = jobs_.at(job_id);
    touched_.push_back(job_id);  // its allocation grows: what the index holds of it changes
    if (start.shares.empty()) continue;
    const std::string& primary = nodes[static_cast<size_t>(start.shares.front().node)].name;
    // Single-node units of a job on one node share a lease; multi-node units get their own.
    Lease* lease = nullptr;
    if (start.shares.size() == 1) {
      for (auto lid : job.leases) {
        auto& l = leases_.at(lid);
        if (l.node == primary && !l.units.empty() && l.units.front().size() == 1) lease = &l;
      }
    }
    if (lease == nullptr) {
      Lease l;
      l.id = next_lease_id_++;
      Write(store_->SetCounter("next_lease_id", next_lease_id_));
      l.job_id = job_id;
      l.node = primary;
      lease = &leases_.emplace(l.id, std::move(l)).first->second;
      job.leases.insert(lease->id);
    }
    std::vector<Share> unit;
    for (const auto& sh : start.shares)
      unit.push_back({nodes[static_cast<size_t>(sh.node)].name, sh.ntasks, sh.res});
    lease->units.push_back(std::move(unit));
    lease->dirty = true;
    dirty_leases_.push_back(lease->id);
    grown.insert(lease->id);
  }
  for (auto lid : grown) {
    Lease& lease = leases_.at(lid);
    Job& job = jobs_.at(lease.job_id);
    Dispatch(job, lease, DispatchTarget(job, lease) - static_cast<int64_t>(lease.positions.size()),
             now);
    MaintainLease(job, lease, now);
  }
  if (!plan.starts.empty()) Changed();
  const Time end = clock_->Now();
  counters_.schedule_seconds.Observe(end - start);
  if (queued >= kLongQueue) {
    // The spacing counts from the end of this pass (its starts dispatched), and is at least
    // four times what the pass took: scheduling a long queue takes at most a fifth of the loop
    // (a third was 40% of a head taking 1,000 submissions a second with 100,000 jobs queued,
    // for passes that mostly found every node full: docs/BENCHMARKS.md).
    next_schedule_ = end + std::max(Duration(queued / kLongQueue), 4 * (end - start));
  }
}

}  // namespace swell::head
