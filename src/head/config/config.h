#pragma once

// The cluster file (`swell up --config FILE`, `swell sim --config FILE`), TOML:
//
//   [cluster]                 # the embedded cluster `swell up` starts
//   nodes = 2                 # static local node daemons
//   cpus_per_node = 0         # 0: the machine's cpus split between the nodes
//   mem_per_node_mb = 0       # 0: the machine's memory split between the nodes
//   gpus_per_node = 0
//   tcp = ""                  # also listen on host:port (cluster secret required)
//   node_timeout_s = 10       # a node silent this long is down
//   kill_wait_s = 10          # SIGTERM .. SIGKILL at a time limit or cancel
//   mail_prog = ""            # Slurm's MailProg for --mail-type (e.g. "/usr/bin/mail"); none
//
//   [provider]                # where elastic nodes come from (docs/providers.md)
//   kind = "local"            # local | netns | command | static
//   boot_seconds = 0          # local: delay before a created node registers
//   create = "/path/create"   # command: scripts (the contract is in docs/providers.md)
//   delete = "/path/delete"
//   list = "/path/list"
//   timeout_s = 300           # command: a script running longer is killed
//   hosts = ["a", "b"]        # static: the nodes' names
//   subnet = "10.213.0.0/24"  # netns: the nodes' network (the bridge takes .1)
//   bridge = "swell0"         # netns: the bridge's name
//   prefix = "swell-"         # netns: the namespaces' prefix
//
//   [autoscaler]
//   policy = "clic"           # clic | greedy | powersave | lookahead (docs/autoscaler.md)
//   min_lifetime_s = 600      # clic: never delete a node younger than this
//   idle_timeout_s = 300      # powersave: delete a node idle this long
//   wait_weight = 2           # lookahead: a second of a job's wait costs this many seconds
//                             # of its node (trades waits against node time)
//   boot_timeout_s = 600      # a node not registered this long after its create fails
//   max_nodes = 0             # in total, 0: no bound
//   creates_per_minute = 0    # rate limits, 0: none
//   deletes_per_minute = 0
//   budget_per_hour = 0.0     # the live nodes' prices may not add up to more; 0: no budget
//   max_preemptions = 2       # a job preempted this often goes to on-demand types only
//   interval_s = 1.0          # between decisions (live cluster)
//
//   [[node_type]]             # one partition each; repeat the table for more types
//   name = "small"
//   cpus = 2
//   memory_mb = 8192
//   disk_gb = 100
//   gpus = 0
//   price_per_hour = 0.096
//   boot_seconds = 60
//   shutdown_seconds = 30
//   max_nodes = 0
//   spot = false
//   features = ["ssd"]        # what -C/--constraint may ask of this type's nodes
//
//   [clic]                    # CLIC's product form, expanded into node types named as CLIC
//   cpus = [1, 2, 4]          # names them ("4cpu100diskstandard"); 1-cpu highmem and highcpu
//   memory = ["standard", "highmem", "highcpu"]   # are skipped as in CLIC. GB per cpu:
//   disk_gb = [10, 100]       # standard 3.75, highmem 6.5, highcpu 0.9
//   price_per_cpu_hour = 0.0475
//   boot_seconds = 90
//   shutdown_seconds = 30
//
// Unknown tables or keys, wrong types and impossible values are errors that name the file,
// line and key.

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
  int node_timeout_s = 10;
  int kill_wait_s = 10;
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

  // Elastic when it has node types.
  bool elastic() const { return !node_types.empty(); }

  std::vector<autoscaler::NodeType> node_types;
};

// Parses TOML text; `source` names it in errors ("cluster.toml:12: ...").
Result<ClusterConfig> Parse(std::string_view text, const std::string& source);
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
