#pragma once

// The oracle: a clairvoyant autoscaler for the simulator only. It knows every arrival and run
// time in advance, so it can boot each node exactly one boot time before its first job
// arrives and delete it the instant its last job ends. Its cost is the floor the online
// policies are measured against.
//
// The plan, per node type, in arrival order (ties by job index): a job goes to the node "life"
// where it adds the least node time (a running node it fits that stays up long enough anyway
// adds nothing; an idle one adds the idle gap and the job's run; a new life adds boot +
// run + shutdown), ties to the best fit (fewest free cpus left), then the earliest life. A
// node is therefore kept idle for a coming job only when the gap costs less than a new boot
// plus a shutdown. When every node holds one job at a time (each job needs more than half a
// node, e.g. CLIC's 1-cpu nodes), this greedy is optimal among schedules in which no job waits
// (see docs/autoscaler.md and the exhaustive check in oracle_test.cc); with packing it is a
// heuristic, and the production scheduler may pack differently from the plan, so a job can
// then wait.
//
// The policy itself only follows the plan's node count: at time t a type should have as many
// live nodes as the plan has lives with create <= t < end; it creates the missing ones,
// deletes surplus idle ones (never a busy one) and asks to be woken at the plan's next change.

#include <cstddef>
#include <vector>

#include "head/autoscaler/autoscaler.h"
#include "sim/sim.h"

namespace swell::sim {

struct Life {
  int type = 0;
  Time create;               // first job's arrival minus the boot time
  Time end;                  // when its last job ends: the node is deleted then
  std::vector<size_t> jobs;  // indices into the workload, in arrival order
};

// The plan: `type_of[i]` is the type job i is routed to.
std::vector<Life> PlanLives(const std::vector<SimJob>& jobs,
                            const std::vector<head::autoscaler::NodeType>& types,
                            const std::vector<int>& type_of);

// Node time a plan pays: per life, boot + (end - first arrival) + shutdown.
Duration PlanNodeTime(const std::vector<Life>& lives,
                      const std::vector<head::autoscaler::NodeType>& types);

class Oracle final : public head::autoscaler::Policy {
 public:
  Oracle(const std::vector<SimJob>& jobs, const std::vector<head::autoscaler::NodeType>& types,
         const std::vector<int>& type_of);
  std::string name() const override { return "oracle"; }
  head::autoscaler::Action Decide(const head::autoscaler::View& view) override;
  // When the plan creates its first node (kNever for an empty workload).
  Time first_create() const { return changes_.empty() ? kNever : changes_.front(); }
  const std::vector<Life>& lives() const { return lives_; }

 private:
  // The planned number of live nodes of `type` at `t`.
  int Target(size_t type, Time t) const;

  std::vector<Life> lives_;
  std::vector<std::vector<std::pair<Time, int>>> steps_;  // per type: (instant, +1 or -1), sorted
  std::vector<Time> changes_;                             // every instant of steps_, sorted
};

}  // namespace swell::sim
