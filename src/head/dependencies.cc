// Dependencies (--dependency): the state of the jobs a job waits for.

#include "head/head_impl.h"
#include "head/dependency.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>


namespace swell::head {

namespace sched = scheduler;
namespace as = autoscaler;
using state::JobRow;
using state::TaskRow;

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
  auto lookup = [this](const std::string& ref) -> std::optional<RefStatus> {
    bool started = false;
    auto st = RefState(ref, &started);
    if (!st) return std::nullopt;
    return RefStatus{static_cast<pb::JobState>(*st), started};
  };
  auto earlier_singleton = [&] {
    for (const auto& [id, other] : jobs_) {
      if (id >= job.row.id) break;
      if (other.row.name == job.row.name && other.row.uid == job.row.uid) return true;
    }
    return false;
  };
  return EvaluateDependency(job.spec.dependency(), lookup, earlier_singleton, reason);
}

}  // namespace swell::head
