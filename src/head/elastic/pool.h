#pragma once

// The elastic pool: the life of every node a provider makes, as a pure state machine.
//
//   requested -> booting -> idle <-> allocated -> draining -> deleting -> gone
//        \           \         \                                 ^
//         `-----------`---------`--> failed ---------------------'
//
//  - requested: the node has a name and a record (durable before the provider is asked), and
//    the provider's Create call is under way. Billing starts here.
//  - booting: the provider accepted it; the node daemon has not registered yet.
//  - idle / allocated: registered; allocated while it runs any work.
//  - draining: chosen to go; takes no new work; deleted as soon as it runs nothing. The pool
//    never deletes a node that runs work.
//  - deleting: the provider's Delete call is under way (retried until it succeeds).
//  - failed: a provider error, a boot past boot_timeout, or a node lost while up (a spot
//    preemption, a crash). A failed node is deleted at once, so no instance leaks, and its
//    demand comes back to the autoscaler on its next decision.
//  - gone: deleted; kept for accounting (billed from requested to gone).
//
// No I/O, no clock, no threads: the head feeds it events and the time, and performs the
// provider calls it returns, reporting their outcome back. Every limit is applied here, on
// every decision: per-type and total maximums, creates and deletes per minute, a budget per
// hour; and a type whose creates keep failing is backed off so that demand can go elsewhere.
//
// The live head drives it with the wall clock and real providers; the simulator (`swell sim`,
// sim/sim.h) drives the very same machine with a virtual clock and a virtual provider. Work per
// event therefore does not grow with the nodes that are gone (a simulated day can make half a
// million): the pool keeps the live nodes and their counts apart, and Forget drops a gone
// node's record once its caller has accounted for it.

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "head/autoscaler/autoscaler.h"

namespace swell::head::elastic {

enum class Phase { kRequested, kBooting, kIdle, kAllocated, kDraining, kDeleting, kFailed, kGone };
const char* PhaseName(Phase p);
std::optional<Phase> ParsePhase(const std::string& s);

struct PoolNode {
  int64_t id = 0;
  std::string name;
  int type = 0;
  Phase phase = Phase::kRequested;
  Time requested;   // the create was decided (billing starts)
  Time ready;       // registered (valid from idle on)
  Time idle_since;  // valid in idle
  Time gone;        // valid in gone
  bool failed = false;    // ended by a failure (it went through `failed`)
  std::string reason;     // why it failed or was deleted
  bool create_done = false;  // the provider's Create returned
  bool call_running = false; // a provider call for this node is under way
  Time retry_at;             // deleting: when to try Delete again
};

struct PoolOptions {
  Duration boot_timeout = std::chrono::seconds(600);
  Duration delete_retry = std::chrono::seconds(10);
  int max_nodes = 0;              // in total, 0: no bound (per type: NodeType::max_nodes)
  int creates_per_minute = 0;     // 0: no limit
  int deletes_per_minute = 0;     // 0: no limit
  double budget_per_hour = 0;     // sum of the live nodes' prices; 0: no budget
  int type_failure_limit = 3;     // consecutive failures before a type is backed off
  Duration type_backoff = std::chrono::seconds(60);
};

// A provider call for the head to make; its outcome goes back through CreateDone/DeleteDone.
struct Call {
  enum Kind { kCreate, kDelete } kind = kCreate;
  std::string name;
  int type = 0;
  int64_t id = 0;  // the node's id (PoolNode::id)
};

class Pool {
 public:
  Pool(std::vector<autoscaler::NodeType> types, PoolOptions options);

  const std::vector<autoscaler::NodeType>& types() const { return types_; }
  const PoolOptions& options() const { return opt_; }
  const std::map<std::string, PoolNode>& nodes() const { return nodes_; }
  const PoolNode* Find(const std::string& name) const;
  // The name of the node with this id ("" when unknown).
  std::string NameOf(int64_t id) const;

  // After a head restart: puts back a node read from the state. Nodes that were in
  // `requested` had a create under way that nobody will report on: they count as booting
  // (the provider's List and the boot timeout settle them).
  void Restore(PoolNode n);
  // After a restart: a gone node's name and id are not given again (its record is history).
  void Reserve(const std::string& name, int64_t id);

  // The autoscaler's view of the pool in id (creation) order; deleting, draining and failed
  // count as deleting.
  std::vector<autoscaler::NodeView> View() const;
  // Applies a policy's decision under every limit; returns the provider calls to make.
  std::vector<Call> Apply(const autoscaler::Action& action, Time now);

  // Events. Each returns the provider calls it makes necessary.
  std::vector<Call> CreateDone(const std::string& name, const Status& result, Time now);
  std::vector<Call> DeleteDone(const std::string& name, const Status& result, Time now);
  // The node daemon registered: booting -> idle. False for a name the pool does not know or
  // has given up on (the head then refuses the node).
  bool Registered(const std::string& name, Time now);
  // Whether the node runs work; a draining node that runs nothing any more is deleted.
  std::vector<Call> SetBusy(const std::string& name, bool busy, Time now);
  // The node went away while up (crash, preemption), or its session ended for good.
  std::vector<Call> Lost(const std::string& name, const std::string& why, Time now);
  // Stop giving the node work and delete it once it runs nothing.
  std::vector<Call> Drain(const std::string& name, const std::string& why, Time now);
  // Boot timeouts and delete retries.
  std::vector<Call> Tick(Time now);
  // The provider's List(): listed names the pool does not know are deleted (created just
  // before a crash); deleting nodes not listed any more are gone.
  std::vector<Call> Reconcile(const std::vector<std::string>& listed, Time now);

  // Whether new nodes of `type` may be created now (its failures have not backed it off).
  bool Usable(int type, Time now) const;
  // Names whose record changed since the last call (to persist).
  std::vector<std::string> TakeDirty();
  // Nodes that exist (not gone), per type and in total.
  int Live(int type) const;
  int Live() const;
  // Nodes in phase `p` (gone ones only until they are forgotten).
  int Count(Phase p) const { return in_phase_[static_cast<size_t>(p)]; }
  // Drops the record of a gone node (no-op for any other): for a caller that keeps no history
  // of its own accounting, so that the records do not pile up (the simulator).
  void Forget(const std::string& name);

 private:
  PoolNode* Get(const std::string& name);
  // Takes in a new node (or replaces one of the same name) and counts it.
  PoolNode& Add(PoolNode n);
  void Uncount(const PoolNode& n);
  void SetPhase(PoolNode& n, Phase p, Time now);
  std::vector<Call> Fail(PoolNode& n, const std::string& why, Time now);
  std::optional<Call> StartDelete(PoolNode& n, Time now);
  bool RateAllows(std::deque<Time>& window, int per_minute, Time now) const;
  double LivePrice() const;

  std::vector<autoscaler::NodeType> types_;
  PoolOptions opt_;
  std::map<std::string, PoolNode> nodes_;
  // Pointers into nodes_ (a map's elements stay put): every node by id, and those not gone.
  std::map<int64_t, PoolNode*> by_id_;
  std::map<int64_t, PoolNode*> live_;
  std::vector<int> live_per_type_;
  std::array<int, static_cast<size_t>(Phase::kGone) + 1> in_phase_{};
  std::set<int64_t> unsettled_;  // ids of the nodes Tick looks at (see Unsettled in pool.cc)
  std::set<int64_t> dirty_;      // ids of the nodes whose record changed (TakeDirty)
  std::vector<int> next_index_;  // per type, for names "<type>-<n>"
  int64_t next_id_ = 1;
  std::deque<Time> creates_, deletes_;
  std::vector<int> type_failures_;
  std::vector<Time> type_backoff_until_;
};

}  // namespace swell::head::elastic
