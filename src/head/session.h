#pragma once

// The head's side of one node's session: the messages the loop sends the node, written to its
// stream by a thread of the session's handler, so that the loop never blocks on a slow node.
// Thread-safe: the loop calls Send and Close, the handler runs WriteLoop and calls Ended.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>

#include "rpc/api.h"

namespace swell::head {

class Session {
 public:
  explicit Session(rpc::Stream<pb::NodeMessage, pb::HeadMessage>* stream) : stream_(stream) {}

  // Queues `m` for the writer; dropped once the session is closed.
  void Send(pb::HeadMessage m);
  // Stops the writer and ends the stream (the node sees it break), unless the session's
  // handler has already returned.
  void Close();
  // Called by the session's handler before it returns; the stream is gone after that.
  void Ended();
  // Writes what Send queues, in order, until Close(), Ended() or a broken stream.
  void WriteLoop();
  // The handler counts every message the node sends; the loop, seeing the count move, takes
  // the node as seen (a heartbeat wakes no one: 1,000 nodes at 1 Hz are 1,000 loop passes a
  // second otherwise).
  void Heard() { heard_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t heard() const { return heard_.load(std::memory_order_relaxed); }

 private:
  rpc::Stream<pb::NodeMessage, pb::HeadMessage>* stream_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<pb::HeadMessage> out_;  // GUARDED_BY(mu_)
  bool closed_ = false;              // GUARDED_BY(mu_)
  bool ended_ = false;               // GUARDED_BY(mu_): the handler returned
  std::atomic<uint64_t> heard_{0};
};

}  // namespace swell::head
