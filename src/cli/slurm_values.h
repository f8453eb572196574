#pragma once

// Option values as Slurm's sbatch, salloc and srun parse them (src/common/proc_args.c and
// parse_time.c of Slurm), each with the message Slurm prints when it refuses one.
//
// Errors follow the conventions of submit_options.h: "error: <Slurm's message>" for a value
// the command itself refuses, "refused: <Slurm's reason>" for one the controller refuses at
// submission ("Batch job submission failed: <reason>" in sbatch's words).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace swell::cli {

// parse_int: a decimal integer (strtol: leading blanks and a sign allowed), >= 0, or > 0 when
// `positive`. Else "error: Invalid numeric value \"TEXT\" for OPTION." (Slurm exits 1).
Result<int> SlurmInt(std::string_view option, std::string_view text, bool positive);

// str_to_mbytes: N with an optional K, M, G or T (and an optional B after it), in megabytes
// (K rounds up); nullopt when it is not one.
std::optional<int64_t> SlurmMegabytes(std::string_view text);

// -t/--time and --time-min as time_str2secs: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S, with fields of
// any size (00-24:00 is a day), and -1, INFINITE or UNLIMITED. Zero is no limit (kInfinite).
// nullopt when the form is not one of these.
std::optional<Duration> SlurmTimeLimit(std::string_view text);

// --signal=[{R|B}:]SIG[@TIME]: the signal (a number or a name, with or without SIG), the
// seconds before the time limit (60 by default) and B: (only the batch shell); R is accepted
// (no reservations). nullopt when it is not one.
struct SignalSpec {
  int signal = 0;
  int seconds = 60;
  bool batch_only = false;
  bool operator==(const SignalSpec&) const = default;
};
std::optional<SignalSpec> ParseSignalSpec(std::string_view text, bool sbatch);

// --mail-type: comma-separated NONE, BEGIN, END, FAIL, REQUEUE, ALL, INVALID_DEPEND,
// STAGE_OUT, TIME_LIMIT, TIME_LIMIT_90/80/50, ARRAY_TASKS (any case); words Slurm does not
// know are skipped, as Slurm skips them. Returns the types in upper case, joined by ','
// ("NONE" for NONE); nullopt when no word is known.
std::optional<std::string> ParseMailType(std::string_view text);

// A gpu count "[type:]N" (--gpus, --gpus-per-node, -task, -socket). The type is dropped: a
// node's gpus have none. Else "refused: Invalid generic resource (gres) specification".
Result<int> ParseGpuCount(std::string_view text);

// --gres=gpu[:type][:N][,...]: the gpus per node it asks (N defaults to 1); "none" asks none.
// Any other resource is refused as on a cluster without it configured.
Result<int> ParseGresGpus(std::string_view text);

// The feature names of a --constraint expression: words separated by & | , and brackets, with
// "*N" counts dropped. "refused: Invalid feature specification" when it is malformed.
Result<std::vector<std::string>> ConstraintFeatures(std::string_view text);

}  // namespace swell::cli
