#pragma once

// What sacct prints: the head's job history (pb::JobInfo with its tasks and recorded steps, from
// the History call) as Slurm 22.05's sacct lines. A job gives one line for itself (one per array
// task, `12_3`, and one for an array's tasks not dispatched, `12_[4-9]`) and, unless -X, one per
// step: `12.batch` for the batch script, `12.0`, `12.1`... for its sruns (a job of `swell run`
// ranks is its step `12.0`).
//
// Columns are Slurm's field table (name and width: a negative width is left-justified), printed
// as Slurm's print_fields does: each value in its width followed by a blank, strings longer than
// the width cut with a '+', numbers and durations never cut; -P joins with '|', -p also ends with
// one.
//
// Pure apart from the local time zone (time stamps) and the user and group databases (User,
// Group).

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "rpc/swell.pb.h"

namespace swell::cli::slurm {

// One sacct line: a job (an array task, an array's pending rest) or one of its steps.
struct AcctRecord {
  bool step = false;
  std::string job_id;      // JobID: "12", "12_3", "12_[4-9]", "12.batch", "12_3.0"
  std::string job_id_raw;  // JobIDRaw: "12", "15", "15.batch"
  int64_t raw_id = 0;      // the job's (an array task's own) id
  int64_t array_job_id = 0;
  int64_t array_task_id = -1;  // -1: not an array task
  std::string step_name;       // "batch", "0", ... (steps)
  std::string name;
  std::string partition;
  std::string account;
  std::string qos;
  std::string user;
  uint32_t uid = 0;
  pb::JobState state = pb::PENDING;
  bool cancelled_by_owner = false;  // "CANCELLED by <uid>"
  int exit_code = 0;
  int signal = 0;
  int derived_exit_code = 0;  // jobs: the highest of its steps'
  int64_t submit_ms = 0;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int64_t elapsed_s = 0;
  int64_t cpus = 0;
  int64_t nnodes = 0;
  int ntasks = -1;  // steps only
  std::string nodes;  // compressed host list; "None assigned" for a job without nodes
  int64_t req_mem_mb = 0;
  int64_t time_limit_ms = 0;  // 0: UNLIMITED
  int priority = 0;
  std::string work_dir;
  std::string comment;
  std::string submit_line;
  std::string reason;
  bool has_usage = false;  // steps: MaxRSS and the CPU times are known
  int64_t max_rss_kb = 0;
  int64_t user_cpu_us = 0;
  int64_t sys_cpu_us = 0;
  int req_cpus = 0;
};

// The records of `jobs` (as History returns them) in sacct's order, `now_ms` giving the
// elapsed time of what still runs. `allocations_only` (-X) leaves the steps out.
std::vector<AcctRecord> AcctRecords(const std::vector<pb::JobInfo>& jobs, int64_t now_ms,
                                    bool allocations_only);

// ---- Options -----------------------------------------------------------------------------------

// A -j item: "12", "12_3", "12.batch", "12_3.0".
struct AcctJobRef {
  int64_t job_id = 0;
  std::optional<int64_t> array_index;
  std::optional<std::string> step;  // "batch", "0", ...
};

struct SacctOptions {
  bool help = false, usage = false, version = false, help_fields = false;
  bool all_users = false;        // -a
  bool allocations = false;      // -X
  bool no_header = false;        // -n
  bool parsable = false;         // -p: '|' after every field
  bool parsable2 = false;        // -P: '|' between fields
  bool long_format = false;      // -l
  bool brief = false;            // -b
  bool json = false;             // --json
  std::string delimiter = "|";   // --delimiter
  std::optional<std::string> format;  // -o/--format (all of them, comma-joined)
  std::vector<AcctJobRef> jobs;       // -j
  std::vector<uint32_t> uids;         // -u (names resolved)
  std::optional<int64_t> start_ms, end_ms;  // -S, -E
  std::set<pb::JobState> states;            // -s
  std::vector<std::string> names;           // --name
  std::vector<std::string> partitions;      // -r
};

// Parses sacct's command line as Slurm does (getopt_long). `now_ms` resolves relative times
// ("now-1hour"). Errors are InvalidArgument with the exact text sacct prints (then exit 1).
Result<SacctOptions> ParseSacctArgs(const std::vector<std::string>& args, int64_t now_ms);

// The window of Slurm's defaults: without -j and -s, -S is midnight today and -E now; with -j
// only, no start; with -s, -S defaults to now (unless -j) and -E to -S. Returns {start, end}
// (0 = unbounded).
std::pair<int64_t, int64_t> AcctWindow(const SacctOptions& o, int64_t now_ms);

// Whether a record passes the options' filters (-j, -s with the window, --name, -r).
bool AcctSelected(const AcctRecord& r, const SacctOptions& o, int64_t start_ms, int64_t end_ms);

// ---- Output ------------------------------------------------------------------------------------

struct AcctField {
  std::string name;  // Slurm's spelling ("JobID")
  int width = 0;     // negative: left-justified
};

// The fields of a format list ("jobid,state,exitcode%20", prefixes and any case, as Slurm
// matches them). An unknown one: `Invalid field requested: "X"`.
Result<std::vector<AcctField>> ParseAcctFields(std::string_view list);

// The format sacct uses for `o`: -o, else -l's or -b's fields, else $SACCT_FORMAT (`env`), else
// Slurm's default ("jobid,jobname,partition,account,alloccpus,state,exitcode").
std::string AcctFormat(const SacctOptions& o, const char* env);

// The header and dashes lines (without -P/-p: two lines; with them: one).
std::string AcctHeader(const std::vector<AcctField>& fields, const SacctOptions& o);
std::string AcctLine(const AcctRecord& r, const std::vector<AcctField>& fields,
                     const SacctOptions& o);

// The `sacct --json` document (Slurm 22.05's shape, a subset): {"meta", "errors", "warnings",
// "jobs": [...]} with one job object per job record and its steps inside.
nlohmann::json AcctJson(const std::vector<AcctRecord>& records);

// Slurm's durations: "HH:MM:SS", "D-HH:MM:SS" (Elapsed, CPUTime); and the CPU times with
// milliseconds below an hour ("MM:SS.mmm").
std::string AcctElapsed(int64_t seconds);
std::string AcctCpuTime(int64_t micros);
// A byte count as Slurm's convert_num_unit prints it ("0", "512K", "1.50M").
std::string AcctSize(double value, int unit);  // unit: 0 none, 1 K, 2 M, ...

}  // namespace swell::cli::slurm
