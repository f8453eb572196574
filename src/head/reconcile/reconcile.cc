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
  // The jobs in id order (as the head hands them over already): a group's id is its index
  // here, so the scheduler's tie-break (lower id first) stays the jobs', and a group's job is
  // found without a search (a lookup by id per blocked job was a seventh of a pass at 100,000).
  std::vector<const WaitingJob*> by_id;
  by_id.reserve(jobs.size());
  for (const auto& job : jobs) by_id.push_back(&job);
  auto lower_id = [](const WaitingJob* a, const WaitingJob* b) { return a->id < b->id; };
  if (!std::is_sorted(by_id.begin(), by_id.end(), lower_id))
    std::sort(by_id.begin(), by_id.end(), lower_id);
  std::vector<sched::Group> groups;
  groups.reserve(jobs.size());
  std::vector<const WaitingJob*> group_job;  // group_job[g.id]: group g's
  group_job.reserve(jobs.size());
  std::string why;
  for (const WaitingJob* job : by_id) {
    auto g = GroupOf(*job, &why);
    if (!g) {
      plan.reasons.push_back({job->id, why});
      continue;
    }
    g->id = group_job.size();
    group_job.push_back(job);
    groups.push_back(std::move(*g));
  }
  auto job_of = [&](uint64_t group) -> const WaitingJob& { return *group_job[group]; };
  // A job's reason, when the pass changed it (a job's gate above is said every pass: the
  // head watches gated jobs for their gate to lift).
  auto say = [&](const WaitingJob& job, const char* reason) {
    if (job.reason != reason) plan.reasons.push_back({job.id, reason});
  };
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
    for (const auto& g : groups) say(job_of(g.id), kResources);
    return plan;
  }
  sched::Decision d;
  if (routing.types == nullptr) {
    d = SchedulePartition(nodes, holds, usable, groups, now);
  } else {
    // One partition per node type: a job runs only on nodes of the type it is routed to.
    std::map<int, std::vector<sched::Group>> type_groups;
    Router route(routing);
    for (const auto& g : groups) {
      auto t = route(job_of(g.id));
      type_groups[t ? *t : -1].push_back(g);
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
    auto key = [&](const sched::Blocked& b) { return KeyOf(job_of(b.group)); };
    std::stable_sort(d.blocked.begin(), d.blocked.end(),
                     [&](const auto& a, const auto& b) { return key(a) < key(b); });
  }
  // The jobs that started units: each gets the empty reason once, unless it has units left
  // waiting (blocked), which keep theirs.
  std::vector<char> said(group_job.size(), 0);  // by group: blocked, or its empty reason given
  for (const auto& b : d.blocked) {
    const WaitingJob& job = job_of(b.group);
    said[b.group] = 1;
    const char* reason = b.reason == sched::Reason::kPriority ? kPriority : kResources;
    if (b.reason == sched::Reason::kPriority) plan.priority_blocked = true;
    for (const auto& name : job.shape.require)
      if (!is_usable(name)) reason = kReqNodeNotAvail;  // as Slurm: a -w node is down
    if (!plan.top_blocked) plan.top_blocked = KeyOf(job);
    say(job, reason);
  }
  for (auto& st : d.starts) {
    const WaitingJob& job = job_of(st.group);
    if (!said[st.group]) {
      said[st.group] = 1;
      plan.reasons.push_back({job.id, ""});
    }
    st.group = static_cast<uint64_t>(job.id);
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
