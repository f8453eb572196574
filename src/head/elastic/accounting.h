#pragma once

// Accounting of an elastic cluster (`swell stats`): what the pool's nodes cost and what the
// jobs used, with the simulator's fields (src/sim/sim.h Metrics), so that a live run and a
// simulated one compare line by line.
//
// A node is paid from the moment its create was decided until it is gone (boot, idle and
// shutdown included). A task is charged for the share of its node it held while it ran:
// run time x its cpus / the node's cpus, at the node type's price. What the nodes cost beyond
// what the tasks were charged (boot, registration, idle, shutdown) is the pool's overhead,
// charged to no user. Pure: no I/O, no clock.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace swell::head::elastic {

struct PaidNode {  // one node of the pool
  std::string name;
  int cpus = 1;
  double price_per_hour = 0;
  int64_t from_ms = 0;  // create decided
  int64_t to_ms = 0;    // gone (or now, while it exists)
  bool deleted = false; // reached gone
};

struct UsedTask {  // one task that started
  std::string user;
  int64_t job_id = 0;
  int64_t submit_ms = 0;
  int64_t start_ms = 0;
  int64_t end_ms = 0;  // or now, while it runs
  std::string node;
  int cpus = 1;
};

struct UserUsage {
  int64_t jobs = 0;
  int64_t tasks = 0;
  double job_hours = 0;  // node-hours: run hours x share of the node
  double cost = 0;
};

struct Usage {
  int64_t jobs = 0;  // jobs with at least one started task
  int64_t tasks = 0;
  double job_hours = 0;   // node-hours of work
  double node_hours = 0;  // node-hours paid (elastic nodes; static nodes are not billed)
  double efficiency = 0;  // job_hours / node_hours (0 without paid nodes)
  double wait_p50_s = 0, wait_p95_s = 0, wait_max_s = 0;  // start - submit, per task
  double cost = 0;            // of the paid nodes
  double overhead_cost = 0;   // cost - what tasks on paid nodes were charged
  int nodes_max = 0;          // most nodes alive at once
  int64_t scale_ups = 0;      // nodes created
  int64_t scale_downs = 0;    // nodes deleted
  std::map<std::string, UserUsage> users;
};

Usage Account(const std::vector<PaidNode>& nodes, const std::vector<UsedTask>& tasks);

// One JSON line with the fields of Usage (users as an object by name).
std::string ToJson(const Usage& u);

}  // namespace swell::head::elastic
