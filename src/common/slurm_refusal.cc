#include "common/slurm_refusal.h"

namespace swell::slurm_refusal {

namespace {

constexpr std::string_view kDetailOpen = " (";

}  // namespace

std::string Encode(const Refusal& r) {
  std::string out;
  for (const auto& line : r.before) out += line + "\n";
  out += r.reason;
  if (!r.detail.empty()) out += std::string(kDetailOpen) + r.detail + ")";
  return out;
}

Refusal Decode(std::string_view message) {
  Refusal r;
  size_t nl;
  while ((nl = message.find('\n')) != std::string_view::npos) {
    r.before.emplace_back(message.substr(0, nl));
    message.remove_prefix(nl + 1);
  }
  // Only Slurm's own reasons carry an explanation after them.
  for (std::string_view reason :
       {kTooManyCpus, kNodeConfig, kInvalidGres, kInvalidNodeName, kTooLong}) {
    if (message.starts_with(reason) && message.size() > reason.size() + kDetailOpen.size() &&
        message.substr(reason.size(), kDetailOpen.size()) == kDetailOpen && message.ends_with(")")) {
      r.reason = std::string(reason);
      size_t from = reason.size() + kDetailOpen.size();
      r.detail = std::string(message.substr(from, message.size() - from - 1));
      return r;
    }
  }
  r.reason = std::string(message);
  return r;
}

std::vector<std::string> SlurmLines(const Refusal& r, std::string_view failed_words) {
  std::vector<std::string> lines = r.before;
  if (r.reason == kInvalidGres)
    lines.push_back(r.reason);
  else
    lines.push_back(std::string(failed_words) + r.reason);
  return lines;
}

}  // namespace swell::slurm_refusal
