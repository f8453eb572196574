#pragma once

// What the views of squeue (squeue_view.h), sinfo (sinfo_view.h) and scontrol
// (scontrol_view.h) print alike: a job's cpus, memory, dependency and command, a node's state
// and partition, group names, time stamps, and the column tables and JSON numbers of the
// listings.
//
// Everything here is pure apart from reading the local time zone (TimeStamp) and the user and
// group databases (PrimaryGroup).

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>

#include "rpc/swell.pb.h"

namespace swell::cli::slurm {

// The partition of the static nodes, and of jobs that name none on a static cluster (elastic
// clusters have one partition per node type).
inline constexpr char kStaticPartition[] = "batch";
// What -V/--version and `scontrol version` print.
inline constexpr char kSlurmVersion[] = "slurm-wlm 22.05.8";  // Debian 12's Slurm, word for word

// ---- Jobs ------------------------------------------------------------------------------------

// A job's tasks, cpus per task and cpus; unset counts are 1.
int Ntasks(const pb::JobSpec& s);
int CpusPerTask(const pb::JobSpec& s);
int64_t Cpus(const pb::JobSpec& s);

// Memory in MiB as Slurm prints it: exact units ("100M", "4G", "1536M"; 0 stays "0").
std::string MemText(int64_t mb);

// A job's dependency as Slurm writes it ("afterok:12,after:13", "?" between the terms of an
// any-of list); "" without one.
std::string Dependency(const pb::JobSpec& spec);

// A job's command: the script's path, else the command line; "(null)" without either.
std::string Command(const pb::JobSpec& spec);

// Why a job is in its state: Slurm's reason for a failed or timed-out job, else the head's.
std::string FailReason(const pb::JobInfo& j);

// ---- Nodes -----------------------------------------------------------------------------------

// A node's state in Slurm's words.
struct NodeState {
  std::string compact;   // sinfo %t before lower-casing: "IDLE", "MIX", "ALLOC", "DOWN*", ...
  std::string name;      // sinfo %T before lower-casing: "IDLE", "MIXED", "ALLOCATED", ...
  std::string complete;  // scontrol State=: "IDLE", "DOWN+NOT_RESPONDING", "IDLE+POWERING_UP"
  uint32_t order = 0;    // Slurm's numeric state (base | flags): sinfo sorts by it
};
NodeState NodeStateOf(const pb::NodeInfo& node);

// A node's partition as sinfo names it.
std::string PartitionOf(const pb::NodeInfo& node);

// A node's GPUs as Slurm's Gres: "gpu:2"; "(null)" without any.
std::string Gres(int gpus);

// Natural order of host names: "node2" before "node10".
bool HostLess(const std::string& a, const std::string& b);

// ---- Text ------------------------------------------------------------------------------------

// `s`, or "(null)" when it is empty.
std::string OrNull(const std::string& s);

// The primary group of a user id (name and gid) from the user and group databases; the number
// as text when a database does not know it.
std::pair<std::string, uint32_t> PrimaryGroup(uint32_t uid);

// Slurm's time stamp: "YYYY-MM-DDTHH:MM:SS" in local time; 0 gives `none`.
std::string TimeStamp(int64_t ms, std::string_view none = "N/A");

// ---- Listings (squeue and sinfo) -------------------------------------------------------------

// A column of squeue or sinfo: its type letter and header word.
struct Column {
  char type;
  const char* header;
};

// The column of type `type` in a table; nullptr when the table has none.
template <size_t N>
const Column* FindColumn(const Column (&columns)[N], char type) {
  for (const auto& c : columns)
    if (c.type == type) return &c;
  return nullptr;
}

// The number structs of Slurm's JSON: {"set": true, "infinite": false, "number": N}, and the
// unset and infinite ones.
nlohmann::json JsonNumber(int64_t n);
nlohmann::json JsonUnset();
nlohmann::json JsonInfinite();

}  // namespace swell::cli::slurm
