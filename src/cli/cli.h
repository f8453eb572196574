#pragma once

// Shared pieces of the swell command line: where the cluster lives and how to reach it, and
// the client commands. Everything declared here is in the thin `swell` (cli.cc, jobs.cc,
// slurm_cmds.cc, ...) and links no head, node or simulator code.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cli/slurm_option_catalog.h"
#include "common/status.h"
#include "rpc/client.h"

namespace CLI {
class App;
}

namespace swell::cli {

// $SWELL_HOME, or ~/.swell.
std::string Home();
std::string HeadSocket(const std::string& home);

// Where `swell cert` keeps the user's certificate: $SWELL_USER_TLS, or ~/.swell/user-tls.
std::string UserTlsDir();

// A client for the head: $SWELL_HEAD ("host:port": TLS with the user's certificate from
// UserTlsDir() when there is one, else the secret from $SWELL_HOME/secret) or the local socket.
std::unique_ptr<rpc::HeadClient> Connect(const std::string& home);

// Prints "swell <cmd>: <message>" to stderr and returns `code`.
int Fail(const std::string& cmd, const std::string& message, int code = 1);
int Fail(const std::string& cmd, const Status& status, int code = 1);
// What a failed call to the head means to a user ("no cluster is running in ...").
std::string ErrorText(const Status& status);

// How a command reports errors: swell's "swell <cmd>: <message>" with the exit code given, or
// a Slurm command's "<cmd>: error: <message>" with exit 1 (Slurm's code for every error).
struct Voice {
  std::string cmd;  // "submit", or "sbatch" when slurm
  bool slurm = false;
  int Fail(const std::string& message, int code = 1) const;
  int Fail(const Status& status, int code = 1) const;
  // A submission the head refused: as a Slurm command, Slurm's lines (common/slurm_refusal.h),
  // the reason after `failed_words` ("Batch job submission failed: "); else swell's message.
  int Refused(std::string_view failed_words, const Status& status) const;
};

using Args = std::vector<std::string>;

// Credentials for a TCP cluster (docs/security.md): `swell token` prints a join token for a
// node on another machine, `swell cert` writes the caller's own certificate (UserTlsDir()).
int Token(const Args& args);
int Cert(const Args& args);
int Revoke(const Args& args);
int Rotate(const Args& args);

// Parses `args` into `app` (CLI11). Returns an exit code when the command should end now:
// 0 after printing --help, 2 after a usage error (reported as "swell <cmd>: ...").
std::optional<int> ParseFlags(CLI::App& app, const Args& args, const std::string& cmd);

// Prints a protobuf message as one JSON line.
void PrintJson(const google::protobuf::Message& m);

struct SubmitOptions;
// The environment a job gets under Slurm's --export rules: ALL (default, also for nullopt),
// NONE, or NAME / NAME=value items, where a leading ALL keeps everything else too.
std::map<std::string, std::string> ExportedEnv(const std::optional<std::string>& spec);

// The nodes of -w/-x: a host list (`n[1-3],m4`), or as in Slurm, a file of names when the
// text has a '/'; none without the option.
Result<std::vector<std::string>> NodeNames(const std::optional<std::string>& text);
// Turns parsed options into a job spec. `script` is empty for `swell run`.
Result<pb::JobSpec> BuildSpec(const SubmitOptions& o, const std::string& script,
                              const std::string& script_path,
                              const std::vector<std::string>& argv);
// Parses job options as `slurm` does; for `swell run`/srun (`for_run`) the command follows them
// (or `--`).
Result<SubmitOptions> ParseJobOptions(const Args& args, bool for_run,
                                      std::vector<std::string>* command, JobCommand slurm);
// Reports an error of the job options: Slurm's lines and exit code (RenderOptionError) in a
// Slurm voice, "swell <cmd>: <message>" and 2 in swell's.
int FailOptions(const Voice& voice, JobCommand command, const Status& error);
// --version, --usage or --help printed (exit code 0), or nullopt when none was given.
std::optional<int> PrintHelpOrVersion(const SubmitOptions& o, JobCommand command,
                                      const std::string& usage_line);
// srun's (`swell run`'s) options and its command, or the exit code when there is nothing to
// run: an error was reported, or --help/--version/--usage answered.
std::variant<SubmitOptions, int> ParseRunOptions(const Args& args, const Voice& voice,
                                                 std::vector<std::string>* command);

// The client commands (the thin `swell`); the daemons' are in daemon_cmds.h.
int Submit(const Args& args);
// `swell submit` in a given voice: sbatch's is Slurm's.
int SubmitAs(const Args& args, const Voice& voice);
int Run(const Args& args);
// `swell run` in a given voice: srun's is Slurm's.
int RunAs(const Args& args, const Voice& voice);
// srun (or `swell run`) inside an allocation ($SLURM_JOB_ID): a job step across its nodes.
int RunStep(const Args& args, const Voice& voice);
// swell-rsh [ssh options] HOST command...: MPI launchers' ssh, within the caller's allocation.
int Relay(const Args& args);
// salloc [options] [command [args...]]: an allocation held while `command` runs here.
int Salloc(const Args& args);
// srun outside an allocation, as Slurm's: an allocation for its options, the command as its
// step (MPI ranks get PMIx), then the allocation is released. With --mpi=none, -o/-e/-i,
// --test-only: the command runs as the job's own tasks (RunAs).
int SrunOutside(const Args& args);
// sacct: the job history the head keeps (sacct_cmd.cc).
int Sacct(const Args& args);
int Queue(const Args& args);
int Nodes(const Args& args);
int Stats(const Args& args);
int Top(const Args& args);  // top.cc
int Cancel(const Args& args);
int Wait(const Args& args);
int Logs(const Args& args);
int Info(const Args& args);

// The Slurm commands (slurm_cmds.cc), run when the binary is called by their names.
bool IsSlurmCommand(const std::string& name);
int SlurmCommand(const std::string& name, const Args& args);

}  // namespace swell::cli
