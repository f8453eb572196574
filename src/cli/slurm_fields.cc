#include "cli/slurm_fields.h"

#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <cctype>

#include "common/local_time.h"

namespace swell::cli::slurm {

using nlohmann::json;

// ---- Jobs ------------------------------------------------------------------------------------

int Ntasks(const pb::JobSpec& s) { return std::max(1, s.ntasks()); }
int CpusPerTask(const pb::JobSpec& s) { return std::max(1, s.cpus_per_task()); }
int64_t Cpus(const pb::JobSpec& s) { return int64_t{Ntasks(s)} * CpusPerTask(s); }

std::string MemText(int64_t mb) {
  if (mb <= 0) return "0";
  const char* units = "MGTP";
  int u = 0;
  while (mb % 1024 == 0 && u < 3) mb /= 1024, ++u;
  return fmt::format("{}{}", mb, units[u]);
}

std::string Dependency(const pb::JobSpec& spec) {
  std::string out;
  for (const auto& term : spec.dependency().terms()) {
    if (!out.empty()) out += spec.dependency().any() ? "?" : ",";
    out += term.type();
    for (const auto& id : term.job_ids()) out += ":" + id;
  }
  return out;
}

std::string Command(const pb::JobSpec& spec) {
  if (!spec.script_path().empty()) return spec.script_path();
  std::string out;
  for (const auto& a : spec.argv()) out += (out.empty() ? "" : " ") + a;
  return out.empty() ? "(null)" : out;
}

std::string FailReason(const pb::JobInfo& j) {
  if (j.state() == pb::TIMEOUT) return "TimeLimit";
  if (j.state() == pb::FAILED) return j.signal() ? "RaisedSignal" : "NonZeroExitCode";
  if (j.state() == pb::NODE_FAIL) return "NodeDown";
  if (j.state() == pb::DEADLINE) return "DeadLine";
  return j.reason();
}

// ---- Nodes -----------------------------------------------------------------------------------

NodeState NodeStateOf(const pb::NodeInfo& node) {
  // Slurm's base states and flags (slurm.h): the numbers only order sinfo's lines.
  constexpr uint32_t kDown = 1, kIdle = 2, kAlloc = 3, kMixed = 5;
  constexpr uint32_t kDrain = 1u << 9, kNoRespond = 1u << 11, kPoweringUp = 1u << 14,
                     kPoweringDown = 1u << 18;
  const std::string& s = node.state();
  bool busy = node.cpus_used() > 0;
  bool full = node.cpus() > 0 && node.cpus_used() >= node.cpus();
  if (s == "IDLE") return {"IDLE", "IDLE", "IDLE", kIdle};
  if (s == "MIXED") return {"MIX", "MIXED", "MIXED", kMixed};
  if (s == "ALLOCATED") return {"ALLOC", "ALLOCATED", "ALLOCATED", kAlloc};
  if (s == "DOWN") {
    if (!node.reason().empty()) return {"DOWN", "DOWN", "DOWN", kDown};
    return {"DOWN*", "DOWN*", "DOWN+NOT_RESPONDING", kDown | kNoRespond};
  }
  if (s == "DRAINING") {
    if (!busy) return {"DRAIN", "DRAINED", "IDLE+DRAIN", kIdle | kDrain};
    return {"DRNG", "DRAINING", full ? "ALLOCATED+DRAIN" : "MIXED+DRAIN",
            (full ? kAlloc : kMixed) | kDrain};
  }
  if (s == "POWERING_UP") return {"IDLE#", "IDLE#", "IDLE+POWERING_UP", kIdle | kPoweringUp};
  if (s == "POWERING_DOWN") return {"IDLE%", "IDLE%", "IDLE+POWERING_DOWN", kIdle | kPoweringDown};
  return {"UNK*", "UNKNOWN*", "UNKNOWN+NOT_RESPONDING", kNoRespond};
}

std::string PartitionOf(const pb::NodeInfo& node) {
  return node.partition().empty() ? kStaticPartition : node.partition();
}

std::string Gres(int gpus) { return gpus > 0 ? fmt::format("gpu:{}", gpus) : "(null)"; }

bool HostLess(const std::string& a, const std::string& b) {
  auto split = [](const std::string& s) {
    size_t i = s.size();
    while (i > 0 && std::isdigit(static_cast<unsigned char>(s[i - 1]))) --i;
    int64_t n = -1;
    if (i < s.size() && s.size() - i < 18) n = std::stoll(s.substr(i));
    return std::make_pair(s.substr(0, i), n);
  };
  auto x = split(a), y = split(b);
  if (x != y) return x < y;
  return a < b;
}

// ---- Text ------------------------------------------------------------------------------------

std::string OrNull(const std::string& s) { return s.empty() ? "(null)" : s; }

std::pair<std::string, uint32_t> PrimaryGroup(uint32_t uid) {
  struct passwd pw, *pwp = nullptr;
  char buf[4096];
  if (getpwuid_r(uid, &pw, buf, sizeof buf, &pwp) != 0 || !pwp) return {std::to_string(uid), uid};
  gid_t gid = pw.pw_gid;
  struct group gr, *grp = nullptr;
  if (getgrgid_r(gid, &gr, buf, sizeof buf, &grp) != 0 || !grp) return {std::to_string(gid), gid};
  return {gr.gr_name, gid};
}

std::string TimeStamp(int64_t ms, std::string_view none) {
  return ms ? FormatTime(FromMillis(ms)) : std::string(none);
}

// ---- Listings --------------------------------------------------------------------------------

json JsonNumber(int64_t n) { return {{"set", true}, {"infinite", false}, {"number", n}}; }
json JsonUnset() { return {{"set", false}, {"infinite", false}, {"number", 0}}; }
json JsonInfinite() { return {{"set", false}, {"infinite", true}, {"number", 0}}; }

}  // namespace swell::cli::slurm
