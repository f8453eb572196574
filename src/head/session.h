#pragma once

// The head's side of one node's session: what the loop sends the node goes to the transport's
// queue (rpc::SessionOut: the loop never blocks on a slow node), and a count of what the node
// sent tells the loop it is alive.

#include <atomic>
#include <memory>
#include <utility>

#include "rpc/api.h"

namespace swell::head {

class Session {
 public:
  explicit Session(std::shared_ptr<rpc::SessionOut> out) : out_(std::move(out)) {}

  void Send(pb::HeadMessage m) { out_->Send(std::move(m)); }
  // Ends the stream (the node sees it break).
  void Close() { out_->Close(); }
  // The session counts every message the node sends; the loop, seeing the count move, takes
  // the node as seen (a heartbeat wakes no one: 1,000 nodes at 1 Hz are 1,000 loop passes a
  // second otherwise).
  void Heard() { heard_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t heard() const { return heard_.load(std::memory_order_relaxed); }

 private:
  std::shared_ptr<rpc::SessionOut> out_;
  std::atomic<uint64_t> heard_{0};
};

}  // namespace swell::head
