#include "cli/job_state.h"

#include <utility>

#include "common/text.h"

namespace swell::cli::slurm {
namespace {

// Slurm's job states, compact and long (squeue(1), JOB STATE CODES), in Slurm's order. swell's
// states (pb::JobState) are named as here.
constexpr std::pair<const char*, const char*> kSlurmJobStates[] = {
    {"PD", "PENDING"},    {"R", "RUNNING"},       {"S", "SUSPENDED"},     {"CD", "COMPLETED"},
    {"CA", "CANCELLED"},  {"F", "FAILED"},        {"TO", "TIMEOUT"},      {"NF", "NODE_FAIL"},
    {"PR", "PREEMPTED"},  {"BF", "BOOT_FAIL"},    {"DL", "DEADLINE"},     {"OOM", "OUT_OF_MEMORY"},
    {"CG", "COMPLETING"}, {"CF", "CONFIGURING"},  {"RS", "RESIZING"},     {"RD", "RESV_DEL_HOLD"},
    {"RQ", "REQUEUED"},   {"RF", "REQUEUE_FED"},  {"RH", "REQUEUE_HOLD"}, {"RV", "REVOKED"},
    {"SI", "SIGNALING"},  {"SE", "SPECIAL_EXIT"}, {"SO", "STAGE_OUT"},    {"ST", "STOPPED"},
};

}  // namespace

std::string_view JobStateCompact(pb::JobState s) {
  std::string_view name = JobStateName(s);
  for (const auto& [compact, long_name] : kSlurmJobStates)
    if (name == long_name) return compact;
  return "?";
}

std::string_view JobStateName(pb::JobState s) {
  // The enum's own names are Slurm's (PENDING, ..., NODE_FAIL).
  if (s == pb::JOB_STATE_UNSPECIFIED || !pb::JobState_IsValid(s)) return "UNKNOWN";
  return pb::JobState_Name(s);
}

bool Terminal(pb::JobState s) { return s != pb::PENDING && s != pb::RUNNING; }

Result<std::optional<std::set<std::string>>> ParseJobStates(std::string_view text) {
  if (ToLower(text) == "all") return std::optional<std::set<std::string>>();
  std::set<std::string> out;
  for (std::string_view raw : Split(text, ',')) {
    std::string item = ToUpper(raw);
    if (item.empty()) continue;
    bool found = false;
    for (const auto& [compact, name] : kSlurmJobStates) {
      if (item == compact || item == name) {
        out.insert(name);
        found = true;
      }
    }
    if (!found) return InvalidArgument(std::string(raw));
  }
  return std::optional<std::set<std::string>>(std::move(out));
}

std::string ValidJobStates() {
  std::string out;
  for (const auto& [compact, name] : kSlurmJobStates)
    out += (out.empty() ? "" : ",") + std::string(name);
  return out;
}

std::vector<std::string> TaskNodes(const pb::TaskInfo& t) {
  if (t.alloc_nodes_size() > 0) return {t.alloc_nodes().begin(), t.alloc_nodes().end()};
  if (t.node().empty()) return {};
  return {t.node()};
}

}  // namespace swell::cli::slurm
