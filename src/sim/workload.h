#pragma once

// Workloads for `swell sim`: real traces in the Standard Workload Format and a seeded synthetic
// generator. Both produce SimJobs (what one job needs on one node), sorted by submit time, with
// the first submission at t = 0 (FromMillis(0)).

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "sim/sim.h"

namespace swell::sim {

// Standard Workload Format v2.2 (Feitelson's Parallel Workloads Archive): ';' comment lines
// (header), then 18 whitespace-separated fields per job: 1 job number, 2 submit time (s), 3 wait
// time, 4 run time (s), 5 allocated processors, 6 average cpu time, 7 used memory (KB per
// processor), 8 requested processors, 9 requested time (s), 10 requested memory (KB per
// processor), 11 status, 12 user, 13 group, 14 executable, 15 queue, 16 partition,
// 17 preceding job, 18 think time; -1 means unknown. Blank lines are skipped.
//
// Mapping of one SWF job to SimJobs:
//  - submit: field 2, relative to the earliest submit time among the jobs kept, so the trace
//    starts at t = 0. Fractional seconds are kept to the millisecond.
//  - run: field 4. Jobs with run time <= 0 (or unknown, -1) are dropped: they never ran.
//  - cpus: requested processors (field 8) if > 0, else allocated processors (field 5). A job
//    with neither is dropped.
//  - memory_mb: requested memory (field 10, KB per processor) if > 0, else used memory (field 7,
//    KB per processor), else 0; multiplied by the job's cpus and rounded up to whole MB.
//  - status (field 11): with skip_failed, jobs with status 0 (failed) and 5 (cancelled) are
//    dropped. Jobs with an unknown (negative) submit time are dropped.
//  - id: the job number (field 1) when cpus_per_node <= 0. When cpus_per_node > 0, every job's
//    pieces (see below) are numbered job * stride + k, k = 0, 1, ...; stride is 1000, or the
//    smallest power of ten at least the largest piece count in the trace when that is larger,
//    so ids stay unique and id / stride is the job number.
//  - A job wider than one node: a SimJob describes what a job needs on ONE node, so with
//    cpus_per_node > 0 a job asking c > cpus_per_node cpus becomes ceil(c / cpus_per_node)
//    SimJobs with the same submit and run time: full nodes of cpus_per_node cpus and the
//    remainder on the last, each with its share of the memory. This models the job's
//    node-hours, not gang scheduling: the simulator may start the pieces at different times.
//  - Unused fields must still be numbers.
// Jobs are returned sorted by submit time; ties keep the file's order.
struct SwfOptions {
  int cpus_per_node = 0;     // if > 0, a job wider than this is split into per-node pieces
  bool skip_failed = false;  // drop jobs with status 0 (failed) and 5 (cancelled)
};

// Parses SWF `text`. A malformed line (not 18 fields, a field that is not a finite number, a
// fractional job number, processor count or status, a value beyond 1e15, more than 2^31 - 1
// processors) fails with InvalidArgument "<source>:<line>: <what>", as does a job split into
// more than 100,000 nodes and a trace of more than 10,000,000 jobs after splitting.
Result<std::vector<SimJob>> ParseSwf(std::string_view text, const std::string& source,
                                     const SwfOptions& options);

// Reads and parses the file at `path`, plain (.swf) or gzip-compressed (.swf.gz; recognised by
// its content, not its name). NotFound if it does not exist; InvalidArgument if it cannot be
// read or decompressed, or does not parse.
Result<std::vector<SimJob>> LoadSwf(const std::string& path, const SwfOptions& options);

// A seeded synthetic workload from "key=value,key=value" text, e.g. "jobs=5000,seed=7". Keys:
//   jobs       number of jobs (required, 0 to 100,000,000)
//   seed       random seed (default 1); the same spec gives the same jobs on every platform
//   burst      jobs per burst (default 100, >= 1)
//   gap_s      quiet seconds between the starts of consecutive bursts (default 3600, >= 0)
//   run_min_s  shortest run time, seconds (default 60, >= 1)
//   run_max_s  longest run time, seconds (default 600, >= run_min_s)
//   cpus       cpus per job (default 1, >= 1); memory is 0
//   nodes      size the bursts so that one needs about this many nodes at once (>= 1; not
//              with burst): burst = nodes x max(1, node_cpus / cpus), the jobs that many nodes
//              of node_cpus cpus hold. With run times below gap_s (the defaults) bursts do not
//              overlap, so that is the peak.
//   node_cpus  cpus of the node type the jobs go to (default 2: `swell sim`'s smallest default
//              type, which takes jobs of 1 and 2 cpus)
// Burst b (b = 0, 1, ...) submits its `burst` jobs all at t = b * gap_s (the last burst may be
// smaller); each run time is uniform in [run_min_s, run_max_s] whole seconds. Ids are 1..jobs
// in submit order. The defaults give bursts of a hundred 1-10 minute jobs once an hour, i.e.
// short bursts between quiet hours. Unknown or repeated keys, a missing jobs, a malformed or
// out-of-range value fail with InvalidArgument. Linear time: a million jobs take milliseconds.
Result<std::vector<SimJob>> Synthetic(std::string_view spec);

// "submit_s,run_s,cpus,memory_mb" and one line per job, in the given order; submit is in
// seconds after the earliest submit, both with millisecond precision. For replaying a
// workload on a live cluster (bench/run clic-live).
std::string JobsCsv(const std::vector<SimJob>& jobs);

}  // namespace swell::sim
