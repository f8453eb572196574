#pragma once

// The head: the durable job queue and the one reconcile loop that drives it.
//
// Threads: gRPC handler threads call the HeadApi methods; each posts a closure to the loop and
// waits for its answer. The loop thread owns every piece of state below, applies the closures
// of one pass inside one SQLite transaction, runs the scheduler, commits, and only then answers
// callers and sends launches to nodes. So an answer is never given for state that is not on
// disk, and a task is never launched before its dispatch is on disk: after a crash the head
// neither loses a job nor runs a task twice.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "head/autoscaler/autoscaler.h"
#include "head/elastic/pool.h"
#include "head/overview.h"
#include "provider/provider.h"
#include "rpc/api.h"

namespace swell::head {

// An elastic cluster: node types (one partition each), the autoscaler policy that sizes them
// and the provider that makes and deletes their nodes (docs/autoscaler.md, docs/providers.md).
struct ElasticOptions {
  std::vector<autoscaler::NodeType> types;
  std::string policy = "clic";
  autoscaler::PolicyOptions policy_options;
  elastic::PoolOptions pool;
  Duration interval = std::chrono::seconds(1);        // between autoscaler decisions
  Duration list_interval = std::chrono::seconds(10);  // between provider List() reconciles
  int max_preemptions = 2;  // a job requeued this often by lost nodes avoids spot types
  std::shared_ptr<provider::Provider> provider;
  int provider_threads = 4;  // provider calls run here, never on the loop
};

struct HeadOptions {
  std::string state_path;                            // SQLite database
  std::string unix_path;                             // local socket
  std::string tcp_address;                           // "host:port", empty for none
  std::string secret;                                // cluster secret
  rpc::TlsFiles tls;  // when enabled, TCP speaks TLS and callers are named by certificate
  std::string ca_key;  // the cluster CA's key file: signs the certificates of joining nodes
  Duration node_timeout = std::chrono::seconds(10);  // silent this long: the node is down
  int dispatch_depth = 128;                          // tasks queued on a node per lease slot
  Duration tick = std::chrono::milliseconds(250);    // housekeeping period
  Duration pmix_timeout = std::chrono::seconds(300);  // a PMIx fence waits this long at most
  std::string mail_prog;  // Slurm's MailProg for --mail-type (head/job_mail.h); "" for none
  // Submissions are refused while the state database's filesystem has less free than this:
  // the room the queue's own writes (node reports, job ends) keep needing.
  int64_t min_free_bytes = int64_t{64} << 20;
  std::optional<ElasticOptions> elastic;             // none: a static cluster
};

class Head final : public rpc::HeadApi {
 public:
  // Opens the state and loads it; does not serve yet.
  static Result<std::unique_ptr<Head>> Open(const HeadOptions& options, Clock* clock);
  ~Head() override;

  // Starts the loop and the server.
  Status Start();
  // Stops serving and the loop; idempotent. Running tasks on nodes are not touched.
  void Stop();
  int tcp_port() const;

  // HeadApi
  Result<pb::SubmitReply> Submit(const rpc::Caller&, const pb::SubmitRequest&) override;
  Result<pb::QueueReply> Queue(const rpc::Caller&, const pb::QueueRequest&) override;
  Result<pb::InfoReply> Info(const rpc::Caller&, const pb::InfoRequest&) override;
  Result<pb::CancelReply> Cancel(const rpc::Caller&, const pb::CancelRequest&) override;
  Result<pb::NodesReply> Nodes(const rpc::Caller&, const pb::NodesRequest&) override;
  Result<pb::StatsReply> Stats(const rpc::Caller&, const pb::StatsRequest&) override;
  Result<pb::OverviewReply> Overview(const rpc::Caller&, const pb::OverviewRequest&) override;
  // The same, in-process (the dashboard).
  Result<head::Overview> Snapshot();
  Status Wait(const rpc::Caller&, const pb::WaitRequest&, rpc::Writer<pb::WaitEvent>&) override;
  Status Exec(const rpc::Caller&, const pb::ExecRequest&, rpc::Writer<pb::ExecEvent>&) override;
  std::unique_ptr<rpc::SessionIn> OpenNodeSession(const rpc::Caller&,
                                                  std::shared_ptr<rpc::SessionOut>) override;
  Result<pb::HistoryReply> History(const rpc::Caller&, const pb::HistoryRequest&) override;
  Result<pb::ControlReply> Control(const rpc::Caller&, const pb::ControlRequest&) override;
  // Nodes and users on other machines: tokens, certificates, revocation (docs/security.md).
  Result<pb::TokenReply> Token(const rpc::Caller&, const pb::TokenRequest&) override;
  Result<pb::JoinReply> Join(const rpc::Caller&, const pb::JoinRequest&) override;
  Result<pb::UserCertReply> UserCert(const rpc::Caller&, const pb::UserCertRequest&) override;
  Status Admit(const rpc::Caller&) override;
  Result<pb::RevokeReply> Revoke(const rpc::Caller&, const pb::RevokeRequest&) override;
  Result<pb::RenewReply> Renew(const rpc::Caller&, const pb::RenewRequest&) override;
  Result<pb::RotateReply> Rotate(const rpc::Caller&, const pb::RotateRequest&) override;

  class Impl;

 private:
  explicit Head(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Slurm's name of a state ("PENDING", "NODE_FAIL"...).
const char* StateName(pb::JobState s);
bool IsTerminal(pb::JobState s);

}  // namespace swell::head
