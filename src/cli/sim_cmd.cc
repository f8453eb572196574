// swell sim: the scheduler and autoscaler on a virtual clock over a workload.

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/cli.h"
#include "cli/daemon_cmds.h"
#include "common/files.h"
#include "common/text.h"
#include "head/config/config.h"
#include "sim/sim.h"
#include "sim/workload.h"
#include "web/report.h"

namespace swell::cli {

int Sim(const Args& args) {
  CLI::App app{"swell sim: run a workload through the autoscaler on a virtual clock"};
  std::string workload = "clic", policy = "clic", compare, config_file, csv_file, plot_file,
              report_dir, jobs_file;
  uint64_t seed = 1;
  int boot_seconds = -1, shutdown_seconds = -1, tick_seconds = 10, min_lifetime = 600;
  int register_seconds = 0, billing_increment = 0, billing_minimum = 0;
  double wait_weight = 2, boot_hang_rate = 0, tick_phase = 0;
  bool json = false;
  app.add_option("--workload", workload,
                 "clic (CLIC's 4-hour stress test), swf:PATH (.swf or .swf.gz trace) or "
                 "synthetic:jobs=N,... (see src/sim/workload.h)");
  app.add_option("--policy", policy,
                 "clic, greedy, powersave, lookahead, or oracle (clairvoyant: knows the whole "
                 "workload; the cost floor, only here)");
  app.add_option("--compare", compare, "several policies, comma separated: one table");
  app.add_option("--seed", seed, "workload seed");
  // Seconds and weights: zero or more.
  auto non_negative = [&](const std::string& name, auto& value, const std::string& help) {
    app.add_option(name, value, help)->check(CLI::NonNegativeNumber);
  };
  non_negative("--boot-seconds", boot_seconds, "override every type's boot time");
  non_negative("--shutdown-seconds", shutdown_seconds,
               "override every type's shutdown time (billed)");
  app.add_option("--tick", tick_seconds, "seconds between autoscaler decisions")
      ->check(CLI::PositiveNumber);
  non_negative("--tick-phase", tick_phase,
               "seconds after the first arrival of the first decision (0 .. --tick)");
  non_negative("--min-lifetime", min_lifetime, "CLIC's minimum node lifetime, seconds");
  non_negative("--wait-weight", wait_weight,
               "lookahead: a second of a job's wait costs this many node-seconds");
  non_negative("--register-seconds", register_seconds,
               "after a node boots, until the scheduler can use it (billed; policies do not "
               "know it)");
  non_negative("--billing-increment", billing_increment,
               "bill each node in whole increments of this many seconds (e.g. 60)");
  non_negative("--billing-minimum", billing_minimum,
               "bill each node at least this many seconds (GCE in 2017: 600)");
  app.add_option("--boot-hang-rate", boot_hang_rate,
                 "this share of the boots never finish: the pool fails such a node at its "
                 "boot timeout and the policy replaces it (drawn with --seed)")
      ->check(CLI::Range(0.0, 0.99));
  app.add_flag("--json", json, "one JSON line per policy");
  app.add_option("--csv", csv_file, "time series (queued, running, nodes up, booting) as CSV");
  app.add_option("--plot", plot_file, "the same as an SVG chart");
  app.add_option("--report", report_dir,
                 "write DIR/index.html: every policy's charts side by side and the figures");
  app.add_option("--config", config_file,
                 "cluster file (TOML): node types, autoscaler (policy and the pool's limits)")
      ->check(CLI::ExistingFile);
  app.add_option("--jobs-out", jobs_file,
                 "write the workload's jobs as CSV (submit_s,run_s,cpus,memory_mb, submit "
                 "relative to the first arrival), e.g. to replay it on a live cluster");
  if (auto done = ParseFlags(app, args, "sim")) return *done;
  if (tick_phase >= tick_seconds)
    return Fail("sim", "--tick-phase must be less than --tick (" + std::to_string(tick_seconds) +
                           " s)", 2);
  std::vector<sim::SimJob> jobs;
  std::vector<head::autoscaler::NodeType> types;
  if (workload == "clic") {
    jobs = sim::ClicWorkload(seed);
    types = sim::ClicTypes();
  } else if (workload.rfind("synthetic:", 0) == 0) {
    std::string spec = workload.substr(10);
    if (spec.find("seed=") == std::string::npos) spec += ",seed=" + std::to_string(seed);
    auto w = sim::Synthetic(spec);
    if (!w.ok()) return Fail("sim", w.status(), 2);
    jobs = std::move(w).value();
    types = sim::DefaultTypes();
  } else if (workload.rfind("swf:", 0) == 0) {
    types = sim::DefaultTypes();
    sim::SwfOptions so;
    for (const auto& t : types) so.cpus_per_node = std::max(so.cpus_per_node, t.cpus);
    auto w = sim::LoadSwf(workload.substr(4), so);
    if (!w.ok()) return Fail("sim", w.status(), 2);
    jobs = std::move(w).value();
  } else {
    return Fail("sim", "unknown workload '" + workload + "' (clic, swf:PATH, synthetic:SPEC)", 2);
  }
  if (!jobs_file.empty()) {
    Status st = WriteFileAtomic(jobs_file, sim::JobsCsv(jobs));
    if (!st.ok()) return Fail("sim", st);
  }
  // The cluster file first, then the flags that were given.
  head::autoscaler::PolicyOptions options;
  head::elastic::PoolOptions pool;  // the live head's defaults without a file
  if (!config_file.empty()) {
    auto c = head::config::Load(config_file);
    if (!c.ok()) return Fail("sim", c.status(), 2);
    if (!c->node_types.empty()) types = c->node_types;
    options = c->policy_options;
    pool = PoolLimits(*c);
    if (app.count("--policy") == 0) policy = c->policy;
  }
  if (app.count("--min-lifetime") > 0 || config_file.empty())
    options.min_lifetime = std::chrono::seconds(min_lifetime);
  if (app.count("--wait-weight") > 0 || config_file.empty()) options.wait_weight = wait_weight;
  if (boot_seconds >= 0)
    for (auto& t : types) t.boot = std::chrono::seconds(boot_seconds);
  if (shutdown_seconds >= 0)
    for (auto& t : types) t.shutdown = std::chrono::seconds(shutdown_seconds);
  std::vector<std::string> policies = SplitNonEmpty(compare.empty() ? policy : compare, ',');
  for (const auto& p : policies) {
    if (p == "oracle") continue;  // built by the simulator from the workload
    auto known = head::autoscaler::MakePolicy(p, {});
    if (!known.ok()) return Fail("sim", known.status(), 2);
  }
  if (!json)
    std::printf("%-10s %5s %9s %10s %10s %8s %8s %8s %9s %6s\n", "POLICY", "JOBS", "JOB_H",
                "NODE_H", "EFFIC", "WAIT50", "WAIT95", "WAITMAX", "COST", "NODES");
  std::vector<web::PolicyRun> report;
  for (const auto& p : policies) {
    sim::SimOptions o;
    o.types = types;
    o.policy = p;
    o.tick = std::chrono::seconds(tick_seconds);
    o.tick_phase = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(tick_phase));
    o.policy_options = options;
    o.register_delay = std::chrono::seconds(register_seconds);
    o.billing_increment = std::chrono::seconds(billing_increment);
    o.billing_minimum = std::chrono::seconds(billing_minimum);
    o.pool = pool;
    o.boot_hang_rate = boot_hang_rate;
    o.boot_hang_seed = seed;
    std::vector<sim::Sample> series;
    bool want_series = !csv_file.empty() || !plot_file.empty() || !report_dir.empty();
    auto m = sim::Simulate(jobs, o, want_series ? &series : nullptr);
    if (!m.ok()) return Fail("sim", m.status(), 2);
    // With several policies each gets its own file: name-<policy>.ext.
    auto per_policy = [&](const std::string& f) {
      if (policies.size() == 1) return f;
      auto dot = f.rfind('.');
      auto slash = f.rfind('/');
      if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
        return f + "-" + p;
      return f.substr(0, dot) + "-" + p + f.substr(dot);
    };
    if (!csv_file.empty()) {
      Status st = WriteFileAtomic(per_policy(csv_file), sim::ToCsv(series));
      if (!st.ok()) return Fail("sim", st);
    }
    if (!plot_file.empty()) {
      Status st = WriteFileAtomic(per_policy(plot_file),
                                  sim::ToSvg(series, "swell sim: " + workload + ", policy " + p));
      if (!st.ok()) return Fail("sim", st);
    }
    if (!report_dir.empty()) report.push_back({*m, series});
    if (json) {
      std::printf("%s\n", sim::ToJson(*m).c_str());
    } else {
      std::printf("%-10s %5lld %9.2f %10.2f %10.3f %8.0f %8.0f %8.0f %9.3f %6d\n",
                  m->policy.c_str(), static_cast<long long>(m->jobs), m->job_hours, m->node_hours,
                  m->efficiency, m->wait_p50_s, m->wait_p95_s, m->wait_max_s, m->cost,
                  m->nodes_max);
    }
  }
  if (!report_dir.empty()) {
    if (Status st = MakeDirs(report_dir, 0755); !st.ok()) return Fail("sim", st);
    const std::string page = report_dir + "/index.html";
    Status st = WriteFileAtomic(page, web::SimReport("swell sim: " + workload, report), 0644);
    if (!st.ok()) return Fail("sim", st);
    if (!json) std::printf("report: %s\n", page.c_str());
  }
  return 0;
}

}  // namespace swell::cli
