#pragma once

// Blocks SIGTERM, SIGINT and SIGPIPE in every thread to come, and waits for SIGTERM or SIGINT:
// how the daemons (`swell head`, `swell node`, `swell autoscale`) learn that they should stop.

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <chrono>

namespace swell::cli {

// Blocks SIGTERM/SIGINT in every thread to come and waits for one of them.
class StopSignal {
 public:
  StopSignal() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  int Wait() {
    sigset_t wait_set;
    sigemptyset(&wait_set);
    sigaddset(&wait_set, SIGTERM);
    sigaddset(&wait_set, SIGINT);
    int sig = 0;
    sigwait(&wait_set, &sig);
    return sig;
  }
  // Waits up to `d` for SIGTERM or SIGINT; true when one came.
  bool WaitFor(std::chrono::duration<double> d) {
    sigset_t wait_set;
    sigemptyset(&wait_set);
    sigaddset(&wait_set, SIGTERM);
    sigaddset(&wait_set, SIGINT);
    auto end = std::chrono::steady_clock::now() + d;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(
          end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      timespec ts{static_cast<time_t>(left.count() / 1000000000),
                  static_cast<long>(left.count() % 1000000000)};
      int sig = sigtimedwait(&wait_set, nullptr, &ts);
      if (sig > 0) return true;
      if (errno != EINTR && errno != EAGAIN) return false;
    }
  }

 private:
  sigset_t set_;
};

}  // namespace swell::cli
