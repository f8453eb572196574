#include "head/node_registration.h"

#include <set>
#include <tuple>

namespace swell::head {

namespace {
const Job* Find(const std::map<int64_t, Job>& jobs, int64_t id) {
  auto it = jobs.find(id);
  return it == jobs.end() ? nullptr : &it->second;
}
}  // namespace

Settlement SettleRegistration(const pb::Register& reg, const std::map<int64_t, Job>& jobs,
                              const std::map<int64_t, Lease>& leases) {
  Settlement out;
  const std::string& name = reg.name();
  // What the node has, by (job, pos, attempt).
  std::set<std::tuple<int64_t, int64_t, int>> has;
  for (const auto& k : reg.running()) has.insert({k.job_id(), k.pos(), k.attempt()});
  for (const auto& k : reg.queued()) has.insert({k.job_id(), k.pos(), k.attempt()});
  for (const auto& rep : reg.unacked())
    has.insert({rep.key().job_id(), rep.key().pos(), rep.key().attempt()});
  for (const auto& list : {reg.running(), reg.queued()}) {
    for (const auto& k : list) {
      const Job* job = Find(jobs, k.job_id());
      bool current = false;
      if (job) {
        auto it = job->live.find(k.pos());
        current =
            it != job->live.end() && it->second.attempt == k.attempt() && it->second.node == name;
      }
      if (!current) out.kill.push_back(k);
    }
  }
  for (const auto& [lid, l] : leases) {
    const Job* job = Find(jobs, l.job_id);
    if (!job) continue;
    pb::Cancel cancel;
    for (auto pos : l.positions) {
      const Task& t = job->live.at(pos);
      if (t.node != name) continue;  // another node's rank, or not there
      if (!has.count({job->row.id, pos, t.attempt}))
        out.lost.emplace_back(job->row.id, pos);
      else if (t.cancel_requested || job->row.rest_cancelled)
        cancel.add_positions(pos), cancel.add_attempts(t.attempt);
    }
    if (cancel.positions_size() > 0) {
      cancel.set_job_id(job->row.id);
      out.cancels.push_back(std::move(cancel));
    }
  }
  return out;
}

std::vector<int64_t> LeasesOnNode(const std::map<int64_t, Lease>& leases, const std::string& node) {
  std::vector<int64_t> ids;
  for (const auto& [lid, l] : leases) {
    bool on_node = l.node == node;
    for (const auto& unit : l.units)
      for (const auto& sh : unit) on_node = on_node || sh.node == node;
    if (on_node) ids.push_back(lid);
  }
  return ids;
}

}  // namespace swell::head
