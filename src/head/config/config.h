#pragma once

// The cluster file (`swell up --config FILE`, `swell sim --config FILE`), TOML: its tables and
// keys, with their defaults, are in docs/cluster-file.md. Unknown tables or keys, wrong types and
// impossible values are errors that name the file, line and key.

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "head/autoscaler/autoscaler.h"

namespace swell::head::config {

struct ClusterConfig {
  int nodes = 2;
  int cpus_per_node = 0;
  int64_t mem_per_node_mb = 0;
  int gpus_per_node = 0;
  std::string tcp;
  std::string http;  // the dashboard and /metrics: "127.0.0.1:PORT" ("" none; docs/dashboard.md)
  int node_timeout_s = 10;
  int kill_wait_s = 10;
  int pmix_timeout_s = 300;  // a step's PMIx fence waits this long for every node (PMIxTimeout)
  std::string mail_prog;  // run as `mail_prog -s SUBJECT USER` for --mail-type; "" for none

  std::string provider = "local";
  double provider_boot_s = 0;  // fractions allowed (time-compressed replays)
  std::string provider_create, provider_delete, provider_list;  // command: script paths
  int provider_timeout_s = 300;                                 // command: per script run
  std::vector<std::string> provider_hosts;                      // static: the node names
  std::string provider_subnet, provider_bridge, provider_prefix;  // netns (docs/providers.md)

  std::string policy = "clic";
  autoscaler::PolicyOptions policy_options;
  int boot_timeout_s = 600;
  int creates_per_minute = 0;  // 0: no limit
  int deletes_per_minute = 0;
  double budget_per_hour = 0;  // 0: no budget
  int max_preemptions = 2;     // a job preempted this often goes to on-demand types only
  double interval_s = 1;       // between autoscaler decisions on a live cluster

  // [slurm] embedded: `swell up` starts Debian's slurmctld (and munged) in $SWELL_HOME with the
  // node types as partitions of dynamic nodes, and `swell autoscale` beside it, instead of a
  // swell head (docs/slurm-autoscale.md).
  bool slurm_embedded = false;
  std::string slurm_cluster_name = "swell";
  // Elastic when it has node types.
  bool elastic() const { return !node_types.empty(); }

  std::vector<autoscaler::NodeType> node_types;
};

// A cluster file is a page of settings: anything past this is refused unread.
inline constexpr size_t kMaxFileBytes = size_t{1} << 20;

// Parses TOML text; `source` names it in errors ("cluster.toml:12: ...").
Result<ClusterConfig> Parse(std::string_view text, const std::string& source);
// Reads (at most kMaxFileBytes) and parses `path`.
Result<ClusterConfig> Load(const std::string& path);

// The cluster file `swell up` keeps in $SWELL_HOME: `text` (a cluster file, or empty) with its
// [cluster] table replaced by `c`'s settings. Comments are not kept.
Result<std::string> WithClusterTable(std::string_view text, const std::string& source,
                                     const ClusterConfig& c);

// CLIC's product form: every cpus x memory class x disk combination, named as CLIC names them.
Result<std::vector<autoscaler::NodeType>> ExpandClic(const std::vector<int>& cpus,
                                                     const std::vector<std::string>& classes,
                                                     const std::vector<int64_t>& disk_gb,
                                                     double price_per_cpu_hour, int boot_s,
                                                     int shutdown_s);

}  // namespace swell::head::config
