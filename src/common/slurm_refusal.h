#pragma once

// A submission refused as Slurm's controller refuses it: Slurm's reason (what sbatch prints after
// "Batch job submission failed: "), the lines slurmctld sends before it when it sends any (e.g.
// "Memory specification can not be satisfied"), and swell's own explanation. The head puts all
// three in one status message, which the Slurm commands print in Slurm's words and `swell
// submit` prints whole:
//
//   "Memory specification can not be satisfied\n"            a line Slurm prints first
//   "Requested node configuration is not available"           Slurm's reason
//   " (needs 246000 MB of memory on one node; ...)"           swell's explanation
//
// Pure functions; the words are Slurm 22.05's, as its sbatch printed them in tests/slurm.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace swell::slurm_refusal {

inline constexpr char kTooManyCpus[] = "More processors requested than permitted";
inline constexpr char kNodeConfig[] = "Requested node configuration is not available";
inline constexpr char kMemoryLine[] = "Memory specification can not be satisfied";
inline constexpr char kCpusPerNodeLine[] = "CPU count per node can not be satisfied";
inline constexpr char kInvalidNodeName[] = "Invalid node name specified";
inline constexpr char kInvalidPartition[] = "Invalid partition name specified";
// scontrol's refusals of job control (job_update.h).
inline constexpr char kAccessDenied[] = "Access/permission denied";
inline constexpr char kNotPending[] = "Job is no longer pending execution";
inline constexpr char kFinished[] = "Job has already finished";
inline constexpr char kPending[] = "Job is pending execution";
inline constexpr char kDisabled[] = "Requested operation is presently disabled";
inline constexpr char kBatchOnly[] = "Only batch jobs are accepted or processed";
inline constexpr char kNotSupported[] = "Requested operation not supported on this system";
inline constexpr char kBadCpus[] = "CPU count specification invalid";
inline constexpr char kDependency[] = "Job dependency problem";
// A batch script past Slurm's max_script_size (4 MiB by default; 4,194,304 bytes pass).
inline constexpr char kTooLong[] = "Pathname of a file, directory or other parameter too long";
inline constexpr size_t kMaxScriptBytes = size_t{4} << 20;
// The most cpus (tasks times cpus per task), tasks or nodes one job may ask for: 4,194,304,
// small enough that nothing the head computes from a job's counts overflows an int. Past it a job is refused as Slurm refuses one larger than its
// partitions ("More processors requested than permitted").
inline constexpr int64_t kMaxJobCpus = int64_t{1} << 22;
// What sbatch itself prints, on two lines, for a script with a NUL byte (it never sends one).
inline constexpr char kScriptNulLines[] =
    "The Slurm controller does not allow scripts that\ncontain a NULL character '\\0'.";
// Printed alone: Slurm's sbatch does not say "Batch job submission failed" before it.
inline constexpr char kInvalidGres[] = "Invalid generic resource (gres) specification";

struct Refusal {
  std::vector<std::string> before;  // lines printed before the reason
  std::string reason;               // Slurm's reason
  std::string detail;               // swell's explanation; may be empty
};

// One status message holding the refusal.
std::string Encode(const Refusal& r);

// The refusal in a message; a message Encode did not make is all reason.
Refusal Decode(std::string_view message);

// The lines a Slurm command prints for it, each after "<cmd>: error: ": the `before` lines,
// then `failed_words` + reason ("Batch job submission failed: " for sbatch); a gres refusal
// alone. Without swell's explanation, as Slurm has none to give.
std::vector<std::string> SlurmLines(const Refusal& r, std::string_view failed_words);

}  // namespace swell::slurm_refusal
