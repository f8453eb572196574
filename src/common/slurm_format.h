#pragma once

// Parsers and formatters for the value syntaxes Slurm users already know: time limits, begin
// times, job array specs, output-file patterns, memory sizes and host lists.
//
// All functions are pure (no I/O, no clock reads: "now" is passed in) and thread-safe, except
// that the begin-time and FormatTime functions read the process time zone (TZ) through
// localtime_r/mktime. Errors are InvalidArgument with a one-line message that quotes the input.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
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

// ---- Begin times (--begin) ---------------------------------------------------------------------

// Parses a Slurm --begin value relative to `now`, in the process's local time zone. Forms
// (keywords are case-insensitive; a date and a time may be combined, separated by blanks, or
// by 'T' / '-' after a date, e.g. "2024-01-20T12:34", "01/20-12:34", "tomorrow noon"):
//   now | now+N[unit] | now-N[unit]    unit: second(s) (default), minute(s), hour(s), day(s),
//                                      week(s); blanks are allowed around '+' and the unit
//   HH:MM[:SS] [AM|PM]                 today if still ahead of `now`, otherwise tomorrow
//   midnight | noon | elevenses | fika | teatime     00:00, 12:00, 11:00, 15:00, 16:00
//   today | tomorrow                   date only (time defaults to 00:00:00)
//   YYYY-MM-DD                         explicit date
//   MM/DD[/YY] | MM.DD[.YY] | MMDD[YY] without a year: this year if still ahead, else next
//   uts<seconds since the epoch>       an absolute instant (as Slurm's "uts" form)
// "now" cannot be combined with other items. Dates that do not exist (02/30) are rejected.
// The result has whole-second precision except for the "now" forms, which keep `now`'s
// milliseconds. A result in the past is allowed (the job is simply eligible at once).
Result<Time> ParseBeginTime(std::string_view text, Time now);

// "YYYY-MM-DDTHH:MM:SS" in local time (sub-seconds truncated); kNever gives "Unknown".
std::string FormatTime(Time t);

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

// ---- Memory (--mem) ----------------------------------------------------------------------------

// Parses a memory size into MiB: a non-negative integer with an optional unit K, M (default),
// G or T (case-insensitive, 1024-based), optionally followed by 'B' ("512", "100M", "2G",
// "4gb"). K is rounded up to whole MiB. "0" is returned as 0, which (as in Slurm) means "all
// the memory of each node". Rejects signs, fractions, unknown units and overflow.
Result<int64_t> ParseMemoryMb(std::string_view text);

// ---- Host lists (SLURM_JOB_NODELIST) -----------------------------------------------------------

// Compresses host names into Slurm's hostlist form: names that share a prefix and end in a
// number are bracketed, e.g. {node1,node2,node3,node5,login} -> "login,node[1-3,5]". Zero
// padding is kept ("n01,n02,n03" -> "n[01-03]"); numbers of different padding never share a
// range. The output is sorted (prefix, then number) and free of duplicates; a prefix with a
// single numbered host is written plainly ("node7"). Empty input gives "".
std::string CompressHostList(std::vector<std::string> names);

// Slurm's SLURM_TASKS_PER_NODE: counts in node order, runs of equal counts as "N(xK)":
// {2, 2, 2, 1} -> "2(x3),1".
std::string CompressCounts(const std::vector<int>& counts);

// Expands a hostlist back into names, in the order written (scontrol show hostnames):
// "n[1-3,5],login" -> {n1, n2, n3, n5, login}. A bracket holds comma-separated numbers and
// ranges A-B (A <= B); a range keeps the zero padding of A ("n[08-10]" -> n08, n09, n10). Text
// may follow a bracket and an item may have several ("r[1-2]n[1-2]" -> r1n1, r1n2, r2n1, r2n2).
// Empty items are skipped. Errors (InvalidArgument quoting the input): unbalanced or nested
// brackets, a bad range, and lists of more than 1,000,000 names.
Result<std::vector<std::string>> ExpandHostList(std::string_view text);

// `names` in the order of their compressed hostlist, as Slurm lists an allocation's nodes
// (SLURM_JOB_NODELIST, SLURM_TASKS_PER_NODE, rank blocks): sorted by prefix, then number.
std::vector<std::string> HostListOrder(const std::vector<std::string>& names);

}  // namespace swell
