// Job steps inside an allocation (srun in a batch script) and swell-rsh, the relay MPI
// launchers use instead of ssh. Both stream a step's output through the head (Exec).

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "cli/cli.h"
#include "cli/submit_options.h"
#include "common/files.h"
#include "common/slurm_format.h"

namespace swell::cli {
namespace {

std::atomic<int> g_step_signal{0};

Result<std::vector<std::string>> Hosts(const std::optional<std::string>& text) {
  if (!text) return std::vector<std::string>{};
  return NodeNames(*text);
}

// Runs `req`, passing the step's output on and ending it when a signal comes. Returns the
// status of the call; fills the ranks' ends.
struct StepResult {
  std::map<int, std::pair<int, int>> ends;  // rank -> (exit code, signal)
  std::vector<std::string> errors;
  int64_t step_id = -1;
};

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
  int code = 0;
  for (const auto& [rank, end] : r.ends)
    code = std::max(code, end.second != 0 ? 128 + end.second : end.first);
  return code;
}

}  // namespace

int RunStep(const Args& args, const Voice& voice) {
  const char* job = std::getenv("SLURM_JOB_ID");
  std::vector<std::string> command;
  auto o = ParseJobOptions(args, true, &command);
  if (!o.ok()) return voice.Fail(o.status(), voice.slurm ? 1 : 2);
  if (o->help) {
    std::printf("usage: %s [options] command [args...]\n%s", voice.slurm ? "srun" : "swell run",
                SubmitUsage().c_str());
    return 0;
  }
  if (command.empty()) return voice.Fail("no command given", voice.slurm ? 1 : 2);
  pb::ExecRequest req;
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
  auto wanted = Hosts(o->nodelist);
  if (!wanted.ok()) return voice.Fail(wanted.status());
  for (const auto& n : *wanted) req.add_nodelist(n);
  auto excluded = Hosts(o->exclude);
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

}  // namespace swell::cli
