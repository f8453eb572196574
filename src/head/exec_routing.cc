// Job steps inside an allocation (srun in a batch script) and relayed commands (swell-rsh):
// placed on the allocation's nodes, their output routed back to the caller.

#include "head/head_impl.h"
#include "head/step_placement.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/slurm_format.h"

namespace swell::head {

namespace sched = scheduler;
namespace as = autoscaler;
using state::JobRow;
using state::TaskRow;

void Head::Impl::Allocation(const Job& job, int64_t task_id, std::vector<std::string>* names,
                            std::vector<int>* slots) const {
  names->clear();
  slots->clear();
  std::set<int64_t> lease_ids;
  // Dispatched is enough: the batch script may call srun before its start report arrives.
  for (const auto& [pos, t] : job.live) {
    if (job.is_array() && job.row.id + pos != task_id) continue;
    lease_ids.insert(t.lease);
  }
  std::map<std::string, int> per;
  for (auto lid : lease_ids) {
    auto lit = leases_.find(lid);
    if (lit == leases_.end()) continue;
    for (const auto& unit : lit->second.units)
      for (const auto& sh : unit) per[sh.node] += std::max(1, sh.ntasks);
  }
  std::vector<std::string> order;
  for (const auto& [n, k] : per) order.push_back(n);
  for (const auto& n : HostListOrder(order)) {
    names->push_back(n);
    slots->push_back(per[n]);
  }
}

Result<pb::ExecEvent> Head::Impl::DoExecStart(const rpc::Caller& who, const pb::ExecRequest& req,
                                              const std::shared_ptr<ExecCall>& call) {
  const int64_t task_id = req.job_id();
  const std::string job_text = std::to_string(task_id);
  Job* job = FindJobOfTask(task_id);
  if (job == nullptr) return NotFound("Invalid job id specified (" + job_text + ")");
  if (!who.has_secret && who.uid != 0 && who.uid != job->row.uid)
    return PermissionDenied("Access/permission denied for job " + job_text);
  std::vector<std::string> names;
  std::vector<int> slots;
  Allocation(*job, task_id, &names, &slots);
  if (names.empty())
    return InvalidArgument("Job " + job_text + " is not running (no allocation to run in)");
  StepAllocation alloc;
  alloc.job = job_text;
  alloc.nodes = names;
  alloc.slots = slots;
  for (const auto& n : names) {
    auto nit = nodes_.find(n);
    alloc.hostnames.push_back(nit != nodes_.end() ? nit->second.row.hostname : "");
  }
  SWELL_ASSIGN_OR_RETURN(StepPlacement placed, PlaceStep(alloc, req));
  const std::vector<std::string>& step_nodes = placed.nodes;
  const std::vector<int>& counts = placed.counts;
  for (const auto& n : step_nodes) {
    auto nit = nodes_.find(n);
    if (nit == nodes_.end() || !nit->second.session || nit->second.draining)
      return Unavailable("node " + n + " of job " + job_text + " is not reachable now");
  }
  call->id = next_exec_id_++;
  call->job_id = task_id;
  if (!req.relay() && !next_step_.count(task_id)) {
    // Step ids go on from the recorded ones (a restarted head must not reuse them).
    auto recorded = store_->LoadSteps(task_id, task_id + 1);
    next_step_[task_id] = recorded.ok() && !recorded->empty() ? recorded->back().step_id + 1 : 0;
  }
  call->step_id = req.relay() ? -1 : next_step_[task_id]++;
  call->name = req.name().empty() && req.argv_size() > 0 ? req.argv(0) : req.name();
  call->nodes = step_nodes;
  call->start_ms = ToMillis(clock_->Now());
  std::string tasks_per_node = CompressCounts(counts);
  int total = 0;
  for (int c : counts) total += c;
  int rank = 0;
  for (size_t i = 0; i < step_nodes.size(); ++i) {
    call->ranks.push_back({rank, counts[i]});
    pb::ExecLaunch x;
    x.set_exec_id(call->id);
    x.set_job_id(task_id);
    x.set_step_id(call->step_id);
    *x.mutable_argv() = req.argv();
    for (const auto& [k, v] : req.env()) x.add_env(k + "=" + v);
    x.set_cwd(req.cwd());
    x.mutable_user()->set_uid(job->row.uid);
    x.mutable_user()->set_gid(job->row.gid);
    x.mutable_user()->set_name(job->row.user);
    x.set_first_rank(rank);
    x.set_count(counts[i]);
    x.set_node_index(static_cast<int>(i));
    x.set_shell(req.relay());
    x.set_pmix(req.pmix() && !req.relay());
    for (const auto& n : step_nodes) x.add_nodelist(n);
    for (const auto& n : names) x.add_alloc_nodelist(n);
    x.set_tasks_per_node(tasks_per_node);
    rank += counts[i];
    x.set_ntasks(total);
    *Out(nodes_.at(step_nodes[i]).session).add_execs() = std::move(x);
    exec_nodes_[task_id].insert(step_nodes[i]);
  }
  call->ntasks = total;
  call->pmix = req.pmix() && !req.relay();
  RecordStep(*call, /*ended=*/false, /*cancelled=*/false);
  execs_[call->id] = call;
  {
    std::lock_guard<std::mutex> lock(exec_mu_);
    exec_routes_[call->id] = call;
  }
  pb::ExecEvent first;
  first.set_started(true);
  first.set_step_id(call->step_id);
  for (const auto& n : step_nodes) first.add_nodes(n);
  Changed();
  return first;
}

void Head::Impl::DoExecGone(int64_t id, bool cancel) {
  auto it = execs_.find(id);
  if (it == execs_.end()) return;
  RecordStep(*it->second, /*ended=*/true, cancel);
  if (cancel) {
    for (const auto& n : it->second->nodes) {
      auto nit = nodes_.find(n);
      if (nit == nodes_.end() || !nit->second.session) continue;
      Out(nit->second.session).add_exec_cancels()->set_exec_id(id);
    }
  }
  execs_.erase(it);
  std::lock_guard<std::mutex> lock(exec_mu_);
  exec_routes_.erase(id);
}

void Head::Impl::RouteExec(const pb::ExecOutput& out) {
  std::shared_ptr<ExecCall> call;
  {
    std::lock_guard<std::mutex> lock(exec_mu_);
    auto it = exec_routes_.find(out.exec_id());
    if (it == exec_routes_.end()) return;
    call = it->second;
  }
  bool ended = false;
  for (const auto& ev : out.events()) {
    ended = ended || ev.ended();
    call->Deliver(ev);
  }
  // A rank that ended can never enter a fence: the fences of its step fail rather than wait.
  if (ended && call->pmix)
    Post([this, id = out.exec_id()] {
      auto it = execs_.find(id);
      if (it == execs_.end()) return;
      it->second->rank_ended = true;
      FailFences(*it->second, "a rank of the step has ended");
    });
}

void Head::Impl::EndExecs(int64_t task_id) {
  auto it = exec_nodes_.find(task_id);
  if (it == exec_nodes_.end()) return;
  for (const auto& n : it->second) {
    auto nit = nodes_.find(n);
    if (nit == nodes_.end() || !nit->second.session) continue;
    Out(nit->second.session).add_exec_cancels()->set_job_id(task_id);
  }
  exec_nodes_.erase(it);
}

void Head::Impl::CloseExecs() {
  std::lock_guard<std::mutex> lock(exec_mu_);
  for (auto& [id, call] : exec_routes_) {
    std::lock_guard<std::mutex> call_lock(call->mu);
    call->closed = true;
    call->cv.notify_all();
  }
  exec_routes_.clear();
}

Status Head::Exec(const rpc::Caller& who, const pb::ExecRequest& req,
                  rpc::Writer<pb::ExecEvent>& out) {
  if (req.argv_size() == 0) return InvalidArgument("no command given");
  auto call = std::make_shared<ExecCall>();
  auto first = impl_->OnLoop<pb::ExecEvent>([&] { return impl_->DoExecStart(who, req, call); });
  if (!first.ok()) return first.status();
  const int64_t id = call->id;
  const size_t total = static_cast<size_t>(call->ntasks);
  bool ok = out.Write(*first);
  while (ok) {
    std::deque<pb::ExecEvent> events;
    bool finished = false, closed = false;
    {
      std::unique_lock<std::mutex> lock(call->mu);
      call->cv.wait_for(lock, std::chrono::milliseconds(500), [&] {
        return !call->events.empty() || call->closed;
      });
      events.swap(call->events);
      finished = call->ended.size() >= total;
      closed = call->closed;
    }
    for (const auto& ev : events) {
      if (!out.Write(ev)) {
        ok = false;
        break;
      }
    }
    if (!ok) break;
    if (finished) {
      impl_->Post([this, id] { impl_->DoExecGone(id, false); });
      return Status::Ok();
    }
    if (closed) return Unavailable("the head is stopping");
    if (out.Cancelled()) ok = false;
  }
  impl_->Post([this, id] { impl_->DoExecGone(id, true); });
  return Unavailable("the step's caller went away");
}

}  // namespace swell::head
