// Loading the state at start: jobs, tasks, leases, nodes and the elastic pool.

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/log.h"
#include "head/head_impl.h"
#include "head/state/pool_record.h"
#include "head/state/lease_codec.h"

namespace swell::head {

namespace sched = scheduler;
namespace as = autoscaler;
using state::JobRow;
using state::TaskRow;

Status Head::Impl::Load() {
  Time now = clock_->Now();
  auto next = store_->GetCounter("next_job_id", 1);
  if (!next.ok()) return next.status();
  next_job_id_ = *next;
  auto nl = store_->GetCounter("next_lease_id", 1);
  if (!nl.ok()) return nl.status();
  next_lease_id_ = *nl;

  auto all = store_->LoadJobs(/*active_only=*/false);
  if (!all.ok()) return all.status();
  for (auto& row : *all) {
    if (IsTerminal(static_cast<pb::JobState>(row.state))) {
      Brief b;
      b.state = row.state;
      b.name = row.name;
      b.uid = row.uid;
      b.task_count = row.task_count;
      pb::JobSpec spec;
      spec.ParseFromString(row.spec);
      b.is_array = spec.array_indices_size() > 0;
      done_[row.id] = b;
      continue;
    }
    Job job;
    job.row = row;
    if (!job.spec.ParseFromString(row.spec))
      return Internal("corrupt spec of job " + std::to_string(row.id));
    auto rows = store_->LoadTasks(row.id);
    if (!rows.ok()) return rows.status();
    for (auto& t : *rows) {
      if (t.pos >= row.next_pos) {
        job.skip.insert(t.pos);
        job.counts[t.state]++;
        continue;
      }
      if (t.state == pb::PENDING && t.node.empty()) {
        job.requeued.push_back({t.pos, t.attempt});
        job.counts[pb::PENDING]++;
      } else if (t.state == pb::PENDING || t.state == pb::RUNNING) {
        Task task;
        task.pos = t.pos;
        task.attempt = t.attempt;
        task.node = t.node;
        task.alloc_nodes = t.alloc_nodes;
        task.started = t.state == pb::RUNNING;
        task.start_ms = t.start_ms;
        task.cancel_requested = t.cancel_requested;
        job.live[t.pos] = task;
        job.counts[t.state]++;
      } else {
        job.counts[t.state]++;
      }
    }
    if (job.row.rest_cancelled)  // every position without a row was cancelled unrun
      job.counts[pb::CANCELLED] += row.task_count - static_cast<int64_t>(rows->size());
    else
      job.counts[pb::PENDING] +=
          row.task_count - row.next_pos - static_cast<int64_t>(job.skip.size());
    if (lifecycle::HasTimers(job.spec)) timed_jobs_.insert(row.id);
    AddJob(std::move(job));
  }
  auto leases = store_->LoadLeases();
  if (!leases.ok()) return leases.status();
  for (auto& lr : *leases) {
    Lease l;
    l.id = lr.id;
    l.job_id = lr.job_id;
    l.node = lr.node;
    l.units = FromRows(state::DecodeShares(lr.shares));
    auto jit = jobs_.find(l.job_id);
    if (jit == jobs_.end()) {
      (void)store_->DeleteLease(l.id);
      continue;
    }
    // A task belongs to the lease whose units hold its node (a job of ranks runs on every
    // node of its unit, not only on the first).
    std::set<std::string> lease_nodes = {l.node};
    for (const auto& unit : l.units)
      for (const auto& sh : unit) lease_nodes.insert(sh.node);
    for (auto& [pos, t] : jit->second.live)
      if (lease_nodes.count(t.node) && t.lease == 0) t.lease = l.id, l.positions.insert(pos);
    jit->second.leases.insert(l.id);
    leases_.emplace(l.id, std::move(l));
  }
  // Live tasks without a lease (should not happen): back to pending.
  for (auto& [id, job] : jobs_) {
    std::vector<int64_t> orphans;
    for (auto& [pos, t] : job.live)
      if (t.lease == 0) orphans.push_back(pos);
    for (auto pos : orphans) RequeueTask(job, pos, /*count_restart=*/false);
  }
  auto revoked = store_->LoadRevoked();
  if (!revoked.ok()) return revoked.status();
  {
    std::lock_guard<std::mutex> lock(revoked_mu_);
    revoked_ = std::move(*revoked);
  }
  auto nodes = store_->LoadNodes();
  if (!nodes.ok()) return nodes.status();
  for (auto& nr : *nodes) {
    NodeEntry n;
    n.row = nr;
    // Nodes that were up get one node_timeout after our start to come back.
    n.up = nr.state != "DOWN";
    n.last_seen = now;
    nodes_.emplace(nr.name, std::move(n));
  }
  if (opt_.elastic) {
    const auto& e = *opt_.elastic;
    if (!e.provider) return InvalidArgument("an elastic cluster needs a provider");
    auto policy = as::MakePolicy(e.policy, e.policy_options);
    if (!policy.ok()) return policy.status();
    policy_ = std::move(policy).value();
    elastic::PoolOptions po = e.pool;
    po.max_nodes = e.policy_options.max_nodes;
    pool_ = std::make_unique<elastic::Pool>(e.types, po);
    arrived_.assign(e.types.size(), 0);
    auto rows = store_->LoadPool();
    if (!rows.ok()) return rows.status();
    RestorePool(*rows, pool_.get(), now);
    for (auto it = nodes_.begin(); it != nodes_.end();) {
      // Records of pool nodes that are gone are history, not nodes.
      if (it->second.row.state == "GONE")
        it = nodes_.erase(it);
      else
        ++it;
    }
  }
  SWELL_RETURN_IF_ERROR(SettleSteps());
  LogInfo("head: loaded %zu active jobs, %zu finished, %zu nodes, next job id %lld", jobs_.size(),
          done_.size(), nodes_.size(), static_cast<long long>(next_job_id_));
  return Status::Ok();
}

}  // namespace swell::head
