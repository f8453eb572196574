#include "head/reconcile/reconcile.h"

#include <algorithm>
#include <limits>
#include <map>
#include <string_view>
#include <unordered_map>

namespace swell::head::reconcile {

namespace as = autoscaler;
namespace sched = scheduler;

autoscaler::Request NodeRequest(const Shape& shape) {
  const int64_t nodes = std::max(1, shape.min_nodes);
  const int64_t ntasks = std::max(1, shape.ntasks);
  as::Request r;
  // The most tasks any node of the allocation gets when they are spread evenly (no node type
  // holds more than INT_MAX cpus: a larger count saturates there).
  const int64_t cpus = std::max(1, shape.cpus_per_task) * ((ntasks + nodes - 1) / nodes);
  r.cpus = static_cast<int>(std::min<int64_t>(cpus, std::numeric_limits<int>::max()));
  r.memory_mb = shape.mem_mb;
  r.gpus = shape.gpus;
  return r;
}

std::vector<std::string_view> PartitionNames(std::string_view partition) {
  std::vector<std::string_view> out;
  for (size_t at = 0; at < partition.size();) {
    size_t end = std::min(partition.find(',', at), partition.size());
    out.push_back(partition.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

std::optional<int> RouteJob(const WaitingJob& job, const Routing& routing) {
  if (routing.types == nullptr) return std::nullopt;
  const auto& types = *routing.types;
  as::Request need = NodeRequest(job.shape);
  if (!job.partition.empty()) {
    // One name (swell's own jobs), or Slurm's list of partitions a job may run in (what
    // swell's job_submit.lua gives: every type that fits, smallest first).
    std::vector<int> listed;
    for (std::string_view name : PartitionNames(job.partition))
      for (size_t i = 0; i < types.size(); ++i)
        if (types[i].name == name) listed.push_back(static_cast<int>(i));
    if (listed.size() <= 1) return listed.empty() ? std::nullopt : std::optional(listed[0]);
    // Of a list, the first type not backed off that fits; else the first that fits.
    auto fits = [&](int t) { return as::Route({types[static_cast<size_t>(t)]}, need).has_value(); };
    for (int t : listed)
      if ((routing.usable.empty() || routing.usable[static_cast<size_t>(t)]) && fits(t)) return t;
    for (int t : listed)
      if (fits(t)) return t;
    return listed[0];
  }
  bool avoid_spot = job.restarts >= routing.max_preemptions;
  std::vector<bool> allowed(types.size(), true);
  for (size_t i = 0; i < types.size(); ++i)
    allowed[i] = (routing.usable.empty() || routing.usable[i]) && !(avoid_spot && types[i].spot);
  if (auto t = as::Route(types, need, &allowed)) return t;
  return as::Route(types, need);
}

namespace {

// RouteJob for many jobs: jobs that ask the same of a node route the same way.
class Router {
 public:
  explicit Router(const Routing& routing) : routing_(routing) {}
  std::optional<int> operator()(const WaitingJob& job) {
    if (!job.partition.empty()) return RouteJob(job, routing_);
    as::Request r = NodeRequest(job.shape);
    auto key = std::make_tuple(r.cpus, r.memory_mb, r.gpus,
                               job.restarts >= routing_.max_preemptions);
    auto it = memo_.find(key);
    if (it == memo_.end()) it = memo_.emplace(key, RouteJob(job, routing_)).first;
    return it->second;
  }

 private:
  const Routing& routing_;
  std::map<std::tuple<int, int64_t, int, bool>, std::optional<int>> memo_;
};

// The jobs of a pass by id: a sorted vector, built once (the head hands them over in id order
// already). A hash map of 100,000 entries per pass, and a tree of the blocked ones, were a
// seventh of a loaded head's cpu (docs/BENCHMARKS.md, "The head at scale").
class JobsById {
 public:
  explicit JobsById(size_t n) { v_.reserve(n); }
  void Add(const WaitingJob& job) { v_.emplace_back(job.id, &job); }
  void Seal() {
    auto by_id = [](const auto& a, const auto& b) { return a.first < b.first; };
    if (!std::is_sorted(v_.begin(), v_.end(), by_id)) std::sort(v_.begin(), v_.end(), by_id);
  }
  const WaitingJob& at(uint64_t group) const {
    const auto id = static_cast<int64_t>(group);
    return *std::lower_bound(v_.begin(), v_.end(), id,
                             [](const auto& e, int64_t v) { return e.first < v; })
                ->second;
  }

 private:
  std::vector<std::pair<int64_t, const WaitingJob*>> v_;
};

}  // namespace

OrderKey KeyOf(const WaitingJob& job) {
  return {-job.priority, ToMillis(job.submit), job.id};
}

std::optional<scheduler::Group> GroupOf(const WaitingJob& job, std::string* reason) {
  reason->clear();
  if (!job.gate.empty()) {
    *reason = job.gate;
    return std::nullopt;
  }
  int64_t units = job.one_allocation ? std::min<int64_t>(job.units, 1) : job.units;
  if (job.max_running > 0) {
    int64_t left = job.max_running - job.held;
    if (left <= 0) {
      *reason = kArrayTaskLimit;
      return std::nullopt;
    }
    units = std::min(units, left);
  }
  const Shape& s = job.shape;
  sched::Group g;
  g.id = static_cast<uint64_t>(job.id);
  g.priority = job.priority;
  g.submit_time = job.submit;
  g.units = static_cast<int>(std::min<int64_t>(units, 1 << 30));
  g.ntasks = std::max(1, s.ntasks);
  g.cpus_per_task = std::max(1, s.cpus_per_task);
  g.mem_mb = s.mem_mb;
  g.gpus = s.gpus;
  g.min_nodes = std::max(1, s.min_nodes);
  g.max_nodes = s.max_nodes;
  g.time_limit = s.time_limit;
  g.require = s.require;
  g.exclude = s.exclude;
  g.exclusive = s.exclusive;
  return g;
}

namespace {

// Schedules `groups` on the usable nodes `subset` (indices into `nodes`), with the holds on
// them; maps the starts' node indices back to `nodes`.
sched::Decision SchedulePartition(const std::vector<Node>& nodes, const std::vector<Hold>& holds,
                                  const std::vector<int>& subset,
                                  const std::vector<sched::Group>& groups, Time now) {
  std::vector<sched::Node> sub;
  sub.reserve(subset.size());
  std::vector<int> local(nodes.size(), -1);  // index into nodes -> index into sub
  for (int i : subset) {
    local[static_cast<size_t>(i)] = static_cast<int>(sub.size());
    const Node& n = nodes[static_cast<size_t>(i)];
    sub.push_back({n.name, n.total, {}});
  }
  std::vector<sched::Release> rel;
  rel.reserve(holds.size());
  for (Hold h : holds) {
    if (h.node < 0 || static_cast<size_t>(h.node) >= nodes.size()) continue;
    int l = local[static_cast<size_t>(h.node)];
    if (l < 0) continue;
    sub[static_cast<size_t>(l)].used += h.res;
    h.node = l;
    rel.push_back(h);
  }
  auto d = sched::Schedule(sub, rel, groups, now);
  for (auto& st : d.starts)
    for (auto& sh : st.shares) sh.node = subset[static_cast<size_t>(sh.node)];
  return d;
}

}  // namespace

Plan Schedule(const std::vector<Node>& nodes, const std::vector<Hold>& holds,
              const std::vector<WaitingJob>& jobs, const Routing& routing, Time now) {
  Plan plan;
  plan.reasons.reserve(jobs.size());
  JobsById by_id(jobs.size());
  std::vector<sched::Group> groups;
  groups.reserve(jobs.size());
  std::vector<const WaitingJob*> group_job;  // group_job[i]: groups[i]'s
  group_job.reserve(jobs.size());
  std::string why;
  for (const auto& job : jobs) {
    auto g = GroupOf(job, &why);
    if (!g) {
      plan.reasons.push_back({job.id, why});
      continue;
    }
    by_id.Add(job);
    group_job.push_back(&job);
    groups.push_back(std::move(*g));
  }
  by_id.Seal();
  // The usable nodes, and per type the indices of its usable nodes.
  std::vector<int> usable;
  std::map<int, std::vector<int>> type_nodes;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!nodes[i].usable) continue;
    usable.push_back(static_cast<int>(i));
    type_nodes[nodes[i].type].push_back(static_cast<int>(i));
  }
  auto is_usable = [&](const std::string& name) {
    for (int i : usable)
      if (nodes[static_cast<size_t>(i)].name == name) return true;
    return false;
  };
  if (groups.empty()) return plan;
  if (usable.empty()) {
    for (const auto& g : groups) plan.reasons.push_back({static_cast<int64_t>(g.id), kResources});
    return plan;
  }
  sched::Decision d;
  if (routing.types == nullptr) {
    d = SchedulePartition(nodes, holds, usable, groups, now);
  } else {
    // One partition per node type: a job runs only on nodes of the type it is routed to.
    std::map<int, std::vector<sched::Group>> type_groups;
    Router route(routing);
    for (size_t i = 0; i < groups.size(); ++i) {
      auto t = route(*group_job[i]);
      type_groups[t ? *t : -1].push_back(groups[i]);
    }
    for (auto& [t, gs] : type_groups) {
      auto nit = type_nodes.find(t);
      if (t < 0 || nit == type_nodes.end()) {
        for (const auto& g : gs) d.blocked.push_back({g.id, sched::Reason::kResources, g.units});
        continue;
      }
      auto part = SchedulePartition(nodes, holds, nit->second, gs, now);
      for (auto& st : part.starts) d.starts.push_back(std::move(st));
      for (const auto& b : part.blocked) d.blocked.push_back(b);
    }
    // The blocked groups of all partitions, in order (the first one is the top).
    auto key = [&](const sched::Blocked& b) { return KeyOf(by_id.at(b.group)); };
    std::stable_sort(d.blocked.begin(), d.blocked.end(),
                     [&](const auto& a, const auto& b) { return key(a) < key(b); });
  }
  // The jobs that started units: each gets the empty reason once, unless it has units left
  // waiting (blocked), which keep theirs.
  std::vector<int64_t> started;
  started.reserve(d.starts.size());
  for (const auto& st : d.starts) started.push_back(static_cast<int64_t>(st.group));
  std::sort(started.begin(), started.end());
  started.erase(std::unique(started.begin(), started.end()), started.end());
  std::vector<char> said(started.size(), 0);  // blocked, or its empty reason given
  auto started_at = [&](int64_t id) -> char* {
    auto it = std::lower_bound(started.begin(), started.end(), id);
    return it != started.end() && *it == id ? &said[static_cast<size_t>(it - started.begin())]
                                            : nullptr;
  };
  for (const auto& b : d.blocked) {
    const WaitingJob& job = by_id.at(b.group);
    if (char* s = started_at(job.id)) *s = 1;
    std::string reason = b.reason == sched::Reason::kPriority ? kPriority : kResources;
    if (b.reason == sched::Reason::kPriority) plan.priority_blocked = true;
    for (const auto& name : job.shape.require)
      if (!is_usable(name)) reason = kReqNodeNotAvail;  // as Slurm: a -w node is down
    if (!plan.top_blocked) plan.top_blocked = KeyOf(job);
    plan.reasons.push_back({job.id, reason});
  }
  for (const auto& st : d.starts) {
    const auto id = static_cast<int64_t>(st.group);
    if (char* s = started_at(id); s != nullptr && *s == 0) {
      *s = 1;
      plan.reasons.push_back({id, ""});
    }
  }
  plan.starts = std::move(d.starts);
  return plan;
}

std::vector<autoscaler::Pending> Demand(const std::vector<WaitingJob>& jobs,
                                        const Routing& routing) {
  constexpr int64_t kMaxPendingUnits = 100000;  // per job: beyond that it changes nothing
  std::vector<as::Pending> out;
  if (routing.types == nullptr) return out;
  Router route(routing);
  for (const auto& job : jobs) {
    if (job.units <= 0 || !job.gate.empty()) continue;
    // Waiting for resources; or no reason at all: the scheduler started some of the job's
    // units in its last pass (an array) and the rest wait too. Throttled arrays wait for their
    // own slots, not for nodes.
    if (!job.reason.empty() && job.reason != kResources && job.reason != kPriority) continue;
    // A job bound to named nodes (-w) waits for those: no new node can serve it.
    if (!job.shape.require.empty()) continue;
    auto t = route(job);
    if (!t) continue;
    as::Pending p;
    p.type = *t;
    p.submitted = job.submit;
    p.nodes = std::max(1, job.shape.min_nodes);
    p.cpus = NodeRequest(job.shape).cpus;
    // An exclusive job takes whole nodes: it is not packed with others.
    if (job.shape.exclusive) p.cpus = (*routing.types)[static_cast<size_t>(*t)].cpus;
    p.time_limit = job.shape.time_limit;
    int64_t units = std::min(job.units, kMaxPendingUnits);
    if (job.one_allocation) units = std::min<int64_t>(units, 1);
    if (job.max_running > 0) units = std::min<int64_t>(units, job.max_running - job.held);
    for (int64_t u = 0; u < units; ++u) out.push_back(p);
  }
  return out;
}

std::vector<std::optional<Time>> BusyUntil(const std::vector<Hold>& holds, size_t nodes_count) {
  std::vector<std::optional<Time>> busy(nodes_count);
  for (const auto& h : holds) {
    if (h.node < 0 || static_cast<size_t>(h.node) >= nodes_count) continue;
    auto& b = busy[static_cast<size_t>(h.node)];
    b = b ? std::max(*b, h.end) : h.end;
  }
  return busy;
}

Turn Autoscale(elastic::Pool& pool, autoscaler::Policy& policy,
               const std::function<PoolNodeState(const elastic::PoolNode& node)>& state,
               std::vector<autoscaler::Pending> pending, std::vector<int64_t> arrived, Time now) {
  Turn turn;
  auto add = [&](std::vector<elastic::Call> calls) {
    for (auto& c : calls) turn.calls.push_back(std::move(c));
  };
  // SetBusy changes a node's phase (and may start its delete) but never adds or removes one.
  std::unordered_map<int64_t, Time> busy_by_id;
  for (const auto& [name, pn] : pool.nodes()) {
    if (pn.phase == elastic::Phase::kGone) continue;
    PoolNodeState st = state(pn);
    if (st.busy_until) busy_by_id[pn.id] = *st.busy_until;
    if (pn.phase != elastic::Phase::kIdle && pn.phase != elastic::Phase::kAllocated &&
        pn.phase != elastic::Phase::kDraining)
      continue;
    // Registered but not connected now: neither idle nor busy until it is back or failed.
    if (!st.connected) continue;
    // Only a change is news to the pool (an idle node busy, a busy or draining one idle).
    bool busy = st.busy_until.has_value();
    bool idle = pn.phase == elastic::Phase::kIdle;
    if (busy ? idle : !idle) add(pool.SetBusy(name, busy, now));
  }
  as::View v;
  v.now = now;
  v.types = &pool.types();
  v.nodes = pool.View();
  for (auto& nv : v.nodes) {
    auto it = busy_by_id.find(nv.id);
    if (it != busy_by_id.end()) nv.busy_until = it->second;
  }
  v.pending = std::move(pending);
  v.arrived = std::move(arrived);
  turn.action = policy.Decide(v);
  add(pool.Apply(turn.action, now));
  add(pool.Tick(now));
  return turn;
}

std::vector<bool> UsableTypes(const elastic::Pool& pool, Time now) {
  std::vector<bool> usable(pool.types().size());
  for (size_t i = 0; i < usable.size(); ++i) usable[i] = pool.Usable(static_cast<int>(i), now);
  return usable;
}

}  // namespace swell::head::reconcile
