#pragma once

// Making the configured provider. The cluster file's [provider] table maps onto ProviderConfig
// (the TOML parser in head/config does that):
//
//   [provider]
//   kind = "local"            # local | netns | command | static
//   boot_seconds = 0          # local, netns: seconds a node waits before it joins (a cloud's
//                             # boot, to try scaling policies on one machine)
//   create = "/path/create"   # command: the three scripts (see command.h, docs/providers.md)
//   delete = "/path/delete"
//   list = "/path/list"
//   timeout_s = 300           # command: a script running longer is killed and fails
//   hosts = ["a", "b"]        # static: the machines that run `swell node` themselves
//   subnet = "10.213.0.0/24"  # netns: the nodes' network (the bridge takes .1)
//   bridge = "swell0"         # netns: the bridge's name (optional)
//   prefix = "swell-"         # netns: the namespaces' prefix (optional)
//
// docs/providers.md describes every kind.

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "provider/command.h"
#include "provider/netns.h"
#include "provider/provider.h"

namespace swell::provider {

struct ProviderConfig {
  std::string kind = "local";
  Duration boot_delay{0};  // boot_seconds
  // command
  std::string create, remove, list;              // `remove` is the `delete` key
  Duration timeout = std::chrono::seconds(300);  // timeout_s
  // static
  std::vector<std::string> hosts;
  // netns
  std::string subnet = NetnsOptions{}.subnet;
  std::string bridge = NetnsOptions{}.bridge;
  std::string prefix = NetnsOptions{}.prefix;
};

// The netns provider's options from the provider settings.
NetnsOptions NetnsSettings(const ProviderConfig& config);

// The provider `config.kind` names, or InvalidArgument naming what is wrong with the config.
// For netns, ctx.head_address must be the head's TCP address on the bridge (PrepareNetns).
Result<std::unique_ptr<Provider>> MakeProvider(const ProviderConfig& config,
                                               const ProviderContext& ctx);

}  // namespace swell::provider
