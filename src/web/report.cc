#include "web/report.h"

#include <nlohmann/json.hpp>
#include <string_view>

#include "web/assets.h"

namespace swell::web {

namespace {

std::string_view ChartJs() {
  for (const auto& a : Assets())
    if (std::string_view(a.path) == "/chart.js") return {a.data, a.size};
  return {};
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// JSON inside a <script> element: "</" could end it.
std::string ScriptSafe(const std::string& json) {
  std::string out;
  for (size_t i = 0; i < json.size(); ++i) {
    out += json[i];
    if (json[i] == '<' && i + 1 < json.size() && json[i + 1] == '/') out += '\\';
  }
  return out;
}

nlohmann::json SeriesJson(const std::vector<sim::Sample>& series, size_t max_points) {
  const size_t step =
      series.size() <= max_points ? 1 : (series.size() + max_points - 1) / max_points;
  nlohmann::json t = nlohmann::json::array(), queued = t, running = t, up = t, booting = t;
  for (size_t i = 0; i < series.size(); i += step) {
    // The last sample always: the run's end.
    const sim::Sample& s = i + step >= series.size() ? series.back() : series[i];
    t.push_back(s.t_s / 3600);
    queued.push_back(s.queued);
    running.push_back(s.running);
    up.push_back(s.nodes_up);
    booting.push_back(s.booting);
  }
  return {{"hours", t},
          {"queued", queued},
          {"running", running},
          {"nodes_up", up},
          {"booting", booting}};
}

}  // namespace

std::string SimReport(const std::string& title, const std::vector<PolicyRun>& runs,
                      size_t max_points) {
  nlohmann::json data = nlohmann::json::array();
  std::string rows, figures;
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto& m = runs[i].metrics;
    data.push_back({{"policy", m.policy}, {"series", SeriesJson(runs[i].series, max_points)}});
    char row[512];
    std::snprintf(row, sizeof row,
                  "<tr><td>%s</td><td class=num>%lld</td><td class=num>%.2f</td>"
                  "<td class=num>%.2f</td><td class=num>%.3f</td><td class=num>%.0f</td>"
                  "<td class=num>%.0f</td><td class=num>%.0f</td><td class=num>%.3f</td>"
                  "<td class=num>%d</td><td class=num>%lld</td></tr>\n",
                  Escape(m.policy).c_str(), static_cast<long long>(m.jobs), m.job_hours,
                  m.node_hours, m.efficiency, m.wait_p50_s, m.wait_p95_s, m.wait_max_s, m.cost,
                  m.nodes_max, static_cast<long long>(m.scale_ups));
    rows += row;
    figures += "<section class=policy><h2>" + Escape(m.policy) +
               "</h2><figure><figcaption>Jobs</figcaption><canvas id=jobs-" + std::to_string(i) +
               "></canvas></figure><figure><figcaption>Nodes</figcaption><canvas id=nodes-" +
               std::to_string(i) + "></canvas></figure></section>\n";
  }
  std::string page = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>)" +
                     Escape(title) + R"(</title>
<style>
body { margin: 1.5em; font: 14px/1.45 system-ui, sans-serif; color: #1d2330; background: #f6f7f9; }
h1 { font-size: 1.3em; } h2 { font-size: 1.05em; margin: .2em 0 .5em; }
table { border-collapse: collapse; background: #fff; margin-bottom: 1.5em; }
th, td { padding: .3em .8em; border-bottom: 1px solid #dfe3ea; text-align: left; }
th { color: #6b7385; } .num { text-align: right; font-variant-numeric: tabular-nums; }
.policies { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 1em; }
.policy { background: #fff; border: 1px solid #dfe3ea; border-radius: 6px; padding: .8em; }
figure { margin: 0 0 .8em; height: 240px; display: flex; flex-direction: column; }
figure canvas { flex: 1; min-height: 0; } figcaption { color: #6b7385; }
</style>
<script>)" + std::string(ChartJs()) +
                     R"(</script>
</head><body>
<h1>)" + Escape(title) +
                     R"(</h1>
<table><thead><tr><th>policy</th><th class=num>jobs</th><th class=num>job-hours</th>
<th class=num>node-hours</th><th class=num>efficiency</th><th class=num>wait p50 (s)</th>
<th class=num>wait p95 (s)</th><th class=num>wait max (s)</th><th class=num>cost</th>
<th class=num>nodes at most</th><th class=num>nodes created</th></tr></thead><tbody>
)" + rows + R"(</tbody></table>
<div class=policies>
)" + figures + R"(</div>
<script>
const runs = )" + ScriptSafe(data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)) +
                     R"(;
const colors = ["#2563eb", "#d97706", "#059669", "#dc2626"];
function chart(id, s, sets) {
  const canvas = document.getElementById(id);
  canvas.dataset.points = s.hours.length;
  if (!window.Chart) return;
  new Chart(canvas, {type: "line",
    data: {labels: s.hours.map(h => h.toFixed(2)),
           datasets: sets.map(([label, key], i) => ({label, data: s[key], borderColor: colors[i],
             backgroundColor: colors[i], borderWidth: 1.5, stepped: true}))},
    options: {animation: false, responsive: true, maintainAspectRatio: false,
              elements: {point: {radius: 0}},
              scales: {x: {title: {display: true, text: "hours"}, ticks: {maxTicksLimit: 8}},
                       y: {beginAtZero: true}}}});
}
runs.forEach((r, i) => {
  chart("jobs-" + i, r.series, [["queued", "queued"], ["running", "running"]]);
  chart("nodes-" + i, r.series, [["nodes up", "nodes_up"], ["booting", "booting"]]);
});
</script>
</body></html>
)";
  return page;
}

}  // namespace swell::web
