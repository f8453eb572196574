#include "head/elastic/pool.h"

#include <algorithm>
#include <charconv>
#include <string_view>

namespace swell::head::elastic {

namespace as = autoscaler;

namespace {
constexpr const char* kPhaseNames[] = {"requested", "booting",  "idle",   "allocated",
                                       "draining",  "deleting", "failed", "gone"};

// Phases in which Tick may have something to do: a boot that can time out, a delete that can
// need a retry.
bool Unsettled(Phase p) {
  return p == Phase::kRequested || p == Phase::kBooting || p == Phase::kDeleting ||
         p == Phase::kFailed;
}
}  // namespace

const char* PhaseName(Phase p) { return kPhaseNames[static_cast<int>(p)]; }

std::optional<Phase> ParsePhase(const std::string& s) {
  for (int i = 0; i <= static_cast<int>(Phase::kGone); ++i)
    if (s == kPhaseNames[i]) return static_cast<Phase>(i);
  return std::nullopt;
}

Pool::Pool(std::vector<as::NodeType> types, PoolOptions options)
    : types_(std::move(types)),
      opt_(options),
      live_per_type_(types_.size(), 0),
      next_index_(types_.size(), 1),
      type_failures_(types_.size(), 0),
      // Not Time{}: a virtual clock may start before the epoch (the simulator's oracle creates
      // nodes one boot time before the first arrival at t = 0).
      type_backoff_until_(types_.size(), Time::min()) {}

const PoolNode* Pool::Find(const std::string& name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : &it->second;
}

std::string Pool::NameOf(int64_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? std::string() : it->second->name;
}

PoolNode* Pool::Get(const std::string& name) {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : &it->second;
}

PoolNode& Pool::Add(PoolNode n) {
  if (auto it = nodes_.find(n.name); it != nodes_.end()) {
    Uncount(it->second);
    by_id_.erase(it->second.id);
    nodes_.erase(it);
  }
  std::string name = n.name;
  PoolNode& p = nodes_.emplace(std::move(name), std::move(n)).first->second;
  // New nodes get the highest id yet: the hint makes their insertion constant time.
  by_id_.insert_or_assign(by_id_.end(), p.id, &p);
  if (p.phase != Phase::kGone) {
    live_.emplace_hint(live_.end(), p.id, &p);
    ++live_per_type_[static_cast<size_t>(p.type)];
  }
  if (Unsettled(p.phase)) unsettled_.insert(p.id);
  ++in_phase_[static_cast<size_t>(p.phase)];
  dirty_.insert(p.id);
  return p;
}

void Pool::Uncount(const PoolNode& n) {
  --in_phase_[static_cast<size_t>(n.phase)];
  unsettled_.erase(n.id);
  dirty_.erase(n.id);
  if (n.phase == Phase::kGone) return;
  live_.erase(n.id);
  --live_per_type_[static_cast<size_t>(n.type)];
}

void Pool::Forget(const std::string& name) {
  auto it = nodes_.find(name);
  if (it == nodes_.end() || it->second.phase != Phase::kGone) return;
  Uncount(it->second);
  by_id_.erase(it->second.id);
  nodes_.erase(it);
}

void Pool::Restore(PoolNode n) {
  if (n.type < 0 || n.type >= static_cast<int>(types_.size())) return;
  if (n.phase == Phase::kRequested) n.phase = Phase::kBooting, n.create_done = true;
  n.call_running = false;
  Reserve(n.name, n.id);
  Add(std::move(n));
}

void Pool::Reserve(const std::string& name, int64_t id) {
  // Names stay unique across restarts: "<type>-<n>" continues after the highest n seen.
  for (size_t t = 0; t < types_.size(); ++t) {
    const std::string prefix = types_[t].name + "-";
    std::string_view rest = std::string_view(name).substr(std::min(name.size(), prefix.size()));
    int idx = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), idx);
    if (name.starts_with(prefix) && ec == std::errc() && end == rest.data() + rest.size())
      next_index_[t] = std::max(next_index_[t], idx + 1);
  }
  next_id_ = std::max(next_id_, id + 1);
}

std::vector<as::NodeView> Pool::View() const {
  std::vector<as::NodeView> out;
  out.reserve(live_.size());
  for (const auto& [id, n] : live_) {
    as::NodeState s;
    switch (n->phase) {
      case Phase::kRequested:
      case Phase::kBooting: s = as::NodeState::kBooting; break;
      case Phase::kIdle: s = as::NodeState::kIdle; break;
      case Phase::kAllocated: s = as::NodeState::kAllocated; break;
      default: s = as::NodeState::kDeleting; break;
    }
    out.push_back({n->id, n->type, s, n->requested, n->idle_since});
  }
  return out;
}

int Pool::Live(int type) const {
  if (type < 0 || type >= static_cast<int>(types_.size())) return 0;
  return live_per_type_[static_cast<size_t>(type)];
}

int Pool::Live() const { return static_cast<int>(live_.size()); }

double Pool::LivePrice() const {
  double p = 0;
  for (size_t t = 0; t < types_.size(); ++t) p += live_per_type_[t] * types_[t].price_per_hour;
  return p;
}

bool Pool::RateAllows(std::deque<Time>& window, int per_minute, Time now) const {
  while (!window.empty() && now - window.front() >= std::chrono::minutes(1)) window.pop_front();
  return per_minute <= 0 || static_cast<int>(window.size()) < per_minute;
}

bool Pool::Usable(int type, Time now) const {
  if (type < 0 || type >= static_cast<int>(types_.size())) return false;
  return now >= type_backoff_until_[static_cast<size_t>(type)];
}

void Pool::SetPhase(PoolNode& n, Phase p, Time now) {
  if (n.phase == p) return;
  --in_phase_[static_cast<size_t>(n.phase)];
  ++in_phase_[static_cast<size_t>(p)];
  if (Unsettled(p) != Unsettled(n.phase)) {
    if (Unsettled(p)) unsettled_.insert(n.id);
    else unsettled_.erase(n.id);
  }
  if (p == Phase::kGone) {  // final: nothing leaves gone
    live_.erase(n.id);
    --live_per_type_[static_cast<size_t>(n.type)];
  }
  n.phase = p;
  if (p == Phase::kIdle) n.idle_since = now;
  if (p == Phase::kGone) n.gone = now;
  dirty_.insert(n.id);
}

std::vector<Call> Pool::Apply(const as::Action& action, Time now) {
  std::vector<Call> calls;
  for (size_t t = 0; t < action.create.size() && t < types_.size(); ++t) {
    const as::NodeType& type = types_[t];
    for (int k = 0; k < action.create[t]; ++k) {
      if (!Usable(static_cast<int>(t), now)) break;
      if (type.max_nodes > 0 && Live(static_cast<int>(t)) >= type.max_nodes) break;
      if (opt_.max_nodes > 0 && Live() >= opt_.max_nodes) break;
      if (opt_.budget_per_hour > 0 && LivePrice() + type.price_per_hour > opt_.budget_per_hour)
        break;
      if (!RateAllows(creates_, opt_.creates_per_minute, now)) break;
      creates_.push_back(now);
      PoolNode n;
      n.id = next_id_++;
      n.type = static_cast<int>(t);
      n.name = type.name + "-" + std::to_string(next_index_[t]++);
      n.phase = Phase::kRequested;
      n.requested = now;
      n.call_running = true;
      calls.push_back({Call::kCreate, n.name, n.type, n.id});
      Add(std::move(n));
    }
  }
  for (int64_t id : action.remove) {
    auto it = by_id_.find(id);
    if (it == by_id_.end()) continue;
    PoolNode* n = it->second;
    // Only idle nodes go; anything else changed since the policy looked.
    if (n->phase != Phase::kIdle) continue;
    if (!RateAllows(deletes_, opt_.deletes_per_minute, now)) break;
    deletes_.push_back(now);
    n->reason = "idle";
    SetPhase(*n, Phase::kDraining, now);
    if (auto c = StartDelete(*n, now)) calls.push_back(*c);
  }
  return calls;
}

std::optional<Call> Pool::StartDelete(PoolNode& n, Time now) {
  if (n.phase != Phase::kFailed) SetPhase(n, Phase::kDeleting, now);  // failed stays failed
  if (n.call_running) return std::nullopt;  // the create is still under way: delete after it
  n.call_running = true;
  n.retry_at = now + opt_.delete_retry;
  return Call{Call::kDelete, n.name, n.type, n.id};
}

std::vector<Call> Pool::Fail(PoolNode& n, const std::string& why, Time now) {
  if (n.phase == Phase::kGone || n.phase == Phase::kDeleting || n.phase == Phase::kFailed)
    return {};
  n.failed = true;
  n.reason = why;
  SetPhase(n, Phase::kFailed, now);
  std::vector<Call> calls;
  if (auto c = StartDelete(n, now)) calls.push_back(*c);
  return calls;
}

std::vector<Call> Pool::CreateDone(const std::string& name, const Status& result, Time now) {
  PoolNode* n = Get(name);
  if (n == nullptr) return {};
  n->call_running = false;
  n->create_done = true;
  dirty_.insert(n->id);
  auto& failures = type_failures_[static_cast<size_t>(n->type)];
  if (!result.ok()) {
    if (++failures >= opt_.type_failure_limit)
      type_backoff_until_[static_cast<size_t>(n->type)] = now + opt_.type_backoff;
    if (n->phase == Phase::kDeleting || n->phase == Phase::kFailed) {
      // Deleted while the create ran: delete it now in case the provider made it anyway.
      n->call_running = true;
      return {{Call::kDelete, n->name, n->type, n->id}};
    }
    return Fail(*n, "create failed: " + result.message(), now);
  }
  if (n->phase == Phase::kRequested) SetPhase(*n, Phase::kBooting, now);
  if (n->phase == Phase::kDeleting || n->phase == Phase::kFailed) {
    n->call_running = true;
    n->retry_at = now + opt_.delete_retry;
    return {{Call::kDelete, n->name, n->type, n->id}};
  }
  return {};
}

std::vector<Call> Pool::DeleteDone(const std::string& name, const Status& result, Time now) {
  PoolNode* n = Get(name);
  if (n == nullptr) return {};
  n->call_running = false;
  if (!result.ok()) {
    // Retried by Tick; the node stays billed until the provider confirms.
    n->reason += (n->reason.empty() ? "" : "; ") + std::string("delete failed: ") +
                 result.message();
    n->retry_at = now + opt_.delete_retry;
    dirty_.insert(n->id);
    return {};
  }
  SetPhase(*n, Phase::kGone, now);
  return {};
}

bool Pool::Registered(const std::string& name, Time now) {
  PoolNode* n = Get(name);
  if (n == nullptr) return false;
  switch (n->phase) {
    case Phase::kRequested:
    case Phase::kBooting:
      type_failures_[static_cast<size_t>(n->type)] = 0;
      n->ready = now;
      SetPhase(*n, Phase::kIdle, now);
      return true;
    case Phase::kIdle:
    case Phase::kAllocated:
    case Phase::kDraining:
      return true;  // a reconnect
    default:
      return false;
  }
}

std::vector<Call> Pool::SetBusy(const std::string& name, bool busy, Time now) {
  PoolNode* n = Get(name);
  if (n == nullptr) return {};
  if (n->phase == Phase::kIdle && busy) SetPhase(*n, Phase::kAllocated, now);
  else if (n->phase == Phase::kAllocated && !busy) SetPhase(*n, Phase::kIdle, now);
  else if (n->phase == Phase::kDraining && !busy) {
    if (auto c = StartDelete(*n, now)) return {*c};
  }
  return {};
}

std::vector<Call> Pool::Lost(const std::string& name, const std::string& why, Time now) {
  PoolNode* n = Get(name);
  if (n == nullptr) return {};
  if (n->phase == Phase::kDraining) {
    n->reason = why;
    if (auto c = StartDelete(*n, now)) return {*c};
    return {};
  }
  return Fail(*n, why, now);
}

std::vector<Call> Pool::Drain(const std::string& name, const std::string& why, Time now) {
  PoolNode* n = Get(name);
  if (n == nullptr) return {};
  if (n->phase == Phase::kAllocated) {
    n->reason = why;
    SetPhase(*n, Phase::kDraining, now);
    return {};
  }
  if (n->phase == Phase::kIdle || n->phase == Phase::kRequested || n->phase == Phase::kBooting) {
    n->reason = why;
    if (auto c = StartDelete(*n, now)) return {*c};
  }
  return {};
}

std::vector<Call> Pool::Tick(Time now) {
  std::vector<Call> calls;
  // Only unsettled nodes can have anything due. The iterator moves on before its node changes
  // phase, and that node only moves to another unsettled phase, so the loop stays valid.
  for (auto it = unsettled_.begin(); it != unsettled_.end();) {
    PoolNode& n = *by_id_.at(*it++);
    if ((n.phase == Phase::kRequested || n.phase == Phase::kBooting) &&
        now - n.requested >= opt_.boot_timeout) {
      auto& failures = type_failures_[static_cast<size_t>(n.type)];
      if (++failures >= opt_.type_failure_limit)
        type_backoff_until_[static_cast<size_t>(n.type)] = now + opt_.type_backoff;
      for (auto& c : Fail(n, "boot timeout", now)) calls.push_back(c);
    } else if ((n.phase == Phase::kDeleting || n.phase == Phase::kFailed) && !n.call_running &&
               now >= n.retry_at) {
      n.call_running = true;
      n.retry_at = now + opt_.delete_retry;
      calls.push_back({Call::kDelete, n.name, n.type, n.id});
    }
  }
  return calls;
}

std::vector<Call> Pool::Reconcile(const std::vector<std::string>& listed, Time now) {
  std::vector<Call> calls;
  std::set<std::string> seen(listed.begin(), listed.end());
  for (const auto& name : listed) {
    if (nodes_.count(name)) continue;
    // An instance with no record: created just before a crash, or left by an older head.
    // Type unknown (-1 is not a valid index; use 0 for the view, it is deleting anyway).
    PoolNode n;
    n.id = next_id_++;
    n.name = name;
    n.type = 0;
    for (size_t t = 0; t < types_.size(); ++t)
      if (name.rfind(types_[t].name + "-", 0) == 0) n.type = static_cast<int>(t);
    n.phase = Phase::kDeleting;
    n.requested = now;
    n.failed = true;
    n.reason = "unknown instance";
    n.create_done = true;
    n.call_running = true;
    n.retry_at = now + opt_.delete_retry;
    calls.push_back({Call::kDelete, name, n.type, n.id});
    Add(std::move(n));
  }
  for (auto& [name, n] : nodes_) {
    if (seen.count(name) || n.call_running || n.phase == Phase::kGone) continue;
    if (n.phase == Phase::kDeleting || n.phase == Phase::kFailed) {
      SetPhase(n, Phase::kGone, now);
    } else if (n.create_done) {
      // It was there and is not any more (a spot preemption, a crash): failed; the delete
      // that follows is idempotent and makes sure.
      for (auto& c : Lost(name, "instance gone", now)) calls.push_back(c);
    }
  }
  return calls;
}

std::vector<std::string> Pool::TakeDirty() {
  std::vector<std::string> out;
  out.reserve(dirty_.size());
  for (int64_t id : dirty_) out.push_back(by_id_.at(id)->name);
  dirty_.clear();
  return out;
}

}  // namespace swell::head::elastic
