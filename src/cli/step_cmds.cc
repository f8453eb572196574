// Job steps inside an allocation (srun in a batch script) and swell-rsh, the relay MPI
// launchers use instead of ssh. Both stream a step's output through the head (Exec). And
// salloc, which holds an allocation while a command runs here, with its steps in it.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <variant>

#include "cli/cli.h"
#include "cli/job_state.h"
#include "cli/submit_options.h"
#include "common/files.h"
#include "common/hostlist.h"
#include "common/mpi_env.h"
#include "common/text.h"

namespace swell::cli {
namespace {

std::atomic<int> g_step_signal{0};

// Runs `req`, passing the step's output on and ending it when a signal comes. Returns the
// status of the call; fills the ranks' ends.
struct StepResult {
  std::map<int, std::pair<int, int>> ends;  // rank -> (exit code, signal)
  std::vector<std::string> errors;
  int64_t step_id = -1;
  std::optional<int> abort_status;  // a rank called MPI_Abort
};

// srun --mpi: whether the step's ranks get a PMIx server, from the option, else SLURM_MPI_TYPE,
// else pmix (as Slurm with MpiDefault=pmix). An exit code when srun ends here: after --mpi=list,
// or for a type Slurm does not know, with its words.
std::variant<bool, int> MpiType(const std::optional<std::string>& option, const Voice& voice) {
  const char* env = std::getenv("SLURM_MPI_TYPE");
  std::string type = option ? *option : env != nullptr ? env : "pmix";
  if (type == "list") {
    std::fputs("MPI plugin types are...\n\tpmix\n\tnone\n"
               "specific pmix plugin versions available: pmix_v4\n",
               stdout);
    return 0;
  }
  if (type == "pmix" || type == "pmix_v4") return true;
  if (type == "none") return false;
  const char* cmd = voice.cmd.c_str();
  if (type == "pmi2" || type == "cray_shasta") {
    std::fprintf(stderr, "%s: error: --mpi=%s is not offered by swell: pmix and none are\n", cmd,
                 type.c_str());
    return 1;
  }
  std::fprintf(stderr,
               "%s: error: Couldn't find the specified plugin name for mpi/%s looking at all files\n"
               "%s: error: cannot find mpi plugin for mpi/%s\n"
               "%s: error: MPI: Cannot create context for mpi/%s\n"
               "%s: error: MPI: Unable to load any plugin\n"
               "%s: error: Invalid MPI type '%s', --mpi=list for acceptable types\n",
               cmd, type.c_str(), cmd, type.c_str(), cmd, type.c_str(), cmd, cmd, type.c_str());
  return 1;
}

Status RunExec(const pb::ExecRequest& req, bool label, bool kill_on_bad_exit, StepResult* out) {
  struct sigaction sa {};
  sa.sa_handler = [](int sig) { g_step_signal = sig; };
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  rpc::CallCanceller canceller;
  std::atomic<bool> done{false};
  // Signals end the call, which ends the step's ranks (the head cancels them).
  std::thread watcher([&] {
    while (!done) {
      if (g_step_signal != 0) canceller.Cancel();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  std::map<std::pair<int, int>, std::string> partial;  // (rank, fd) -> unfinished line
  auto client = Connect(Home());
  Status s = client->Exec(
      req,
      [&](const pb::ExecEvent& ev) {
        if (ev.started()) out->step_id = ev.step_id();
        if (ev.aborted() && !out->abort_status) {
          out->abort_status = ev.exit_code();
          std::fprintf(stderr, "srun: Job step aborted: Waiting up to 3 seconds for job step to "
                               "finish.\n");
        }
        if (!ev.data().empty()) {
          int fd = ev.fd() == 2 ? 2 : 1;
          if (!label) {
            WriteAll(fd, ev.data().data(), ev.data().size());
          } else {
            std::string& buf = partial[{ev.rank(), fd}];
            buf += ev.data();
            size_t nl;
            while ((nl = buf.find('\n')) != std::string::npos) {
              std::string line = std::to_string(ev.rank()) + ": " + buf.substr(0, nl + 1);
              WriteAll(fd, line.data(), line.size());
              buf.erase(0, nl + 1);
            }
          }
        }
        if (ev.ended()) {
          out->ends[ev.rank()] = {ev.exit_code(), ev.signal()};
          if (!ev.error().empty()) out->errors.push_back(ev.error());
          if (kill_on_bad_exit && (ev.exit_code() != 0 || ev.signal() != 0)) canceller.Cancel();
        }
      },
      &canceller);
  for (auto& [key, rest] : partial) {
    if (rest.empty()) continue;
    std::string line = std::to_string(key.first) + ": " + rest + "\n";
    WriteAll(key.second, line.data(), line.size());
  }
  done = true;
  watcher.join();
  return s;
}

// The highest exit code of the ranks; a signal counts as 128 + its number, as in shells.
int StepExitCode(const StepResult& r) {
  // MPI_Abort's status: the ranks the step's end killed do not count (as srun).
  if (r.abort_status) return *r.abort_status;
  int code = 0;
  for (const auto& [rank, end] : r.ends)
    code = std::max(code, end.second != 0 ? 128 + end.second : end.first);
  return code;
}

}  // namespace

int RunStep(const Args& args, const Voice& voice) {
  const char* job = std::getenv("SLURM_JOB_ID");
  std::vector<std::string> command;
  auto parsed = ParseRunOptions(args, voice, &command);
  if (auto* code = std::get_if<int>(&parsed)) return *code;
  auto* o = &std::get<SubmitOptions>(parsed);
  auto mpi = MpiType(o->mpi, voice);
  if (auto* code = std::get_if<int>(&mpi)) return *code;
  if (command.empty()) return voice.Fail("no command given", voice.slurm ? 1 : 2);
  pb::ExecRequest req;
  req.set_pmix(std::get<bool>(mpi));
  char* end = nullptr;
  req.set_job_id(std::strtoll(job, &end, 10));
  if (*end != 0 || req.job_id() <= 0)
    return voice.Fail(std::string("SLURM_JOB_ID is not a job id: '") + job + "'");
  for (const auto& a : command) req.add_argv(a);
  auto env = ExportedEnv(o->export_spec);
  for (const auto& [k, v] : env) (*req.mutable_env())[k] = v;
  req.set_cwd(o->chdir ? AbsolutePath(*o->chdir, CurrentDir()) : CurrentDir());
  // As srun: -n defaults to the allocation's task count unless -N or --ntasks-per-node say
  // otherwise; -N to all its nodes.
  if (o->ntasks) {
    req.set_ntasks(*o->ntasks);
  } else if (!o->nodes_min && !o->ntasks_per_node) {
    auto it = env.find("SLURM_NTASKS");
    if (it != env.end()) req.set_ntasks(std::atoi(it->second.c_str()));
  }
  if (o->nodes_min) req.set_nodes(*o->nodes_min);
  if (o->ntasks_per_node) req.set_ntasks_per_node(*o->ntasks_per_node);
  auto wanted = NodeNames(o->nodelist);
  if (!wanted.ok()) return voice.Fail(wanted.status());
  for (const auto& n : *wanted) req.add_nodelist(n);
  auto excluded = NodeNames(o->exclude);
  if (!excluded.ok()) return voice.Fail(excluded.status());
  for (const auto& n : *excluded) req.add_exclude(n);
  req.set_name(o->job_name.value_or(command[0].substr(command[0].rfind('/') + 1)));
  StepResult r;
  Status s = RunExec(req, o->label, o->kill_on_bad_exit, &r);
  if (!s.ok() && r.step_id < 0 && r.ends.empty())
    return voice.Fail("Unable to create step for job " + std::to_string(req.job_id()) + ": " +
                      ErrorText(s));
  for (const auto& e : r.errors) std::fprintf(stderr, "%s: error: %s\n", voice.cmd.c_str(), e.c_str());
  for (const auto& [rank, e] : r.ends) {
    if (e.second != 0)
      std::fprintf(stderr, "%s: error: task %d: %s\n", voice.cmd.c_str(), rank,
                   strsignal(e.second));
    else if (e.first != 0)
      std::fprintf(stderr, "%s: error: task %d: Exited with exit code %d\n", voice.cmd.c_str(),
                   rank, e.first);
  }
  if (!s.ok()) {
    if (g_step_signal != 0) {
      std::fprintf(stderr, "%s: error: step %lld.%lld cancelled\n", voice.cmd.c_str(),
                   static_cast<long long>(req.job_id()), static_cast<long long>(r.step_id));
      return 128 + g_step_signal;
    }
    return voice.Fail(ErrorText(s));
  }
  return StepExitCode(r);
}

int Relay(const Args& args) {
  // ssh's options that take a value; the others are flags. All are ignored.
  static const std::set<std::string> kWithValue = {"-b", "-c", "-D", "-E", "-e", "-F", "-I",
                                                   "-i", "-J", "-L", "-l", "-m", "-O", "-o",
                                                   "-p", "-Q", "-R", "-S", "-W", "-w"};
  size_t i = 0;
  while (i < args.size() && args[i].size() > 1 && args[i][0] == '-') {
    if (args[i] == "--") {
      ++i;
      break;
    }
    i += kWithValue.count(args[i]) ? 2 : 1;
  }
  if (i + 1 >= args.size()) {
    std::fprintf(stderr, "usage: swell-rsh [ssh options] HOST command [args...]\n");
    return 255;
  }
  const char* job = std::getenv("SLURM_JOB_ID");
  if (job == nullptr) {
    std::fprintf(stderr,
                 "swell-rsh: not inside a swell allocation (SLURM_JOB_ID is not set): it runs "
                 "commands on the nodes of the caller's job only\n");
    return 255;
  }
  pb::ExecRequest req;
  req.set_job_id(std::atoll(job));
  req.set_relay(true);
  req.add_nodelist(args[i]);
  for (size_t k = i + 1; k < args.size(); ++k) req.add_argv(args[k]);
  for (const auto& [k, v] : ExportedEnv(std::nullopt)) (*req.mutable_env())[k] = v;
  req.set_cwd(CurrentDir());
  req.set_name("relay");
  StepResult r;
  Status s = RunExec(req, false, false, &r);
  for (const auto& e : r.errors) std::fprintf(stderr, "swell-rsh: %s\n", e.c_str());
  if (!s.ok()) {
    std::fprintf(stderr, "swell-rsh: %s: %s\n", args[i].c_str(), ErrorText(s).c_str());
    return 255;
  }
  if (!r.errors.empty()) return 255;
  return StepExitCode(r);
}

namespace {

// What holds a salloc allocation on its first node: a batch script that waits until salloc's
// command ends. salloc then signals it: URG ends it COMPLETED, WINCH FAILED. Both are ignored
// by default, so one that comes before the shell has set its traps does no harm (salloc sends
// again).
constexpr char kHolder[] =
    "#!/bin/sh\n"
    "# salloc: holds the allocation while salloc's command runs.\n"
    "trap 'kill $! 2>/dev/null; exit 0' URG\n"
    "trap 'kill $! 2>/dev/null; exit 1' WINCH\n"
    "while :; do sleep 3600 & wait $!; done\n";

std::atomic<int> g_salloc_signal{0};

// Whether every node of the allocation runs on this machine (the `local` provider's nodes):
// then MPI between here and there goes over loopback.
bool NodesAreHere(rpc::HeadClient* client, const pb::JobInfo& j) {
  auto nodes = client->Nodes(pb::NodesRequest());
  if (!nodes.ok()) return false;
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  for (const auto& name : j.nodes()) {
    bool here = false;
    for (const auto& n : nodes->nodes()) here = here || (n.name() == name && n.hostname() == host);
    if (!here) return false;
  }
  return true;
}

// The environment of salloc's command: the allocation's, as Slurm gives it, and the MPI
// launchers' relay (mpirun here starts its daemons on the nodes through swell-rsh).
std::vector<std::string> AllocationEnv(const pb::JobInfo& j, bool local_cluster) {
  std::map<std::string, std::string> env = ExportedEnv(std::nullopt);  // all of ours
  std::vector<std::string> nodes(j.nodes().begin(), j.nodes().end());
  std::string nodelist = CompressHostList(nodes);
  // Tasks per node in the compressed list's (sorted) order, as SLURM_TASKS_PER_NODE has them.
  std::map<std::string, int> per;
  for (int i = 0; i < j.nodes_size() && i < j.node_tasks_size(); ++i)
    per[j.nodes(i)] = j.node_tasks(i);
  std::vector<int> counts;
  for (const auto& n : HostListOrder(nodes)) counts.push_back(std::max(1, per[n]));
  const pb::JobSpec& spec = j.spec();
  auto set = [&](const std::string& k, const std::string& v) { env["SLURM_" + k] = v; };
  set("JOB_ID", std::to_string(j.id()));
  set("JOBID", std::to_string(j.id()));
  set("JOB_NAME", j.name());
  set("JOB_NODELIST", nodelist);
  set("NODELIST", nodelist);
  set("JOB_NUM_NODES", std::to_string(nodes.size()));
  set("NNODES", std::to_string(nodes.size()));
  set("TASKS_PER_NODE", CompressCounts(counts));
  if (spec.ntasks_set()) {
    set("NTASKS", std::to_string(std::max(1, spec.ntasks())));
    set("NPROCS", std::to_string(std::max(1, spec.ntasks())));
  }
  if (spec.cpus_per_task_set())
    set("CPUS_PER_TASK", std::to_string(std::max(1, spec.cpus_per_task())));
  if (spec.ntasks_per_node() > 0) set("NTASKS_PER_NODE", std::to_string(spec.ntasks_per_node()));
  set("JOB_PARTITION", j.partition().empty() ? "batch" : j.partition());
  set("SUBMIT_DIR", spec.submit_dir());
  set("SUBMIT_HOST", spec.submit_host());
  set("CLUSTER_NAME", "swell");
  // srun and the other commands first on the PATH, as in a batch job.
  std::string& path = env["PATH"];
  if (path.empty()) path = "/usr/local/bin:/usr/bin:/bin";
  path = PathWithDirFirst(path, SelfDir());
  // On a local cluster the nodes are processes of this machine: MPI talks over loopback.
  AddMpiRelayEnv(env, SelfDir() + "/swell-rsh", local_cluster ? "lo" : "");
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

// Asks for an allocation of `opts`, held by kHolder, and waits until it runs, saying what
// `voice` says meanwhile (salloc's "Granted job allocation", srun's words when it waits). A
// signal gives it up. The job, or the exit code to end with.
std::variant<pb::JobInfo, int> Allocate(rpc::HeadClient* client, SubmitOptions opts,
                                        const Voice& voice, JobCommand command) {
  const char* cmd = voice.cmd.c_str();
  opts.output = "/dev/null";
  opts.error = "/dev/null";
  opts.input.reset();
  auto spec = BuildSpec(opts, kHolder, "", {});
  if (!spec.ok()) return FailOptions(voice, command, spec.status());
  pb::SubmitRequest sub;
  *sub.mutable_spec() = *spec;
  auto r = client->Submit(sub);
  if (!r.ok())
    return voice.Refused(command == kSalloc ? "Job submit/allocate failed: "
                                            : "Unable to allocate resources: ",
                         r.status());
  const int64_t id = r->job_id();
  pb::InfoRequest info;
  info.mutable_job()->set_job_id(id);
  auto give_up = [&] {
    pb::CancelRequest c;
    c.add_jobs()->set_job_id(id);
    (void)client->Cancel(c);
  };
  struct sigaction sa {};
  sa.sa_handler = [](int sig) { g_salloc_signal = sig; };
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  bool said_pending = false;
  const auto asked = std::chrono::steady_clock::now();
  for (;;) {
    auto j = client->Info(info);
    if (!j.ok()) {
      give_up();  // never leave an allocation behind that nobody holds
      return voice.Fail(ErrorText(j.status()));
    }
    if (j->job().state() == pb::RUNNING && j->job().nodes_size() > 0) {
      if (said_pending)
        std::fprintf(stderr, "%s: job %lld has been allocated resources\n", cmd,
                     static_cast<long long>(id));
      if (command == kSalloc)
        std::fprintf(stderr, "salloc: Granted job allocation %lld\n", static_cast<long long>(id));
      return j->job();
    }
    if (slurm::Terminal(j->job().state()) || g_salloc_signal != 0) {
      give_up();
      std::fprintf(stderr, "%s: Job allocation %lld has been revoked.\n", cmd,
                   static_cast<long long>(id));
      return 1;
    }
    // As Slurm: an allocation granted at once is only "Granted".
    if (!said_pending && std::chrono::steady_clock::now() - asked > std::chrono::seconds(1)) {
      if (command == kSalloc)
        std::fprintf(stderr, "salloc: Pending job allocation %lld\n", static_cast<long long>(id));
      std::fprintf(stderr, "%s: job %lld queued and waiting for resources\n", cmd,
                   static_cast<long long>(id));
      said_pending = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Ends the holder of allocation `id`: COMPLETED when `code` is 0, FAILED otherwise. A signal
// that comes before its shell set the traps is ignored, so it is sent again until the job ends.
void Relinquish(rpc::HeadClient* client, int64_t id, int code) {
  pb::InfoRequest info;
  info.mutable_job()->set_job_id(id);
  auto cancel = [&](int sig) {
    pb::CancelRequest c;
    c.add_jobs()->set_job_id(id);
    c.set_signal(sig);
    return client->Cancel(c);
  };
  for (int round = 0; round < 20; ++round) {
    (void)cancel(code == 0 ? SIGURG : SIGWINCH);
    for (int i = 0; i < 25; ++i) {
      auto j = client->Info(info);
      if (j.ok() && slurm::Terminal(j->job().state())) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  (void)cancel(0);  // the holder did not end: take the allocation back the hard way
}

}  // namespace

int Salloc(const Args& args) {
  const Voice voice{"salloc", true};
  std::vector<std::string> command;
  auto o = ParseJobOptions(args, true, &command, kSalloc);
  if (!o.ok()) return FailOptions(voice, kSalloc, o.status());
  if (auto code = PrintHelpOrVersion(*o, kSalloc, "salloc [options] [command [args...]]"))
    return *code;
  if (o->array) return voice.Fail("--array is for sbatch");
  if (command.empty()) {
    // As Slurm without SallocDefaultCommand: the user's shell.
    const char* shell = std::getenv("SHELL");
    command.push_back(shell != nullptr && *shell != 0 ? shell : "/bin/sh");
  }
  SubmitOptions opts = *o;
  if (!opts.job_name) opts.job_name = command[0].substr(command[0].rfind('/') + 1);
  auto client = Connect(Home());
  auto allocated = Allocate(client.get(), opts, voice, kSalloc);
  if (auto* code = std::get_if<int>(&allocated)) return *code;
  const pb::JobInfo job = std::get<pb::JobInfo>(allocated);
  const int64_t id = job.id();
  pb::InfoRequest info;
  info.mutable_job()->set_job_id(id);

  // The command runs here, in the allocation's environment; salloc only waits for it (the
  // command gets the terminal's signals itself).
  std::vector<std::string> env = AllocationEnv(job, NodesAreHere(client.get(), job));
  std::vector<char*> argv, envp;
  for (auto& a : command) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  // execvpe searches the caller's PATH: the command's (with srun's directory) it is.
  for (const auto& e : env)
    if (e.rfind("PATH=", 0) == 0) setenv("PATH", e.c_str() + 5, 1);
  pid_t child = fork();
  if (child == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    execvpe(argv[0], argv.data(), envp.data());
    std::fprintf(stderr, "salloc: error: %s: %s\n", argv[0], std::strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  int status = 0;
  if (child < 0) {
    std::fprintf(stderr, "salloc: error: fork: %s\n", std::strerror(errno));
    status = 1 << 8;
  } else {
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    // Wait for the command; say once if the allocation goes away meanwhile (Slurm's salloc
    // keeps waiting for its command unless --kill-command, which swell does not offer).
    bool revoked = false;
    auto last_check = std::chrono::steady_clock::now();
    for (;;) {
      pid_t w = waitpid(child, &status, WNOHANG);
      if (w == child || (w < 0 && errno != EINTR)) break;
      if (!revoked && std::chrono::steady_clock::now() - last_check > std::chrono::seconds(1)) {
        last_check = std::chrono::steady_clock::now();
        auto j = client->Info(info);
        if (j.ok() && slurm::Terminal(j->job().state())) {
          std::fprintf(stderr, "salloc: Job allocation %lld has been revoked.\n",
                       static_cast<long long>(id));
          revoked = true;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  const int code = WIFEXITED(status)     ? WEXITSTATUS(status)
                   : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                         : 1;
  std::fprintf(stderr, "salloc: Relinquishing job allocation %lld\n", static_cast<long long>(id));
  Relinquish(client.get(), id, code);
  return code;
}

int SrunOutside(const Args& args) {
  const Voice voice{"srun", true};
  std::vector<std::string> command;
  auto parsed = ParseRunOptions(args, voice, &command);
  if (auto* code = std::get_if<int>(&parsed)) return *code;
  const SubmitOptions& o = std::get<SubmitOptions>(parsed);
  auto mpi = MpiType(o.mpi, voice);
  if (auto* code = std::get_if<int>(&mpi)) return *code;
  // Plain tasks (--mpi=none), files named for the output, or only a test: the job's own tasks.
  if (!std::get<bool>(mpi) || o.output || o.error || o.input || o.test_only || o.array ||
      command.empty())
    return RunAs(args, voice);
  SubmitOptions opts = o;
  if (!opts.job_name) opts.job_name = command[0].substr(command[0].rfind('/') + 1);
  auto client = Connect(Home());
  auto allocated = Allocate(client.get(), opts, voice, kSrun);
  if (auto* code = std::get_if<int>(&allocated)) return *code;
  const pb::JobInfo& job = std::get<pb::JobInfo>(allocated);
  // The step runs as srun inside the allocation would: with its environment.
  for (const auto& e : AllocationEnv(job, NodesAreHere(client.get(), job))) {
    size_t eq = e.find('=');
    setenv(e.substr(0, eq).c_str(), e.c_str() + eq + 1, 1);
  }
  const int code = RunStep(args, voice);
  Relinquish(client.get(), job.id(), code);
  return code;
}

}  // namespace swell::cli
