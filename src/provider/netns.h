#pragma once

// The `netns` provider (root only): each node is a `swell node` daemon in its own network
// namespace, with its own IP address and host name, so one machine looks like a cluster of
// hosts (what MPI, Slurm and anything that keys on host names need to be tested for real).
//
// Layout, for bridge "swell0" and subnet 10.213.0.0/24 (the defaults):
//   - bridge swell0 on the host with 10.213.0.1/24, made on first use (or by PrepareNetns),
//     with a MAC address of its own (02:73:77:..): not its ports', which change as nodes go.
//     The head listens on 10.213.0.1 (TCP) and nodes reach it there; nothing is routed
//     further and no NAT is set up, so nodes reach only the head and each other.
//   - per node N: namespace <prefix>N (default "swell-N", in /run/netns), a veth pair whose
//     host end swell0v<k> is on the bridge and whose other end is eth0 inside with
//     10.213.0.<k>/24 (the lowest free k >= 2), lo up, default route via 10.213.0.1.
//   - the daemon runs as `nsenter --net=/run/netns/<ns> unshare --uts sh -c 'hostname N &&
//     exec swell node --name N --partition TYPE --head 10.213.0.1:PORT ...'`, its pid in
//     $SWELL_HOME/nodes/N/instance and its log in nodes/N/log, as with `local`.
// Delete stops the daemon (SIGTERM, then SIGKILL after stop_timeout), kills whatever else
// still runs in the namespace and deletes the namespace, which takes the veth pair with it.
// List names every namespace with the prefix, whether its daemon lives or not: a namespace
// left behind is an instance that still has to be deleted. So a prefix belongs to one cluster;
// two clusters on one machine need their own prefix, bridge and subnet.
//
// The bridge stays while the head runs (the head's listener is bound to its address); the
// head calls Cleanup() when it stops, which removes the bridge once no namespace of ours is
// left. Teardown() deletes every node first (tests, `swell down` through TeardownNetns).

#include <memory>
#include <string>

#include "common/clock.h"
#include "provider/provider.h"

namespace swell::provider {

struct NetnsOptions {
  std::string bridge = "swell0";         // at most 9 characters (veths are <bridge>v<k>)
  std::string subnet = "10.213.0.0/24";  // IPv4, a prefix of /16 to /30
  std::string prefix = "swell-";         // namespaces are <prefix><node name>
  Duration boot_delay{0};                // as `local`'s: mimics a cloud's boot
  Duration stop_timeout = std::chrono::seconds(30);
  Duration ip_timeout = std::chrono::seconds(30);  // per `ip` run
};

class NetnsProvider : public Provider {
 public:
  // The address nodes reach the head at (the bridge's), e.g. "10.213.0.1".
  virtual std::string BridgeAddress() const = 0;
  // Makes the bridge if it is missing; idempotent. Create does it too.
  virtual Status EnsureBridge() = 0;
  // The node's own IPv4 address inside its namespace.
  virtual Result<std::string> NodeAddress(const std::string& name) = 0;
  // Cleanup() (from Provider) removes the bridge if no namespace of ours is left; Teardown
  // deletes every node first. Both idempotent.
  virtual Status Teardown() = 0;
};

// Checks the options and that we are root; does not touch the network yet. Create needs
// ctx.head_address to be host:port on the bridge address (see PrepareNetns).
Result<std::unique_ptr<NetnsProvider>> MakeNetnsProvider(const ProviderContext& ctx,
                                                         NetnsOptions options);

// For the head, before it listens: makes the bridge and returns the address to bind its TCP
// listener to, "<bridge address>:0"; the head then passes "<bridge address>:<its port>" as
// ProviderContext::head_address.
Result<std::string> PrepareNetns(const NetnsOptions& options);

// For `swell head`, which hands the provider its address before it listens: makes the bridge
// and picks a free TCP port on its address (the kernel's choice, let go again at once).
// Returns "<bridge address>:<port>", both the head's TCP listener and
// ProviderContext::head_address.
Result<std::string> NetnsHeadAddress(const NetnsOptions& options);

// For `swell down`: deletes every node of the cluster in `home` (daemons, namespaces, veths),
// then the bridge (Teardown). Returns Ok without touching anything when the provider cannot be
// made (not root, unusable options), as there is nothing it could remove then.
Status TeardownNetns(const std::string& home, const NetnsOptions& options);

}  // namespace swell::provider
