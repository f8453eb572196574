#include "cli/scontrol_update.h"

#include <cstdlib>
#include <cstring>

#include "cli/submit_options.h"
#include "common/local_time.h"
#include "common/slurm_format.h"
#include "common/text.h"

namespace swell::cli::slurm {
namespace {

// Slurm's xstrncasecmp(tag, key, MAX(len, min)) == 0: `tag` abbreviates `key` with at least
// `min` letters (a longer tag never matches).
bool Key(std::string_view tag, std::string_view key, size_t min) {
  size_t n = std::max(tag.size(), min);
  if (tag.size() > key.size() || n > key.size()) return false;
  return EqualsIgnoreCase(tag, key.substr(0, tag.size())) && tag.size() >= min;
}

Status Error(const std::string& message) { return InvalidArgument("scontrol: error: " + message); }

Status Aborted(const std::string& first) { return InvalidArgument(first + "\nRequest aborted"); }

}  // namespace

Result<JobUpdateArgs> ParseJobUpdate(const std::vector<std::string>& words, Time now) {
  JobUpdateArgs out;
  int changes = 0;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    std::string tag, val;
    char sign = 0;  // "TimeLimit+=5" / "TimeLimit-=5"
    if (auto eq = word.find('='); eq != std::string::npos) {
      tag = word.substr(0, eq);
      val = word.substr(eq + 1);
      if (!tag.empty() && (tag.back() == '+' || tag.back() == '-')) {
        sign = tag.back();
        tag.pop_back();
      }
    } else if (Key(word, "Nice", 2)) {
      out.update.set_nice(100);  // "Nice" alone: Slurm's default adjustment
      ++changes;
      continue;
    } else if (i + 1 < words.size()) {
      tag = word;
      val = words[++i];
    } else {
      return Aborted("Invalid input: " + word);
    }
    if (Key(tag, "JobId", 3)) {
      out.job_ids = SplitNonEmpty(val, ',');
      continue;
    }
    if (Key(tag, "Comment", 3)) {
      out.update.set_comment(val);
    } else if (Key(tag, "TimeLimit", 5)) {
      if (!val.empty() && (val[0] == '+' || val[0] == '-')) {
        if (sign) return Error("Invalid syntax, variations of +=- are not accepted.");
        sign = val[0];
        val = val.substr(1);
      }
      auto limit = ParseTimeLimit(val);
      if (!limit.ok()) return Error("Invalid TimeLimit value");
      int64_t ms = *limit == kInfinite ? 0 : static_cast<int64_t>(limit->count());
      if (sign) {
        if (out.job_ids.empty())
          return Error("JobId must precede TimeLimit increment or decrement");
        if (ms == 0) return Error("Invalid TimeLimit value");
        out.time_delta_ms = sign == '+' ? ms : -ms;
        sign = 0;
      } else {
        out.update.set_time_limit_ms(ms);
      }
    } else if (Key(tag, "Nice", 2)) {
      char* end = nullptr;
      long long n = std::strtoll(val.c_str(), &end, 10);
      if (n > 2147483645LL || n < -2147483645LL)
        return Error("Nice value out of range (+/- 2147483645). Value ignored");
      out.update.set_nice(static_cast<int32_t>(n));
    } else if (Key(tag, "NumCPUs", 6)) {
      // "N" or "N-M" (Slurm keeps M as a maximum; swell takes N).
      char* end = nullptr;
      long n = std::strtol(val.c_str(), &end, 10);
      long m = 0;
      if (end && *end == '-') m = std::strtol(end + 1, &end, 10);
      if (val.empty() || !end || *end != '\0' || n <= 0 || (m && m < n) || n > 1000000)
        return Error("Invalid NumCPUs value: " + val);
      out.update.set_num_cpus(static_cast<int32_t>(n));
    } else if (Key(tag, "Requeue", 4)) {
      char* end = nullptr;
      long n = std::strtol(val.c_str(), &end, 10);
      if (val.empty() || *end != '\0' || n < 0 || n > 65535)
        return Error("Invalid Requeue value: " + val);
      out.update.set_requeue(n != 0);
    } else if (Key(tag, "Partition", 2)) {
      out.update.set_partition(val);
    } else if (Key(tag, "Name", 2) || Key(tag, "JobName", 4)) {
      out.update.set_name(val);
    } else if (Key(tag, "Dependency", 1)) {
      out.update.set_set_dependency(true);
      if (!val.empty()) {
        auto dep = ParseDependency(val);
        if (!dep.ok()) {
          out.bad_dependency = true;
        } else {
          out.update.mutable_dependency()->set_any(dep->any);
          for (const auto& t : dep->terms) {
            auto* term = out.update.mutable_dependency()->add_terms();
            term->set_type(t.type);
            for (const auto& id : t.job_ids) term->add_job_ids(id);
          }
        }
      }
    } else if (Key(tag, "EligibleTime", 2) || Key(tag, "StartTime", 2)) {
      // Slurm counts a start time it cannot read as no change.
      auto t = ParseBeginTime(val, now);
      if (!t.ok()) continue;
      out.update.set_begin_time_ms(ToMillis(*t));
    } else {
      return Aborted("Update of this parameter is not supported: " + word);
    }
    if (sign) return Error("Option " + tag + " does not accept [+|-]= syntax");
    ++changes;
  }
  if (changes == 0) return InvalidArgument("No changes specified");
  if (out.job_ids.empty()) return Error("No job ID specified");
  return out;
}

}  // namespace swell::cli::slurm
