// The elastic driver: routing jobs to node types, autoscaler turns, the pool's records, and
// provider calls on their own threads.

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/log.h"
#include "head/head_impl.h"
#include "head/state/pool_record.h"

namespace swell::head {

namespace sched = scheduler;
namespace as = autoscaler;
using state::JobRow;
using state::TaskRow;

int Head::Impl::TypeIndex(const std::string& name) const {
  if (!pool_ || name.empty()) return -1;
  const auto& types = pool_->types();
  for (size_t i = 0; i < types.size(); ++i)
    if (types[i].name == name) return static_cast<int>(i);
  return -1;
}

std::optional<int> Head::Impl::JobType(const Job& job, Time now) const {
  return reconcile::RouteJob(WaitingOf(job), Routing(now));
}

bool Head::Impl::PoolNodeUsable(const std::string& name) const {
  const auto* pn = pool_->Find(name);
  if (pn == nullptr) return true;  // a static node
  return pn->phase == elastic::Phase::kIdle || pn->phase == elastic::Phase::kAllocated;
}

bool Head::Impl::IsSpotNode(const std::string& name) const {
  if (!pool_) return false;
  const auto* pn = pool_->Find(name);
  return pn != nullptr && pool_->types()[static_cast<size_t>(pn->type)].spot;
}

void Head::Impl::Autoscale(Time now) {
  std::vector<reconcile::Node> nodes;
  std::vector<reconcile::Hold> holds;
  ClusterNodes(now, &nodes, &holds);
  auto busy = reconcile::BusyUntil(holds, nodes.size());
  std::map<std::string, std::optional<Time>> busy_by_name;
  for (size_t i = 0; i < nodes.size(); ++i) busy_by_name[nodes[i].name] = busy[i];
  auto state = [&](const elastic::PoolNode& pn) {
    reconcile::PoolNodeState st;
    auto nit = nodes_.find(pn.name);
    st.connected = nit != nodes_.end() && nit->second.up;
    auto b = busy_by_name.find(pn.name);
    if (b != busy_by_name.end()) st.busy_until = b->second;
    return st;
  };
  auto routing = Routing(now);
  RefreshWaiting(touched_);
  const auto& waiting = waiting_.jobs();
  auto turn = reconcile::Autoscale(*pool_, *policy_, state, reconcile::Demand(waiting, routing),
                                   arrived_, now);
  AddCalls(std::move(turn.calls));
  if (now >= next_list_ && !list_running_) {
    list_running_ = true;
    next_list_ = now + opt_.elastic->list_interval;
    auto provider = opt_.elastic->provider;
    RunProvider([this, provider] {
      auto listed = provider->List();
      Post([this, listed = std::move(listed)] {
        list_running_ = false;
        if (!listed.ok()) {
          LogWarning("head: provider list failed: %s", listed.status().ToString().c_str());
          return;
        }
        AddCalls(pool_->Reconcile(*listed, clock_->Now()));
      });
    });
  }
}

void Head::Impl::SyncPool(Time now) {
  for (const auto& name : pool_->TakeDirty()) {
    const auto* pn = pool_->Find(name);
    if (pn == nullptr) continue;
    state::PoolRow r = ToPoolRow(*pn, pool_->types());
    Write(store_->PutPoolNode(r));
    Changed();
    auto nit = nodes_.find(name);
    switch (pn->phase) {
      case elastic::Phase::kDraining:
      case elastic::Phase::kDeleting:
        if (nit != nodes_.end() && !nit->second.draining) {
          nit->second.draining = true;  // no new work; it goes once it runs nothing
          sched_dirty_ = true;
        }
        break;
      case elastic::Phase::kFailed:
        // Its work goes back to the queue (or fails) now, not after node_timeout.
        if (nit != nodes_.end() && nit->second.up) NodeFailed(nit->second, now, pn->reason);
        break;
      case elastic::Phase::kGone:
        if (nit != nodes_.end()) {
          // Deleted while idle: nothing of it to fail; its session just ends.
          if (nit->second.up && pn->failed) NodeFailed(nit->second, now, pn->reason);
          if (nit->second.session) nit->second.session->Close();
          nit->second.row.state = "GONE";
          Write(store_->PutNode(nit->second.row));
          nodes_.erase(nit);
          NodesChanged();
        }
        Event(now, pn->failed ? "node_failed" : "node_deleted", 0, name, pn->reason);
        LogInfo("head: elastic node %s is gone%s%s", name.c_str(), pn->failed ? ": " : "",
                pn->failed ? pn->reason.c_str() : "");
        break;
      case elastic::Phase::kRequested:
        Event(now, "node_requested", 0, name, r.type);
        break;
      default:
        break;
    }
  }
}

void Head::Impl::StartCalls() {
  auto calls = std::move(calls_);
  calls_.clear();
  auto provider = opt_.elastic->provider;
  for (auto& c : calls) {
    as::NodeType type = pool_->types()[static_cast<size_t>(c.type)];
    RunProvider([this, provider, c, type] {
      Status s = c.kind == elastic::Call::kCreate ? provider->Create(c.name, type)
                                                  : provider->Delete(c.name);
      Post([this, c, s] {
        Time now = clock_->Now();
        const char* what = c.kind == elastic::Call::kCreate ? "create" : "delete";
        if (!s.ok()) {
          LogWarning("head: provider %s of %s failed: %s", what, c.name.c_str(),
                     s.ToString().c_str());
          Event(now, std::string(what) + "_failed", 0, c.name, s.message());
        }
        AddCalls(c.kind == elastic::Call::kCreate ? pool_->CreateDone(c.name, s, now)
                                                  : pool_->DeleteDone(c.name, s, now));
      });
    });
  }
}

}  // namespace swell::head
