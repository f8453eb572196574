#include "common/mpi_env.h"

namespace swell {

void AddMpiRelayEnv(std::map<std::string, std::string>& env, const std::string& rsh,
                    const std::string& iface) {
  // OpenMPI: remote daemons through the relay, never ssh (platform.md); one level deep.
  env["OMPI_MCA_plm"] = "rsh";
  env["OMPI_MCA_plm_rsh_agent"] = rsh;
  env["OMPI_MCA_plm_rsh_no_tree_spawn"] = "1";
  env["OMPI_MCA_hwloc_base_binding_policy"] = "none";
  // MPICH (hydra): the same relay as its ssh.
  env["HYDRA_LAUNCHER"] = "ssh";
  env["HYDRA_LAUNCHER_EXEC"] = rsh;
  if (!iface.empty()) {
    env["OMPI_MCA_oob_tcp_if_include"] = iface;
    env["OMPI_MCA_btl_tcp_if_include"] = iface;
    env["HYDRA_IFACE"] = iface;
  }
}

}  // namespace swell
