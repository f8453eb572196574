#include "head/head.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

#include "common/files.h"
#include "common/log.h"
#include "common/slurm_format.h"
#include "head/elastic/accounting.h"
#include "head/elastic/pool.h"
#include "head/scheduler/scheduler.h"
#include "head/state/store.h"

namespace swell::head {

namespace sched = scheduler;
namespace as = autoscaler;
using state::JobRow;
using state::TaskRow;

const char* StateName(pb::JobState s) {
  switch (s) {
    case pb::PENDING:
      return "PENDING";
    case pb::RUNNING:
      return "RUNNING";
    case pb::COMPLETED:
      return "COMPLETED";
    case pb::FAILED:
      return "FAILED";
    case pb::CANCELLED:
      return "CANCELLED";
    case pb::TIMEOUT:
      return "TIMEOUT";
    case pb::NODE_FAIL:
      return "NODE_FAIL";
    default:
      return "UNKNOWN";
  }
}

bool IsTerminal(pb::JobState s) { return s >= pb::COMPLETED; }

namespace {

// A node that has not seen a launch of a job for this long may have forgotten its spec
// (node/node.cc forgets idle jobs after ten minutes); send it again.
constexpr auto kSpecResendAfter = std::chrono::minutes(1);
constexpr int kNumStates = 8;

// Outbound messages to one node, written by a thread of the session handler.
class Session {
 public:
  explicit Session(rpc::Stream<pb::NodeMessage, pb::HeadMessage>* stream) : stream_(stream) {}
  void Send(pb::HeadMessage m) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return;
      out_.push_back(std::move(m));
    }
    cv_.notify_one();
  }
  // Stops the writer and ends the stream (the node sees it break), unless the session's
  // handler has already returned.
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    if (!ended_) stream_->Cancel();
    cv_.notify_one();
  }
  // Called by the session's handler before it returns; the stream is gone after that.
  void Ended() {
    std::lock_guard<std::mutex> lock(mu_);
    ended_ = true;
    closed_ = true;
    cv_.notify_one();
  }
  // Runs until Close() or a broken stream.
  void WriteLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return closed_ || !out_.empty(); });
      if (closed_) return;
      std::deque<pb::HeadMessage> batch;
      batch.swap(out_);
      lock.unlock();
      for (auto& m : batch) {
        if (!stream_->Write(m)) {
          lock.lock();
          closed_ = true;
          return;
        }
      }
      lock.lock();
    }
  }

 private:
  rpc::Stream<pb::NodeMessage, pb::HeadMessage>* stream_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<pb::HeadMessage> out_;  // GUARDED_BY(mu_)
  bool closed_ = false;              // GUARDED_BY(mu_)
  bool ended_ = false;               // GUARDED_BY(mu_): the handler returned
};

struct Task {
  int64_t pos = 0;
  int attempt = 0;
  std::string node;
  bool started = false;
  int64_t start_ms = 0;
  int64_t lease = 0;
  bool cancel_requested = false;  // persisted: a cancel was sent; it must not run again
};

// Part of one unit on one node, by node name (scheduler shares name nodes by index).
struct Share {
  std::string node;
  int ntasks = 0;
  sched::Resources res;
};

struct Lease {
  int64_t id = 0;
  int64_t job_id = 0;
  std::string node;                       // where the units' tasks run (the first share's node)
  std::vector<std::vector<Share>> units;  // one entry per slot
  std::set<int64_t> positions;            // dispatched, queued or running
  bool dirty = false;
};

struct Job {
  JobRow row;
  pb::JobSpec spec;
  int64_t counts[kNumStates] = {};
  std::deque<std::pair<int64_t, int>> requeued;  // (position, attempt) back to pending
  std::set<int64_t> skip;        // positions >= next_pos already terminal (cancelled)
  std::map<int64_t, Task> live;  // dispatched tasks by position
  std::set<int64_t> leases;
  bool row_dirty = false;

  bool is_array() const { return spec.array_indices_size() > 0; }
  int64_t undispatched() const {
    return row.task_count - row.next_pos - static_cast<int64_t>(skip.size()) +
           static_cast<int64_t>(requeued.size());
  }
};

}  // namespace

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
  std::mutex mu;
  std::condition_variable cv;
  std::deque<pb::ExecEvent> events;  // GUARDED_BY(mu)
  std::set<int> ended;               // GUARDED_BY(mu)
  bool closed = false;               // GUARDED_BY(mu): the head stops

  // Queues `ev`; a rank's end counts once (its node's report and the node's loss may both
  // come).
  void Deliver(pb::ExecEvent ev) {
    std::lock_guard<std::mutex> lock(mu);
    if (ev.ended() && !ended.insert(ev.rank()).second) return;
    events.push_back(std::move(ev));
    cv.notify_all();
  }
};

namespace {

struct Brief {  // a finished job, for dependencies and listings
  int state = pb::COMPLETED;
  std::string name;
  uint32_t uid = 0;
  int64_t task_count = 1;
  bool is_array = false;
};

struct NodeEntry {
  state::NodeRow row;
  bool up = false;
  Time last_seen;
  std::shared_ptr<Session> session;
  uint64_t session_id = 0;
  bool draining = false;  // the node said it stops: schedule and dispatch nothing there
  std::string partition;  // node type of an elastic node
  std::map<int64_t, Time> spec_sent;
  sched::Resources total() const { return {row.cpus, row.mem_mb, row.gpus}; }
};

std::string EncodeShares(const std::vector<std::vector<Share>>& units) {
  std::string out;
  for (const auto& u : units) {
    for (const auto& s : u)
      out += s.node + ":" + std::to_string(s.ntasks) + ":" + std::to_string(s.res.cpus) + ":" +
             std::to_string(s.res.mem_mb) + ":" + std::to_string(s.res.gpus) + ",";
    out += ";";
  }
  return out;
}

}  // namespace

class Head::Impl {
 public:
  Impl(HeadOptions o, Clock* clock, std::unique_ptr<state::Store> store)
      : opt_(std::move(o)), clock_(clock), store_(std::move(store)) {}

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
  Result<pb::SubmitReply> DoSubmit(const rpc::Caller& who, const pb::JobSpec& spec);
  Result<pb::QueueReply> DoQueue(const rpc::Caller& who, const pb::QueueRequest& req);
  Result<pb::InfoReply> DoInfo(const pb::InfoRequest& req);
  Result<pb::CancelReply> DoCancel(const rpc::Caller& who, const pb::CancelRequest& req);
  Result<pb::NodesReply> DoNodes();
  Result<pb::StatsReply> DoStats();
  Result<pb::WaitEvent> DoWaitSnapshot(const std::vector<pb::JobRef>& refs);
  void DoRegister(const std::shared_ptr<Session>& s, uint64_t sid, const pb::Register& r);
  void DoReports(const std::string& node, uint64_t sid, const pb::ReportBatch& b);
  void DoSessionClosed(const std::string& node, uint64_t sid);
  void DoHeartbeat(const std::string& node, uint64_t sid);
  void DoDraining(const std::string& node, uint64_t sid);

  // Job steps (Exec): started on the loop; their events are routed from node sessions here.
  Result<pb::ExecEvent> DoExecStart(const rpc::Caller& who, const pb::ExecRequest& req,
                                    const std::shared_ptr<ExecCall>& call);
  // The caller is done (`cancel`: it went away, so its ranks end).
  void DoExecGone(int64_t id, bool cancel);
  void RouteExec(const pb::ExecOutput& out);

  std::atomic<uint64_t> next_session_id_{1};
  std::atomic<bool> stopping_{false};

 private:
  void Loop();
  void Pass(std::vector<std::function<void()>>& work);
  void Housekeeping(Time now);
  void Schedule(Time now);
  // Records that this pass wrote; a failed write ends the process (see the definition).
  void Write(const Status& s);

  // Jobs and tasks.
  Job* FindJob(int64_t id);
  // The job a task id belongs to: a job's own id, or an array task's (SLURM_JOB_ID).
  Job* FindJobOfTask(int64_t task_id);
  void PutJobRow(Job& job);
  void PutTask(Job& job, const Task& t, pb::JobState state, int exit_code = 0, int signal = 0,
               int64_t end_ms = 0);
  void UpdateAggregate(Job& job, Time now);
  void FinishTask(Job& job, int64_t pos, pb::JobState state, int exit_code, int signal, Time now);
  void RequeueTask(Job& job, int64_t pos, bool count_restart);
  void TaskLeft(Job& job, int64_t pos);
  std::optional<std::pair<int64_t, int>> NextPosition(Job& job);
  void Dispatch(Job& job, Lease& lease, int64_t max_new, Time now);
  void MaintainLease(Job& job, Lease& lease, Time now);
  // How many tasks `lease` should have dispatched (queued or running) at most.
  int64_t DispatchTarget(const Job& job, const Lease& lease) const;
  void DispatchRanks(Job& job, Lease& lease, Time now);
  bool DispatchNext(Job& job, Lease& lease, const std::string& node, pb::Launch& launch);
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
  // Puts a requeued world's ranks that had already ended back in the queue with the others.
  void RequeueEndedRanks(Job& job);
  pb::JobState DependencyState(const Job& job, std::string* reason);
  std::optional<int> RefState(const std::string& ref, bool* started);
  // `pending` also lists an array's pending indices: O(tasks), for listings only (waiters get
  // a snapshot every pass and must stay cheap).
  void FillInfo(const Job& job, pb::JobInfo* info, bool pending = false);
  void FillBrief(int64_t id, const JobRow& row, pb::JobInfo* info);
  bool RefillAllowed(const Job& job) const;
  bool Ahead(const Job& a, int prio, int64_t submit_ms, int64_t id) const;
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
  void RunProvider(std::function<void()> fn);
  void ProviderWorker();
  // What one node of a job's allocation needs, and the node type it goes to (nullopt when
  // none can hold it).
  as::Request NodeRequest(const pb::JobSpec& spec) const;
  Status CheckNodeNames(pb::JobSpec* spec) const;
  std::optional<int> JobType(const Job& job, Time now) const;
  int TypeIndex(const std::string& name) const;
  bool PoolNodeUsable(const std::string& name) const;
  bool IsSpotNode(const std::string& name) const;

  HeadOptions opt_;
  Clock* clock_;
  std::unique_ptr<state::Store> store_;
  std::unique_ptr<rpc::Server> server_;
  std::thread loop_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // GUARDED_BY(mu_)
  bool stopped_ = false;                     // GUARDED_BY(mu_)

  // Loop-only state.
  std::map<int64_t, Job> jobs_;    // PENDING or RUNNING
  std::map<int64_t, Brief> done_;  // finished
  std::map<std::string, NodeEntry> nodes_;
  std::map<int64_t, Lease> leases_;
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
  std::optional<std::tuple<int, int64_t, int64_t>> top_blocked_;
  Time next_housekeeping_;

  std::unique_ptr<elastic::Pool> pool_;
  std::unique_ptr<as::Policy> policy_;
  std::vector<elastic::Call> calls_;  // started after this pass commits
  Time next_autoscale_, next_list_;
  bool list_running_ = false;
  std::vector<int64_t> arrived_;  // per type, tasks routed there since the head started
  std::vector<std::thread> provider_threads_;
  std::mutex provider_mu_;
  std::condition_variable provider_cv_;
  std::deque<std::function<void()>> provider_queue_;  // GUARDED_BY(provider_mu_)
  bool provider_stop_ = false;                        // GUARDED_BY(provider_mu_)
};

// ---------------------------------------------------------------------------------------------
// Loading and the loop

Status Head::Impl::Load() {
  Time now = clock_->Now();
  auto next = store_->GetCounter("next_job_id", 1);
  if (!next.ok()) return next.status();
  next_job_id_ = *next;
  auto nl = store_->GetCounter("next_lease_id", 1);
  if (!nl.ok()) return nl.status();
  next_lease_id_ = *nl;

  auto all = store_->LoadJobs(/*active_only=*/false);
  if (!all.ok()) return all.status();
  for (auto& row : *all) {
    if (IsTerminal(static_cast<pb::JobState>(row.state))) {
      Brief b;
      b.state = row.state;
      b.name = row.name;
      b.uid = row.uid;
      b.task_count = row.task_count;
      pb::JobSpec spec;
      spec.ParseFromString(row.spec);
      b.is_array = spec.array_indices_size() > 0;
      done_[row.id] = b;
      continue;
    }
    Job job;
    job.row = row;
    if (!job.spec.ParseFromString(row.spec))
      return Internal("corrupt spec of job " + std::to_string(row.id));
    auto rows = store_->LoadTasks(row.id);
    if (!rows.ok()) return rows.status();
    for (auto& t : *rows) {
      if (t.pos >= row.next_pos) {
        job.skip.insert(t.pos);
        job.counts[t.state]++;
        continue;
      }
      if (t.state == pb::PENDING && t.node.empty()) {
        job.requeued.push_back({t.pos, t.attempt});
        job.counts[pb::PENDING]++;
      } else if (t.state == pb::PENDING || t.state == pb::RUNNING) {
        Task task;
        task.pos = t.pos;
        task.attempt = t.attempt;
        task.node = t.node;
        task.started = t.state == pb::RUNNING;
        task.start_ms = t.start_ms;
        task.cancel_requested = t.cancel_requested;
        job.live[t.pos] = task;
        job.counts[t.state]++;
      } else {
        job.counts[t.state]++;
      }
    }
    if (job.row.rest_cancelled)  // every position without a row was cancelled unrun
      job.counts[pb::CANCELLED] += row.task_count - static_cast<int64_t>(rows->size());
    else
      job.counts[pb::PENDING] +=
          row.task_count - row.next_pos - static_cast<int64_t>(job.skip.size());
    jobs_.emplace(row.id, std::move(job));
  }
  auto leases = store_->LoadLeases();
  if (!leases.ok()) return leases.status();
  for (auto& lr : *leases) {
    Lease l;
    l.id = lr.id;
    l.job_id = lr.job_id;
    l.node = lr.node;
    // Shares: "node:ntasks:cpus:mem:gpus,...;" per unit.
    size_t i = 0;
    while (i < lr.shares.size()) {
      size_t end = lr.shares.find(';', i);
      if (end == std::string::npos) break;
      std::vector<Share> unit;
      std::string u = lr.shares.substr(i, end - i);
      size_t j = 0;
      while (j < u.size()) {
        size_t e = u.find(',', j);
        if (e == std::string::npos) e = u.size();
        std::string part = u.substr(j, e - j);
        size_t colon = part.find(':');
        long long b = 0, c = 0, d = 0, f = 0;
        if (colon != std::string::npos &&
            sscanf(part.c_str() + colon + 1, "%lld:%lld:%lld:%lld", &b, &c, &d, &f) == 4) {
          Share sh;
          sh.node = part.substr(0, colon);
          sh.ntasks = static_cast<int>(b);
          sh.res = {static_cast<int>(c), d, static_cast<int>(f)};
          unit.push_back(sh);
        }
        j = e + 1;
      }
      l.units.push_back(unit);
      i = end + 1;
    }
    auto jit = jobs_.find(l.job_id);
    if (jit == jobs_.end()) {
      (void)store_->DeleteLease(l.id);
      continue;
    }
    // A task belongs to the lease whose units hold its node (a job of ranks runs on every
    // node of its unit, not only on the first).
    std::set<std::string> lease_nodes = {l.node};
    for (const auto& unit : l.units)
      for (const auto& sh : unit) lease_nodes.insert(sh.node);
    for (auto& [pos, t] : jit->second.live)
      if (lease_nodes.count(t.node) && t.lease == 0) t.lease = l.id, l.positions.insert(pos);
    jit->second.leases.insert(l.id);
    leases_.emplace(l.id, std::move(l));
  }
  // Live tasks without a lease (should not happen): back to pending.
  for (auto& [id, job] : jobs_) {
    std::vector<int64_t> orphans;
    for (auto& [pos, t] : job.live)
      if (t.lease == 0) orphans.push_back(pos);
    for (auto pos : orphans) RequeueTask(job, pos, /*count_restart=*/false);
  }
  auto nodes = store_->LoadNodes();
  if (!nodes.ok()) return nodes.status();
  for (auto& nr : *nodes) {
    NodeEntry n;
    n.row = nr;
    // Nodes that were up get one node_timeout after our start to come back.
    n.up = nr.state != "DOWN";
    n.last_seen = now;
    nodes_.emplace(nr.name, std::move(n));
  }
  if (opt_.elastic) {
    const auto& e = *opt_.elastic;
    if (!e.provider) return InvalidArgument("an elastic cluster needs a provider");
    auto policy = as::MakePolicy(e.policy, e.policy_options);
    if (!policy.ok()) return policy.status();
    policy_ = std::move(policy).value();
    elastic::PoolOptions po = e.pool;
    po.max_nodes = e.policy_options.max_nodes;
    pool_ = std::make_unique<elastic::Pool>(e.types, po);
    arrived_.assign(e.types.size(), 0);
    auto rows = store_->LoadPool();
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) {
      auto phase = elastic::ParsePhase(r.phase);
      int type = TypeIndex(r.type);
      if (!phase || *phase == elastic::Phase::kGone) continue;
      elastic::PoolNode n;
      n.id = r.id;
      n.name = r.name;
      // A node whose type left the configuration is deleted as soon as the pool can.
      n.type = type < 0 ? 0 : type;
      n.phase = type < 0 ? elastic::Phase::kFailed : *phase;
      n.requested = FromMillis(r.requested_ms);
      n.ready = FromMillis(r.ready_ms);
      n.idle_since = now;
      n.failed = r.failed || type < 0;
      n.reason = type < 0 ? "node type " + r.type + " is not configured any more" : r.reason;
      n.create_done = true;
      pool_->Restore(n);
    }
    for (auto it = nodes_.begin(); it != nodes_.end();) {
      // Records of pool nodes that are gone are history, not nodes.
      if (it->second.row.state == "GONE") it = nodes_.erase(it);
      else ++it;
    }
  }
  LogInfo("head: loaded %zu active jobs, %zu finished, %zu nodes, next job id %lld", jobs_.size(),
          done_.size(), nodes_.size(), static_cast<long long>(next_job_id_));
  return Status::Ok();
}

Status Head::Impl::Start(HeadApi* api) {
  next_housekeeping_ = clock_->Now();
  next_autoscale_ = next_list_ = clock_->Now();
  if (pool_)
    for (int i = 0; i < std::max(1, opt_.elastic->provider_threads); ++i)
      provider_threads_.emplace_back([this] { ProviderWorker(); });
  loop_ = std::thread([this] { Loop(); });
  rpc::ServerOptions so;
  so.unix_path = opt_.unix_path;
  so.tcp_address = opt_.tcp_address;
  so.secret = opt_.secret;
  auto server = rpc::StartServer(api, so);
  if (!server.ok()) {
    Stop();
    return server.status();
  }
  server_ = std::move(server).value();
  return Status::Ok();
}

void Head::Impl::Stop() {
  stopping_ = true;
  if (server_) server_->Shutdown();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  cv_.notify_one();
  if (loop_.joinable()) loop_.join();
  {
    // Calls under way finish (a provider call is not interrupted half-way); queued ones are
    // dropped: the pool's records and the provider's List() settle them on the next start.
    std::lock_guard<std::mutex> lock(provider_mu_);
    provider_stop_ = true;
    provider_queue_.clear();
  }
  provider_cv_.notify_all();
  for (auto& t : provider_threads_) t.join();
  provider_threads_.clear();
  if (pool_) (void)opt_.elastic->provider->Cleanup();  // e.g. netns: the bridge, once unused
  CloseWaiters();
  CloseExecs();
  for (auto& [name, n] : nodes_)
    if (n.session) n.session->Close();
}

void Head::Impl::Loop() {
  for (;;) {
    std::vector<std::function<void()>> work;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // Wake for housekeeping, and in time for the autoscaler's next decision when that comes
      // sooner (its interval may be shorter than the housekeeping tick). next_autoscale_ is
      // only touched by this thread.
      Duration wait = opt_.tick;
      if (pool_) wait = std::clamp<Duration>(next_autoscale_ - clock_->Now(), Duration(0), wait);
      auto wake = std::chrono::system_clock::now() + wait;
      cv_.wait_until(lock, wake, [this] { return stopped_ || !queue_.empty(); });
      if (stopped_) return;
      while (!queue_.empty()) {
        work.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    Pass(work);
  }
}

void Head::Impl::Write(const Status& s) {
  wrote_ = true;
  if (!s.ok()) {
    // The in-memory state is now ahead of the disk; the only safe way on is a restart from
    // what was committed.
    LogError("head: state write failed: %s; exiting to recover from the database",
             s.ToString().c_str());
    std::_Exit(70);
  }
}

void Head::Impl::Pass(std::vector<std::function<void()>>& work) {
  Status b = store_->Begin();
  if (!b.ok()) {
    LogError("head: cannot begin a transaction: %s", b.ToString().c_str());
    std::_Exit(70);
  }
  wrote_ = false;
  for (auto& fn : work) fn();
  Time now = clock_->Now();
  if (now >= next_housekeeping_) {
    Housekeeping(now);
    next_housekeeping_ = now + opt_.tick;
  }
  if (sched_dirty_) Schedule(now);
  if (pool_) {
    if (now >= next_autoscale_) {
      Autoscale(now);
      next_autoscale_ = now + opt_.elastic->interval;
    }
    SyncPool(now);
  }
  for (auto& [id, job] : jobs_)
    if (job.row_dirty) PutJobRow(job);
  // Finished jobs leave the active table.
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    Job& job = it->second;
    if (IsTerminal(static_cast<pb::JobState>(job.row.state)) && job.live.empty()) {
      for (auto lid : std::set<int64_t>(job.leases)) DropLease(job, lid);
      Brief b{job.row.state, job.row.name, job.row.uid, job.row.task_count, job.is_array()};
      done_[it->first] = b;
      it = jobs_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [id, lease] : leases_) {
    if (!lease.dirty) continue;
    lease.dirty = false;
    Write(store_->PutLease({lease.id, lease.job_id, lease.node,
                            static_cast<int>(lease.units.size()), EncodeShares(lease.units)}));
  }
  Status c = store_->Commit();
  if (!c.ok()) {
    LogError("head: commit failed: %s; exiting to recover from the database", c.ToString().c_str());
    std::_Exit(70);
  }
  auto callbacks = std::move(after_commit_);
  after_commit_.clear();
  for (auto& cb : callbacks) cb();
  auto outgoing = std::move(outgoing_);
  outgoing_.clear();
  for (auto& [ptr, entry] : outgoing) entry.first->Send(std::move(entry.second));
  if (!calls_.empty()) StartCalls();
  if (changed_) {
    changed_ = false;
    NotifyWaiters();
  }
}

void Head::Impl::Event(Time t, const std::string& kind, int64_t job, const std::string& node,
                       const std::string& detail) {
  Write(store_->AddEvent(ToMillis(t), kind, job, node, detail));
}

// ---------------------------------------------------------------------------------------------
// Jobs and tasks

Job* Head::Impl::FindJob(int64_t id) {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

Job* Head::Impl::FindJobOfTask(int64_t task_id) {
  if (Job* job = FindJob(task_id)) return job;
  // An array task's own id: its job's id and the ids after it.
  auto it = jobs_.upper_bound(task_id);
  if (it == jobs_.begin()) return nullptr;
  --it;
  Job& j = it->second;
  return j.is_array() && task_id < it->first + j.row.task_count ? &j : nullptr;
}

void Head::Impl::PutJobRow(Job& job) {
  job.row_dirty = false;
  Write(store_->PutJob(job.row));
}

void Head::Impl::PutTask(Job& job, const Task& t, pb::JobState state, int exit_code, int signal,
                         int64_t end_ms) {
  TaskRow r;
  r.job_id = job.row.id;
  r.pos = t.pos;
  r.state = state;
  r.node = t.node;
  r.exit_code = exit_code;
  r.signal = signal;
  r.start_ms = t.start_ms;
  r.end_ms = end_ms;
  r.attempt = t.attempt;
  r.cancel_requested = t.cancel_requested;
  Write(store_->PutTask(r));
}

void Head::Impl::UpdateAggregate(Job& job, Time now) {
  const auto& c = job.counts;
  int64_t terminal = 0;
  for (int s = pb::COMPLETED; s < kNumStates; ++s) terminal += c[s];
  pb::JobState st;
  if (c[pb::RUNNING] > 0) {
    st = pb::RUNNING;
  } else if (terminal == job.row.task_count) {
    if (c[pb::COMPLETED] == job.row.task_count)
      st = pb::COMPLETED;
    else if (c[pb::CANCELLED] > 0)
      st = pb::CANCELLED;
    else if (c[pb::NODE_FAIL] > 0)
      st = pb::NODE_FAIL;
    else if (c[pb::TIMEOUT] > 0)
      st = pb::TIMEOUT;
    else
      st = pb::FAILED;
  } else if (c[pb::COMPLETED] + c[pb::FAILED] + c[pb::TIMEOUT] + c[pb::NODE_FAIL] > 0 &&
             (job.is_array() || job.spec.launch_tasks())) {
    st = pb::RUNNING;  // an array part way through: some done, the rest queued
  } else {
    st = pb::PENDING;
  }
  if (st == job.row.state) return;
  job.row.state = st;
  job.row_dirty = true;
  Changed();
  sched_dirty_ = true;
  if (st == pb::RUNNING && job.row.start_ms == 0) {
    job.row.start_ms = ToMillis(now);
    job.row.reason.clear();
    Event(now, "start", job.row.id, "", "");
  }
  if (IsTerminal(st)) {
    job.row.end_ms = ToMillis(now);
    job.row.reason.clear();
    Event(now, "end", job.row.id, "", StateName(st));
  }
}

void Head::Impl::TaskLeft(Job& job, int64_t pos) {
  auto it = job.live.find(pos);
  if (it == job.live.end()) return;
  auto lit = leases_.find(it->second.lease);
  if (lit != leases_.end()) lit->second.positions.erase(pos);
  job.live.erase(it);
}

void Head::Impl::FinishTask(Job& job, int64_t pos, pb::JobState state, int exit_code, int signal,
                            Time now) {
  auto it = job.live.find(pos);
  if (it == job.live.end()) return;
  Task t = it->second;
  job.counts[t.started ? pb::RUNNING : pb::PENDING]--;
  job.counts[state]++;
  if (t.start_ms == 0 && state != pb::CANCELLED) t.start_ms = ToMillis(now);
  PutTask(job, t, state, exit_code, signal, ToMillis(now));
  // The job's exit code is the highest of its tasks' (Slurm's derived exit code).
  if (exit_code > job.row.exit_code || (signal != 0 && job.row.signal == 0)) {
    job.row.exit_code = std::max(job.row.exit_code, exit_code);
    if (signal != 0) job.row.signal = signal;
    job.row_dirty = true;
  }
  int64_t lease = t.lease;
  TaskLeft(job, pos);
  auto lit = leases_.find(lease);
  if (lit != leases_.end()) MaintainLease(job, lit->second, now);
  UpdateAggregate(job, now);
  if (!exec_nodes_.empty()) {
    if (job.is_array())
      EndExecs(job.row.id + pos);
    else if (IsTerminal(static_cast<pb::JobState>(job.row.state)))
      EndExecs(job.row.id);
  }
  Changed();
}

void Head::Impl::RequeueTask(Job& job, int64_t pos, bool count_restart) {
  auto it = job.live.find(pos);
  if (it == job.live.end()) return;
  if (job.row.rest_cancelled || it->second.cancel_requested) {
    // Cancelled while its node was away: it ends here instead of running again.
    FinishTask(job, pos, pb::CANCELLED, 0, 0, clock_->Now());
    return;
  }
  Task t = it->second;
  job.counts[t.started ? pb::RUNNING : pb::PENDING]--;
  job.counts[pb::PENDING]++;
  t.node.clear();
  t.started = false;
  t.start_ms = 0;
  t.attempt++;
  int64_t lease = t.lease;
  PutTask(job, t, pb::PENDING);
  TaskLeft(job, pos);
  if (!exec_nodes_.empty()) EndExecs(job.is_array() ? job.row.id + pos : job.row.id);
  job.requeued.push_back({pos, t.attempt});
  if (count_restart) {
    job.row.restarts++;
    job.row_dirty = true;
  }
  // The slot it held goes back (or takes another task) as when a task ends.
  auto lit = leases_.find(lease);
  if (lit != leases_.end()) MaintainLease(job, lit->second, clock_->Now());
  UpdateAggregate(job, clock_->Now());  // a running job may be pending again
  sched_dirty_ = true;
  Changed();
}

std::optional<std::pair<int64_t, int>> Head::Impl::NextPosition(Job& job) {
  if (!job.requeued.empty()) {
    auto next = job.requeued.front();
    job.requeued.pop_front();
    return next;
  }
  while (job.row.next_pos < job.row.task_count) {
    int64_t pos = job.row.next_pos++;
    job.row_dirty = true;
    if (job.skip.erase(pos)) continue;
    return std::pair<int64_t, int>(pos, 0);
  }
  return std::nullopt;
}

void Head::Impl::Dispatch(Job& job, Lease& lease, int64_t max_new, Time now) {
  if (max_new <= 0) return;
  if (job.spec.launch_tasks()) {
    DispatchRanks(job, lease, now);
    return;
  }
  auto nit = nodes_.find(lease.node);
  if (nit == nodes_.end() || !nit->second.session || nit->second.draining) return;
  NodeEntry& node = nit->second;
  pb::Launch launch;
  pb::Launch* l = &launch;
  l->set_job_id(job.row.id);
  l->set_slots(static_cast<int>(lease.units.size()));
  for (int64_t i = 0; i < max_new; ++i)
    if (!DispatchNext(job, lease, lease.node, *l)) break;
  if (l->steps_size() == 0) return;
  AttachSpec(job, lease, node, *l, now);
  *Out(node.session).add_launches() = std::move(launch);
}

// Takes the job's next position onto `node` in `launch` (written as dispatched first). False
// when no position is left.
bool Head::Impl::DispatchNext(Job& job, Lease& lease, const std::string& node,
                              pb::Launch& launch) {
  auto next = NextPosition(job);
  if (!next) return false;
  Task t;
  t.pos = next->first;
  t.attempt = next->second;
  t.node = node;
  t.lease = lease.id;
  PutTask(job, t, pb::PENDING);
  job.live[t.pos] = t;
  lease.positions.insert(t.pos);
  auto* key = launch.add_steps();
  key->set_job_id(job.row.id);
  key->set_pos(t.pos);
  key->set_attempt(t.attempt);
  return true;
}

// srun's launch: rank r of the job runs on the node that holds it in the allocation, ranks in
// blocks over the sorted node list (Slurm's default block distribution), all at once.
void Head::Impl::DispatchRanks(Job& job, Lease& lease, Time now) {
  if (lease.units.empty()) return;
  std::map<std::string, int> per_node;
  for (const auto& sh : lease.units.front()) per_node[sh.node] += sh.ntasks;
  std::vector<std::string> names;
  for (const auto& [n, k] : per_node) names.push_back(n);
  names = HostListOrder(names);
  // All or nothing: a node that went away between allocation and launch leaves the whole
  // world undispatched (the lease is then dropped and the job scheduled again).
  for (const auto& n : names) {
    auto nit = nodes_.find(n);
    if (nit == nodes_.end() || !nit->second.session || nit->second.draining) {
      LogWarning("head: job %lld: node %s cannot take its ranks now",
                 static_cast<long long>(job.row.id), n.c_str());
      return;
    }
  }
  int64_t rank = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    int count = per_node[names[i]];
    NodeEntry& node = nodes_.at(names[i]);
    pb::Launch launch;
    launch.set_job_id(job.row.id);
    launch.set_slots(count);
    launch.set_node_index(static_cast<int>(i));
    launch.set_first_rank(rank);
    for (int k = 0; k < count; ++k)
      if (!DispatchNext(job, lease, names[i], launch)) break;
    rank += count;
    if (launch.steps_size() == 0) continue;
    AttachSpec(job, lease, node, launch, now);
    *Out(node.session).add_launches() = std::move(launch);
  }
}

// Adds the job's spec and allocation to a launch when the node has not had them lately.
void Head::Impl::AttachSpec(const Job& job, const Lease& lease, NodeEntry& node, pb::Launch& l_ref,
                            Time now) {
  pb::Launch* l = &l_ref;
  auto sent = node.spec_sent.find(job.row.id);
  // A job of ranks may be launched again on other nodes (requeued): its node list and layout
  // go with every launch.
  if (sent == node.spec_sent.end() || now - sent->second > kSpecResendAfter ||
      job.spec.launch_tasks()) {
    l->set_with_spec(true);
    *l->mutable_spec() = job.spec;
    l->mutable_user()->set_uid(job.row.uid);
    l->mutable_user()->set_gid(job.row.gid);
    l->mutable_user()->set_name(job.row.user);
    l->set_submit_ms(job.row.submit_ms);
    // The allocation's nodes (this lease's node first) and the tasks and cpus each holds. The
    // units of a lease are alike (several only for single-node units): one tells them all.
    std::vector<std::string> names = {lease.node};
    std::vector<int> tasks = {0}, cpus = {0};
    if (!lease.units.empty())
      for (const auto& sh : lease.units.front()) {
        auto at = std::find(names.begin(), names.end(), sh.node);
        if (at == names.end()) {
          names.push_back(sh.node);
          tasks.push_back(0);
          cpus.push_back(0);
          at = names.end() - 1;
        }
        tasks[static_cast<size_t>(at - names.begin())] += sh.ntasks;
        cpus[static_cast<size_t>(at - names.begin())] += sh.res.cpus;
      }
    for (size_t i = 0; i < names.size(); ++i) {
      l->add_nodelist(names[i]);
      l->add_tasks_per_node(std::max(1, tasks[i]));
      l->add_cpus_per_node(cpus[i]);
    }
  }
  node.spec_sent[job.row.id] = now;
}

bool Head::Impl::Ahead(const Job& a, int prio, int64_t submit_ms, int64_t id) const {
  int pa = JobPriority(a.spec);
  if (pa != prio) return pa > prio;
  if (a.row.submit_ms != submit_ms) return a.row.submit_ms < submit_ms;
  return a.row.id < id;
}

bool Head::Impl::RefillAllowed(const Job& job) const {
  if (!top_blocked_) return true;
  auto [prio, submit, id] = *top_blocked_;
  return id == job.row.id || Ahead(job, prio, submit, id);
}

int64_t Head::Impl::DispatchTarget(const Job& job, const Lease& lease) const {
  int64_t slots = static_cast<int64_t>(lease.units.size());
  if (job.spec.launch_tasks()) return job.row.task_count;  // every rank at once
  if (!job.is_array()) return slots;
  // An elastic cluster queues nothing ahead on a node: tasks queued there would be invisible
  // to the autoscaler as demand, and would wait for that node while new ones boot idle.
  if (pool_) return slots;
  // This lease's share of the job's remaining tasks, by slots, so that a small array spreads
  // over all its nodes; capped by the queue depth a node should hold.
  int64_t job_slots = 0, remaining = job.undispatched();
  for (auto lid : job.leases) {
    const Lease& l = leases_.at(lid);
    job_slots += static_cast<int64_t>(l.units.size());
    remaining += static_cast<int64_t>(l.positions.size());
  }
  int64_t fair = job_slots > 0 ? (remaining * slots + job_slots - 1) / job_slots : remaining;
  return std::max(slots, std::min(slots * std::max(1, opt_.dispatch_depth), fair));
}

void Head::Impl::MaintainLease(Job& job, Lease& lease, Time now) {
  int64_t slots = static_cast<int64_t>(lease.units.size());
  int64_t target = DispatchTarget(job, lease);
  if (job.row.state != pb::CANCELLED && job.undispatched() > 0 && RefillAllowed(job) &&
      static_cast<int64_t>(lease.positions.size()) <= target / 2) {
    Dispatch(job, lease, target - static_cast<int64_t>(lease.positions.size()), now);
  }
  // Slots beyond what the dispatched tasks can use go back to the pool.
  int64_t needed = std::min<int64_t>(slots, static_cast<int64_t>(lease.positions.size()));
  if (needed < slots) {
    lease.units.resize(static_cast<size_t>(needed));
    lease.dirty = true;
    sched_dirty_ = true;
    if (needed == 0) DropLease(job, lease.id);
  }
}

Time Head::Impl::LeaseEnd(const Lease& lease, Time now) {
  const Job* job = FindJob(lease.job_id);
  if (!job || job->spec.time_limit_ms() <= 0 || job->undispatched() != 0) return kNever;
  int64_t latest = 0;
  for (auto pos : lease.positions) {
    auto it = job->live.find(pos);
    latest = std::max(latest, it != job->live.end() && it->second.start_ms ? it->second.start_ms
                                                                          : ToMillis(now));
  }
  return FromMillis(latest) + Duration(job->spec.time_limit_ms());
}

void Head::Impl::DropLease(Job& job, int64_t lease_id) {
  job.leases.erase(lease_id);
  leases_.erase(lease_id);
  Write(store_->DeleteLease(lease_id));
  sched_dirty_ = true;
}

// ---------------------------------------------------------------------------------------------
// Dependencies

std::optional<int> Head::Impl::RefState(const std::string& ref, bool* started) {
  // "123" or "123_4".
  *started = false;
  auto us = ref.find('_');
  int64_t id = std::strtoll(ref.c_str(), nullptr, 10);
  if (us == std::string::npos) {
    if (auto* job = FindJob(id)) {
      *started = job->row.start_ms != 0;
      return job->row.state;
    }
    auto it = done_.find(id);
    if (it != done_.end()) {
      *started = true;
      return it->second.state;
    }
    return std::nullopt;
  }
  int64_t index = std::strtoll(ref.c_str() + us + 1, nullptr, 10);
  const pb::JobSpec* spec = nullptr;
  pb::JobSpec loaded;
  if (auto* job = FindJob(id)) {
    spec = &job->spec;
  } else {
    auto row = store_->LoadJob(id);
    if (!row.ok() || !row->has_value()) return std::nullopt;
    loaded.ParseFromString((*row)->spec);
    spec = &loaded;
  }
  auto& idx = spec->array_indices();
  auto pit = std::lower_bound(idx.begin(), idx.end(), index);
  if (pit == idx.end() || *pit != index) return std::nullopt;
  int64_t pos = pit - idx.begin();
  auto task = store_->LoadTask(id, pos);
  if (!task.ok() || !task->has_value()) {
    if (auto* job = FindJob(id); job && job->row.rest_cancelled) return pb::CANCELLED;
    return pb::PENDING;
  }
  *started = (*task)->state != pb::PENDING;
  return (*task)->state;
}

// PENDING: not yet; COMPLETED: satisfied; FAILED: can never be satisfied.
pb::JobState Head::Impl::DependencyState(const Job& job, std::string* reason) {
  const auto& dep = job.spec.dependency();
  if (dep.terms_size() == 0) return pb::COMPLETED;
  int satisfied = 0, never = 0;
  for (const auto& term : dep.terms()) {
    bool term_ok = true, term_never = false;
    if (term.type() == "singleton") {
      for (const auto& [id, other] : jobs_) {
        if (id >= job.row.id) break;
        if (other.row.name == job.row.name && other.row.uid == job.row.uid) term_ok = false;
      }
    } else {
      for (const auto& ref : term.job_ids()) {
        bool started = false;
        auto st = RefState(ref, &started);
        if (!st) {
          term_never = true;  // vanished: cannot be satisfied
          continue;
        }
        auto s = static_cast<pb::JobState>(*st);
        bool done = IsTerminal(s);
        if (term.type() == "after") {
          if (!started && !done) term_ok = false;
        } else if (term.type() == "afterany") {
          if (!done) term_ok = false;
        } else if (term.type() == "afterok") {
          if (!done)
            term_ok = false;
          else if (s != pb::COMPLETED)
            term_never = true;
        } else if (term.type() == "afternotok") {
          if (!done)
            term_ok = false;
          else if (s == pb::COMPLETED)
            term_never = true;
        }
      }
    }
    if (term_never)
      ++never;
    else if (term_ok)
      ++satisfied;
  }
  int n = dep.terms_size();
  if (dep.any()) {
    if (satisfied > 0) return pb::COMPLETED;
    if (never == n) {
      *reason = "DependencyNeverSatisfied";
      return pb::FAILED;
    }
  } else {
    if (never > 0) {
      *reason = "DependencyNeverSatisfied";
      return pb::FAILED;
    }
    if (satisfied == n) return pb::COMPLETED;
  }
  *reason = "Dependency";
  return pb::PENDING;
}

// ---------------------------------------------------------------------------------------------
// Scheduling

void Head::Impl::Schedule(Time now) {
  sched_dirty_ = false;
  // Nodes the scheduler may use, in name order; index -> name.
  std::vector<sched::Node> nodes;
  std::vector<std::string> names;
  std::map<std::string, int> index;
  for (auto& [name, n] : nodes_) {
    if (!n.up || !n.session || n.draining) continue;
    if (pool_ && !PoolNodeUsable(name)) continue;
    index[name] = static_cast<int>(nodes.size());
    names.push_back(name);
    nodes.push_back({name, n.total(), {}});
  }
  // What leases hold, and when they free it.
  std::vector<sched::Release> releases;
  std::map<int64_t, int> job_slots;
  for (auto& [lid, lease] : leases_) {
    job_slots[lease.job_id] += static_cast<int>(lease.units.size());
    Time end = LeaseEnd(lease, now);
    for (const auto& unit : lease.units) {
      for (const auto& sh : unit) {
        auto it = index.find(sh.node);
        if (it == index.end()) continue;
        auto& used = nodes[static_cast<size_t>(it->second)].used;
        used.cpus += sh.res.cpus, used.mem_mb += sh.res.mem_mb, used.gpus += sh.res.gpus;
        releases.push_back({it->second, sh.res, end});
      }
    }
  }
  // Groups of ready work, and reasons for what is not ready.
  std::vector<sched::Group> groups;
  for (auto& [id, job] : jobs_) {
    if (job.undispatched() <= 0 || job.row.state == pb::CANCELLED) continue;
    std::string reason;
    if (job.spec.hold())
      reason = "JobHeldUser";
    else if (job.spec.begin_time_ms() > ToMillis(now))
      reason = "BeginTime";
    else if (DependencyState(job, &reason) == pb::COMPLETED)
      reason.clear();
    int max_running = job.spec.array_max_running();
    int64_t units = job.undispatched();
    if (job.spec.launch_tasks()) units = std::min<int64_t>(units, 1);  // one allocation
    if (reason.empty() && max_running > 0) {
      int64_t left = max_running - job_slots[id];
      if (left <= 0) reason = "JobArrayTaskLimit";
      units = std::min(units, left);
    }
    if (!reason.empty()) {
      if (job.row.reason != reason) {
        job.row.reason = reason;
        job.row_dirty = true;
        Changed();
      }
      continue;
    }
    sched::Group g;
    g.id = static_cast<uint64_t>(id);
    g.priority = JobPriority(job.spec);
    g.submit_time = FromMillis(job.row.submit_ms);
    g.units = static_cast<int>(std::min<int64_t>(units, 1 << 30));
    g.ntasks = std::max(1, job.spec.ntasks());
    g.cpus_per_task = std::max(1, job.spec.cpus_per_task());
    g.mem_mb = job.spec.mem_mb();
    g.gpus = job.spec.gpus();
    g.min_nodes = std::max(1, job.spec.min_nodes());
    g.max_nodes = job.spec.max_nodes();
    g.time_limit = job.spec.time_limit_ms() > 0 ? Duration(job.spec.time_limit_ms()) : kInfinite;
    g.require.assign(job.spec.nodelist().begin(), job.spec.nodelist().end());
    g.exclude.assign(job.spec.exclude().begin(), job.spec.exclude().end());
    g.exclusive = job.spec.exclusive();
    groups.push_back(g);
  }
  top_blocked_.reset();
  if (groups.empty() || nodes.empty()) {
    for (auto& g : groups) {
      Job& job = jobs_.at(static_cast<int64_t>(g.id));
      std::string reason = nodes.empty() ? "Resources" : "Priority";
      if (job.row.reason != reason) job.row.reason = reason, job.row_dirty = true, Changed();
    }
    return;
  }
  sched::Decision d;
  if (!pool_) {
    d = sched::Schedule(nodes, releases, groups, now);
  } else {
    // One partition per node type: a job runs only on nodes of the type it is routed to.
    std::map<int, std::vector<int>> type_nodes;  // type -> indices into `nodes`
    for (size_t i = 0; i < names.size(); ++i)
      type_nodes[TypeIndex(nodes_.at(names[i]).partition)].push_back(static_cast<int>(i));
    std::map<int, std::vector<sched::Group>> type_groups;
    for (const auto& g : groups) {
      auto t = JobType(jobs_.at(static_cast<int64_t>(g.id)), now);
      type_groups[t ? *t : -1].push_back(g);
    }
    for (auto& [t, gs] : type_groups) {
      auto nit = type_nodes.find(t);
      if (t < 0 || nit == type_nodes.end()) {
        for (const auto& g : gs) d.blocked.push_back({g.id, sched::Reason::kResources, g.units});
        continue;
      }
      std::vector<sched::Node> sub;
      std::map<int, int> local;
      for (int gi : nit->second) {
        local[gi] = static_cast<int>(sub.size());
        sub.push_back(nodes[static_cast<size_t>(gi)]);
      }
      std::vector<sched::Release> rel;
      for (auto r : releases) {
        auto l = local.find(r.node);
        if (l == local.end()) continue;
        r.node = l->second;
        rel.push_back(r);
      }
      auto part = sched::Schedule(sub, rel, gs, now);
      for (auto& st : part.starts) {
        for (auto& sh : st.shares) sh.node = nit->second[static_cast<size_t>(sh.node)];
        d.starts.push_back(std::move(st));
      }
      for (const auto& b : part.blocked) d.blocked.push_back(b);
    }
    // The blocked groups of all partitions, in priority order (the first one is the top).
    auto key = [&](const sched::Blocked& b) {
      const Job& j = jobs_.at(static_cast<int64_t>(b.group));
      return std::make_tuple(-JobPriority(j.spec), j.row.submit_ms, j.row.id);
    };
    std::stable_sort(d.blocked.begin(), d.blocked.end(),
                     [&](const auto& a, const auto& b) { return key(a) < key(b); });
  }
  std::set<int64_t> blocked;  // jobs with units left waiting (keep their reason when some start)
  for (const auto& b : d.blocked) {
    Job& job = jobs_.at(static_cast<int64_t>(b.group));
    blocked.insert(job.row.id);
    std::string reason = b.reason == sched::Reason::kPriority ? "Priority" : "Resources";
    for (const auto& name : job.spec.nodelist())
      if (!index.count(name)) reason = "ReqNodeNotAvail";  // as Slurm: a -w node is not up
    if (!top_blocked_)
      top_blocked_ = std::make_tuple(JobPriority(job.spec), job.row.submit_ms, job.row.id);
    if (job.row.reason != reason) job.row.reason = reason, job.row_dirty = true, Changed();
  }
  std::set<int64_t> grown;
  for (const auto& start : d.starts) {
    int64_t job_id = static_cast<int64_t>(start.group);
    Job& job = jobs_.at(job_id);
    if (start.shares.empty()) continue;
    const std::string& primary = names[static_cast<size_t>(start.shares.front().node)];
    // Single-node units of a job on one node share a lease; multi-node units get their own.
    Lease* lease = nullptr;
    if (start.shares.size() == 1) {
      for (auto lid : job.leases) {
        auto& l = leases_.at(lid);
        if (l.node == primary && !l.units.empty() && l.units.front().size() == 1) lease = &l;
      }
    }
    if (lease == nullptr) {
      Lease l;
      l.id = next_lease_id_++;
      Write(store_->SetCounter("next_lease_id", next_lease_id_));
      l.job_id = job_id;
      l.node = primary;
      lease = &leases_.emplace(l.id, std::move(l)).first->second;
      job.leases.insert(lease->id);
    }
    std::vector<Share> unit;
    for (const auto& sh : start.shares)
      unit.push_back({names[static_cast<size_t>(sh.node)], sh.ntasks, sh.res});
    lease->units.push_back(std::move(unit));
    lease->dirty = true;
    grown.insert(lease->id);
    if (job.row.reason != "" && !blocked.count(job_id)) job.row.reason.clear(), job.row_dirty = true;
  }
  for (auto lid : grown) {
    Lease& lease = leases_.at(lid);
    Job& job = jobs_.at(lease.job_id);
    Dispatch(job, lease, DispatchTarget(job, lease) - static_cast<int64_t>(lease.positions.size()),
             now);
    MaintainLease(job, lease, now);
  }
  if (!d.starts.empty()) Changed();
}

// ---------------------------------------------------------------------------------------------
// Housekeeping: node timeouts.

void Head::Impl::Housekeeping(Time now) {
  for (auto& [name, n] : nodes_) {
    if (!n.up) continue;
    if (now - n.last_seen > opt_.node_timeout) NodeFailed(n, now, "not responding");
  }
  // Begin times and dependencies may have come due.
  for (auto& [id, job] : jobs_) {
    if (job.undispatched() > 0 && !job.row.reason.empty() && job.row.reason != "Resources" &&
        job.row.reason != "Priority") {
      sched_dirty_ = true;
      break;
    }
  }
}

void Head::Impl::NodeFailed(NodeEntry& node, Time now, const std::string& why) {
  LogWarning("head: node %s is down: %s", node.row.name.c_str(), why.c_str());
  if (pool_) AddCalls(pool_->Lost(node.row.name, why, now));
  node.up = false;
  node.row.state = "DOWN";
  Write(store_->PutNode(node.row));
  Event(now, "node_down", 0, node.row.name, why);
  // End its stream too: if the node is alive after all, it reconnects and registers again,
  // which tells it which of its steps to end.
  if (node.session) {
    node.session->Close();
    node.session.reset();
  }
  node.session_id = 0;
  node.spec_sent.clear();
  for (auto& [id, call] : execs_)
    for (size_t i = 0; i < call->nodes.size(); ++i) {
      if (call->nodes[i] != node.row.name) continue;
      for (int r = 0; r < call->ranks[i].second; ++r) {
        pb::ExecEvent ev;
        ev.set_rank(call->ranks[i].first + r);
        ev.set_ended(true);
        ev.set_exit_code(1);
        ev.set_error("node " + node.row.name + " is down: " + why);
        call->Deliver(std::move(ev));
      }
    }
  // Every lease with a share on the node: a multi-node job loses a secondary node too.
  std::vector<int64_t> lease_ids;
  for (auto& [lid, l] : leases_) {
    bool on_node = l.node == node.row.name;
    for (const auto& unit : l.units)
      for (const auto& sh : unit) on_node = on_node || sh.node == node.row.name;
    if (on_node) lease_ids.push_back(lid);
  }
  for (auto lid : lease_ids) {
    auto lit = leases_.find(lid);
    if (lit == leases_.end()) continue;
    Job* job = FindJob(lit->second.job_id);
    if (job == nullptr) continue;
    LoseLease(*job, lid, node.row.name, false, now);
  }
  sched_dirty_ = true;
  Changed();
}

void Head::Impl::LoseLease(Job& job, int64_t lid, const std::string& lost_node,
                           bool requeue_world, Time now) {
  auto lit = leases_.find(lid);
  if (lit == leases_.end()) return;
  // Take the lease away first, so that nothing below dispatches into it again.
  std::vector<int64_t> positions(lit->second.positions.begin(), lit->second.positions.end());
  std::string primary = lit->second.node;
  DropLease(job, lid);
  // The job's tasks on the allocation's other nodes end too: a job that lost a secondary
  // node ends on its primary (where its tasks run), a job of ranks loses every rank. Each
  // node that runs some gets a cancel for its own.
  std::map<std::string, pb::Cancel> others;
  for (auto pos : positions) {
    const Task& t = job.live.at(pos);
    std::string where = t.node.empty() ? primary : t.node;
    if (where == lost_node) continue;
    auto& c = others[where];
    c.set_job_id(job.row.id);
    c.add_positions(pos);
    c.add_attempts(t.attempt);
  }
  for (auto& [where, c] : others) {
    auto pit = nodes_.find(where);
    if (pit != nodes_.end() && pit->second.session)
      *Out(pit->second.session).add_cancels() = std::move(c);
  }
  // A job of ranks is one world: all of them run again, or all end with the node.
  bool world_requeues = job.spec.launch_tasks() &&
                        (requeue_world || job.spec.requeue() || job.row.rest_cancelled ||
                         IsSpotNode(lost_node));
  // A restart counts when some rank had started (a world handed back unstarted did not run).
  bool any_started = false;
  for (auto pos : positions) any_started = any_started || job.live.at(pos).started;
  for (auto pos : positions) {
    const Task& t = job.live.at(pos);
    if (job.spec.launch_tasks()) {
      if (world_requeues)
        RequeueTask(job, pos, any_started && pos == positions.front());
      else
        FinishTask(job, pos, pb::NODE_FAIL, 0, 0, now);
    } else if (!t.started)
      RequeueTask(job, pos, false);
    else if (job.spec.requeue() || job.row.rest_cancelled || t.cancel_requested ||
             IsSpotNode(lost_node))
      RequeueTask(job, pos, true);
    else
      FinishTask(job, pos, pb::NODE_FAIL, 0, 0, now);
  }
  if (world_requeues && !job.row.rest_cancelled) RequeueEndedRanks(job);
  UpdateAggregate(job, now);
}

void Head::Impl::RequeueEndedRanks(Job& job) {
  // A world runs again whole: the ranks that had already ended (their rows say how) join
  // the requeued ones, and all go out in rank order (a node's ranks are consecutive).
  std::set<int64_t> queued;
  for (const auto& [pos, attempt] : job.requeued) queued.insert(pos);
  for (int64_t pos = 0; pos < job.row.next_pos; ++pos) {
    if (job.live.count(pos) || queued.count(pos) || job.skip.count(pos)) continue;
    auto row = store_->LoadTask(job.row.id, pos);
    if (!row.ok() || !row->has_value()) continue;
    const int st = (*row)->state;
    if (st != pb::COMPLETED && st != pb::FAILED && st != pb::TIMEOUT && st != pb::NODE_FAIL)
      continue;
    job.counts[st]--;
    job.counts[pb::PENDING]++;
    Task t;
    t.pos = pos;
    t.attempt = (*row)->attempt + 1;
    PutTask(job, t, pb::PENDING);
    job.requeued.push_back({pos, t.attempt});
  }
  std::stable_sort(job.requeued.begin(), job.requeued.end());
  // The earlier attempt's exit codes are void: the job's is its new world's.
  job.row.exit_code = 0;
  job.row.signal = 0;
  job.row_dirty = true;
  sched_dirty_ = true;
  Changed();
}

// ---------------------------------------------------------------------------------------------
// The elastic pool

int Head::Impl::TypeIndex(const std::string& name) const {
  if (!pool_ || name.empty()) return -1;
  const auto& types = pool_->types();
  for (size_t i = 0; i < types.size(); ++i)
    if (types[i].name == name) return static_cast<int>(i);
  return -1;
}

// Slurm's -w/-x: names of nodes of this cluster (Slurm: "Invalid node name specified"). On an
// elastic cluster, -w names nodes that exist now and picks their partition; -x may name any
// node, as nodes come and go.
Status Head::Impl::CheckNodeNames(pb::JobSpec* spec) const {
  std::set<std::string> wanted(spec->nodelist().begin(), spec->nodelist().end());
  std::set<std::string> avoided(spec->exclude().begin(), spec->exclude().end());
  spec->clear_nodelist();
  spec->clear_exclude();
  std::optional<std::string> partition;
  for (const auto& name : wanted) {
    auto it = nodes_.find(name);
    if (it == nodes_.end())
      return InvalidArgument("invalid node name specified: " + name +
                             (pool_ ? " (on an elastic cluster, -w names nodes that are up now)"
                                    : ""));
    if (pool_ && partition && it->second.partition != *partition)
      return InvalidArgument("-w/--nodelist names nodes of different partitions (" +
                             (partition->empty() ? "static" : *partition) + ", " +
                             (it->second.partition.empty() ? "static" : it->second.partition) +
                             "); a job runs in one");
    partition = it->second.partition;
    spec->add_nodelist(name);
  }
  for (const auto& name : avoided) {
    if (!pool_ && !nodes_.count(name))
      return InvalidArgument("invalid node name specified: " + name);
    if (wanted.count(name))
      return InvalidArgument("node " + name + " is both in -w/--nodelist and -x/--exclude");
    spec->add_exclude(name);
  }
  if (pool_ && partition && !partition->empty()) {
    if (spec->partition().empty()) spec->set_partition(*partition);
    if (spec->partition() != *partition)
      return InvalidArgument("-w/--nodelist names nodes of partition " + *partition +
                             ", not of partition " + spec->partition());
  }
  int listed = spec->nodelist_size();
  if (spec->max_nodes() != 0 && listed > spec->max_nodes())
    return InvalidArgument("-w/--nodelist names " + std::to_string(listed) +
                           " nodes but --nodes allows at most " +
                           std::to_string(spec->max_nodes()));
  // As Slurm: the job uses every listed node, and more if its node count asks for more.
  if (listed > spec->min_nodes()) spec->set_min_nodes(listed);
  return Status::Ok();
}

as::Request Head::Impl::NodeRequest(const pb::JobSpec& spec) const {
  int nodes = std::max(1, spec.min_nodes());
  int ntasks = std::max(1, spec.ntasks());
  as::Request r;
  // The most tasks any node of the allocation gets when they are spread evenly.
  r.cpus = std::max(1, spec.cpus_per_task()) * ((ntasks + nodes - 1) / nodes);
  r.memory_mb = spec.mem_mb();
  r.gpus = spec.gpus();
  return r;
}

std::optional<int> Head::Impl::JobType(const Job& job, Time now) const {
  if (!job.spec.partition().empty()) {
    int t = TypeIndex(job.spec.partition());
    return t < 0 ? std::nullopt : std::optional<int>(t);
  }
  // The smallest type that fits, among those not backed off after failures and, for a job
  // preempted too often, not spot; if that leaves none, the smallest that fits at all.
  const auto& types = pool_->types();
  as::Request need = NodeRequest(job.spec);
  bool avoid_spot = job.row.restarts >= opt_.elastic->max_preemptions;
  std::vector<bool> usable(types.size());
  for (size_t i = 0; i < types.size(); ++i)
    usable[i] = pool_->Usable(static_cast<int>(i), now) && !(avoid_spot && types[i].spot);
  if (auto t = as::Route(types, need, &usable)) return t;
  return as::Route(types, need);
}

bool Head::Impl::PoolNodeUsable(const std::string& name) const {
  const auto* pn = pool_->Find(name);
  if (pn == nullptr) return true;  // a static node
  return pn->phase == elastic::Phase::kIdle || pn->phase == elastic::Phase::kAllocated;
}

bool Head::Impl::IsSpotNode(const std::string& name) const {
  if (!pool_) return false;
  const auto* pn = pool_->Find(name);
  return pn != nullptr && pool_->types()[static_cast<size_t>(pn->type)].spot;
}

void Head::Impl::Autoscale(Time now) {
  // Which pool nodes run work (any share of a lease on them), and until when at most: the
  // latest start plus time limit of the work there (kNever without a limit).
  std::map<std::string, Time> busy;
  for (const auto& [lid, l] : leases_) {
    Time end = LeaseEnd(l, now);
    for (const auto& unit : l.units)
      for (const auto& sh : unit) {
        auto [it, fresh] = busy.emplace(sh.node, end);
        if (!fresh) it->second = std::max(it->second, end);
      }
  }
  std::vector<std::string> names;
  for (const auto& [name, pn] : pool_->nodes()) names.push_back(name);
  for (const auto& name : names) {
    const auto* pn = pool_->Find(name);
    if (pn->phase == elastic::Phase::kIdle || pn->phase == elastic::Phase::kAllocated ||
        pn->phase == elastic::Phase::kDraining) {
      // Registered but not connected now: neither idle nor busy until it is back or failed.
      auto nit = nodes_.find(name);
      if (nit == nodes_.end() || !nit->second.up) continue;
      AddCalls(pool_->SetBusy(name, busy.count(name) > 0, now));
    }
  }
  // The policy's view: the pool's nodes and the work that waits for resources.
  as::View v;
  v.now = now;
  v.types = &pool_->types();
  v.nodes = pool_->View();
  for (auto& nv : v.nodes) {
    auto it = busy.find(pool_->NameOf(nv.id));
    if (it != busy.end()) nv.busy_until = it->second;
  }
  v.arrived = arrived_;
  constexpr int64_t kMaxPendingUnits = 100000;  // per job: beyond that it changes nothing
  for (const auto& [id, job] : jobs_) {
    if (job.undispatched() <= 0 || job.row.state == pb::CANCELLED) continue;
    // Waiting for resources; or no reason at all: the scheduler started some of the job's
    // units in its last pass (an array) and the rest wait too. Holds, dependencies, begin times
    // and array throttles are not demand.
    if (!job.row.reason.empty() && job.row.reason != "Resources" && job.row.reason != "Priority")
      continue;
    // A job bound to named nodes (-w) waits for those: no new node can serve it.
    if (job.spec.nodelist_size() > 0) continue;
    auto t = JobType(job, now);
    if (!t) continue;
    as::Pending p;
    p.type = *t;
    p.submitted = FromMillis(job.row.submit_ms);
    p.nodes = std::max(1, job.spec.min_nodes());
    p.cpus = NodeRequest(job.spec).cpus;
    // An exclusive job takes whole nodes: it is not packed with others.
    if (job.spec.exclusive()) p.cpus = pool_->types()[static_cast<size_t>(*t)].cpus;
    if (job.spec.time_limit_ms() > 0) p.time_limit = Duration(job.spec.time_limit_ms());
    int64_t units = std::min(job.undispatched(), kMaxPendingUnits);
    if (job.spec.launch_tasks()) units = std::min<int64_t>(units, 1);
    if (job.spec.array_max_running() > 0) {
      // The throttle counts the slots the job holds already.
      int64_t held = 0;
      for (auto lid : job.leases) held += static_cast<int64_t>(leases_.at(lid).units.size());
      units = std::min<int64_t>(units, job.spec.array_max_running() - held);
    }
    for (int64_t u = 0; u < units; ++u) v.pending.push_back(p);
  }
  AddCalls(pool_->Apply(policy_->Decide(v), now));
  AddCalls(pool_->Tick(now));
  if (now >= next_list_ && !list_running_) {
    list_running_ = true;
    next_list_ = now + opt_.elastic->list_interval;
    auto provider = opt_.elastic->provider;
    RunProvider([this, provider] {
      auto listed = provider->List();
      Post([this, listed = std::move(listed)] {
        list_running_ = false;
        if (!listed.ok()) {
          LogWarning("head: provider list failed: %s", listed.status().ToString().c_str());
          return;
        }
        AddCalls(pool_->Reconcile(*listed, clock_->Now()));
      });
    });
  }
}

void Head::Impl::SyncPool(Time now) {
  for (const auto& name : pool_->TakeDirty()) {
    const auto* pn = pool_->Find(name);
    if (pn == nullptr) continue;
    state::PoolRow r;
    r.name = pn->name;
    r.id = pn->id;
    r.type = pool_->types()[static_cast<size_t>(pn->type)].name;
    r.phase = elastic::PhaseName(pn->phase);
    r.requested_ms = ToMillis(pn->requested);
    r.ready_ms = pn->ready == Time{} ? 0 : ToMillis(pn->ready);
    r.gone_ms = pn->phase == elastic::Phase::kGone ? ToMillis(pn->gone) : 0;
    r.failed = pn->failed;
    r.reason = pn->reason;
    Write(store_->PutPoolNode(r));
    Changed();
    auto nit = nodes_.find(name);
    switch (pn->phase) {
      case elastic::Phase::kDraining:
      case elastic::Phase::kDeleting:
        if (nit != nodes_.end() && !nit->second.draining) {
          nit->second.draining = true;  // no new work; it goes once it runs nothing
          sched_dirty_ = true;
        }
        break;
      case elastic::Phase::kFailed:
        // Its work goes back to the queue (or fails) now, not after node_timeout.
        if (nit != nodes_.end() && nit->second.up) NodeFailed(nit->second, now, pn->reason);
        break;
      case elastic::Phase::kGone:
        if (nit != nodes_.end()) {
          // Deleted while idle: nothing of it to fail; its session just ends.
          if (nit->second.up && pn->failed) NodeFailed(nit->second, now, pn->reason);
          if (nit->second.session) nit->second.session->Close();
          nit->second.row.state = "GONE";
          Write(store_->PutNode(nit->second.row));
          nodes_.erase(nit);
        }
        Event(now, pn->failed ? "node_failed" : "node_deleted", 0, name, pn->reason);
        LogInfo("head: elastic node %s is gone%s%s", name.c_str(), pn->failed ? ": " : "",
                pn->failed ? pn->reason.c_str() : "");
        break;
      case elastic::Phase::kRequested:
        Event(now, "node_requested", 0, name, r.type);
        break;
      default:
        break;
    }
  }
}

void Head::Impl::StartCalls() {
  auto calls = std::move(calls_);
  calls_.clear();
  auto provider = opt_.elastic->provider;
  for (auto& c : calls) {
    as::NodeType type = pool_->types()[static_cast<size_t>(c.type)];
    RunProvider([this, provider, c, type] {
      Status s = c.kind == elastic::Call::kCreate ? provider->Create(c.name, type)
                                                  : provider->Delete(c.name);
      Post([this, c, s] {
        Time now = clock_->Now();
        const char* what = c.kind == elastic::Call::kCreate ? "create" : "delete";
        if (!s.ok()) {
          LogWarning("head: provider %s of %s failed: %s", what, c.name.c_str(),
                     s.ToString().c_str());
          Event(now, std::string(what) + "_failed", 0, c.name, s.message());
        }
        AddCalls(c.kind == elastic::Call::kCreate ? pool_->CreateDone(c.name, s, now)
                                                  : pool_->DeleteDone(c.name, s, now));
      });
    });
  }
}

void Head::Impl::RunProvider(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(provider_mu_);
  if (provider_stop_) return;
  provider_queue_.push_back(std::move(fn));
  provider_cv_.notify_one();
}

void Head::Impl::ProviderWorker() {
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock<std::mutex> lock(provider_mu_);
      provider_cv_.wait(lock, [this] { return provider_stop_ || !provider_queue_.empty(); });
      if (provider_stop_) return;
      fn = std::move(provider_queue_.front());
      provider_queue_.pop_front();
    }
    fn();
  }
}

// ---------------------------------------------------------------------------------------------
// Node sessions

void Head::Impl::DoRegister(const std::shared_ptr<Session>& s, uint64_t sid,
                            const pb::Register& r) {
  Time now = clock_->Now();
  if (r.name().empty()) {
    auto& m = Out(s);
    m.mutable_registered()->set_ok(false);
    m.mutable_registered()->set_message("a node needs a name");
    return;
  }
  if (pool_ && !r.partition().empty() && !pool_->Registered(r.name(), now)) {
    // A node the pool never made, or has given up on (its delete is under way).
    auto& m = Out(s);
    m.mutable_registered()->set_ok(false);
    m.mutable_registered()->set_message("node " + r.name() +
                                        " is not an elastic node of this cluster any more");
    return;
  }
  NodeEntry& n = nodes_[r.name()];
  n.partition = r.partition();
  bool restarted = !n.row.instance.empty() && n.row.instance != r.instance();
  if (n.session && n.session != s) n.session->Close();
  if (restarted && n.up) NodeFailed(n, now, "node daemon restarted");
  n.row.name = r.name();
  n.row.instance = r.instance();
  n.row.hostname = r.hostname();
  n.row.cpus = r.resources().cpus();
  n.row.mem_mb = r.resources().mem_mb();
  n.row.gpus = r.resources().gpus();
  n.row.pid = r.pid();
  n.row.last_seen_ms = ToMillis(now);
  n.row.state = "UP";
  n.up = true;
  n.last_seen = now;
  n.session = s;
  n.session_id = sid;
  n.draining = false;
  n.spec_sent.clear();
  Write(store_->PutNode(n.row));
  Event(now, "node_up", 0, r.name(), r.hostname());

  // What the node has, by (job, pos, attempt).
  std::set<std::tuple<int64_t, int64_t, int>> has;
  for (const auto& k : r.running()) has.insert({k.job_id(), k.pos(), k.attempt()});
  for (const auto& k : r.queued()) has.insert({k.job_id(), k.pos(), k.attempt()});
  for (const auto& rep : r.unacked())
    has.insert({rep.key().job_id(), rep.key().pos(), rep.key().attempt()});
  pb::HeadMessage& reply = Out(s);
  auto* reg = reply.mutable_registered();
  reg->set_ok(true);
  // Steps the node runs that we do not consider current: end them.
  for (const auto& list : {r.running(), r.queued()}) {
    for (const auto& k : list) {
      Job* job = FindJob(k.job_id());
      bool current = false;
      if (job) {
        auto it = job->live.find(k.pos());
        current = it != job->live.end() && it->second.attempt == k.attempt() &&
                  it->second.node == r.name();
      }
      if (!current) *reg->add_kill() = k;
    }
  }
  // Tasks we dispatched to this node that it never received go back to pending; tasks it has
  // that were cancelled meanwhile get their cancel (again: it may have been lost).
  // By each task's own node: a job of ranks has tasks on every node of its lease.
  std::vector<int64_t> here;
  for (auto& [lid, l] : leases_) {
    const Job* job = FindJob(l.job_id);
    bool mine = l.node == r.name();
    if (job && job->spec.launch_tasks())
      for (auto pos : l.positions) mine = mine || job->live.at(pos).node == r.name();
    if (mine) here.push_back(lid);
  }
  for (auto lid : here) {
    auto lit = leases_.find(lid);
    if (lit == leases_.end()) continue;
    Job* job = FindJob(lit->second.job_id);
    if (!job) continue;
    std::vector<int64_t> lost;
    pb::Cancel cancel;
    for (auto pos : lit->second.positions) {
      const Task& t = job->live.at(pos);
      if (t.node != r.name()) continue;  // another node's rank
      if (!has.count({job->row.id, pos, t.attempt})) lost.push_back(pos);
      else if (t.cancel_requested || job->row.rest_cancelled)
        cancel.add_positions(pos), cancel.add_attempts(t.attempt);
    }
    if (cancel.positions_size() > 0) {
      cancel.set_job_id(job->row.id);
      *reply.add_cancels() = std::move(cancel);
    }
    for (auto pos : lost) RequeueTask(*job, pos, false);  // may end the lease
  }
  // Reports the node kept while we were away; the answer acks them all.
  pb::ReportBatch b;
  for (const auto& rep : r.unacked()) *b.add_reports() = rep;
  b.set_seq(r.next_seq() > 0 ? r.next_seq() - 1 : 0);
  DoReports(r.name(), sid, b);
  // Jobs that ran relayed commands or steps there: swept when they end (this head may be a
  // new one that never saw them start), or now when they have ended already.
  for (int64_t task_id : r.exec_jobs()) {
    Job* job = FindJobOfTask(task_id);
    std::vector<std::string> names;
    std::vector<int> slots;
    if (job != nullptr) Allocation(*job, task_id, &names, &slots);
    if (!names.empty())
      exec_nodes_[task_id].insert(r.name());
    else
      Out(s).add_exec_cancels()->set_job_id(task_id);
  }
  // Leases left without tasks give their slots back.
  std::vector<int64_t> ids;
  for (auto& [lid, l] : leases_)
    if (l.node == r.name()) ids.push_back(lid);
  for (auto lid : ids) {
    auto it = leases_.find(lid);
    if (it == leases_.end()) continue;
    Job* job = FindJob(it->second.job_id);
    if (job) MaintainLease(*job, it->second, now);
  }
  sched_dirty_ = true;
  Changed();
  LogInfo("head: node %s registered (%d cpus, %lld MB)%s", r.name().c_str(), n.row.cpus,
          static_cast<long long>(n.row.mem_mb), restarted ? " after a restart" : "");
}

void Head::Impl::DoReports(const std::string& node_name, uint64_t sid, const pb::ReportBatch& b) {
  auto nit = nodes_.find(node_name);
  if (nit == nodes_.end() || nit->second.session_id != sid) return;
  NodeEntry& node = nit->second;
  Time now = clock_->Now();
  node.last_seen = now;
  for (const auto& rep : b.reports()) {
    Job* job = FindJob(rep.key().job_id());
    if (!job) continue;
    auto it = job->live.find(rep.key().pos());
    if (it == job->live.end() || it->second.attempt != rep.key().attempt() ||
        it->second.node != node_name)
      continue;  // stale: an earlier attempt, or already settled
    Task& t = it->second;
    if (rep.started()) {
      if (t.started) continue;
      t.started = true;
      t.start_ms = rep.time_ms();
      job->counts[pb::PENDING]--;
      job->counts[pb::RUNNING]++;
      PutTask(*job, t, pb::RUNNING);
      UpdateAggregate(*job, now);
      Changed();
      continue;
    }
    pb::JobState st;
    if (job->spec.launch_tasks() && leases_.count(t.lease) &&
        (rep.requeue() || (rep.node_failed() && !rep.cancelled()))) {
      // A job of ranks is one world: a rank its node handed back unstarted, or lost as it
      // shut down, takes the others along (they all run again, or all end NODE_FAIL).
      LoseLease(*job, t.lease, node_name, rep.requeue(), now);
      continue;
    }
    if (rep.requeue()) {
      RequeueTask(*job, t.pos, false);
      continue;
    }
    if (!t.started && rep.start_ms() != 0) {
      // Started and ended within one batch: the node sent only the end.
      t.started = true;
      t.start_ms = rep.start_ms();
      job->counts[pb::PENDING]--;
      job->counts[pb::RUNNING]++;
    }
    if (rep.node_failed() && !rep.cancelled()) {
      // The node shut down under the step: as a node failure. A preempted spot node's work
      // runs again (Slurm requeues preempted jobs).
      if (job->spec.requeue() || IsSpotNode(node_name))
        RequeueTask(*job, t.pos, true);
      else
        FinishTask(*job, t.pos, pb::NODE_FAIL, rep.exit_code(), rep.signal(), now);
      continue;
    }
    if (rep.cancelled())
      st = pb::CANCELLED;
    else if (rep.timed_out())
      st = pb::TIMEOUT;
    else if (rep.exit_code() == 0 && rep.signal() == 0 && rep.error().empty())
      st = pb::COMPLETED;
    else
      st = pb::FAILED;
    if (!rep.error().empty()) {
      LogWarning("head: job %lld task %lld failed to start on %s: %s",
                 static_cast<long long>(job->row.id), static_cast<long long>(t.pos),
                 node_name.c_str(), rep.error().c_str());
      Event(now, "launch_failed", job->row.id, node_name, rep.error());
    }
    FinishTask(*job, t.pos, st, rep.exit_code(), rep.signal(), now);
  }
  if (node.session && b.seq() > 0) {
    auto& out = Out(node.session);
    out.set_ack(std::max(out.ack(), b.seq()));
  }
}

void Head::Impl::DoHeartbeat(const std::string& node_name, uint64_t sid) {
  auto nit = nodes_.find(node_name);
  if (nit == nodes_.end() || nit->second.session_id != sid) return;
  nit->second.last_seen = clock_->Now();
}

void Head::Impl::DoDraining(const std::string& node_name, uint64_t sid) {
  auto nit = nodes_.find(node_name);
  if (nit == nodes_.end() || nit->second.session_id != sid) return;
  nit->second.draining = true;
  sched_dirty_ = true;
  LogInfo("head: node %s is stopping", node_name.c_str());
  // An elastic node that stops without being asked to (a spot preemption's notice) is lost.
  if (pool_) AddCalls(pool_->Lost(node_name, "stopped by its host", clock_->Now()));
}

void Head::Impl::DoSessionClosed(const std::string& node_name, uint64_t sid) {
  auto nit = nodes_.find(node_name);
  if (nit == nodes_.end() || nit->second.session_id != sid) return;
  // The node has node_timeout to come back before its work is given up.
  nit->second.session.reset();
  nit->second.spec_sent.clear();
  sched_dirty_ = true;
}

// ---------------------------------------------------------------------------------------------
// API bodies

Result<pb::SubmitReply> Head::Impl::DoSubmit(const rpc::Caller& who, const pb::JobSpec& in) {
  pb::JobSpec spec = in;
  if (spec.min_nodes() < 1) spec.set_min_nodes(1);
  SWELL_RETURN_IF_ERROR(CheckNodeNames(&spec));
  // As Slurm: -N without -n means one task per node.
  if (spec.ntasks() < 1) spec.set_ntasks(spec.min_nodes());
  if (spec.cpus_per_task() < 1) spec.set_cpus_per_task(1);
  if (spec.script().empty() && spec.argv_size() == 0)
    return InvalidArgument("nothing to run: give a script or a command");
  if (spec.mem_mb() < 0 || spec.gpus() < 0 || spec.time_limit_ms() < 0)
    return InvalidArgument("negative resources");
  if (spec.max_nodes() != 0 && spec.max_nodes() < spec.min_nodes())
    return InvalidArgument("--nodes: maximum below minimum");
  for (int i = 1; i < spec.array_indices_size(); ++i)
    if (spec.array_indices(i) <= spec.array_indices(i - 1))
      return InvalidArgument("array indices must be increasing");
  if (spec.array_max_running() < 0) return InvalidArgument("negative array throttle");
  if (spec.launch_tasks() && spec.array_indices_size() > 0)
    return InvalidArgument("an array job cannot launch one process per task (srun semantics)");
  if (spec.work_dir().empty() || spec.work_dir()[0] != '/')
    return InvalidArgument("the working directory must be an absolute path");
  // Resources no node could ever hold.
  std::vector<sched::Resources> totals;
  std::vector<std::string> names;
  for (auto& [name, n] : nodes_) totals.push_back(n.total()), names.push_back(name);
  if (pool_) {
    // An elastic cluster holds what its node types can: the job's type must exist and fit.
    const auto& types = pool_->types();
    as::Request need = NodeRequest(spec);
    if (!spec.partition().empty()) {
      int t = TypeIndex(spec.partition());
      std::string known;
      for (const auto& ty : types) known += (known.empty() ? "" : ", ") + ty.name;
      if (t < 0)
        return InvalidArgument("invalid partition '" + spec.partition() + "' (partitions: " +
                               known + ")");
      if (!as::Route({types[static_cast<size_t>(t)]}, need))
        return InvalidArgument("the job does not fit a node of partition " + spec.partition());
    } else if (!as::Route(types, need)) {
      const as::NodeType* largest = &types.front();
      for (const auto& ty : types)
        if (std::tie(ty.cpus, ty.memory_mb, ty.gpus) >
            std::tie(largest->cpus, largest->memory_mb, largest->gpus))
          largest = &ty;
      return InvalidArgument(
          "no node type can hold the job (" + std::to_string(need.cpus) + " cpus, " +
          std::to_string(need.memory_mb) + " MB, " + std::to_string(need.gpus) +
          " gpus per node); the largest is " + largest->name + " (" +
          std::to_string(largest->cpus) + " cpus, " + std::to_string(largest->memory_mb) +
          " MB, " + std::to_string(largest->gpus) + " gpus)");
    }
    totals.clear();  // nodes come and go: the types decide
  }
  if (!totals.empty()) {
    sched::Group g;
    g.ntasks = spec.ntasks();
    g.cpus_per_task = spec.cpus_per_task();
    g.mem_mb = spec.mem_mb();
    g.gpus = spec.gpus();
    g.min_nodes = spec.min_nodes();
    g.max_nodes = spec.max_nodes();
    g.require.assign(spec.nodelist().begin(), spec.nodelist().end());
    g.exclude.assign(spec.exclude().begin(), spec.exclude().end());
    g.exclusive = spec.exclusive();
    Status f = sched::CheckFeasible(totals, g, names);
    if (!f.ok()) return f;
  }
  // Dependencies must name jobs that exist.
  for (const auto& term : spec.dependency().terms()) {
    static const std::set<std::string> kTypes = {"after", "afterok", "afterany", "afternotok",
                                                 "singleton"};
    if (!kTypes.count(term.type()))
      return InvalidArgument("unknown dependency type '" + term.type() + "'");
    for (const auto& ref : term.job_ids()) {
      bool started;
      if (!RefState(ref, &started))
        return InvalidArgument("--dependency names job " + ref + ", which does not exist");
    }
  }
  Time now = clock_->Now();
  int64_t count = std::max<int64_t>(1, spec.array_indices_size());
  int64_t id = next_job_id_;
  next_job_id_ += count;  // array tasks take the ids after their job's (SLURM_JOB_ID)
  if (spec.launch_tasks()) count = spec.ntasks();  // one task per rank, under the job's id
  Write(store_->SetCounter("next_job_id", next_job_id_));
  Job job;
  job.spec = spec;
  job.row.id = id;
  job.row.name = spec.name();
  job.row.uid = who.uid;
  job.row.gid = who.gid;
  job.row.user = who.user;
  job.row.state = pb::PENDING;
  job.row.submit_ms = ToMillis(now);
  job.row.priority = JobPriority(spec);
  job.row.task_count = count;
  job.row.next_pos = 0;
  job.spec.SerializeToString(&job.row.spec);
  job.counts[pb::PENDING] = count;
  Write(store_->PutJob(job.row));
  Write(store_->PutSpec(id, job.row.spec));
  Event(now, "submit", id, "", spec.name());
  if (pool_) {
    if (auto t = JobType(job, now)) {
      arrived_.resize(pool_->types().size(), 0);
      arrived_[static_cast<size_t>(*t)] += spec.launch_tasks() ? 1 : count;  // allocations
    }
  }
  jobs_.emplace(id, std::move(job));
  sched_dirty_ = true;
  Changed();
  pb::SubmitReply reply;
  reply.set_job_id(id);
  return reply;
}

void Head::Impl::FillInfo(const Job& job, pb::JobInfo* info, bool pending_indices) {
  info->set_id(job.row.id);
  info->set_name(job.row.name);
  info->set_user(job.row.user);
  info->set_uid(job.row.uid);
  info->set_state(static_cast<pb::JobState>(job.row.state));
  std::string reason =
      job.row.state == pb::PENDING || job.row.state == pb::RUNNING ? job.row.reason : "";
  // Tasks handed to a node ahead of a free slot wait for resources, as Slurm would say.
  if (reason.empty() && job.counts[pb::PENDING] > 0 && job.row.next_pos > 0) reason = "Resources";
  info->set_reason(reason);
  info->set_exit_code(job.row.exit_code);
  info->set_signal(job.row.signal);
  info->set_submit_ms(job.row.submit_ms);
  info->set_start_ms(job.row.start_ms);
  info->set_end_ms(job.row.end_ms);
  info->set_task_count(job.row.task_count);
  info->set_priority(job.row.priority);
  info->set_restarts(job.row.restarts);
  for (int s = 0; s < kNumStates; ++s) info->add_state_counts(job.counts[s]);
  std::map<std::string, int> nodes;  // node -> the job's tasks there
  for (auto lid : job.leases) {
    const Lease& l = leases_.at(lid);
    nodes[l.node];
    for (const auto& unit : l.units)
      for (const auto& sh : unit) nodes[sh.node] += sh.ntasks;
  }
  for (const auto& [n, tasks] : nodes) {
    info->add_nodes(n);
    info->add_node_tasks(tasks);
  }
  for (const auto& [id, call] : execs_) {
    if (call->step_id < 0 || call->job_id != job.row.id) continue;
    auto* st = info->add_steps();
    st->set_step_id(call->step_id);
    st->set_name(call->name);
    for (const auto& n : call->nodes) st->add_nodes(n);
    st->set_ntasks(call->ntasks);
    st->set_start_ms(call->start_ms);
  }
  // The partition: the job's own, else the type of the nodes it runs on or is routed to.
  std::string partition = job.spec.partition();
  if (partition.empty() && !nodes.empty()) {
    auto nit = nodes_.find(nodes.begin()->first);
    if (nit != nodes_.end()) partition = nit->second.partition;
  }
  if (partition.empty() && pool_) {
    if (auto t = JobType(job, clock_->Now())) partition = pool_->types()[static_cast<size_t>(*t)].name;
  }
  info->set_partition(partition);
  if (job.is_array()) {
    info->set_array_max_running(job.spec.array_max_running());
    if (pending_indices && (job.row.state == pb::PENDING || job.row.state == pb::RUNNING)) {
      std::vector<int64_t> pending;
      for (auto [pos, attempt] : job.requeued)
        pending.push_back(job.spec.array_indices(static_cast<int>(pos)));
      // Dispatched to a node but not started yet: still pending to the user.
      for (const auto& [pos, t] : job.live)
        if (!t.started) pending.push_back(job.spec.array_indices(static_cast<int>(pos)));
      for (int64_t pos = job.row.next_pos; pos < job.row.task_count; ++pos)
        if (!job.skip.count(pos)) pending.push_back(job.spec.array_indices(static_cast<int>(pos)));
      info->set_pending_indices(FormatArrayIndices(pending));
    }
  }
}

void Head::Impl::FillBrief(int64_t id, const JobRow& row, pb::JobInfo* info) {
  info->set_id(id);
  info->set_name(row.name);
  info->set_user(row.user);
  info->set_uid(row.uid);
  info->set_state(static_cast<pb::JobState>(row.state));
  info->set_exit_code(row.exit_code);
  info->set_signal(row.signal);
  info->set_submit_ms(row.submit_ms);
  info->set_start_ms(row.start_ms);
  info->set_end_ms(row.end_ms);
  info->set_task_count(row.task_count);
  info->set_priority(row.priority);
  info->set_restarts(row.restarts);
  std::vector<int64_t> counts(kNumStates, 0);
  auto c = store_->CountTasks(id);
  int64_t with_rows = 0;
  if (c.ok())
    for (auto [s, n] : *c) counts[static_cast<size_t>(s)] += n, with_rows += n;
  if (row.task_count > with_rows)
    counts[row.rest_cancelled ? static_cast<size_t>(pb::CANCELLED)
                              : static_cast<size_t>(row.state)] += row.task_count - with_rows;
  for (auto n : counts) info->add_state_counts(n);
}

namespace {
// A spec as listings return it: without the script and the environment (big and private).
void TrimSpec(pb::JobSpec* spec) {
  spec->clear_env();
  spec->clear_script();
}
}  // namespace

Result<pb::QueueReply> Head::Impl::DoQueue(const rpc::Caller&, const pb::QueueRequest& req) {
  pb::QueueReply reply;
  std::set<int64_t> want(req.job_ids().begin(), req.job_ids().end());
  auto wanted = [&](int64_t id, const std::string& user) {
    if (!want.empty() && !want.count(id)) return false;
    if (!req.user().empty() && req.user() != user) return false;
    return true;
  };
  if (req.all() || !want.empty()) {
    for (auto& [id, b] : done_) {
      if (!want.empty() && !want.count(id)) continue;
      auto row = store_->LoadJob(id);
      if (!row.ok() || !row->has_value()) continue;
      if (!wanted(id, (*row)->user)) continue;
      auto* info = reply.add_jobs();
      FillBrief(id, **row, info);
      if (req.specs()) {
        info->mutable_spec()->ParseFromString((*row)->spec);
        TrimSpec(info->mutable_spec());
        info->set_partition(info->spec().partition());
      }
    }
  }
  for (auto& [id, job] : jobs_) {
    if (!wanted(id, job.row.user)) continue;
    auto* info = reply.add_jobs();
    FillInfo(job, info, /*pending=*/true);
    if (req.specs()) {
      *info->mutable_spec() = job.spec;
      TrimSpec(info->mutable_spec());
    }
    if (req.tasks()) {
      for (auto& [pos, t] : job.live) {
        auto* ti = info->add_tasks();
        ti->set_array_index(job.is_array() ? job.spec.array_indices(static_cast<int>(pos)) : -1);
        ti->set_job_id(job.is_array() ? id + pos : id);
        ti->set_state(t.started ? pb::RUNNING : pb::PENDING);
        ti->set_node(t.node);
        ti->set_start_ms(t.start_ms);
      }
    }
  }
  std::sort(reply.mutable_jobs()->begin(), reply.mutable_jobs()->end(),
            [](const pb::JobInfo& a, const pb::JobInfo& b) { return a.id() < b.id(); });
  return reply;
}

Result<pb::InfoReply> Head::Impl::DoInfo(const pb::InfoRequest& req) {
  int64_t id = req.job().job_id();
  pb::InfoReply reply;
  auto* info = reply.mutable_job();
  JobRow row;
  pb::JobSpec spec;
  if (Job* job = FindJob(id)) {
    FillInfo(*job, info);
    row = job->row;
    spec = job->spec;
  } else {
    // A task's own id names its array job.
    auto r = store_->LoadJob(id);
    if (!r.ok()) return r.status();
    if (!r->has_value()) {
      auto below = done_.upper_bound(id);
      auto active = jobs_.upper_bound(id);
      int64_t cand = 0;
      if (below != done_.begin()) cand = std::prev(below)->first;
      if (active != jobs_.begin()) cand = std::max(cand, std::prev(active)->first);
      if (cand > 0) {
        auto rc = store_->LoadJob(cand);
        pb::JobSpec s;
        if (rc.ok() && rc->has_value()) s.ParseFromString((*rc)->spec);
        // An array task's own id (a job of ranks has one id for all its tasks).
        if (rc.ok() && rc->has_value() && id < cand + s.array_indices_size()) {
          pb::InfoRequest inner;
          inner.mutable_job()->set_job_id(cand);
          inner.mutable_job()->set_has_index(true);
          inner.mutable_job()->set_array_index(s.array_indices(static_cast<int>(id - cand)));
          return DoInfo(inner);
        }
      }
      return NotFound("no job " + std::to_string(id));
    }
    row = **r;
    spec.ParseFromString(row.spec);
    FillBrief(id, row, info);
  }
  *info->mutable_spec() = spec;
  info->mutable_spec()->clear_env();  // big and private; `swell info` does not show it
  if (info->partition().empty()) info->set_partition(spec.partition());
  auto tasks = store_->LoadTasks(id);
  if (!tasks.ok()) return tasks.status();
  bool is_array = spec.array_indices_size() > 0;
  std::map<int64_t, TaskRow> by_pos;
  for (auto& t : *tasks) by_pos[t.pos] = t;
  int64_t from = 0, to = row.task_count;
  if (req.job().has_index()) {
    auto& idx = spec.array_indices();
    auto it = std::lower_bound(idx.begin(), idx.end(), req.job().array_index());
    if (it == idx.end() || *it != req.job().array_index())
      return NotFound("job " + std::to_string(id) + " has no array index " +
                      std::to_string(req.job().array_index()));
    from = it - idx.begin();
    to = from + 1;
  }
  for (int64_t pos = from; pos < to; ++pos) {
    auto* ti = info->add_tasks();
    ti->set_array_index(is_array ? spec.array_indices(static_cast<int>(pos)) : -1);
    ti->set_job_id(is_array ? id + pos : id);
    auto it = by_pos.find(pos);
    if (it != by_pos.end()) {
      const auto& t = it->second;
      ti->set_state(static_cast<pb::JobState>(t.state));
      ti->set_exit_code(t.exit_code);
      ti->set_signal(t.signal);
      ti->set_node(t.node);
      ti->set_start_ms(t.start_ms);
      ti->set_end_ms(t.end_ms);
      ti->set_restarts(t.attempt);
    } else {
      ti->set_state(row.rest_cancelled ? pb::CANCELLED : pb::PENDING);
    }
  }
  // Output files as the node names them.
  PatternFields f;
  f.job_id = id;
  f.array_job_id = id;
  f.job_name = spec.name();
  f.user = row.user;
  std::string node = info->tasks_size() > 0 ? info->tasks(0).node() : "";
  f.node = node;
  if (is_array && info->tasks_size() > 0) {
    f.array_task_id = info->tasks(0).array_index();
    f.job_id = info->tasks(0).job_id();
  }
  std::string out =
      !spec.output().empty() ? spec.output() : (is_array ? "swell-%A_%a.out" : "swell-%j.out");
  info->set_stdout_path(AbsolutePath(ExpandPattern(out, f), spec.work_dir()));
  info->set_stderr_path(spec.error().empty()
                            ? info->stdout_path()
                            : AbsolutePath(ExpandPattern(spec.error(), f), spec.work_dir()));
  return reply;
}

Result<pb::CancelReply> Head::Impl::DoCancel(const rpc::Caller& who, const pb::CancelRequest& req) {
  Time now = clock_->Now();
  int cancelled = 0;
  for (const auto& ref : req.jobs()) {
    // A step is named by its task's id, which may be an array task's own.
    Job* job = ref.has_step() ? FindJobOfTask(ref.job_id()) : FindJob(ref.job_id());
    if (!job) {
      if (done_.count(ref.job_id())) continue;  // already finished: nothing to do
      return NotFound("no job " + std::to_string(ref.job_id()));
    }
    if (who.uid != 0 && who.uid != job->row.uid)
      return PermissionDenied("job " + std::to_string(ref.job_id()) + " belongs to " +
                              job->row.user);
    if (ref.has_step()) {
      // One step: its ranks end (or get the signal) and the job goes on, as Slurm's.
      std::shared_ptr<ExecCall> call;
      for (const auto& [id, c] : execs_)
        if (c->job_id == ref.job_id() && c->step_id == ref.step_id()) call = c;
      if (!call)
        return NotFound("job " + std::to_string(ref.job_id()) + " has no running step " +
                        std::to_string(ref.step_id()));
      for (const auto& n : call->nodes) {
        auto nit = nodes_.find(n);
        if (nit == nodes_.end() || !nit->second.session) continue;
        auto* c = Out(nit->second.session).add_exec_cancels();
        c->set_exec_id(call->id);
        c->set_signal(req.signal());
      }
      if (req.signal() == 0) {
        ++cancelled;
        Event(now, "cancel", job->row.id, "", who.user);
      }
      continue;
    }
    std::vector<int64_t> positions;  // empty: all
    if (ref.has_index()) {
      auto& idx = job->spec.array_indices();
      auto it = std::lower_bound(idx.begin(), idx.end(), ref.array_index());
      if (it == idx.end() || *it != ref.array_index())
        return NotFound("job " + std::to_string(ref.job_id()) + " has no array index " +
                        std::to_string(ref.array_index()));
      positions.push_back(it - idx.begin());
    }
    // Signals only reach running steps.
    std::map<std::string, pb::Cancel> to_nodes;
    auto send_cancel = [&](const Task& t) {
      auto& c = to_nodes[t.node];
      c.set_job_id(job->row.id);
      c.add_positions(t.pos);
      c.add_attempts(t.attempt);
      c.set_signal(req.signal());
    };
    if (req.signal() != 0) {
      for (auto& [pos, t] : job->live)
        if (t.started && (positions.empty() || positions[0] == pos)) send_cancel(t);
    } else {
      ++cancelled;
      Event(now, "cancel", job->row.id, "", who.user);
      // Pending tasks end here; dispatched ones end when their node confirms.
      auto cancel_pending = [&](int64_t pos) {
        Task t;
        t.pos = pos;
        PutTask(*job, t, pb::CANCELLED, 0, 0, ToMillis(now));
        job->counts[pb::PENDING]--;
        job->counts[pb::CANCELLED]++;
      };
      if (positions.empty()) {
        for (auto [pos, attempt] : job->requeued) cancel_pending(pos);
        job->requeued.clear();
        int64_t rest =
            job->row.task_count - job->row.next_pos - static_cast<int64_t>(job->skip.size());
        job->counts[pb::PENDING] -= rest;
        job->counts[pb::CANCELLED] += rest;
        job->row.next_pos = job->row.task_count;
        job->row.rest_cancelled = true;
        job->skip.clear();
        job->row_dirty = true;
        for (auto& [pos, t] : job->live) send_cancel(t);
      } else {
        int64_t pos = positions[0];
        auto live = job->live.find(pos);
        auto rq = std::find_if(job->requeued.begin(), job->requeued.end(),
                               [pos](const auto& p) { return p.first == pos; });
        if (live != job->live.end()) {
          live->second.cancel_requested = true;
          PutTask(*job, live->second, live->second.started ? pb::RUNNING : pb::PENDING);
          send_cancel(live->second);
        } else if (rq != job->requeued.end()) {
          job->requeued.erase(rq);
          cancel_pending(pos);
        } else if (pos >= job->row.next_pos && !job->skip.count(pos)) {
          job->skip.insert(pos);
          cancel_pending(pos);
        }
      }
      UpdateAggregate(*job, now);
      sched_dirty_ = true;
      Changed();
    }
    for (auto& [node_name, c] : to_nodes) {
      auto nit = nodes_.find(node_name);
      if (nit == nodes_.end() || !nit->second.session) continue;
      *Out(nit->second.session).add_cancels() = std::move(c);
    }
  }
  pb::CancelReply reply;
  reply.set_cancelled(cancelled);
  return reply;
}

Result<pb::NodesReply> Head::Impl::DoNodes() {
  pb::NodesReply reply;
  if (pool_)
    for (const auto& ty : pool_->types()) reply.add_partitions(ty.name);
  std::map<std::string, sched::Resources> used;
  for (auto& [lid, l] : leases_)
    for (const auto& u : l.units)
      for (const auto& sh : u) used[sh.node] = used[sh.node] + sh.res;
  for (auto& [name, n] : nodes_) {
    auto* ni = reply.add_nodes();
    ni->set_name(name);
    ni->set_hostname(n.row.hostname);
    ni->set_cpus(n.row.cpus);
    ni->set_mem_mb(n.row.mem_mb);
    ni->set_gpus(n.row.gpus);
    auto u = used[name];
    ni->set_cpus_used(u.cpus);
    ni->set_mem_used_mb(u.mem_mb);
    ni->set_gpus_used(u.gpus);
    ni->set_last_seen_ms(ToMillis(n.last_seen));
    ni->set_pid(n.row.pid);
    std::string st = !n.up                  ? "DOWN"
                     : u.cpus == 0          ? "IDLE"
                     : u.cpus >= n.row.cpus ? "ALLOCATED"
                                            : "MIXED";
    if (n.up && !n.session) st = "UNKNOWN";
    if (n.up && n.draining) st = "DRAINING";
    ni->set_partition(n.partition);
    if (pool_) {
      if (const auto* pn = pool_->Find(name)) {
        ni->set_phase(elastic::PhaseName(pn->phase));
        if (pn->phase == elastic::Phase::kDeleting || pn->phase == elastic::Phase::kDraining)
          st = "POWERING_DOWN";
        if (pn->phase == elastic::Phase::kFailed) st = "DOWN", ni->set_reason(pn->reason);
      }
    }
    ni->set_state(st);
  }
  if (pool_) {
    // Pool nodes that have not registered (yet): as Slurm lists nodes powering up.
    for (const auto& [name, pn] : pool_->nodes()) {
      if (pn.phase == elastic::Phase::kGone || nodes_.count(name)) continue;
      auto* ni = reply.add_nodes();
      const auto& ty = pool_->types()[static_cast<size_t>(pn.type)];
      ni->set_name(name);
      ni->set_cpus(ty.cpus);
      ni->set_mem_mb(ty.memory_mb);
      ni->set_gpus(ty.gpus);
      ni->set_partition(ty.name);
      ni->set_phase(elastic::PhaseName(pn.phase));
      ni->set_reason(pn.reason);
      ni->set_state(pn.phase == elastic::Phase::kRequested || pn.phase == elastic::Phase::kBooting
                        ? "POWERING_UP"
                    : pn.phase == elastic::Phase::kFailed ? "DOWN"
                                                           : "POWERING_DOWN");
    }
  }
  return reply;
}

Result<pb::StatsReply> Head::Impl::DoStats() {
  // From the database: every pool node ever made and every task that started.
  int64_t now_ms = ToMillis(clock_->Now());
  std::vector<elastic::PaidNode> paid;
  if (pool_) {
    SWELL_ASSIGN_OR_RETURN(auto rows, store_->LoadPool());
    for (const auto& r : rows) {
      int t = TypeIndex(r.type);
      elastic::PaidNode n;
      n.name = r.name;
      n.cpus = t < 0 ? 1 : pool_->types()[static_cast<size_t>(t)].cpus;
      n.price_per_hour = t < 0 ? 0 : pool_->types()[static_cast<size_t>(t)].price_per_hour;
      n.from_ms = r.requested_ms;
      n.deleted = r.phase == "gone";
      n.to_ms = n.deleted ? r.gone_ms : now_ms;
      paid.push_back(n);
    }
  }
  std::vector<elastic::UsedTask> used;
  SWELL_ASSIGN_OR_RETURN(auto jobs, store_->LoadJobs(/*active_only=*/false));
  for (const auto& j : jobs) {
    pb::JobSpec spec;
    spec.ParseFromString(j.spec);
    int cpus = std::max(1, spec.cpus_per_task()) * std::max(1, spec.ntasks());
    SWELL_ASSIGN_OR_RETURN(auto tasks, store_->LoadTasks(j.id));
    for (const auto& t : tasks) {
      if (t.start_ms == 0 || t.node.empty()) continue;
      used.push_back({j.user, j.id, j.submit_ms, t.start_ms, t.end_ms ? t.end_ms : now_ms,
                      t.node, cpus});
    }
  }
  pb::StatsReply reply;
  reply.set_json(elastic::ToJson(elastic::Account(paid, used)));
  return reply;
}

Result<pb::WaitEvent> Head::Impl::DoWaitSnapshot(const std::vector<pb::JobRef>& refs) {
  pb::WaitEvent ev;
  for (const auto& ref : refs) {
    pb::JobInfo info;
    if (Job* job = FindJob(ref.job_id())) {
      FillInfo(*job, &info);
    } else if (done_.count(ref.job_id())) {
      auto row = store_->LoadJob(ref.job_id());
      if (!row.ok() || !row->has_value()) return NotFound("no job " + std::to_string(ref.job_id()));
      FillBrief(ref.job_id(), **row, &info);
    } else {
      return NotFound("no job " + std::to_string(ref.job_id()));
    }
    int64_t total = info.task_count();
    int64_t done = 0, failed = 0;
    for (int s = pb::COMPLETED; s < kNumStates; ++s) done += info.state_counts(s);
    failed = done - info.state_counts(pb::COMPLETED);
    ev.set_total(ev.total() + total);
    ev.set_done(ev.done() + done);
    ev.set_running(ev.running() + info.state_counts(pb::RUNNING));
    ev.set_failed(ev.failed() + failed);
    *ev.add_jobs() = info;
  }
  return ev;
}

void Head::Impl::NotifyWaiters() {
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    auto& w = *it;
    auto ev = DoWaitSnapshot(w->refs);
    bool done = !ev.ok() || ev->done() >= ev->total();
    if (ev.ok()) {
      std::string now = ev->SerializeAsString();
      if (now != w->last) {
        w->last = now;
        std::lock_guard<std::mutex> lock(w->mu);
        w->events.push_back(*ev);
      }
    }
    w->cv.notify_all();
    it = done ? waiters_.erase(it) : it + 1;
  }
}

Result<bool> Head::Impl::AddWaiter(const std::shared_ptr<Waiter>& w) {
  auto ev = DoWaitSnapshot(w->refs);
  if (!ev.ok()) return ev.status();
  w->last = ev->SerializeAsString();
  {
    std::lock_guard<std::mutex> lock(w->mu);
    w->events.push_back(*ev);
  }
  if (ev->done() < ev->total()) waiters_.push_back(w);
  return true;
}

void Head::Impl::CloseWaiters() {
  for (auto& w : waiters_) {
    std::lock_guard<std::mutex> lock(w->mu);
    w->closed = true;
    w->cv.notify_all();
  }
  waiters_.clear();
}

// ---------------------------------------------------------------------------------------------
// Head: the HeadApi face, called on gRPC threads.

Head::Head(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Head::~Head() { Stop(); }

Result<std::unique_ptr<Head>> Head::Open(const HeadOptions& options, Clock* clock) {
  auto store = state::Store::Open(options.state_path);
  if (!store.ok()) return store.status();
  auto impl = std::make_unique<Impl>(options, clock, std::move(store).value());
  SWELL_RETURN_IF_ERROR(impl->Load());
  return std::unique_ptr<Head>(new Head(std::move(impl)));
}

Status Head::Start() { return impl_->Start(this); }
void Head::Stop() { impl_->Stop(); }
int Head::tcp_port() const { return impl_->tcp_port(); }

Result<pb::SubmitReply> Head::Submit(const rpc::Caller& who, const pb::SubmitRequest& req) {
  return impl_->OnLoop<pb::SubmitReply>([&] { return impl_->DoSubmit(who, req.spec()); });
}
Result<pb::QueueReply> Head::Queue(const rpc::Caller& who, const pb::QueueRequest& req) {
  return impl_->OnLoop<pb::QueueReply>([&] { return impl_->DoQueue(who, req); });
}
Result<pb::InfoReply> Head::Info(const rpc::Caller&, const pb::InfoRequest& req) {
  return impl_->OnLoop<pb::InfoReply>([&] { return impl_->DoInfo(req); });
}
Result<pb::CancelReply> Head::Cancel(const rpc::Caller& who, const pb::CancelRequest& req) {
  return impl_->OnLoop<pb::CancelReply>([&] { return impl_->DoCancel(who, req); });
}
Result<pb::NodesReply> Head::Nodes(const rpc::Caller&, const pb::NodesRequest&) {
  return impl_->OnLoop<pb::NodesReply>([&] { return impl_->DoNodes(); });
}

Result<pb::StatsReply> Head::Stats(const rpc::Caller&, const pb::StatsRequest&) {
  return impl_->OnLoop<pb::StatsReply>([&] { return impl_->DoStats(); });
}

Status Head::Wait(const rpc::Caller&, const pb::WaitRequest& req, rpc::Writer<pb::WaitEvent>& out) {
  auto w = std::make_shared<Waiter>();
  w->refs.assign(req.jobs().begin(), req.jobs().end());
  if (w->refs.empty()) return InvalidArgument("wait for which jobs?");
  auto added = impl_->OnLoop<bool>([&] { return impl_->AddWaiter(w); });
  if (!added.ok()) return added.status();
  for (;;) {
    std::deque<pb::WaitEvent> events;
    {
      std::unique_lock<std::mutex> lock(w->mu);
      w->cv.wait_for(lock, std::chrono::milliseconds(500),
                     [&] { return !w->events.empty() || w->closed; });
      events.swap(w->events);
      if (w->closed && events.empty()) return Unavailable("the head is stopping");
    }
    for (const auto& ev : events) {
      if (!out.Write(ev)) return Unavailable("waiter went away");
      if (ev.done() >= ev.total()) return Status::Ok();
    }
    if (out.Cancelled()) return Unavailable("waiter went away");
  }
}

// ---------------------------------------------------------------------------------------------
// Job steps inside an allocation (srun in a batch script) and relayed commands (swell-rsh)

void Head::Impl::Allocation(const Job& job, int64_t task_id, std::vector<std::string>* names,
                            std::vector<int>* slots) const {
  names->clear();
  slots->clear();
  std::set<int64_t> lease_ids;
  // Dispatched is enough: the batch script may call srun before its start report arrives.
  for (const auto& [pos, t] : job.live) {
    if (job.is_array() && job.row.id + pos != task_id) continue;
    lease_ids.insert(t.lease);
  }
  std::map<std::string, int> per;
  for (auto lid : lease_ids) {
    auto lit = leases_.find(lid);
    if (lit == leases_.end()) continue;
    for (const auto& unit : lit->second.units)
      for (const auto& sh : unit) per[sh.node] += std::max(1, sh.ntasks);
  }
  std::vector<std::string> order;
  for (const auto& [n, k] : per) order.push_back(n);
  for (const auto& n : HostListOrder(order)) {
    names->push_back(n);
    slots->push_back(per[n]);
  }
}

Result<pb::ExecEvent> Head::Impl::DoExecStart(const rpc::Caller& who, const pb::ExecRequest& req,
                                              const std::shared_ptr<ExecCall>& call) {
  const int64_t task_id = req.job_id();
  const std::string job_text = std::to_string(task_id);
  Job* job = FindJobOfTask(task_id);
  if (job == nullptr) return NotFound("Invalid job id specified (" + job_text + ")");
  if (!who.has_secret && who.uid != 0 && who.uid != job->row.uid)
    return PermissionDenied("Access/permission denied for job " + job_text);
  std::vector<std::string> names;
  std::vector<int> slots;
  Allocation(*job, task_id, &names, &slots);
  if (names.empty())
    return InvalidArgument("Job " + job_text + " is not running (no allocation to run in)");
  std::vector<std::string> step_nodes;
  std::vector<int> counts;
  if (req.relay()) {
    if (req.nodelist_size() != 1) return InvalidArgument("a relayed command names one host");
    const std::string& host = req.nodelist(0);
    // By node name, else by host name when one node of the allocation has it.
    if (std::find(names.begin(), names.end(), host) != names.end()) step_nodes.push_back(host);
    for (const auto& n : names) {
      auto nit = nodes_.find(n);
      if (step_nodes.size() < 2 && n != host && nit != nodes_.end() &&
          nit->second.row.hostname == host)
        step_nodes.push_back(n);
    }
    if (step_nodes.size() > 1) step_nodes.clear();  // ambiguous
    counts.assign(step_nodes.size(), 1);
    if (step_nodes.empty())
      return InvalidArgument("host " + host + " is not a node of job " + job_text +
                             "'s allocation (" + CompressHostList(names) + ")");
  } else {
    std::set<std::string> wanted(req.nodelist().begin(), req.nodelist().end());
    std::set<std::string> excluded(req.exclude().begin(), req.exclude().end());
    for (const auto& w : wanted)
      if (std::find(names.begin(), names.end(), w) == names.end())
        return InvalidArgument("Requested node configuration is not available: " + w +
                               " is not in job " + job_text + "'s allocation (" +
                               CompressHostList(names) + ")");
    std::vector<std::string> avail;
    std::vector<int> avail_slots;
    for (size_t i = 0; i < names.size(); ++i) {
      if (excluded.count(names[i]) || (!wanted.empty() && !wanted.count(names[i]))) continue;
      avail.push_back(names[i]);
      avail_slots.push_back(slots[i]);
    }
    int ntasks = req.ntasks();
    int tpn = req.ntasks_per_node();
    int nnodes = req.nodes() > 0 ? req.nodes() : static_cast<int>(avail.size());
    if (req.nodes() == 0 && ntasks > 0 && wanted.empty()) nnodes = std::min(nnodes, ntasks);
    if (nnodes > static_cast<int>(avail.size()) || nnodes <= 0)
      return InvalidArgument("Requested node configuration is not available: " +
                             std::to_string(nnodes) + " nodes asked, the allocation has " +
                             std::to_string(avail.size()));
    if (ntasks <= 0) ntasks = tpn > 0 ? tpn * nnodes : nnodes;
    if (ntasks < nnodes)
      return InvalidArgument("Requested node configuration is not available: " +
                             std::to_string(ntasks) + " tasks on " + std::to_string(nnodes) +
                             " nodes");
    // Slurm's block distribution: one task on each node, then fill nodes in order up to the
    // tasks they hold in the allocation (or exactly --ntasks-per-node).
    counts.assign(static_cast<size_t>(nnodes), 1);
    int left = ntasks - nnodes;
    for (int i = 0; i < nnodes && left > 0; ++i) {
      int cap = (tpn > 0 ? tpn : avail_slots[static_cast<size_t>(i)]) - 1;
      int take = std::min(left, std::max(0, cap));
      counts[static_cast<size_t>(i)] += take;
      left -= take;
    }
    if (left > 0)
      return InvalidArgument("More processors requested than permitted: " +
                             std::to_string(ntasks) + " tasks, the allocation holds " +
                             std::to_string(ntasks - left));
    step_nodes.assign(avail.begin(), avail.begin() + nnodes);
  }
  for (const auto& n : step_nodes) {
    auto nit = nodes_.find(n);
    if (nit == nodes_.end() || !nit->second.session || nit->second.draining)
      return Unavailable("node " + n + " of job " + job_text + " is not reachable now");
  }
  call->id = next_exec_id_++;
  call->job_id = task_id;
  call->step_id = req.relay() ? -1 : next_step_[task_id]++;
  call->name = req.name().empty() && req.argv_size() > 0 ? req.argv(0) : req.name();
  call->nodes = step_nodes;
  call->start_ms = ToMillis(clock_->Now());
  std::string tasks_per_node = CompressCounts(counts);
  int total = 0;
  for (int c : counts) total += c;
  int rank = 0;
  for (size_t i = 0; i < step_nodes.size(); ++i) {
    call->ranks.push_back({rank, counts[i]});
    pb::ExecLaunch x;
    x.set_exec_id(call->id);
    x.set_job_id(task_id);
    x.set_step_id(call->step_id);
    *x.mutable_argv() = req.argv();
    for (const auto& [k, v] : req.env()) x.add_env(k + "=" + v);
    x.set_cwd(req.cwd());
    x.mutable_user()->set_uid(job->row.uid);
    x.mutable_user()->set_gid(job->row.gid);
    x.mutable_user()->set_name(job->row.user);
    x.set_first_rank(rank);
    x.set_count(counts[i]);
    x.set_node_index(static_cast<int>(i));
    x.set_shell(req.relay());
    for (const auto& n : step_nodes) x.add_nodelist(n);
    for (const auto& n : names) x.add_alloc_nodelist(n);
    x.set_tasks_per_node(tasks_per_node);
    rank += counts[i];
    x.set_ntasks(total);
    *Out(nodes_.at(step_nodes[i]).session).add_execs() = std::move(x);
    exec_nodes_[task_id].insert(step_nodes[i]);
  }
  call->ntasks = total;
  execs_[call->id] = call;
  {
    std::lock_guard<std::mutex> lock(exec_mu_);
    exec_routes_[call->id] = call;
  }
  pb::ExecEvent first;
  first.set_started(true);
  first.set_step_id(call->step_id);
  for (const auto& n : step_nodes) first.add_nodes(n);
  Changed();
  return first;
}

void Head::Impl::DoExecGone(int64_t id, bool cancel) {
  auto it = execs_.find(id);
  if (it == execs_.end()) return;
  if (cancel) {
    for (const auto& n : it->second->nodes) {
      auto nit = nodes_.find(n);
      if (nit == nodes_.end() || !nit->second.session) continue;
      Out(nit->second.session).add_exec_cancels()->set_exec_id(id);
    }
  }
  execs_.erase(it);
  std::lock_guard<std::mutex> lock(exec_mu_);
  exec_routes_.erase(id);
}

void Head::Impl::RouteExec(const pb::ExecOutput& out) {
  std::shared_ptr<ExecCall> call;
  {
    std::lock_guard<std::mutex> lock(exec_mu_);
    auto it = exec_routes_.find(out.exec_id());
    if (it == exec_routes_.end()) return;
    call = it->second;
  }
  for (const auto& ev : out.events()) call->Deliver(ev);
}

void Head::Impl::EndExecs(int64_t task_id) {
  auto it = exec_nodes_.find(task_id);
  if (it == exec_nodes_.end()) return;
  for (const auto& n : it->second) {
    auto nit = nodes_.find(n);
    if (nit == nodes_.end() || !nit->second.session) continue;
    Out(nit->second.session).add_exec_cancels()->set_job_id(task_id);
  }
  exec_nodes_.erase(it);
}

void Head::Impl::CloseExecs() {
  std::lock_guard<std::mutex> lock(exec_mu_);
  for (auto& [id, call] : exec_routes_) {
    std::lock_guard<std::mutex> call_lock(call->mu);
    call->closed = true;
    call->cv.notify_all();
  }
  exec_routes_.clear();
}

Status Head::Exec(const rpc::Caller& who, const pb::ExecRequest& req,
                  rpc::Writer<pb::ExecEvent>& out) {
  if (req.argv_size() == 0) return InvalidArgument("no command given");
  auto call = std::make_shared<ExecCall>();
  auto first = impl_->OnLoop<pb::ExecEvent>([&] { return impl_->DoExecStart(who, req, call); });
  if (!first.ok()) return first.status();
  const int64_t id = call->id;
  const size_t total = static_cast<size_t>(call->ntasks);
  bool ok = out.Write(*first);
  while (ok) {
    std::deque<pb::ExecEvent> events;
    bool finished = false, closed = false;
    {
      std::unique_lock<std::mutex> lock(call->mu);
      call->cv.wait_for(lock, std::chrono::milliseconds(500), [&] {
        return !call->events.empty() || call->closed;
      });
      events.swap(call->events);
      finished = call->ended.size() >= total;
      closed = call->closed;
    }
    for (const auto& ev : events) {
      if (!out.Write(ev)) {
        ok = false;
        break;
      }
    }
    if (!ok) break;
    if (finished) {
      impl_->Post([this, id] { impl_->DoExecGone(id, false); });
      return Status::Ok();
    }
    if (closed) return Unavailable("the head is stopping");
    if (out.Cancelled()) ok = false;
  }
  impl_->Post([this, id] { impl_->DoExecGone(id, true); });
  return Unavailable("the step's caller went away");
}

Status Head::NodeSession(const rpc::Caller&,
                         rpc::Stream<pb::NodeMessage, pb::HeadMessage>& stream) {
  auto session = std::make_shared<Session>(&stream);
  uint64_t sid = impl_->next_session_id_++;
  std::thread writer([session] { session->WriteLoop(); });
  std::string name;
  pb::NodeMessage msg;
  while (stream.Read(&msg)) {
    if (msg.has_register_()) {
      if (!name.empty() && name != msg.register_().name()) break;
      name = msg.register_().name();
      auto reg = std::make_shared<pb::Register>(std::move(*msg.mutable_register_()));
      impl_->Post([this, session, sid, reg] { impl_->DoRegister(session, sid, *reg); });
    } else if (name.empty()) {
      break;  // must register first
    } else if (msg.has_reports()) {
      auto batch = std::make_shared<pb::ReportBatch>(std::move(*msg.mutable_reports()));
      impl_->Post([this, name, sid, batch] { impl_->DoReports(name, sid, *batch); });
    } else if (msg.has_heartbeat()) {
      impl_->Post([this, name, sid] { impl_->DoHeartbeat(name, sid); });
    } else if (msg.has_draining()) {
      impl_->Post([this, name, sid] { impl_->DoDraining(name, sid); });
    } else if (msg.has_exec()) {
      impl_->RouteExec(msg.exec());
    }
    msg.Clear();
  }
  if (!name.empty()) impl_->Post([this, name, sid] { impl_->DoSessionClosed(name, sid); });
  session->Ended();
  writer.join();
  return Status::Ok();
}

}  // namespace swell::head
