#include "mr/driver.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "common/log.h"
#include "mr/protocol.h"

namespace swell::mr {

class JobCore;

namespace {

using Steady = std::chrono::steady_clock;
double Since(Steady::time_point t) {
  return std::chrono::duration<double>(Steady::now() - t).count();
}

struct Event {
  enum Kind { kJoin, kMsg, kGone } kind = kMsg;
  int32_t worker = -1;
  net::Message msg;
  std::unique_ptr<net::Conn> conn;  // kJoin
  proto::Hello hello;               // kJoin
};

struct WorkerState {
  int32_t id = 0;
  std::unique_ptr<net::Conn> conn;
  proto::Hello hello;
  bool alive = true;
  bool leaving = false;     // asked to go (SIGTERM): gets no partitions, stops at a boundary
  bool stopped = false;     // told to stop
  std::set<int64_t> jobs;   // jobs it has been told to open
};

}  // namespace

class Driver::Impl {
 public:
  Impl(std::string key, std::unique_ptr<net::Listener> l, bool print_stats)
      : key_(std::move(key)), listener_(std::move(l)), print_stats_(print_stats) {
    threads_.emplace_back([this] { AcceptLoop(); });
  }

  ~Impl() {
    for (auto& [id, w] : workers_)
      if (w.alive && !w.stopped) (void)w.conn->Send(proto::kStop, {});
    listener_->Close();
    for (auto& [id, w] : workers_) w.conn->Close();
    for (auto& t : threads_) t.join();
  }

  uint16_t port() const { return listener_->port(); }

  // ---- events --------------------------------------------------------------------------

  void Push(Event e) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(std::move(e));
    }
    cv_.notify_one();
  }

  // The next event, already applied to the membership (joins welcomed, deaths marked);
  // nullopt on timeout.
  std::optional<Event> Next(Duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return !events_.empty(); })) return std::nullopt;
    Event e = std::move(events_.front());
    events_.pop_front();
    lock.unlock();
    if (e.kind == Event::kJoin) {
      int32_t id = next_id_++;
      WorkerState& w = workers_[id];
      w.id = id;
      w.conn = std::move(e.conn);
      w.hello = e.hello;
      e.worker = id;
      (void)w.conn->Send(proto::kWelcome, Encode(id));
      net::Conn* c = w.conn.get();
      threads_.emplace_back([this, id, c] { ReadLoop(id, c); });
    } else if (e.kind == Event::kGone) {
      auto it = workers_.find(e.worker);
      if (it != workers_.end() && it->second.alive) {
        it->second.alive = false;
        if (!it->second.leaving)
          LogWarning("mr driver: worker %d (pid %lld at %s) is gone", e.worker,
                     static_cast<long long>(it->second.hello.pid), it->second.conn->peer().c_str());
      }
    } else if (e.msg.type == proto::kLeave) {
      auto it = workers_.find(e.worker);
      if (it != workers_.end()) it->second.leaving = true;
    }
    return e;
  }

  void AcceptLoop() {
    for (;;) {
      auto c = listener_->Accept();
      if (!c.ok()) return;
      (*c)->set_max_frame(4096);  // a hello is small; the key comes first
      auto hello = (*c)->Recv();
      (*c)->set_max_frame(net::kMaxFrame);
      proto::Hello h;
      if (!hello.ok() || hello->type != proto::kHello || !Decode(hello->payload, h)) continue;
      if (h.key != key_) {
        LogWarning("mr driver: refused a worker of another job (pid %lld)",
                   static_cast<long long>(h.pid));
        continue;
      }
      Event e;
      e.kind = Event::kJoin;
      e.conn = std::move(c).value();
      e.hello = std::move(h);
      Push(std::move(e));
    }
  }

  void ReadLoop(int32_t id, net::Conn* c) {
    for (;;) {
      auto m = c->Recv();
      if (!m.ok()) break;
      Event e;
      e.worker = id;
      e.msg = std::move(m).value();
      Push(std::move(e));
    }
    Event gone;
    gone.kind = Event::kGone;
    gone.worker = id;
    Push(std::move(gone));
  }

  // ---- membership ----------------------------------------------------------------------

  std::vector<int32_t> Ready() const {
    std::vector<int32_t> out;
    for (const auto& [id, w] : workers_)
      if (w.alive && !w.leaving) out.push_back(id);
    return out;
  }
  int live_workers() const { return static_cast<int>(Ready().size()); }

  Status WaitForWorkers(int n, Duration timeout) {
    auto deadline = Steady::now() + timeout;
    while (live_workers() < n) {
      auto left = std::chrono::duration_cast<Duration>(deadline - Steady::now());
      if (left <= Duration(0))
        return DeadlineExceeded(std::to_string(live_workers()) + " of " + std::to_string(n) +
                                " workers connected within " +
                                std::to_string(timeout.count() / 1000) + " s");
      auto e = Next(left);
      if (e && e->kind == Event::kMsg) Stray(*e);
    }
    return Status::Ok();
  }

  // A message no job is waiting for (e.g. a kLoaded of a closed job): only errors matter.
  void Stray(const Event& e) {
    if (e.msg.type == proto::kLeave) StopLeavers();
  }

  // Leaving workers that own nothing in any open job are told to stop.
  void StopLeavers();

  // Takes worker `id` out because worker `by` cannot reach it: told to stop, its connection
  // closed (its read loop then reports it gone).
  void Expel(int32_t id, int32_t by) {
    WorkerState* w = Worker(id);
    if (w == nullptr || !w->alive) return;
    LogWarning("mr driver: worker %d cannot reach worker %d (pid %lld at %s); taking it out", by,
               id, static_cast<long long>(w->hello.pid), w->conn->peer().c_str());
    if (!w->stopped) (void)w->conn->Send(proto::kStop, {});
    w->stopped = true;
    w->conn->Close();
  }

  WorkerState* Worker(int32_t id) {
    auto it = workers_.find(id);
    return it == workers_.end() ? nullptr : &it->second;
  }

  std::string key_;
  std::unique_ptr<net::Listener> listener_;
  bool print_stats_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> events_;  // guarded by mu_
  std::vector<std::thread> threads_;
  std::map<int32_t, WorkerState> workers_;
  int32_t next_id_ = 0;
  int64_t next_job_ = 1;
  std::set<JobCore*> jobs_;
};

// One open job on the driver.
class JobCore final : public internal::DriverJob {
 public:
  JobCore(Driver::Impl& d, int64_t id, std::string name, std::vector<std::string> specs,
          int reducers)
      : d_(d), id_(id), name_(std::move(name)), specs_(std::move(specs)), reducers_(reducers),
        owner_(specs_.size(), -1) {
    d_.jobs_.insert(this);
  }
  ~JobCore() override {
    (void)Close();
    d_.jobs_.erase(this);
  }

  bool Owns(int32_t worker) const {
    return std::find(owner_.begin(), owner_.end(), worker) != owner_.end();
  }

  // Assigns every partition to a ready worker, balancing, and has the owners load them.
  // Returns when the loads are sent (they complete before the next kIterate on each worker).
  Status Rebalance() {
    auto ready = d_.Ready();
    if (ready.empty()) return Unavailable("mr job '" + name_ + "': no workers left");
    std::map<int32_t, std::vector<int32_t>> have;  // worker -> partitions
    for (int32_t id : ready) have[id];
    std::vector<int32_t> homeless;
    for (size_t p = 0; p < owner_.size(); ++p) {
      if (have.count(owner_[p]))
        have[owner_[p]].push_back(static_cast<int32_t>(p));
      else
        homeless.push_back(static_cast<int32_t>(p));
    }
    std::map<int32_t, std::vector<std::pair<int32_t, std::string>>> loads;
    std::map<int32_t, std::vector<int32_t>> drops;
    auto least = [&] {
      return std::min_element(have.begin(), have.end(), [](const auto& a, const auto& b) {
               return a.second.size() < b.second.size();
             })->first;
    };
    for (int32_t p : homeless) {
      int32_t to = least();
      have[to].push_back(p);
      loads[to].emplace_back(p, specs_[p]);
      owner_[p] = to;
    }
    // Joiners: move partitions from the busiest until the counts differ by at most one.
    for (;;) {
      auto most = std::max_element(have.begin(), have.end(), [](const auto& a, const auto& b) {
        return a.second.size() < b.second.size();
      });
      int32_t to = least();
      if (most->second.size() <= have[to].size() + 1) break;
      int32_t p = most->second.back();
      most->second.pop_back();
      drops[most->first].push_back(p);
      have[to].push_back(p);
      loads[to].emplace_back(p, specs_[p]);
      owner_[p] = to;
    }
    for (auto& [w, ps] : drops) {
      std::string head;
      Writer wr(head);
      wr.Put(id_);
      wr.Put(ps);
      (void)d_.Worker(w)->conn->Send(proto::kDrop, head);
    }
    for (auto& [w, ps] : loads) {
      WorkerState* ws = d_.Worker(w);
      if (!ws->jobs.count(id_)) {
        std::string head;
        Writer wr(head);
        wr.Put(id_);
        wr.Put(name_);
        (void)ws->conn->Send(proto::kOpen, head);
        ws->jobs.insert(id_);
      }
      std::string head;
      Writer wr(head);
      wr.Put(id_);
      wr.Put(ps);
      (void)ws->conn->Send(proto::kLoad, head);
      loading_.insert(w);
    }
    d_.StopLeavers();
    return Status::Ok();
  }

  // Waits for the loads under way (Open: the static data is in memory when it returns).
  Status WaitLoaded() {
    while (!loading_.empty()) {
      auto e = d_.Next(std::chrono::hours(24));
      if (!e) continue;
      SWELL_RETURN_IF_ERROR(Handle(*e));
      if (lost_) {
        lost_ = false;
        SWELL_RETURN_IF_ERROR(Rebalance());
      }
    }
    return Status::Ok();
  }

  Result<std::vector<std::string>> Iterate(std::string dynamic) override {
    if (!error_.ok()) return error_;
    auto start = Steady::now();
    double opened = iter_ == 0 ? stats_.load_s : 0;  // Open's load counts in iteration 1
    stats_ = {};
    stats_.load_s = opened;
    stats_.iteration = ++iter_;
    // A boundary: workers that joined get partitions, leaving ones hand theirs over.
    SWELL_RETURN_IF_ERROR(Rebalance());
    for (int64_t attempt = 0;; ++attempt) {
      stats_.attempts = static_cast<int>(attempt + 1);
      run_ = {id_, iter_, attempt};
      auto ready = d_.Ready();
      in_run_ = std::set<int32_t>(ready.begin(), ready.end());
      int reducers = map_only() ? 0 : (reducers_ > 0 ? reducers_ : static_cast<int>(ready.size()));
      proto::Iterate msg;
      msg.run = run_;
      msg.partitions = static_cast<int32_t>(specs_.size());
      for (int r = 0; r < reducers; ++r) msg.reducer_owner.push_back(ready[r % ready.size()]);
      for (int32_t id : ready) {
        const auto& h = d_.Worker(id)->hello;
        msg.peers.push_back({id, {h.host, h.data_port}});
      }
      parts_.assign(map_only() ? specs_.size() : static_cast<size_t>(reducers), std::string());
      got_.assign(parts_.size(), false);
      missing_ = static_cast<int>(parts_.size());
      auto bstart = Steady::now();
      for (int32_t id : ready) {
        msg.maps.clear();
        for (size_t p = 0; p < owner_.size(); ++p)
          if (owner_[p] == id) msg.maps.push_back(static_cast<int32_t>(p));
        std::string head;
        Writer(head).Put(msg);
        (void)d_.Worker(id)->conn->Send(proto::kIterate, head, dynamic);
      }
      stats_.broadcast_s += Since(bstart);
      while (missing_ > 0 && !lost_) {
        auto e = d_.Next(std::chrono::hours(24));
        if (!e) continue;
        Status st = Handle(*e);
        if (!st.ok()) return error_ = st;
      }
      if (!lost_) break;
      // A worker died: its partitions go to the survivors, and the iteration runs again.
      lost_ = false;
      SWELL_RETURN_IF_ERROR(Rebalance());
    }
    auto cstart = Steady::now();
    std::vector<std::string> out = std::move(parts_);
    stats_.combine_s = Since(cstart);
    stats_.workers = d_.live_workers();
    stats_.total_s = Since(start);
    return out;
  }

  const IterationStats& last_stats() const override { return stats_; }
  int workers() const override { return d_.live_workers(); }

  Status Close() override {
    if (closed_) return Status::Ok();
    closed_ = true;
    std::string head = Encode(id_);
    for (auto& [id, w] : d_.workers_)
      if (w.alive && w.jobs.erase(id_)) (void)w.conn->Send(proto::kClose, head);
    std::fill(owner_.begin(), owner_.end(), -1);
    d_.StopLeavers();
    return Status::Ok();
  }

  void set_map_only(bool v) { map_only_ = v; }
  void set_print_stats(bool v) { print_stats_ = v; }
  bool print_stats() const override { return print_stats_; }
  bool map_only() const { return map_only_; }

 private:
  // Applies one event to this job.
  Status Handle(const Event& e) {
    if (e.kind == Event::kGone) {
      if (Owns(e.worker) || loading_.count(e.worker) || InRun(e.worker)) lost_ = true;
      loading_.erase(e.worker);
      return Status::Ok();
    }
    if (e.kind != Event::kMsg) return Status::Ok();
    Reader r(e.msg.payload);
    switch (e.msg.type) {
      case proto::kError: {
        int64_t job = 0;
        std::string message;
        if (!r.Get(job) || !r.Get(message) || job != id_) return Status::Ok();
        return InvalidArgument("mr job '" + name_ + "' on worker " + std::to_string(e.worker) +
                               ": " + message);
      }
      case proto::kLoaded: {
        int64_t job = 0;
        double secs = 0;
        if (!r.Get(job) || !r.Get(secs) || job != id_) return Status::Ok();
        loading_.erase(e.worker);
        stats_.load_s = std::max(stats_.load_s, secs);
        return Status::Ok();
      }
      case proto::kMapped: {
        proto::Mapped m;
        if (!r.Get(m) || m.run != run_) return Status::Ok();
        stats_.map_s = std::max(stats_.map_s, m.map_s);
        stats_.shuffle_bytes += m.bytes;
        return Status::Ok();
      }
      case proto::kResult: {
        proto::ResultHead h;
        if (!r.Get(h) || h.run != run_) return Status::Ok();
        if (h.part < 0 || static_cast<size_t>(h.part) >= parts_.size() || got_[h.part])
          return Status::Ok();
        got_[h.part] = true;
        parts_[h.part] = std::string(r.rest());
        --missing_;
        if (map_only()) {
          stats_.map_s = std::max(stats_.map_s, h.reduce_s);
        } else {
          stats_.reduce_s = std::max(stats_.reduce_s, h.reduce_s);
          stats_.shuffle_s = std::max(stats_.shuffle_s, h.wait_s);
        }
        return Status::Ok();
      }
      case proto::kUnreachable: {
        // A worker cannot reach a peer of this run: the peer is taken out (told to stop and
        // cut off), so its death ends this run and the survivors run it again.
        proto::Unreachable u;
        if (!r.Get(u) || u.run != run_ || u.worker == e.worker) return Status::Ok();
        d_.Expel(u.worker, e.worker);
        return Status::Ok();
      }
      default:  // kLeave: handled at the next boundary (Rebalance)
        return Status::Ok();
    }
  }

  // Whether `worker` had a part in the current run (it may own no partition but reduce).
  bool InRun(int32_t worker) const {
    return run_.job == id_ && in_run_.count(worker) > 0;
  }

  Driver::Impl& d_;
  int64_t id_;
  std::string name_;
  std::vector<std::string> specs_;
  int reducers_;
  std::vector<int32_t> owner_;  // worker id per partition, -1 before the first assignment
  std::set<int32_t> loading_;   // workers with a kLoad under way
  std::set<int32_t> in_run_;
  bool map_only_ = false;
  bool print_stats_ = false;
  bool lost_ = false;
  bool closed_ = false;
  Status error_;
  int64_t iter_ = 0;
  proto::Run run_;
  std::vector<std::string> parts_;
  std::vector<bool> got_;
  int missing_ = 0;
  IterationStats stats_;
};

void Driver::Impl::StopLeavers() {
  for (auto& [id, w] : workers_) {
    if (!w.alive || !w.leaving || w.stopped) continue;
    bool owns = false;
    for (auto* j : jobs_) owns = owns || j->Owns(id);
    if (owns) continue;
    w.stopped = true;
    (void)w.conn->Send(proto::kStop, {});
  }
}

Driver::Driver(std::string key, std::unique_ptr<net::Listener> listener, bool print_stats)
    : impl_(std::make_unique<Impl>(std::move(key), std::move(listener), print_stats)) {}
Driver::~Driver() = default;
uint16_t Driver::port() const { return impl_->port(); }
Status Driver::WaitForWorkers(int n, Duration timeout) {
  return impl_->WaitForWorkers(n, timeout);
}
int Driver::live_workers() const { return impl_->live_workers(); }
std::vector<int64_t> Driver::connected_pids() const {
  std::vector<int64_t> out;
  for (const auto& [id, w] : impl_->workers_) out.push_back(w.hello.pid);
  return out;
}

Result<std::unique_ptr<internal::DriverJob>> Driver::Open(const std::string& name,
                                                          std::vector<std::string> partitions,
                                                          const JobOptions& options,
                                                          bool map_only) {
  if (partitions.empty()) return InvalidArgument("mr job '" + name + "' has no partitions");
  int64_t id = impl_->next_job_++;
  auto job = std::make_unique<JobCore>(*impl_, id, name, std::move(partitions), options.reducers);
  job->set_map_only(map_only);
  job->set_print_stats(impl_->print_stats_);
  SWELL_RETURN_IF_ERROR(job->Rebalance());
  SWELL_RETURN_IF_ERROR(job->WaitLoaded());
  return std::unique_ptr<internal::DriverJob>(std::move(job));
}

}  // namespace swell::mr
