#pragma once

// Slurm's --dependency, evaluated: whether a job may start as far as the jobs it names are
// concerned. Pure: the caller says what state each named job is in.

#include <functional>
#include <optional>
#include <string>

#include "rpc/swell.pb.h"

namespace swell::head {

// A job a dependency names ("123", or "123_4" for one array task), as it is now.
struct RefStatus {
  pb::JobState state = pb::PENDING;
  bool started = false;  // it has run (or runs) at some point
};
// nullopt: no such job (it never existed, or its index is not in its array).
using RefLookup = std::function<std::optional<RefStatus>(const std::string& ref)>;

// COMPLETED: satisfied; PENDING: not yet ("Dependency" in `reason`); FAILED: it never can be
// ("DependencyNeverSatisfied"). after: the job started or ended; afterany: it ended; afterok:
// it completed; afternotok: it ended otherwise; singleton: no earlier job of the same name and
// user is active (`earlier_singleton()`, asked only for such a term). A named job that does not exist can never satisfy its
// term. Terms are all required, or any one with `dep.any()` (Slurm's '?' separator).
pb::JobState EvaluateDependency(const pb::Dependency& dep, const RefLookup& lookup,
                                const std::function<bool()>& earlier_singleton,
                                std::string* reason);

}  // namespace swell::head
