#include "slurm/autoscale.h"

#include <fmt/format.h>

#include <fstream>
#include <thread>

#include "common/log.h"
#include "common/process.h"
#include "head/reconcile/reconcile.h"
#include "head/state/pool_record.h"
#include "slurm/slurm_conf.h"

namespace swell::slurm {

namespace as = head::autoscaler;
namespace el = head::elastic;
namespace rc = head::reconcile;

namespace {

class SlurmCommands final : public SlurmControl {
 public:
  SlurmCommands(std::string conf, Duration timeout) : timeout_(timeout) {
    if (!conf.empty()) env_.push_back("SLURM_CONF=" + conf);
  }

  Result<std::vector<SlurmJob>> Jobs() override {
    SWELL_ASSIGN_OR_RETURN(std::string out, Run({"squeue", "--json"}));
    return ParseSqueueJson(out);
  }
  Result<std::vector<SlurmNode>> Nodes() override {
    SWELL_ASSIGN_OR_RETURN(std::string out, Run({"sinfo", "--json"}));
    return ParseSinfoJson(out);
  }
  Status Drain(const std::string& node, const std::string& reason) override {
    return Run({"scontrol", "update", "nodename=" + node, "state=DRAIN", "reason=" + reason})
        .status();
  }
  Status DeleteNode(const std::string& node) override {
    auto r = RunRaw({"scontrol", "delete", "nodename=" + node});
    if (!r.ok()) return r.status();
    if (r->exit_code == 0 || r->err.find("Invalid node name") != std::string::npos)
      return Status::Ok();
    return Unavailable(
        fmt::format("scontrol delete nodename={} failed: {}", node, TailLines(r->err, 3)));
  }
  Status SetPartitions(int64_t job, const std::string& partitions) override {
    // Slurm 22.05 applies the change and still answers "Requested partition configuration not
    // available now" (exit 1) while the partitions have no nodes: the next read tells.
    auto r =
        RunRaw({"scontrol", "update", fmt::format("jobid={}", job), "partition=" + partitions});
    if (!r.ok()) return r.status();
    if (r->exit_code == 0 || r->err.find("not available now") != std::string::npos)
      return Status::Ok();
    return Unavailable(fmt::format("scontrol update jobid={} partition={} failed: {}", job,
                                   partitions, TailLines(r->err, 3)));
  }

 private:
  Result<CommandResult> RunRaw(const std::vector<std::string>& argv) {
    RunOptions o;
    o.env = env_;
    o.timeout = timeout_;
    o.max_output = size_t{1} << 30;  // squeue --json of a long queue
    return RunCommand(argv, o);
  }
  Result<std::string> Run(const std::vector<std::string>& argv) {
    SWELL_ASSIGN_OR_RETURN(CommandResult r, RunRaw(argv));
    if (r.exit_code != 0)
      return Unavailable(fmt::format("{} {} failed (exit {}): {}", argv[0], argv[1], r.exit_code,
                                     TailLines(r.err, 3)));
    return std::move(r.out);
  }

  std::vector<std::string> env_;
  Duration timeout_;
};

class SlurmNodeProvider final : public provider::Provider {
 public:
  SlurmNodeProvider(std::unique_ptr<provider::Provider> inner, SlurmControl* slurm,
                    SlurmNodeOptions o)
      : inner_(std::move(inner)), slurm_(slurm), o_(std::move(o)) {}

  std::string kind() const override { return inner_->kind(); }
  Status Create(const std::string& name, const as::NodeType& type) override {
    return inner_->Create(name, type);
  }
  Result<std::vector<std::string>> List() override { return inner_->List(); }
  Status Cleanup() override { return inner_->Cleanup(); }

  Status Delete(const std::string& name) override {
    SWELL_RETURN_IF_ERROR(provider::CheckNodeName(name));
    SWELL_RETURN_IF_ERROR(WaitDrained(name));
    SWELL_RETURN_IF_ERROR(inner_->Delete(name));
    return slurm_->DeleteNode(name);
  }

 private:
  // Drains `name` and waits until Slurm shows nothing on it. Ok at once when Slurm does not
  // know the node (it never registered, or is gone already).
  Status WaitDrained(const std::string& name) {
    auto deadline = std::chrono::steady_clock::now() + o_.idle_wait;
    bool drained = false;
    for (;;) {
      SWELL_ASSIGN_OR_RETURN(auto nodes, slurm_->Nodes());
      const SlurmNode* node = nullptr;
      for (const auto& n : nodes)
        if (n.name == name) node = &n;
      if (node == nullptr) return Status::Ok();
      if (!drained) {
        SWELL_RETURN_IF_ERROR(slurm_->Drain(name, o_.reason));
        drained = true;
        continue;  // read again: the drain is in force from now on
      }
      SWELL_ASSIGN_OR_RETURN(auto jobs, slurm_->Jobs());
      bool busy = node->alloc_cpus > 0;
      for (const auto& j : jobs)
        for (const auto& n : j.nodes) busy = busy || (n == name && j.HoldsNodes());
      if (!busy) return Status::Ok();
      if (std::chrono::steady_clock::now() >= deadline)
        return Unavailable(fmt::format("node {} still runs work; drained, deleted later", name));
      std::this_thread::sleep_for(o_.poll);
    }
  }

  std::unique_ptr<provider::Provider> inner_;
  SlurmControl* slurm_;
  SlurmNodeOptions o_;
};

}  // namespace

std::unique_ptr<SlurmControl> MakeSlurmCommands(std::string slurm_conf, Duration timeout) {
  return std::make_unique<SlurmCommands>(std::move(slurm_conf), timeout);
}

std::vector<std::string> SlurmdCommand(const std::string& slurmd, const std::string& slurm_conf,
                                       const std::string& spool_dir, const std::string& name,
                                       const as::NodeType& type) {
  std::vector<std::string> argv;
  if (!spool_dir.empty()) {
    std::string dir = spool_dir + "/" + name;
    argv = {"/bin/sh", "-c", "mkdir -p \"$0/spool\" \"$0/tmp\" && exec \"$@\"", dir};
  }
  argv.insert(argv.end(), {slurmd, "-D", "-Z", "--conf", DynamicNodeConf(type), "-N", name});
  if (!slurm_conf.empty()) argv.insert(argv.end(), {"-f", slurm_conf});
  return argv;
}

std::unique_ptr<provider::Provider> MakeSlurmNodeProvider(std::unique_ptr<provider::Provider> inner,
                                                          SlurmControl* slurm,
                                                          SlurmNodeOptions options) {
  return std::make_unique<SlurmNodeProvider>(std::move(inner), slurm, std::move(options));
}

Result<std::unique_ptr<Autoscaler>> Autoscaler::Make(AutoscaleOptions options, SlurmControl* slurm,
                                                     provider::Provider* provider, Clock* clock) {
  if (options.types.empty())
    return InvalidArgument("autoscale: the cluster file has no node types");
  SWELL_ASSIGN_OR_RETURN(auto policy, as::MakePolicy(options.policy, options.policy_options));
  std::unique_ptr<Autoscaler> a(
      new Autoscaler(std::move(options), std::move(policy), slurm, provider, clock));
  SWELL_RETURN_IF_ERROR(a->Load());
  return a;
}

Status Autoscaler::Load() {
  if (opt_.state.empty()) return Status::Ok();
  SWELL_ASSIGN_OR_RETURN(store_, head::state::Store::Open(opt_.state));
  SWELL_ASSIGN_OR_RETURN(auto rows, store_->LoadPool());
  int restored = head::RestorePool(rows, &pool_, clock_->Now());
  if (restored > 0) LogInfo("autoscale: %d nodes carried on from %s", restored, opt_.state.c_str());
  pool_.TakeDirty();  // as read
  return Status::Ok();
}

Autoscaler::Autoscaler(AutoscaleOptions options, std::unique_ptr<as::Policy> policy,
                       SlurmControl* slurm, provider::Provider* provider, Clock* clock)
    : opt_(std::move(options)),
      policy_(std::move(policy)),
      slurm_(slurm),
      provider_(provider),
      clock_(clock),
      pool_(opt_.types, opt_.pool),
      arrived_(opt_.types.size(), 0),
      next_list_(clock->Now()) {
  calls_.Start(opt_.provider_threads);
}

Autoscaler::~Autoscaler() { calls_.Stop(); }

void Autoscaler::Start(std::vector<el::Call> calls) {
  Record();  // what the calls come from is kept before they are made
  for (auto& c : calls) {
    if (c.kind == el::Call::kDelete) deleting_since_.try_emplace(c.name, clock_->Now());
    as::NodeType type = opt_.types[static_cast<size_t>(c.type)];
    calls_.Run([this, c, type] {
      Status s =
          c.kind == el::Call::kCreate ? provider_->Create(c.name, type) : provider_->Delete(c.name);
      std::lock_guard<std::mutex> lock(mu_);
      done_.emplace_back(c, s);
    });
  }
}

void Autoscaler::Settle(Time now) {
  std::deque<std::pair<el::Call, Status>> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    done.swap(done_);
  }
  for (auto& [c, s] : done) {
    const char* what = c.kind == el::Call::kCreate ? "create" : "delete";
    if (!s.ok())
      LogWarning("autoscale: %s of %s failed: %s", what, c.name.c_str(), s.ToString().c_str());
    else
      LogInfo("autoscale: %s of %s done", what, c.name.c_str());
    Start(c.kind == el::Call::kCreate ? pool_.CreateDone(c.name, s, now)
                                      : pool_.DeleteDone(c.name, s, now));
  }
  Record();
}

void Autoscaler::Record() {
  auto dirty = pool_.TakeDirty();
  if (store_ != nullptr && !dirty.empty()) {
    Status s = store_->Begin();
    for (size_t i = 0; s.ok() && i < dirty.size(); ++i)
      if (const el::PoolNode* pn = pool_.Find(dirty[i]))
        s = store_->PutPoolNode(head::ToPoolRow(*pn, opt_.types));
    if (s.ok()) s = store_->Commit();
    if (!s.ok()) {
      if (store_->in_transaction()) store_->Rollback();
      LogWarning("autoscale: cannot keep the pool in %s: %s", opt_.state.c_str(),
                 s.ToString().c_str());
    }
  }
  for (const auto& name : dirty) {
    const el::PoolNode* pn = pool_.Find(name);
    if (pn == nullptr) continue;
    if (pn->phase == el::Phase::kGone) {
      LogInfo("autoscale: node %s is gone%s%s", name.c_str(), pn->failed ? ": " : "",
              pn->failed ? pn->reason.c_str() : "");
      auto since = deleting_since_.find(name);
      int64_t delete_ms = since == deleting_since_.end() ? 0 : (pn->gone - since->second).count();
      if (since != deleting_since_.end()) deleting_since_.erase(since);
      if (!opt_.ledger.empty()) {
        std::string line = fmt::format(
            "{},{},{},{},{},{},{}\n", name, opt_.types[static_cast<size_t>(pn->type)].name,
            ToMillis(pn->requested), pn->ready > Time() ? ToMillis(pn->ready) : 0,
            ToMillis(pn->gone), pn->failed ? 1 : 0, delete_ms);
        std::ofstream ledger(opt_.ledger, std::ios::app);
        if (!(ledger << line << std::flush))
          LogWarning("autoscale: cannot append to %s", opt_.ledger.c_str());
      }
      away_since_.erase(name);
      pool_.Forget(name);
    }
  }
}

void Autoscaler::CountArrivals(const std::vector<SlurmJob>& jobs) {
  for (auto& [id, seen] : seen_jobs_) seen = false;
  for (const auto& j : jobs) {
    auto [it, fresh] = seen_jobs_.try_emplace(j.id, true);
    it->second = true;
    if (!fresh) continue;
    auto names = rc::PartitionNames(j.partition);  // of "a,b": a
    for (size_t t = 0; t < opt_.types.size(); ++t)
      if (!names.empty() && opt_.types[t].name == names.front()) ++arrived_[t];
  }
  std::erase_if(seen_jobs_, [](const auto& e) { return !e.second; });
  std::erase_if(widened_, [&](const auto& e) { return !seen_jobs_.count(e.first); });
}

void Autoscaler::Widen(const std::vector<SlurmJob>& jobs,
                       const std::vector<rc::WaitingJob>& waiting, const rc::Routing& routing,
                       Time now) {
  for (const auto& [id, partitions] : JobsToWiden(jobs, waiting, routing)) {
    auto [it, fresh] = widened_.try_emplace(id, now);
    if (!fresh && now - it->second < opt_.list_interval) continue;  // not shown yet: later
    it->second = now;
    Status s = slurm_->SetPartitions(id, partitions);
    if (s.ok())
      LogInfo("autoscale: job %lld may run in %s (its type is backed off)",
              static_cast<long long>(id), partitions.c_str());
    else
      LogWarning("autoscale: %s", s.ToString().c_str());
  }
}

Status Autoscaler::Pass() {
  Time now = clock_->Now();
  Settle(now);
  // Real time, not the injected clock: how long Slurm took to answer (a slow slurmctld delays
  // every decision; the log says so).
  auto t0 = std::chrono::steady_clock::now();
  SWELL_ASSIGN_OR_RETURN(auto jobs, slurm_->Jobs());
  auto t1 = std::chrono::steady_clock::now();
  SWELL_ASSIGN_OR_RETURN(auto nodes, slurm_->Nodes());
  auto t2 = std::chrono::steady_clock::now();
  if (t2 - t0 > std::max<Duration>(opt_.interval * 2, std::chrono::seconds(1)))
    LogWarning("autoscale: Slurm took %.1f s to answer (squeue %.1f s, sinfo %.1f s)",
               std::chrono::duration<double>(t2 - t0).count(),
               std::chrono::duration<double>(t1 - t0).count(),
               std::chrono::duration<double>(t2 - t1).count());
  CountArrivals(jobs);
  auto states = NodeStates(nodes, jobs);
  // Booting nodes whose slurmd registered; registered nodes away too long. (Collected first:
  // the pool's events change the records the loop walks.)
  std::vector<std::string> registered, lost;
  for (const auto& [name, pn] : pool_.nodes()) {
    auto st = states.find(name);
    bool up = st != states.end() && st->second.connected;
    if (pn.phase == el::Phase::kBooting || pn.phase == el::Phase::kRequested) {
      if (up) registered.push_back(name);
      continue;
    }
    if (pn.phase != el::Phase::kIdle && pn.phase != el::Phase::kAllocated) continue;
    if (up) {
      away_since_.erase(name);
      continue;
    }
    auto [it, fresh] = away_since_.try_emplace(name, now);
    if (!fresh && now - it->second >= opt_.lost_after) lost.push_back(name);
  }
  std::vector<el::Call> calls;
  for (const auto& name : registered) pool_.Registered(name, now);
  for (const auto& name : lost) {
    away_since_.erase(name);
    for (auto& c : pool_.Lost(name, "slurmd not responding", now)) calls.push_back(c);
  }
  rc::Routing routing;
  routing.types = &pool_.types();
  routing.usable = rc::UsableTypes(pool_, now);
  auto state = [&](const el::PoolNode& pn) {
    auto it = states.find(pn.name);
    return it == states.end() ? rc::PoolNodeState{} : it->second;
  };
  auto waiting = WaitingJobs(jobs);
  Widen(jobs, waiting, routing, now);
  auto turn = rc::Autoscale(pool_, *policy_, state, rc::Demand(waiting, routing), arrived_, now);
  for (auto& c : turn.calls) calls.push_back(std::move(c));
  Start(std::move(calls));
  if (now >= next_list_) {
    // Instances the pool does not know (made before a restart of this daemon) are deleted:
    // drained and waited for, so a node with work keeps it until the work ends.
    next_list_ = now + opt_.list_interval;
    auto listed = provider_->List();
    if (listed.ok()) Start(pool_.Reconcile(*listed, now));
  }
  return Status::Ok();
}

void Autoscaler::Run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    Time start = clock_->Now();
    if (Status s = Pass(); !s.ok()) LogWarning("autoscale: %s", s.ToString().c_str());
    Time next = start + opt_.interval;
    while (!stop.load() && clock_->Now() < next)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  calls_.Stop();
  Settle(clock_->Now());
}

}  // namespace swell::slurm
