#pragma once

// The options of a submission that swell turns into the job's spec beyond its counts: resources
// as Slurm derives them (--mem-per-cpu, --mem-per-gpu, --gpus-per-node/-task/-socket,
// --gres=gpu, --cpus-per-gpu) and what is recorded with the job (-A, -q, --wckey, -C, -L,
// --reservation, --mail-*, --signal, --open-mode, --time-min, --deadline, --test-only).

#include "cli/submit_options.h"
#include "common/status.h"
#include "rpc/swell.pb.h"

namespace swell::cli {

// Applies `o` to `spec`, whose counts (ntasks, min_nodes, cpus_per_task) are already set
// (BuildSpec). Pure. Errors follow submit_options.h's conventions.
//  * gpus: --gpus is the job's; else --gpus-per-task x tasks; else --gpus-per-node (or --gres)
//    x nodes; else --gpus-per-socket x --sockets-per-node x nodes.
//  * --cpus-per-gpu: the job's cpus are gpus x N, spread over its tasks (cpus per task).
//  * --mem-per-cpu: each node's memory is N x the cpus of the tasks on it (the busiest node:
//    ceil(tasks / nodes) x cpus per task), as Slurm sizes a node's memory; --mem-per-gpu: N x
//    the gpus on a node.
Status ApplyJobOptions(const SubmitOptions& o, pb::JobSpec* spec);

}  // namespace swell::cli
