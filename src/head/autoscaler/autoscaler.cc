#include "head/autoscaler/autoscaler.h"

#include <algorithm>
#include <tuple>

namespace swell::head::autoscaler {

std::optional<int> Route(const std::vector<NodeType>& types, const Request& r) {
  std::optional<int> best;
  auto key = [&](int i) {
    const NodeType& t = types[static_cast<size_t>(i)];
    return std::make_tuple(t.cpus, t.memory_mb, t.disk_gb, t.gpus, t.price_per_hour, i);
  };
  for (int i = 0; i < static_cast<int>(types.size()); ++i) {
    const NodeType& t = types[static_cast<size_t>(i)];
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
    if (p.nodes > 1) c[static_cast<size_t>(p.type)].pending_nodes += p.nodes;
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

class Clic final : public Policy {
 public:
  explicit Clic(PolicyOptions o) : o_(o) {}
  std::string name() const override { return "clic"; }
  Action Decide(const View& v) override {
    Action a;
    a.create.assign(v.types->size(), 0);
    auto c = Count(v);
    for (size_t t = 0; t < c.size(); ++t) {
      const Counts& k = c[t];
      if (k.pending_nodes > 0) {
        bool cold = k.booting == 0 && k.idle == 0 && k.allocated == 0;
        int64_t want = CeilHalf(k.pending_nodes) - (cold ? 0 : k.idle + k.booting);
        a.create[t] = static_cast<int>(std::max<int64_t>(0, want));
      } else if (k.idle > 0) {
        // Queue empty: half of the idle nodes old enough to go, oldest first.
        std::vector<const NodeView*> old;
        for (auto* n : k.idle_nodes)
          if (v.now - n->created >= o_.min_lifetime) old.push_back(n);
        // CLIC's code halves the deletable ones (idle and old enough), rounding up.
        TakeEarliest(old, &NodeView::created, CeilHalf(static_cast<int64_t>(old.size())),
                     &a.remove);
      }
    }
    Clamp(v, c, o_.max_nodes, &a);
    return a;
  }

 private:
  PolicyOptions o_;
};

class Greedy final : public Policy {
 public:
  explicit Greedy(PolicyOptions o) : o_(o) {}
  std::string name() const override { return "greedy"; }
  Action Decide(const View& v) override {
    Action a;
    a.create.assign(v.types->size(), 0);
    auto c = Count(v);
    for (size_t t = 0; t < c.size(); ++t) {
      const Counts& k = c[t];
      a.create[t] = Uncovered(k);
      if (k.pending_nodes == 0)
        for (auto* n : k.idle_nodes) a.remove.push_back(n->id);
    }
    Clamp(v, c, o_.max_nodes, &a);
    return a;
  }

 private:
  PolicyOptions o_;
};

// Slurm's power saving: resume exactly the nodes the pending work needs; suspend a node once it
// has been idle for idle_timeout (SuspendTime), whatever else waits.
class PowerSave final : public Policy {
 public:
  explicit PowerSave(PolicyOptions o) : o_(o) {}
  std::string name() const override { return "powersave"; }
  Action Decide(const View& v) override {
    Action a;
    a.create.assign(v.types->size(), 0);
    auto c = Count(v);
    for (size_t t = 0; t < c.size(); ++t) {
      const Counts& k = c[t];
      a.create[t] = Uncovered(k);
      // Idle nodes that pending work will take stay; of the others, those idle long enough go,
      // the longest idle first.
      std::vector<const NodeView*> expired;
      for (auto* n : k.idle_nodes)
        if (v.now - n->idle_since >= o_.idle_timeout) expired.push_back(n);
      TakeEarliest(expired, &NodeView::idle_since, k.idle - k.pending_nodes, &a.remove);
    }
    Clamp(v, c, o_.max_nodes, &a);
    return a;
  }

 private:
  PolicyOptions o_;
};

}  // namespace

std::unique_ptr<Policy> MakeClic(const PolicyOptions& options) {
  return std::make_unique<Clic>(options);
}

std::unique_ptr<Policy> MakeGreedy(const PolicyOptions& options) {
  return std::make_unique<Greedy>(options);
}

Result<std::unique_ptr<Policy>> MakePolicy(const std::string& name, const PolicyOptions& options) {
  if (name == "clic") return MakeClic(options);
  if (name == "greedy") return MakeGreedy(options);
  if (name == "powersave") return std::unique_ptr<Policy>(std::make_unique<PowerSave>(options));
  if (name == "oracle")
    return InvalidArgument(
        "policy 'oracle' is clairvoyant: it needs every arrival and run time in advance, so "
        "only the simulator (swell sim) can run it");
  return InvalidArgument("unknown policy '" + name + "' (known: clic, greedy, powersave)");
}

}  // namespace swell::head::autoscaler
