#pragma once

// Every option of Slurm's sbatch, salloc and srun (22.05 to 24.05), with what swell does with
// it. The names, short letters, argument kinds and the commands that take each are Slurm's (its
// getopt_long tables), so that no option a Slurm user writes is "unknown" to swell: an option
// the command does not take is refused as getopt refuses it, and every other one is either
// implemented, recorded, accepted and ignored as a Slurm cluster without that feature
// configured ignores it, or refused with the message Slurm gives on such a cluster.
// docs/slurm.md ("Options") has one line per entry.

#include <cstdint>
#include <span>
#include <string_view>

namespace swell::cli {

enum class ArgKind : uint8_t { kNone, kRequired, kOptional };

// The commands an option belongs to (a bit mask).
enum JobCommand : uint8_t { kSbatch = 1, kSalloc = 2, kSrun = 4 };
inline constexpr uint8_t kAllCommands = kSbatch | kSalloc | kSrun;

enum class Handling : uint8_t {
  kImplemented,  // it does what it does in Slurm
  kRecorded,     // kept with the job and shown, with no effect on scheduling
  kIgnored,      // accepted and ignored, as a cluster without the feature configured does
  kRefused,      // refused with Slurm's message for a cluster without the feature
};

struct CatalogOption {
  std::string_view name;  // long name, without "--"
  char short_name;        // '\0' when there is none
  ArgKind arg;
  uint8_t commands;     // JobCommand bits
  Handling handling;
  std::string_view metavar;  // the value's name in --help ("" for flags)
  std::string_view note;     // one line for --help and docs/slurm.md
  // For an alias (--tasks-per-node, --cpu_bind), the option it stands for; "" otherwise.
  // getopt_long does not count an alias and its option as an ambiguity.
  std::string_view alias_of = "";

  // The option's identity: itself, or the one it is an alias of.
  std::string_view canonical() const { return alias_of.empty() ? name : alias_of; }
};

// The whole catalog, sorted by name (an option that means two things to different commands,
// such as --wait, has one entry per meaning).
std::span<const CatalogOption> SlurmOptionCatalog();

// The name of a command bit ("sbatch", "salloc", "srun").
std::string_view CommandName(JobCommand command);

}  // namespace swell::cli
