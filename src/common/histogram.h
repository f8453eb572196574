#pragma once

// A histogram as Prometheus keeps one: fixed upper bounds, a count per bucket, the sum and the
// count of what was observed. Cheap to observe (a few comparisons); not thread-safe (the head
// observes on its loop and copies it out there).

#include <chrono>
#include <cstdint>
#include <vector>

namespace swell {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds)
      : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

  void Observe(double v) {
    size_t i = 0;
    while (i < bounds_.size() && v > bounds_[i]) ++i;
    ++counts_[i];  // the last count: above every bound (+Inf)
    sum_ += v;
    ++count_;
  }

  // A duration, in seconds.
  template <typename Rep, typename Period>
  void Observe(std::chrono::duration<Rep, Period> d) {
    Observe(std::chrono::duration<double>(d).count());
  }

  const std::vector<double>& bounds() const { return bounds_; }
  // Per bucket, not cumulative: counts()[i] observations were <= bounds()[i] and above the
  // bound before; counts().back() above every bound.
  const std::vector<uint64_t>& counts() const { return counts_; }
  double sum() const { return sum_; }
  uint64_t count() const { return count_; }

  // Bounds for durations in seconds: 1 ms to 10 s.
  static std::vector<double> Latencies() {
    return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  }
  // Bounds for queue waits in seconds: 1 s to a day.
  static std::vector<double> Waits() {
    return {1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 24 * 3600};
  }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;
  double sum_ = 0;
  uint64_t count_ = 0;
};

}  // namespace swell
