#pragma once

// swell-daemon's commands for a real Slurm (docs/slurm-autoscale.md): the autoscaler beside a
// Slurm (autoscale_cmd.cc) and the embedded Slurm of `swell up` (slurm_cluster.cc).

#include <string>

#include "cli/cli.h"

namespace swell::head::config {
struct ClusterConfig;
}

namespace swell::cli {

// `swell slurm-config`: the slurm.conf lines and job_submit.lua for a cluster file's types.
int SlurmConfig(const Args& args);
// `swell autoscale`: grows and shrinks a Slurm's partitions with dynamic nodes.
int Autoscale(const Args& args);
// `swell up` with [slurm] embedded = true, once the cluster file is saved at `saved`.
int UpSlurm(const head::config::ClusterConfig& cfg, const std::string& home,
            const std::string& saved);
// `swell down` of the embedded Slurm; false when there is none in `home`.
bool DownSlurm(const std::string& home);
// `swell env`: the shell settings for Slurm's commands.
int Env(const Args& args);

}  // namespace swell::cli
