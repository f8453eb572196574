#pragma once

// Provider calls off the caller's loop (the head's, `swell autoscale`'s): a fixed set of threads
// runs queued calls (a create may take minutes: a cloud CLI, a node booting). Each call posts its
// result back to the loop itself. Stop() lets the calls under way finish (a provider call is not
// interrupted half-way) and drops the queued ones: the pool's records and the provider's List()
// settle them on the next start. Thread-safe.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace swell::provider {

class ProviderCalls {
 public:
  ProviderCalls() = default;
  ProviderCalls(const ProviderCalls&) = delete;
  ProviderCalls& operator=(const ProviderCalls&) = delete;
  ~ProviderCalls() { Stop(); }

  // Starts `threads` (at least one) workers.
  void Start(int threads);
  // Queues `call`; false (and the call dropped) once stopped.
  bool Run(std::function<void()> call);
  // Joins the workers after the calls under way; queued calls are dropped.
  void Stop();

 private:
  void Work();

  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // GUARDED_BY(mu_)
  bool stop_ = false;                        // GUARDED_BY(mu_)
};

}  // namespace swell::provider
