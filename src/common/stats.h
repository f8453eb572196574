#pragma once

// Summary statistics shared by the simulator and the accounting of a live cluster, so that
// their numbers mean the same.

#include <algorithm>
#include <cmath>
#include <vector>

namespace swell {

// The nearest-rank p-th percentile (p in [0, 1]) of `v`; 0 for an empty vector.
inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace swell
