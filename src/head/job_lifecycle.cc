// Task and lease transitions: a task dispatched, started, finished or requeued; leases grown,
// refilled, shrunk and lost with a node; the job's state derived from its tasks.

#include "head/head_impl.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/slurm_format.h"

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

void Head::Impl::PutJobRow(Job& job) {
  job.row_dirty = false;
  Write(store_->PutJob(job.row));
}

void Head::Impl::PutTask(Job& job, const Task& t, pb::JobState state, int exit_code, int signal,
                         int64_t end_ms) {
  TaskRow r;
  r.job_id = job.row.id;
  r.pos = t.pos;
  r.state = state;
  r.node = t.node;
  r.exit_code = exit_code;
  r.signal = signal;
  r.start_ms = t.start_ms;
  r.end_ms = end_ms;
  r.attempt = t.attempt;
  r.cancel_requested = t.cancel_requested;
  Write(store_->PutTask(r));
}

void Head::Impl::UpdateAggregate(Job& job, Time now) {
  const auto& c = job.counts;
  int64_t terminal = 0;
  for (int s = pb::COMPLETED; s < kNumStates; ++s) terminal += c[s];
  pb::JobState st;
  if (c[pb::RUNNING] > 0) {
    st = pb::RUNNING;
  } else if (terminal == job.row.task_count) {
    if (c[pb::COMPLETED] == job.row.task_count)
      st = pb::COMPLETED;
    else if (c[pb::CANCELLED] > 0)
      st = pb::CANCELLED;
    else if (c[pb::NODE_FAIL] > 0)
      st = pb::NODE_FAIL;
    else if (c[pb::TIMEOUT] > 0)
      st = pb::TIMEOUT;
    else
      st = pb::FAILED;
  } else if (c[pb::COMPLETED] + c[pb::FAILED] + c[pb::TIMEOUT] + c[pb::NODE_FAIL] > 0 &&
             (job.is_array() || job.spec.launch_tasks())) {
    st = pb::RUNNING;  // an array part way through: some done, the rest queued
  } else {
    st = pb::PENDING;
  }
  if (st == job.row.state) return;
  job.row.state = st;
  job.row_dirty = true;
  Changed();
  sched_dirty_ = true;
  if (st == pb::RUNNING && job.row.start_ms == 0) {
    job.row.start_ms = ToMillis(now);
    job.row.reason.clear();
    Event(now, "start", job.row.id, "", "");
  }
  if (IsTerminal(st)) {
    job.row.end_ms = ToMillis(now);
    job.row.reason.clear();
    Event(now, "end", job.row.id, "", StateName(st));
  }
}

void Head::Impl::TaskLeft(Job& job, int64_t pos) {
  auto it = job.live.find(pos);
  if (it == job.live.end()) return;
  auto lit = leases_.find(it->second.lease);
  if (lit != leases_.end()) lit->second.positions.erase(pos);
  job.live.erase(it);
}

void Head::Impl::FinishTask(Job& job, int64_t pos, pb::JobState state, int exit_code, int signal,
                            Time now) {
  auto it = job.live.find(pos);
  if (it == job.live.end()) return;
  Task t = it->second;
  job.counts[t.started ? pb::RUNNING : pb::PENDING]--;
  job.counts[state]++;
  if (t.start_ms == 0 && state != pb::CANCELLED) t.start_ms = ToMillis(now);
  PutTask(job, t, state, exit_code, signal, ToMillis(now));
  // The job's exit code is the highest of its tasks' (Slurm's derived exit code).
  if (exit_code > job.row.exit_code || (signal != 0 && job.row.signal == 0)) {
    job.row.exit_code = std::max(job.row.exit_code, exit_code);
    if (signal != 0) job.row.signal = signal;
    job.row_dirty = true;
  }
  int64_t lease = t.lease;
  TaskLeft(job, pos);
  auto lit = leases_.find(lease);
  if (lit != leases_.end()) MaintainLease(job, lit->second, now);
  UpdateAggregate(job, now);
  if (!exec_nodes_.empty()) {
    if (job.is_array())
      EndExecs(job.row.id + pos);
    else if (IsTerminal(static_cast<pb::JobState>(job.row.state)))
      EndExecs(job.row.id);
  }
  Changed();
}

void Head::Impl::RequeueTask(Job& job, int64_t pos, bool count_restart) {
  auto it = job.live.find(pos);
  if (it == job.live.end()) return;
  if (job.row.rest_cancelled || it->second.cancel_requested) {
    // Cancelled while its node was away: it ends here instead of running again.
    FinishTask(job, pos, pb::CANCELLED, 0, 0, clock_->Now());
    return;
  }
  Task t = it->second;
  job.counts[t.started ? pb::RUNNING : pb::PENDING]--;
  job.counts[pb::PENDING]++;
  t.node.clear();
  t.started = false;
  t.start_ms = 0;
  t.attempt++;
  int64_t lease = t.lease;
  PutTask(job, t, pb::PENDING);
  TaskLeft(job, pos);
  if (!exec_nodes_.empty()) EndExecs(job.is_array() ? job.row.id + pos : job.row.id);
  job.requeued.push_back({pos, t.attempt});
  if (count_restart) {
    job.row.restarts++;
    job.row_dirty = true;
  }
  // The slot it held goes back (or takes another task) as when a task ends.
  auto lit = leases_.find(lease);
  if (lit != leases_.end()) MaintainLease(job, lit->second, clock_->Now());
  UpdateAggregate(job, clock_->Now());  // a running job may be pending again
  sched_dirty_ = true;
  Changed();
}

std::optional<std::pair<int64_t, int>> Head::Impl::NextPosition(Job& job) {
  if (!job.requeued.empty()) {
    auto next = job.requeued.front();
    job.requeued.pop_front();
    return next;
  }
  while (job.row.next_pos < job.row.task_count) {
    int64_t pos = job.row.next_pos++;
    job.row_dirty = true;
    if (job.skip.erase(pos)) continue;
    return std::pair<int64_t, int>(pos, 0);
  }
  return std::nullopt;
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
    if (!DispatchNext(job, lease, lease.node, *l)) break;
  if (l->tasks_size() == 0) return;
  AttachSpec(job, lease, node, *l, now);
  *Out(node.session).add_launches() = std::move(launch);
}

// Takes the job's next position onto `node` in `launch` (written as dispatched first). False
// when no position is left.
bool Head::Impl::DispatchNext(Job& job, Lease& lease, const std::string& node,
                              pb::Launch& launch) {
  auto next = NextPosition(job);
  if (!next) return false;
  Task t;
  t.pos = next->first;
  t.attempt = next->second;
  t.node = node;
  t.lease = lease.id;
  PutTask(job, t, pb::PENDING);
  job.live[t.pos] = t;
  lease.positions.insert(t.pos);
  auto* key = launch.add_tasks();
  key->set_job_id(job.row.id);
  key->set_pos(t.pos);
  key->set_attempt(t.attempt);
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
      if (!DispatchNext(job, lease, names[i], launch)) break;
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
  if (job.row.state != pb::CANCELLED && job.undispatched() > 0 && RefillAllowed(job) &&
      static_cast<int64_t>(lease.positions.size()) <= target / 2) {
    Dispatch(job, lease, target - static_cast<int64_t>(lease.positions.size()), now);
  }
  // Slots beyond what the dispatched tasks can use go back to the pool.
  int64_t needed = std::min<int64_t>(slots, static_cast<int64_t>(lease.positions.size()));
  if (needed < slots) {
    lease.units.resize(static_cast<size_t>(needed));
    lease.dirty = true;
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
    latest = std::max(latest, it != job->live.end() && it->second.start_ms ? it->second.start_ms
                                                                          : ToMillis(now));
  }
  return FromMillis(latest) + Duration(job->spec.time_limit_ms());
}

void Head::Impl::DropLease(Job& job, int64_t lease_id) {
  job.leases.erase(lease_id);
  leases_.erase(lease_id);
  Write(store_->DeleteLease(lease_id));
  sched_dirty_ = true;
}

void Head::Impl::LoseLease(Job& job, int64_t lid, const std::string& lost_node,
                           bool requeue_world, Time now) {
  auto lit = leases_.find(lid);
  if (lit == leases_.end()) return;
  // Take the lease away first, so that nothing below dispatches into it again.
  std::vector<int64_t> positions(lit->second.positions.begin(), lit->second.positions.end());
  std::string primary = lit->second.node;
  DropLease(job, lid);
  // The job's tasks on the allocation's other nodes end too: a job that lost a secondary
  // node ends on its primary (where its tasks run), a job of ranks loses every rank. Each
  // node that runs some gets a cancel for its own.
  std::map<std::string, pb::Cancel> others;
  for (auto pos : positions) {
    const Task& t = job.live.at(pos);
    std::string where = t.node.empty() ? primary : t.node;
    if (where == lost_node) continue;
    auto& c = others[where];
    c.set_job_id(job.row.id);
    c.add_positions(pos);
    c.add_attempts(t.attempt);
  }
  for (auto& [where, c] : others) {
    auto pit = nodes_.find(where);
    if (pit != nodes_.end() && pit->second.session)
      *Out(pit->second.session).add_cancels() = std::move(c);
  }
  // A job of ranks is one world: all of them run again, or all end with the node.
  bool world_requeues = job.spec.launch_tasks() &&
                        (requeue_world || job.spec.requeue() || job.row.rest_cancelled ||
                         IsSpotNode(lost_node));
  // A restart counts when some rank had started (a world handed back unstarted did not run).
  bool any_started = false;
  for (auto pos : positions) any_started = any_started || job.live.at(pos).started;
  for (auto pos : positions) {
    const Task& t = job.live.at(pos);
    if (job.spec.launch_tasks()) {
      if (world_requeues)
        RequeueTask(job, pos, any_started && pos == positions.front());
      else
        FinishTask(job, pos, pb::NODE_FAIL, 0, 0, now);
    } else if (!t.started)
      RequeueTask(job, pos, false);
    else if (job.spec.requeue() || job.row.rest_cancelled || t.cancel_requested ||
             IsSpotNode(lost_node))
      RequeueTask(job, pos, true);
    else
      FinishTask(job, pos, pb::NODE_FAIL, 0, 0, now);
  }
  if (world_requeues && !job.row.rest_cancelled) RequeueEndedRanks(job);
  UpdateAggregate(job, now);
}

void Head::Impl::RequeueEndedRanks(Job& job) {
  // A world runs again whole: the ranks that had already ended (their rows say how) join
  // the requeued ones, and all go out in rank order (a node's ranks are consecutive).
  std::set<int64_t> queued;
  for (const auto& [pos, attempt] : job.requeued) queued.insert(pos);
  for (int64_t pos = 0; pos < job.row.next_pos; ++pos) {
    if (job.live.count(pos) || queued.count(pos) || job.skip.count(pos)) continue;
    auto row = store_->LoadTask(job.row.id, pos);
    if (!row.ok() || !row->has_value()) continue;
    const int st = (*row)->state;
    if (st != pb::COMPLETED && st != pb::FAILED && st != pb::TIMEOUT && st != pb::NODE_FAIL)
      continue;
    job.counts[st]--;
    job.counts[pb::PENDING]++;
    Task t;
    t.pos = pos;
    t.attempt = (*row)->attempt + 1;
    PutTask(job, t, pb::PENDING);
    job.requeued.push_back({pos, t.attempt});
  }
  std::stable_sort(job.requeued.begin(), job.requeued.end());
  // The earlier attempt's exit codes are void: the job's is its new world's.
  job.row.exit_code = 0;
  job.row.signal = 0;
  job.row_dirty = true;
  sched_dirty_ = true;
  Changed();
}

}  // namespace swell::head
