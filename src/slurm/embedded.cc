#include "slurm/embedded.h"

#include <fmt/format.h>

namespace swell::slurm {

std::string SpoolRoot(const std::string& home) {
  uint32_t h = 2166136261u;  // FNV-1a: the same directory for the same home, in every build
  for (unsigned char c : home) h = (h ^ c) * 16777619u;
  return fmt::format("/run/swell/{:08x}", h);
}

size_t LongestStepSocket(const std::string& spool, const std::string& type) {
  std::string node = type + "-999999";
  return (spool + "/" + node + "/spool/" + node + "_4294967294.4294967294").size();
}

std::string EmbeddedSlurmConf(const EmbeddedSlurm& e, const std::string& fragment) {
  const std::string& d = e.dir;
  return fmt::format(
      "# The embedded Slurm of `swell up` (docs/slurm-autoscale.md); written by swell at each\n"
      "# start: edit the cluster file, not this.\n"
      "ClusterName={name}\n"
      "SlurmctldHost={host}({address})\n"
      "SlurmctldPort={ctld_port}\n"
      "SlurmdPort={slurmd_port}\n"
      "SlurmUser=root\n"
      "SlurmdUser=root\n"
      "AuthType=auth/munge\n"
      "CredType=cred/munge\n"
      "AuthInfo=socket={munge}\n"
      "StateSaveLocation={d}/ctld\n"
      "SlurmctldPidFile={d}/ctld/slurmctld.pid\n"
      "SlurmctldLogFile={d}/ctld/slurmctld.log\n"
      "SlurmdSpoolDir={spool}/%n/spool\n"
      "SlurmdPidFile={spool}/%n/slurmd.pid\n"
      "SlurmdLogFile={spool}/%n/slurmd.log\n"
      "TmpFS={spool}/%n/tmp\n"
      "SlurmdParameters=config_overrides\n"
      "ProctrackType=proctrack/linuxproc\n"
      "TaskPlugin=task/none\n"
      "JobAcctGatherType=jobacct_gather/none\n"
      "AccountingStorageType=accounting_storage/none\n"
      "JobCompType=jobcomp/none\n"
      "MpiDefault=none\n"
      "SwitchType=switch/none\n"
      "SelectType=select/cons_tres\n"
      "SelectTypeParameters=CR_Core_Memory\n"
      "MailProg=/bin/true\n"
      "SchedulerParameters=sched_interval=1\n"
      "ReturnToService=2\n"
      "KillWait=1\n"
      "InactiveLimit=0\n"
      "MinJobAge=300\n"
      "SlurmctldDebug=info\n"
      "SlurmdDebug=info\n"
      "PlugStackConfig={d}/plugstack.conf\n"
      "\n{fragment}",
      fmt::arg("name", e.cluster_name), fmt::arg("host", e.host), fmt::arg("address", e.address),
      fmt::arg("ctld_port", e.ctld_port), fmt::arg("slurmd_port", e.slurmd_port),
      fmt::arg("munge", e.munge_socket), fmt::arg("d", d), fmt::arg("spool", e.spool),
      fmt::arg("fragment", fragment));
}

}  // namespace swell::slurm
