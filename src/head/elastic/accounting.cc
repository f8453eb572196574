#include "head/elastic/accounting.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "common/stats.h"

namespace swell::head::elastic {

namespace {

constexpr double kMsPerHour = 3600.0 * 1000.0;

}  // namespace

Usage Account(const std::vector<PaidNode>& nodes, const std::vector<UsedTask>& tasks) {
  Usage u;
  std::map<std::string, const PaidNode*> by_name;
  std::vector<std::pair<int64_t, int>> edges;  // (time, +1/-1) for nodes_max
  for (const auto& n : nodes) {
    by_name[n.name] = &n;
    double hours = static_cast<double>(std::max<int64_t>(0, n.to_ms - n.from_ms)) / kMsPerHour;
    u.node_hours += hours;
    u.cost += hours * n.price_per_hour;
    ++u.scale_ups;
    if (n.deleted) ++u.scale_downs;
    edges.push_back({n.from_ms, +1});
    edges.push_back({n.to_ms, -1});
  }
  std::sort(edges.begin(), edges.end());  // at equal times the -1 comes first
  int alive = 0;
  for (const auto& [t, d] : edges) u.nodes_max = std::max(u.nodes_max, alive += d);

  std::vector<double> waits;
  std::set<int64_t> jobs;
  std::map<std::string, std::set<int64_t>> user_jobs;
  double charged_on_paid = 0, paid_work = 0;
  for (const auto& t : tasks) {
    double hours = static_cast<double>(std::max<int64_t>(0, t.end_ms - t.start_ms)) / kMsPerHour;
    auto it = by_name.find(t.node);
    double share = 1, price = 0;
    if (it != by_name.end()) {
      share = std::min(1.0, static_cast<double>(t.cpus) / std::max(1, it->second->cpus));
      price = it->second->price_per_hour;
    }
    double work = hours * share;
    u.job_hours += work;
    if (it != by_name.end()) paid_work += work, charged_on_paid += work * price;
    waits.push_back(static_cast<double>(std::max<int64_t>(0, t.start_ms - t.submit_ms)) / 1000.0);
    jobs.insert(t.job_id);
    UserUsage& uu = u.users[t.user];
    ++uu.tasks;
    uu.job_hours += work;
    uu.cost += work * price;
    user_jobs[t.user].insert(t.job_id);
  }
  for (auto& [user, ids] : user_jobs) u.users[user].jobs = static_cast<int64_t>(ids.size());
  u.jobs = static_cast<int64_t>(jobs.size());
  u.tasks = static_cast<int64_t>(tasks.size());
  // Work on static nodes is not paid for: efficiency counts the pool's nodes only.
  u.efficiency = u.node_hours > 0 ? paid_work / u.node_hours : 0;
  u.overhead_cost = std::max(0.0, u.cost - charged_on_paid);
  u.wait_p50_s = Percentile(waits, 0.50);
  u.wait_p95_s = Percentile(waits, 0.95);
  u.wait_max_s = waits.empty() ? 0 : *std::max_element(waits.begin(), waits.end());
  return u;
}

// Every field, by its own name (swell stats reads them).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(UserUsage, jobs, tasks, job_hours, cost)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Usage, jobs, tasks, job_hours, node_hours, efficiency,
                                   wait_p50_s, wait_p95_s, wait_max_s, cost, overhead_cost,
                                   nodes_max, scale_ups, scale_downs, users)

std::string ToJson(const Usage& u) { return nlohmann::json(u).dump(); }

}  // namespace swell::head::elastic
