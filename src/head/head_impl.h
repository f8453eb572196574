#pragma once

// Head::Impl, the head's one loop and the state it owns, shared by the files that implement it
// (internal to src/head): head.cc (the loop and the wiring), state_load.cc (loading the state),
// task_dispatch.cc (dispatch, leases, and applying the pure job
// lifecycle transitions of job_lifecycle.h), dependencies.cc, scheduling.cc (the
// reconcile core's adapter), node_sessions.cc (registration, reports, node failure),
// elastic_driver.cc (the autoscaler, the pool and provider calls), submit.cc and queries.cc
// (the API bodies), exec_routing.cc (job steps and relayed commands), credentials.cc (tokens,
// certificates, rotation and revocation).
//
// Runs on the head loop; not thread-safe, except where a member says otherwise.

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "head/autoscaler/autoscaler.h"
#include "head/elastic/pool.h"
#include "head/head.h"
#include "head/job_lifecycle.h"
#include "head/job_mail.h"
#include "head/job_model.h"
#include "head/overview.h"
#include "head/reconcile/reconcile.h"
#include "head/state/store.h"
#include "head/submit_check.h"
#include "head/waiting_index.h"
#include "provider/provider_calls.h"
#include "tls/cluster_tls.h"

namespace swell::head {

// A queue of kLongQueue or more waiting jobs is scheduled at most once a millisecond per
// kLongQueue of them, and never more than a third of the time (Head::Impl::next_schedule_).
inline constexpr int64_t kLongQueue = 1000;

struct SubmitCluster;  // submit_check.h

// One caller of Wait(): the loop pushes a fresh snapshot whenever the waited jobs change.
struct Waiter {
  std::vector<pb::JobRef> refs;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<pb::WaitEvent> events;  // GUARDED_BY(mu)
  bool closed = false;               // GUARDED_BY(mu): the head stops
  std::string last;                  // loop only: the last snapshot pushed
};

// One caller of Exec(): the events of its step's ranks, passed on by the caller's handler
// thread. The loop fills the fields above `mu` before the call is visible to anyone else.
struct ExecCall {
  int64_t id = 0;
  int64_t job_id = 0;  // the allocation's (task's) id, as the caller named it
  int64_t step_id = -1;
  std::string name;
  std::vector<std::string> nodes;
  std::vector<std::pair<int, int>> ranks;  // per node: first rank, count
  int ntasks = 0;
  int64_t start_ms = 0;
  // srun --mpi=pmix (pmix_relay.cc), loop only: the fences under way, by number, with the
  // nodes' parts (by the node's place in `nodes`); the status of a rank's PMIx_Abort.
  bool pmix = false;
  struct FenceRound {
    std::map<size_t, std::string> parts;
    Time started;
  };
  std::map<int, FenceRound> fences;
  std::optional<int> abort_status;
  bool rank_ended = false;  // a later fence cannot complete: it fails at once
  std::mutex mu;
  std::condition_variable cv;
  std::deque<pb::ExecEvent> events;  // GUARDED_BY(mu)
  std::set<int> ended;               // GUARDED_BY(mu)
  bool closed = false;               // GUARDED_BY(mu): the head stops
  // How its ranks ended, for the step's record (history.cc): GUARDED_BY(mu).
  int exit_code = 0;
  int signal = 0;
  bool failed = false;  // a rank could not start or lost its node
  int64_t max_rss_kb = 0, user_cpu_us = 0, sys_cpu_us = 0;

  // Queues `ev`; a rank's end counts once (its node's report and the node's loss may both
  // come).
  void Deliver(pb::ExecEvent ev) {
    std::lock_guard<std::mutex> lock(mu);
    if (ev.ended() && !ended.insert(ev.rank()).second) return;
    if (ev.ended()) {
      exit_code = std::max(exit_code, ev.exit_code());
      if (ev.signal() != 0 && signal == 0) signal = ev.signal();
      failed = failed || !ev.error().empty();
      max_rss_kb = std::max(max_rss_kb, ev.max_rss_kb());
      user_cpu_us += ev.user_cpu_us();
      sys_cpu_us += ev.sys_cpu_us();
    }
    events.push_back(std::move(ev));
    cv.notify_all();
  }
};

class Head::Impl {
 public:
  Impl(HeadOptions o, Clock* clock, std::unique_ptr<state::Store> store)
      : opt_(std::move(o)), clock_(clock), store_(std::move(store)) {
    if (!opt_.mail_prog.empty()) mail_ = std::make_unique<MailSender>();
  }

  Status Load();
  Status Start(HeadApi* api);
  void Stop();
  int tcp_port() const { return server_ ? server_->tcp_port() : 0; }

  // Runs `fn` on the loop; returns its result once the pass that ran it has committed.
  template <typename T>
  Result<T> OnLoop(std::function<Result<T>()> fn) {
    auto promise = std::make_shared<std::promise<Result<T>>>();
    auto future = promise->get_future();
    Post([this, fn = std::move(fn), promise] {
      auto r = std::make_shared<Result<T>>(fn());
      after_commit_.push_back([promise, r] { promise->set_value(std::move(*r)); });
    });
    try {
      return future.get();
    } catch (const std::future_error&) {
      return Unavailable("the head is stopping");
    }
  }
  void Post(std::function<void()> fn) {
    // Notify under the lock: Stop() takes it after the server's handlers are done, so the
    // loop's condition variable is never touched once Stop() has returned.
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    queue_.push_back(std::move(fn));
    cv_.notify_one();
  }

  // API bodies, run on the loop.
  Result<pb::SubmitReply> DoSubmit(const rpc::Caller& who, pb::JobSpec spec);
  // sbatch --test-only's estimate for a checked spec (submit.cc).
  pb::SubmitReply TestOnly(const pb::JobSpec& spec, const SubmitCluster& cluster, Time now);
  Result<pb::QueueReply> DoQueue(const rpc::Caller& who, const pb::QueueRequest& req);
  Result<pb::InfoReply> DoInfo(const pb::InfoRequest& req);
  Result<pb::CancelReply> DoCancel(const rpc::Caller& who, const pb::CancelRequest& req);
  Result<pb::NodesReply> DoNodes();
  Result<pb::StatsReply> DoStats();
  head::Overview DoOverview();  // overview.cc
  // Counts a task row written for `job` in counters_ (a start, an end).
  void Count(const Job& job, const state::TaskRow& r, Time now);
  Result<pb::WaitEvent> DoWaitSnapshot(const std::vector<pb::JobRef>& refs);
  // `certified`: the node its certificate names ("" when it came with the secret), issued at
  // `cert_issued_ms`.
  void DoRegister(const std::shared_ptr<Session>& s, uint64_t sid, const pb::Register& r,
                  const std::string& certified, int64_t cert_issued_ms);
  void DoReports(const std::string& node, uint64_t sid, const pb::ReportBatch& b);
  void DoSessionClosed(const std::string& node, uint64_t sid);
  void DoDraining(const std::string& node, uint64_t sid);

  // Job steps (Exec): started on the loop; their events are routed from node sessions here.
  Result<pb::ExecEvent> DoExecStart(const rpc::Caller& who, const pb::ExecRequest& req,
                                    const std::shared_ptr<ExecCall>& call);
  // The caller is done (`cancel`: it went away, so its ranks end).
  void DoExecGone(int64_t id, bool cancel);
  void RouteExec(const pb::ExecOutput& out);
  // PMIx fences and aborts of srun --mpi=pmix steps (pmix_relay.cc): a node's part of a fence;
  // once every node of the step has sent its part, each gets them all. A fence not complete
  // within pmix_timeout fails on every node, as does one whose step lost a node.
  void DoPmixFence(const std::string& node, uint64_t sid, const pb::PmixFence& f);
  void DoPmixAbort(const std::string& node, uint64_t sid, const pb::PmixAbort& a);
  void PmixTimers(Time now);
  void FailFences(ExecCall& call, const std::string& why);
  // scontrol's job control (job_control.cc).
  Result<pb::ControlReply> DoControl(const rpc::Caller& who, const pb::ControlRequest& req);
  // Credentials (credentials.cc; the rules are node_join.h's): join tokens and joins,
  // revocation, a node's renewal and `swell rotate`.
  Result<pb::TokenReply> DoToken(const pb::TokenRequest& req);
  Result<pb::JoinReply> DoJoin(const rpc::Caller& who, const pb::JoinRequest& req);
  Result<pb::RevokeReply> DoRevoke(const std::string& name);
  Result<pb::RenewReply> DoRenew(const std::string& node, const pb::RenewRequest& req);
  Result<pb::RotateReply> DoRotate(const pb::RotateRequest& req);
  // Reads when the CAs and the head's certificate were issued (at start, after a rotation).
  Status LoadCaTimes();
  // Revoked common names and until when their certificates were issued (store: revoked);
  // read by Admit on gRPC threads, written by the loop.
  std::mutex revoked_mu_;
  std::map<std::string, int64_t> revoked_;  // GUARDED_BY(revoked_mu_)
  // Certificates issued before this (ms) are of a CA no longer trusted (read by Admit).
  std::atomic<int64_t> oldest_ca_ms_{0};

  // Job accounting (history.cc): sacct's pages of recorded jobs; a step's row written when
  // it starts and when it ends (`cancelled`: its caller went away); steps a stopped head left
  // running, ended at load.
  Result<pb::HistoryReply> DoHistory(const pb::HistoryRequest& req);
  void RecordStep(const ExecCall& call, bool ended, bool cancelled);
  Status SettleSteps();

  std::atomic<uint64_t> next_session_id_{1};
  std::atomic<bool> stopping_{false};
  const HeadOptions& options() const { return opt_; }
  Clock* clock() const { return clock_; }

 private:
  void Loop();
  void Pass(std::vector<std::function<void()>>& work);
  // A pass's transaction: Begin starts it; Commit writes the jobs it changed (every job's
  // row when `all_jobs`) and its leases, commits, and then answers the requests, sends the
  // nodes their messages and starts the provider calls it made.
  void Begin();
  void Commit(bool all_jobs);
  void Housekeeping(Time now);
  // --signal, --deadline and --kill-on-invalid-dep: sends each running task's warning signal
  // when it comes due, ends a job that can no longer meet its deadline, cancels one whose
  // dependency can never be satisfied (job_timers.cc).
  void JobTimers(Time now);
  // Sends a step's ranks `signal` on each of its nodes (0: cancel them).
  void SignalStep(const ExecCall& call, int signal);
  // Asks a dispatched task's node, after this pass commits, to end it (signal 0) or to send it
  // `signal` (its batch shell alone when `shell_only`). Tasks of one job with one signal go in
  // one message. A node without a session ends the task when it registers again.
  void CancelTask(int64_t job_id, const Task& task, int signal = 0, bool shell_only = false);
  void Schedule(Time now);
  // The reconcile core's view of this head's state (head/reconcile/reconcile.h).
  void ClusterNodes(Time now, std::vector<reconcile::Node>* nodes,
                    std::vector<reconcile::Hold>* holds);
  // waiting_ with the jobs of `ids` as they are now (WaitingIndex::Refresh).
  void RefreshWaiting(std::vector<int64_t> ids);
  // waiting_ as of now: this pass's changes taken, gates (holds, begin times, dependencies)
  // judged again.
  const std::vector<reconcile::WaitingJob>& WaitingJobs(Time now);
  reconcile::WaitingJob WaitingOf(const Job& job) const;
  reconcile::Routing Routing(Time now) const;
  // The cluster's TLS files (from opt_.tls and opt_.ca_key).
  tls::ClusterTls ClusterFiles() const;
  // Asks the nodes connected over TLS that need to renew their certificates (node_join.h:
  // NeedsRenewal) and were not asked within kRenewRetry to do so, and renews the head's own a
  // month before it ends. Returns how many nodes were asked.
  int AskRenewals(Time now);
  // Records that this pass wrote; a failed write ends the process (see the definition).
  void Write(const Status& s);

  // Jobs and tasks.
  Job* FindJob(int64_t id);
  // The job a task id belongs to: a job's own id, or an array task's (SLURM_JOB_ID).
  Job* FindJobOfTask(int64_t task_id);
  void PutJobRow(Job& job);
  // Takes a job into jobs_ (submitted, loaded or reopened), with this head's touched_ list.
  Job& AddJob(Job job);
  // At the end of a pass: writes the rows of the jobs it changed and moves the finished ones
  // out of jobs_; `all` looks at every job (once a tick, for a change not marked).
  void FlushJobs(bool all);
  // Makes a lifecycle transition's changes durable and acts on them: task rows and events
  // written, the tasks that left let go by their leases (which refill or shrink), their
  // steps ended, the scheduler told.
  void Apply(Job& job, lifecycle::Changes& changes, Time now);
  void FinishTask(Job& job, int64_t pos, pb::JobState state, int exit_code, int signal, Time now);
  void RequeueTask(Job& job, int64_t pos, bool count_restart);
  void Dispatch(Job& job, Lease& lease, int64_t max_new, Time now);
  void MaintainLease(Job& job, Lease& lease, Time now);
  // How many tasks `lease` should have dispatched (queued or running) at most.
  int64_t DispatchTarget(const Job& job, const Lease& lease) const;
  void DispatchRanks(Job& job, Lease& lease, Time now);
  bool DispatchNext(Job& job, Lease& lease, const std::string& node, pb::Launch& launch,
                    Time now);
  void AttachSpec(const Job& job, const Lease& lease, NodeEntry& node, pb::Launch& l, Time now);
  void DropLease(Job& job, int64_t lease_id);
  // When the lease's resources are free again at the latest: the last start (or now, for
  // tasks not started) plus the time limit; kNever without a limit or while the job still
  // has tasks to dispatch (the lease may take more).
  Time LeaseEnd(const Lease& lease, Time now);
  void NodeFailed(NodeEntry& node, Time now, const std::string& why);
  // The lease's allocation lost `lost_node`: its tasks elsewhere are cancelled, and each of its
  // tasks runs again or ends NODE_FAIL. A job of ranks does so as one world, which always runs
  // again when `requeue_world`.
  void LoseLease(Job& job, int64_t lid, const std::string& lost_node, bool requeue_world,
                 Time now);
  pb::JobState DependencyState(const Job& job, std::string* reason);
  std::optional<int> RefState(const std::string& ref, bool* started);
  // `pending` also lists an array's pending indices: O(tasks), for listings only (waiters get
  // a snapshot every pass and must stay cheap).
  void FillInfo(const Job& job, pb::JobInfo* info, bool pending = false);
  void FillBrief(int64_t id, const state::JobRow& row, pb::JobInfo* info);
  bool RefillAllowed(const Job& job) const;
  void Changed() { changed_ = true; }
  void Event(Time t, const std::string& kind, int64_t job, const std::string& node,
             const std::string& detail);
  static int JobPriority(const pb::JobSpec& spec) { return -spec.nice(); }

  // The elastic pool (opt_.elastic): autoscaler decisions, node lifecycle, provider calls.
  void Autoscale(Time now);
  // Persists the pool's changed records and follows their phases on the head's side.
  void SyncPool(Time now);
  void AddCalls(std::vector<elastic::Call> calls) {
    for (auto& c : calls) calls_.push_back(std::move(c));
  }
  void StartCalls();  // after commit: the records they act on are durable
  void RunProvider(std::function<void()> fn) { (void)provider_calls_.Run(std::move(fn)); }
  // The node type a job goes to (nullopt when none can hold it).
  std::optional<int> JobType(const Job& job, Time now) const;
  int TypeIndex(const std::string& name) const;
  bool PoolNodeUsable(const std::string& name) const;
  bool IsSpotNode(const std::string& name) const;

  HeadOptions opt_;
  Clock* clock_;
  std::unique_ptr<state::Store> store_;
  std::unique_ptr<rpc::Server> server_;
  std::unique_ptr<MailSender> mail_;  // with a mail_prog: --mail-type's mails
  std::thread loop_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // GUARDED_BY(mu_)
  bool stopped_ = false;                     // GUARDED_BY(mu_)

  // Loop-only state.
  std::map<int64_t, Job> jobs_;    // PENDING or RUNNING
  std::set<int64_t> timed_jobs_;  // those of jobs_ that HasTimers
  std::map<int64_t, Brief> done_;  // finished
  std::vector<int64_t> touched_;   // jobs this pass changed (Job::MarkDirty, Apply, AddJob)
  // The jobs whose units wait, as the scheduling pass and the autoscaler see them.
  WaitingIndex waiting_;
  // The counters and latencies of Overview, kept as the loop goes (the rest is taken when asked).
  head::Overview counters_;
  // Jobs the last schedule found waiting for a begin time or a dependency (maybe no longer):
  // housekeeping schedules again while one still waits so.
  std::set<int64_t> gated_;
  static bool IsGate(const std::string& reason) {
    return !reason.empty() && reason != "Resources" && reason != "Priority";
  }
  std::map<std::string, NodeEntry> nodes_;
  // What submissions are checked against, made again after nodes_ changes (NodesChanged).
  std::optional<SubmitCluster> submit_cluster_;
  void NodesChanged() { submit_cluster_.reset(); }
  std::map<int64_t, Lease> leases_;
  std::vector<int64_t> dirty_leases_;  // written at the next commit (Lease::dirty)
  int64_t next_job_id_ = 1;
  int64_t next_lease_id_ = 1;
  std::vector<std::function<void()>> after_commit_;
  // What each node session gets after this pass commits, one message per session.
  std::map<Session*, std::pair<std::shared_ptr<Session>, pb::HeadMessage>> outgoing_;
  pb::HeadMessage& Out(const std::shared_ptr<Session>& s) {
    auto& slot = outgoing_[s.get()];
    slot.first = s;
    return slot.second;
  }
  // Running steps by exec id, and the nodes that ran ranks of each job (task id): when it
  // ends they sweep what it left behind.
  std::map<int64_t, std::shared_ptr<ExecCall>> execs_;
  std::map<int64_t, std::set<std::string>> exec_nodes_;
  std::map<int64_t, int64_t> next_step_;
  int64_t next_exec_id_ = 1;
  std::mutex exec_mu_;
  std::unordered_map<int64_t, std::shared_ptr<ExecCall>> exec_routes_;  // GUARDED_BY(exec_mu_)
  // The allocation of the job (task) `task_id`: its nodes in hostlist order and the tasks
  // each holds. Empty when it is not running.
  void Allocation(const Job& job, int64_t task_id, std::vector<std::string>* names,
                  std::vector<int>* slots) const;
  // The job (task) `task_id` ended or went back to the queue: its steps end everywhere.
  void EndExecs(int64_t task_id);
  void CloseExecs();
  // Waiters of Wait(); answered at the end of every pass that changed something.
  std::vector<std::shared_ptr<struct Waiter>> waiters_;
  void NotifyWaiters();

 public:
  Result<bool> AddWaiter(const std::shared_ptr<Waiter>& w);
  void CloseWaiters();

 private:
  bool wrote_ = false;
  bool sched_dirty_ = true;
  bool changed_ = false;
  // Order key of the first group the last pass could not start (priority desc, submit, id).
  std::optional<reconcile::OrderKey> top_blocked_;
  Time next_housekeeping_;
  Time next_sweep_{};  // every job looked at by Commit (FlushJobs(true)), once a kSweepPeriod
  static constexpr Duration kSweepPeriod = std::chrono::minutes(1);
  // A long queue is scheduled at most once a millisecond per 1,000 waiting jobs (a pass is
  // linear in the queue): with 100,000 waiting, every 100 ms, so that submissions and reports
  // are not held behind passes that each weigh the whole queue (Slurm bounds its event-driven
  // passes too: default_queue_depth, sched_min_interval).
  Time next_schedule_{};

  std::optional<tls::CaTimes> ca_times_;  // with TLS
  Time next_renewals_{};                  // AskRenewals from housekeeping, every few seconds

  std::unique_ptr<elastic::Pool> pool_;
  std::unique_ptr<autoscaler::Policy> policy_;
  std::vector<elastic::Call> calls_;  // started after this pass commits
  Time next_autoscale_, next_list_;
  bool list_running_ = false;
  std::vector<int64_t> arrived_;  // per type, tasks routed there since the head started
  provider::ProviderCalls provider_calls_;
};

}  // namespace swell::head
