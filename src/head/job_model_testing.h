#pragma once

// A fixture of the head's job model for tests and fuzz targets.

#include <cstdint>
#include <map>
#include <string>

#include "head/job_model.h"

namespace swell::head::testing {

// Job `id` with live tasks (pos -> node), all at attempt 1, in lease `id` on the first task's
// node; `ranks`: a job of ranks (spec.launch_tasks).
inline void AddLiveJob(std::map<int64_t, Job>& jobs, std::map<int64_t, Lease>& leases, int64_t id,
                       const std::map<int64_t, std::string>& tasks, bool ranks = false) {
  Job& job = jobs[id];
  job.row.id = id;
  job.row.task_count = static_cast<int64_t>(tasks.size());
  job.spec.set_launch_tasks(ranks);
  Lease& lease = leases[id];
  lease.id = id;
  lease.job_id = id;
  lease.node = tasks.begin()->second;
  for (const auto& [pos, node] : tasks) {
    Task t;
    t.pos = pos;
    t.attempt = 1;
    t.node = node;
    t.lease = id;
    job.live[pos] = t;
    lease.positions.insert(pos);
  }
}

}  // namespace swell::head::testing
