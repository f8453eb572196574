// The head's loop and its wiring: opening the state, starting and stopping the loop, the server
// and the provider threads; one pass of the loop (one transaction); the HeadApi face that posts
// each call to the loop. What a pass does is in the files named in head_impl.h.

#include "head/head.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "common/files.h"
#include "common/log.h"
#include "head/head_impl.h"
#include "head/state/lease_codec.h"

namespace swell::head {

namespace sched = scheduler;
namespace as = autoscaler;
using state::JobRow;
using state::TaskRow;

// ---------------------------------------------------------------------------------------------
// The loop

Status Head::Impl::Start(HeadApi* api) {
  SWELL_RETURN_IF_ERROR(LoadCaTimes());
  next_housekeeping_ = clock_->Now();
  next_autoscale_ = next_list_ = clock_->Now();
  counters_.started_ms = ToMillis(clock_->Now());
  if (pool_) provider_calls_.Start(opt_.elastic->provider_threads);
  rpc::ServerOptions so;
  so.unix_path = opt_.unix_path;
  so.tcp_address = opt_.tcp_address;
  so.secret = opt_.secret;
  so.tls = opt_.tls;
  auto server = rpc::StartServer(api, so);
  if (!server.ok()) {
    Stop();
    return server.status();
  }
  server_ = std::move(server).value();
  // The nodes the state names get their node_timeout to come back from now, when they can
  // reach us: loading a large state and starting the server took part of it (under TSan a
  // restarted head declared both nodes of a test down 0.6 s before they could register).
  // Calls that came meanwhile wait in the queue for the loop.
  for (auto& [name, n] : nodes_) n.last_seen = clock_->Now();
  loop_ = std::thread([this] { Loop(); });
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
  provider_calls_.Stop();  // calls under way finish; queued ones are dropped
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
      Time now = clock_->Now();
      Time wake = std::min(now + opt_.tick, std::max(now, next_housekeeping_));
      if (sched_dirty_) wake = std::min(wake, std::max(now, next_schedule_));
      if (pool_) wake = std::min(wake, std::max(now, next_autoscale_));
      clock_->WaitUntil(cv_, lock, wake, [this] { return stopped_ || !queue_.empty(); });
      if (stopped_) return;
      while (!queue_.empty()) {
        work.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    const Time start = clock_->Now();
    Pass(work);
    counters_.pass_seconds.Observe(clock_->Now() - start);
  }
}

Job& Head::Impl::AddJob(Job job) {
  const int64_t id = job.row.id;
  job.touched = &touched_;
  touched_.push_back(id);  // looked at once at the end of this pass, dirty or not
  return jobs_.insert_or_assign(id, std::move(job)).first->second;
}

void Head::Impl::FlushJobs(bool all) {
  auto finished = [](const Job& job) {
    return IsTerminal(static_cast<pb::JobState>(job.row.state)) && job.live.empty();
  };
  std::vector<int64_t> ids;
  ids.swap(touched_);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (all) {
    // A change that no path listed would be missed until now: said, and flushed all the same.
    const size_t listed = ids.size();
    for (const auto& [id, job] : jobs_)
      if ((job.row_dirty || finished(job)) &&
          !std::binary_search(ids.begin(), ids.begin() + static_cast<ptrdiff_t>(listed), id)) {
        LogWarning("head: job %lld changed without being listed", static_cast<long long>(id));
        ids.push_back(id);
      }
  }
  for (int64_t id : ids) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) continue;
    Job& job = it->second;
    if (job.row_dirty) PutJobRow(job);
    // Finished jobs leave the active table.
    if (finished(job)) {
      for (auto lid : std::set<int64_t>(job.leases)) DropLease(job, lid);
      done_[id] = Brief{job.row.state, job.row.name, job.row.uid, job.row.task_count,
                        job.is_array()};
      ++counters_.jobs_finished[StateName(static_cast<pb::JobState>(job.row.state))];
      jobs_.erase(it);
    }
  }
  RefreshWaiting(std::move(ids));  // (finished jobs leave it)
  if (!all) return;
  // Checked once this pass's changes are in it (a check before saw this pass's submissions
  // missing, when no scheduling pass had taken them in yet).
  std::vector<int64_t> wrong =
      waiting_.Check(jobs_, [this](const Job& job) { return WaitingOf(job); });
  for (int64_t id : wrong)
    LogWarning("head: the scheduling pass saw job %lld as it was, not as it is",
               static_cast<long long>(id));
  if (!wrong.empty()) RefreshWaiting(std::move(wrong));
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

void Head::Impl::Begin() {
  Status b = store_->Begin();
  if (!b.ok()) {
    LogError("head: cannot begin a transaction: %s", b.ToString().c_str());
    std::_Exit(70);
  }
  wrote_ = false;
}

void Head::Impl::Pass(std::vector<std::function<void()>>& work) {
  Begin();
  for (auto& fn : work) fn();
  Time now = clock_->Now();
  if (now >= next_housekeeping_) {
    Housekeeping(now);
    next_housekeeping_ = now + opt_.tick;
  }
  const bool sweep = now >= next_sweep_;
  if (sweep) next_sweep_ = now + kSweepPeriod;
  if (sched_dirty_ && now >= next_schedule_) {
    // A long queue's scheduling takes a while: what this pass was asked is committed and
    // answered first.
    if (jobs_.size() >= static_cast<size_t>(kLongQueue) && !after_commit_.empty()) {
      Commit(sweep);
      Begin();
    }
    Schedule(now);
  }
  if (pool_) {
    if (now >= next_autoscale_) {
      Autoscale(now);
      next_autoscale_ = now + opt_.elastic->interval;
    }
    SyncPool(now);
  }
  Commit(sweep);
}

void Head::Impl::Commit(bool all_jobs) {
  FlushJobs(all_jobs);
  // The leases changed this pass (a walk over every lease per commit was 3-5% of a loaded head).
  std::vector<int64_t> dirty;
  dirty.swap(dirty_leases_);
  for (int64_t id : dirty) {
    auto it = leases_.find(id);
    if (it == leases_.end() || !it->second.dirty) continue;  // dropped, or already written
    Lease& lease = it->second;
    lease.dirty = false;
    Write(
        store_->PutLease({lease.id, lease.job_id, lease.node, static_cast<int>(lease.units.size()),
                          state::EncodeShares(ToRows(lease.units))}));
  }
  const Time start = clock_->Now();
  Status c = store_->Commit();
  counters_.commit_seconds.Observe(clock_->Now() - start);
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
  // A full disk refuses new work before it could fail a commit (the head exits on a failed
  // commit and recovers from the database: nothing acknowledged is lost, but it stops).
  const std::string dir = std::filesystem::path(impl_->options().state_path).parent_path().string();
  if (auto free = FreeBytes(dir.empty() ? "." : dir);
      free.ok() && *free < impl_->options().min_free_bytes)
    return ResourceExhausted("the head's state directory " + dir + " has " +
                             std::to_string(*free >> 20) + " MB free, under the " +
                             std::to_string(impl_->options().min_free_bytes >> 20) +
                             " MB it keeps for the queue: no submissions until there is room");
  // The spec copied here, on the caller's thread: its environment is most of a submission, and
  // the loop is the head's one core.
  pb::JobSpec spec = req.spec();
  return impl_->OnLoop<pb::SubmitReply>([&] { return impl_->DoSubmit(who, std::move(spec)); });
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

Result<pb::OverviewReply> Head::Overview(const rpc::Caller&, const pb::OverviewRequest&) {
  SWELL_ASSIGN_OR_RETURN(auto o, Snapshot());
  pb::OverviewReply reply;
  reply.set_json(ToJson(o));
  return reply;
}

Result<head::Overview> Head::Snapshot() {
  return impl_->OnLoop<head::Overview>([&] { return impl_->DoOverview(); });
}

Result<pb::ControlReply> Head::Control(const rpc::Caller& who, const pb::ControlRequest& req) {
  return impl_->OnLoop<pb::ControlReply>([&] { return impl_->DoControl(who, req); });
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

}  // namespace swell::head
