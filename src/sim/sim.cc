#include "sim/sim.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <queue>
#include <random>
#include <set>
#include <tuple>
#include <unordered_map>

#include "common/stats.h"
#include "head/reconcile/reconcile.h"
#include "head/scheduler/scheduler.h"
#include "sim/oracle.h"

namespace swell::sim {

namespace as = head::autoscaler;
namespace elastic = head::elastic;
namespace reconcile = head::reconcile;
namespace sched = head::scheduler;
using std::chrono::seconds;

std::vector<SimJob> ClicWorkload(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> count(0, 16);
  std::uniform_int_distribution<int> run(500, 1000);
  std::vector<SimJob> jobs;
  Time start = FromMillis(0);
  for (int burst = 0; burst < 24; ++burst) {  // every 10 minutes for 4 hours
    int n = count(rng);
    for (int i = 0; i < n; ++i) {
      SimJob j;
      j.id = static_cast<int64_t>(jobs.size()) + 1;
      j.submit = start + seconds(600 * burst);
      j.run = seconds(run(rng));
      j.need = {1, 0, 0, 0};
      jobs.push_back(j);
    }
  }
  return jobs;
}

std::vector<as::NodeType> ClicTypes() {
  as::NodeType t;
  t.name = "1cpu10diskstandard";
  t.cpus = 1;
  t.memory_mb = 3840;
  t.disk_gb = 10;
  t.price_per_hour = 0.0475;  // GCE n1-standard-1 on demand, 2017
  t.boot = seconds(90);       // the article: nodes boot in 1-2 minutes
  t.shutdown = seconds(30);
  return {t};
}

std::vector<as::NodeType> DefaultTypes() {
  auto make = [](std::string name, int cpus, int64_t mem, double price, int boot_s) {
    as::NodeType t;
    t.name = std::move(name);
    t.cpus = cpus;
    t.memory_mb = mem;
    t.disk_gb = 100;
    t.price_per_hour = price;
    t.boot = seconds(boot_s);
    t.shutdown = seconds(30);
    return t;
  };
  // Shapes and on-demand prices of common general-purpose cloud instances.
  return {make("small", 2, 8192, 0.096, 60), make("medium", 4, 16384, 0.192, 75),
          make("large", 16, 65536, 0.768, 90), make("xlarge", 64, 262144, 3.072, 120)};
}

namespace {

enum class EventKind { kArrival, kRegister, kJobEnd, kDeleted, kTick, kWake };

struct Event {
  Time at;
  EventKind kind;
  int64_t a = 0;  // job index or node id
  int64_t b = 0;  // node id for job ends
  uint64_t seq = 0;
  bool operator>(const Event& o) const { return std::tie(at, seq) > std::tie(o.at, o.seq); }
};

// What the simulator keeps of a node besides its lifecycle, which is the pool's: what the
// scheduler needs, as the head keeps it for each node daemon.
struct SimNode {
  std::string name;  // the pool's
  int type = 0;
  bool ready = false;  // registered and not on its way out: takes work
  bool in_open = false, in_ready = false;  // in its type's open_ and ready_ sets
  sched::Resources used;
  std::vector<size_t> jobs;  // running here (a multi-node job on each of its nodes)
};

// Where a running job holds resources: node id and amount, one per node.
struct Placed {
  int64_t node = 0;
  sched::Resources res;
};

// What a job needs on its node. Jobs of one type and one shape are interchangeable for the
// scheduler, which is what lets place() bound the work it hands over.
struct Shape {
  int cpus = 1;
  int64_t mem_mb = 0;
  int gpus = 0;
  int nodes = 1;
  bool exclusive = false;
  auto operator<=>(const Shape&) const = default;
};

// A simulated job as the reconcile core sees a waiting job: one unit whose time limit is its
// run time (a perfect estimate), `nodes` nodes of `need` each.
reconcile::WaitingJob WaitingOf(const SimJob& j, size_t index) {
  reconcile::WaitingJob w;
  w.id = static_cast<int64_t>(index) + 1;
  w.submit = j.submit;
  w.units = 1;
  w.shape.ntasks = std::max(1, j.nodes);
  w.shape.cpus_per_task = j.need.cpus;
  w.shape.mem_mb = j.need.memory_mb;
  w.shape.gpus = j.need.gpus;
  w.shape.min_nodes = w.shape.max_nodes = std::max(1, j.nodes);
  w.shape.exclusive = j.exclusive;
  w.shape.time_limit = j.run;
  return w;
}

double Hours(Duration d) { return std::chrono::duration<double>(d).count() / 3600; }

// What one node costs from create to gone under the provider's billing rules.
Duration Billed(Duration life, const SimOptions& o) {
  if (o.billing_increment > Duration::zero()) {
    auto steps = (life.count() + o.billing_increment.count() - 1) / o.billing_increment.count();
    life = o.billing_increment * steps;
  }
  return std::max(life, o.billing_minimum);
}

// One simulation. The nodes' lifecycle is the production pool's, fed the events a live head
// feeds it; the provider is virtual: a create succeeds at once, the node daemon registers
// after the type's boot (plus register_delay), a delete completes after the type's shutdown.
// Work per event is kept independent of the cluster's size where it can be: nodes are indexed
// per type by whether they have free capacity, counts are kept as events happen, and the
// scheduler is only asked about a type when something there changed (see Place).
class Simulation {
 public:
  Simulation(const std::vector<SimJob>& jobs, const SimOptions& o, std::vector<int> type_of,
             std::unique_ptr<as::Policy> policy, std::vector<Sample>* series, Trace* trace)
      : jobs_(jobs),
        o_(o),
        type_of_(std::move(type_of)),
        policy_(std::move(policy)),
        series_(series),
        trace_(trace),
        pool_(o.types, o.pool),
        hangs_(o.boot_hang_seed),
        open_(o.types.size(), NodeSet(ByName{this})),
        ready_(o.types.size(), NodeSet(ByName{this})),
        free_(o.types.size()),
        queue_(o.types.size()),
        queued_(o.types.size(), 0),
        arrived_(o.types.size(), 0),
        dirty_(o.types.size(), false),
        started_(jobs.size(), false),
        end_(jobs.size()) {
    routing_.types = &o_.types;
  }

  Result<Metrics> Run(Time first, Time first_decision) {
    for (size_t i = 0; i < jobs_.size(); ++i)
      Push(jobs_[i].submit, EventKind::kArrival, static_cast<int64_t>(i));
    Push(first + o_.tick_phase, EventKind::kTick);
    if (first_decision < first) Wake(first_decision);
    m_.policy = o_.policy;
    m_.jobs = static_cast<int64_t>(jobs_.size());
    first_ = first;
    last_ = first;
    const Time give_up = first + std::chrono::hours(24 * 365);
    while (!events_.empty()) {
      Time now = events_.top().at;
      if (now > give_up) return Internal("the simulation did not finish within a year of time");
      bool tick = false, decide = false;
      while (!events_.empty() && events_.top().at == now) {
        Event e = events_.top();
        events_.pop();
        switch (e.kind) {
          case EventKind::kArrival: Arrive(static_cast<size_t>(e.a), now); break;
          case EventKind::kRegister: Register(e.a, now); break;
          case EventKind::kJobEnd: JobEnd(static_cast<size_t>(e.a), now); break;
          case EventKind::kDeleted: Deleted(e.a, now); break;
          case EventKind::kTick: tick = decide = true; break;
          case EventKind::kWake:
            wakes_.erase(now);
            decide = true;
            break;
        }
      }
      Place(now);
      if (!decide) continue;
      Decide(now);
      if (tick && WorkLeft()) Push(now + o_.tick, EventKind::kTick);
    }
    m_.efficiency = m_.node_hours > 0 ? m_.job_hours / m_.node_hours : 0;
    m_.wait_p50_s = Percentile(waits_, 0.50);
    m_.wait_p95_s = Percentile(waits_, 0.95);
    m_.wait_max_s = waits_.empty() ? 0 : *std::max_element(waits_.begin(), waits_.end());
    m_.makespan_s = std::chrono::duration<double>(last_ - first_).count();
    return m_;
  }

 private:
  void Push(Time at, EventKind k, int64_t a = 0, int64_t b = 0) {
    events_.push({at, k, a, b, seq_++});
  }
  void Wake(Time at) {
    if (wakes_.insert(at).second) Push(at, EventKind::kWake);
  }
  SimNode& Node(int64_t id) { return nodes_[static_cast<size_t>(id - 1)]; }
  const as::NodeType& TypeOf(const SimNode& n) const {
    return o_.types[static_cast<size_t>(n.type)];
  }
  sched::Resources Total(const SimNode& n) const {
    const auto& t = TypeOf(n);
    return {t.cpus, t.memory_mb, t.gpus};
  }
  static Shape ShapeOf(const SimJob& j) {
    return {j.need.cpus, j.need.memory_mb, j.need.gpus, std::max(1, j.nodes), j.exclusive};
  }

  // A ready node joins or leaves its type's open set (free capacity) as its usage changes.
  void Reindex(int64_t id) {
    SimNode& n = Node(id);
    bool open = n.ready && Total(n).cpus - n.used.cpus > 0;
    if (open != n.in_open) {
      auto& set = open_[static_cast<size_t>(n.type)];
      if (open) set.insert(id);
      else set.erase(id);
      n.in_open = open;
    }
    if (n.ready != n.in_ready) {
      auto& set = ready_[static_cast<size_t>(n.type)];
      if (n.ready) set.insert(id);
      else set.erase(id);
      n.in_ready = n.ready;
    }
  }
  // Adds (sign 1) or removes (sign -1) a ready node's free capacity from its type's sums.
  void CountFree(const SimNode& n, int sign) {
    sched::Resources f = Total(n) - n.used;
    auto& sum = free_[static_cast<size_t>(n.type)];
    sum.cpus += sign * f.cpus;
    sum.mem_mb += sign * f.mem_mb;
    sum.gpus += sign * f.gpus;
  }

  // Whether the boot of a node just created hangs (never registers): the fault model of
  // SimOptions::boot_hang_rate. Drawn from the raw 64-bit output, which is the same on every
  // platform (the standard distributions are not).
  bool BootHangs() {
    if (o_.boot_hang_rate <= 0) return false;
    return static_cast<double>(hangs_()) / 18446744073709551616.0 < o_.boot_hang_rate;
  }

  // Makes the provider calls the pool asks for, on the virtual provider.
  void Perform(const std::vector<elastic::Call>& calls, Time now) {
    for (const auto& c : calls) {
      if (trace_) trace_->calls.push_back({now, c.name, c.kind == elastic::Call::kCreate});
      if (c.kind == elastic::Call::kCreate) {
        if (nodes_.size() < static_cast<size_t>(c.id)) nodes_.resize(static_cast<size_t>(c.id));
        SimNode& n = Node(c.id);
        n.name = c.name;
        n.type = c.type;
        ++m_.scale_ups;
        Perform(pool_.CreateDone(c.name, Status::Ok(), now), now);
        if (!BootHangs())
          Push(now + TypeOf(n).boot + o_.register_delay, EventKind::kRegister, c.id);
      } else {
        // On its way out: no new work from now on (the pool deletes only nodes that run
        // nothing, so none is lost).
        SimNode& n = Node(c.id);
        if (n.ready) {
          CountFree(n, -1);
          n.ready = false;
          Reindex(c.id);
        }
        Push(now + TypeOf(n).shutdown, EventKind::kDeleted, c.id);
      }
    }
  }

  // Queues the job on the type the reconcile core routes it to now (the smallest that fits,
  // away from types backed off after failures), as the head routes a waiting job.
  void Arrive(size_t ji, Time now) {
    ++arrived_total_;
    Reroute(now);  // routes with the types usable now; what waits moves if that changed
    const int t = Route(ji);
    ++arrived_[static_cast<size_t>(t)];  // as the head counts a submit's tasks
    const SimJob& j = jobs_[ji];
    if (j.array != 0 && j.max_running > 0) {
      // A throttled array's task waits for a free slot of its throttle first.
      Throttle& a = throttles_[j.array];
      if (a.out >= j.max_running) {
        a.held.push_back(ji);
        ++held_;
        return;
      }
      ++a.out;
    }
    Queue(ji, t);
  }
  // Puts the job in the queue of type `type`.
  void Queue(size_t ji, int type) {
    size_t t = static_cast<size_t>(type);
    queue_[t][ShapeOf(jobs_[ji])].push_back(ji);
    ++queued_[t];
    dirty_[t] = true;
  }
  int Route(size_t ji) const {
    auto t = reconcile::RouteJob(WaitingOf(jobs_[ji], ji), routing_);
    return t ? *t : type_of_[ji];
  }
  // The head routes waiting jobs again on every pass: when a type is backed off (or back), the
  // queued jobs move to the type they route to now.
  void Reroute(Time now) {
    auto usable = reconcile::UsableTypes(pool_, now);
    if (usable == routing_.usable) return;
    routing_.usable = std::move(usable);
    std::vector<std::map<Shape, std::deque<size_t>>> queues(o_.types.size());
    std::vector<size_t> all;
    for (auto& per_type : queue_)
      for (auto& [shape, q] : per_type) all.insert(all.end(), q.begin(), q.end());
    std::sort(all.begin(), all.end());  // arrival order within a shape is index order
    std::fill(queued_.begin(), queued_.end(), 0);
    for (size_t ji : all) {
      size_t t = static_cast<size_t>(Route(ji));
      queues[t][ShapeOf(jobs_[ji])].push_back(ji);
      ++queued_[t];
    }
    queue_ = std::move(queues);
    std::fill(dirty_.begin(), dirty_.end(), true);
  }

  // The node daemon registers; the pool refuses one it has given up on (its boot took longer
  // than boot_timeout), as the head does.
  void Register(int64_t id, Time now) {
    SimNode& n = Node(id);
    if (!pool_.Registered(n.name, now)) return;
    n.ready = true;
    CountFree(n, 1);
    Reindex(id);
    dirty_[static_cast<size_t>(n.type)] = true;
  }

  // The job's resources come back on every node it held; the pool hears of idle nodes at the
  // autoscaler's next turn, as the head's does.
  void JobEnd(size_t ji, Time now) {
    auto it = placed_.find(ji);
    for (const Placed& p : it->second.placed) {
      SimNode& n = Node(p.node);
      CountFree(n, -1);
      n.used -= p.res;
      CountFree(n, 1);
      n.jobs.erase(std::find(n.jobs.begin(), n.jobs.end(), ji));
      Reindex(p.node);
      dirty_[static_cast<size_t>(n.type)] = true;
    }
    placed_.erase(it);
    --running_;
    const SimJob& j = jobs_[ji];
    if (j.array != 0 && j.max_running > 0) {
      // Its slot of the throttle goes to the array's next task.
      Throttle& a = throttles_[j.array];
      --a.out;
      if (!a.held.empty()) {
        size_t next = a.held.front();
        a.held.pop_front();
        --held_;
        ++a.out;
        Reroute(now);
        Queue(next, Route(next));
      }
    }
  }

  // The provider's delete completed: the node is gone, and billed from its create until now.
  void Deleted(int64_t id, Time now) {
    SimNode& n = Node(id);
    Perform(pool_.DeleteDone(n.name, Status::Ok(), now), now);
    const elastic::PoolNode* p = pool_.Find(n.name);
    if (p == nullptr || p->phase != elastic::Phase::kGone) return;
    double hours = Hours(Billed(p->gone - p->requested, o_));
    m_.node_hours += hours;
    m_.cost += hours * TypeOf(n).price_per_hour;
    ++m_.scale_downs;
    if (p->failed) ++m_.nodes_failed;
    last_ = std::max(last_, now);
    pool_.Forget(n.name);  // accounted for: its record need not stay
  }

  // Starts what the reconcile core starts, exactly as asking it about every type after every
  // event with all its ready nodes, their running work and all its queued jobs would
  // (SimulationTest checks this against reference_placement). A type is only looked at when it
  // has queued jobs and something that could let one start happened since its last look (an
  // arrival, a node ready, a job end): with nothing changed, a pass starts nothing the last
  // one did not. When the type's queue holds one shape of job, the core sees only the type's
  // nodes with free cpus and as many of the oldest jobs as the free resources could hold: jobs
  // of one shape are identical to it, so once one does not fit none after it does, and no
  // reservation can let a later one past an earlier. With several shapes the oldest blocked
  // job of one shape holds an EASY reservation, against the release times of running work,
  // that holds back or lets past jobs of another shape: the core then sees the whole queue,
  // every ready node of the type and what runs there. A pass that held a job back by a
  // reservation ("Priority") is rerun at the next event, as the head's next pass would be.
  void Place(Time now) {
    for (size_t t = 0; t < o_.types.size(); ++t) {
      if (!dirty_[t] && !o_.reference_placement) continue;
      dirty_[t] = false;
      if (queued_[t] == 0 || open_[t].empty()) continue;
      const auto& type = o_.types[t];
      const bool whole = o_.reference_placement || queue_[t].size() > 1;
      const auto& ready = whole ? ready_[t] : open_[t];
      std::vector<int64_t> ids(ready.begin(), ready.end());
      std::vector<reconcile::Node> view;
      std::vector<reconcile::Hold> holds;
      view.reserve(ids.size());
      for (size_t k = 0; k < ids.size(); ++k) {
        view.push_back({"", {type.cpus, type.memory_mb, type.gpus}, -1, true});
        for (size_t ji : Node(ids[k]).jobs) {
          for (const Placed& p : placed_.at(ji).placed)
            if (p.node == ids[k]) holds.push_back({static_cast<int>(k), p.res, end_[ji]});
        }
      }
      const sched::Resources& f = free_[t];
      std::vector<reconcile::WaitingJob> waiting;
      std::vector<std::pair<std::deque<size_t>*, size_t>> offered;  // per shape: queue, count
      for (auto& [shape, q] : queue_[t]) {
        int64_t cap = f.cpus / std::max(1, shape.cpus * shape.nodes);
        if (shape.mem_mb > 0) cap = std::min(cap, f.mem_mb / (shape.mem_mb * shape.nodes));
        if (shape.gpus > 0) cap = std::min<int64_t>(cap, f.gpus / (shape.gpus * shape.nodes));
        if (whole) cap = static_cast<int64_t>(q.size());
        size_t n = static_cast<size_t>(std::min<int64_t>(cap, static_cast<int64_t>(q.size())));
        if (n == 0) continue;
        offered.push_back({&q, n});
        for (size_t k = 0; k < n; ++k) waiting.push_back(WaitingOf(jobs_[q[k]], q[k]));
      }
      if (waiting.empty()) continue;
      // One type's nodes and jobs: a partition of its own.
      auto plan = reconcile::Schedule(view, holds, waiting, reconcile::Routing{}, now);
      for (const auto& st : plan.starts) {
        std::vector<Placed> placed;
        for (const auto& sh : st.shares) placed.push_back({ids[static_cast<size_t>(sh.node)], sh.res});
        Start(static_cast<size_t>(st.group - 1), std::move(placed), now);
      }
      for (auto [q, n] : offered) {
        // Started jobs leave the offered front of their queue; the rest keep their order.
        std::vector<size_t> kept;
        for (size_t k = 0; k < n; ++k)
          if (!started_[(*q)[k]]) kept.push_back((*q)[k]);
        q->erase(q->begin(), q->begin() + static_cast<std::ptrdiff_t>(n));
        q->insert(q->begin(), kept.begin(), kept.end());
      }
      for (auto it = queue_[t].begin(); it != queue_[t].end();)
        it = it->second.empty() ? queue_[t].erase(it) : std::next(it);
      if (plan.priority_blocked) dirty_[t] = true;
    }
  }

  void Start(size_t ji, std::vector<Placed> placed, Time now) {
    const SimJob& j = jobs_[ji];
    int type = Node(placed.front().node).type;
    for (const Placed& p : placed) {
      SimNode& n = Node(p.node);
      CountFree(n, -1);
      n.used += p.res;
      CountFree(n, 1);
      n.jobs.push_back(ji);
      Reindex(p.node);
    }
    started_[ji] = true;
    if (trace_) trace_->starts.push_back({j.id, now});
    --queued_[static_cast<size_t>(type)];
    waits_.push_back(std::chrono::duration<double>(now - j.submit).count());
    // Node-hours of work: a job using c of a node's C cpus for h hours counts h * c / C.
    m_.job_hours += Hours(j.run) * j.need.cpus * std::max(1, j.nodes) /
                    std::max(1, o_.types[static_cast<size_t>(type)].cpus);
    ++running_;
    placed_[ji] = {std::move(placed)};
    end_[ji] = now + j.run;
    Push(now + j.run, EventKind::kJobEnd, static_cast<int64_t>(ji));
  }

  // The autoscaler's turn, through the reconcile core as the head takes it: the pool's nodes
  // marked busy (until their work ends) or idle, the demand of the queued jobs, the policy's
  // decision and the boot timeouts applied by the pool under every limit.
  void Decide(Time now) {
    std::vector<reconcile::WaitingJob> waiting;
    for (size_t t = 0; t < queue_.size(); ++t)
      for (const auto& [shape, q] : queue_[t])
        for (size_t ji : q) waiting.push_back(WaitingOf(jobs_[ji], ji));
    auto state = [this](const elastic::PoolNode& pn) {
      reconcile::PoolNodeState st;
      st.connected = true;  // a registered node never goes away here
      for (size_t ji : Node(pn.id).jobs) {
        Time end = end_[ji];
        st.busy_until = st.busy_until ? std::max(*st.busy_until, end) : end;
      }
      return st;
    };
    auto turn = reconcile::Autoscale(pool_, *policy_, state,
                                     reconcile::Demand(waiting, routing_), arrived_, now);
    Perform(turn.calls, now);
    Reroute(now);
    const as::Action& a = turn.action;
    if (a.wake != kNever && a.wake > now) Wake(a.wake);
    m_.nodes_max = std::max(m_.nodes_max, pool_.Live());
    if (series_) {
      Sample smp;
      smp.t_s = std::chrono::duration<double>(now - first_).count();
      for (int64_t q : queued_) smp.queued += static_cast<int>(q);
      smp.queued += static_cast<int>(held_);
      smp.running = static_cast<int>(running_);
      smp.nodes_up = pool_.Count(elastic::Phase::kIdle) + pool_.Count(elastic::Phase::kAllocated);
      smp.booting = pool_.Count(elastic::Phase::kRequested) + pool_.Count(elastic::Phase::kBooting);
      series_->push_back(smp);
    }
  }

  bool WorkLeft() const {
    if (arrived_total_ < static_cast<int64_t>(jobs_.size()) || running_ > 0 || pool_.Live() > 0 ||
        held_ > 0)
      return true;
    for (int64_t q : queued_)
      if (q > 0) return true;
    return false;
  }

  const std::vector<SimJob>& jobs_;
  const SimOptions& o_;
  const std::vector<int> type_of_;
  std::unique_ptr<as::Policy> policy_;
  std::vector<Sample>* series_;
  Trace* trace_;

  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  uint64_t seq_ = 0;
  std::set<Time> wakes_;  // wake-ups asked for and not yet due

  elastic::Pool pool_;                          // the nodes' lifecycle
  std::mt19937_64 hangs_;                       // draws for boot_hang_rate
  std::vector<SimNode> nodes_;                  // every node ever created; id = index + 1
  // Node ids in name order, as the head orders its nodes for the scheduler.
  struct ByName {
    const Simulation* sim;
    bool operator()(int64_t a, int64_t b) const {
      const auto& x = sim->nodes_[static_cast<size_t>(a - 1)].name;
      const auto& y = sim->nodes_[static_cast<size_t>(b - 1)].name;
      return x != y ? x < y : a < b;
    }
  };
  using NodeSet = std::set<int64_t, ByName>;
  struct Running {
    std::vector<Placed> placed;
  };
  std::vector<NodeSet> open_;                   // per type: ready nodes with free cpus
  std::vector<NodeSet> ready_;                  // per type: ready nodes
  std::vector<sched::Resources> free_;          // per type: free resources of ready nodes
  std::vector<std::map<Shape, std::deque<size_t>>> queue_;  // per type and shape, FIFO
  std::vector<int64_t> queued_, arrived_;       // per type
  std::vector<bool> dirty_;                     // per type: worth a scheduler pass
  std::vector<bool> started_;                   // per job
  std::unordered_map<size_t, Running> placed_;  // running jobs by index
  // Per throttled array: its tasks queued or running (at most its throttle), and those held
  // back in arrival order.
  struct Throttle {
    int64_t out = 0;
    std::deque<size_t> held;
  };
  std::unordered_map<int64_t, Throttle> throttles_;
  int64_t held_ = 0;  // tasks held back by their throttles
  std::vector<Time> end_;                       // per job: when it ends, once started
  reconcile::Routing routing_;                  // the types, and which are usable
  int64_t arrived_total_ = 0, running_ = 0;

  std::vector<double> waits_;
  Metrics m_;
  Time first_, last_;
};

}  // namespace

Result<Metrics> Simulate(const std::vector<SimJob>& jobs, const SimOptions& o,
                         std::vector<Sample>* series, Trace* trace) {
  auto wall_start = std::chrono::steady_clock::now();
  if (o.types.empty()) return InvalidArgument("no node types");
  std::vector<int> type_of(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    auto t = as::Route(o.types, jobs[i].need);
    if (!t)
      return InvalidArgument("job " + std::to_string(jobs[i].id) + " fits no node type (" +
                             std::to_string(jobs[i].need.cpus) + " cpus)");
    type_of[i] = *t;
  }
  // What would keep work from ever running is refused, rather than simulated for a year.
  std::vector<bool> used(o.types.size(), false);
  for (int t : type_of) used[static_cast<size_t>(t)] = true;
  for (size_t t = 0; t < o.types.size(); ++t) {
    const as::NodeType& type = o.types[t];
    if (!used[t]) continue;
    auto secs = [](Duration d) { return std::to_string(d.count() / 1000) + " s"; };
    if (type.boot + o.register_delay > o.pool.boot_timeout)
      return InvalidArgument("node type " + type.name + " takes " +
                             secs(type.boot + o.register_delay) +
                             " to boot and register, past the boot timeout (" +
                             secs(o.pool.boot_timeout) +
                             ", [autoscaler] boot_timeout_s): its nodes would never come up");
    if (o.pool.budget_per_hour > 0 && type.price_per_hour > o.pool.budget_per_hour)
      return InvalidArgument("node type " + type.name +
                             " costs more per hour than the budget ([autoscaler] "
                             "budget_per_hour): its jobs would never run");
  }
  std::unique_ptr<as::Policy> policy;
  Time first_decision = kNever;
  if (o.policy == "oracle") {
    // Clairvoyant, it also knows how long nodes take to register after their boot.
    auto types = o.types;
    for (auto& t : types) t.boot += o.register_delay;
    auto oracle = std::make_unique<Oracle>(jobs, types, type_of);
    first_decision = oracle->first_create();
    policy = std::move(oracle);
  } else {
    auto policy_or = as::MakePolicy(o.policy, o.policy_options);
    if (!policy_or.ok()) return policy_or.status();
    policy = std::move(policy_or).value();
  }
  if (jobs.empty()) return Metrics{o.policy};
  Time first = jobs.front().submit;
  for (const auto& j : jobs) first = std::min(first, j.submit);
  Simulation sim(jobs, o, std::move(type_of), std::move(policy), series, trace);
  auto m = sim.Run(first, first_decision);
  if (m.ok())
    m->sim_wall_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return m;
}

std::string ToCsv(const std::vector<Sample>& series) {
  std::string out = "t_s,queued,running,nodes_up,booting\n";
  char line[128];
  for (const auto& s : series) {
    snprintf(line, sizeof line, "%.0f,%d,%d,%d,%d\n", s.t_s, s.queued, s.running, s.nodes_up,
             s.booting);
    out += line;
  }
  return out;
}

std::string ToSvg(const std::vector<Sample>& series, const std::string& title) {
  const double w = 900, h = 420, left = 60, right = 160, top = 40, bottom = 50;
  double tmax = 1, ymax = 1;
  for (const auto& s : series) {
    tmax = std::max(tmax, s.t_s);
    ymax = std::max({ymax, double(s.queued), double(s.running), double(s.nodes_up),
                     double(s.booting)});
  }
  auto x = [&](double t) { return left + (w - left - right) * t / tmax; };
  auto y = [&](double v) { return top + (h - top - bottom) * (1 - v / ymax); };
  std::string out;
  char buf[256];
  snprintf(buf, sizeof buf,
           "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
           "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" "
           "height=\"100%%\" fill=\"white\"/>\n",
           w, h);
  out += buf;
  std::string safe;
  for (char c : title) safe += (c == '<' || c == '>' || c == '&') ? '_' : c;
  snprintf(buf, sizeof buf, "<text x=\"%.0f\" y=\"22\" font-size=\"15\">%s</text>\n", left,
           safe.c_str());
  out += buf;
  // Axes with a few ticks.
  snprintf(buf, sizeof buf,
           "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n"
           "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n",
           left, y(0), w - right, y(0), left, y(0), left, top);
  out += buf;
  for (int i = 0; i <= 4; ++i) {
    double t = tmax * i / 4, v = ymax * i / 4;
    snprintf(buf, sizeof buf,
             "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f min</text>\n"
             "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>\n",
             x(t), y(0) + 18, t / 60, left - 6, y(v) + 4, v);
    out += buf;
  }
  struct Line {
    const char* name;
    const char* color;
    int Sample::*field;
  } lines[] = {{"queued jobs", "#d62728", &Sample::queued},
               {"running jobs", "#1f77b4", &Sample::running},
               {"nodes up", "#2ca02c", &Sample::nodes_up},
               {"nodes booting", "#ff7f0e", &Sample::booting}};
  int row = 0;
  for (const auto& l : lines) {
    out += std::string("<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"") + l.color +
           "\" points=\"";
    for (const auto& s : series) {
      snprintf(buf, sizeof buf, "%.1f,%.1f ", x(s.t_s), y(s.*(l.field)));
      out += buf;
    }
    out += "\"/>\n";
    snprintf(buf, sizeof buf,
             "<rect x=\"%.0f\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>"
             "<text x=\"%.0f\" y=\"%d\">%s</text>\n",
             w - right + 15, static_cast<int>(top) + row * 20, l.color, w - right + 32,
             static_cast<int>(top) + row * 20 + 11, l.name);
    out += buf;
    ++row;
  }
  out += "</svg>\n";
  return out;
}

std::string ToJson(const Metrics& m) {
  char buf[1024];
  snprintf(buf, sizeof buf,
           "{\"policy\": \"%s\", \"jobs\": %lld, \"job_hours\": %.3f, \"node_hours\": %.3f, "
           "\"efficiency\": %.4f, \"wait_p50_s\": %.1f, \"wait_p95_s\": %.1f, \"wait_max_s\": %.1f, "
           "\"cost\": %.4f, \"nodes_max\": %d, \"scale_ups\": %lld, \"scale_downs\": %lld, "
           "\"nodes_failed\": %lld, \"makespan_s\": %.0f, \"sim_wall_s\": %.4f}",
           m.policy.c_str(), static_cast<long long>(m.jobs), m.job_hours, m.node_hours,
           m.efficiency, m.wait_p50_s, m.wait_p95_s, m.wait_max_s, m.cost, m.nodes_max,
           static_cast<long long>(m.scale_ups), static_cast<long long>(m.scale_downs),
           static_cast<long long>(m.nodes_failed), m.makespan_s, m.sim_wall_s);
  return buf;
}

}  // namespace swell::sim
