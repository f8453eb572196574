#pragma once

// The scheduler: a pure function from a snapshot of the cluster to the work to start now.
//
// It does no I/O, reads no clock and starts no threads; the head's reconcile loop calls
// Schedule() once per pass with the up nodes, the running allocations' release times and the
// groups of ready work, and launches the returned starts in order. Nothing is remembered
// between calls.
//
// Policy: priority order (priority desc, submit time asc, id asc) with EASY backfill. Every
// group in order starts as many units as fit. The first group that cannot start all of its
// units gets one reservation for its next unit at the "shadow time", the earliest instant at
// which running work (and the work just started) will have freed enough resources. Groups
// below it may then start a unit only if that does not delay the reservation.
//
// Cost: O((N + G + R) log(N + G + R) + S) for N nodes, G groups, R releases and S units
// started, plus a scan over nodes whose cpus fit but memory or gpus do not. A group of many
// identical units costs one placement per node it fills, never one per pending unit.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace swell::head::scheduler {

// An amount of each schedulable resource. Plain arithmetic, no clamping: callers keep values
// non-negative.
struct Resources {
  int cpus = 0;
  int64_t mem_mb = 0;
  int gpus = 0;

  // Whether this amount fits inside `avail` in every dimension.
  bool FitsIn(const Resources& avail) const {
    return cpus <= avail.cpus && mem_mb <= avail.mem_mb && gpus <= avail.gpus;
  }
  Resources& operator+=(const Resources& o) {
    cpus += o.cpus;
    mem_mb += o.mem_mb;
    gpus += o.gpus;
    return *this;
  }
  Resources& operator-=(const Resources& o) {
    cpus -= o.cpus;
    mem_mb -= o.mem_mb;
    gpus -= o.gpus;
    return *this;
  }
  friend Resources operator+(Resources a, const Resources& b) { return a += b; }
  friend Resources operator-(Resources a, const Resources& b) { return a -= b; }
  bool operator==(const Resources&) const = default;
};

// A node that can take work now (the caller filters out down and draining nodes). Nodes are
// referred to by their index in the vector passed to Schedule().
struct Node {
  std::string name;  // for tie-breaking/debug only
  Resources total;   // what the node has
  Resources used;    // what running allocations use now; free = total - used, clamped to
                     // [0, total] per dimension, so inconsistent input never overcommits
};

// Part of a running allocation on one node, for backfill: it frees `res` on `node` at `end`
// (start + time limit; kNever when the job has no limit). Releases naming a node outside the
// node vector are ignored; negative amounts count as zero.
struct Release {
  int node = 0;
  Resources res;
  Time end = kNever;
};

// A group of identical units that are ready to start now (dependencies, begin time and array
// throttles were already applied by the caller). A plain job is a group with units = 1; an
// array job is one group whose `units` is the number of its tasks allowed to start now.
// A group with units <= 0 is ignored. A group whose shape is invalid (see CheckFeasible) or
// that could not run on the given nodes even if they were all empty is reported blocked with
// kResources and otherwise ignored: it neither starts, nor holds a reservation, nor blocks
// the groups after it.
struct Group {
  uint64_t id = 0;   // caller's handle, echoed back
  int priority = 0;  // higher first
  Time submit_time;  // FIFO among equal priority (then lower id first)
  int units = 1;     // how many identical units may be started now (>= 1)
  // What ONE unit needs:
  int ntasks = 1;  // tasks in the unit; a task never spans nodes
  int cpus_per_task = 1;
  int64_t mem_mb = 0;  // per node used by the unit (Slurm --mem semantics); 0 = no request
  int gpus = 0;        // per unit; a unit with gpus > 0 must sit on a single node
  int min_nodes = 1;   // Slurm -N min; every node used gets at least one task
  int max_nodes = 0;   // 0 = no upper bound
  Duration time_limit = kInfinite;
  // Which nodes, by Node::name (Slurm -w, -x, --exclusive). Every node in `require` gets at
  // least one task of each unit (a name not among the nodes makes the unit unplaceable; more
  // required nodes than max_nodes, or a node both required and excluded, is an invalid shape);
  // no task goes to a node in `exclude`. An exclusive unit takes whole nodes: only nodes with
  // nothing running, and all of each node's resources.
  std::vector<std::string> require;
  std::vector<std::string> exclude;
  bool exclusive = false;
};

// Part of one unit on one node: `ntasks` tasks using `res` (ntasks * cpus_per_task cpus, the
// unit's mem_mb, and its gpus when on one node).
struct Share {
  int node = 0;
  int ntasks = 0;
  Resources res;
};

// Start one unit of `group`. Shares are ordered by node index, one per node used.
struct Start {
  uint64_t group = 0;
  std::vector<Share> shares;
};

// Why (part of) a group could not start.
enum class Reason {
  kNone,
  kResources,  // it does not fit on the free resources (or it holds the reservation)
  kPriority,   // it would fit now, but a higher group's reservation or strict order stops it
};

// "None", "Resources" or "Priority" (Slurm's reason names).
const char* ReasonName(Reason reason);

struct Blocked {
  uint64_t group = 0;
  Reason reason = Reason::kResources;
  int units_left = 0;  // units of the group not started in this pass
};

struct Options {
  // With backfill, lower groups may start around the reservation. Without it, nothing below
  // the first blocked group starts (strict priority order).
  bool backfill = true;
};

struct Decision {
  std::vector<Start> starts;     // in the order they should be launched
  std::vector<Blocked> blocked;  // every group with units not started, in priority order
  // The EASY reservation made for the top blocked group, if any (for `swell info`/debug).
  // (Group ids are expected to be non-zero.)
  // reservation_group == 0: no reservation (nothing blocked, or the unit would not fit even
  //   after every release, so backfill runs unconstrained).
  // reservation_group != 0 and reservation_time set: the unit is expected to start then
  //   (never earlier than `now`); lower units that would delay it do not start.
  // reservation_group != 0 and no reservation_time: the unit only fits once work with no time
  //   limit ends. Its future resources are still held against units with no time limit (they
  //   would block it forever); units with a finite limit backfill freely.
  // Without Options::backfill the reservation is computed the same way but, as nothing below
  // it starts, it only reports the expected start.
  std::optional<Time> reservation_time;
  uint64_t reservation_group = 0;
  // How many times a unit placement was searched for; a work measure for tests and
  // benchmarks (it grows with units started, groups and nodes, not with pending units).
  int64_t placement_attempts = 0;
};

// Decides what to start at `now` given the free resources of `nodes`, the future `releases`
// of running work, and the ready `groups` (any order). Placement of one unit: a single node if
// one fits it (best fit: the fewest free cpus left, ties to the lower index); otherwise, when
// gpus == 0 and max_nodes != 1, its tasks spread over nodes with the most free cpus first
// (ties to the lower index), each used node giving the unit its mem_mb and at least one task,
// at most max_nodes nodes. With min_nodes > 1 the unit always spreads over at least min_nodes
// nodes, its tasks as even as the nodes' free cpus allow. Required nodes are used first, then
// the others in that order.
Decision Schedule(const std::vector<Node>& nodes, const std::vector<Release>& releases,
                  const std::vector<Group>& groups, Time now, const Options& options = {});

// Whether one unit of `g` could ever run on this set of nodes if they were all empty (used at
// submit to reject impossible requests), using exactly Schedule()'s placement rules. Returns
// InvalidArgument for an invalid shape (e.g. ntasks < 1, max_nodes < min_nodes, gpus with
// min_nodes > 1) or with a message naming what is too large, e.g. "needs 64 cpus on one node;
// the largest node has 8". `g.units` and `g.time_limit` do not matter beyond validation.
// `names` (one per node, or empty when the group names no nodes) resolve `g.require` and
// `g.exclude`.
Status CheckFeasible(const std::vector<Resources>& node_totals, const Group& g,
                     const std::vector<std::string>& names = {});

}  // namespace swell::head::scheduler
