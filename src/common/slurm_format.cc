#include "common/slurm_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "common/text.h"

namespace swell {
namespace {

// ---- Time limits ----

constexpr char kTimeLimitForms[] = "accepted: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S or UNLIMITED";

Status BadTimeLimit(std::string_view text, std::string_view why) {
  return InvalidArgument(
      fmt::format("invalid time limit '{}': {} ({})", text, why, kTimeLimitForms));
}

// ---- Array specs ----

constexpr int64_t kMaxArrayExpansion = int64_t{1} << 22;

Status BadArray(std::string_view text, std::string_view why) {
  return InvalidArgument(fmt::format("invalid array spec '{}': {}", text, why));
}

// ---- Patterns ----

constexpr int kMaxPatternWidth = 10;

}  // namespace

Result<Duration> ParseTimeLimit(std::string_view text) {
  if (text.empty()) return BadTimeLimit(text, "empty value");
  if (EqualsIgnoreCase(text, "UNLIMITED") || EqualsIgnoreCase(text, "INFINITE") || text == "-1") {
    return kInfinite;
  }
  if (text[0] == '-' || text[0] == '+') return BadTimeLimit(text, "signs are not allowed");

  int64_t days = 0;
  bool has_days = false;
  std::string_view clock = text;
  if (size_t dash = text.find('-'); dash != std::string_view::npos) {
    std::optional<int64_t> d = ParseDigits(text.substr(0, dash));
    if (!d) return BadTimeLimit(text, fmt::format("'{}' is not a day count", text.substr(0, dash)));
    days = *d;
    has_days = true;
    clock = text.substr(dash + 1);
  }
  std::vector<std::string_view> fields = Split(clock, ':');
  if (fields.size() > 3) return BadTimeLimit(text, "too many ':' fields");
  std::vector<int64_t> values;
  for (std::string_view field : fields) {
    if (field.empty()) return BadTimeLimit(text, "empty field");
    std::optional<int64_t> v = ParseDigits(field);
    if (!v) {
      return BadTimeLimit(text, AllDigits(field) ? fmt::format("'{}' is too large", field)
                                                 : fmt::format("'{}' is not a number", field));
    }
    values.push_back(*v);
  }

  // Which field is which depends on the form; only the first field is unbounded.
  int64_t hours = 0, minutes = 0, seconds = 0;
  if (has_days) {
    hours = values[0];
    if (hours > 23) return BadTimeLimit(text, "hours after 'D-' must be 0-23");
    if (values.size() > 1) minutes = values[1];
    if (values.size() > 2) seconds = values[2];
  } else if (values.size() == 1) {
    minutes = values[0];
  } else if (values.size() == 2) {
    minutes = values[0];
    seconds = values[1];
  } else {
    hours = values[0];
    minutes = values[1];
    seconds = values[2];
  }
  bool minutes_bounded = has_days || values.size() == 3;
  if (minutes_bounded && minutes > 59) return BadTimeLimit(text, "minutes must be 0-59");
  if (seconds > 59) return BadTimeLimit(text, "seconds must be 0-59");

  int64_t total = 0;
  int64_t part = 0;
  bool overflow =
      __builtin_mul_overflow(days, 86400, &total) || __builtin_mul_overflow(hours, 3600, &part) ||
      __builtin_add_overflow(total, part, &total) || __builtin_mul_overflow(minutes, 60, &part) ||
      __builtin_add_overflow(total, part, &total) || __builtin_add_overflow(total, seconds, &total);
  // A finite limit must stay below kInfinite once converted to milliseconds.
  if (overflow || total > (kInfinite.count() - 1) / 1000) return BadTimeLimit(text, "too large");
  if (total == 0) return BadTimeLimit(text, "must be greater than zero");
  return Duration(total * 1000);
}

std::string FormatDuration(Duration d) {
  if (d == kInfinite) return "UNLIMITED";
  if (d.count() < 0) return "INVALID";
  int64_t total = d.count() / 1000;
  int64_t days = total / 86400;
  int64_t hours = total / 3600 % 24;
  int64_t minutes = total / 60 % 60;
  int64_t seconds = total % 60;
  if (days > 0) return fmt::format("{}-{:02}:{:02}:{:02}", days, hours, minutes, seconds);
  return fmt::format("{:02}:{:02}:{:02}", hours, minutes, seconds);
}

Result<ArraySpec> ParseArraySpec(std::string_view text, int64_t max_index) {
  if (text.empty()) return BadArray(text, "empty value");
  ArraySpec spec;
  std::string_view list = text;
  if (size_t percent = text.find('%'); percent != std::string_view::npos) {
    // As Slurm (checked against 22.05): the throttle is read as atoi reads it, its leading
    // digits; none, 0 or a negative number means no throttle ("1-5%", "1-5%x", "1-5%2x" is 2).
    std::string_view throttle = text.substr(percent + 1);
    size_t digits = 0;
    while (digits < throttle.size() && throttle[digits] >= '0' && throttle[digits] <= '9') ++digits;
    std::optional<int64_t> n = digits > 0 ? ParseDigits(throttle.substr(0, digits)) : 0;
    if (!n || *n > std::numeric_limits<int>::max())
      return BadArray(text, fmt::format("throttle '{}' is too large", throttle));
    spec.max_running = static_cast<int>(*n);
    list = text.substr(0, percent);
  }
  if (list.empty()) return BadArray(text, "no indices");

  auto index = [&](std::string_view s) -> Result<int64_t> {
    if (!s.empty() && s[0] == '-') return BadArray(text, "negative indices are not allowed");
    std::optional<int64_t> v = ParseDigits(s);
    if (!v) return BadArray(text, fmt::format("'{}' is not a non-negative integer", s));
    if (*v > max_index) {
      return BadArray(text, fmt::format("index {} exceeds the maximum {}", *v, max_index));
    }
    return *v;
  };

  struct IndexRange {
    int64_t first, last, step;
  };
  std::vector<IndexRange> ranges;
  int64_t expanded = 0;
  for (std::string_view item : Split(list, ',')) {
    if (item.empty()) return BadArray(text, "empty item in the list");
    if (item[0] == '-') return BadArray(text, "negative indices are not allowed");
    std::string_view range = item;
    int64_t step = 1;
    if (size_t colon = item.find(':'); colon != std::string_view::npos) {
      std::string_view step_text = item.substr(colon + 1);
      range = item.substr(0, colon);
      if (!step_text.empty() && step_text[0] == '-') {
        return BadArray(text, "the step after ':' must be at least 1");
      }
      std::optional<int64_t> s = ParseDigits(step_text);
      if (!s) return BadArray(text, fmt::format("step '{}' is not an integer", step_text));
      if (*s == 0) return BadArray(text, "the step after ':' must be at least 1");
      if (range.find('-') == std::string_view::npos) {
        return BadArray(text, fmt::format("a step needs a range, as in 'A-B:{}'", step_text));
      }
      step = *s;
    }
    int64_t first = 0, last = 0;
    if (size_t dash = range.find('-'); dash != std::string_view::npos) {
      SWELL_ASSIGN_OR_RETURN(first, index(range.substr(0, dash)));
      SWELL_ASSIGN_OR_RETURN(last, index(range.substr(dash + 1)));
      if (last < first) {
        return BadArray(text, fmt::format("range '{}' ends before it starts", range));
      }
    } else {
      SWELL_ASSIGN_OR_RETURN(first, index(range));
      last = first;
    }
    expanded += (last - first) / step + 1;
    if (expanded > kMaxArrayExpansion) {
      return BadArray(text, fmt::format("expands to more than {} indices", kMaxArrayExpansion));
    }
    ranges.push_back({first, last, step});
  }
  // Expanded only once the whole spec is known to be valid and small enough.
  spec.indices.reserve(static_cast<size_t>(expanded));
  for (const IndexRange& r : ranges) {
    for (int64_t i = r.first;; i += r.step) {
      spec.indices.push_back(i);
      if (r.last - i < r.step) break;  // the next step would pass `last` (and might overflow)
    }
  }
  std::sort(spec.indices.begin(), spec.indices.end());
  spec.indices.erase(std::unique(spec.indices.begin(), spec.indices.end()), spec.indices.end());
  return spec;
}

std::string FormatArrayIndices(const std::vector<int64_t>& indices) {
  std::vector<int64_t> sorted = indices;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::string out;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += j == i ? fmt::format("{}", sorted[i]) : fmt::format("{}-{}", sorted[i], sorted[j]);
    i = j + 1;
  }
  return out;
}

std::string ExpandPattern(std::string_view pattern, const PatternFields& fields) {
  std::string out;
  if (pattern.find('\\') != std::string_view::npos) {
    for (char c : pattern) {
      if (c != '\\') out += c;
    }
    return out;
  }
  size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] != '%') {
      out += pattern[i++];
      continue;
    }
    if (i + 1 < pattern.size() && pattern[i + 1] == '%') {
      out += '%';
      i += 2;
      continue;
    }
    size_t j = i + 1;
    int width = 0;
    while (j < pattern.size() && IsDigit(pattern[j])) {
      width = std::min(width * 10 + (pattern[j] - '0'), kMaxPatternWidth);
      ++j;
    }
    std::optional<int64_t> number;
    const std::string* text = nullptr;
    char spec = j < pattern.size() ? pattern[j] : '\0';
    switch (spec) {
      case 'j':
      case 'J':
        number = fields.job_id;
        break;
      case 'A':
        number = fields.array_task_id ? fields.array_job_id : fields.job_id;
        break;
      case 'a':
        number = fields.array_task_id.value_or(kNoArrayTaskId);
        break;
      case 'x':
        text = &fields.job_name;
        break;
      case 'N':
        text = &fields.node;
        break;
      case 'u':
        text = &fields.user;
        break;
      default:
        // Unknown specifier or a trailing '%': keep "%<width>" and go on with the next char.
        out.append(pattern.substr(i, j - i));
        i = j;
        continue;
    }
    out += number ? PadNumber(*number, static_cast<size_t>(width)) : *text;
    i = j + 1;
  }
  return out;
}

Result<int64_t> ParseMemoryMb(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument(fmt::format(
        "invalid memory size '{}': {} (expected a non-negative integer with an optional unit "
        "K, M, G or T; the default is M)",
        text, why));
  };
  if (text.empty()) return bad("empty value");
  size_t end = 0;
  while (end < text.size() && IsDigit(text[end])) ++end;
  if (end == 0) {
    return bad(text[0] == '-' ? "negative sizes are not allowed" : "no number");
  }
  std::optional<int64_t> n = ParseDigits(text.substr(0, end));
  if (!n) return bad("too large");
  std::string_view unit = text.substr(end);
  if (unit.size() == 2 && ToLower(unit[1]) == 'b') unit.remove_suffix(1);
  int64_t mb = 0;
  if (unit.empty() || EqualsIgnoreCase(unit, "M")) {
    mb = *n;
  } else if (EqualsIgnoreCase(unit, "K")) {
    mb = *n / 1024 + (*n % 1024 != 0 ? 1 : 0);
  } else if (EqualsIgnoreCase(unit, "G")) {
    if (__builtin_mul_overflow(*n, int64_t{1024}, &mb)) return bad("too large");
  } else if (EqualsIgnoreCase(unit, "T")) {
    if (__builtin_mul_overflow(*n, int64_t{1024} * 1024, &mb)) return bad("too large");
  } else {
    return bad(fmt::format("unknown unit '{}'", text.substr(end)));
  }
  return mb;
}

}  // namespace swell
