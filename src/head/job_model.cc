#include "head/head.h"
#include "head/job_model.h"

#include <algorithm>

#include "common/text.h"

namespace swell::head {

const char* StateName(pb::JobState s) {
  // The enum's own names are Slurm's (PENDING, ..., NODE_FAIL), as cli/job_state.cc prints them.
  if (s == pb::JOB_STATE_UNSPECIFIED || !pb::JobState_IsValid(s)) return "UNKNOWN";
  return pb::JobState_Name(s).c_str();  // static storage
}

bool IsTerminal(pb::JobState s) { return s >= pb::COMPLETED; }

reconcile::Shape ShapeOf(const pb::JobSpec& spec) {
  reconcile::Shape s;
  s.ntasks = std::max(1, spec.ntasks());
  s.cpus_per_task = std::max(1, spec.cpus_per_task());
  s.mem_mb = spec.mem_mb();
  s.gpus = spec.gpus();
  s.min_nodes = std::max(1, spec.min_nodes());
  s.max_nodes = spec.max_nodes();
  s.time_limit = spec.time_limit_ms() > 0 ? Duration(spec.time_limit_ms()) : kInfinite;
  s.require.assign(spec.nodelist().begin(), spec.nodelist().end());
  s.exclude.assign(spec.exclude().begin(), spec.exclude().end());
  s.exclusive = spec.exclusive();
  return s;
}


state::UnitRows ToRows(const std::vector<std::vector<Share>>& units) {
  state::UnitRows rows;
  for (const auto& unit : units) {
    auto& r = rows.emplace_back();
    for (const auto& s : unit) r.push_back({s.node, s.ntasks, s.res.cpus, s.res.mem_mb, s.res.gpus});
  }
  return rows;
}

std::vector<std::vector<Share>> FromRows(const state::UnitRows& rows) {
  std::vector<std::vector<Share>> units;
  for (const auto& r : rows) {
    auto& unit = units.emplace_back();
    for (const auto& s : r) unit.push_back({s.node, s.ntasks, {s.cpus, s.mem_mb, s.gpus}});
  }
  return units;
}

void FillTaskInfo(const state::TaskRow& t, pb::TaskInfo* info) {
  info->set_state(static_cast<pb::JobState>(t.state));
  info->set_exit_code(t.exit_code);
  info->set_signal(t.signal);
  info->set_node(t.node);
  info->set_start_ms(t.start_ms);
  info->set_end_ms(t.end_ms);
  info->set_restarts(t.attempt);
  info->set_max_rss_kb(t.max_rss_kb);
  info->set_user_cpu_us(t.user_cpu_us);
  info->set_sys_cpu_us(t.sys_cpu_us);
  for (const auto& n : SplitNonEmpty(t.alloc_nodes, ',')) info->add_alloc_nodes(n);
}

}  // namespace swell::head
