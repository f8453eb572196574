#pragma once

// The options of `swell submit` / `sbatch` / `swell run`, parsed from the command line and from
// "#SBATCH" / "#SWELL" directive lines of a batch script, with sbatch's syntax and semantics:
//
//  * "--opt=value", "--opt value", "-Xvalue", "-X value"; bundled short flags ("-HQ");
//    unambiguous prefixes of long options ("--job" for "--job-name"), as getopt_long allows.
//  * Parsing stops at the first non-option token (or after "--"): that token and everything
//    after it are positional (the script and its arguments) and never parsed as options.
//  * An option given twice keeps the last value.
//  * Values are validated here (InvalidArgument, one line naming the option); whether e.g. a
//    dependency's job exists is for the head to check.
//
// All functions are pure apart from reading the process time zone for --begin.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/slurm_format.h"
#include "common/status.h"

namespace swell::cli {

struct DependencyTerm {
  std::string type;                  // afterok, afterany, afternotok, after or singleton
  std::vector<std::string> job_ids;  // "123" or "123_4" (array task); empty for singleton

  bool operator==(const DependencyTerm&) const = default;
};

struct Dependency {
  std::vector<DependencyTerm> terms;
  bool any = false;  // true when the terms were joined by '?' (any may hold), else ',' (all)

  bool operator==(const Dependency&) const = default;
};

// Parses a --dependency value: "type:id[:id...][,type:id...]" or the same joined by '?'.
// Types are case-insensitive and stored lower-case; a bare job id means "afterany:<id>" (Slurm's
// legacy form). Rejects unknown or unsupported types (aftercorr, afterburstbuffer, expand,
// "after:id+minutes"), missing or non-numeric ids, job id 0, "singleton:<id>", empty terms and
// mixing ',' with '?'.
Result<Dependency> ParseDependency(std::string_view text);

// Checks an --export value: ALL | NONE | NIL | [ALL,]VAR[=value][,VAR[=value]...]. NONE and NIL
// must stand alone; VAR must be a shell identifier.
Status ValidateExportSpec(std::string_view text);

struct SubmitOptions {
  std::optional<std::string> job_name;       // -J, --job-name
  std::optional<int> ntasks;                 // -n, --ntasks (>= 1)
  std::optional<int> ntasks_per_node;        // --ntasks-per-node (>= 1)
  std::optional<std::string> nodelist;       // -w, --nodelist (steps: nodes of the allocation)
  std::optional<std::string> exclude;        // -x, --exclude (steps: nodes of the allocation)
  bool exclusive = false;                    // --exclusive (nodes are never shared here)
  bool label = false;                        // -l, --label (srun: prefix lines with the rank)
  bool kill_on_bad_exit = false;             // -K, --kill-on-bad-exit (srun)
  std::optional<std::string> mpi;            // --mpi (srun; accepted: ranks get PMI from
                                             // mpirun, not srun)
  std::optional<int> cpus_per_task;          // -c, --cpus-per-task (>= 1)
  std::optional<int> nodes_min, nodes_max;   // -N, --nodes "2" (min = max = 2) or "2-4" (>= 1)
  std::optional<int64_t> mem_mb;             // --mem (0 = all memory of each node)
  std::optional<Duration> time_limit;        // -t, --time (kInfinite for UNLIMITED)
  std::optional<std::string> output, error;  // -o, --output ; -e, --error (patterns as written)
  std::optional<std::string> input;          // -i, --input
  std::optional<ArraySpec> array;            // -a, --array
  std::optional<std::string> array_text;     // the --array spec as written
  std::optional<Dependency> dependency;      // -d, --dependency
  std::optional<std::string> chdir;          // -D, --chdir
  std::optional<std::string> export_spec;    // --export, validated by ValidateExportSpec
  std::optional<std::string> wrap;           // --wrap
  bool requeue = false;                      // --requeue     (at most one of the two is set;
  bool no_requeue = false;                   // --no-requeue   the last one given wins)
  std::optional<int> gpus;                   // -G, --gpus "[type:]N" (>= 0; the type is dropped)
  std::optional<std::string> begin_text;     // -b, --begin as written
  std::optional<Time> begin;                 // --begin parsed against `now`
  std::optional<std::string> partition;      // -p, --partition (stored only)
  std::optional<int> nice;                   // --nice[=N]; "--nice" alone means 100
  std::optional<std::string> comment;        // --comment
  bool hold = false;                         // -H, --hold
  bool quiet = false;                        // -Q, --quiet
  bool parsable = false;                     // --parsable (print only the job id)
  bool wait = false;                         // -W, --wait (return when the job ends)
  bool help = false;                         // -h, --help (the caller prints SubmitUsage())
  // The script path and its arguments (or the command of `swell run`), passed through untouched.
  std::vector<std::string> positional;

  bool operator==(const SubmitOptions&) const = default;
};

// Parses argv-style tokens (without the program and sub-command names). Unknown options give
// InvalidArgument("unknown option '--foo'"); ambiguous prefixes name the candidates. Also
// rejects --wrap together with a script.
Result<SubmitOptions> ParseSubmitArgs(const std::vector<std::string>& args, Time now);

// One word of a directive line, with its 1-based line number in the script.
struct DirectiveToken {
  std::string text;
  int line = 0;

  bool operator==(const DirectiveToken&) const = default;
};

// Extracts the directives of a batch script: lines starting (in column 1) with "#SBATCH" or
// "#SWELL" followed by a blank or the end of the line. Like sbatch, scanning stops at the first
// line that is neither blank nor a comment (the shebang is a comment). Each directive line is
// split shell-like: blanks separate words, '...' and "..." quote, backslash escapes, no
// expansion; a '#' that starts a word begins a trailing comment. Both prefixes may be mixed;
// tokens are returned in file order. An unterminated quote is an error
// "<script_name>:<line>: ...".
Result<std::vector<DirectiveToken>> ExtractDirectives(std::string_view script,
                                                      std::string_view script_name = "script");

// The effective options of a batch submission: the directives parsed as one argument list (so
// later directives override earlier ones), then every option the command line set overrides
// them (sbatch semantics); flags set on either side stay set, except that a command-line
// --requeue/--no-requeue replaces the directives' choice. positional comes from `cli`.
// Errors name the directive's line: "job.sh:3: --time: invalid time limit '1:xx' (...)".
// Directives must be options only: a non-option word is an error.
Result<SubmitOptions> MergeDirectives(const std::vector<DirectiveToken>& directives,
                                      const SubmitOptions& cli, std::string_view script_name,
                                      Time now);

// Help text listing the options above, one per line ("  -J, --job-name=NAME  ...").
std::string SubmitUsage();

}  // namespace swell::cli
