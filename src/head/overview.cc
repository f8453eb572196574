// The head's overview (overview.h): taken on the loop from its memory, and as JSON.

#include "head/overview.h"

#include <nlohmann/json.hpp>

#include "head/head_impl.h"
#include "head/job_model.h"

namespace swell::head {

head::Overview Head::Impl::DoOverview() {
  head::Overview o = counters_;
  const int64_t now_ms = ToMillis(clock_->Now());
  o.now_ms = now_ms;
  o.cluster = pool_ ? "elastic" : "static";
  for (const auto& [id, job] : jobs_) {
    const char* state = StateName(static_cast<pb::JobState>(job.row.state));
    ++o.jobs[state][job.spec.partition()];
    if (job.row.state == pb::PENDING)
      ++o.pending_reasons[job.row.reason.empty() ? "None" : job.row.reason];
    if (job.row.state != pb::RUNNING) continue;
    ++o.running_jobs;
    if (o.running.size() >= head::Overview::kMaxRunning) continue;
    head::Overview::RunningJob r{id, job.row.name, job.row.user, job.spec.partition(), "", 0, 0};
    std::set<std::string> nodes;
    for (const auto& [pos, t] : job.live) {
      if (!t.started) continue;
      ++r.tasks_running;
      nodes.insert(t.node);
      if (r.start_ms == 0 || t.start_ms < r.start_ms) r.start_ms = t.start_ms;
    }
    for (const auto& n : nodes) r.nodes += (r.nodes.empty() ? "" : ",") + n;
    if (r.start_ms == 0) r.start_ms = job.row.start_ms;
    o.running.push_back(std::move(r));
  }
  auto nodes = DoNodes();
  if (nodes.ok()) {
    for (const auto& n : nodes->nodes()) {
      std::string state = n.state();
      // A pool node not up yet (Slurm's POWERING_UP): by its phase.
      if (n.phase() == "requested" || n.phase() == "booting") {
        state = n.phase();
        for (char& c : state) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      ++o.nodes[n.partition()][state];
      if (state == "DOWN" || state == "REQUESTED" || state == "BOOTING") continue;
      o.cpus += n.cpus();
      o.cpus_used += n.cpus_used();
    }
  }
  if (pool_) {
    auto rows = store_->LoadPool();
    if (rows.ok()) {
      for (const auto& r : *rows) {
        const int t = TypeIndex(r.type);
        const double price =
            t < 0 ? 0 : pool_->types()[static_cast<size_t>(t)].price_per_hour;
        const bool gone = r.phase == "gone";
        const double hours =
            static_cast<double>((gone ? r.gone_ms : now_ms) - r.requested_ms) / 3.6e6;
        o.node_hours_paid += std::max(0.0, hours);
        o.cost += std::max(0.0, hours) * price;
        if (!gone) o.cost_per_hour += price;
        ++o.nodes_created;
        if (gone) ++o.nodes_deleted;
        if (r.failed && r.ready_ms == 0) ++o.boot_failures;
      }
    }
  }
  return o;
}

namespace {

nlohmann::json HistogramJson(const Histogram& h) {
  return {{"bounds", h.bounds()}, {"counts", h.counts()}, {"sum", h.sum()}, {"count", h.count()}};
}

}  // namespace

std::string ToJson(const Overview& o) {
  nlohmann::json running = nlohmann::json::array();
  for (const auto& r : o.running)
    running.push_back({{"id", r.id},
                       {"name", r.name},
                       {"user", r.user},
                       {"partition", r.partition},
                       {"nodes", r.nodes},
                       {"start_ms", r.start_ms},
                       {"tasks_running", r.tasks_running}});
  nlohmann::json j = {
      {"now_ms", o.now_ms},
      {"started_ms", o.started_ms},
      {"cluster", o.cluster},
      {"jobs", o.jobs},
      {"pending_reasons", o.pending_reasons},
      {"running", running},
      {"running_jobs", o.running_jobs},
      {"nodes", o.nodes},
      {"cpus", o.cpus},
      {"cpus_used", o.cpus_used},
      {"jobs_submitted", o.jobs_submitted},
      {"jobs_finished", o.jobs_finished},
      {"tasks_started", o.tasks_started},
      {"node_failures", o.node_failures},
      {"nodes_created", o.nodes_created},
      {"nodes_deleted", o.nodes_deleted},
      {"boot_failures", o.boot_failures},
      {"node_hours_used", o.node_hours_used},
      {"node_hours_paid", o.node_hours_paid},
      {"cost", o.cost},
      {"cost_per_hour", o.cost_per_hour},
      {"queue_wait_seconds", HistogramJson(o.queue_wait)},
      {"dispatch_latency_seconds", HistogramJson(o.dispatch_latency)},
      {"commit_seconds", HistogramJson(o.commit_seconds)},
      {"pass_seconds", HistogramJson(o.pass_seconds)},
      {"schedule_seconds", HistogramJson(o.schedule_seconds)},
  };
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace swell::head
