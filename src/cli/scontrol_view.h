#pragma once

// scontrol's view of swell's jobs and nodes: the key=value records of scontrol show job and
// scontrol show node. The command itself (options, RPCs, exit codes) is in slurm_cmds.cc;
// docs/slurm.md lists what is supported and how it differs from Slurm.
//
// Everything here is pure apart from reading the local time zone (times print in local time,
// as Slurm's do) and the user and group databases (for group names). The current time is
// passed in.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "rpc/swell.pb.h"

namespace swell::cli::slurm {

// scontrol show job: the records of an Info reply's job in Slurm's key=value layout. A plain
// job is one record; an array gives one per task that has started and one for its pending
// tasks, or only the task `index` when given. Each record ends with a blank line; with
// `one_liner` (scontrol -o) each record is one line.
std::string ShowJob(const pb::JobInfo& job, std::optional<int64_t> index, Time now,
                    bool one_liner = false);
// With `details` (scontrol -d): also DerivedExitCode= and, for a job holding nodes, JOB_GRES=
// and one "  Nodes= CPU_IDs= Mem= GRES=" line per node (swell pins no cpus: the ids count
// the cpus held there from 0).
std::string ShowJob(const pb::JobInfo& job, std::optional<int64_t> index, Time now, bool one_liner,
                    bool details);

// The Slurm release whose behaviour swell's commands follow, as show config's SLURM_VERSION.
inline constexpr char kConfigVersion[] = "22.05.8";

// scontrol show config: what Slurm's configuration would say about this cluster.
struct ConfigFacts {
  std::string cluster_name = "swell";
  std::string controller;  // SlurmctldHost: the head's host
  int port = 0;            // SlurmctldPort: the head's TCP port, 0 when it has none
  int kill_wait_s = 10;
  int slurmd_timeout_s = 10;        // a node silent this long is down
  std::string state_dir;            // StateSaveLocation ($SWELL_HOME)
  std::string slurm_user;           // who runs the head, "name(uid)"
  bool elastic = false;             // nodes come and go (power saving in Slurm's words)
  int64_t boot_ms = 0;              // BOOT_TIME: when the head started, 0 when unknown
  int64_t def_mem_per_node_mb = 0;  // 0: UNLIMITED
};
// The record: "Configuration data as of TIME", then "Key = Value" lines (the key padded to 23),
// then a blank line and Slurm's "Slurmctld(primary) at HOST is UP".
std::string ShowConfig(const ConfigFacts& facts, Time now);

// scontrol show partition: one partition's record. A static cluster's nodes are one partition
// ("batch", the default), an elastic cluster's each node type.
struct PartitionFacts {
  std::string name;
  bool is_default = false;
  std::vector<std::string> nodes;
  int64_t cpus = 0;
  int64_t mem_mb = 0;
  int64_t gpus = 0;
};
std::vector<PartitionFacts> Partitions(const pb::NodesReply& nodes);
std::string ShowPartition(const PartitionFacts& p, bool one_liner = false);

// scontrol show step: one running step of `job` (srun inside its allocation).
std::string ShowStep(const pb::JobInfo& job, const pb::StepInfo& step, bool one_liner = false);

// scontrol show node: one node's record, ending with a blank line (one line with `one_liner`).
std::string ShowNode(const pb::NodeInfo& node, bool one_liner = false);

}  // namespace swell::cli::slurm
