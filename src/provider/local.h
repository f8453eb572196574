#pragma once

// The `local` provider: each node is a `swell node` daemon process on this machine, started
// with the type's cpus, memory and gpus and, optionally, a boot delay that mimics a cloud's.
// Its instances are the directories $SWELL_HOME/nodes/<name>/ that hold an `instance` file
// with the daemon's pid (static nodes of `swell up` have none, so they are never listed).

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "provider/provider.h"

namespace swell::provider {

struct LocalOptions {
  Duration boot_delay{0};
  Duration stop_timeout = std::chrono::seconds(30);  // SIGTERM .. SIGKILL on Delete
};

// The node daemon's command line of node `name` of `type` (for `local` and `netns`): `swell
// node`, or ctx.node_command's, after a sleep of `boot_delay`.
std::vector<std::string> NodeDaemonArgs(const ProviderContext& ctx, const std::string& name,
                                        const head::autoscaler::NodeType& type,
                                        Duration boot_delay);

std::unique_ptr<Provider> MakeLocalProvider(const ProviderContext& ctx, LocalOptions options);

}  // namespace swell::provider
