#include "head/session.h"

namespace swell::head {

void Session::Send(pb::HeadMessage m) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    out_.push_back(std::move(m));
  }
  cv_.notify_one();
}

void Session::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  if (!ended_) stream_->Cancel();
  cv_.notify_one();
}

void Session::Ended() {
  std::lock_guard<std::mutex> lock(mu_);
  ended_ = true;
  closed_ = true;
  cv_.notify_one();
}

void Session::WriteLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return closed_ || !out_.empty(); });
    if (closed_) return;
    std::deque<pb::HeadMessage> batch;
    batch.swap(out_);
    lock.unlock();
    for (auto& m : batch) {
      if (!stream_->Write(m)) {
        lock.lock();
        closed_ = true;
        return;
      }
    }
    lock.lock();
  }
}

}  // namespace swell::head
