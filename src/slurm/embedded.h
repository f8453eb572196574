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
};

// slurm.conf: the controller on `host` at `address`, root as SlurmUser (slurmd must be root to
// run jobs as their users), munge on its own socket, no accounting, proctrack/linuxproc and
// task/none (no cgroup hierarchy is assumed), every node's spool and TmpFS under
// dir/nodes/%n, then `fragment` (SlurmConfFragment: the node types' partitions).
std::string EmbeddedSlurmConf(const EmbeddedSlurm& e, const std::string& fragment);

}  // namespace swell::slurm
