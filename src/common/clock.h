#pragma once

// Time is injected: the pure core (scheduler, state transitions) never reads a clock itself.
// Daemons pass a SystemClock; tests and the simulator pass a ManualClock and move it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

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
  // Waits on `cv`, with `lock` held as std::condition_variable::wait_until does, until `done()`
  // holds or this clock reaches `deadline` (kNever: no deadline); returns done(). A loop that
  // sleeps until its next timer waits here, so that a test's clock decides when timers fire.
  virtual bool WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                         Time deadline, const std::function<bool()>& done) const = 0;
};

// Reads the system clock. Thread-safe.
class SystemClock final : public Clock {
 public:
  Time Now() const override {
    return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  }
  bool WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, Time deadline,
                 const std::function<bool()>& done) const override {
    if (deadline == kNever) {
      cv.wait(lock, done);
      return true;
    }
    return cv.wait_until(lock, deadline, done);
  }
};

// A clock that moves only when told to (Mesos' Clock::pause/advance). Thread-safe: a thread
// waiting on it sees the time move within a millisecond of real time, and then finds its
// deadline passed; until then it waits however long the test takes.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Time start = FromMillis(1'700'000'000'000)) : now_(ToMillis(start)) {}
  Time Now() const override { return FromMillis(now_.load()); }
  void Advance(Duration d) { now_ += d.count(); }
  void Set(Time t) { now_ = ToMillis(t); }
  bool WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, Time deadline,
                 const std::function<bool()>& done) const override {
    while (!done() && Now() < deadline) cv.wait_for(lock, std::chrono::milliseconds(1));
    return done();
  }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace swell
