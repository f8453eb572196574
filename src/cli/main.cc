// The swell command line: the thin client. It holds the client commands and the Slurm
// commands (called by their names through links to this binary) and links only the RPC client;
// the daemons and the commands that run the head's, a node's, the simulator's or the MapReduce
// runtime's code are in swell-daemon next to it, which it execs for them (docs/cli.md).

#include <malloc.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/dispatch.h"
#include "common/files.h"

namespace {

constexpr char kUsage[] = R"(usage: swell <command> [options]

Cluster:
  up [--nodes N] [--config FILE]   start (or repair) the embedded cluster in $SWELL_HOME
  down                             stop everything `up` started
  env                              shell settings for Slurm's commands (eval its output)
  nodes [--json]                   list nodes
  stats [--json]                   node-hours paid and used, cost, waits, per user
  top [--once] [--interval S]      the queue, nodes, cost and running jobs, redrawn
  token [--ttl TIME] [--uses N] [--node NAME]
                                   a join token for a node on another machine
  cert [--out DIR]                 your certificate, to reach the head over TCP from elsewhere
  revoke node:NAME|user:NAME       its certificates admit nothing any more (a node leaves)
  rotate [--new-ca | --finish]     new certificates for the head and nodes; a CA rollover

Jobs:
  submit [options] script [args]   queue a batch script (#SBATCH/#SWELL lines honoured)
  run [options] -- cmd [args]      run a command as a job; stream its output; exit with its code
  queue [--all] [--json]           list jobs
  info ID [--json]                 show one job (ID or ID_INDEX)
  logs ID [-e]                     print a job's output (or error) file
  wait ID...                       wait until jobs end (exit 0 if all completed)
  cancel ID... [-s SIGNAL]         cancel jobs or array tasks (ID_INDEX)

Elastic nodes:
  sim [--workload clic|swf:PATH|synthetic:SPEC] [--policy P | --compare P1,P2] [--seed S]
      [--config FILE] [--json] [--csv FILE] [--plot FILE.svg] [--report DIR] [--wait-weight W]
      [--boot-seconds S] [--shutdown-seconds S] [--register-seconds S]
      [--billing-increment S] [--billing-minimum S] [--tick S] [--min-lifetime S]
                                   the autoscaler on a virtual clock (clic, greedy,
                                   powersave, lookahead; oracle: clairvoyant, the floor)

On a real Slurm (docs/slurm-autoscale.md):
  slurm-config --config FILE [--lua FILE]
                                   slurm.conf lines (and job_submit.lua) for the node types
  autoscale --config FILE [--slurm-conf PATH]
                                   grow and shrink Slurm's partitions with dynamic nodes

MapReduce:
  mr mapfiles --cmd 'TOOL {in} > {out}' --in DIR --out DIR [-n N] [--retries R]
                                   run a command once per file on N workers (map-only)

Daemons (started by `up`):
  head --home DIR                  run the head
  node --home DIR --name NAME      run a node daemon

Slurm commands: swell answers to sbatch, squeue, scancel, sinfo, scontrol and sacct when
called by those names (build/bin has links); see docs/slurm.md.

Environment: SWELL_HOME (default ~/.swell), SWELL_HEAD (host:port of a remote head).
)";

using namespace swell::cli;

constexpr Command kCommands[] = {
    {"submit", Submit}, {"run", Run},   {"queue", Queue},   {"nodes", Nodes},   {"stats", Stats},
    {"cancel", Cancel}, {"wait", Wait}, {"logs", Logs},     {"info", Info},     {"relay", Relay},
    {"token", Token},   {"cert", Cert}, {"revoke", Revoke}, {"rotate", Rotate}, {"top", Top},
};

// The commands swell-daemon runs.
bool IsDaemonCommand(const std::string& cmd) {
  for (const char* c :
       {"up", "down", "head", "node", "sim", "mr", "slurm-config", "autoscale", "env"})
    if (cmd == c) return true;
  return false;
}

// Replaces this process with swell-daemon next to this binary, with the same arguments.
// Returns only when that fails.
int ExecDaemon(char** argv) {
  std::string dir = swell::SelfDir();
  std::string exe = (dir.empty() ? std::string(".") : dir) + "/swell-daemon";
  argv[0] = exe.data();
  execv(exe.c_str(), argv);
  std::fprintf(stderr, "swell: cannot run %s: %s (it is built next to swell)\n", exe.c_str(),
               std::strerror(errno));
  return 127;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  // Called as sbatch, squeue, scancel, sinfo or scontrol (links to this binary).
  const char* base = std::strrchr(argv[0], '/');
  std::string self = base ? base + 1 : argv[0];
  if (IsSlurmCommand(self)) return SlurmCommand(self, args);
  if (self == "sacct") return Sacct(args);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  std::string cmd = args[0];
  if (IsDaemonCommand(cmd)) return ExecDaemon(argv);
  args.erase(args.begin());
  if (auto code = Dispatch(kCommands, cmd, args)) return *code;
  if (cmd == "--version" || cmd == "version") {
    std::puts("swell 0.1.0");
    return 0;
  }
  std::fprintf(stderr, "swell: unknown command '%s' (try swell --help)\n", cmd.c_str());
  return 2;
}

}  // namespace

// A command lives for milliseconds, and its start-up and exit are most of that
// (docs/cli.md "Two binaries"): gRPC's threads share one malloc arena instead of mapping one
// each, and the process ends without stopping gRPC's runtime or running static destructors.
int main(int argc, char** argv) {
  mallopt(M_ARENA_MAX, 1);
  swell::rpc::SetUpForOneCommand();
  int code = Main(argc, argv);
  std::fflush(nullptr);
  _exit(code);
}
