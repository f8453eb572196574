#include "cli/job_state.h"

#include <array>
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

// Both names of every state, looked up once: squeue names each of 100,000 lines' state, and
// sorts by the compact name (a descriptor lookup and a scan of the table each time were a
// tenth of its time).
struct StateNames {
  std::array<std::string_view, pb::JobState_ARRAYSIZE> name, compact;
  StateNames() {
    for (int i = 0; i < pb::JobState_ARRAYSIZE; ++i) {
      bool known = i != pb::JOB_STATE_UNSPECIFIED && pb::JobState_IsValid(i);
      // The enum's own names are Slurm's (PENDING, ..., NODE_FAIL).
      name[i] = known ? std::string_view(pb::JobState_Name(static_cast<pb::JobState>(i)))
                      : std::string_view("UNKNOWN");
      compact[i] = "?";
      for (const auto& [c, long_name] : kSlurmJobStates)
        if (name[i] == long_name) compact[i] = c;
    }
  }
};

const StateNames& Names() {
  static const StateNames names;
  return names;
}

bool InRange(pb::JobState s) { return s >= 0 && s < pb::JobState_ARRAYSIZE; }

}  // namespace

std::string_view JobStateCompact(pb::JobState s) {
  return InRange(s) ? Names().compact[s] : std::string_view("?");
}

std::string_view JobStateName(pb::JobState s) {
  return InRange(s) ? Names().name[s] : std::string_view("UNKNOWN");
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
