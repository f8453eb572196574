#pragma once

// Command lines of the Slurm front ends (squeue, sinfo, scancel, scontrol), parsed as Slurm
// parses them: with getopt_long, so that bundled flags ("-hl"), "-oFMT" / "-o FMT" /
// "--format=FMT" / "--format FMT", unambiguous prefixes of long options and options after
// positional arguments all work, and an unknown option is reported by getopt itself
// ("squeue: unrecognized option '--foo'").
//
// A parse error is InvalidArgument whose message is exactly what the command prints on stderr
// before exiting 1 (possibly several lines, without the last newline). Not thread-safe (getopt
// keeps global state).

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cli/slurm_fields.h"
#include "cli/squeue_view.h"
#include "common/status.h"

namespace swell::cli::slurm {

using Args = std::vector<std::string>;

// What every command takes: --help, --usage, -V/--version, -v/--verbose.
struct CommonOptions {
  bool help = false;
  bool usage = false;
  bool version = false;
  int verbose = 0;
};

// What the listing commands (squeue, sinfo) take besides: -o, -l, -h, --json.
struct ListingOptions : CommonOptions {
  std::optional<std::string> format;  // -o, --format
  bool long_format = false;           // -l, --long
  bool no_header = false;             // -h, --noheader
  bool json = false;                  // --json
};

struct SqueueOptions : ListingOptions {
  bool one_per_task = false;  // -r, --array
  bool steps = false;         // -s, --steps: the running job steps
  // -t, --states: long state names; nullopt: Slurm's default (pending and running) unless
  // all_states ("-t all").
  std::optional<std::set<std::string>> states;
  bool all_states = false;
  std::vector<std::string> users;       // -u, --user(s), --me: names or uids
  std::vector<JobRef> jobs;             // -j, --jobs
  std::vector<std::string> names;       // -n, --name
  std::vector<std::string> partitions;  // -p, --partition(s)
  std::vector<std::string> nodes;       // -w, --nodelist (expanded)
};
Result<SqueueOptions> ParseSqueueArgs(const Args& args);

struct SinfoOptions : ListingOptions {
  bool node_oriented = false;  // -N, --Node
  bool summarize = false;      // -s, --summarize
  bool responding = false;     // -r, --responding
  bool dead = false;           // -d, --dead
  // -t, --states: Slurm's numeric node states and flags to match (see NodeMatchesStates).
  std::vector<uint32_t> states;
  std::vector<std::string> partitions;  // -p, --partition
  std::vector<std::string> nodes;       // -n, --nodes (expanded)
};
Result<SinfoOptions> ParseSinfoArgs(const Args& args);
// Whether a node's state matches one of sinfo -t's states.
bool NodeMatchesStates(const NodeState& state, const std::vector<uint32_t>& states);

struct ScancelOptions : CommonOptions {
  std::vector<JobRef> jobs;  // "12", "12_3", "12_[1-3]", also comma-separated
  std::optional<std::string> name, partition, user, state;  // -n, -p, -u/--me, -t (long name)
  std::vector<std::string> nodes;                           // -w, --nodelist (expanded)
  std::optional<int> signal;                                // -s, --signal
  bool quiet = false;                                       // -Q, --quiet
  // Whether a filter or a signal was given: Slurm then checks the ids against the active jobs
  // and reports unknown ones (exit 1); with ids alone an unknown id is quietly ignored.
  bool Filtered() const { return name || partition || user || state || !nodes.empty() || signal; }
};
Result<ScancelOptions> ParseScancelArgs(const Args& args);

// scontrol's options may come anywhere: getopt permutes them out of the command's words, as
// Slurm's scontrol does ("scontrol show jobid -dd 12"), except after "setdebugflags" (whose
// words look like options).
struct ScontrolOptions : CommonOptions {
  bool one_liner = false;            // -o, --oneliner
  bool quiet = false;                // -Q, --quiet
  bool details = false;              // -d, --details (any number of times)
  bool all = false;                  // -a, --all (accepted: no partition is hidden)
  std::vector<std::string> command;  // the words that are not options ("show", "job", "12")
};
Result<ScontrolOptions> ParseScontrolArgs(const Args& args);

// A signal by number (1-64) or name ("USR1", "SIGUSR1", any case); nullopt when unknown.
std::optional<int> SignalNumber(std::string_view text);

}  // namespace swell::cli::slurm
