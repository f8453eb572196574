#include "provider/faulty.h"

namespace swell::provider {

Status FaultyProvider::Create(const std::string& name, const head::autoscaler::NodeType& type) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++creates_;
    if (plan_.fail_creates > 0) {
      --plan_.fail_creates;
      return Unavailable("injected fault: create of " + name + " failed");
    }
    if (plan_.hang_boots > 0) {
      --plan_.hang_boots;
      hung_.insert(name);
      existing_.insert(name);
      return Status::Ok();
    }
  }
  Status s = inner_->Create(name, type);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    existing_.insert(name);
  }
  return s;
}

Status FaultyProvider::Delete(const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++deletes_;
    if (hung_.erase(name)) {
      existing_.erase(name);
      return Status::Ok();
    }
  }
  Status s = inner_->Delete(name);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    existing_.erase(name);
  }
  return s;
}

Result<std::vector<std::string>> FaultyProvider::List() {
  SWELL_ASSIGN_OR_RETURN(auto names, inner_->List());
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& h : hung_) names.push_back(h);
  return names;
}

Status FaultyProvider::Preempt(const std::string& name) { return inner_->Delete(name); }

void FaultyProvider::SetPlan(FaultPlan plan) {
  std::lock_guard<std::mutex> lock(mu_);
  plan_ = plan;
}

std::set<std::string> FaultyProvider::Existing() {
  std::lock_guard<std::mutex> lock(mu_);
  return existing_;
}

int FaultyProvider::creates() const {
  std::lock_guard<std::mutex> lock(mu_);
  return creates_;
}

int FaultyProvider::deletes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return deletes_;
}

}  // namespace swell::provider
