#pragma once

// The head's overview in Prometheus's text exposition format (version 0.0.4), for /metrics:
// gauges of the queue and the nodes, counters since the head started, and histograms of its
// latencies, each with its HELP and TYPE. Names follow Prometheus's conventions (base units:
// seconds; counters end in _total); `promtool check metrics` passes on it (a test).

#include <string>

#include "head/overview.h"

namespace swell::web {

std::string PrometheusText(const head::Overview& o);

}  // namespace swell::web
