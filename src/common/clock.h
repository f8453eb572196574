#pragma once

// Time is injected: the pure core (scheduler, state transitions) never reads a clock itself.
// Daemons pass a SystemClock; tests and the simulator pass a ManualClock and move it.

#include <chrono>
#include <cstdint>

namespace swell {

// Wall-clock instants and spans at millisecond resolution (what SQLite stores as INTEGER).
using Duration = std::chrono::milliseconds;
using Time = std::chrono::time_point<std::chrono::system_clock, Duration>;

// A time limit of kInfinite means "no limit" (Slurm's UNLIMITED).
inline constexpr Duration kInfinite = Duration::max();
inline constexpr Time kNever = Time::max();

inline int64_t ToMillis(Time t) { return t.time_since_epoch().count(); }
inline Time FromMillis(int64_t ms) { return Time(Duration(ms)); }

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Time Now() const = 0;
};

// Reads the system clock. Thread-safe.
class SystemClock final : public Clock {
 public:
  Time Now() const override {
    return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  }
};

// A clock that moves only when told to. Not thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Time start = FromMillis(1'700'000'000'000)) : now_(start) {}
  Time Now() const override { return now_; }
  void Advance(Duration d) { now_ += d; }
  void Set(Time t) { now_ = t; }

 private:
  Time now_;
};

}  // namespace swell
