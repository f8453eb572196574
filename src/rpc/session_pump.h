#pragma once

// What both ends of a node session on gRPC's callback API share (server.cc's reactor for the
// head, client.cc's for bench/head_load): handing on what was read, and queueing what is sent.

#include <deque>

#include "rpc/api.h"

namespace swell::rpc {

// A read ended (`ok`: with `msg`). True when `in` took the message and the next read may start;
// false when the session is over, after `in`'s OnEnd.
template <typename M>
bool Delivered(bool ok, Receiver<M>* in, M* msg) {
  if (ok && in->OnMessage(*msg)) {
    msg->Clear();
    return true;
  }
  in->OnEnd();
  return false;
}

// gRPC's callback API allows one write under way per call: a session's messages wait here and
// are written one at a time, in order. Not thread-safe: its owner locks around every call, and
// starts the write each call returns.
template <typename M>
class WriteQueue {
 public:
  // Queues `m`: the message to start writing now, or null while a write is under way.
  const M* Push(M m) {
    queue_.push_back(std::move(m));
    if (writing_) return nullptr;
    writing_ = true;
    return &queue_.front();
  }
  // The write under way ended: the next message to write, or null (none, or `go_on` false:
  // the rest is dropped). No write is under way after a null.
  const M* Done(bool go_on) {
    queue_.pop_front();
    if (!go_on) queue_.clear();
    writing_ = !queue_.empty();
    return writing_ ? &queue_.front() : nullptr;
  }
  // Drops what is not yet being written (gRPC reads the one under way until it is done).
  void DropQueued() { queue_.resize(writing_ ? 1 : 0); }
  bool writing() const { return writing_; }

 private:
  std::deque<M> queue_;  // the front is being written while writing_
  bool writing_ = false;
};

}  // namespace swell::rpc
