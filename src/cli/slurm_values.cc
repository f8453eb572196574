#include "cli/slurm_values.h"

#include <fmt/format.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "common/text.h"

namespace swell::cli {
namespace {

constexpr char kBadGres[] = "refused: Invalid generic resource (gres) specification";

// strtol over a copy (string_views are not terminated); `rest` is what it left.
long StrToL(std::string_view text, std::string* rest, bool* overflow) {
  std::string copy(text);
  char* end = nullptr;
  errno = 0;
  long value = std::strtol(copy.c_str(), &end, 10);
  *overflow = errno == ERANGE;
  *rest = end == copy.c_str() ? copy : std::string(end);
  if (end == copy.c_str()) *rest = "\x01" + copy;  // no digits: never "consumed"
  return value;
}

bool IsWhitespace(std::string_view s) {
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  return true;
}

// sig_name2num: a number, or a name with or without SIG, any case.
int SignalNumber(std::string_view text) {
  std::string rest;
  bool overflow = false;
  long n = StrToL(text, &rest, &overflow);
  if (rest.empty() || rest[0] != '\x01') return IsWhitespace(rest) ? static_cast<int>(n) : 0;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  if (text.size() >= 3 && EqualsIgnoreCase(text.substr(0, 3), "SIG")) text.remove_prefix(3);
  for (int sig = 1; sig < NSIG; ++sig) {
    const char* name = sigabbrev_np(sig);
    if (name == nullptr) continue;
    size_t len = std::strlen(name);
    if (text.size() >= len && EqualsIgnoreCase(text.substr(0, len), name) &&
        IsWhitespace(text.substr(len)))
      return sig;
  }
  return 0;
}

}  // namespace

Result<int> SlurmInt(std::string_view option, std::string_view text, bool positive) {
  std::string rest;
  bool overflow = false;
  long value = StrToL(text, &rest, &overflow);
  if (!rest.empty() || value < 0 || (positive && value <= 0))
    return InvalidArgument(
        fmt::format("error: Invalid numeric value \"{}\" for {}.", text, option));
  if (overflow || value > INT_MAX)
    return InvalidArgument(
        fmt::format("error: Numeric argument ({}) to big for {}.", LONG_MAX, option));
  return static_cast<int>(value);
}

std::optional<int64_t> SlurmMegabytes(std::string_view text) {
  std::string rest;
  bool overflow = false;
  long value = StrToL(text, &rest, &overflow);
  if (overflow || value < 0 || (!rest.empty() && rest[0] == '\x01')) return std::nullopt;
  if (rest.empty()) return value;
  char unit = ToUpper(rest[0]);
  bool ends = rest.size() == 1 || (rest.size() == 2 && ToUpper(rest[1]) == 'B');
  if (!ends) return std::nullopt;
  // A size past int64 in megabytes is refused, not wrapped (fuzz/sbatch_fuzzer found
  // "30720020480000000G" overflowing).
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  switch (unit) {
    case 'K':
      return value / 1024 + (value % 1024 != 0);
    case 'M':
      return value;
    case 'G':
      if (value > kMax / 1024) return std::nullopt;
      return int64_t{value} * 1024;
    case 'T':
      if (value > kMax / (1024 * 1024)) return std::nullopt;
      return int64_t{value} * 1024 * 1024;
    default:
      return std::nullopt;
  }
}

std::optional<Duration> SlurmTimeLimit(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text == "-1" || EqualsIgnoreCase(text, "INFINITE") || EqualsIgnoreCase(text, "UNLIMITED"))
    return kInfinite;
  if (text[0] == '-') return std::nullopt;  // a negative day count (Slurm makes it negative)
  // Slurm's _is_valid_timespec: digits, at most one '-' (before any ':') and two ':', and
  // enough numbers for the separators.
  int numbers = 0, dashes = 0, colons = 0;
  bool in_number = false;
  for (char c : text) {
    if (IsDigit(c)) {
      if (!in_number) ++numbers;
      in_number = true;
    } else if (c == '-') {
      in_number = false;
      ++dashes;
      if (colons) return std::nullopt;
    } else if (c == ':') {
      in_number = false;
      ++colons;
    } else {
      return std::nullopt;
    }
  }
  if (numbers == 0 || dashes > 1 || colons > 2) return std::nullopt;
  if (colons > 0 && numbers < colons + 1 + dashes) return std::nullopt;
  // The fields; a missing one (as in "1-" or ":5") reads as 0, as sscanf leaves it. One past
  // INT_MAX makes the whole past INT_MAX: refused, as is the sum below.
  auto field = [](std::string_view part) -> std::optional<int64_t> {
    if (part.empty()) return 0;
    auto v = ParseDigits(part);
    if (!v || *v > INT_MAX) return std::nullopt;
    return v;
  };
  std::vector<int64_t> f;
  std::string_view clock = text;
  int64_t days = 0;
  if (dashes) {
    size_t dash = text.find('-');
    auto d = field(text.substr(0, dash));
    if (!d) return std::nullopt;
    days = *d;
    clock = text.substr(dash + 1);
  }
  for (std::string_view part : Split(clock, ':')) {
    auto v = field(part);
    if (!v) return std::nullopt;
    f.push_back(*v);
  }
  int64_t h = 0, m = 0, s = 0;
  if (dashes) {
    h = f.size() > 0 ? f[0] : 0;
    m = f.size() > 1 ? f[1] : 0;
    s = f.size() > 2 ? f[2] : 0;
  } else if (f.size() == 3) {
    h = f[0], m = f[1], s = f[2];
  } else {
    m = f[0];
    s = f.size() > 1 ? f[1] : 0;
  }
  int64_t total = days * 86400 + h * 3600 + m * 60 + s;
  if (total > INT_MAX) return std::nullopt;
  if (total == 0) return kInfinite;
  return Duration(total * 1000);
}

std::optional<SignalSpec> ParseSignalSpec(std::string_view text, bool sbatch) {
  SignalSpec out;
  auto flag = [&](char f) {
    if (!text.empty() && ToUpper(text.front()) == f) {
      text.remove_prefix(1);
      return true;
    }
    return false;
  };
  flag('R');
  if (sbatch) {
    out.batch_only = flag('B');
    flag('R');
  }
  if (!text.empty() && text.front() == ':') text.remove_prefix(1);
  size_t at = text.find('@');
  int sig = SignalNumber(text.substr(0, at));
  if (sig < 1 || sig > 0xffff) return std::nullopt;
  out.signal = sig;
  if (at == std::string_view::npos) return out;
  std::string rest;
  bool overflow = false;
  long secs = StrToL(text.substr(at + 1), &rest, &overflow);
  if (!rest.empty() && rest[0] == '\x01') secs = 0, rest = rest.substr(1);
  if (overflow || secs < 0 || secs > 0xffff || !rest.empty()) return std::nullopt;
  out.seconds = static_cast<int>(secs);
  return out;
}

std::optional<std::string> ParseMailType(std::string_view text) {
  static const char* const kTypes[] = {
      "ARRAY_TASKS", "BEGIN",      "END",           "FAIL",          "INVALID_DEPEND",
      "REQUEUE",     "ALL",        "STAGE_OUT",     "TIME_LIMIT",    "TIME_LIMIT_90",
      "TIME_LIMIT_80", "TIME_LIMIT_50"};
  std::string out;
  for (std::string_view word : Split(text, ',')) {
    if (word.empty()) continue;
    if (EqualsIgnoreCase(word, "NONE")) return std::string("NONE");
    for (const char* type : kTypes) {
      if (EqualsIgnoreCase(word, type)) {
        out += (out.empty() ? "" : ",") + std::string(type);
        break;
      }
    }
  }
  if (out.empty()) return std::nullopt;
  return out;
}

Result<int> ParseGpuCount(std::string_view text) {
  std::vector<std::string_view> parts = Split(text, ':');
  if (parts.size() > 2 || (parts.size() == 2 && parts[0].empty())) return InvalidArgument(kBadGres);
  auto n = ParseDigits(parts.back());
  if (!n || *n > INT_MAX) return InvalidArgument(kBadGres);
  return static_cast<int>(*n);
}

Result<int> ParseGresGpus(std::string_view text) {
  if (EqualsIgnoreCase(text, "none")) return 0;
  int gpus = 0;
  for (std::string_view item : Split(text, ',')) {
    if (item.starts_with("gres:") || item.starts_with("gres/")) item.remove_prefix(5);
    std::vector<std::string_view> parts = Split(item, ':');
    if (parts[0] != "gpu" || parts.size() > 3) return InvalidArgument(kBadGres);
    int n = 1;
    if (parts.size() > 1) {
      std::string_view last = parts.back();
      auto count = ParseDigits(last);
      if (count && *count <= INT_MAX) {
        n = static_cast<int>(*count);
      } else if (parts.size() == 3 || last.empty()) {
        return InvalidArgument(kBadGres);  // gpu:type:count with a bad count
      }
    }
    gpus += n;
  }
  return gpus;
}

Result<std::vector<std::string>> ConstraintFeatures(std::string_view text) {
  std::vector<std::string> out;
  std::string word;
  bool in_count = false;
  auto bad = [] { return InvalidArgument("refused: Invalid feature specification"); };
  auto flush = [&]() -> bool {
    if (word.empty()) return false;
    out.push_back(word);
    word.clear();
    return true;
  };
  for (char c : text) {
    if (c == '&' || c == '|' || c == ',' || c == '[' || c == ']' || c == '(' || c == ')') {
      flush();
      in_count = false;
    } else if (c == '*') {
      if (!flush()) return bad();
      in_count = true;
    } else if (in_count) {
      if (!IsDigit(c)) return bad();
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
               c == '.' || c == '=' || c == ':' || c == '/') {
      word += c;
    } else {
      return bad();
    }
  }
  flush();
  if (out.empty()) return bad();
  return out;
}

}  // namespace swell::cli
