#pragma once

// The options of `swell submit` / `sbatch`, `salloc` and `swell run` / `srun`, parsed from the
// command line and from "#SBATCH" / "#SWELL" directive lines of a batch script, with Slurm's
// syntax and semantics:
//
//  * "--opt=value", "--opt value", "-Xvalue", "-X value"; bundled short flags ("-HQ");
//    unambiguous prefixes of long options ("--job" for "--job-name"), as getopt_long allows.
//  * Parsing stops at the first non-option token (or after "--"): that token and everything
//    after it are positional (the script and its arguments) and never parsed as options.
//  * An option given twice keeps the last value.
//  * Every option of the command in Slurm is known (slurm_option_catalog.h): those swell does
//    not implement are recorded or accepted and ignored (`ignored`), or refused as Slurm
//    refuses them on a cluster without the feature.
//
// Errors are InvalidArgument whose message is what Slurm prints after "<command>: ", in one of
// four forms (RenderOptionError prints them):
//  * getopt's: "unrecognized option '--foo'", "option '--time' requires an argument", ...
//    (Slurm adds "Try \"sbatch --help\" for more information" and exits 255);
//  * "error: <message>": a value the command refuses ("error: Invalid --time specification");
//  * "fatal: <message>": options that cannot go together;
//  * "refused: <reason>": what the controller refuses at submission ("Batch job submission
//    failed: <reason>" in sbatch's words).
// Whether e.g. a dependency's job exists is for the head to check.
//
// All functions are pure apart from reading the process time zone for --begin.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/slurm_format.h"
#include "cli/slurm_option_catalog.h"
#include "cli/slurm_values.h"
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
  std::optional<std::string> mpi;            // --mpi (srun: pmix, the default, or none;
                                             // docs/mpi.md)
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
  bool usage = false;                        // --usage
  bool version = false;                      // -V, --version
  // Resources as Slurm derives them (job_options.h turns them into the job's counts).
  std::optional<int64_t> mem_per_cpu_mb;     // --mem-per-cpu
  std::optional<int64_t> mem_per_gpu_mb;     // --mem-per-gpu
  std::optional<int> gpus_per_node;          // --gpus-per-node, --gres=gpu[:type]:N
  std::optional<int> gpus_per_task;          // --gpus-per-task
  std::optional<int> gpus_per_socket;        // --gpus-per-socket (needs --sockets-per-node)
  std::optional<int> sockets_per_node;       // --sockets-per-node
  std::optional<int> cpus_per_gpu;           // --cpus-per-gpu
  // Recorded with the job.
  std::optional<std::string> account;        // -A, --account
  std::optional<std::string> qos;            // -q, --qos
  std::optional<std::string> wckey;          // --wckey
  std::optional<std::string> constraint;     // -C, --constraint (checked by the head)
  std::optional<std::string> licenses;       // -L, --licenses (refused by the head)
  std::optional<std::string> reservation;    // --reservation (refused by the head)
  std::optional<std::string> mail_type;      // --mail-type, normalized (ParseMailType)
  std::optional<std::string> mail_user;      // --mail-user
  std::optional<SignalSpec> signal;          // --signal=[B:]SIG[@TIME]
  std::optional<std::string> open_mode;      // --open-mode: "append" or "truncate"
  std::optional<Duration> time_min;          // --time-min
  std::optional<Time> deadline;              // --deadline
  std::optional<bool> kill_on_invalid_dep;   // --kill-on-invalid-dep=yes|no
  std::optional<std::string> cpu_bind;       // --cpu-bind
  std::optional<std::string> hint;           // --hint
  std::optional<std::string> distribution;   // -m, --distribution
  bool test_only = false;                    // --test-only
  // Options accepted and ignored, as written ("--mincpus=4"), in order.
  std::vector<std::string> ignored;
  // The script path and its arguments (or the command of `swell run`), passed through untouched.
  std::vector<std::string> positional;

  bool operator==(const SubmitOptions&) const = default;
};

// Parses argv-style tokens (without the program and sub-command names) as `command` does.
// Also rejects --wrap together with a script.
Result<SubmitOptions> ParseSubmitArgs(const std::vector<std::string>& args, Time now,
                                      JobCommand command = kSbatch);

// What a Slurm command prints for an error of ParseSubmitArgs/MergeDirectives (the lines, with
// the last newline) and the code it exits with: getopt's errors and refused values 255 (Slurm's
// exit(-1)), bad numbers, fatal combinations and refusals 1. `command` is "sbatch", "salloc"
// or "srun"; refusals get the command's words for a failed submission.
std::string RenderOptionError(const Status& error, JobCommand command, int* exit_code);
// The message alone, without Slurm's form ("Invalid --time specification"), for swell's voice.
std::string OptionErrorMessage(const Status& error);

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
// Directives must be options only: a non-option word is Slurm's "Invalid directive found in
// batch script". Checks what Slurm checks of the whole (--mem, --mem-per-cpu and --mem-per-gpu
// are mutually exclusive; a --deadline before --begin).
Result<SubmitOptions> MergeDirectives(const std::vector<DirectiveToken>& directives,
                                      const SubmitOptions& cli, std::string_view script_name,
                                      Time now);

// Help text listing the options of `command`, one per line ("  -J, --job-name=NAME  ...").
std::string SubmitUsage(JobCommand command = kSbatch);

}  // namespace swell::cli
