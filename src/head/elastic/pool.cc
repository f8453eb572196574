#include "head/elastic/pool.h"

#include <algorithm>

namespace swell::head::elastic {

namespace as = autoscaler;

namespace {
constexpr const char* kPhaseNames[] = {"requested", "booting",  "idle",   "allocated",
                                       "draining",  "deleting", "failed", "gone"};
}

const char* PhaseName(Phase p) { return kPhaseNames[static_cast<int>(p)]; }

std::optional<Phase> ParsePhase(const std::string& s) {
  for (int i = 0; i <= static_cast<int>(Phase::kGone); ++i)
    if (s == kPhaseNames[i]) return static_cast<Phase>(i);
  return std::nullopt;
}

Pool::Pool(std::vector<as::NodeType> types, PoolOptions options)
    : types_(std::move(types)),
      opt_(options),
      next_index_(types_.size(), 1),
      type_failures_(types_.size(), 0),
      type_backoff_until_(types_.size(), Time{}) {}

const PoolNode* Pool::Find(const std::string& name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : &it->second;
}

std::string Pool::NameOf(int64_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? std::string() : it->second;
}

PoolNode* Pool::Get(const std::string& name) {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : &it->second;
}

void Pool::Restore(PoolNode n) {
  if (n.type < 0 || n.type >= static_cast<int>(types_.size())) return;
  if (n.phase == Phase::kRequested) n.phase = Phase::kBooting, n.create_done = true;
  n.call_running = false;
  // Names stay unique across restarts: "<type>-<n>" continues after the highest n seen.
  const std::string prefix = types_[static_cast<size_t>(n.type)].name + "-";
  if (n.name.rfind(prefix, 0) == 0) {
    try {
      int idx = std::stoi(n.name.substr(prefix.size()));
      auto& next = next_index_[static_cast<size_t>(n.type)];
      next = std::max(next, idx + 1);
    } catch (...) {
    }
  }
  next_id_ = std::max(next_id_, n.id + 1);
  by_id_[n.id] = n.name;
  nodes_[n.name] = std::move(n);
}

std::vector<as::NodeView> Pool::View() const {
  std::vector<as::NodeView> out;
  for (const auto& [name, n] : nodes_) {
    as::NodeState s;
    switch (n.phase) {
      case Phase::kRequested:
      case Phase::kBooting: s = as::NodeState::kBooting; break;
      case Phase::kIdle: s = as::NodeState::kIdle; break;
      case Phase::kAllocated: s = as::NodeState::kAllocated; break;
      case Phase::kGone: continue;
      default: s = as::NodeState::kDeleting; break;
    }
    out.push_back({n.id, n.type, s, n.requested, n.idle_since});
  }
  return out;
}

int Pool::Live(int type) const {
  int k = 0;
  for (const auto& [name, n] : nodes_) k += n.phase != Phase::kGone && n.type == type;
  return k;
}

int Pool::Live() const {
  int k = 0;
  for (const auto& [name, n] : nodes_) k += n.phase != Phase::kGone;
  return k;
}

double Pool::LivePrice() const {
  double p = 0;
  for (const auto& [name, n] : nodes_)
    if (n.phase != Phase::kGone) p += types_[static_cast<size_t>(n.type)].price_per_hour;
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
  n.phase = p;
  if (p == Phase::kIdle) n.idle_since = now;
  if (p == Phase::kGone) n.gone = now;
  dirty_.insert(n.name);
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
      by_id_[n.id] = n.name;
      dirty_.insert(n.name);
      calls.push_back({Call::kCreate, n.name, n.type});
      nodes_[n.name] = std::move(n);
    }
  }
  for (int64_t id : action.remove) {
    auto it = by_id_.find(id);
    if (it == by_id_.end()) continue;
    PoolNode* n = Get(it->second);
    // Only idle nodes go; anything else changed since the policy looked.
    if (n == nullptr || n->phase != Phase::kIdle) continue;
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
  return Call{Call::kDelete, n.name, n.type};
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
  dirty_.insert(name);
  auto& failures = type_failures_[static_cast<size_t>(n->type)];
  if (!result.ok()) {
    if (++failures >= opt_.type_failure_limit)
      type_backoff_until_[static_cast<size_t>(n->type)] = now + opt_.type_backoff;
    if (n->phase == Phase::kDeleting || n->phase == Phase::kFailed) {
      // Deleted while the create ran: delete it now in case the provider made it anyway.
      n->call_running = true;
      return {{Call::kDelete, n->name, n->type}};
    }
    return Fail(*n, "create failed: " + result.message(), now);
  }
  if (n->phase == Phase::kRequested) SetPhase(*n, Phase::kBooting, now);
  if (n->phase == Phase::kDeleting || n->phase == Phase::kFailed) {
    n->call_running = true;
    n->retry_at = now + opt_.delete_retry;
    return {{Call::kDelete, n->name, n->type}};
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
    dirty_.insert(name);
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
  for (auto& [name, n] : nodes_) {
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
      calls.push_back({Call::kDelete, n.name, n.type});
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
    by_id_[n.id] = name;
    dirty_.insert(name);
    calls.push_back({Call::kDelete, name, n.type});
    nodes_[name] = std::move(n);
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
  std::vector<std::string> out(dirty_.begin(), dirty_.end());
  dirty_.clear();
  return out;
}

}  // namespace swell::head::elastic
