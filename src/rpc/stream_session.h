#pragma once

// A node session's sending half over a blocking stream (RunNodeSession, api.h): what the head
// sends is queued and written by a thread of the session's, so that the head's loop never
// blocks on a slow node. Thread-safe: the head calls Send and Close, the session's thread runs
// WriteLoop, and its reader calls Ended once the stream is gone.

#include <condition_variable>
#include <deque>
#include <mutex>

#include "rpc/api.h"

namespace swell::rpc {

class StreamOut final : public SessionOut {
 public:
  explicit StreamOut(Stream<pb::NodeMessage, pb::HeadMessage>* stream) : stream_(stream) {}

  void Send(pb::HeadMessage m) override;
  // Stops the writer and cancels the stream, unless it has ended already.
  void Close() override;
  // Called before the stream goes away: nothing touches it after.
  void Ended();
  // Writes what Send queues, in order, until Close(), Ended() or a broken stream.
  void WriteLoop();

 private:
  Stream<pb::NodeMessage, pb::HeadMessage>* stream_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<pb::HeadMessage> out_;  // GUARDED_BY(mu_)
  bool closed_ = false;              // GUARDED_BY(mu_)
  bool ended_ = false;               // GUARDED_BY(mu_): the stream is gone
};

}  // namespace swell::rpc
