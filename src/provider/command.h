#pragma once

// The `command` provider: the site's own scripts make and remove nodes, the way Slurm's
// ResumeProgram and SuspendProgram do (https://slurm.schedmd.com/power_save.html). Three
// executables, each run with a timeout, its process group killed past it:
//
//   create NAME TYPE   start making node NAME of type TYPE; exit 0 once the request is
//                      accepted (the node joins later by running `swell node --name NAME
//                      --partition TYPE --head $SWELL_HEAD_ADDRESS`)
//   delete NAME        make NAME go away; exit 0 also when it does not exist (idempotent)
//   list               print the names of this cluster's instances, one per line, and only
//                      those (lines that are empty or start with '#' are skipped)
//
// Every script gets these variables: SWELL_HEAD_ADDRESS, SWELL_SECRET_FILE, SWELL_HOME,
// SWELL_EXE, SWELL_KILL_WAIT_S; create and delete also SWELL_NODE_NAME; create also
// SWELL_NODE_TYPE, SWELL_NODE_CPUS, SWELL_NODE_MEMORY_MB, SWELL_NODE_DISK_GB, SWELL_NODE_GPUS
// and SWELL_NODE_SPOT (0 or 1). A non-zero exit is an error carrying the tail of the script's
// stderr. Examples: examples/providers/{local-scripts,gcloud,aws}; docs/providers.md.

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "provider/provider.h"

namespace swell::provider {

struct CommandOptions {
  std::string create;  // paths of the three executables
  std::string remove;  // the `delete` script
  std::string list;
  Duration timeout = std::chrono::seconds(300);   // per run
  Duration kill_grace = std::chrono::seconds(5);  // SIGTERM .. SIGKILL past the timeout
  std::vector<std::string> env;                   // extra "KEY=value" for every run
};

// Fails when a script is missing or not executable.
Result<std::unique_ptr<Provider>> MakeCommandProvider(const ProviderContext& ctx,
                                                      CommandOptions options);

}  // namespace swell::provider
