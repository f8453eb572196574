#pragma once

// The autoscaler: pure policies that decide, from a snapshot of the cluster, which nodes to
// create and which idle nodes to delete. No I/O, no clock, no threads: the head calls it with
// the wall clock's time, the simulator (`swell sim`) with a virtual one, over the very same
// code.
//
// A cluster has node types (one partition each, as in CLIC); a job that names no type goes to
// the smallest type that fits (Route). Policies see, per type, the nodes and the pending work.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace swell::head::autoscaler {

struct NodeType {
  std::string name;
  int cpus = 1;
  int64_t memory_mb = 0;
  int64_t disk_gb = 0;
  int gpus = 0;
  double price_per_hour = 0;  // billed from create until deleted (boot and shutdown included)
  Duration boot = std::chrono::seconds(60);
  Duration shutdown = std::chrono::seconds(0);
  int max_nodes = 0;  // 0: no bound
  bool spot = false;
  std::vector<std::string> features;  // Slurm node features (-C/--constraint), none by default
};

// What one job asks of one node.
struct Request {
  int cpus = 1;
  int64_t memory_mb = 0;
  int64_t disk_gb = 0;
  int gpus = 0;
};

// The smallest type that fits `r`: fewest cpus, then memory, then disk, then gpus, then price,
// then the first listed. nullopt when no type can hold it.
// With `allowed` (one flag per type), only the allowed types are considered.
std::optional<int> Route(const std::vector<NodeType>& types, const Request& r,
                         const std::vector<bool>* allowed = nullptr);

enum class NodeState {
  kBooting,    // created, not yet ready (billed)
  kIdle,       // ready, runs nothing
  kAllocated,  // runs at least one job
  kDeleting,   // being deleted (billed until gone)
};

struct NodeView {
  int64_t id = 0;
  int type = 0;
  NodeState state = NodeState::kBooting;
  Time created;     // when the create was issued
  Time idle_since;  // valid in kIdle
  // Valid in kAllocated: when the work it runs is expected to end (start + time limit of its
  // last-ending job); kNever when a job has no limit or the caller does not know.
  Time busy_until = kNever;
};

// Pending work routed to one type. Jobs that fit one node are packed by cpus when policies
// count the nodes pending work needs (four 1-cpu jobs need one 4-cpu node); jobs that need
// several nodes count whole nodes.
struct Pending {
  int type = 0;
  Time submitted;
  int nodes = 1;  // whole nodes this job needs; 1: it fits one node
  int cpus = 1;   // on one node, when nodes == 1
  Duration time_limit = kInfinite;  // how long it will run at most once started
};

struct View {
  Time now;
  const std::vector<NodeType>* types = nullptr;
  std::vector<NodeView> nodes;
  std::vector<Pending> pending;
  // Per type, how many jobs were routed to it since the caller started counting (cumulative,
  // so a policy can tell arrivals that never queued, e.g. those an idle node took at once).
  // Empty when the caller does not count.
  std::vector<int64_t> arrived;
};

struct Action {
  std::vector<int> create;       // per type, how many nodes to create (size = types.size())
  std::vector<int64_t> remove;   // ids of idle nodes to delete
  // The policy asks to decide again at this instant, even if nothing else happens by then
  // (e.g. to create a node exactly one boot time before work is due). kNever: at the caller's
  // next regular pass. Callers that cannot wake at will may round it to their next pass.
  Time wake = kNever;
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string name() const = 0;
  // Decides at view.now. Policies may keep state between calls (e.g. hysteresis); they are not
  // thread-safe.
  virtual Action Decide(const View& view) = 0;
};

struct PolicyOptions {
  Duration min_lifetime = std::chrono::seconds(600);  // CLIC: never delete younger nodes
  Duration idle_timeout = std::chrono::seconds(300);  // powersave: Slurm's SuspendTime
  int max_nodes = 0;                                  // total, 0: no bound
  // lookahead: what one second of one job waiting costs, in seconds of its node type's price
  // (it trades a job's wait against node time).
  double wait_weight = 2;
};

// CLIC exactly as its article states it, per type (partition):
//  - cold start (no booting and no ready nodes): create ceil(pending / 2);
//  - otherwise create ceil(pending / 2) - idle - booting (never negative);
//  - when the type's queue is empty, delete ceil(deletable / 2) of its idle nodes, where
//    deletable are those that have lived at least min_lifetime (as CLIC's code does), oldest
//    first.
std::unique_ptr<Policy> MakeClic(const PolicyOptions& options);
// Greedy: create pending - idle - booting; delete every idle node at once.
std::unique_ptr<Policy> MakeGreedy(const PolicyOptions& options);

// Slurm's power saving: create pending - idle - booting; delete a node idle for idle_timeout
// (SuspendTime) unless pending work will take it.
//
// Lookahead (ours), per type, using the time limits of queued and running work, each type's boot
// and shutdown time and the arrivals it has seen (it keeps state between calls, fed only by the
// views):
//  - queued work, oldest first, is covered by idle nodes, then by booting nodes and busy nodes
//    whose work ends (by its time limits) no later than a new node would be ready, or within
//    the horizon where waiting costs less than a new node: boot + (boot + shutdown) /
//    wait_weight after the job's submission; what is left gets new nodes;
//  - an idle node beyond the queued work is kept only while the recent arrivals make it more
//    likely than not to save a new node's boot and shutdown (and the boot's wait) before the
//    idle time costs as much; others are deleted at once, the longest idle first. Hysteresis:
//    a node kept at the last call needs a clearly losing expectation to go.
// It never names a busy or booting node, and ignores min_lifetime.
//
// Builds a policy by name ("clic", "greedy", "powersave", "lookahead"); InvalidArgument names
// the known ones ("oracle" is the simulator's: sim/oracle.h).
Result<std::unique_ptr<Policy>> MakePolicy(const std::string& name, const PolicyOptions& options);

}  // namespace swell::head::autoscaler
