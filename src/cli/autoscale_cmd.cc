// swell slurm-config and swell autoscale: swell's autoscaler on a real Slurm
// (docs/slurm-autoscale.md).

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "cli/cli.h"
#include "cli/daemon_cmds.h"
#include "cli/slurm_cluster.h"
#include "cli/stop_signal.h"
#include "common/files.h"
#include "common/log.h"
#include "head/config/config.h"
#include "head/elastic/pool.h"
#include "provider/providers.h"
#include "slurm/autoscale.h"
#include "slurm/slurm_conf.h"

namespace swell::cli {

int SlurmConfig(const Args& args) {
  CLI::App app{
      "swell slurm-config: the slurm.conf lines (and job_submit.lua) for the node "
      "types of a cluster file"};
  std::string config_file, lua_file;
  int max_nodes = 0;
  app.add_option("--config", config_file, "cluster file (TOML) with [[node_type]] tables")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--lua", lua_file, "also write the routing job_submit.lua to this file");
  app.add_option("--max-nodes", max_nodes,
                 "MaxNodeCount (default: the sum of the types' max_nodes, else 1024)")
      ->check(CLI::NonNegativeNumber);
  if (auto done = ParseFlags(app, args, "slurm-config")) return *done;
  auto cfg = head::config::Load(config_file);
  if (!cfg.ok()) return Fail("slurm-config", cfg.status(), 2);
  int bound = max_nodes > 0 ? max_nodes : cfg->policy_options.max_nodes;
  auto conf = slurm::SlurmConfFragment(cfg->node_types, bound, config_file);
  if (!conf.ok()) return Fail("slurm-config", conf.status(), 2);
  if (!lua_file.empty()) {
    if (Status s = WriteFileAtomic(lua_file, slurm::JobSubmitLua(cfg->node_types), 0644); !s.ok())
      return Fail("slurm-config", s);
  }
  std::fputs(conf->c_str(), stdout);
  return 0;
}

int Autoscale(const Args& args) {
  CLI::App app{"swell autoscale: grow and shrink a Slurm cluster's node types (dynamic nodes)"};
  std::string config_file, slurm_conf, spool, slurmd = "/usr/sbin/slurmd", home = Home(), state;
  if (const char* env = std::getenv("SLURM_CONF")) slurm_conf = env;
  app.add_option("--config", config_file, "cluster file (TOML): node types, policy, provider")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--slurm-conf", slurm_conf, "slurm.conf (default: $SLURM_CONF, else Slurm's)");
  app.add_option("--spool", spool,
                 "make DIR/<node>/spool and DIR/<node>/tmp before slurmd starts (for a "
                 "slurm.conf with SlurmdSpoolDir=DIR/%n/spool)");
  app.add_option("--slurmd", slurmd, "the slurmd to start on new nodes");
  app.add_option("--home", home, "where the provider keeps its nodes' state (nodes/<name>/)");
  app.add_option("--state", state,
                 "SQLite file that keeps the nodes made, for a restart (default: "
                 "HOME/autoscale.db)");
  if (auto done = ParseFlags(app, args, "autoscale")) return *done;
  auto cfg = head::config::Load(config_file);
  if (!cfg.ok()) return Fail("autoscale", cfg.status(), 2);
  if (!cfg->elastic()) return Fail("autoscale", config_file + " has no [[node_type]]", 2);
  // The names become partitions and features: refuse what Slurm could not take.
  if (auto names = slurm::SlurmConfFragment(cfg->node_types, 0, config_file); !names.ok())
    return Fail("autoscale", names.status(), 2);
  if (!slurm_conf.empty() && access(slurm_conf.c_str(), R_OK) != 0)
    return Fail("autoscale", "cannot read the slurm.conf " + slurm_conf, 2);
  if (Status s = MakeDirs(home + "/nodes", 0700); !s.ok()) return Fail("autoscale", s);
  StopSignal stop_signal;

  auto slurm = slurm::MakeSlurmCommands(slurm_conf, std::chrono::seconds(60));
  provider::ProviderContext ctx;
  ctx.home = home;
  ctx.node_command = [=](const std::string& name, const head::autoscaler::NodeType& type) {
    return slurm::SlurmdCommand(slurmd, slurm_conf, spool, name, type);
  };
  auto inner = provider::MakeProvider(ProviderSettings(*cfg), ctx);
  if (!inner.ok()) return Fail("autoscale", inner.status(), 2);
  auto provider = slurm::MakeSlurmNodeProvider(std::move(inner).value(), slurm.get(),
                                               slurm::SlurmNodeOptions{});

  slurm::AutoscaleOptions o;
  o.types = cfg->node_types;
  o.policy = cfg->policy;
  o.policy_options = cfg->policy_options;
  o.pool = PoolLimits(*cfg);
  o.interval = std::chrono::milliseconds(static_cast<int64_t>(cfg->interval_s * 1000));
  o.ledger = home + "/autoscale-nodes.csv";
  o.state = state.empty() ? home + "/autoscale.db" : state;
  SystemClock clock;
  auto autoscaler = slurm::Autoscaler::Make(o, slurm.get(), provider.get(), &clock);
  if (!autoscaler.ok()) return Fail("autoscale", autoscaler.status(), 2);

  std::atomic<bool> stop = false;
  std::thread waiter([&] {
    int sig = stop_signal.Wait();
    LogInfo("autoscale: signal %d, stopping", sig);
    stop = true;
  });
  LogInfo("autoscale: %zu node types, policy %s, slurm.conf %s (pid %d)", o.types.size(),
          o.policy.c_str(), slurm_conf.empty() ? "(Slurm's default)" : slurm_conf.c_str(),
          getpid());
  (*autoscaler)->Run(stop);
  waiter.join();
  return 0;
}

}  // namespace swell::cli
