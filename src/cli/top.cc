// `swell top`: the dashboard's overview in the terminal (the queue, the nodes, the cost, the
// running jobs), redrawn every few seconds from the head's Overview call (head/overview.h).

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/cli.h"
#include "common/local_time.h"
#include "common/slurm_format.h"

namespace swell::cli {

namespace {

constexpr size_t kRunningShown = 20;

long long Sum(const nlohmann::json& by) {
  long long n = 0;
  for (const auto& [k, v] : by.items()) n += v.get<long long>();
  return n;
}

// "k1 n1, k2 n2" of an object of counts.
std::string Counts(const nlohmann::json& by) {
  std::string out;
  for (const auto& [k, v] : by.items())
    out += (out.empty() ? "" : ", ") + (k.empty() ? std::string("(none)") : k) + " " +
           std::to_string(v.get<long long>());
  return out;
}

// Slurm's elapsed form (FormatDuration) of the time from `from_ms` to `now_ms`.
std::string Since(int64_t from_ms, int64_t now_ms) {
  return FormatDuration(std::chrono::milliseconds(std::max<int64_t>(0, now_ms - from_ms)));
}

// The screen for one overview. Returns false when the JSON is not an overview.
bool Draw(const std::string& json) {
  auto o = nlohmann::json::parse(json, nullptr, false);
  if (o.is_discarded() || !o.is_object()) return false;
  const int64_t now = o.value("now_ms", int64_t{0});
  const auto& jobs = o["jobs"];
  long long pending = jobs.contains("PENDING") ? Sum(jobs["PENDING"]) : 0;
  long long running = jobs.contains("RUNNING") ? Sum(jobs["RUNNING"]) : 0;
  std::printf("swell top   %s   head up %s   (%s cluster)\n", FormatTime(FromMillis(now)).c_str(),
              Since(o.value("started_ms", now), now).c_str(),
              o.value("cluster", "").c_str());
  std::printf("jobs    %lld pending, %lld running   submitted %lld, finished: %s\n", pending,
              running, o.value("jobs_submitted", 0LL),
              o["jobs_finished"].empty() ? "none" : Counts(o["jobs_finished"]).c_str());
  if (!o["pending_reasons"].empty())
    std::printf("waiting %s\n", Counts(o["pending_reasons"]).c_str());
  long long up = 0, booting = 0;
  for (const auto& [type, states] : o["nodes"].items())
    for (const auto& [state, n] : states.items()) {
      if (state == "IDLE" || state == "MIXED" || state == "ALLOCATED" || state == "DRAINING")
        up += n.get<long long>();
      if (state == "REQUESTED" || state == "BOOTING") booting += n.get<long long>();
    }
  std::printf("nodes   %lld up, %lld booting   cpus %lld of %lld in use\n", up, booting,
              o.value("cpus_used", 0LL), o.value("cpus", 0LL));
  for (const auto& [type, states] : o["nodes"].items())
    std::printf("  %-14s %s\n", type.empty() ? "(static)" : type.c_str(), Counts(states).c_str());
  if (o.value("cluster", "") == "elastic")
    std::printf("cost    %.4f so far, %.4f per hour   node-hours paid %.3f, used %.3f\n",
                o.value("cost", 0.0), o.value("cost_per_hour", 0.0),
                o.value("node_hours_paid", 0.0), o.value("node_hours_used", 0.0));
  const auto& list = o["running"];
  std::printf("\n%-10s %-20s %-10s %-10s %6s %11s  %s\n", "JOBID", "NAME", "USER", "PARTITION",
              "TASKS", "ELAPSED", "NODES");
  size_t shown = 0;
  for (const auto& r : list) {
    if (shown++ == kRunningShown) break;
    std::printf("%-10lld %-20.20s %-10.10s %-10.10s %6lld %11s  %s\n", r.value("id", 0LL),
                r.value("name", "").c_str(), r.value("user", "").c_str(),
                r.value("partition", "").c_str(), r.value("tasks_running", 0LL),
                Since(r.value("start_ms", now), now).c_str(),
                r.value("nodes", "").c_str());
  }
  const long long all = o.value("running_jobs", 0LL);
  if (all > static_cast<long long>(std::min(shown, kRunningShown)))
    std::printf("... and %lld more running\n", all - static_cast<long long>(kRunningShown));
  return true;
}

}  // namespace

int Top(const Args& args) {
  CLI::App app{"swell top: the cluster at a glance, redrawn until interrupted"};
  bool once = false;
  double interval = 2;
  app.add_flag("--once", once, "draw once and exit");
  app.add_option("--interval", interval, "seconds between redraws (default 2)")
      ->check(CLI::Range(0.2, 3600.0));
  if (auto done = ParseFlags(app, args, "top")) return *done;
  auto client = Connect(Home());
  const bool tty = isatty(1) == 1 && !once;
  for (;;) {
    auto r = client->Overview({});
    if (!r.ok()) return Fail("top", r.status());
    if (tty) std::printf("\033[H\033[2J");  // home, clear
    if (!Draw(r->json())) return Fail("top", "the head sent an unreadable overview", 1);
    std::fflush(stdout);
    if (once) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(interval * 1000)));
  }
}

}  // namespace swell::cli
