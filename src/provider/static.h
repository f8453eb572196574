#pragma once

// The `static` provider: a fixed list of machines that already exist and run
// `swell node --name <host> --head <head address> --partition <type>` themselves (started by
// systemd, a batch script, an administrator). The head cannot make or remove them, so Create
// fails with a clear error, Delete succeeds without doing anything (the node stays up and
// rejoins), and List names the configured hosts. It is how a fixed set of hosts fits the same
// pool and the same reconcile as elastic ones.

#include <memory>
#include <string>
#include <vector>

#include "provider/provider.h"

namespace swell::provider {

// Fails when a host name is not a valid node name or is listed twice.
Result<std::unique_ptr<Provider>> MakeStaticProvider(std::vector<std::string> hosts);

}  // namespace swell::provider
