#pragma once

// `swell autoscale`: CLIC's daemon next to a real Slurm (22.05+). Every pass it reads Slurm's
// jobs and nodes, runs the very policy code of the head and of `swell sim` (the reconcile core
// and the elastic pool) per node type, and acts through swell's providers, whose node daemon is
// then Slurm's slurmd started as a dynamic node (docs/slurm-autoscale.md):
//
//  - create: the provider makes the machine and starts `slurmd -Z --conf "... Feature=<type>"`
//    there; the node joins its type's partition when slurmd registers (the pool's `booting`
//    until then; not registered within the boot timeout: deleted, its demand comes back and may
//    go to another type, as on swell's own head: a job routed by swell's job_submit.lua whose
//    type is backed off is given every type that fits as its partitions, `small,large`).
//  - delete (an idle node the policy lets go, or a failed one): DRAIN in Slurm first, so that
//    nothing new starts there; once Slurm shows nothing running on it, the machine goes
//    (slurmd with it) and `scontrol delete nodename=` removes the node. A node that got work
//    before the drain took effect is waited for, never deleted with a job on it.
//
// No slurmctld restart or reconfigure ever: dynamic nodes join and leave a running controller.

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "head/autoscaler/autoscaler.h"
#include "head/elastic/pool.h"
#include "head/state/store.h"
#include "provider/provider.h"
#include "provider/provider_calls.h"
#include "slurm/slurm_state.h"

namespace swell::slurm {

// What the daemon asks of Slurm. The real one runs Slurm's commands (MakeSlurmCommands); unit
// tests use a fake. Thread-safe: provider threads drain and delete while the loop reads.
class SlurmControl {
 public:
  virtual ~SlurmControl() = default;
  virtual Result<std::vector<SlurmJob>> Jobs() = 0;    // squeue --json
  virtual Result<std::vector<SlurmNode>> Nodes() = 0;  // sinfo --json
  // scontrol update nodename=NODE state=DRAIN reason=REASON
  virtual Status Drain(const std::string& node, const std::string& reason) = 0;
  // scontrol delete nodename=NODE; Ok when Slurm does not know the node (any more).
  virtual Status DeleteNode(const std::string& node) = 0;
  // scontrol update jobid=ID partition=PARTITIONS (a pending job).
  virtual Status SetPartitions(int64_t job, const std::string& partitions) = 0;
};

// Slurm's own commands (squeue, sinfo, scontrol from PATH) with SLURM_CONF=`slurm_conf` when
// not empty; each run is killed after `timeout`.
std::unique_ptr<SlurmControl> MakeSlurmCommands(std::string slurm_conf, Duration timeout);

// slurmd's command line for node `name` of `type`: `slurmd -D -Z --conf "<DynamicNodeConf>"
// -N name [-f slurm_conf]`, after making `spool_dir`/name/{spool,tmp} when `spool_dir` is not
// empty (a slurm.conf with SlurmdSpoolDir=<spool_dir>/%n/spool and TmpFS=<spool_dir>/%n/tmp,
// as the embedded Slurm's). For ProviderContext::node_command.
std::vector<std::string> SlurmdCommand(const std::string& slurmd, const std::string& slurm_conf,
                                       const std::string& spool_dir, const std::string& name,
                                       const head::autoscaler::NodeType& type);

struct SlurmNodeOptions {
  Duration idle_wait = std::chrono::seconds(30);  // a Delete waits this long for a drained node
  Duration poll = std::chrono::milliseconds(250);
  std::string reason = "swell: scale-in";
};

// Slurm's nodes as a provider: Create and List are `inner`'s; Delete drains the node in Slurm,
// waits (up to idle_wait; then Unavailable, and the pool retries) until nothing runs there, has
// `inner` delete the machine and removes the node from Slurm.
std::unique_ptr<provider::Provider> MakeSlurmNodeProvider(std::unique_ptr<provider::Provider> inner,
                                                          SlurmControl* slurm,
                                                          SlurmNodeOptions options);

struct AutoscaleOptions {
  std::vector<head::autoscaler::NodeType> types;
  std::string policy = "clic";
  head::autoscaler::PolicyOptions policy_options;
  head::elastic::PoolOptions pool;
  Duration interval = std::chrono::seconds(1);
  // A registered node that Slurm shows down or not responding this long is lost: the pool
  // fails it (and deletes it).
  Duration lost_after = std::chrono::seconds(60);
  Duration list_interval = std::chrono::seconds(30);  // provider List, to delete leftovers
  int provider_threads = 8;
  // When not empty: a CSV line per node gone, for accounting (what was paid for, and when
  // each node was ready): name,type,requested_ms,ready_ms,gone_ms,failed,delete_ms (the time
  // from the first delete call to gone: drain, wait, machine, `scontrol delete`).
  std::string ledger;
  // When not empty: the pool's records are kept in this SQLite file (the head's store) and
  // read back at start, so that a restarted daemon carries on with the nodes it made (a node
  // deleted meanwhile is settled by the provider's List and Slurm's view, as at any time).
  std::string state;
};

class Autoscaler {
 public:
  // `slurm`, `provider` and `clock` outlive the object.
  static Result<std::unique_ptr<Autoscaler>> Make(AutoscaleOptions options, SlurmControl* slurm,
                                                  provider::Provider* provider, Clock* clock);
  ~Autoscaler();
  Autoscaler(const Autoscaler&) = delete;
  Autoscaler& operator=(const Autoscaler&) = delete;

  // One pass: settles the provider calls that ended, reads Slurm, tells the pool which nodes
  // registered, are busy or idle, or are lost, runs the policy and starts the provider calls it
  // makes. An error when Slurm cannot be read (nothing is decided then).
  Status Pass();
  // Passes every interval until `stop`; then lets the calls under way end.
  void Run(const std::atomic<bool>& stop);

  const head::elastic::Pool& pool() const { return pool_; }

 private:
  Autoscaler(AutoscaleOptions options, std::unique_ptr<head::autoscaler::Policy> policy,
             SlurmControl* slurm, provider::Provider* provider, Clock* clock);
  Status Load();
  // The pool's changed records: kept (state), and a gone node's life to the ledger.
  void Record();
  void Start(std::vector<head::elastic::Call> calls);
  void Settle(Time now);
  void CountArrivals(const std::vector<SlurmJob>& jobs);
  void Widen(const std::vector<SlurmJob>& jobs,
             const std::vector<head::reconcile::WaitingJob>& waiting,
             const head::reconcile::Routing& routing, Time now);

  AutoscaleOptions opt_;
  std::unique_ptr<head::autoscaler::Policy> policy_;
  SlurmControl* slurm_;
  provider::Provider* provider_;
  Clock* clock_;
  head::elastic::Pool pool_;
  provider::ProviderCalls calls_;
  std::unique_ptr<head::state::Store> store_;  // when opt_.state is set

  std::mutex mu_;
  std::deque<std::pair<head::elastic::Call, Status>> done_;  // GUARDED_BY(mu_)

  std::map<std::string, Time> away_since_;      // registered nodes Slurm shows down
  std::map<std::string, Time> deleting_since_;  // the first delete call of a node
  std::map<int64_t, bool> seen_jobs_;           // for arrivals (lookahead); value: seen this pass
  std::map<int64_t, Time> widened_;  // jobs given more partitions: when (tried again later)
  std::vector<int64_t> arrived_;     // per type, cumulative
  Time next_list_;
};

}  // namespace swell::slurm
