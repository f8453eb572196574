#include "sim/sim.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <queue>
#include <random>
#include <tuple>

#include "head/scheduler/scheduler.h"

namespace swell::sim {

namespace as = head::autoscaler;
namespace sched = head::scheduler;
using std::chrono::seconds;

std::vector<SimJob> ClicWorkload(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> count(0, 16);
  std::uniform_int_distribution<int> run(500, 1000);
  std::vector<SimJob> jobs;
  Time start = FromMillis(0);
  for (int burst = 0; burst < 24; ++burst) {  // every 10 minutes for 4 hours
    int n = count(rng);
    for (int i = 0; i < n; ++i) {
      SimJob j;
      j.id = static_cast<int64_t>(jobs.size()) + 1;
      j.submit = start + seconds(600 * burst);
      j.run = seconds(run(rng));
      j.need = {1, 0, 0, 0};
      jobs.push_back(j);
    }
  }
  return jobs;
}

std::vector<as::NodeType> ClicTypes() {
  as::NodeType t;
  t.name = "1cpu10diskstandard";
  t.cpus = 1;
  t.memory_mb = 3840;
  t.disk_gb = 10;
  t.price_per_hour = 0.0475;  // GCE n1-standard-1 on demand, 2017
  t.boot = seconds(90);       // the article: nodes boot in 1-2 minutes
  t.shutdown = seconds(30);
  return {t};
}

std::vector<as::NodeType> DefaultTypes() {
  auto make = [](std::string name, int cpus, int64_t mem, double price, int boot_s) {
    as::NodeType t;
    t.name = std::move(name);
    t.cpus = cpus;
    t.memory_mb = mem;
    t.disk_gb = 100;
    t.price_per_hour = price;
    t.boot = seconds(boot_s);
    t.shutdown = seconds(30);
    return t;
  };
  // Shapes and on-demand prices of common general-purpose cloud instances.
  return {make("small", 2, 8192, 0.096, 60), make("medium", 4, 16384, 0.192, 75),
          make("large", 16, 65536, 0.768, 90), make("xlarge", 64, 262144, 3.072, 120)};
}

namespace {

enum class EventKind { kArrival, kReady, kJobEnd, kGone, kTick };

struct Event {
  Time at;
  EventKind kind;
  int64_t a = 0;  // job index or node id
  int64_t b = 0;  // node id for job ends
  uint64_t seq = 0;
  bool operator>(const Event& o) const { return std::tie(at, seq) > std::tie(o.at, o.seq); }
};

struct SimNode {
  int64_t id = 0;
  int type = 0;
  as::NodeState state = as::NodeState::kBooting;
  Time created, idle_since, gone;
  sched::Resources used;
  int running = 0;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace

Result<Metrics> Simulate(const std::vector<SimJob>& jobs, const SimOptions& o,
                         std::vector<Sample>* series) {
  auto wall_start = std::chrono::steady_clock::now();
  if (o.types.empty()) return InvalidArgument("no node types");
  auto policy_or = as::MakePolicy(o.policy, o.policy_options);
  if (!policy_or.ok()) return policy_or.status();
  auto policy = std::move(policy_or).value();

  std::vector<int> type_of(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    auto t = as::Route(o.types, jobs[i].need);
    if (!t)
      return InvalidArgument("job " + std::to_string(jobs[i].id) + " fits no node type (" +
                             std::to_string(jobs[i].need.cpus) + " cpus)");
    type_of[i] = *t;
  }

  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events;
  uint64_t seq = 0;
  auto push = [&](Time at, EventKind k, int64_t a = 0, int64_t b = 0) {
    events.push({at, k, a, b, seq++});
  };
  for (size_t i = 0; i < jobs.size(); ++i)
    push(jobs[i].submit, EventKind::kArrival, static_cast<int64_t>(i));
  if (jobs.empty()) return Metrics{o.policy};
  Time first = jobs.front().submit;
  for (const auto& j : jobs) first = std::min(first, j.submit);
  push(first, EventKind::kTick);

  std::map<int64_t, SimNode> nodes;  // live (not gone)
  std::vector<std::deque<size_t>> pending(o.types.size());
  std::vector<double> waits;
  int64_t next_node = 1, arrived = 0, running = 0;
  Metrics m;
  m.policy = o.policy;
  m.jobs = static_cast<int64_t>(jobs.size());
  Time last = first;
  const Time give_up = first + std::chrono::hours(24 * 365);

  auto place = [&](Time now) {
    for (size_t t = 0; t < o.types.size(); ++t) {
      if (pending[t].empty()) continue;
      std::vector<sched::Node> view;
      std::vector<int64_t> ids;
      const auto& type = o.types[t];
      for (auto& [id, n] : nodes) {
        if (n.type != static_cast<int>(t)) continue;
        if (n.state != as::NodeState::kIdle && n.state != as::NodeState::kAllocated) continue;
        view.push_back({"", {type.cpus, type.memory_mb, type.gpus}, n.used});
        ids.push_back(id);
      }
      if (view.empty()) continue;
      std::vector<sched::Group> groups;
      for (size_t k = 0; k < pending[t].size(); ++k) {
        const SimJob& j = jobs[pending[t][k]];
        sched::Group g;
        g.id = pending[t][k] + 1;
        g.submit_time = j.submit;
        g.cpus_per_task = j.need.cpus;
        g.mem_mb = j.need.memory_mb;
        g.gpus = j.need.gpus;
        g.time_limit = j.run;
        groups.push_back(g);
      }
      auto d = sched::Schedule(view, {}, groups, now);
      std::vector<bool> started(jobs.size(), false);
      for (const auto& s : d.starts) {
        size_t ji = static_cast<size_t>(s.group - 1);
        SimNode& n = nodes.at(ids[static_cast<size_t>(s.shares.front().node)]);
        n.used += s.shares.front().res;
        ++n.running;
        n.state = as::NodeState::kAllocated;
        started[ji] = true;
        waits.push_back(std::chrono::duration<double>(now - jobs[ji].submit).count());
        // Node-hours of work: a job using c of a node's C cpus for h hours counts h * c / C.
        m.job_hours += std::chrono::duration<double>(jobs[ji].run).count() / 3600.0 *
                       jobs[ji].need.cpus / std::max(1, type.cpus);
        ++running;
        push(now + jobs[ji].run, EventKind::kJobEnd, static_cast<int64_t>(ji), n.id);
      }
      std::deque<size_t> rest;
      for (auto ji : pending[t])
        if (!started[ji]) rest.push_back(ji);
      pending[t].swap(rest);
    }
  };

  while (!events.empty()) {
    Time now = events.top().at;
    if (now > give_up) return Internal("the simulation did not finish within a year of time");
    bool tick = false;
    while (!events.empty() && events.top().at == now) {
      Event e = events.top();
      events.pop();
      switch (e.kind) {
        case EventKind::kArrival:
          pending[static_cast<size_t>(type_of[static_cast<size_t>(e.a)])].push_back(
              static_cast<size_t>(e.a));
          ++arrived;
          break;
        case EventKind::kReady: {
          auto it = nodes.find(e.a);
          if (it != nodes.end() && it->second.state == as::NodeState::kBooting) {
            it->second.state = as::NodeState::kIdle;
            it->second.idle_since = now;
          }
          break;
        }
        case EventKind::kJobEnd: {
          SimNode& n = nodes.at(e.b);
          const SimJob& j = jobs[static_cast<size_t>(e.a)];
          n.used -= sched::Resources{j.need.cpus, j.need.memory_mb, j.need.gpus};
          --running;
          if (--n.running == 0) {
            n.state = as::NodeState::kIdle;
            n.idle_since = now;
          }
          break;
        }
        case EventKind::kGone: {
          auto it = nodes.find(e.a);
          if (it != nodes.end()) {
            double hours = std::chrono::duration<double>(now - it->second.created).count() / 3600;
            m.node_hours += hours;
            m.cost += hours * o.types[static_cast<size_t>(it->second.type)].price_per_hour;
            nodes.erase(it);
          }
          last = std::max(last, now);
          break;
        }
        case EventKind::kTick: tick = true; break;
      }
    }
    place(now);
    if (!tick) continue;
    // The autoscaler's turn.
    as::View v;
    v.now = now;
    v.types = &o.types;
    for (const auto& [id, n] : nodes) v.nodes.push_back({id, n.type, n.state, n.created, n.idle_since});
    for (size_t t = 0; t < pending.size(); ++t)
      for (auto ji : pending[t])
        v.pending.push_back({static_cast<int>(t), jobs[ji].submit, 1, jobs[ji].need.cpus});
    as::Action a = policy->Decide(v);
    for (size_t t = 0; t < a.create.size() && t < o.types.size(); ++t) {
      for (int k = 0; k < a.create[t]; ++k) {
        SimNode n;
        n.id = next_node++;
        n.type = static_cast<int>(t);
        n.created = now;
        nodes[n.id] = n;
        push(now + o.types[t].boot, EventKind::kReady, n.id);
        ++m.scale_ups;
      }
    }
    for (int64_t id : a.remove) {
      auto it = nodes.find(id);
      if (it == nodes.end() || it->second.state != as::NodeState::kIdle) continue;  // never kill work
      it->second.state = as::NodeState::kDeleting;
      push(now + o.types[static_cast<size_t>(it->second.type)].shutdown, EventKind::kGone, id);
      ++m.scale_downs;
    }
    m.nodes_max = std::max(m.nodes_max, static_cast<int>(nodes.size()));
    if (series) {
      Sample smp;
      smp.t_s = std::chrono::duration<double>(now - first).count();
      for (const auto& p : pending) smp.queued += static_cast<int>(p.size());
      smp.running = static_cast<int>(running);
      for (const auto& [id, n] : nodes) {
        if (n.state == as::NodeState::kBooting) ++smp.booting;
        if (n.state == as::NodeState::kIdle || n.state == as::NodeState::kAllocated) ++smp.nodes_up;
      }
      series->push_back(smp);
    }
    bool work_left = arrived < m.jobs || running > 0 || !nodes.empty();
    for (const auto& p : pending) work_left = work_left || !p.empty();
    if (work_left) push(now + o.tick, EventKind::kTick);
  }
  m.efficiency = m.node_hours > 0 ? m.job_hours / m.node_hours : 0;
  m.wait_p50_s = Percentile(waits, 0.50);
  m.wait_p95_s = Percentile(waits, 0.95);
  m.wait_max_s = waits.empty() ? 0 : *std::max_element(waits.begin(), waits.end());
  m.makespan_s = std::chrono::duration<double>(last - first).count();
  m.sim_wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return m;
}

std::string ToCsv(const std::vector<Sample>& series) {
  std::string out = "t_s,queued,running,nodes_up,booting\n";
  char line[128];
  for (const auto& s : series) {
    snprintf(line, sizeof line, "%.0f,%d,%d,%d,%d\n", s.t_s, s.queued, s.running, s.nodes_up,
             s.booting);
    out += line;
  }
  return out;
}

std::string ToSvg(const std::vector<Sample>& series, const std::string& title) {
  const double w = 900, h = 420, left = 60, right = 160, top = 40, bottom = 50;
  double tmax = 1, ymax = 1;
  for (const auto& s : series) {
    tmax = std::max(tmax, s.t_s);
    ymax = std::max({ymax, double(s.queued), double(s.running), double(s.nodes_up),
                     double(s.booting)});
  }
  auto x = [&](double t) { return left + (w - left - right) * t / tmax; };
  auto y = [&](double v) { return top + (h - top - bottom) * (1 - v / ymax); };
  std::string out;
  char buf[256];
  snprintf(buf, sizeof buf,
           "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
           "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" "
           "height=\"100%%\" fill=\"white\"/>\n",
           w, h);
  out += buf;
  std::string safe;
  for (char c : title) safe += (c == '<' || c == '>' || c == '&') ? '_' : c;
  snprintf(buf, sizeof buf, "<text x=\"%.0f\" y=\"22\" font-size=\"15\">%s</text>\n", left,
           safe.c_str());
  out += buf;
  // Axes with a few ticks.
  snprintf(buf, sizeof buf,
           "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n"
           "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n",
           left, y(0), w - right, y(0), left, y(0), left, top);
  out += buf;
  for (int i = 0; i <= 4; ++i) {
    double t = tmax * i / 4, v = ymax * i / 4;
    snprintf(buf, sizeof buf,
             "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f min</text>\n"
             "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>\n",
             x(t), y(0) + 18, t / 60, left - 6, y(v) + 4, v);
    out += buf;
  }
  struct Line {
    const char* name;
    const char* color;
    int Sample::*field;
  } lines[] = {{"queued jobs", "#d62728", &Sample::queued},
               {"running jobs", "#1f77b4", &Sample::running},
               {"nodes up", "#2ca02c", &Sample::nodes_up},
               {"nodes booting", "#ff7f0e", &Sample::booting}};
  int row = 0;
  for (const auto& l : lines) {
    out += std::string("<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"") + l.color +
           "\" points=\"";
    for (const auto& s : series) {
      snprintf(buf, sizeof buf, "%.1f,%.1f ", x(s.t_s), y(s.*(l.field)));
      out += buf;
    }
    out += "\"/>\n";
    snprintf(buf, sizeof buf,
             "<rect x=\"%.0f\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>"
             "<text x=\"%.0f\" y=\"%d\">%s</text>\n",
             w - right + 15, static_cast<int>(top) + row * 20, l.color, w - right + 32,
             static_cast<int>(top) + row * 20 + 11, l.name);
    out += buf;
    ++row;
  }
  out += "</svg>\n";
  return out;
}

std::string ToJson(const Metrics& m) {
  char buf[1024];
  snprintf(buf, sizeof buf,
           "{\"policy\": \"%s\", \"jobs\": %lld, \"job_hours\": %.3f, \"node_hours\": %.3f, "
           "\"efficiency\": %.4f, \"wait_p50_s\": %.1f, \"wait_p95_s\": %.1f, \"wait_max_s\": %.1f, "
           "\"cost\": %.4f, \"nodes_max\": %d, \"scale_ups\": %lld, \"scale_downs\": %lld, "
           "\"makespan_s\": %.0f, \"sim_wall_s\": %.4f}",
           m.policy.c_str(), static_cast<long long>(m.jobs), m.job_hours, m.node_hours,
           m.efficiency, m.wait_p50_s, m.wait_p95_s, m.wait_max_s, m.cost, m.nodes_max,
           static_cast<long long>(m.scale_ups), static_cast<long long>(m.scale_downs),
           m.makespan_s, m.sim_wall_s);
  return buf;
}

}  // namespace swell::sim
