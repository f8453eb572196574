#pragma once

// The client side of the head's API, for the CLI and the node daemons. No gRPC types leak
// out of this header; a HeadClient owns one channel and is safe to use from many threads.

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "rpc/api.h"
#include "rpc/swell.pb.h"

namespace swell::rpc {

struct Endpoint {
  // "unix:/path/head.sock" or "host:port".
  std::string address;
  // The cluster secret, when the caller has it (nodes, remote clients).
  std::string secret;
  // For "host:port" when enabled: TLS, the head's certificate checked against `tls.ca` (and
  // issued for the name "swell-head"), this side's certificate and key presented.
  TlsFiles tls;
};

// The name the head's TLS certificate is issued for, whatever address it is reached at.
inline constexpr char kHeadTlsName[] = "swell-head";

// A node's bidirectional session with the head. One thread may Read while another Writes.
class NodeLink : public Stream<pb::HeadMessage, pb::NodeMessage> {
 public:
  // Unblocks Read and Write and ends the session; safe from any thread.
  virtual void Close() = 0;
};

// Lets another thread (a signal watcher) end a streaming call in progress.
class CallCanceller {
 public:
  void Cancel();
  bool cancelled() const;
  // Used by the client: `fn` ends the call; it runs at once if Cancel came first.
  void Arm(std::function<void()> fn);
  void Disarm();

 private:
  mutable std::mutex mu_;
  std::function<void()> fn_;  // GUARDED_BY(mu_)
  bool cancelled_ = false;    // GUARDED_BY(mu_)
};

class HeadClient {
 public:
  // Creates a channel; does not wait for the head (calls fail with Unavailable if it is down).
  static std::unique_ptr<HeadClient> Create(const Endpoint& endpoint);
  virtual ~HeadClient() = default;

  virtual Result<pb::SubmitReply> Submit(const pb::SubmitRequest&) = 0;
  virtual Result<pb::QueueReply> Queue(const pb::QueueRequest&) = 0;
  // Queue's reply parsed into `out`, which may live on an arena (squeue parses a listing of
  // 100,000 jobs onto one whose memory is in huge pages: slurm_cmds.cc).
  virtual Status QueueInto(const pb::QueueRequest&, pb::QueueReply* out) = 0;
  virtual Result<pb::InfoReply> Info(const pb::InfoRequest&) = 0;
  virtual Result<pb::CancelReply> Cancel(const pb::CancelRequest&) = 0;
  virtual Result<pb::NodesReply> Nodes(const pb::NodesRequest&) = 0;
  virtual Result<pb::StatsReply> Stats(const pb::StatsRequest&) = 0;
  virtual Result<pb::OverviewReply> Overview(const pb::OverviewRequest&) = 0;
  // Calls `on_event` for every event; stops early when it returns false. OK when the stream
  // ended normally (all waited tasks terminal).
  virtual Status Wait(const pb::WaitRequest&,
                      const std::function<bool(const pb::WaitEvent&)>& on_event) = 0;
  // Runs a step; calls `on_event` for every event until the step ends (OK) or `canceller`
  // (optional) ends the call, which ends the step's ranks.
  virtual Status Exec(const pb::ExecRequest&,
                      const std::function<void(const pb::ExecEvent&)>& on_event,
                      CallCanceller* canceller) = 0;
  // Waits up to `timeout` for the head to answer a connection.
  virtual Status WaitReady(Duration timeout) = 0;
  virtual Result<std::unique_ptr<NodeLink>> OpenNodeSession() = 0;
  // A node session with no thread waiting on it, for a process that plays many nodes
  // (bench/head_load): `in` is handed the head's messages on gRPC's threads and must outlive
  // the session; what is sent is queued. Destroying the returned sender closes the session and
  // waits for its end (`in`'s OnEnd has then run).
  virtual Result<std::unique_ptr<Sender<pb::NodeMessage>>> StartNodeSession(
      Receiver<pb::HeadMessage>* in) = 0;
  // Job accounting (sacct): one page of the recorded jobs.
  virtual Result<pb::HistoryReply> History(const pb::HistoryRequest&) {
    return InvalidArgument("job history is not available");
  }
  virtual Result<pb::ControlReply> Control(const pb::ControlRequest&) = 0;
  virtual Result<pb::TokenReply> Token(const pb::TokenRequest&) = 0;
  virtual Result<pb::UserCertReply> UserCert(const pb::UserCertRequest&) = 0;
  virtual Result<pb::RevokeReply> Revoke(const pb::RevokeRequest&) = 0;
  virtual Result<pb::RenewReply> Renew(const pb::RenewRequest&) = 0;
  virtual Result<pb::RotateReply> Rotate(const pb::RotateRequest&) = 0;

  // Deadline for unary calls (default 30 s).
  void set_timeout(Duration d) { timeout_ = d; }

 protected:
  Duration timeout_ = std::chrono::seconds(30);
};

// A node's join with a token (tls/join.h) at `address` ("host:port" of a TLS head, or
// "unix:path"). Over TCP it speaks TLS but checks nothing of the head's certificate: the
// node has no CA yet, and the reply's proof is what it checks.
Result<pb::JoinReply> Join(const std::string& address, const pb::JoinRequest& request,
                           Duration timeout);

// Sets gRPC up for a process that lives for one command (the CLI). Call it first thing in main,
// before any client exists; not thread-safe.
// - gRPC's runtime, once a client started it, stays up when the last client is destroyed, so
//   that destroying a client does not wait ~2 ms for gRPC's threads to stop. The process must
//   then end with _exit (after flushing its output), not by returning from main or exit():
//   gRPC's threads would still run while static destructors do.
// (absl's mutex deadlock detection, on in Debian's absl, is turned off by HeadClient::Create
// and the server, for every process: it records every lock gRPC takes in a graph.)
void SetUpForOneCommand();

}  // namespace swell::rpc
