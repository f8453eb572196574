#pragma once

// What the head shows of the cluster at a glance (the dashboard, /metrics, `swell top`): the
// queue by state, partition and reason, the running jobs, the nodes by type and state, what the
// elastic pool has cost, and the head's own counters and latencies. Taken on the head's loop in
// one pass over its memory (no database read), so that it can be asked every few seconds with
// 100,000 jobs queued. Plain data; ToJson for the API and `swell top`.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/histogram.h"

namespace swell::head {

struct Overview {
  int64_t now_ms = 0;
  int64_t started_ms = 0;  // when this head started (its counters count from there)
  std::string cluster;     // "static" or "elastic"

  // Active jobs (PENDING, RUNNING, ...) by state, then partition ("" for none).
  std::map<std::string, std::map<std::string, int64_t>> jobs;
  std::map<std::string, int64_t> pending_reasons;  // waiting jobs by reason ("None": not yet seen)
  struct RunningJob {
    int64_t id = 0;
    std::string name, user, partition, nodes;
    int64_t start_ms = 0;
    int64_t tasks_running = 0;
  };
  std::vector<RunningJob> running;  // the first kMaxRunning, by id
  int64_t running_jobs = 0;         // all of them

  // Nodes by type ("" for static nodes), then state: IDLE, MIXED, ALLOCATED, DRAINING, DOWN,
  // and for elastic nodes not up yet their phase in capitals (REQUESTED, BOOTING).
  std::map<std::string, std::map<std::string, int64_t>> nodes;
  int64_t cpus = 0, cpus_used = 0;  // of the nodes up

  // Counters since this head started.
  int64_t jobs_submitted = 0;
  std::map<std::string, int64_t> jobs_finished;  // by final state
  int64_t tasks_started = 0;
  int64_t node_failures = 0;  // nodes found down (not responding, lost)
  int64_t nodes_created = 0, nodes_deleted = 0, boot_failures = 0;  // elastic pool
  double node_hours_used = 0;  // tasks' run time x their share of the node, ended tasks

  // The elastic pool's cost, from its nodes' lives (created to gone, or now).
  double node_hours_paid = 0;
  double cost = 0;
  double cost_per_hour = 0;  // of the nodes alive now

  // Latencies in seconds.
  Histogram queue_wait{Histogram::Waits()};            // submit to a task's start
  Histogram dispatch_latency{Histogram::Latencies()};  // a task sent to its node to its start
  Histogram commit_seconds{Histogram::Latencies()};    // a pass's database commit
  Histogram pass_seconds{Histogram::Latencies()};      // one pass of the head's loop
  Histogram schedule_seconds{Histogram::Latencies()};  // a scheduling pass over the queue

  static constexpr size_t kMaxRunning = 200;
};

// One JSON object with every field (histograms as {"bounds", "counts", "sum", "count"}).
std::string ToJson(const Overview& o);

}  // namespace swell::head
