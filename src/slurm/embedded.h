#pragma once

// The embedded Slurm of `swell up` with `[slurm] embedded = true` (docs/slurm-autoscale.md):
// Debian's munged and slurmctld, run from $SWELL_HOME/slurm, with no nodes at rest; nodes are
// dynamic slurmds that `swell autoscale` starts in network namespaces. This is its slurm.conf.
// Pure.

#include <string>

namespace swell::slurm {

struct EmbeddedSlurm {
  std::string dir;           // $SWELL_HOME/slurm: state, logs, the nodes' spool directories
  std::string cluster_name;  // ClusterName
  std::string host;          // this machine's short host name (SlurmctldHost)
  std::string address;       // where the nodes reach slurmctld (the netns bridge's address)
  int ctld_port = 0;
  int slurmd_port = 0;
  std::string munge_socket;
  // The nodes' spool and TmpFS: <spool>/<node>/spool and .../tmp. Short (SpoolRoot), because
  // slurmstepd's sockets there are named <spool>/<node>/spool/<node>_<job>.<step> and a unix
  // socket's path is at most 107 characters.
  std::string spool;
};

// A short directory of its own for the nodes' spool of the Slurm in `home`: /run/swell/<8 hex
// digits of a hash of home>.
std::string SpoolRoot(const std::string& home);

// The longest socket path slurmstepd makes in `spool` for a node of a type named `type` (its
// nodes are <type>-<n>, n < 10^6); Slurm refuses to launch a job where it passes 107.
size_t LongestStepSocket(const std::string& spool, const std::string& type);

// slurm.conf: the controller on `host` at `address`, root as SlurmUser (slurmd must be root to
// run jobs as their users), munge on its own socket, no accounting, proctrack/linuxproc and
// task/none (no cgroup hierarchy is assumed), every node's spool and TmpFS under
// spool/%n (its log too), then `fragment` (SlurmConfFragment: the node types'
// partitions).
std::string EmbeddedSlurmConf(const EmbeddedSlurm& e, const std::string& fragment);

}  // namespace swell::slurm
