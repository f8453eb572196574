#include "head/autoscaler/autoscaler.h"

#include <algorithm>
#include <deque>
#include <tuple>
#include <utility>

namespace swell::head::autoscaler {

std::optional<int> Route(const std::vector<NodeType>& types, const Request& r,
                         const std::vector<bool>* allowed) {
  std::optional<int> best;
  auto key = [&](int i) {
    const NodeType& t = types[static_cast<size_t>(i)];
    return std::make_tuple(t.cpus, t.memory_mb, t.disk_gb, t.gpus, t.price_per_hour, i);
  };
  for (int i = 0; i < static_cast<int>(types.size()); ++i) {
    const NodeType& t = types[static_cast<size_t>(i)];
    if (allowed && !(*allowed)[static_cast<size_t>(i)]) continue;
    if (t.cpus < r.cpus || t.memory_mb < r.memory_mb || t.disk_gb < r.disk_gb || t.gpus < r.gpus)
      continue;
    if (!best || key(i) < key(*best)) best = i;
  }
  return best;
}

namespace {

// Per-type counts of a view.
struct Counts {
  int booting = 0, idle = 0, allocated = 0, deleting = 0;
  int64_t pending_nodes = 0;
  int64_t widest = 0;  // the most nodes one pending job needs at once
  std::vector<const NodeView*> idle_nodes;
  int live() const { return booting + idle + allocated + deleting; }
};

std::vector<Counts> Count(const View& v) {
  std::vector<Counts> c(v.types->size());
  for (const auto& n : v.nodes) {
    if (n.type < 0 || n.type >= static_cast<int>(c.size())) continue;
    auto& k = c[static_cast<size_t>(n.type)];
    switch (n.state) {
      case NodeState::kBooting: ++k.booting; break;
      case NodeState::kIdle: ++k.idle, k.idle_nodes.push_back(&n); break;
      case NodeState::kAllocated: ++k.allocated; break;
      case NodeState::kDeleting: ++k.deleting; break;
    }
  }
  std::vector<int64_t> cpus(c.size(), 0);
  for (const auto& p : v.pending) {
    if (p.type < 0 || p.type >= static_cast<int>(c.size())) continue;
    auto& k = c[static_cast<size_t>(p.type)];
    k.widest = std::max<int64_t>(k.widest, p.nodes);
    if (p.nodes > 1) k.pending_nodes += p.nodes;
    else cpus[static_cast<size_t>(p.type)] += std::max(1, p.cpus);
  }
  for (size_t t = 0; t < c.size(); ++t) {
    int64_t per_node = std::max(1, (*v.types)[t].cpus);
    c[t].pending_nodes += (cpus[t] + per_node - 1) / per_node;
  }
  return c;
}

// Clamps creates to the per-type and total maximums.
void Clamp(const View& v, const std::vector<Counts>& c, int max_total, Action* a) {
  int total = 0;
  for (const auto& k : c) total += k.live();
  for (size_t t = 0; t < a->create.size(); ++t) {
    int& want = a->create[t];
    want = std::max(0, want);
    int type_max = (*v.types)[t].max_nodes;
    if (type_max > 0) want = std::min(want, std::max(0, type_max - c[t].live()));
    if (max_total > 0) want = std::min(want, std::max(0, max_total - total));
    total += want;
  }
}

int64_t CeilHalf(int64_t n) { return (n + 1) / 2; }

// Nodes the pending work needs beyond those idle or booting.
int Uncovered(const Counts& k) {
  return static_cast<int>(std::max<int64_t>(0, k.pending_nodes - k.idle - k.booting));
}

// Appends to `out` the ids of the `n` nodes of `nodes` that are earliest by `since`.
void TakeEarliest(std::vector<const NodeView*> nodes, Time NodeView::*since, int64_t n,
                  std::vector<int64_t>* out) {
  std::sort(nodes.begin(), nodes.end(), [since](auto* x, auto* y) {
    return std::tie(x->*since, x->id) < std::tie(y->*since, y->id);
  });
  for (int64_t i = 0; i < n && i < static_cast<int64_t>(nodes.size()); ++i)
    out->push_back(nodes[static_cast<size_t>(i)]->id);
}

// The stateless policies decide each type alone, from its counts: they return how many nodes of
// the type counted in `k` to create, and append to `remove` the ids of its idle nodes to delete.
using TypeRule = int (*)(const PolicyOptions& o, const View& v, const Counts& k,
                         std::vector<int64_t>* remove);

int ClicRule(const PolicyOptions& o, const View& v, const Counts& k, std::vector<int64_t>* remove) {
  if (k.pending_nodes > 0) {
    bool cold = k.booting == 0 && k.idle == 0 && k.allocated == 0;
    int64_t want = CeilHalf(k.pending_nodes) - (cold ? 0 : k.idle + k.booting);
    // Halving alone never reaches the size of a job that needs n nodes at once (1 of 2, then 0
    // more while that one idles): the widest waiting job is covered whole.
    want = std::max(want, k.widest - k.idle - k.booting);
    return static_cast<int>(std::max<int64_t>(0, want));
  }
  // Queue empty: half of the idle nodes old enough to go, oldest first.
  std::vector<const NodeView*> old;
  for (auto* n : k.idle_nodes)
    if (v.now - n->created >= o.min_lifetime) old.push_back(n);
  // CLIC's code halves the deletable ones (idle and old enough), rounding up.
  TakeEarliest(old, &NodeView::created, CeilHalf(static_cast<int64_t>(old.size())), remove);
  return 0;
}

int GreedyRule(const PolicyOptions&, const View&, const Counts& k, std::vector<int64_t>* remove) {
  if (k.pending_nodes == 0)
    for (auto* n : k.idle_nodes) remove->push_back(n->id);
  return Uncovered(k);
}

// Slurm's power saving: resume exactly the nodes the pending work needs; suspend a node once it
// has been idle for idle_timeout (SuspendTime), whatever else waits.
int PowerSaveRule(const PolicyOptions& o, const View& v, const Counts& k,
                  std::vector<int64_t>* remove) {
  // Idle nodes that pending work will take stay; of the others, those idle long enough go, the
  // longest idle first.
  std::vector<const NodeView*> expired;
  for (auto* n : k.idle_nodes)
    if (v.now - n->idle_since >= o.idle_timeout) expired.push_back(n);
  TakeEarliest(expired, &NodeView::idle_since, k.idle - k.pending_nodes, remove);
  return Uncovered(k);
}

// A stateless policy: its rule applied to each type, the creates clamped to the maximums.
class PerType final : public Policy {
 public:
  PerType(std::string name, TypeRule rule, PolicyOptions o)
      : name_(std::move(name)), rule_(rule), o_(o) {}
  std::string name() const override { return name_; }
  Action Decide(const View& v) override {
    Action a;
    a.create.assign(v.types->size(), 0);
    auto c = Count(v);
    for (size_t t = 0; t < c.size(); ++t) a.create[t] = rule_(o_, v, c[t], &a.remove);
    Clamp(v, c, o_.max_nodes, &a);
    return a;
  }

 private:
  const std::string name_;
  const TypeRule rule_;
  const PolicyOptions o_;
};

// Lookahead: see autoscaler.h for the rules and docs/autoscaler.md for why.
class Lookahead final : public Policy {
 public:
  explicit Lookahead(PolicyOptions o) : o_(o) {}
  std::string name() const override { return "lookahead"; }

  Action Decide(const View& v) override {
    const size_t types = v.types->size();
    Action a;
    a.create.assign(types, 0);
    if (state_.size() != types) state_.assign(types, {});
    Observe(v);
    auto c = Count(v);
    // Per type: when each booting or busy node will be free (ready time, or the end of its
    // work by the time limits), and the idle nodes.
    std::vector<std::vector<Time>> free_at(types);
    std::vector<std::vector<const NodeView*>> idle(types);
    for (const auto& n : v.nodes) {
      if (n.type < 0 || n.type >= static_cast<int>(types)) continue;
      const NodeType& type = (*v.types)[static_cast<size_t>(n.type)];
      auto& f = free_at[static_cast<size_t>(n.type)];
      if (n.state == NodeState::kBooting) f.push_back(std::max(v.now, n.created + type.boot));
      if (n.state == NodeState::kAllocated) f.push_back(std::max(v.now, n.busy_until));
      if (n.state == NodeState::kIdle) idle[static_cast<size_t>(n.type)].push_back(&n);
    }
    auto demands = Demands(v);
    for (size_t t = 0; t < types; ++t) {
      const NodeType& type = (*v.types)[t];
      const Duration fresh = type.boot + type.shutdown;
      std::sort(free_at[t].begin(), free_at[t].end());
      // Pending work, oldest first, node by node. Idle nodes take it at once; then, in the
      // order the scheduler will hand them out, nodes booting or finishing their work, as long
      // as one is free no later than a new node would be, or the job's wait stays within the
      // horizon where waiting still costs less than a new node's boot and shutdown.
      const Duration horizon = ReuseHorizon(type);
      const auto& d = demands[t];
      size_t next_free = 0;
      int64_t covered = std::min<int64_t>(static_cast<int64_t>(idle[t].size()),
                                          static_cast<int64_t>(d.size()));
      for (size_t i = static_cast<size_t>(covered); i < d.size(); ++i) {
        if (next_free < free_at[t].size()) {
          Time f = free_at[t][next_free];
          if (f <= v.now + type.boot || (f != kNever && f - d[i] <= horizon)) {
            ++next_free;
            continue;
          }
        }
        ++a.create[t];
      }
      // Idle nodes beyond the pending work stay only as long as the arrivals seen so far make
      // keeping them cheaper than a new boot and shutdown later (Keep).
      int64_t surplus = static_cast<int64_t>(idle[t].size()) - static_cast<int64_t>(d.size());
      if (surplus <= 0) {
        state_[t].kept = 0;
        continue;
      }
      // Nodes that will be free anyway by a coming arrival serve it first.
      int64_t keep = Keep(t, v.now, type, fresh, free_at[t], surplus);
      state_[t].kept = keep;
      std::vector<const NodeView*> go = idle[t];
      TakeEarliest(go, &NodeView::idle_since, surplus - keep, &a.remove);
    }
    Clamp(v, c, o_.max_nodes, &a);
    return a;
  }

 private:
  // One instant at which work arrived for a type, and how many nodes it needed.
  struct Arrival {
    Time at;
    double nodes = 0;
  };
  struct TypeState {
    int64_t arrived = -1;  // the view's count at the last call; -1 before the first
    Time last_submit;      // without counts: the newest submission seen
    double cpus_per_job = 1;
    std::deque<Arrival> history;
    int64_t kept = 0;  // idle nodes kept at the last call (hysteresis)
  };
  static constexpr size_t kHistory = 64;

  // How long a job may wait for a node that is finishing (or booting) rather than have a new
  // one: waiting w seconds costs wait_weight * w; a new node costs its boot and shutdown
  // (billed) and the job waits its boot anyway.
  Duration ReuseHorizon(const NodeType& type) const {
    if (o_.wait_weight <= 0) return std::chrono::hours(24 * 365);
    auto extra = std::chrono::duration<double>(type.boot + type.shutdown).count() / o_.wait_weight;
    return type.boot + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(extra));
  }

  // Records arrivals per type: from the view's counts when it has them (they include jobs an
  // idle node took at once, which never queue), else from queued jobs submitted since the last
  // call.
  void Observe(const View& v) {
    const size_t types = state_.size();
    std::vector<int64_t> cpus(types, 0), jobs(types, 0), fresh(types, 0);
    std::vector<Time> newest(types, Time{});
    for (const auto& p : v.pending) {
      if (p.type < 0 || p.type >= static_cast<int>(types)) continue;
      size_t t = static_cast<size_t>(p.type);
      cpus[t] += std::max(1, p.cpus) * std::max(1, p.nodes);
      ++jobs[t];
      if (p.submitted > state_[t].last_submit) {
        ++fresh[t];
        newest[t] = std::max(newest[t], p.submitted);
      }
    }
    for (size_t t = 0; t < types; ++t) {
      TypeState& s = state_[t];
      if (jobs[t] > 0)  // what queued jobs need tells how many a node holds
        s.cpus_per_job = 0.8 * s.cpus_per_job + 0.2 * double(cpus[t]) / double(jobs[t]);
      int64_t n = 0;
      if (t < v.arrived.size()) {
        n = s.arrived < 0 ? v.arrived[t] : v.arrived[t] - s.arrived;
        s.arrived = v.arrived[t];
      } else {
        n = fresh[t];
        if (fresh[t] > 0) s.last_submit = newest[t];
      }
      if (n <= 0) continue;
      double per_node = std::max(1.0, (*v.types)[t].cpus / std::max(1.0, s.cpus_per_job));
      s.history.push_back({v.now, double(n) / per_node});
      if (s.history.size() > kHistory) s.history.pop_front();
    }
  }

  // Pending work per type as node-sized demands, oldest first: each carries the submit time
  // of the oldest job in it. Jobs that fit one node are packed by cpus.
  static std::vector<std::vector<Time>> Demands(const View& v) {
    const size_t types = v.types->size();
    std::vector<std::vector<const Pending*>> by_type(types);
    for (const auto& p : v.pending)
      if (p.type >= 0 && p.type < static_cast<int>(types))
        by_type[static_cast<size_t>(p.type)].push_back(&p);
    std::vector<std::vector<Time>> out(types);
    for (size_t t = 0; t < types; ++t) {
      auto& q = by_type[t];
      std::stable_sort(q.begin(), q.end(),
                       [](auto* x, auto* y) { return x->submitted < y->submitted; });
      const int64_t per_node = std::max(1, (*v.types)[t].cpus);
      int64_t room = 0;  // cpus left on the last demand
      for (const Pending* p : q) {
        if (p->nodes > 1) {
          for (int k = 0; k < p->nodes; ++k) out[t].push_back(p->submitted);
          continue;
        }
        int64_t need = std::max(1, p->cpus);
        if (room >= need) {
          room -= need;
          continue;
        }
        out[t].push_back(p->submitted);
        room = std::max<int64_t>(0, per_node - need);
      }
    }
    return out;
  }

  // How many of `surplus` idle nodes of type `t` to keep for arrivals to come. For each gap
  // between arrivals seen lately that is longer than the time since the last arrival, the
  // next arrival would come `r` from now and need the nodes that arrival needed. Keeping the
  // k-th idle node until then costs r; it saves a new node's boot and shutdown plus the wait
  // for its boot (wait_weight) when that arrival needs k nodes beyond those that will be free
  // by then anyway. A node is kept while the mean over those gaps saves more than it costs;
  // one kept at the last call goes only once that mean loses a tenth of a new node's cost.
  int64_t Keep(size_t t, Time now, const NodeType& type, Duration fresh,
               const std::vector<Time>& free_at, int64_t surplus) {
    const TypeState& s = state_[t];
    if (s.history.size() < 2) return 0;
    using Secs = std::chrono::duration<double>;
    const double window = Secs(fresh).count() + o_.wait_weight * Secs(type.boot).count();
    if (window <= 0) return 0;
    const double since = Secs(now - s.history.back().at).count();
    struct Case {
      double r;       // seconds from now to that arrival
      double beyond;  // nodes it needs beyond those free by then
    };
    std::vector<Case> cases;
    for (size_t i = 1; i < s.history.size(); ++i) {
      double gap = Secs(s.history[i].at - s.history[i - 1].at).count();
      if (gap <= since) continue;  // that long a gap has already passed
      double r = gap - since;
      auto by_then = std::upper_bound(free_at.begin(), free_at.end(),
                                      now + std::chrono::duration_cast<Duration>(Secs(r)));
      double free = static_cast<double>(by_then - free_at.begin());
      cases.push_back({r, s.history[i].nodes - free});
    }
    if (cases.empty()) return 0;
    int64_t keep = 0;
    for (int64_t k = 1; k <= surplus; ++k) {
      double net = 0;
      // Needed: saves the window, costs the wait (an arrival two windows away or more counts as
      // a full window lost). Not needed: costs the idle time, at most a window (it would be
      // deleted by then).
      for (const Case& c : cases)
        net += c.beyond >= double(k) - 0.5 ? window - std::min(c.r, 2 * window)
                                           : -std::min(c.r, window);
      net /= static_cast<double>(cases.size());
      double bar = k <= s.kept ? -0.1 * window : 0;
      if (net <= bar) break;
      keep = k;
    }
    return keep;
  }

  PolicyOptions o_;
  std::vector<TypeState> state_;
};

}  // namespace

std::unique_ptr<Policy> MakeClic(const PolicyOptions& options) {
  return std::make_unique<PerType>("clic", ClicRule, options);
}

std::unique_ptr<Policy> MakeGreedy(const PolicyOptions& options) {
  return std::make_unique<PerType>("greedy", GreedyRule, options);
}

Result<std::unique_ptr<Policy>> MakePolicy(const std::string& name, const PolicyOptions& options) {
  if (name == "clic") return MakeClic(options);
  if (name == "greedy") return MakeGreedy(options);
  if (name == "powersave")
    return std::unique_ptr<Policy>(std::make_unique<PerType>("powersave", PowerSaveRule, options));
  if (name == "lookahead") return std::unique_ptr<Policy>(std::make_unique<Lookahead>(options));
  if (name == "oracle")
    return InvalidArgument(
        "policy 'oracle' is clairvoyant: it needs every arrival and run time in advance, so "
        "only the simulator (swell sim) can run it");
  return InvalidArgument("unknown policy '" + name +
                         "' (known: clic, greedy, powersave, lookahead)");
}

}  // namespace swell::head::autoscaler
