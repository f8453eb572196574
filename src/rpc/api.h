#pragma once

// The seam between the gRPC transport and swell's own code. Nothing here includes gRPC:
// the head implements HeadApi with plain protobuf messages, and the adapter in server.cc
// turns gRPC calls into calls on it. Clients use HeadClient (client.h).

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "rpc/swell.pb.h"

namespace swell::rpc {

// Who is calling. Over the unix socket the kernel names the peer (SO_PEERCRED). Over TCP with
// TLS the caller's certificate, issued by the cluster's CA, names it: "node:<name>" a node,
// "user:<name>" a user (docs/security.md); over plain TCP a caller is admitted only with the
// cluster secret and then names itself.
struct Caller {
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  pid_t pid = 0;
  bool local = false;       // came over the unix socket
  bool has_secret = false;  // presented the cluster secret
  std::string node;         // TLS: the node its certificate was issued to ("" otherwise)
  std::string user;         // resolved user name, may be empty
  std::string peer;         // for logs
  // TLS: when its certificate was issued (its notBefore plus tls::kBackdate); 0 otherwise.
  int64_t cert_issued_ms = 0;
};

// A message stream in one direction. Read blocks until a message arrives and returns false
// once the stream ended or was cancelled. Write blocks until the message is handed to the
// transport and returns false when the stream is broken. One reader and one writer may use a
// stream concurrently (gRPC's rule for sync streams); two writers may not.
template <typename In, typename Out>
class Stream {
 public:
  virtual ~Stream() = default;
  virtual bool Read(In* msg) = 0;
  virtual bool Write(const Out& msg) = 0;
  // Ends the stream from this side; Read and Write then fail. Safe from any thread while the
  // stream exists.
  virtual void Cancel() = 0;
};

template <typename Out>
class Writer {
 public:
  virtual ~Writer() = default;
  virtual bool Write(const Out& msg) = 0;
  virtual bool Cancelled() const = 0;
};

// A node session, as the transport drives it: no thread waits on a session (1,000 nodes were
// 2,000 threads, and handing each heartbeat from gRPC's thread to the session's was half of
// what 1,000 nodes cost the head: docs/BENCHMARKS.md). The head holds a SessionOut and
// implements a SessionIn; a process that plays many nodes (bench/head_load) the mirror image.
//
// The sending half, implemented by the transport: messages are queued and written in order
// without blocking the sender. Thread-safe.
template <typename Out>
class Sender {
 public:
  virtual ~Sender() = default;
  // Queues `m`; dropped once the session is closed or its stream broke.
  virtual void Send(Out m) = 0;
  // Ends the stream (the other side sees it break). Safe at any time, also after it ended.
  virtual void Close() = 0;
};

// The receiving half: the transport hands it each message in order, never two at once, then
// calls OnEnd once (the other side went, the stream broke, or it was closed).
template <typename In>
class Receiver {
 public:
  virtual ~Receiver() = default;
  // False ends the session (the transport ends the stream; OnEnd follows).
  virtual bool OnMessage(In& msg) = 0;
  virtual void OnEnd() = 0;
};

using SessionOut = Sender<pb::HeadMessage>;
using SessionIn = Receiver<pb::NodeMessage>;

// Implemented by the head. Every method may be called from many gRPC threads at once.
class HeadApi {
 public:
  virtual ~HeadApi() = default;
  virtual Result<pb::SubmitReply> Submit(const Caller&, const pb::SubmitRequest&) = 0;
  virtual Result<pb::QueueReply> Queue(const Caller&, const pb::QueueRequest&) = 0;
  virtual Result<pb::InfoReply> Info(const Caller&, const pb::InfoRequest&) = 0;
  virtual Result<pb::CancelReply> Cancel(const Caller&, const pb::CancelRequest&) = 0;
  virtual Result<pb::NodesReply> Nodes(const Caller&, const pb::NodesRequest&) = 0;
  virtual Result<pb::StatsReply> Stats(const Caller&, const pb::StatsRequest&) = 0;
  virtual Result<pb::OverviewReply> Overview(const Caller&, const pb::OverviewRequest&) = 0;
  // Streams WaitEvents until every waited task is terminal (OK) or the caller goes away.
  virtual Status Wait(const Caller&, const pb::WaitRequest&, Writer<pb::WaitEvent>& out) = 0;
  // Runs a job step (or a relayed command) inside a running allocation, streaming its output
  // and its ranks' ends; the step ends when the caller goes away.
  virtual Status Exec(const Caller&, const pb::ExecRequest&, Writer<pb::ExecEvent>& out) = 0;
  // Opens one node's session, whose messages the head sends to `out`. Only callers with the
  // cluster secret or a node's certificate get here.
  virtual std::unique_ptr<SessionIn> OpenNodeSession(const Caller&,
                                                     std::shared_ptr<SessionOut> out) = 0;
  // Job accounting (sacct): recorded jobs with their tasks and steps, a page at a time.
  virtual Result<pb::HistoryReply> History(const Caller&, const pb::HistoryRequest&) {
    return InvalidArgument("job history is not kept here");
  }
  // scontrol's job control (hold, release, requeue, update...); answered once durable.
  virtual Result<pb::ControlReply> Control(const Caller&, const pb::ControlRequest&) {
    return Internal("Control is not implemented");
  }
  // Credentials of a TCP cluster (docs/security.md), each refused by a head that has none:
  // Token (`swell token`: a join token, durable before it is answered), Join (a node joins with
  // a token: any caller, certificate or not; the token is the credential), UserCert (`swell
  // cert`: the calling user's certificate), Revoke (`swell revoke`: certificates of a node or a
  // user stop admitting anyone), Renew (a node renews its certificate with the one it holds:
  // a TLS caller named node:<name>), Rotate (`swell rotate`: new certificates for the head and
  // the nodes, or a CA rollover's steps).
#define SWELL_CREDENTIAL_CALL(Method, refusal)                                          \
  virtual Result<pb::Method##Reply> Method(const Caller&, const pb::Method##Request&) { \
    return InvalidArgument("this head " refusal);                                       \
  }
  SWELL_CREDENTIAL_CALL(Token, "makes no join tokens")
  SWELL_CREDENTIAL_CALL(Join, "takes no joins")
  SWELL_CREDENTIAL_CALL(UserCert, "issues no user certificates")
  SWELL_CREDENTIAL_CALL(Revoke, "revokes no certificates")
  SWELL_CREDENTIAL_CALL(Renew, "renews no certificates")
  SWELL_CREDENTIAL_CALL(Rotate, "rotates no certificates")
#undef SWELL_CREDENTIAL_CALL
  // Every TLS caller, before its call or session: PermissionDenied for a revoked certificate,
  // or one of a CA no longer trusted.
  virtual Status Admit(const Caller&) { return Status::Ok(); }
};

// A node session over a blocking stream (the tests' fake nodes): reads until the stream ends,
// while a thread of its own writes what the head sends.
Status RunNodeSession(HeadApi& api, const Caller& who, Stream<pb::NodeMessage, pb::HeadMessage>& s);

// Files of a TLS identity (PEM): the CA certificates (one, or a bundle during a CA rollover)
// that the other side's must chain to, and this side's certificate and key. They are watched:
// rewritten files (`swell rotate`) are used for new connections without a restart, within 5 s
// by the server, from its next channel by a client.
struct TlsFiles {
  std::string ca, cert, key;
  bool enabled() const { return !ca.empty(); }
};

struct ServerOptions {
  std::string unix_path;    // required: the local socket (mode 0666; identity by peer creds)
  std::string tcp_address;  // optional "host:port"; port 0 picks a free one
  std::string secret;       // the cluster secret; TCP calls without it are refused
  // When enabled: TCP speaks TLS only (1.3 with any client that has it), and a caller is who
  // its certificate names; one without a certificate of the cluster's CA is refused.
  TlsFiles tls;
};

// Accepts connections itself (to read peer credentials) and hands them to a gRPC server.
class Server {
 public:
  virtual ~Server() = default;
  // The TCP port actually bound, 0 without TCP.
  virtual int tcp_port() const = 0;
  // Stops accepting, cancels streams, waits for handlers to return. Idempotent.
  virtual void Shutdown() = 0;
};

// Starts serving `api` (which must outlive the server).
Result<std::unique_ptr<Server>> StartServer(HeadApi* api, const ServerOptions& options);

}  // namespace swell::rpc
