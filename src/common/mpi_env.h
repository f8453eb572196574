#pragma once

// The environment that makes MPI launchers start their remote daemons through swell-rsh
// instead of ssh (docs/mpi.md): for jobs on the nodes and for salloc's command.

#include <map>
#include <string>

namespace swell {

// Sets OpenMPI's and MPICH's launcher to `rsh` (the swell-rsh path), one level deep, with no
// core binding (nodes may share this machine's cores); and, when `iface` is not empty, the
// interface their TCP traffic uses.
void AddMpiRelayEnv(std::map<std::string, std::string>& env, const std::string& rsh,
                    const std::string& iface);

}  // namespace swell
