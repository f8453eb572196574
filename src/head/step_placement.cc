#include "head/step_placement.h"

#include <algorithm>
#include <set>

#include "common/hostlist.h"

namespace swell::head {

Result<StepPlacement> PlaceStep(const StepAllocation& alloc, const pb::ExecRequest& req) {
  const std::vector<std::string>& names = alloc.nodes;
  const std::vector<int>& slots = alloc.slots;
  std::vector<std::string> step_nodes;
  std::vector<int> counts;
  if (req.relay()) {
    if (req.nodelist_size() != 1) return InvalidArgument("a relayed command names one host");
    const std::string& host = req.nodelist(0);
    // By node name, else by host name when one node of the allocation has it.
    if (std::find(names.begin(), names.end(), host) != names.end()) step_nodes.push_back(host);
    for (size_t i = 0; i < names.size(); ++i)
      if (step_nodes.size() < 2 && names[i] != host && alloc.hostnames[i] == host)
        step_nodes.push_back(names[i]);
    if (step_nodes.size() > 1) step_nodes.clear();  // ambiguous
    counts.assign(step_nodes.size(), 1);
    if (step_nodes.empty())
      return InvalidArgument("host " + host + " is not a node of job " + alloc.job +
                             "'s allocation (" + CompressHostList(names) + ")");
  } else {
    std::set<std::string> wanted(req.nodelist().begin(), req.nodelist().end());
    std::set<std::string> excluded(req.exclude().begin(), req.exclude().end());
    for (const auto& w : wanted)
      if (std::find(names.begin(), names.end(), w) == names.end())
        return InvalidArgument("Requested node configuration is not available: " + w +
                               " is not in job " + alloc.job + "'s allocation (" +
                               CompressHostList(names) + ")");
    std::vector<std::string> avail;
    std::vector<int> avail_slots;
    for (size_t i = 0; i < names.size(); ++i) {
      if (excluded.count(names[i]) || (!wanted.empty() && !wanted.count(names[i]))) continue;
      avail.push_back(names[i]);
      avail_slots.push_back(slots[i]);
    }
    int ntasks = req.ntasks();
    int tpn = req.ntasks_per_node();
    int nnodes = req.nodes() > 0 ? req.nodes() : static_cast<int>(avail.size());
    if (req.nodes() == 0 && ntasks > 0 && wanted.empty()) nnodes = std::min(nnodes, ntasks);
    if (nnodes > static_cast<int>(avail.size()) || nnodes <= 0)
      return InvalidArgument("Requested node configuration is not available: " +
                             std::to_string(nnodes) + " nodes asked, the allocation has " +
                             std::to_string(avail.size()));
    if (ntasks <= 0) ntasks = tpn > 0 ? tpn * nnodes : nnodes;
    if (ntasks < nnodes)
      return InvalidArgument("Requested node configuration is not available: " +
                             std::to_string(ntasks) + " tasks on " + std::to_string(nnodes) +
                             " nodes");
    // Slurm's block distribution: one task on each node, then fill nodes in order up to the
    // tasks they hold in the allocation (or exactly --ntasks-per-node).
    counts.assign(static_cast<size_t>(nnodes), 1);
    int left = ntasks - nnodes;
    for (int i = 0; i < nnodes && left > 0; ++i) {
      int cap = (tpn > 0 ? tpn : avail_slots[static_cast<size_t>(i)]) - 1;
      int take = std::min(left, std::max(0, cap));
      counts[static_cast<size_t>(i)] += take;
      left -= take;
    }
    if (left > 0)
      return InvalidArgument("More processors requested than permitted: " +
                             std::to_string(ntasks) + " tasks, the allocation holds " +
                             std::to_string(ntasks - left));
    step_nodes.assign(avail.begin(), avail.begin() + nnodes);
  }
  return StepPlacement{step_nodes, counts};
}

}  // namespace swell::head
