#include "provider/providers.h"

#include "provider/local.h"
#include "provider/static.h"

namespace swell::provider {

NetnsOptions NetnsSettings(const ProviderConfig& c) {
  NetnsOptions o;
  o.subnet = c.subnet;
  o.bridge = c.bridge;
  o.prefix = c.prefix;
  o.boot_delay = c.boot_delay;
  return o;
}

Result<std::unique_ptr<Provider>> MakeProvider(const ProviderConfig& c,
                                               const ProviderContext& ctx) {
  if (c.kind == "local") return MakeLocalProvider(ctx, {.boot_delay = c.boot_delay});
  if (c.kind == "command") {
    CommandOptions o;
    o.create = c.create;
    o.remove = c.remove;
    o.list = c.list;
    o.timeout = c.timeout;
    return MakeCommandProvider(ctx, std::move(o));
  }
  if (c.kind == "static") return MakeStaticProvider(c.hosts);
  if (c.kind == "netns") {
    SWELL_ASSIGN_OR_RETURN(auto p, MakeNetnsProvider(ctx, NetnsSettings(c)));
    return std::unique_ptr<Provider>(std::move(p));
  }
  return InvalidArgument("unknown provider kind '" + c.kind +
                         "' (one of local, netns, command, static)");
}

}  // namespace swell::provider
