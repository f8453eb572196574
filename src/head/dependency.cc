#include "head/dependency.h"

namespace swell::head {

pb::JobState EvaluateDependency(const pb::Dependency& dep, const RefLookup& lookup,
                                const std::function<bool()>& earlier_singleton,
                                std::string* reason) {
  if (dep.terms_size() == 0) return pb::COMPLETED;
  int satisfied = 0, never = 0;
  for (const auto& term : dep.terms()) {
    bool term_ok = true, term_never = false;
    if (term.type() == "singleton") {
      term_ok = !earlier_singleton();
    } else {
      for (const auto& ref : term.job_ids()) {
        auto st = lookup(ref);
        if (!st) {
          term_never = true;  // vanished: cannot be satisfied
          continue;
        }
        pb::JobState s = st->state;
        bool done = s >= pb::COMPLETED;
        if (term.type() == "after") {
          if (!st->started && !done) term_ok = false;
        } else if (term.type() == "afterany") {
          if (!done) term_ok = false;
        } else if (term.type() == "afterok") {
          if (!done)
            term_ok = false;
          else if (s != pb::COMPLETED)
            term_never = true;
        } else if (term.type() == "afternotok") {
          if (!done)
            term_ok = false;
          else if (s == pb::COMPLETED)
            term_never = true;
        }
      }
    }
    if (term_never)
      ++never;
    else if (term_ok)
      ++satisfied;
  }
  int n = dep.terms_size();
  if (dep.any()) {
    if (satisfied > 0) return pb::COMPLETED;
    if (never == n) {
      *reason = "DependencyNeverSatisfied";
      return pb::FAILED;
    }
  } else {
    if (never > 0) {
      *reason = "DependencyNeverSatisfied";
      return pb::FAILED;
    }
    if (satisfied == n) return pb::COMPLETED;
  }
  *reason = "Dependency";
  return pb::PENDING;
}


}  // namespace swell::head
