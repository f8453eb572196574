#include "head/waiting_index.h"

#include <algorithm>

namespace swell::head {

bool WaitingIndex::Conditional(const Job& job) {
  return job.spec.hold() || job.spec.begin_time_ms() > 0 || job.spec.dependency().terms_size() > 0;
}

std::optional<size_t> WaitingIndex::IndexOf(int64_t id) const {
  auto at = std::lower_bound(refs_.begin(), refs_.end(), id,
                             [](const Ref& r, int64_t v) { return r.id < v; });
  if (at == refs_.end() || at->id != id) return std::nullopt;
  return static_cast<size_t>(at - refs_.begin());
}

void WaitingIndex::Refresh(std::vector<int64_t> ids, const Find& find, const View& view) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<reconcile::WaitingJob> added;
  std::vector<Ref> added_refs;
  bool dropped = false;
  for (int64_t id : ids) {
    Job* job = find(id);
    const bool waits = job != nullptr && job->Waits();
    if (auto i = IndexOf(id)) {
      if (waits) {
        jobs_[*i] = view(*job);
        refs_[*i] = {id, job, Conditional(*job)};
      } else {
        refs_[*i].job = nullptr;
        dropped = true;
      }
    } else if (waits) {
      added.push_back(view(*job));
      added_refs.push_back({id, job, Conditional(*job)});
    }
  }
  if (dropped) {
    size_t out = 0;
    for (size_t i = 0; i < jobs_.size(); ++i) {
      if (refs_[i].job == nullptr) continue;
      if (out != i) {
        jobs_[out] = std::move(jobs_[i]);
        refs_[out] = refs_[i];
      }
      ++out;
    }
    jobs_.resize(out);
    refs_.resize(out);
  }
  if (added.empty()) return;
  // New submissions come after every job here (ids only grow): appended. A job that waits
  // again (requeued) goes in its place.
  if (jobs_.empty() || added.front().id > jobs_.back().id) {
    std::move(added.begin(), added.end(), std::back_inserter(jobs_));
    refs_.insert(refs_.end(), added_refs.begin(), added_refs.end());
    return;
  }
  std::vector<reconcile::WaitingJob> jobs;
  std::vector<Ref> refs;
  jobs.reserve(jobs_.size() + added.size());
  refs.reserve(jobs.capacity());
  size_t a = 0, b = 0;
  while (a < jobs_.size() || b < added.size()) {
    if (b == added.size() || (a < jobs_.size() && jobs_[a].id < added[b].id)) {
      jobs.push_back(std::move(jobs_[a]));
      refs.push_back(refs_[a++]);
    } else {
      jobs.push_back(std::move(added[b]));
      refs.push_back(added_refs[b++]);
    }
  }
  jobs_.swap(jobs);
  refs_.swap(refs);
}

std::vector<int64_t> WaitingIndex::Check(const std::map<int64_t, Job>& all,
                                         const View& view) const {
  std::vector<int64_t> wrong;
  size_t i = 0;
  for (const auto& [id, job] : all) {
    while (i < jobs_.size() && jobs_[i].id < id) wrong.push_back(jobs_[i++].id);  // gone
    const bool here = i < jobs_.size() && jobs_[i].id == id;
    if (!job.Waits()) {
      if (here) wrong.push_back(id), ++i;
      continue;
    }
    if (!here) {
      wrong.push_back(id);
      continue;
    }
    reconcile::WaitingJob now = view(job);
    now.gate = jobs_[i].gate;
    if (!(now == jobs_[i]) || refs_[i].job != &job || refs_[i].id != id) wrong.push_back(id);
    ++i;
  }
  while (i < jobs_.size()) wrong.push_back(jobs_[i++].id);
  return wrong;
}

}  // namespace swell::head
