#pragma once

// The jobs whose units wait, as the reconcile core sees them (reconcile::WaitingJob), kept in
// id order as the jobs change instead of built again for every scheduling pass: at 100,000
// waiting jobs, reading each job's own memory (a tree node, its row, its spec) was most of a
// pass (docs/BENCHMARKS.md, "The head at scale").
//
// The contract with the head: every change to a job that can make it wait or change what the
// core sees of it (its units, allocation, priority, shape, hold, reason) lists the job in the
// head's touched_ list, and the head refreshes those jobs here before it reads jobs(). What
// depends on time or on other jobs (begin times, dependencies) is the caller's to compute per
// pass: gate() names the jobs whose spec has such a condition. The head's minute sweep checks
// the index against the jobs themselves (Check).

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "head/job_model.h"
#include "head/reconcile/reconcile.h"

namespace swell::head {

class WaitingIndex {
 public:
  using Find = std::function<Job*(int64_t id)>;                       // null: no such job
  using View = std::function<reconcile::WaitingJob(const Job& job)>;  // its gate left empty

  // Takes the jobs of `ids` (any order, repeats allowed) as they are now: each one that waits
  // (Job::Waits) is added or seen again through `view`; any other leaves.
  void Refresh(std::vector<int64_t> ids, const Find& find, const View& view);

  // In id order; the gate of each is what the caller last set.
  const std::vector<reconcile::WaitingJob>& jobs() const { return jobs_; }
  reconcile::WaitingJob& at(size_t i) { return jobs_[i]; }
  Job& job(size_t i) const { return *refs_[i].job; }
  // Whether jobs()[i]'s spec holds it, or has a begin time or a dependency.
  bool conditional(size_t i) const { return refs_[i].conditional; }
  std::optional<size_t> IndexOf(int64_t id) const;
  size_t size() const { return jobs_.size(); }

  // The ids of the jobs whose entry is not what `view` makes of them now (or that wait and are
  // missing, or are here and do not wait), gates aside; empty when the contract held.
  std::vector<int64_t> Check(const std::map<int64_t, Job>& all, const View& view) const;

 private:
  struct Ref {
    int64_t id = 0;      // jobs_[i].id, searched here: a WaitingJob is a few hundred bytes, and
                         // a binary search through them was 8% of a loaded head's cpu
    Job* job = nullptr;  // null while being dropped
    bool conditional = false;
  };
  static bool Conditional(const Job& job);
  std::vector<reconcile::WaitingJob> jobs_;
  std::vector<Ref> refs_;  // refs_[i] is jobs_[i]'s
};

}  // namespace swell::head
