#include "web/metrics.h"

#include <fmt/format.h>

#include <map>
#include <vector>

namespace swell::web {

namespace {

// A label value as the format wants it: backslash, double quote and newline escaped.
std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

class Text {
 public:
  void Family(const char* name, const char* type, const char* help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  void Sample(const std::string& name, const std::vector<std::pair<const char*, std::string>>& labels,
              double value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      for (size_t i = 0; i < labels.size(); ++i)
        out_ += fmt::format("{}{}=\"{}\"", i ? "," : "", labels[i].first, Escape(labels[i].second));
      out_ += '}';
    }
    out_ += fmt::format(" {}\n", value);
  }
  void One(const char* name, const char* type, const char* help, double value) {
    Family(name, type, help);
    Sample(name, {}, value);
  }
  // A map of label value -> count as one labelled family.
  void ByLabel(const char* name, const char* type, const char* help, const char* label,
               const std::map<std::string, int64_t>& values) {
    Family(name, type, help);
    for (const auto& [v, n] : values) Sample(name, {{label, v}}, static_cast<double>(n));
  }
  void Histogram(const char* name, const char* help, const swell::Histogram& h) {
    Family(name, "histogram", help);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < h.bounds().size(); ++i) {
      cumulative += h.counts()[i];
      Sample(std::string(name) + "_bucket", {{"le", fmt::format("{}", h.bounds()[i])}},
             static_cast<double>(cumulative));
    }
    Sample(std::string(name) + "_bucket", {{"le", "+Inf"}}, static_cast<double>(h.count()));
    Sample(std::string(name) + "_sum", {}, h.sum());
    Sample(std::string(name) + "_count", {}, static_cast<double>(h.count()));
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::string PrometheusText(const head::Overview& o) {
  Text t;
  t.Family("swell_jobs", "gauge", "Jobs in the queue by state and partition.");
  for (const auto& [state, parts] : o.jobs)
    for (const auto& [partition, n] : parts)
      t.Sample("swell_jobs", {{"state", state}, {"partition", partition}}, static_cast<double>(n));
  t.ByLabel("swell_pending_jobs", "gauge", "Pending jobs by the reason they wait.", "reason",
            o.pending_reasons);
  t.Family("swell_nodes", "gauge",
           "Nodes by type (empty for static nodes) and state (IDLE, MIXED, ALLOCATED, DRAINING, "
           "DOWN, REQUESTED, BOOTING, POWERING_DOWN).");
  for (const auto& [type, states] : o.nodes)
    for (const auto& [state, n] : states)
      t.Sample("swell_nodes", {{"type", type}, {"state", state}}, static_cast<double>(n));
  t.One("swell_cpus", "gauge", "CPUs of the nodes up.", static_cast<double>(o.cpus));
  t.One("swell_cpus_allocated", "gauge", "CPUs of the nodes up that allocations hold.",
        static_cast<double>(o.cpus_used));
  t.One("swell_jobs_submitted_total", "counter", "Jobs submitted since the head started.",
        static_cast<double>(o.jobs_submitted));
  t.ByLabel("swell_jobs_finished_total", "counter",
            "Jobs finished since the head started, by final state.", "state", o.jobs_finished);
  t.One("swell_tasks_started_total", "counter", "Tasks started since the head started.",
        static_cast<double>(o.tasks_started));
  t.One("swell_node_failures_total", "counter",
        "Nodes found down (not responding, lost) since the head started.",
        static_cast<double>(o.node_failures));
  t.One("swell_nodes_created_total", "counter", "Elastic nodes the head has created.",
        static_cast<double>(o.nodes_created));
  t.One("swell_nodes_deleted_total", "counter", "Elastic nodes gone (deleted or failed).",
        static_cast<double>(o.nodes_deleted));
  t.One("swell_node_boot_failures_total", "counter",
        "Elastic nodes that failed before they registered.", static_cast<double>(o.boot_failures));
  t.One("swell_node_used_seconds_total", "counter",
        "Node-seconds the ended tasks used (run time x their share of the node) since the head "
        "started.",
        o.node_hours_used * 3600);
  t.One("swell_node_paid_seconds_total", "counter",
        "Node-seconds the elastic nodes were paid for (created to gone).", o.node_hours_paid * 3600);
  t.One("swell_cost_total", "counter", "What the elastic nodes have cost, in the prices' currency.",
        o.cost);
  t.One("swell_cost_rate", "gauge",
        "What the elastic nodes alive now cost an hour, in the prices' currency.", o.cost_per_hour);
  t.One("swell_head_start_time_seconds", "gauge", "When the head started, in Unix time.",
        static_cast<double>(o.started_ms) / 1000);
  t.Histogram("swell_queue_wait_seconds", "From a job's submission to a task's start.",
              o.queue_wait);
  t.Histogram("swell_dispatch_latency_seconds",
              "From a task sent to its node to the node's report that it started.",
              o.dispatch_latency);
  t.Histogram("swell_commit_duration_seconds", "One database commit of the head's loop.",
              o.commit_seconds);
  t.Histogram("swell_loop_pass_duration_seconds", "One pass of the head's loop.", o.pass_seconds);
  t.Histogram("swell_schedule_duration_seconds",
              "One scheduling pass over the waiting jobs (sdiag's main scheduler cycle).",
              o.schedule_seconds);
  return t.Take();
}

}  // namespace swell::web
