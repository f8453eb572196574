#include "rpc/stream_session.h"

#include <thread>

namespace swell::rpc {

void StreamOut::Send(pb::HeadMessage m) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    out_.push_back(std::move(m));
  }
  cv_.notify_one();
}

void StreamOut::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  if (!ended_) stream_->Cancel();
  cv_.notify_one();
}

void StreamOut::Ended() {
  std::lock_guard<std::mutex> lock(mu_);
  ended_ = true;
  closed_ = true;
  cv_.notify_one();
}

void StreamOut::WriteLoop() {
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

Status RunNodeSession(HeadApi& api, const Caller& who,
                      Stream<pb::NodeMessage, pb::HeadMessage>& stream) {
  auto out = std::make_shared<StreamOut>(&stream);
  std::unique_ptr<SessionIn> in = api.OpenNodeSession(who, out);
  std::thread writer([out] { out->WriteLoop(); });
  pb::NodeMessage msg;
  while (stream.Read(&msg)) {
    bool more = in->OnMessage(msg);
    msg.Clear();
    if (!more) break;
  }
  in->OnEnd();
  out->Ended();
  writer.join();
  return Status::Ok();
}

}  // namespace swell::rpc
