#include "provider/provider_calls.h"

#include <algorithm>
#include <utility>

namespace swell::provider {

void ProviderCalls::Start(int threads) {
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { Work(); });
}

bool ProviderCalls::Run(std::function<void()> call) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_) return false;
  queue_.push_back(std::move(call));
  cv_.notify_one();
  return true;
}

void ProviderCalls::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void ProviderCalls::Work() {
  for (;;) {
    std::function<void()> call;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      call = std::move(queue_.front());
      queue_.pop_front();
    }
    call();
  }
}

}  // namespace swell::provider
