#include "mr/worker.h"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "common/log.h"
#include "mr/net.h"
#include "mr/protocol.h"

namespace swell::mr {

namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Map output is sent in pieces of about this size while a partition is still being mapped, so
// that reducers receive (and the network carries) it during the map phase.
constexpr size_t kChunk = 1 << 20;

struct Event {
  enum Kind { kControl, kData, kDriverGone } kind = kControl;
  net::Message msg;
};

class Queue {
 public:
  void Push(Event e) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      q_.push_back(std::move(e));
    }
    cv_.notify_one();
  }
  std::optional<Event> Pop(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return !q_.empty(); })) return std::nullopt;
    Event e = std::move(q_.front());
    q_.pop_front();
    return e;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> q_;
};

// What one reduce partition has received in one run.
struct ReduceInput {
  std::map<int32_t, std::string> parts;  // by map partition
  std::set<int32_t> done;                // partitions whose last piece arrived
  bool reduced = false;
};

class Worker {
 public:
  Worker(const Registry& jobs, const WorkerOptions& o) : registry_(jobs), o_(o) {}
  ~Worker() { Shutdown(); }

  int Run() {
    auto listener = net::Listen(o_.listen_host, 0);
    if (!listener.ok()) {
      LogError("mr worker: %s", listener.status().ToString().c_str());
      return 1;
    }
    listener_ = std::move(listener).value();
    // The driver listens before any worker learns its address: a refused connection means it
    // is gone, and is retried only briefly.
    auto driver = net::Connect(o_.driver_host, o_.driver_port, std::chrono::seconds(1));
    if (!driver.ok()) {
      LogError("mr worker: cannot reach the driver: %s", driver.status().ToString().c_str());
      return 1;
    }
    driver_ = std::move(driver).value();
    proto::Hello hello{o_.key, static_cast<int64_t>(getpid()), o_.advertise, listener_->port()};
    if (!driver_->Send(proto::kHello, Encode(hello)).ok()) return 1;
    threads_.emplace_back([this] { AcceptLoop(); });
    threads_.emplace_back([this] { ControlLoop(); });
    for (;;) {
      if (o_.leave && o_.leave->load() && !leave_sent_) {
        leave_sent_ = true;
        (void)driver_->Send(proto::kLeave, {});
      }
      auto e = events_.Pop(std::chrono::milliseconds(100));
      if (!e) continue;
      if (e->kind == Event::kDriverGone) return stopped_ ? 0 : 1;
      if (e->kind == Event::kData) {
        OnData(e->msg);
      } else if (!OnControl(e->msg)) {
        return 0;
      }
      MaybeReduce();
    }
  }

 private:
  void Shutdown() {
    if (listener_) listener_->Close();
    if (driver_) driver_->Close();
    {
      std::lock_guard<std::mutex> lock(peers_mu_);
      closing_ = true;
      for (auto* c : inbound_) c->Close();
    }
    for (auto& [id, c] : out_) c->Close();
    for (auto& t : threads_) t.join();  // the accept loop: no new inbound readers after this
    threads_.clear();
    std::vector<std::thread> readers;
    {
      std::lock_guard<std::mutex> lock(peers_mu_);
      readers.swap(threads_in_);
    }
    for (auto& t : readers) t.join();
  }

  void ControlLoop() {
    for (;;) {
      auto m = driver_->Recv();
      if (!m.ok()) {
        events_.Push({Event::kDriverGone, {}});
        return;
      }
      events_.Push({Event::kControl, std::move(m).value()});
    }
  }

  void AcceptLoop() {
    for (;;) {
      auto c = listener_->Accept();
      if (!c.ok()) return;
      std::lock_guard<std::mutex> lock(peers_mu_);
      if (closing_) return;
      net::Conn* conn = c->get();
      inbound_.insert(conn);
      threads_in_.emplace_back([this, conn, owned = std::shared_ptr<net::Conn>(
                                                 std::move(c).value())]() mutable {
        for (;;) {
          auto m = conn->Recv();
          if (!m.ok()) break;
          if (m->type == proto::kData) events_.Push({Event::kData, std::move(m).value()});
        }
        std::lock_guard<std::mutex> lock(peers_mu_);
        inbound_.erase(conn);
        owned.reset();
      });
    }
  }

  void Error(int64_t job, const std::string& message) {
    std::string head;
    Writer w(head);
    w.Put(job);
    w.Put(message);
    (void)driver_->Send(proto::kError, head);
  }

  // False on kStop.
  bool OnControl(net::Message& m) {
    Reader r(m.payload);
    switch (m.type) {
      case proto::kWelcome:
        r.Get(id_);
        return true;
      case proto::kOpen: {
        int64_t job = 0;
        std::string name;
        if (!r.Get(job) || !r.Get(name)) return true;
        auto it = registry_.find(name);
        if (it == registry_.end()) {
          std::string known;
          for (const auto& [n, f] : registry_) known += (known.empty() ? "" : ", ") + n;
          Error(job, "no job named '" + name + "' is registered in this program (registered: " +
                         (known.empty() ? "none" : known) + ")");
          return true;
        }
        jobs_[job] = it->second();
        return true;
      }
      case proto::kLoad: {
        int64_t job = 0;
        std::vector<std::pair<int32_t, std::string>> parts;
        if (!r.Get(job) || !r.Get(parts)) return true;
        auto it = jobs_.find(job);
        if (it == jobs_.end()) return true;  // its kOpen failed: already reported
        auto start = Clock::now();
        for (const auto& [p, spec] : parts) {
          Status st = it->second->Load(p, spec);
          if (!st.ok()) {
            Error(job, "loading partition " + std::to_string(p) + " (" + spec +
                           "): " + st.ToString());
            return true;
          }
        }
        std::string head;
        Writer w(head);
        w.Put(job);
        w.Put(Since(start));
        (void)driver_->Send(proto::kLoaded, head);
        return true;
      }
      case proto::kDrop: {
        int64_t job = 0;
        std::vector<int32_t> parts;
        if (!r.Get(job) || !r.Get(parts)) return true;
        if (auto it = jobs_.find(job); it != jobs_.end())
          for (int32_t p : parts) it->second->Drop(p);
        return true;
      }
      case proto::kIterate: {
        proto::Iterate it;
        if (!r.Get(it)) return true;
        OnIterate(it, r.rest());
        return true;
      }
      case proto::kClose: {
        int64_t job = 0;
        if (!r.Get(job)) return true;
        jobs_.erase(job);
        std::erase_if(shuffle_, [&](const auto& e) { return e.first.job == job; });
        return true;
      }
      case proto::kStop:
        stopped_ = true;
        return false;
      default:
        return true;
    }
  }

  void OnIterate(const proto::Iterate& it, std::string_view dynamic) {
    current_ = it;
    unreachable_.clear();
    // Older runs of this job are over (a new attempt after a failure, or the next iteration).
    std::erase_if(shuffle_,
                  [&](const auto& e) { return e.first.job == it.run.job && e.first < it.run; });
    for (const auto& [id, addr] : it.peers) peers_[id] = addr;
    auto job = jobs_.find(it.run.job);
    if (job == jobs_.end()) return;
    bool map_only = it.reducer_owner.empty();
    int reducers = map_only ? 1 : static_cast<int>(it.reducer_owner.size());
    int64_t bytes = 0;
    auto start = Clock::now();
    for (int32_t p : it.maps) {
      std::string all;  // map-only: the partition's whole output, for the driver
      auto map_start = Clock::now();
      auto sink = [&](int r, std::string&& piece) {
        bytes += static_cast<int64_t>(piece.size());
        if (map_only) {
          all += piece;
        } else {
          Send({it.run, p, r, false}, piece);
        }
      };
      Status st = job->second->Map(p, dynamic, reducers, kChunk, sink);
      if (!st.ok()) {
        Error(it.run.job, "map of partition " + std::to_string(p) + ": " + st.ToString());
        return;
      }
      if (map_only) {
        proto::ResultHead h{it.run, p, Since(map_start), 0};
        std::string head;
        Writer(head).Put(h);
        (void)driver_->Send(proto::kResult, head, all);
      } else {
        for (int r = 0; r < reducers; ++r) Send({it.run, p, r, true}, {});
      }
    }
    map_end_ = Clock::now();
    proto::Mapped done{it.run, Since(start), bytes};
    (void)driver_->Send(proto::kMapped, Encode(done));
  }

  // Sends a piece of map output to the owner of its reducer (to itself without a socket).
  void Send(const proto::Data& d, std::string_view body) {
    int32_t owner = current_.reducer_owner[d.reducer];
    if (owner == id_) {
      Store(d, body);
      return;
    }
    net::Conn* c = Peer(owner);
    if (!c) return;  // reported to the driver, which runs the iteration again without it
    std::string head;
    Writer(head).Put(d);
    if (!c->Send(proto::kData, head, body).ok()) {
      LogWarning("mr worker %d: lost worker %d", id_, owner);
      c->Close();
      dead_out_.push_back(std::move(out_[owner]));
      out_.erase(owner);
      Unreachable(owner);
    }
  }

  // Tells the driver that peer `id` cannot be reached in this run: the driver takes it out
  // and runs the iteration again, instead of waiting for data that will never come. Once
  // per peer and run; later pieces for it are dropped at once.
  void Unreachable(int32_t id) {
    if (!unreachable_.insert(id).second) return;
    (void)driver_->Send(proto::kUnreachable, Encode(proto::Unreachable{current_.run, id}));
  }

  net::Conn* Peer(int32_t id) {
    if (auto it = out_.find(id); it != out_.end()) return it->second.get();
    if (unreachable_.count(id)) return nullptr;
    auto addr = peers_.find(id);
    if (addr == peers_.end()) return nullptr;
    auto c = o_.dial_peer(addr->second.first, addr->second.second, std::chrono::seconds(5));
    if (!c.ok()) {
      LogWarning("mr worker %d: cannot reach worker %d: %s", id_, id,
                 c.status().ToString().c_str());
      Unreachable(id);
      return nullptr;
    }
    if (!(*c)->Send(proto::kPeer, Encode(id_)).ok()) return nullptr;
    return (out_[id] = std::move(c).value()).get();
  }

  void OnData(net::Message& m) {
    Reader r(m.payload);
    proto::Data d;
    if (!r.Get(d) || d.partition < 0 || d.reducer < 0) return;
    Store(d, r.rest());
  }

  void Store(const proto::Data& d, std::string_view body) {
    if (d.run.job == current_.run.job && d.run < current_.run) return;  // an old run's
    ReduceInput& in = shuffle_[d.run][d.reducer];
    in.parts[d.partition].append(body);
    if (d.last && (current_.run != d.run || d.partition < current_.partitions))
      in.done.insert(d.partition);
  }

  void MaybeReduce() {
    if (current_.reducer_owner.empty()) return;
    auto runs = shuffle_.find(current_.run);
    if (runs == shuffle_.end()) return;
    auto job = jobs_.find(current_.run.job);
    if (job == jobs_.end()) return;
    for (auto& [r, in] : runs->second) {
      if (r >= static_cast<int32_t>(current_.reducer_owner.size())) continue;  // malformed
      if (in.reduced || static_cast<int32_t>(in.done.size()) < current_.partitions) continue;
      if (current_.reducer_owner[r] != id_) continue;
      in.reduced = true;
      double wait = Since(map_end_);
      auto start = Clock::now();
      std::vector<std::string_view> inputs;
      for (int32_t p = 0; p < current_.partitions; ++p) {
        auto it = in.parts.find(p);
        inputs.push_back(it == in.parts.end() ? std::string_view() : std::string_view(it->second));
      }
      std::string out;
      Status st = job->second->Reduce(inputs, out);
      if (!st.ok()) {
        Error(current_.run.job, "reduce " + std::to_string(r) + ": " + st.ToString());
        continue;
      }
      proto::ResultHead h{current_.run, r, Since(start), wait};
      std::string head;
      Writer(head).Put(h);
      (void)driver_->Send(proto::kResult, head, out);
      in.parts.clear();
    }
  }

  const Registry& registry_;
  WorkerOptions o_;
  Queue events_;
  std::unique_ptr<net::Listener> listener_;
  std::unique_ptr<net::Conn> driver_;
  std::vector<std::thread> threads_;
  std::mutex peers_mu_;
  bool closing_ = false;             // guarded by peers_mu_
  std::set<net::Conn*> inbound_;     // guarded by peers_mu_
  std::vector<std::thread> threads_in_;  // guarded by peers_mu_; joined after the accept loop

  // The rest is used on the main thread only.
  int32_t id_ = -1;
  bool stopped_ = false;
  bool leave_sent_ = false;
  std::map<int64_t, std::unique_ptr<internal::ErasedJob>> jobs_;
  proto::Iterate current_;
  Clock::time_point map_end_;
  std::map<proto::Run, std::map<int32_t, ReduceInput>> shuffle_;
  std::map<int32_t, std::pair<std::string, uint16_t>> peers_;
  std::map<int32_t, std::unique_ptr<net::Conn>> out_;
  std::vector<std::unique_ptr<net::Conn>> dead_out_;
  std::set<int32_t> unreachable_;  // peers reported unreachable in the current run
};

}  // namespace

int RunWorker(const Registry& jobs, const WorkerOptions& options) {
  Worker w(jobs, options);
  return w.Run();  // ~Worker closes the sockets and joins its threads
}

}  // namespace swell::mr
