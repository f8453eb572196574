#pragma once

// How a lease's units are kept in its row (the `shares` column of `leases`): for each unit, one
// "node:ntasks:cpus:mem_mb:gpus," per node it spans, then ";". Pure.

#include <cstdint>
#include <string>
#include <vector>

namespace swell::head::state {

// Part of one unit on one node.
struct ShareRow {
  std::string node;
  int ntasks = 0;
  int cpus = 0;
  int64_t mem_mb = 0;
  int gpus = 0;
  bool operator==(const ShareRow&) const = default;
};
using UnitRows = std::vector<std::vector<ShareRow>>;  // one entry per unit

std::string EncodeShares(const UnitRows& units);
// The inverse of EncodeShares. A part that does not parse is skipped (its unit keeps the others),
// and so is text after the last ';' (a unit cut short).
UnitRows DecodeShares(const std::string& text);

}  // namespace swell::head::state
