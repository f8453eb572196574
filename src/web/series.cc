#include "web/series.h"

#include <nlohmann/json.hpp>
#include <set>

namespace swell::web {

Sample SampleOf(const head::Overview& o) {
  Sample s;
  s.t_ms = o.now_ms;
  for (const auto& [state, parts] : o.jobs) {
    int64_t n = 0;
    for (const auto& [partition, count] : parts) n += count;
    if (state == "PENDING") s.pending += n;
    if (state == "RUNNING") s.running += n;
  }
  for (const auto& [type, states] : o.nodes) {
    for (const auto& [state, n] : states) {
      if (state == "IDLE" || state == "MIXED" || state == "ALLOCATED" || state == "DRAINING")
        s.nodes_up[type] += n;
      if (state == "REQUESTED" || state == "BOOTING") s.nodes_booting[type] += n;
    }
  }
  s.cpus = o.cpus;
  s.cpus_used = o.cpus_used;
  s.cost = o.cost;
  s.cost_per_hour = o.cost_per_hour;
  return s;
}

void Series::Add(Sample s) {
  std::lock_guard<std::mutex> lock(mu_);
  samples_.push_back(std::move(s));
  while (samples_.size() > capacity_) samples_.pop_front();
}

size_t Series::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return samples_.size();
}

std::string Series::Json() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json j;
  auto& t = j["t"] = nlohmann::json::array();
  auto& pending = j["pending"] = nlohmann::json::array();
  auto& running = j["running"] = nlohmann::json::array();
  auto& cpus = j["cpus"] = nlohmann::json::array();
  auto& cpus_used = j["cpus_used"] = nlohmann::json::array();
  auto& cost = j["cost"] = nlohmann::json::array();
  auto& rate = j["cost_per_hour"] = nlohmann::json::array();
  std::set<std::string> types;
  for (const auto& s : samples_) {
    for (const auto& [type, n] : s.nodes_up) types.insert(type);
    for (const auto& [type, n] : s.nodes_booting) types.insert(type);
  }
  j["nodes_up"] = nlohmann::json::object();
  j["nodes_booting"] = nlohmann::json::object();
  for (const auto& type : types) {
    j["nodes_up"][type] = nlohmann::json::array();
    j["nodes_booting"][type] = nlohmann::json::array();
  }
  auto count = [](const std::map<std::string, int64_t>& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? int64_t{0} : it->second;
  };
  for (const auto& s : samples_) {
    t.push_back(s.t_ms);
    pending.push_back(s.pending);
    running.push_back(s.running);
    cpus.push_back(s.cpus);
    cpus_used.push_back(s.cpus_used);
    cost.push_back(s.cost);
    rate.push_back(s.cost_per_hour);
    for (const auto& type : types) {
      j["nodes_up"][type].push_back(count(s.nodes_up, type));
      j["nodes_booting"][type].push_back(count(s.nodes_booting, type));
    }
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace swell::web
