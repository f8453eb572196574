#include "head/scheduler/scheduler.h"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <tuple>
#include <utility>

namespace swell::head::scheduler {
namespace {

Resources Min(const Resources& a, const Resources& b) {
  return {std::min(a.cpus, b.cpus), std::min(a.mem_mb, b.mem_mb), std::min(a.gpus, b.gpus)};
}

// `r` with every dimension clamped into [0, cap].
Resources ClampTo(const Resources& r, const Resources& cap) {
  return {std::clamp(r.cpus, 0, std::max(cap.cpus, 0)),
          std::clamp(r.mem_mb, int64_t{0}, std::max(cap.mem_mb, int64_t{0})),
          std::clamp(r.gpus, 0, std::max(cap.gpus, 0))};
}

Resources NonNegative(const Resources& r) {
  return {std::max(r.cpus, 0), std::max(r.mem_mb, int64_t{0}), std::max(r.gpus, 0)};
}

// `copies` times `r`; the caller guarantees the result fits the dimensions' types.
Resources Times(const Resources& r, int64_t copies) {
  return {static_cast<int>(r.cpus * copies), r.mem_mb * copies, static_cast<int>(r.gpus * copies)};
}

int64_t UnitCpus(const Group& g) { return int64_t{g.ntasks} * g.cpus_per_task; }

bool SingleNodeOnly(const Group& g) { return g.gpus > 0 || g.max_nodes == 1; }

// When a unit started at `now` with `limit` ends; kNever for no limit, saturating on overflow.
Time EndTime(Time now, Duration limit) {
  if (limit == kInfinite) return kNever;
  limit = std::max(limit, Duration::zero());
  if (now > kNever - limit) return kNever;
  return now + limit;
}

// The checks on a group's shape that do not depend on any node.
Status ValidateShape(const Group& g) {
  if (g.ntasks < 1)
    return InvalidArgument(fmt::format("ntasks must be at least 1 (got {})", g.ntasks));
  if (g.cpus_per_task < 1) {
    return InvalidArgument(
        fmt::format("cpus_per_task must be at least 1 (got {})", g.cpus_per_task));
  }
  if (g.mem_mb < 0)
    return InvalidArgument(fmt::format("mem_mb must not be negative (got {})", g.mem_mb));
  if (g.gpus < 0) return InvalidArgument(fmt::format("gpus must not be negative (got {})", g.gpus));
  if (g.min_nodes < 1) {
    return InvalidArgument(fmt::format("min_nodes must be at least 1 (got {})", g.min_nodes));
  }
  if (g.max_nodes < 0) {
    return InvalidArgument(fmt::format("max_nodes must not be negative (got {})", g.max_nodes));
  }
  if (g.max_nodes > 0 && g.max_nodes < g.min_nodes) {
    return InvalidArgument(
        fmt::format("max_nodes ({}) is less than min_nodes ({})", g.max_nodes, g.min_nodes));
  }
  if (g.min_nodes > g.ntasks) {
    return InvalidArgument(
        fmt::format("min_nodes ({}) is more than ntasks ({}); every node needs at least one task",
                    g.min_nodes, g.ntasks));
  }
  if (g.gpus > 0 && g.min_nodes > 1) {
    return InvalidArgument(
        fmt::format("a unit with gpus must run on one node, but min_nodes is {}", g.min_nodes));
  }
  if (g.time_limit < Duration::zero()) return InvalidArgument("time_limit must not be negative");
  const std::set<std::string> required(g.require.begin(), g.require.end());
  if (g.max_nodes > 0 && required.size() > static_cast<size_t>(g.max_nodes)) {
    return InvalidArgument(fmt::format("{} nodes are required but max_nodes is {}",
                                       required.size(), g.max_nodes));
  }
  if (required.size() > static_cast<size_t>(g.ntasks)) {
    return InvalidArgument(
        fmt::format("{} nodes are required but there are only {} tasks; every node needs one",
                    required.size(), g.ntasks));
  }
  if (g.gpus > 0 && required.size() > 1)
    return InvalidArgument("a unit with gpus must run on one node, but several are required");
  for (const std::string& name : g.exclude) {
    if (required.count(name))
      return InvalidArgument(fmt::format("node {} is both required and excluded", name));
  }
  return Status::Ok();
}

// Where the units of one group may go: its node names resolved against the nodes at hand.
struct Fence {
  std::vector<char> allowed;  // per node; empty: every node
  std::vector<int> required;  // node indices, ascending, no repeats
  bool exclusive = false;
  bool unknown_required = false;  // a required name is not among the nodes

  bool Allows(int node) const { return allowed.empty() || allowed[node] != 0; }
  bool Requires(int node) const {
    return std::binary_search(required.begin(), required.end(), node);
  }
};

// `name_of(i)` is the name of node i of `count`; it is only called when `g` names nodes.
template <typename NameOf>
Fence MakeFence(const Group& g, size_t count, NameOf name_of) {
  Fence f;
  f.exclusive = g.exclusive;
  if (g.require.empty() && g.exclude.empty()) return f;
  const std::set<std::string> excluded(g.exclude.begin(), g.exclude.end());
  std::set<std::string> wanted(g.require.begin(), g.require.end());
  f.allowed.assign(count, 1);
  for (size_t i = 0; i < count; ++i) {
    const std::string& name = name_of(i);
    if (excluded.count(name)) f.allowed[i] = 0;
    if (wanted.erase(name)) f.required.push_back(static_cast<int>(i));
  }
  f.unknown_required = !wanted.empty();
  return f;
}

// Free resources per node, indexed by free cpus so that best-fit and most-free-first searches
// start at the right node instead of scanning all of them. Values are never negative.
class Pool {
 public:
  // `totals` (what each node has, for exclusive units) must outlive the pool.
  Pool(std::vector<Resources> free, const std::vector<Resources>* totals)
      : free_(std::move(free)), totals_(totals) {
    for (int i = 0; i < size(); ++i) {
      by_cpus_.emplace(free_[i].cpus, i);
      free_cpus_ += free_[i].cpus;
    }
  }

  int size() const { return static_cast<int>(free_.size()); }
  const Resources& free(int node) const { return free_[node]; }
  const std::vector<Resources>& all() const { return free_; }

  void Set(int node, const Resources& r) {
    by_cpus_.erase({free_[node].cpus, node});
    free_cpus_ += r.cpus - free_[node].cpus;
    free_[node] = r;
    by_cpus_.emplace(r.cpus, node);
  }

  // Finds where one unit of valid group `g` goes (see Schedule() for the rules). Returns false
  // if it fits nowhere. Fills `shares`, ordered by node index, and changes nothing else.
  bool Place(const Group& g, const Fence& fence, std::vector<Share>* shares) const {
    shares->clear();
    if (fence.unknown_required) return false;
    if (g.min_nodes <= 1 && fence.required.size() <= 1 && PlaceOnOneNode(g, fence, shares))
      return true;
    if (SingleNodeOnly(g)) return false;
    return Spread(g, fence, shares);
  }

  // How many copies of `res` (cpus > 0) fit on `node`.
  int64_t CopiesThatFit(int node, const Resources& res) const {
    const Resources& f = free_[node];
    int64_t copies = f.cpus / res.cpus;
    if (res.mem_mb > 0) copies = std::min(copies, f.mem_mb / res.mem_mb);
    if (res.gpus > 0) copies = std::min<int64_t>(copies, f.gpus / res.gpus);
    return copies;
  }

 private:
  // Whether the fence lets the unit use `node` at all: not excluded, and for an exclusive unit
  // nothing running there.
  bool Usable(int node, const Fence& fence) const {
    return fence.Allows(node) && (!fence.exclusive || free_[node] == (*totals_)[node]);
  }

  // What a unit takes on `node` when its tasks there need `need`: all of it when exclusive.
  Resources Take(int node, const Resources& need, const Fence& fence) const {
    return fence.exclusive ? (*totals_)[node] : need;
  }

  // Best fit: the node with the fewest free cpus that still holds the whole unit (the required
  // node, if there is one).
  bool PlaceOnOneNode(const Group& g, const Fence& fence, std::vector<Share>* shares) const {
    const int64_t cpus = UnitCpus(g);
    if (cpus > INT_MAX) return false;
    const Resources need{static_cast<int>(cpus), g.mem_mb, g.gpus};
    auto fits = [&](int node) {
      if (!Usable(node, fence) || !need.FitsIn(free_[node])) return false;
      shares->push_back({node, g.ntasks, Take(node, need, fence)});
      return true;
    };
    if (!fence.required.empty()) return fits(fence.required.front());
    for (auto it = by_cpus_.lower_bound({need.cpus, -1}); it != by_cpus_.end(); ++it) {
      if (fits(it->second)) return true;
    }
    return false;
  }

  // Whole tasks over several nodes, the required ones first, then most free cpus first; even
  // when min_nodes > 1.
  bool Spread(const Group& g, const Fence& fence, std::vector<Share>* shares) const {
    const int64_t cpt = g.cpus_per_task;
    if (UnitCpus(g) > free_cpus_) return false;
    const size_t max_nodes = g.max_nodes > 0 ? static_cast<size_t>(g.max_nodes) : SIZE_MAX;
    const size_t min_nodes = static_cast<size_t>(std::max(g.min_nodes, 1));
    struct Pick {
      int node;
      int64_t capacity;  // whole tasks the node can take
      int64_t tasks = 0;
    };
    std::vector<Pick> picks;
    int64_t capacity = 0;
    for (int node : fence.required) {
      const Resources& f = free_[node];
      if (!Usable(node, fence) || f.cpus < cpt || f.mem_mb < g.mem_mb) return false;
      picks.push_back({node, f.cpus / cpt});
      capacity += picks.back().capacity;
    }
    // Beyond the required nodes, the first k nodes in this order hold the most tasks any k
    // nodes can, so if they cannot hold the unit within max_nodes, no choice of nodes can.
    if (capacity < g.ntasks || picks.size() < min_nodes) {
      VisitMostFreeFirst([&](int node) {
        const Resources& f = free_[node];
        if (f.cpus < cpt) return false;  // every later node has even fewer free cpus
        // Nodes that cannot host any part of the unit, or that are already picked.
        if (f.mem_mb < g.mem_mb || !Usable(node, fence) || fence.Requires(node)) return true;
        if (picks.size() == max_nodes) return false;
        picks.push_back({node, f.cpus / cpt});
        capacity += picks.back().capacity;
        return capacity < g.ntasks || picks.size() < min_nodes;
      });
    }
    if (capacity < g.ntasks || picks.size() < min_nodes) return false;

    int64_t left = g.ntasks;
    if (min_nodes <= 1) {
      // Fill: every pick but the last is needed in full, so each gets at least one task.
      for (Pick& p : picks) {
        p.tasks = std::min(p.capacity, left);
        left -= p.tasks;
      }
    } else {
      // Even: the smallest picks first, each taking at most its fair share of what is left.
      // The larger picks after it can always absorb the rest, and each gets at least one task
      // because picks.size() <= ntasks (ValidateShape and the stop rule above).
      std::vector<Pick*> by_capacity;
      for (Pick& p : picks) by_capacity.push_back(&p);
      std::stable_sort(by_capacity.begin(), by_capacity.end(),
                       [](const Pick* a, const Pick* b) { return a->capacity < b->capacity; });
      int64_t nodes_left = static_cast<int64_t>(picks.size());
      for (Pick* p : by_capacity) {
        p->tasks = std::min(p->capacity, (left + nodes_left - 1) / nodes_left);
        left -= p->tasks;
        --nodes_left;
      }
    }
    for (const Pick& p : picks) {
      const Resources need{static_cast<int>(p.tasks * cpt), g.mem_mb, 0};
      shares->push_back({p.node, static_cast<int>(p.tasks), Take(p.node, need, fence)});
    }
    std::sort(shares->begin(), shares->end(),
              [](const Share& a, const Share& b) { return a.node < b.node; });
    return true;
  }

  // Calls visit(node) in order of most free cpus first, ties to the lower index, until it
  // returns false.
  template <typename Visit>
  void VisitMostFreeFirst(Visit visit) const {
    auto end = by_cpus_.end();
    while (end != by_cpus_.begin()) {
      const int cpus = std::prev(end)->first;
      const auto begin = by_cpus_.lower_bound({cpus, -1});
      for (auto it = begin; it != end; ++it) {
        if (!visit(it->second)) return;
      }
      end = begin;
    }
  }

  std::vector<Resources> free_;
  const std::vector<Resources>* totals_;
  std::set<std::pair<int, int>> by_cpus_;  // (free cpus, node index)
  int64_t free_cpus_ = 0;                  // sum over nodes, for a quick reject
};

// A release on a valid node, clamped to the node's total.
struct TimedRelease {
  Time end;
  int node;
  Resources res;
};

std::vector<Resources> Totals(const std::vector<Node>& nodes) {
  std::vector<Resources> totals;
  totals.reserve(nodes.size());
  for (const Node& n : nodes) totals.push_back(NonNegative(n.total));
  return totals;
}

std::vector<Resources> FreeNow(const std::vector<Node>& nodes) {
  std::vector<Resources> free;
  free.reserve(nodes.size());
  for (const Node& n : nodes) {
    const Resources total = NonNegative(n.total);
    free.push_back(total - ClampTo(n.used, total));
  }
  return free;
}

// One call of Schedule(): the free resources as units are decided, and the reservation.
class Pass {
 public:
  Pass(const std::vector<Node>& nodes, const std::vector<Release>& releases, Time now,
       const Options& options)
      : nodes_(nodes),
        now_(now),
        options_(options),
        totals_(Totals(nodes)),
        empty_(totals_, &totals_),
        free_(FreeNow(nodes), &totals_) {

    releases_.reserve(releases.size());
    for (const Release& r : releases) {
      if (r.node < 0 || r.node >= static_cast<int>(nodes.size())) continue;
      releases_.push_back({r.end, r.node, ClampTo(r.res, totals_[r.node])});
    }
  }

  Decision Run(const std::vector<Group>& groups) {
    std::vector<const Group*> order;
    order.reserve(groups.size());
    for (const Group& g : groups) {
      if (g.units > 0) order.push_back(&g);
    }
    auto before = [](const Group* a, const Group* b) {
      if (a->priority != b->priority) return a->priority > b->priority;
      if (a->submit_time != b->submit_time) return a->submit_time < b->submit_time;
      return a->id < b->id;
    };
    // A queue of equal priorities comes in submission order already: checked in one sweep.
    if (!std::is_sorted(order.begin(), order.end(), before))
      std::sort(order.begin(), order.end(), before);

    bool blocked_seen = false;
    for (const Group* g : order) {
      shape_ = g->require.empty() && g->exclude.empty() ? &shapes_[ShapeOf(*g)] : nullptr;
      // A unit of this shape no longer fits what is free: its units wait for resources, as the
      // placements below would find (none starts on free_ or on long_, which is less).
      if (shape_ != nullptr && shape_->full) {
        Block(*g, Reason::kResources, g->units);
        continue;
      }
      fence_ = MakeFence(*g, nodes_.size(), [&](size_t i) -> const std::string& {
        return nodes_[i].name;
      });
      // Work that cannot run here at all must not hold up the rest of the cluster.
      if (!ValidateShape(*g).ok() || !CanPlace(empty_, *g)) {
        if (shape_ != nullptr) shape_->full = true;
        Block(*g, Reason::kResources, g->units);
        continue;
      }
      if (blocked_seen && !options_.backfill) {
        Block(*g, CanPlace(free_, *g) ? Reason::kPriority : Reason::kResources, g->units);
        continue;
      }
      const int left = g->units - StartUnits(*g);
      if (left == 0) continue;
      if (!blocked_seen) {
        blocked_seen = true;
        Block(*g, Reason::kResources, left);
        Reserve(*g);
        continue;
      }
      // Backfill stopped: by the reservation if the unit fits on what is free right now.
      Block(*g, CanPlace(free_, *g) ? Reason::kPriority : Reason::kResources, left);
    }
    return std::move(decision_);
  }

 private:
  // What a unit needs, for units that name no nodes (-w, -x): those of one shape place alike.
  using Shape = std::tuple<int, int, int64_t, int, int, int, bool>;
  static Shape ShapeOf(const Group& g) {
    return {g.ntasks, g.cpus_per_task, g.mem_mb, g.gpus, g.min_nodes, g.max_nodes, g.exclusive};
  }
  struct ShapeSeen {
    // A unit of the shape did not fit free_ (or could never run here). Free resources only
    // shrink during a pass and placement needs more of them to keep succeeding (see Reserve),
    // so none of the shape fits for the rest of the pass: a long queue of a few shapes on a
    // full cluster costs a placement per shape, not three per job.
    bool full = false;
  };

  bool CanPlace(const Pool& pool, const Group& g) {
    ++decision_.placement_attempts;
    const bool placed = pool.Place(g, fence_, &scratch_);
    if (!placed && &pool == &free_ && shape_ != nullptr) shape_->full = true;
    return placed;
  }

  void Block(const Group& g, Reason reason, int units_left) {
    decision_.blocked.push_back({g.id, reason, units_left});
  }

  // Starts as many units of `g` as fit without delaying the reservation; returns how many.
  // Units are identical and free resources only shrink during a pass, so the first unit that
  // does not fit ends the group. A single-node unit's best-fit node stays the best fit until it
  // is full, so all the copies it holds are taken at once: the cost is one placement per node
  // filled, not one per unit.
  int StartUnits(const Group& g) {
    const Time end = EndTime(now_, g.time_limit);
    const bool past_shadow = reserved_ && (end == kNever || end > shadow_);
    const Pool& pool = past_shadow ? *long_ : free_;
    int started = 0;
    while (started < g.units) {
      if (!CanPlace(pool, g)) break;
      int64_t copies = 1;
      if (scratch_.size() == 1 && !g.exclusive) {
        copies = std::min<int64_t>(g.units - started,
                                   pool.CopiesThatFit(scratch_[0].node, scratch_[0].res));
      }
      for (const Share& s : scratch_) Commit(s.node, Times(s.res, copies), past_shadow, end);
      for (int64_t i = 0; i < copies; ++i) decision_.starts.push_back({g.id, scratch_});
      started += static_cast<int>(copies);
    }
    return started;
  }

  // Takes `res` on `node` for units ending at `end` (after the shadow time if `past_shadow`).
  void Commit(int node, const Resources& res, bool past_shadow, Time end) {
    free_.Set(node, free_.free(node) - res);
    if (!reserved_) {
      releases_.push_back({end, node, res});
      return;
    }
    if (!holds_[node]) {
      long_->Set(node, free_.free(node));
      return;
    }
    if (past_shadow) spare_[node] -= res;
    long_->Set(node, Min(free_.free(node), spare_[node]));
  }

  // What is free once every release up to and including the `count` earliest has happened.
  std::vector<Resources> FreeAfter(size_t count) const {
    std::vector<Resources> free = free_.all();
    for (size_t i = 0; i < count; ++i) {
      const TimedRelease& r = releases_[i];
      const Resources& cap = totals_[r.node];
      Resources& f = free[r.node];
      f.cpus += std::min(r.res.cpus, cap.cpus - f.cpus);
      f.mem_mb += std::min(r.res.mem_mb, cap.mem_mb - f.mem_mb);
      f.gpus += std::min(r.res.gpus, cap.gpus - f.gpus);
    }
    return free;
  }

  // EASY: finds the shadow time of the next unit of `g`, the first blocked group, and holds
  // the resources that unit would use then. Free resources only grow as releases happen and
  // placement only needs more free resources to keep succeeding, so "fits after the k-th
  // distinct end time" is monotone in k and a binary search finds the earliest.
  void Reserve(const Group& g) {
    std::sort(releases_.begin(), releases_.end(),
              [](const TimedRelease& a, const TimedRelease& b) { return a.end < b.end; });
    std::vector<size_t> cuts;  // cuts[k]: how many releases end at or before the k-th end time
    for (size_t i = 0; i < releases_.size(); ++i) {
      if (i + 1 == releases_.size() || releases_[i + 1].end != releases_[i].end) {
        cuts.push_back(i + 1);
      }
    }
    auto fits_after = [&](size_t k) { return CanPlace(Pool(FreeAfter(cuts[k]), &totals_), g); };
    // If it does not fit even after every release (e.g. usage the caller gave no release
    // for), there is no reservation and backfill goes on unconstrained, as in Slurm.
    if (cuts.empty() || !fits_after(cuts.size() - 1)) return;
    size_t lo = 0;
    size_t hi = cuts.size() - 1;
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if (fits_after(mid)) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    const std::vector<Resources> at_shadow = FreeAfter(cuts[lo]);
    Pool(at_shadow, &totals_).Place(g, fence_, &scratch_);
    const Time end = releases_[cuts[lo] - 1].end;

    reserved_ = true;
    shadow_ = std::max(end, now_);
    decision_.reservation_group = g.id;
    // At kNever the unit waits on work with no limit: there is no time to report, but its
    // resources stay held against units with no limit (see StartUnits).
    if (end != kNever) decision_.reservation_time = shadow_;
    spare_.assign(totals_.size(), Resources{});
    holds_.assign(totals_.size(), false);
    std::vector<Resources> long_free = free_.all();
    for (const Share& s : scratch_) {
      holds_[s.node] = true;
      spare_[s.node] = at_shadow[s.node] - s.res;
      long_free[s.node] = Min(long_free[s.node], spare_[s.node]);
    }
    long_.emplace(std::move(long_free), &totals_);
  }

  const std::vector<Node>& nodes_;
  const Time now_;
  const Options options_;
  const std::vector<Resources> totals_;
  Fence fence_;       // of the group being decided
  const Pool empty_;  // every node empty: whether a unit could ever run here
  Pool free_;         // free now, less the units decided so far
  // Until the reservation is made: the caller's releases and those of the units started.
  std::vector<TimedRelease> releases_;

  // The reservation, once made. A unit that ends after the shadow time may only use what
  // the reserved unit leaves on its nodes at the shadow time (spare_); one that ends by then
  // gives everything back first.
  bool reserved_ = false;
  Time shadow_ = kNever;
  std::vector<bool> holds_;       // per node: the reserved unit uses it
  std::vector<Resources> spare_;  // per held node: free at the shadow time beyond the unit
  std::optional<Pool> long_;      // free now, capped by spare_ on held nodes

  Decision decision_;
  std::vector<Share> scratch_;  // the last placement found
  std::map<Shape, ShapeSeen> shapes_;
  ShapeSeen* shape_ = nullptr;  // of the group being decided; null when it names nodes
};

}  // namespace

const char* ReasonName(Reason reason) {
  static constexpr const char* kNames[] = {"None", "Resources", "Priority"};  // by Reason
  static_assert(std::size(kNames) == static_cast<size_t>(Reason::kPriority) + 1);
  auto i = static_cast<size_t>(reason);
  return i < std::size(kNames) ? kNames[i] : "Unknown";
}

Decision Schedule(const std::vector<Node>& nodes, const std::vector<Release>& releases,
                  const std::vector<Group>& groups, Time now, const Options& options) {
  return Pass(nodes, releases, now, options).Run(groups);
}

Status CheckFeasible(const std::vector<Resources>& node_totals, const Group& g,
                     const std::vector<std::string>& names) {
  SWELL_RETURN_IF_ERROR(ValidateShape(g));
  if (node_totals.empty()) return InvalidArgument("there are no nodes to run on");
  if (!names.empty() && names.size() != node_totals.size())
    return InvalidArgument("one name per node is needed");
  const Fence fence = MakeFence(g, names.size(), [&](size_t i) -> const std::string& {
    return names[i];
  });
  if (fence.unknown_required) return InvalidArgument("a required node is not among the nodes");
  std::vector<Resources> totals;
  totals.reserve(node_totals.size());
  Resources largest;
  for (const Resources& t : node_totals) {
    totals.push_back(NonNegative(t));
    largest.cpus = std::max(largest.cpus, totals.back().cpus);
    largest.mem_mb = std::max(largest.mem_mb, totals.back().mem_mb);
    largest.gpus = std::max(largest.gpus, totals.back().gpus);
  }
  std::vector<Share> shares;
  if (Pool(totals, &totals).Place(g, fence, &shares)) return Status::Ok();
  if (!g.require.empty() || !g.exclude.empty())
    return InvalidArgument("does not fit on the nodes it may use (-w/--nodelist, -x/--exclude)");

  // Explain why, from the most basic reason on.
  const int64_t cpus = UnitCpus(g);
  if (SingleNodeOnly(g)) {
    if (cpus > largest.cpus) {
      return InvalidArgument(
          fmt::format("needs {} cpus on one node; the largest node has {}", cpus, largest.cpus));
    }
    if (g.mem_mb > largest.mem_mb) {
      return InvalidArgument(
          fmt::format("needs {} MB of memory on one node; the largest node has {} MB", g.mem_mb,
                      largest.mem_mb));
    }
    if (g.gpus > largest.gpus) {
      return InvalidArgument(
          fmt::format("needs {} gpus on one node; the largest node has {}", g.gpus, largest.gpus));
    }
    return InvalidArgument(fmt::format(
        "needs {} cpus, {} MB of memory and {} gpus on one node; no node has all of them", cpus,
        g.mem_mb, g.gpus));
  }
  if (g.cpus_per_task > largest.cpus) {
    return InvalidArgument(fmt::format(
        "needs {} cpus per task on one node (a task cannot span nodes); the largest node has {}",
        g.cpus_per_task, largest.cpus));
  }
  if (g.mem_mb > largest.mem_mb) {
    return InvalidArgument(
        fmt::format("needs {} MB of memory on each node it uses; the largest node has {} MB",
                    g.mem_mb, largest.mem_mb));
  }
  std::vector<int64_t> capacities;  // whole tasks each qualifying node can hold
  for (const Resources& t : totals) {
    if (t.cpus >= g.cpus_per_task && t.mem_mb >= g.mem_mb) {
      capacities.push_back(t.cpus / g.cpus_per_task);
    }
  }
  if (static_cast<int64_t>(capacities.size()) < g.min_nodes) {
    return InvalidArgument(fmt::format(
        "needs {} nodes with at least {} cpus and {} MB of memory each; {} of the {} nodes "
        "qualify",
        g.min_nodes, g.cpus_per_task, g.mem_mb, capacities.size(), totals.size()));
  }
  std::sort(capacities.begin(), capacities.end(), std::greater<>());
  size_t usable = capacities.size();
  if (g.max_nodes > 0) usable = std::min(usable, static_cast<size_t>(g.max_nodes));
  int64_t tasks = 0;
  for (size_t i = 0; i < usable; ++i) tasks += capacities[i];
  if (tasks < g.ntasks) {
    if (usable < capacities.size()) {
      return InvalidArgument(fmt::format(
          "needs {} cpus ({} tasks x {} cpus) on at most {} nodes; the largest {} nodes hold "
          "{} such tasks",
          cpus, g.ntasks, g.cpus_per_task, g.max_nodes, usable, tasks));
    }
    return InvalidArgument(
        fmt::format("needs {} cpus ({} tasks x {} cpus); all the nodes together hold {} such tasks",
                    cpus, g.ntasks, g.cpus_per_task, tasks));
  }
  return InvalidArgument("does not fit on these nodes");
}

}  // namespace swell::head::scheduler
