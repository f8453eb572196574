#pragma once

// `swell sim`: the production scheduler, autoscaler and node lifecycle on a virtual clock. No
// threads, no sleeping: events (arrivals, nodes registering, jobs ending, nodes gone,
// autoscaler ticks) are processed in time order, so a day of workload takes milliseconds.
//
// The lifecycle is the live head's: every node lives in a head::elastic::Pool
// (head/elastic/pool.h), fed the events the head feeds it. The policy sees Pool::View() (plus
// when busy nodes' work ends, which the head takes from its leases) and its decisions go
// through Pool::Apply, so the pool's limits (SimOptions::pool: total maximum, creates and
// deletes per minute, budget per hour, boot timeout) hold here as they do live. Only the
// provider is virtual: a create succeeds at once, the node registers one boot time (plus
// register_delay) later, and a delete completes after the type's shutdown time. A node is
// billed from the create to gone.

#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "head/autoscaler/autoscaler.h"
#include "head/elastic/pool.h"

namespace swell::sim {

struct SimJob {
  int64_t id = 0;
  Time submit;
  Duration run{0};                 // how long it runs once started
  head::autoscaler::Request need;  // on each of its nodes
  int nodes = 1;                   // nodes it spans at once (one task of `need` on each)
  bool exclusive = false;          // takes whole nodes (Slurm's --exclusive)
  // Tasks of one array job share a non-zero `array`; with `max_running` (its %N throttle, the
  // same on each task) at most that many of them are dispatched at once, in arrival order, and
  // the others are neither scheduled nor demand, as the head holds them (JobArrayTaskLimit).
  int64_t array = 0;
  int max_running = 0;
};

// CLIC's stress test (Vance & Polik 2017): every 10 minutes for 4 hours a random number of
// single-cpu `sleep U(500, 1000)` jobs; seeded. The count per burst is uniform in [0, 16], which
// gives ~190 jobs over the 24 bursts (the article reports 193).
std::vector<SimJob> ClicWorkload(uint64_t seed);

// A default set of node types with realistic prices and boot times (60-120 s).
std::vector<head::autoscaler::NodeType> DefaultTypes();
// CLIC's single type for its stress test: 1 cpu, standard memory, ~90 s to boot.
std::vector<head::autoscaler::NodeType> ClicTypes();

struct SimOptions {
  std::vector<head::autoscaler::NodeType> types;
  std::string policy = "clic";
  head::autoscaler::PolicyOptions policy_options;
  Duration tick = std::chrono::seconds(10);  // how often the autoscaler decides
  // When the first decision comes after the first arrival (0 .. tick). A live head decides at
  // its own moments, not in step with the workload's arrivals: a replay on a live cluster
  // (bench/run clic-live) meets its decisions tick/2 late on average.
  Duration tick_phase{0};
  // Overheads the policies do not see (for modelling a real cloud, e.g. CLIC's on GCE):
  Duration register_delay{0};     // after its boot, until the scheduler can use the node
                                  // (e.g. slurmd registering); billed, shown as booting
  Duration billing_increment{0};  // each node's bill is rounded up to whole increments
  Duration billing_minimum{0};    // and is at least this much (GCE in 2017: 1 min, 10 min)
  // The pool's limits, as a live head applies them ([autoscaler] in a cluster file). A type
  // whose boot plus register_delay exceeds pool.boot_timeout is refused: none of its nodes
  // would ever come up.
  head::elastic::PoolOptions pool;
  // Faults: this share of the boots hang (the node never registers; the pool fails it at
  // boot_timeout, deletes it and the policy asks for another), drawn with boot_hang_seed.
  double boot_hang_rate = 0;
  uint64_t boot_hang_seed = 1;
  // For tests: ask the scheduler about every type after every event, with all its ready nodes
  // and all its queued jobs (the simple, slow way the incremental placement must match).
  bool reference_placement = false;
};

struct Metrics {
  std::string policy;
  int64_t jobs = 0;
  double job_hours = 0;   // node-hours of work: run time x the share of its node's cpus
  double node_hours = 0;  // paid: from create until gone (boot, idle and shutdown included)
  double efficiency = 0;  // job_hours / node_hours
  double wait_p50_s = 0, wait_p95_s = 0, wait_max_s = 0;
  double cost = 0;  // node hours x price per hour
  int nodes_max = 0;
  int64_t scale_ups = 0;     // nodes created
  int64_t scale_downs = 0;   // nodes deleted
  int64_t nodes_failed = 0;  // of those, failed by the pool (a boot past its timeout)
  double sim_wall_s = 0;     // real seconds the simulation took
  double makespan_s = 0;     // virtual seconds from the first arrival to the last node gone
};

// The cluster at one autoscaler tick (CLIC's figures 4 and 5 plot these over time).
struct Sample {
  double t_s = 0;  // seconds since the first arrival
  int queued = 0;  // jobs waiting
  int running = 0;
  int nodes_up = 0;  // ready: idle or allocated
  int booting = 0;
};

// What a simulation decided, in order: for comparing it with a live head running the same
// workload (tests/integration/head_sim_test.cc).
struct Trace {
  struct NodeCall {
    Time at;
    std::string name;  // the pool's node name ("<type>-<n>")
    bool create = true;  // false: a delete
  };
  std::vector<NodeCall> calls;                   // provider calls, as the pool made them
  std::vector<std::pair<int64_t, Time>> starts;  // job id and start
};

// Runs the workload to completion. Fails (InvalidArgument) on a job no type can hold, an
// unknown policy, or pool limits under which a type that jobs need could never run them (its
// boot past the boot timeout, its price over the budget). Policy "oracle" (sim/oracle.h) is
// built here from the workload itself. With `series`, appends one Sample per autoscaler tick;
// with `trace`, what was decided.
Result<Metrics> Simulate(const std::vector<SimJob>& jobs, const SimOptions& options,
                         std::vector<Sample>* series = nullptr, Trace* trace = nullptr);

// "t_s,queued,running,nodes_up,booting" and one line per sample.
std::string ToCsv(const std::vector<Sample>& series);
// A self-contained SVG line chart of the four series over time.
std::string ToSvg(const std::vector<Sample>& series, const std::string& title);

// One JSON line with the fields above.
std::string ToJson(const Metrics& m);

}  // namespace swell::sim
