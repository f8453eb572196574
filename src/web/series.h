#pragma once

// What the dashboard's charts draw: the cluster sampled every few seconds into a ring buffer
// of fixed size (the last hours), so that a page asks for it whole however long the head has
// run and however many jobs it holds. Thread-safe.

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "head/overview.h"

namespace swell::web {

struct Sample {
  int64_t t_ms = 0;
  int64_t pending = 0, running = 0;
  std::map<std::string, int64_t> nodes_up;       // by type ("" static): IDLE, MIXED, ALLOCATED, DRAINING
  std::map<std::string, int64_t> nodes_booting;  // by type: REQUESTED, BOOTING
  int64_t cpus = 0, cpus_used = 0;
  double cost = 0, cost_per_hour = 0;
};

// The sample an overview makes.
Sample SampleOf(const head::Overview& o);

class Series {
 public:
  explicit Series(size_t capacity) : capacity_(capacity) {}
  void Add(Sample s);
  // {"t": [...], "pending": [...], "running": [...], "nodes_up": {type: [...]},
  //  "nodes_booting": {type: [...]}, "cpus": [...], "cpus_used": [...], "cost": [...],
  //  "cost_per_hour": [...]}: one array per quantity, one entry per sample, oldest first.
  std::string Json() const;
  size_t size() const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::deque<Sample> samples_;  // GUARDED_BY(mu_)
};

}  // namespace swell::web
