#pragma once

// `swell sim --report DIR`: one self-contained HTML page (DIR/index.html, Chart.js inlined)
// with, for every policy the run compared, the dashboard's charts side by side (jobs queued and
// running, nodes up and booting, over the simulated time) and the figures table `swell sim`
// prints (jobs, node-hours, efficiency, waits, cost, nodes).

#include <string>
#include <vector>

#include "sim/sim.h"

namespace swell::web {

struct PolicyRun {
  sim::Metrics metrics;
  std::vector<sim::Sample> series;
};

// The page. Each series is thinned to at most `max_points` samples (every k-th, the last
// kept) so that a million-job run still opens at once.
std::string SimReport(const std::string& title, const std::vector<PolicyRun>& runs,
                      size_t max_points = 2000);

}  // namespace swell::web
