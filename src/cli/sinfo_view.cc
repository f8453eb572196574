#include "cli/sinfo_view.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/hostlist.h"
#include "common/text.h"

namespace swell::cli::slurm {
namespace {

using nlohmann::json;

constexpr Column kNodeColumns[] = {
    {'a', "AVAIL"},          {'A', "NODES(A/I)"},     {'c', "CPUS"},      {'C', "CPUS(A/I/O/T)"},
    {'d', "TMP_DISK"},       {'D', "NODES"},          {'e', "FREE_MEM"},  {'E', "REASON"},
    {'f', "AVAIL_FEATURES"}, {'F', "NODES(A/I/O/T)"}, {'g', "GROUPS"},    {'G', "GRES"},
    {'h', "OVERSUBSCRIBE"},  {'i', "RESERVATION"},    {'l', "TIMELIMIT"}, {'L', "DEFAULTTIME"},
    {'m', "MEMORY"},         {'n', "HOSTNAMES"},      {'N', "NODELIST"},  {'o', "NODE_ADDR"},
    {'O', "CPU_LOAD"},       {'P', "PARTITION"},      {'r', "ROOT"},      {'R', "PARTITION"},
    {'s', "JOB_SIZE"},       {'S', "ALLOCNODES"},     {'t', "STATE"},     {'T', "STATE"},
    {'w', "WEIGHT"},         {'X', "SOCKETS"},        {'Y', "CORES"},     {'z', "S:C:T"},
    {'Z', "THREADS"},
};

// Counts of a group's nodes and cpus: allocated, idle, other, total.
struct Counts {
  int64_t alloc = 0, idle = 0, other = 0, total = 0;
};

Counts NodeCounts(const NodeGroup& g) {
  Counts c;
  for (const auto* n : g.nodes) {
    std::string s = NodeStateOf(*n).compact;
    if (s == "ALLOC" || s == "MIX")
      ++c.alloc;
    else if (s == "IDLE")
      ++c.idle;
    else
      ++c.other;
    ++c.total;
  }
  return c;
}

Counts CpuCounts(const NodeGroup& g) {
  Counts c;
  for (const auto* n : g.nodes) {
    std::string s = NodeStateOf(*n).compact;
    if (s == "ALLOC" || s == "MIX" || s == "IDLE") {
      c.alloc += n->cpus_used();
      c.idle += std::max(0, n->cpus() - n->cpus_used());
    } else {
      c.other += n->cpus();
    }
    c.total += n->cpus();
  }
  return c;
}

// "8" when every node has 8, "4+" when the smallest has 4 (sinfo without -e).
template <typename F>
std::string MinPlus(const NodeGroup& g, F value) {
  if (g.nodes.empty()) return "0";
  auto lo = value(*g.nodes[0]), hi = lo;
  for (const auto* n : g.nodes) lo = std::min(lo, value(*n)), hi = std::max(hi, value(*n));
  return std::to_string(lo) + (hi > lo ? "+" : "");
}

std::string Names(const NodeGroup& g, bool hostnames) {
  std::vector<std::string> names;
  for (const auto* n : g.nodes)
    names.push_back(hostnames && !n->hostname().empty() ? n->hostname() : n->name());
  return CompressHostList(names);
}

}  // namespace

std::vector<NodeGroup> NodeGroups(const pb::NodesReply& reply, bool node_oriented, bool by_state,
                                  bool by_reason) {
  // The partitions, in order.
  std::vector<std::string> parts;
  auto add_part = [&](const std::string& p) {
    if (std::find(parts.begin(), parts.end(), p) == parts.end()) parts.push_back(p);
  };
  bool any_static = reply.partitions_size() == 0;
  for (const auto& n : reply.nodes()) any_static = any_static || n.partition().empty();
  if (any_static) add_part(kStaticPartition);
  for (const auto& p : reply.partitions()) add_part(p);
  std::vector<std::string> extra;
  for (const auto& n : reply.nodes())
    if (std::find(parts.begin(), parts.end(), PartitionOf(n)) == parts.end())
      extra.push_back(PartitionOf(n));
  std::sort(extra.begin(), extra.end());
  for (const auto& p : extra) add_part(p);

  std::vector<NodeGroup> out;
  for (const auto& part : parts) {
    std::vector<NodeGroup> groups;
    for (const auto& n : reply.nodes()) {
      if (PartitionOf(n) != part) continue;
      NodeState st = NodeStateOf(n);
      NodeGroup* g = nullptr;
      if (!node_oriented) {
        for (auto& cand : groups) {
          if (by_state && cand.state.name != st.name) continue;
          if (by_reason && cand.nodes[0]->reason() != n.reason()) continue;
          g = &cand;
          break;
        }
      }
      if (!g) {
        groups.push_back({part, part == kStaticPartition, st, {}});
        g = &groups.back();
      }
      g->nodes.push_back(&n);
    }
    if (groups.empty() && !node_oriented)
      groups.push_back({part, part == kStaticPartition, {}, {}});
    if (!node_oriented)
      std::stable_sort(groups.begin(), groups.end(), [](const NodeGroup& a, const NodeGroup& b) {
        return a.state.order > b.state.order;
      });
    for (auto& g : groups) out.push_back(std::move(g));
  }
  if (node_oriented)
    std::stable_sort(out.begin(), out.end(), [](const NodeGroup& a, const NodeGroup& b) {
      return HostLess(a.nodes[0]->name(), b.nodes[0]->name());
    });
  return out;
}

bool IsNodeField(char type) { return FindColumn(kNodeColumns, type) != nullptr; }

FieldText NodeHeader(char type) {
  const Column* c = FindColumn(kNodeColumns, type);
  if (!c) return {};
  return {c->header, !(type == 'N' || type == 'n' || type == 'o')};
}

FieldText NodeField(char type, const NodeGroup& g) {
  auto cpus = [](const pb::NodeInfo& n) { return n.cpus(); };
  switch (type) {
    case 'a':
      return {"up"};
    case 'A': {
      Counts c = NodeCounts(g);
      return {fmt::format("{}/{}", c.alloc, c.idle)};
    }
    case 'c':
      return {MinPlus(g, cpus)};
    case 'C': {
      Counts c = CpuCounts(g);
      return {fmt::format("{}/{}/{}/{}", c.alloc, c.idle, c.other, c.total)};
    }
    case 'd':
      return {"0"};
    case 'D':
      return {std::to_string(g.nodes.size())};
    case 'e':
    case 'O':
      return {"N/A"};
    case 'E':
      return {g.nodes.empty() || g.nodes[0]->reason().empty() ? "none" : g.nodes[0]->reason()};
    case 'f':
      return {"(null)"};
    case 'F': {
      Counts c = NodeCounts(g);
      return {fmt::format("{}/{}/{}/{}", c.alloc, c.idle, c.other, c.total)};
    }
    case 'g':
    case 'S':
      return {"all"};
    case 'G':
      return {g.nodes.empty() ? "(null)" : Gres(g.nodes[0]->gpus())};
    case 'h':
      return {"NO"};
    case 'i':
      return {""};
    case 'l':
      return {"infinite"};
    case 'L':
      return {"n/a"};
    case 'm':
      return {MinPlus(g, [](const pb::NodeInfo& n) { return n.mem_mb(); })};
    case 'n':
      return {Names(g, true), true};
    case 'N':
    case 'o':
      return {Names(g, false), true};
    case 'P':
      return {g.partition + (g.is_default ? "*" : "")};
    case 'R':
      return {g.partition};
    case 'r':
      return {"no"};
    case 's':
      return {"1-infinite"};
    case 't':
      return {g.nodes.empty() ? "n/a" : ToLower(g.state.compact)};
    case 'T':
      return {g.nodes.empty() ? "n/a" : ToLower(g.state.name)};
    case 'w':
    case 'Y':
    case 'Z':
      return {"1"};
    case 'X':
      return {MinPlus(g, cpus)};
    case 'z':
      return {MinPlus(g, cpus) + ":1:1"};
    default:
      return {};
  }
}

// Counts as sinfo --json writes them, beside the fields of `more`.
json CountsJson(const Counts& c, json more) {
  more.update({{"allocated", c.alloc}, {"idle", c.idle}, {"other", c.other}, {"total", c.total}});
  return more;
}

nlohmann::json NodesJson(const std::vector<NodeGroup>& groups) {
  json out = json::array();
  for (const auto& g : groups) {
    Counts nc = NodeCounts(g);
    json states = json::array();
    std::string complete = g.nodes.empty() ? "" : g.state.complete;
    if (!complete.empty())
      for (std::string_view state : Split(complete, '+')) states.push_back(std::string(state));
    json names = json::array(), hosts = json::array();
    int64_t min_cpus = 0, max_cpus = 0, min_mem = 0, max_mem = 0, mem_used = 0;
    for (size_t k = 0; k < g.nodes.size(); ++k) {
      const auto* n = g.nodes[k];
      names.push_back(n->name());
      hosts.push_back(n->hostname().empty() ? n->name() : n->hostname());
      min_cpus = k ? std::min<int64_t>(min_cpus, n->cpus()) : n->cpus();
      max_cpus = std::max<int64_t>(max_cpus, n->cpus());
      min_mem = k ? std::min(min_mem, n->mem_mb()) : n->mem_mb();
      max_mem = std::max(max_mem, n->mem_mb());
      mem_used += n->mem_used_mb();
    }
    std::string reason = g.nodes.empty() ? "" : g.nodes[0]->reason();
    out.push_back({
        {"node", {{"state", states}}},
        {"nodes", CountsJson(nc, {{"hostnames", hosts}, {"addresses", hosts}, {"nodes", names}})},
        {"cpus", CountsJson(CpuCounts(g), {{"minimum", min_cpus}, {"maximum", max_cpus}})},
        {"memory",
         {{"minimum", min_mem},
          {"maximum", max_mem},
          {"allocated", mem_used},
          {"free", {{"minimum", JsonUnset()}, {"maximum", JsonUnset()}}}}},
        {"gres",
         {{"total", g.nodes.empty() || !g.nodes[0]->gpus() ? "" : Gres(g.nodes[0]->gpus())},
          {"used", ""}}},
        {"reason", {{"description", reason}}},
        {"partition",
         {{"name", g.partition},
          {"default", g.is_default},
          {"nodes", {{"configured", Names(g, false)}, {"total", nc.total}}},
          {"partition", {{"state", json::array({"UP"})}}},
          {"maximums", {{"time", JsonInfinite()}}}}},
    });
  }
  return {{"sinfo", out}};
}

}  // namespace swell::cli::slurm
