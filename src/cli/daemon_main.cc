// swell-daemon: the daemons (`swell head`, `swell node`) and the commands that run the head's,
// a node's, the simulator's or the MapReduce runtime's code (up, down, sim, mr). The thin
// `swell` execs it for those, with the same arguments (argv[1] is the command); `swell up`
// starts the daemons with this binary, and `swell mr` its workers.

#include <cstdio>
#include <string>
#include <vector>

#include "cli/daemon_cmds.h"
#include "cli/slurm_cluster.h"
#include "cli/dispatch.h"

namespace {

using namespace swell::cli;

constexpr Command kCommands[] = {
    {"up", Up},
    {"down", Down},
    {"head", HeadDaemon},
    {"node", NodeDaemon},
    {"sim", Sim},
    {"slurm-config", SlurmConfig},
    {"autoscale", Autoscale},
    {"env", Env},
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    std::fputs(
        "usage: swell-daemon {up|down|head|node|sim|mr|slurm-config|autoscale|env} [options]\n"
        "  run by swell for these commands; see swell --help\n",
        args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const std::string cmd = args[0];
  if (cmd == "mr") return Mr(argc, argv);  // its workers are this binary, run with argv
  args.erase(args.begin());
  if (auto code = Dispatch(kCommands, cmd, args)) return *code;
  std::fprintf(stderr, "swell-daemon: '%s' is not one of its commands; run swell %s\n", cmd.c_str(),
               cmd.c_str());
  return 2;
}
