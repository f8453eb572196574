#pragma once

// The reconcile step: from the cluster's state to the scheduler's input and the autoscaler's
// demand, and from their decisions to what changes.
//
// One library, called by the head's loop (head/head.cc) and by `swell sim` (sim/sim.cc). Each
// adapts its own state to the plain structs below (jobs that wait, nodes, what running work
// holds and until when, the elastic pool) and never re-implements what is here, so that the
// simulator measures the policy the head runs: the same gates (holds, begin times,
// dependencies, array throttles), the same routing of a job to a node type (re-routed on every
// pass, away from types backed off after failures and, for a job preempted too often, away
// from spot types), the same EASY reservations against the release times of running work, and
// the same demand (exclusive jobs as whole nodes, multi-node jobs as several, throttled arrays
// as their free slots, jobs bound to named nodes as none).
//
// Pure: no I/O, no clock, no threads. Time is passed in.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/clock.h"
#include "head/autoscaler/autoscaler.h"
#include "head/elastic/pool.h"
#include "head/scheduler/scheduler.h"

namespace swell::head::reconcile {

// Slurm's names of the reasons a job waits (squeue's NODELIST(REASON)).
inline constexpr const char* kResources = "Resources";
inline constexpr const char* kPriority = "Priority";
inline constexpr const char* kReqNodeNotAvail = "ReqNodeNotAvail";
inline constexpr const char* kArrayTaskLimit = "JobArrayTaskLimit";

// What one unit of a job needs, and where it may run (Slurm's -n -c --mem --gpus -N -t -w -x
// --exclusive).
struct Shape {
  int ntasks = 1;
  int cpus_per_task = 1;
  int64_t mem_mb = 0;  // per node
  int gpus = 0;
  int min_nodes = 1;
  int max_nodes = 0;  // 0: no bound
  Duration time_limit = kInfinite;
  std::vector<std::string> require;  // node names (-w)
  std::vector<std::string> exclude;  // node names (-x)
  bool exclusive = false;
  bool operator==(const Shape&) const = default;
};

// A job with units that are not dispatched yet: its next units wait for the scheduler.
struct WaitingJob {
  int64_t id = 0;
  int priority = 0;  // higher first
  Time submit;
  int64_t units = 1;            // not dispatched yet (> 0)
  bool one_allocation = false;  // a job of ranks: one start takes every unit at once
  int64_t held = 0;             // units its running allocations hold now
  int max_running = 0;          // array throttle (%N); 0: none
  int restarts = 0;             // times lost nodes sent it back to the queue
  std::string partition;        // the node type it names (or a list, "a,b"); "" routes it
  Shape shape;
  // Why it may not start whatever the resources ("JobHeldUser", "BeginTime", "Dependency",
  // "DependencyNeverSatisfied"); "" when nothing but resources holds it.
  std::string gate;
  // The reason it carries from the last pass ("" when none): the autoscaler counts only work
  // that waits for resources.
  std::string reason;
  bool operator==(const WaitingJob&) const = default;
};

// A node the cluster knows. Only usable nodes take work; the others still count for the
// autoscaler while they hold work (a draining node that runs jobs is not idle).
struct Node {
  std::string name;
  scheduler::Resources total;
  int type = -1;        // index of its node type (partition); -1: a static node
  bool usable = true;   // up, connected, not draining, and (elastic) idle or allocated
};

// Part of a running allocation on one node (an index into the nodes passed along): it frees
// `res` at `end` (its last start plus its time limit; kNever without a limit or while the job
// may still give it more tasks).
using Hold = scheduler::Release;

// How jobs find their node type on an elastic cluster.
struct Routing {
  const std::vector<autoscaler::NodeType>* types = nullptr;  // null: a static cluster
  std::vector<bool> usable;  // per type: new nodes may be made (not backed off); empty: all
  int max_preemptions = 2;   // a job requeued this often by lost nodes avoids spot types
};

// What one node of the job's allocation needs when its tasks are spread evenly over its
// min_nodes nodes.
autoscaler::Request NodeRequest(const Shape& shape);

// The names of "a,b" (a Slurm job's partitions): {"a", "b"}; of "": none.
std::vector<std::string_view> PartitionNames(std::string_view partition);

// The node type the job runs on: the one it names (nullopt when unknown); of a list of names
// ("a,b": a Slurm job's partitions), the first not backed off that fits, else the first that
// fits; else (no name) the smallest that fits, among types not backed off and, for a job
// preempted too often, not spot; if that leaves none, the smallest that fits at all (nullopt
// when none does).
std::optional<int> RouteJob(const WaitingJob& job, const Routing& routing);

// The scheduler's group for one job (its units capped by its throttle and allocation), or
// nullopt with the reason when a gate or the throttle holds it whatever the resources.
std::optional<scheduler::Group> GroupOf(const WaitingJob& job, std::string* reason);

// The order of waiting jobs: priority desc, submit asc, id asc (the scheduler's).
using OrderKey = std::tuple<int, int64_t, int64_t>;
OrderKey KeyOf(const WaitingJob& job);

struct Plan {
  // Units to start now, in launch order: group = the job's id, share nodes index `nodes`.
  std::vector<scheduler::Start> starts;
  // The reasons the pass gave that differ from the jobs' own (WaitingJob::reason): blocked
  // ("Resources", "Priority", "ReqNodeNotAvail"), or started whole (""); a gated job's gate
  // every pass.
  std::vector<std::pair<int64_t, std::string>> reasons;
  // The first job (in order) with units left waiting for resources: while it waits, jobs after
  // it do not refill their allocations (they would starve it).
  std::optional<OrderKey> top_blocked;
  // A job was held back by another's reservation ("Priority"): a pass after the next event
  // may start it without any resources freed.
  bool priority_blocked = false;
};

// One scheduling pass: EASY backfill over the usable nodes. With `routing.types`, one
// partition per node type: a job runs only on nodes of the type it is routed to (nullopt
// route: it waits with Resources). `jobs` in any order; `holds` may name unusable nodes
// (ignored). A job bound to a node that is not usable waits with ReqNodeNotAvail.
Plan Schedule(const std::vector<Node>& nodes, const std::vector<Hold>& holds,
              const std::vector<WaitingJob>& jobs, const Routing& routing, Time now);

// The autoscaler's demand: one Pending per unit that waits for resources (gated jobs, jobs
// bound to named nodes and jobs no type can hold are not demand). An exclusive job counts
// whole nodes; a job of ranks one allocation; a throttled array its free slots.
std::vector<autoscaler::Pending> Demand(const std::vector<WaitingJob>& jobs,
                                        const Routing& routing);

// Per node (index into `nodes_count` nodes), when the work held there ends at the latest;
// nullopt for nodes that hold nothing.
std::vector<std::optional<Time>> BusyUntil(const std::vector<Hold>& holds, size_t nodes_count);

// What a pool node is now, for the autoscaler.
struct PoolNodeState {
  bool connected = false;          // its daemon is registered and connected
  std::optional<Time> busy_until;  // when its work ends; nullopt: it runs nothing
};

struct Turn {
  std::vector<elastic::Call> calls;  // provider calls to make, in order
  autoscaler::Action action;         // the policy's decision (for its wake time)
};

// One autoscaler turn: marks every registered pool node that is connected busy or idle (a node
// away now is neither until it is back or failed), shows the policy the pool and `pending`,
// applies its decision under the pool's limits, and runs the pool's timers.
Turn Autoscale(elastic::Pool& pool, autoscaler::Policy& policy,
               const std::function<PoolNodeState(const elastic::PoolNode& node)>& state,
               std::vector<autoscaler::Pending> pending, std::vector<int64_t> arrived, Time now);

// Whether new nodes of each type may be made now (Pool::Usable), for Routing::usable.
std::vector<bool> UsableTypes(const elastic::Pool& pool, Time now);

}  // namespace swell::head::reconcile
