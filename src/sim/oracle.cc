#include "sim/oracle.h"

#include <algorithm>
#include <numeric>
#include <tuple>

#include "head/scheduler/scheduler.h"

namespace swell::sim {

namespace as = head::autoscaler;
using Resources = head::scheduler::Resources;

namespace {

// A life being planned: its jobs still running at the current arrival and what they use.
struct Open {
  size_t life = 0;
  std::vector<std::pair<Time, Resources>> running;  // (end, use)
  Resources used;
  // Drops the jobs that ended by `t`.
  void Advance(Time t) {
    for (size_t k = 0; k < running.size();) {
      if (running[k].first <= t) {
        used -= running[k].second;
        running[k] = running.back();
        running.pop_back();
      } else {
        ++k;
      }
    }
  }
};

}  // namespace

std::vector<Life> PlanLives(const std::vector<SimJob>& jobs, const std::vector<as::NodeType>& types,
                            const std::vector<int>& type_of) {
  std::vector<size_t> order(jobs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return jobs[a].submit < jobs[b].submit; });
  std::vector<Life> lives;
  // Per type, the lives that could still take a job: running, or idle for less than a new
  // boot plus shutdown would cost (older ones can never win again and are dropped).
  std::vector<std::vector<Open>> open(types.size());
  for (size_t ji : order) {
    const SimJob& j = jobs[ji];
    size_t t = static_cast<size_t>(type_of[ji]);
    const as::NodeType& type = types[t];
    const Resources total{type.cpus, type.memory_mb, type.gpus};
    const Resources need{j.need.cpus, j.need.memory_mb, j.need.gpus};
    const Duration fresh = type.boot + type.shutdown;  // what a new life costs beyond the run
    const Time a = j.submit, done = j.submit + j.run;
    auto& cands = open[t];
    std::erase_if(cands, [&](const Open& o) { return lives[o.life].end + fresh <= a; });
    Open* best = nullptr;
    std::tuple<Duration, int, size_t> best_key{};
    for (Open& o : cands) {
      o.Advance(a);
      if (!(o.used + need).FitsIn(total)) continue;
      const Time end = lives[o.life].end;
      // The node time this job adds to the life: whatever lies past its planned end (for an
      // idle life that is the gap plus the run).
      Duration added = std::max(end, done) - end;
      if (added >= fresh + j.run) continue;  // a new node is no dearer
      auto key = std::make_tuple(added, total.cpus - (o.used + need).cpus, o.life);
      if (best == nullptr || key < best_key) best = &o, best_key = key;
    }
    if (best == nullptr) {
      lives.push_back({static_cast<int>(t), a - type.boot, done, {}});
      cands.push_back({lives.size() - 1, {}, {}});
      best = &cands.back();
    }
    Life& life = lives[best->life];
    life.end = std::max(life.end, done);
    life.jobs.push_back(ji);
    best->running.push_back({done, need});
    best->used += need;
  }
  return lives;
}

Duration PlanNodeTime(const std::vector<Life>& lives, const std::vector<as::NodeType>& types) {
  Duration sum{0};
  for (const Life& l : lives) sum += l.end - l.create + types[static_cast<size_t>(l.type)].shutdown;
  return sum;
}

Oracle::Oracle(const std::vector<SimJob>& jobs, const std::vector<as::NodeType>& types,
               const std::vector<int>& type_of)
    : lives_(PlanLives(jobs, types, type_of)), steps_(types.size()) {
  std::vector<std::vector<std::pair<Time, int>>> deltas(types.size());
  for (const Life& l : lives_) {
    deltas[static_cast<size_t>(l.type)].push_back({l.create, 1});
    deltas[static_cast<size_t>(l.type)].push_back({l.end, -1});
    changes_.push_back(l.create);
    changes_.push_back(l.end);
  }
  // steps_[t]: the planned level from each instant on.
  for (size_t t = 0; t < types.size(); ++t) {
    std::sort(deltas[t].begin(), deltas[t].end());
    int level = 0;
    for (const auto& [at, d] : deltas[t]) {
      level += d;
      if (!steps_[t].empty() && steps_[t].back().first == at)
        steps_[t].back().second = level;
      else
        steps_[t].push_back({at, level});
    }
  }
  std::sort(changes_.begin(), changes_.end());
  changes_.erase(std::unique(changes_.begin(), changes_.end()), changes_.end());
}

int Oracle::Target(size_t type, Time t) const {
  const auto& s = steps_[type];
  auto it = std::upper_bound(s.begin(), s.end(), t,
                             [](Time x, const std::pair<Time, int>& p) { return x < p.first; });
  return it == s.begin() ? 0 : std::prev(it)->second;
}

as::Action Oracle::Decide(const as::View& v) {
  as::Action a;
  size_t types = v.types->size();
  a.create.assign(types, 0);
  std::vector<int> live(types, 0), spare(types, 0);
  std::vector<std::vector<const as::NodeView*>> idle(types);
  for (const auto& n : v.nodes) {
    if (n.type < 0 || n.type >= static_cast<int>(types)) continue;
    if (n.state == as::NodeState::kDeleting) continue;
    ++live[static_cast<size_t>(n.type)];
    if (n.state == as::NodeState::kIdle) idle[static_cast<size_t>(n.type)].push_back(&n);
    if (n.state != as::NodeState::kAllocated) ++spare[static_cast<size_t>(n.type)];
  }
  // Work still queued at a decision is work the plan did not foresee: with packing, the
  // scheduler can fill nodes differently from the plan. Like greedy, cover it with nodes of
  // its own rather than let it wait for the plan's next node.
  std::vector<int64_t> queued_cpus(types, 0);
  for (const auto& p : v.pending)
    if (p.type >= 0 && p.type < static_cast<int>(types))
      queued_cpus[static_cast<size_t>(p.type)] += std::max(1, p.cpus) * std::max(1, p.nodes);
  for (size_t t = 0; t < types && t < steps_.size(); ++t) {
    int64_t per_node = std::max(1, (*v.types)[t].cpus);
    int unplanned = static_cast<int>((queued_cpus[t] + per_node - 1) / per_node) - spare[t];
    int want = Target(t, v.now);
    a.create[t] = std::max({0, want - live[t], unplanned});
    // Surplus idle nodes go, the longest idle first (any idle node serves as well).
    std::sort(idle[t].begin(), idle[t].end(), [](auto* x, auto* y) {
      return std::tie(x->idle_since, x->id) < std::tie(y->idle_since, y->id);
    });
    for (int k = 0; k < live[t] - want && k < static_cast<int>(idle[t].size()); ++k)
      a.remove.push_back(idle[t][static_cast<size_t>(k)]->id);
  }
  auto next = std::upper_bound(changes_.begin(), changes_.end(), v.now);
  if (next != changes_.end()) a.wake = *next;
  return a;
}

}  // namespace swell::sim
