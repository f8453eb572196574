#pragma once

// Parsers and formatters for the value syntaxes Slurm users already know: time limits, job
// array specs, output-file patterns and memory sizes. Begin times and time stamps are in
// common/local_time.h, host lists in common/hostlist.h.
//
// All functions are pure (no I/O, no clock reads) and thread-safe. Errors are InvalidArgument
// with a one-line message that quotes the input.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
// Not used here: src/head/head.cc and src/node/node.cc take their host lists from this header
// until they include common/hostlist.h themselves. Other files include common/hostlist.h.
#include "common/hostlist.h"
#include "common/status.h"

namespace swell {

// ---- Time limits (-t/--time) -------------------------------------------------------------------

// Parses a Slurm time limit. Accepted forms (fields are decimal digits):
//   M   M:S   H:M:S   D-H   D-H:M   D-H:M:S
//   UNLIMITED | INFINITE | -1 (case-insensitive)  -> kInfinite
// The first field is unbounded; hours after "D-" must be 0-23, later minute/second fields 0-59.
// Unlike Slurm (which rounds limits up to whole minutes) seconds are kept exactly.
// Rejects zero ("0", "0:00", ...), signs, spaces, empty input and values that overflow.
Result<Duration> ParseTimeLimit(std::string_view text);

// Formats as Slurm does: "HH:MM:SS", or "D-HH:MM:SS" from one day on; sub-second parts are
// truncated. kInfinite gives "UNLIMITED", a negative duration "INVALID".
// ParseTimeLimit(FormatDuration(d)) == d for every positive whole-second d.
std::string FormatDuration(Duration d);

// ---- Job arrays (-a/--array) -------------------------------------------------------------------

struct ArraySpec {
  std::vector<int64_t> indices;  // ascending, no duplicates, never empty after parsing
  int max_running = 0;           // the "%N" throttle; 0 = no throttle

  bool operator==(const ArraySpec&) const = default;
};

// Parses "LIST[%THROTTLE]" where LIST is comma-separated items "N", "A-B" or "A-B:STEP",
// e.g. "0-15", "0,6,16-32", "0-15:4", "1-100%10", "1,3,5%2". Indices must lie in
// [0, max_index]; STEP and THROTTLE must be >= 1. To bound memory a spec whose items add up to
// more than 4,194,304 indices (counting duplicates) is rejected.
Result<ArraySpec> ParseArraySpec(std::string_view text, int64_t max_index = 1'000'000);

// Compresses indices into ranges: {1,2,3,4,5,7,9,10,11} -> "1-5,7,9-11". The input need not be
// sorted or unique. Empty input gives "".
std::string FormatArrayIndices(const std::vector<int64_t>& indices);

// ---- Output file patterns (-o/-e/-i) -----------------------------------------------------------

struct PatternFields {
  int64_t job_id = 0;
  int64_t array_job_id = 0;              // the array's master job id (ignored for non-arrays)
  std::optional<int64_t> array_task_id;  // unset for a job that is not an array task
  std::string job_name;
  std::string node;  // short host name of the node running the batch script
  std::string user;
};

// The value Slurm substitutes for %a in a job that is not an array task (NO_VAL).
inline constexpr int64_t kNoArrayTaskId = 4294967294;

// Expands Slurm's filename pattern specifiers:
//   %j, %J job id      %A array master job id (the job id for a non-array job)
//   %a array task id (kNoArrayTaskId for a non-array job)
//   %x job name        %N node name      %u user name      %% a literal '%'
// A decimal width between '%' and the letter zero-pads numeric fields ("%5a" -> "00007");
// widths above 10 are clamped to 10, and the width is ignored for %x, %N and %u. Unknown
// specifiers (e.g. "%q", "%3q") and a trailing '%' are kept literally. As in Slurm, a pattern
// containing a backslash is not expanded at all: the backslashes are removed and the rest is
// returned as is ("out\\%j" -> "out%j").
std::string ExpandPattern(std::string_view pattern, const PatternFields& fields);

// Slurm's output file when a job names none: slurm-%j.out, an array task's slurm-%A_%a.out.
inline const char* DefaultOutputPattern(bool is_array) {
  return is_array ? "slurm-%A_%a.out" : "slurm-%j.out";
}

// ---- Memory (--mem) ----------------------------------------------------------------------------

// Parses a memory size into MiB: a non-negative integer with an optional unit K, M (default),
// G or T (case-insensitive, 1024-based), optionally followed by 'B' ("512", "100M", "2G",
// "4gb"). K is rounded up to whole MiB. "0" is returned as 0, which (as in Slurm) means "all
// the memory of each node". Rejects signs, fractions, unknown units and overflow.
Result<int64_t> ParseMemoryMb(std::string_view text);

}  // namespace swell
