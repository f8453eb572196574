#pragma once

// What the node daemon asks of the machine it runs on: its name and size, the network
// interface MPI should use, its processes (by a mark in their environment) and its users.
// Each call reads the system as it is now; none keeps state. Thread-safe.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "node/launcher.h"
#include "node/slurm_env.h"
#include "rpc/swell.pb.h"

namespace swell::node {

// gethostname(), or "" when it fails.
std::string Hostname();
// The cpus online now.
int OnlineCpus();
// The machine's memory in MB.
int64_t TotalMemoryMb();

// The interface MPI should use on this node: the one on the head's subnet, or "lo" when the
// head is reached through its local socket ("unix:..."; every node then shares this machine's
// loopback). "" when none matches or the head's address is not an IPv4 "host:port".
std::string MpiInterface(const std::string& head_address);

// Processes other than this one whose environment holds exactly the entry `entry`
// ("NAME=value"). Processes that end or hide their environment during the scan are skipped.
std::vector<pid_t> ProcessesWithEnv(const std::string& entry);

// The identity a job's processes take on this node, for the user the head recorded at submit:
// nullopt when they run as the daemon itself (the daemon is not root, or the user is root);
// the user's uid, gid and supplementary groups when the daemon is root. PermissionDenied when
// the daemon is not root and the job belongs to another user.
Result<std::optional<Identity>> ResolveIdentity(const pb::UserIdentity& user);

// A user's home directory and login name, from the passwd database; nullopt when the uid has
// no entry.
std::optional<Account> LookupAccount(uid_t uid);

}  // namespace swell::node
