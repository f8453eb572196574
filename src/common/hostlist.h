#pragma once

// Slurm's host lists, as in SLURM_JOB_NODELIST and scontrol show hostnames: compressing names
// into "node[1-3,5]" and expanding them back, the node order of an allocation, and the
// per-node counts of SLURM_TASKS_PER_NODE.
//
// All functions are pure and thread-safe. Errors are InvalidArgument with a one-line message
// that quotes the input.

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace swell {

// Compresses host names into Slurm's hostlist form: names that share a prefix and end in a
// number are bracketed, e.g. {node1,node2,node3,node5,login} -> "login,node[1-3,5]". Zero
// padding is kept ("n01,n02,n03" -> "n[01-03]"); numbers of different padding never share a
// range. The output is sorted (prefix, then number) and free of duplicates; a prefix with a
// single numbered host is written plainly ("node7"). Empty input gives "".
std::string CompressHostList(std::vector<std::string> names);

// Slurm's SLURM_TASKS_PER_NODE: counts in node order, runs of equal counts as "N(xK)":
// {2, 2, 2, 1} -> "2(x3),1".
std::string CompressCounts(const std::vector<int>& counts);
// The counts back: "2(x3),1" -> {2, 2, 2, 1}. InvalidArgument for anything else, and for more
// than 1,000,000 counts.
Result<std::vector<int>> ExpandCounts(std::string_view text);

// Expands a hostlist back into names, in the order written (scontrol show hostnames):
// "n[1-3,5],login" -> {n1, n2, n3, n5, login}. A bracket holds comma-separated numbers and
// ranges A-B (A <= B); a range keeps the zero padding of A ("n[08-10]" -> n08, n09, n10). Text
// may follow a bracket and an item may have several ("r[1-2]n[1-2]" -> r1n1, r1n2, r2n1, r2n2).
// Empty items are skipped. Errors (InvalidArgument quoting the input): unbalanced or nested
// brackets, a bad range, and lists of more than 1,000,000 names.
Result<std::vector<std::string>> ExpandHostList(std::string_view text);

// `names` in the order of their compressed hostlist, as Slurm lists an allocation's nodes
// (SLURM_JOB_NODELIST, SLURM_TASKS_PER_NODE, rank blocks): sorted by prefix, then number.
std::vector<std::string> HostListOrder(const std::vector<std::string>& names);

}  // namespace swell
