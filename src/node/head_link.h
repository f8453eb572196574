#pragma once

// The node's session with the head, and the task reports the node owes the head.
//
// Session: a link thread keeps one open, on a fresh channel per attempt, waiting 50 ms after a
// failed attempt, doubling up to 1 s, and 50 ms again after a session that carried messages. It
// posts what it reads and wakes the node loop, which takes it with Drain(). A writer thread
// sends what the loop queues with Send(), merging consecutive report batches into one message.
// When a session opens the node registers (with its running and queued tasks and the reports
// the head has not acked); reports wait until the head accepts the registration. Messages
// queued for a session that ends are dropped.
//
// Reports: each gets the next sequence number and is kept until the head acks it (a
// HeadMessage's `ack` covers every seq up to it), so a node that loses the head loses no
// report: its next Register carries them. One batch is in flight at a time: while the head
// commits it, the next grows. A busy node also holds its reports up to 20 ms (or 512 of them)
// so that a stream of short tasks costs the head one pass per batch; an idle node sends at
// once. A task that started and ended within one batch is reported once, by its end.
//
// Threads: Start, Drain, Send, Report, Flush, Heartbeat and the accessors run on the node loop
// and are not thread-safe; the two threads touch only the inbox and outbox (each under its
// mutex).

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>

#include "common/clock.h"
#include "rpc/client.h"

namespace swell::node {

class HeadLink {
 public:
  struct Options {
    std::string name;          // the node's, for logs
    std::string head_address;  // "unix:/path" or "host:port"
    std::string secret;
    Duration heartbeat = std::chrono::seconds(1);
    rpc::TlsFiles tls;  // over TCP: the node's certificate (docs/security.md)
  };
  struct Handlers {
    // From the link thread: something arrived; the loop should call Drain soon.
    std::function<void()> wake;
    // On the loop, when a session opens: the node's part of its Register (who it is, what
    // runs and what is queued); the link adds the unacked reports and the sequence numbers.
    std::function<void(pb::Register*)> describe;
    // On the loop: a message of the current session. A refused registration
    // (registered().ok() false) is passed on too, and its ack is ignored.
    std::function<void(const pb::HeadMessage&)> receive;
  };

  // `clock` must outlive the link. Nothing starts before Start().
  HeadLink(Options options, Clock* clock, Handlers handlers);
  // Stops the threads if Stop() has not.
  ~HeadLink();
  HeadLink(const HeadLink&) = delete;
  HeadLink& operator=(const HeadLink&) = delete;

  // Starts the link and writer threads.
  void Start();
  // The node stops: no new session after this one; the writer ends when it finds nothing to
  // send.
  void BeginStop();
  // Waits up to a second for the writer to empty the outbox, ends the session and joins the
  // threads.
  void Stop();

  // Takes what the link thread posted: opens and ends sessions (a new session registers),
  // passes the current session's messages to `receive` and applies their acks. Messages of an
  // earlier session are dropped.
  void Drain();
  // Queues a message for the current session (dropped if it ends first).
  void Send(pb::NodeMessage msg);
  // Keeps a report until the head acks it; Flush sends it.
  void Report(pb::TaskReport report);
  // Sends the reports not yet sent, as one batch, when the head has acked the one before and
  // (on a `busy` node, one that runs tasks) enough of them are ready or waited long enough.
  void Flush(bool busy);
  // Sends a heartbeat when one is due.
  void Heartbeat(Time now);
  // When the loop should next wake for the link: the next heartbeat, or the end of a held
  // batch (with no session: a second from `now`).
  Time NextDeadline(Time now) const;

  // A session is open.
  bool up() const { return up_; }
  // The head accepted this session's registration (registered ⊆ up).
  bool registered() const { return registered_; }
  // Registered, with reports not yet sent or a batch not yet acked.
  bool pending() const {
    return registered_ && (sent_seq_ + 1 < next_seq_ || acked_seq_ < sent_seq_);
  }

 private:
  struct LinkUp {
    std::shared_ptr<rpc::NodeLink> link;
    uint64_t gen;
  };
  struct LinkDown {
    uint64_t gen;
  };
  struct FromHead {
    pb::HeadMessage msg;
    uint64_t gen;
  };
  using Inbound = std::variant<LinkUp, LinkDown, FromHead>;

  void LinkThread();
  void WriterThread();
  void Post(Inbound in);
  void Handle(Inbound& in);
  void Register();
  void Ack(uint64_t ack);

  const Options opt_;
  Clock* const clock_;
  const Handlers handlers_;
  std::thread link_thread_;
  std::thread writer_thread_;
  std::atomic<bool> stopping_{false};

  std::mutex in_mu_;
  std::deque<Inbound> inbox_;  // GUARDED_BY(in_mu_)

  std::mutex out_mu_;
  std::condition_variable out_cv_;
  std::deque<pb::NodeMessage> outbox_;       // GUARDED_BY(out_mu_)
  std::shared_ptr<rpc::NodeLink> out_link_;  // GUARDED_BY(out_mu_)

  std::mutex link_mu_;
  std::condition_variable link_cv_;
  std::shared_ptr<rpc::NodeLink> current_link_;  // GUARDED_BY(link_mu_), for Close at stop

  // Loop-only state below. Seqs: acked <= sent < next; unacked_ holds the reports of seqs
  // unacked_seq_, in order (acked < seq < next).
  std::deque<pb::TaskReport> unacked_;
  std::deque<uint64_t> unacked_seq_;
  uint64_t next_seq_ = 1;
  uint64_t sent_seq_ = 0;
  uint64_t acked_seq_ = 0;
  Time first_unsent_;  // when the oldest report not yet sent was made
  uint64_t gen_ = 0;   // of the current session
  bool up_ = false;
  bool registered_ = false;
  Time next_heartbeat_;
};

}  // namespace swell::node
