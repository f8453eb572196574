#pragma once

// Providers: where elastic nodes come from. One interface, four kinds (local, netns, command,
// static) and a fault-injecting wrapper for tests; one conformance suite
// (src/provider/provider_conformance_test.cc) runs against each.
//
// The contract, the same as Slurm's ResumeProgram/SuspendProgram:
//  - Create(name, type) starts making a node and returns once the provider has accepted the
//    request (a cloud CLI returns once the instance is being created; `local` once the daemon
//    process is started). The node is NOT ready then: it becomes ready when its node daemon
//    registers with the head under `name`, with the type's name as its partition. The head
//    fails a node that has not registered within its boot timeout and deletes it.
//  - Delete(name) makes the instance go away. It is idempotent: deleting a node that does not
//    exist (any more) succeeds. It may return before the instance is fully gone.
//  - List() names every instance of this provider that exists (booting, running or still
//    shutting down), and nothing else: the head deletes listed names it does not know (an
//    instance created just before a head crash), so a provider must never list machines it
//    did not create.
// Calls may block for seconds (scripts, cloud CLIs): the head runs them on its own threads,
// never on its loop, and at most one call per node name at a time. Implementations must be
// safe to call from several threads for different names. Errors are returned, never thrown;
// a provider must not crash or hang the head (a hung script is killed after its timeout).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "head/autoscaler/autoscaler.h"

namespace swell::provider {

// What a provider needs to make a node that joins this cluster.
struct ProviderContext {
  std::string home;          // $SWELL_HOME of the cluster: nodes/<name>/ for local state
  std::string swell_exe;     // the swell binary to run as the node daemon
  std::string head_address;  // how nodes reach the head: "unix:/path" or "host:port"
  std::string secret_file;   // the cluster secret (mode 0600)
  int kill_wait_s = 10;      // passed to node daemons
  // When set (a head that listens on TCP, so TLS): gives node `name` its TLS files in
  // $SWELL_HOME/nodes/<name>/tls before a provider whose nodes share this host's files
  // (netns, command scripts run here) starts it (tls/cluster_tls.h).
  std::function<Status(const std::string& name)> node_credentials;
  // The node daemon's command line for node `name` of `type`, when it is not `swell node` with
  // the settings above: `swell autoscale` runs Slurm's slurmd (slurm/autoscale.h). The nodes
  // then reach no swell head, and head_address is not needed.
  std::function<std::vector<std::string>(const std::string& name,
                                         const head::autoscaler::NodeType& type)>
      node_command;
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual std::string kind() const = 0;
  virtual Status Create(const std::string& name, const head::autoscaler::NodeType& type) = 0;
  virtual Status Delete(const std::string& name) = 0;
  virtual Result<std::vector<std::string>> List() = 0;
  // Called when the head stops: releases what the provider holds besides its nodes (netns:
  // the bridge, once no node is left). Nodes are left alone; they outlive a head restart.
  virtual Status Cleanup() { return Status::Ok(); }
};

// Node names are host names and file names: 1-63 of [A-Za-z0-9._-], not starting with '.' or
// '-'. Providers refuse others before running anything with them.
Status CheckNodeName(const std::string& name);

}  // namespace swell::provider
