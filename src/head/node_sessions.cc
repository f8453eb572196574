// Node sessions: registration, task reports, heartbeats, a node stopping or going silent.

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/log.h"
#include "head/head_impl.h"
#include "head/node_registration.h"

namespace swell::head {

namespace sched = scheduler;
namespace as = autoscaler;
using state::JobRow;
using state::TaskRow;

void Head::Impl::Housekeeping(Time now) {
  if (!timed_jobs_.empty()) JobTimers(now);
  PmixTimers(now);
  for (auto& [name, n] : nodes_) {
    if (!n.up) continue;
    if (n.session && n.session->heard() != n.heard) n.heard = n.session->heard(), n.last_seen = now;
    if (now - n.last_seen > opt_.node_timeout) NodeFailed(n, now, "not responding");
  }
  // Begin times and dependencies may have come due.
  for (auto it = gated_.begin(); it != gated_.end();) {
    const Job* job = FindJob(*it);
    if (job != nullptr && job->undispatched() > 0 && IsGate(job->row.reason)) {
      sched_dirty_ = true;
      break;
    }
    it = gated_.erase(it);
  }
  if (ca_times_ && now >= next_renewals_) {
    AskRenewals(now);
    next_renewals_ = now + std::chrono::seconds(5);
  }
}

void Head::Impl::NodeFailed(NodeEntry& node, Time now, const std::string& why) {
  LogWarning("head: node %s is down: %s", node.row.name.c_str(), why.c_str());
  ++counters_.node_failures;
  if (pool_) AddCalls(pool_->Lost(node.row.name, why, now));
  node.up = false;
  node.row.state = "DOWN";
  Write(store_->PutNode(node.row));
  Event(now, "node_down", 0, node.row.name, why);
  // End its stream too: if the node is alive after all, it reconnects and registers again,
  // which tells it which of its tasks to end.
  if (node.session) {
    node.session->Close();
    node.session.reset();
  }
  node.session_id = 0;
  node.spec_sent.clear();
  for (auto& [id, call] : execs_)
    for (size_t i = 0; i < call->nodes.size(); ++i) {
      if (call->nodes[i] != node.row.name) continue;
      FailFences(*call, "node " + node.row.name + " is down: " + why);
      for (int r = 0; r < call->ranks[i].second; ++r) {
        pb::ExecEvent ev;
        ev.set_rank(call->ranks[i].first + r);
        ev.set_ended(true);
        ev.set_exit_code(1);
        ev.set_error("node " + node.row.name + " is down: " + why);
        call->Deliver(std::move(ev));
      }
    }
  // Every lease with a share on the node: a multi-node job loses a secondary node too.
  auto lease_ids = LeasesOnNode(leases_, node.row.name);
  for (auto lid : lease_ids) {
    auto lit = leases_.find(lid);
    if (lit == leases_.end()) continue;
    Job* job = FindJob(lit->second.job_id);
    if (job == nullptr) continue;
    LoseLease(*job, lid, node.row.name, false, now);
  }
  sched_dirty_ = true;
  Changed();
}

void Head::Impl::DoRegister(const std::shared_ptr<Session>& s, uint64_t sid, const pb::Register& r,
                            const std::string& certified, int64_t cert_issued_ms) {
  Time now = clock_->Now();
  if (r.name().empty() || (!certified.empty() && certified != r.name())) {
    auto& m = Out(s);
    m.mutable_registered()->set_ok(false);
    m.mutable_registered()->set_message(r.name().empty() ? "a node needs a name"
                                                         : "the certificate of node " + certified +
                                                               " does not name node " + r.name());
    return;
  }
  if (pool_ && !r.partition().empty() && !pool_->Registered(r.name(), now)) {
    // A node the pool never made, or has given up on (its delete is under way).
    auto& m = Out(s);
    m.mutable_registered()->set_ok(false);
    m.mutable_registered()->set_message("node " + r.name() +
                                        " is not an elastic node of this cluster any more");
    return;
  }
  NodeEntry& n = nodes_[r.name()];
  NodesChanged();
  n.node_type = r.partition();
  bool restarted = !n.row.instance.empty() && n.row.instance != r.instance();
  if (n.session && n.session != s) n.session->Close();
  if (restarted && n.up) NodeFailed(n, now, "node daemon restarted");
  n.row.name = r.name();
  n.row.instance = r.instance();
  n.row.hostname = r.hostname();
  n.row.cpus = r.resources().cpus();
  n.row.mem_mb = r.resources().mem_mb();
  n.row.gpus = r.resources().gpus();
  n.row.pid = r.pid();
  n.row.last_seen_ms = ToMillis(now);
  n.row.state = "UP";
  n.up = true;
  n.last_seen = now;
  n.session = s;
  n.session_id = sid;
  n.draining = false;
  n.spec_sent.clear();
  n.cert_issued_ms = cert_issued_ms;
  n.renew_asked = Time{};
  Write(store_->PutNode(n.row));
  Event(now, "node_up", 0, r.name(), r.hostname());

  pb::HeadMessage& reply = Out(s);
  reply.mutable_registered()->set_ok(true);
  // Tasks the node has that are not current here end there; tasks dispatched there that it
  // never received go back to pending; tasks it has that were cancelled meanwhile get their
  // cancel again (it may have been lost).
  auto settled = SettleRegistration(r, jobs_, leases_);
  for (auto& k : settled.kill) *reply.mutable_registered()->add_kill() = std::move(k);
  for (auto& c : settled.cancels) *reply.add_cancels() = std::move(c);
  for (const auto& [job_id, pos] : settled.lost)
    if (Job* job = FindJob(job_id)) RequeueTask(*job, pos, false);  // may end the lease
  // Reports the node kept while we were away; the answer acks them all.
  pb::ReportBatch b;
  for (const auto& rep : r.unacked()) *b.add_reports() = rep;
  b.set_seq(r.next_seq() > 0 ? r.next_seq() - 1 : 0);
  DoReports(r.name(), sid, b);
  // Jobs that ran relayed commands or steps there: swept when they end (this head may be a
  // new one that never saw them start), or now when they have ended already.
  for (int64_t task_id : r.exec_jobs()) {
    Job* job = FindJobOfTask(task_id);
    std::vector<std::string> names;
    std::vector<int> slots;
    if (job != nullptr) Allocation(*job, task_id, &names, &slots);
    if (!names.empty())
      exec_nodes_[task_id].insert(r.name());
    else
      Out(s).add_exec_cancels()->set_job_id(task_id);
  }
  // Leases left without tasks give their slots back.
  std::vector<int64_t> ids;
  for (auto& [lid, l] : leases_)
    if (l.node == r.name()) ids.push_back(lid);
  for (auto lid : ids) {
    auto it = leases_.find(lid);
    if (it == leases_.end()) continue;
    Job* job = FindJob(it->second.job_id);
    if (job) MaintainLease(*job, it->second, now);
  }
  sched_dirty_ = true;
  Changed();
  LogInfo("head: node %s registered (%d cpus, %lld MB)%s", r.name().c_str(), n.row.cpus,
          static_cast<long long>(n.row.mem_mb), restarted ? " after a restart" : "");
}

void Head::Impl::DoReports(const std::string& node_name, uint64_t sid, const pb::ReportBatch& b) {
  auto nit = nodes_.find(node_name);
  if (nit == nodes_.end() || nit->second.session_id != sid) return;
  NodeEntry& node = nit->second;
  Time now = clock_->Now();
  node.last_seen = now;
  for (const auto& rep : b.reports()) {
    Job* job = FindJob(rep.key().job_id());
    if (!job) continue;
    auto it = job->live.find(rep.key().pos());
    if (it == job->live.end() || it->second.attempt != rep.key().attempt() ||
        it->second.node != node_name)
      continue;  // stale: an earlier attempt, or already settled
    const Task& t = it->second;
    auto v = lifecycle::Judge(*job, t, rep, leases_.count(t.lease) > 0, IsSpotNode(node_name));
    lifecycle::Changes changes;
    const int64_t pos = t.pos;
    switch (v.outcome) {
      case lifecycle::Outcome::kIgnore:
        continue;
      case lifecycle::Outcome::kStart:
        lifecycle::Start(*job, pos, rep.time_ms(), ToMillis(now), &changes);
        break;
      case lifecycle::Outcome::kLoseAllocation:
        LoseLease(*job, t.lease, node_name, rep.requeue(), now);
        continue;
      case lifecycle::Outcome::kRequeue:
      case lifecycle::Outcome::kRequeueCounted:
      case lifecycle::Outcome::kFinish:
        // Started and ended within one batch: the node sent only the end.
        if (!rep.requeue() && rep.start_ms() != 0)
          lifecycle::MarkStarted(*job, pos, rep.start_ms());
        if (v.outcome == lifecycle::Outcome::kFinish && !rep.error().empty()) {
          LogWarning("head: job %lld task %lld failed to start on %s: %s",
                     static_cast<long long>(job->row.id), static_cast<long long>(pos),
                     node_name.c_str(), rep.error().c_str());
          Event(now, "launch_failed", job->row.id, node_name, rep.error());
        }
        if (v.outcome == lifecycle::Outcome::kFinish)
          lifecycle::Finish(*job, pos, v.state, rep.exit_code(), rep.signal(), ToMillis(now),
                            &changes, {rep.max_rss_kb(), rep.user_cpu_us(), rep.sys_cpu_us()});
        else
          lifecycle::Requeue(*job, pos, v.outcome == lifecycle::Outcome::kRequeueCounted,
                             ToMillis(now), &changes);
        break;
    }
    Apply(*job, changes, now);
    Changed();
  }
  if (node.session && b.seq() > 0) {
    auto& out = Out(node.session);
    out.set_ack(std::max(out.ack(), b.seq()));
  }
}

void Head::Impl::DoDraining(const std::string& node_name, uint64_t sid) {
  auto nit = nodes_.find(node_name);
  if (nit == nodes_.end() || nit->second.session_id != sid) return;
  nit->second.draining = true;
  sched_dirty_ = true;
  LogInfo("head: node %s is stopping", node_name.c_str());
  // An elastic node that stops without being asked to (a spot preemption's notice) is lost.
  if (pool_) AddCalls(pool_->Lost(node_name, "stopped by its host", clock_->Now()));
}

void Head::Impl::DoSessionClosed(const std::string& node_name, uint64_t sid) {
  auto nit = nodes_.find(node_name);
  if (nit == nodes_.end() || nit->second.session_id != sid) return;
  // The node has node_timeout to come back before its work is given up.
  nit->second.session.reset();
  nit->second.spec_sent.clear();
  sched_dirty_ = true;
}

namespace {

// A node's messages as they arrive (on a gRPC thread, one at a time): registration and reports
// go to the loop; a heartbeat is only counted.
class NodeSessionIn final : public rpc::SessionIn {
 public:
  NodeSessionIn(Head::Impl* impl, const rpc::Caller& who, std::shared_ptr<Session> session)
      : impl_(impl),
        session_(std::move(session)),
        sid_(impl->next_session_id_++),
        certified_(who.node),
        issued_(who.cert_issued_ms) {}

  bool OnMessage(pb::NodeMessage& msg) override {
    if (msg.has_register_()) {
      if (!name_.empty() && name_ != msg.register_().name()) return false;
      name_ = msg.register_().name();
      auto reg = std::make_shared<pb::Register>(std::move(*msg.mutable_register_()));
      impl_->Post([impl = impl_, session = session_, sid = sid_, reg, certified = certified_,
                   issued = issued_] { impl->DoRegister(session, sid, *reg, certified, issued); });
    } else if (name_.empty()) {
      return false;  // must register first
    }
    session_->Heard();  // a heartbeat is nothing more
    if (msg.has_reports()) {
      auto batch = std::make_shared<pb::ReportBatch>(std::move(*msg.mutable_reports()));
      impl_->Post(
          [impl = impl_, name = name_, sid = sid_, batch] { impl->DoReports(name, sid, *batch); });
    } else if (msg.has_draining()) {
      impl_->Post([impl = impl_, name = name_, sid = sid_] { impl->DoDraining(name, sid); });
    } else if (msg.has_exec()) {
      impl_->RouteExec(msg.exec());
    } else if (msg.has_fence()) {
      auto f = std::make_shared<pb::PmixFence>(std::move(*msg.mutable_fence()));
      impl_->Post(
          [impl = impl_, name = name_, sid = sid_, f] { impl->DoPmixFence(name, sid, *f); });
    } else if (msg.has_abort()) {
      auto a = std::make_shared<pb::PmixAbort>(std::move(*msg.mutable_abort()));
      impl_->Post(
          [impl = impl_, name = name_, sid = sid_, a] { impl->DoPmixAbort(name, sid, *a); });
    }
    return true;
  }

  void OnEnd() override {
    if (!name_.empty())
      impl_->Post([impl = impl_, name = name_, sid = sid_] { impl->DoSessionClosed(name, sid); });
  }

 private:
  Head::Impl* impl_;
  std::shared_ptr<Session> session_;
  uint64_t sid_;
  std::string certified_;  // the node its certificate names ("" without one)
  int64_t issued_;
  std::string name_;  // once registered
};

}  // namespace

std::unique_ptr<rpc::SessionIn> Head::OpenNodeSession(const rpc::Caller& who,
                                                      std::shared_ptr<rpc::SessionOut> out) {
  return std::make_unique<NodeSessionIn>(impl_.get(), who,
                                         std::make_shared<Session>(std::move(out)));
}

}  // namespace swell::head
