#pragma once

// scontrol, run when the swell binary is called by that name: show (job, node, partition,
// step, config, hostnames, hostlist), job control (hold, release, requeue, requeuehold,
// update, suspend, resume) and version. docs/slurm.md lists the supported subset.

#include <string>
#include <vector>

namespace swell::cli {

int Scontrol(const std::vector<std::string>& args);

}  // namespace swell::cli
