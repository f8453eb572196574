#pragma once

// scontrol update's words for a job ("JobId=12 TimeLimit=30 Name=x", or "JobId 12 ..."), parsed
// as Slurm's scontrol parses them: keys case-insensitive and abbreviated down to Slurm's minimum
// lengths, values after '=' or in the next word, TimeLimit=+N / -N relative to the current
// limit. Pure.

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "rpc/swell.pb.h"

namespace swell::cli::slurm {

struct JobUpdateArgs {
  std::vector<std::string> job_ids;  // JobId=12,13_4 split at commas
  pb::JobUpdate update;
  // TimeLimit=+N / -N: added to (or taken from) the job's current limit, in milliseconds.
  std::optional<int64_t> time_delta_ms;
  // Dependency= that scontrol leaves to the controller to judge ("Job dependency problem").
  bool bad_dependency = false;
};

// InvalidArgument with exactly what scontrol prints on stderr (maybe several lines) when the
// words are refused before anything is sent.
Result<JobUpdateArgs> ParseJobUpdate(const std::vector<std::string>& words, Time now);

}  // namespace swell::cli::slurm
