#pragma once

// The commands of swell-daemon: the daemons and everything that runs the head's, a node's, the
// simulator's or the MapReduce runtime's code. The thin `swell` execs swell-daemon for them
// (docs/cli.md "Two binaries"), so a client never loads that code.

#include "cli/cli.h"

namespace swell::head::config {
struct ClusterConfig;
}
namespace swell::head::elastic {
struct PoolOptions;
}
namespace swell::provider {
struct ProviderConfig;
}

namespace swell::cli {

// The pool's limits from a cluster file's [autoscaler] table: the live head's and `swell sim`'s.
head::elastic::PoolOptions PoolLimits(const head::config::ClusterConfig& c);
// The provider settings of a cluster file's [provider] table.
provider::ProviderConfig ProviderSettings(const head::config::ClusterConfig& c);

int Up(const Args& args);
int Down(const Args& args);
int HeadDaemon(const Args& args);
int NodeDaemon(const Args& args);
int Sim(const Args& args);
// `swell mr ...`: takes the whole command line (its workers are started with it again).
int Mr(int argc, char** argv);

}  // namespace swell::cli
