// The job commands: submit, run, queue, nodes, cancel, wait, logs, info.

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "cli/cli.h"
#include "cli/job_options.h"
#include "cli/job_state.h"
#include "cli/slurm_args.h"
#include "cli/submit_options.h"
#include "common/files.h"
#include "common/hostlist.h"
#include "common/local_time.h"
#include "common/slurm_format.h"
#include "common/slurm_output.h"
#include "common/slurm_refusal.h"
#include "common/text.h"

extern char** environ;

namespace swell::cli {
namespace {

std::string HostName() {
  char buf[256] = {0};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

std::string BaseName(const std::string& p) {
  auto s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}


}  // namespace

Result<std::vector<std::string>> NodeNames(const std::optional<std::string>& text) {
  if (!text) return std::vector<std::string>{};
  if (text->find('/') == std::string::npos) return ExpandHostList(*text);
  std::ifstream in(*text);
  if (!in) return InvalidArgument("cannot read the node list file " + *text);
  std::vector<std::string> out;
  std::string word;
  while (in >> word) {
    auto hosts = ExpandHostList(word);
    if (!hosts.ok()) return hosts.status();
    out.insert(out.end(), hosts->begin(), hosts->end());
  }
  return out;
}

Result<pb::JobSpec> BuildSpec(const SubmitOptions& o, const std::string& script,
                              const std::string& script_path,
                              const std::vector<std::string>& argv) {
  pb::JobSpec spec;
  std::string cwd = CurrentDir();
  spec.set_script(script);
  for (const auto& a : argv) spec.add_argv(a);
  spec.set_script_path(script_path);
  std::string default_name = o.wrap           ? "wrap"
                             : script.empty() ? (argv.empty() ? "run" : BaseName(argv[0]))
                                              : BaseName(script_path);
  spec.set_name(o.job_name.value_or(default_name));
  for (auto [text, out] : {std::pair{&o.nodelist, spec.mutable_nodelist()},
                           std::pair{&o.exclude, spec.mutable_exclude()}}) {
    auto hosts = NodeNames(*text);
    if (!hosts.ok()) return hosts.status();
    out->Add(hosts->begin(), hosts->end());
  }
  spec.set_exclusive(o.exclusive);
  spec.set_ntasks(o.ntasks.value_or(0));  // 0: the head takes one per node (-N), as Slurm
  spec.set_cpus_per_task(o.cpus_per_task.value_or(1));
  // Without -N, a -w list is the node count (the head raises a smaller -N to it too).
  const int listed = spec.nodelist_size();
  spec.set_min_nodes(o.nodes_min.value_or(std::max(1, listed)));
  spec.set_max_nodes(o.nodes_max.value_or(0));
  spec.set_ntasks_set(o.ntasks.has_value());
  spec.set_cpus_per_task_set(o.cpus_per_task.has_value());
  if (o.ntasks_per_node) {
    // -N nodes with --ntasks-per-node each; or enough nodes for -n at that many per node.
    int tpn = *o.ntasks_per_node;
    spec.set_ntasks_per_node(tpn);
    spec.set_ntasks_set(true);  // sbatch counts the tasks then, and exports them
    if (!o.ntasks) spec.set_ntasks(spec.min_nodes() * tpn);
    if (!o.nodes_min && listed == 0) {
      int nodes = (spec.ntasks() + tpn - 1) / tpn;
      spec.set_min_nodes(nodes);
      spec.set_max_nodes(nodes);
    }
  }
  spec.set_mem_mb(o.mem_mb.value_or(0));
  spec.set_gpus(o.gpus.value_or(0));
  if (o.time_limit && *o.time_limit != kInfinite) spec.set_time_limit_ms(o.time_limit->count());
  if (o.output) spec.set_output(*o.output);
  if (o.error) spec.set_error(*o.error);
  if (o.input) spec.set_input(*o.input);
  if (o.array) {
    spec.set_array_spec(o.array_text.value_or(""));
    for (auto i : o.array->indices) spec.add_array_indices(i);
    spec.set_array_max_running(o.array->max_running);
  }
  if (o.dependency) {
    spec.mutable_dependency()->set_any(o.dependency->any);
    for (const auto& t : o.dependency->terms) {
      auto* pt = spec.mutable_dependency()->add_terms();
      pt->set_type(t.type);
      for (const auto& id : t.job_ids) pt->add_job_ids(id);
    }
  }
  std::string work = o.chdir ? AbsolutePath(*o.chdir, cwd) : cwd;
  struct stat st;
  if (stat(work.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return InvalidArgument("working directory " + work + " does not exist");
  spec.set_work_dir(work);
  spec.set_submit_dir(cwd);
  spec.set_submit_host(HostName());
  // As sbatch: the submitting process's scheduling priority (its nice value).
  errno = 0;
  int prio = getpriority(PRIO_PROCESS, 0);
  spec.set_prio_process(errno == 0 ? prio : 0);
  for (auto& [k, v] : ExportedEnv(o.export_spec)) (*spec.mutable_env())[k] = v;
  if (o.export_spec) spec.set_export_spec(*o.export_spec);
  spec.set_requeue(o.requeue && !o.no_requeue);
  if (o.begin) spec.set_begin_time_ms(ToMillis(*o.begin));
  if (o.partition) spec.set_partition(*o.partition);
  if (o.nice) spec.set_nice(*o.nice);
  if (o.comment) spec.set_comment(*o.comment);
  spec.set_hold(o.hold);
  SWELL_RETURN_IF_ERROR(ApplyJobOptions(o, &spec));
  return spec;
}

namespace {

// "123" or "123_4".
Result<pb::JobRef> ParseRef(const std::string& text) {
  pb::JobRef ref;
  char* end = nullptr;
  long long id = std::strtoll(text.c_str(), &end, 10);
  if (end == text.c_str() || id <= 0) return InvalidArgument("bad job id '" + text + "'");
  ref.set_job_id(id);
  if (*end == '_') {
    char* end2 = nullptr;
    long long idx = std::strtoll(end + 1, &end2, 10);
    if (end2 == end + 1 || *end2 != 0 || idx < 0)
      return InvalidArgument("bad job id '" + text + "'");
    ref.set_has_index(true);
    ref.set_array_index(idx);
  } else if (*end != 0) {
    return InvalidArgument("bad job id '" + text + "'");
  }
  return ref;
}

int ExitCodeOf(const pb::JobInfo& j) {
  if (j.state() == pb::COMPLETED) return 0;
  if (j.signal() != 0) return 128 + j.signal();
  if (j.exit_code() != 0) return j.exit_code();
  return 1;
}

const char* ShortState(pb::JobState s) { return slurm::JobStateCompact(s).data(); }

std::string StateText(pb::JobState s) { return std::string(slurm::JobStateName(s)); }

std::string Elapsed(const pb::JobInfo& j) {
  if (j.start_ms() == 0) return "0:00";
  int64_t end = j.end_ms() ? j.end_ms() : ToMillis(SystemClock().Now());
  return FormatSeconds(std::max<int64_t>(0, (end - j.start_ms()) / 1000));
}

// Parses the options of submit/run; `for_run` splits the command off at "--".

// Streams the new bytes of `path` from `*offset` to `fd`.
void Pump(const std::string& path, off_t* offset, int out_fd) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char buf[65536];
  for (;;) {
    ssize_t n = pread(fd, buf, sizeof buf, *offset);
    if (n <= 0) break;
    *offset += n;
    if (!WriteAll(out_fd, buf, static_cast<size_t>(n))) break;
  }
  close(fd);
}

std::atomic<bool> g_interrupted{false};

// Follows a Wait stream across a restart of the head: when the head goes away (kill -9, then
// `swell up`), waiting goes on with a fresh connection for up to a minute. `client` (optional:
// the one a command submitted with) makes the first attempt, which saves a command a second
// channel (~2 ms of its life).
Status WaitFollowingRestarts(rpc::HeadClient* client, const pb::WaitRequest& req,
                             const std::function<bool(const pb::WaitEvent&)>& on_event) {
  auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  for (bool first = true;; first = false) {
    std::unique_ptr<rpc::HeadClient> fresh = first && client ? nullptr : Connect(Home());
    Status s = (fresh ? fresh.get() : client)->Wait(req, on_event);
    if (s.code() != Code::kUnavailable || g_interrupted) return s;
    if (std::chrono::steady_clock::now() > give_up) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

// The words of `cmd` if it is a plain command line: words of [A-Za-z0-9_./,:+@%-] separated by
// single spaces, the first without '=' (an assignment) and not a shell builtin that has no
// program of its name (`exit 3`, `cd dir`); otherwise empty.
std::vector<std::string> SimpleCommand(const std::string& cmd) {
  std::vector<std::string> words;
  std::string cur;
  for (char c : cmd) {
    if (c == ' ') {
      if (cur.empty()) return {};
      words.push_back(cur);
      cur.clear();
      continue;
    }
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || std::strchr("_./,:+@%-=", c);
    if (!ok) return {};
    cur += c;
  }
  if (cur.empty()) return {};
  words.push_back(cur);
  if (words[0].find('=') != std::string::npos) return {};
  static const std::set<std::string> kBuiltins = {
      ".",     "alias", "break",  "cd",       "continue", "eval",  "exec",  "exit",
      "export", "hash", "local",  "readonly", "return",   "set",   "shift", "source",
      "times", "trap",  "ulimit", "umask",    "unalias",  "unset", "wait"};
  if (kBuiltins.count(words[0])) return {};
  return words;
}

}  // namespace

// The job's environment under Slurm's --export rules: ALL (default), NONE, or a list of
// NAME or NAME=value items, where a leading ALL keeps everything else too.
std::map<std::string, std::string> ExportedEnv(const std::optional<std::string>& spec) {
  std::map<std::string, std::string> all;
  for (char** e = environ; *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq) all[std::string(*e, static_cast<size_t>(eq - *e))] = eq + 1;
  }
  if (!spec || *spec == "ALL") return all;
  if (*spec == "NONE") return {};
  std::map<std::string, std::string> out;
  for (const std::string& item : SplitNonEmpty(*spec, ',')) {
    if (item == "ALL") {
      for (auto& kv : all) out.insert(kv);
      continue;
    }
    if (item == "NONE") continue;
    auto eq = item.find('=');
    if (eq == std::string::npos) {
      auto it = all.find(item);
      if (it != all.end()) out[item] = it->second;
    } else {
      out[item.substr(0, eq)] = item.substr(eq + 1);
    }
  }
  return out;
}

Result<SubmitOptions> ParseJobOptions(const Args& args, bool for_run,
                                      std::vector<std::string>* command, JobCommand slurm) {
  Time now = SystemClock().Now();
  Args opts = args;
  if (for_run) {
    auto dd = std::find(args.begin(), args.end(), "--");
    if (dd != args.end()) {
      opts.assign(args.begin(), dd);
      command->assign(dd + 1, args.end());
    }
  }
  auto o = ParseSubmitArgs(opts, now, slurm);
  if (!o.ok()) return o.status();
  if (for_run && command->empty())
    *command = o->positional;
  else if (for_run && !o->positional.empty())
    return InvalidArgument("unexpected '" + o->positional[0] + "' before --");
  return o;
}

// --test-only: Slurm's estimate of when and where the job would start, on stderr, or
// "allocation failure: <why>" and exit 1.
int ReportTestOnly(const Result<pb::SubmitReply>& r, const Voice& voice) {
  if (!r.ok()) {
    std::fprintf(stderr, "allocation failure: %s\n", ErrorText(r.status()).c_str());
    return 1;
  }
  std::fprintf(stderr, "%s: Job %lld to start at %s using %d processors on nodes %s in partition %s\n",
               voice.slurm ? voice.cmd.c_str() : "swell submit", static_cast<long long>(r->job_id()),
               FormatTime(FromMillis(r->start_ms())).c_str(), r->cpus(), r->nodes().c_str(),
               r->partition().c_str());
  return 0;
}

int Submit(const Args& args) { return SubmitAs(args, {"submit", false}); }

int SubmitAs(const Args& args, const Voice& voice) {
  auto o = ParseJobOptions(args, false, nullptr, kSbatch);
  if (!o.ok()) return FailOptions(voice, kSbatch, o.status());
  if (auto code = PrintHelpOrVersion(
          *o, kSbatch, std::string(voice.slurm ? "sbatch" : "swell submit") + " [options] script [args...]"))
    return *code;
  std::string script, script_path;
  std::vector<std::string> script_args;
  using slurm_refusal::kMaxScriptBytes;
  auto too_long = [&] {
    return voice.Refused("Batch job submission failed: ",
                         InvalidArgument(slurm_refusal::Encode(
                             {{}, slurm_refusal::kTooLong,
                              "the script is larger than " + std::to_string(kMaxScriptBytes) +
                                  " bytes, Slurm's max_script_size"})));
  };
  if (o->wrap) {
    if (!o->positional.empty()) return voice.Fail("--wrap takes no script", 2);
    // A plain command (words of safe characters, no shell syntax) runs directly, as
    // `sh -c CMD` would end by exec'ing it: one exec per task instead of two.
    script_args = SimpleCommand(*o->wrap);
    if (script_args.empty()) script = "#!/bin/sh\n" + *o->wrap + "\n";
  } else if (o->positional.empty() && voice.slurm) {
    // sbatch without a script reads it from standard input.
    auto text = ReadFile("/dev/stdin", kMaxScriptBytes);
    if (!text.ok() && text.status().code() == Code::kInvalidArgument) return too_long();
    script = text.ok() ? *text : "";
    if (script.empty()) return voice.Fail("Batch script is empty!");
  } else {
    if (o->positional.empty()) return voice.Fail("no script given (or use --wrap)", 2);
    script_path = o->positional[0];
    script_args.assign(o->positional.begin() + 1, o->positional.end());
    auto text = ReadFile(script_path, kMaxScriptBytes);
    if (!text.ok() && text.status().code() == Code::kInvalidArgument) return too_long();
    if (!text.ok())
      return voice.Fail("cannot read script '" + script_path + "': " + text.status().message(),
                        2);
    script = *text;
  }
  if (script.size() > kMaxScriptBytes) return too_long();  // --wrap's
  // As Slurm's sbatch, which never sends such a script.
  if (script.find('\0') != std::string::npos)
    return voice.Refused("", InvalidArgument(slurm_refusal::kScriptNulLines));
  if (!o->wrap && script.rfind("#!", 0) != 0)
    return voice.Fail((script_path.empty() ? std::string("the script") : script_path) +
                          " does not look like a batch script: its first line must "
                          "start with #! and an interpreter, e.g. #!/bin/bash",
                      2);
  std::string name = script_path.empty() ? (o->wrap ? "wrap" : "sbatch") : script_path;
  auto dirs = ExtractDirectives(script, name);
  if (!dirs.ok()) return voice.Fail(dirs.status(), 2);
  auto merged = MergeDirectives(*dirs, *o, name, SystemClock().Now());
  if (!merged.ok()) return FailOptions(voice, kSbatch, merged.status());
  if (auto code = PrintHelpOrVersion(*merged, kSbatch, "sbatch [options] script [args...]"))
    return *code;
  if (!o->wrap && script_path.empty() && !merged->job_name) merged->job_name = "sbatch";
  auto spec =
      BuildSpec(*merged, script, script_path.empty() ? "" : AbsolutePath(script_path, CurrentDir()),
                script_args);
  if (!spec.ok()) {
    if (spec.status().message().starts_with("refused: ") || voice.slurm)
      return FailOptions(voice, kSbatch, spec.status());
    return voice.Fail(spec.status(), 2);
  }
  std::string home = Home();
  auto client = Connect(home);
  pb::SubmitRequest req;
  *req.mutable_spec() = *spec;
  auto r = client->Submit(req);
  if (merged->test_only) return ReportTestOnly(r, voice);
  if (!r.ok()) return voice.Refused("Batch job submission failed: ", r.status());
  if (merged->parsable)
    std::printf("%lld\n", static_cast<long long>(r->job_id()));
  else if (!merged->quiet)
    std::printf("Submitted batch job %lld\n", static_cast<long long>(r->job_id()));
  std::fflush(stdout);
  if (!merged->wait) return 0;
  pb::WaitRequest w;
  w.add_jobs()->set_job_id(r->job_id());
  pb::JobInfo last;
  Status s = WaitFollowingRestarts(client.get(), w, [&](const pb::WaitEvent& ev) {
    if (ev.jobs_size() > 0) last = ev.jobs(0);
    return true;
  });
  if (!s.ok()) return voice.Fail(s);
  // sbatch -W exits with the job's exit code, 1 when a signal ended it.
  if (voice.slurm) return last.signal() ? 1 : last.exit_code();
  return ExitCodeOf(last);
}

int Run(const Args& args) { return RunAs(args, {"run", false}); }

std::variant<SubmitOptions, int> ParseRunOptions(const Args& args, const Voice& voice,
                                                 std::vector<std::string>* command) {
  auto o = ParseJobOptions(args, true, command, kSrun);
  if (!o.ok()) return FailOptions(voice, kSrun, o.status());
  if (auto code = PrintHelpOrVersion(*o, kSrun, voice.slurm ? "srun [options] executable [args...]"
                                                            : "swell run [options] -- command [args...]"))
    return *code;
  return std::move(*o);
}

int RunAs(const Args& args, const Voice& voice) {
  // Inside an allocation (a batch script), as srun: a step on the allocation's nodes.
  if (std::getenv("SLURM_JOB_ID") != nullptr) return RunStep(args, voice);
  std::vector<std::string> command;
  auto parsed = ParseRunOptions(args, voice, &command);
  if (auto* code = std::get_if<int>(&parsed)) return *code;
  auto* o = &std::get<SubmitOptions>(parsed);
  if (command.empty()) return Fail("run", "no command given (swell run [options] -- cmd args)", 2);
  if (o->array) return Fail("run", "--array is for swell submit", 2);
  std::string home = Home();
  std::string run_dir = home + "/run";
  (void)MakeDirs(run_dir, 0700);
  SubmitOptions opts = *o;
  if (!opts.output) opts.output = run_dir + "/%j.out";
  if (!opts.error) opts.error = run_dir + "/%j.err";
  std::string launcher;
  if (o->mpi && !voice.slurm) {  // srun's --mpi names a PMI type (SrunOutside), not a launcher
    // An MPI launcher runs the ranks: it starts once, on the allocation's first node, and
    // reaches the others through swell-rsh (the node daemons set it up as its ssh).
    if (o->mpi->empty() || *o->mpi == "openmpi" || *o->mpi == "ompi")
      launcher = "mpirun";
    else if (*o->mpi == "mpich" || *o->mpi == "hydra")
      launcher = "mpiexec.mpich";
    else
      return Fail("run", "--mpi=" + *o->mpi + ": unknown MPI (openmpi or mpich)", 2);
  }
  auto spec = BuildSpec(opts, "", "", command);
  if (!spec.ok()) return FailOptions(voice, kSrun, spec.status());
  if (!launcher.empty()) {
    // As many ranks as the allocation has tasks (the spec knows -N, -w, --ntasks-per-node).
    int ntasks = spec->ntasks() > 0 ? spec->ntasks() : spec->min_nodes();
    spec->clear_argv();
    for (const auto& a : {launcher, std::string("-n"), std::to_string(ntasks)}) spec->add_argv(a);
    for (const auto& a : command) spec->add_argv(a);
  }
  // As srun: the command runs once per task (-n), over the allocation's nodes; with --mpi the
  // launcher does that.
  spec->set_launch_tasks(launcher.empty());
  auto client = Connect(home);
  pb::SubmitRequest req;
  *req.mutable_spec() = *spec;
  auto r = client->Submit(req);
  if (o->test_only) return ReportTestOnly(r, voice);
  if (!r.ok() && voice.slurm) return voice.Refused("Unable to allocate resources: ", r.status());
  if (!r.ok()) return Fail("run", r.status(), r.status().code() == Code::kInvalidArgument ? 2 : 1);
  int64_t id = r->job_id();
  std::string out_path = opts.output->find("%j") != std::string::npos
                             ? run_dir + "/" + std::to_string(id) + ".out"
                             : "";
  std::string err_path = opts.error->find("%j") != std::string::npos
                             ? run_dir + "/" + std::to_string(id) + ".err"
                             : "";
  if (!o->output)
    out_path = run_dir + "/" + std::to_string(id) + ".out";
  else
    out_path.clear();
  if (!o->error)
    err_path = run_dir + "/" + std::to_string(id) + ".err";
  else
    err_path.clear();

  struct sigaction sa {};
  sa.sa_handler = [](int) { g_interrupted = true; };
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  std::mutex mu;
  std::condition_variable cv;
  bool done = false;  // GUARDED_BY(mu)
  pb::JobInfo final_info;
  Status wait_status;
  std::thread waiter([&] {
    pb::WaitRequest w;
    w.add_jobs()->set_job_id(id);
    wait_status = WaitFollowingRestarts(client.get(), w, [&](const pb::WaitEvent& ev) {
      if (ev.jobs_size() > 0) final_info = ev.jobs(0);
      return true;
    });
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    cv.notify_all();
  });
  off_t out_off = 0, err_off = 0;
  bool cancel_sent = false;
  // Output is polled: every 2 ms while it flows, backing off to 25 ms while it does not, so a
  // long quiet job (an MPI run on busy cores) is not slowed by the client; the job's end
  // wakes the loop at once.
  auto idle = std::chrono::milliseconds(2);
  std::unique_lock<std::mutex> lock(mu);
  while (!done) {
    lock.unlock();
    if (g_interrupted && !cancel_sent) {
      pb::CancelRequest c;
      c.add_jobs()->set_job_id(id);
      (void)client->Cancel(c);
      cancel_sent = true;
    }
    off_t before = out_off + err_off;
    if (!out_path.empty()) Pump(out_path, &out_off, 1);
    if (!err_path.empty()) Pump(err_path, &err_off, 2);
    idle = out_off + err_off != before ? std::chrono::milliseconds(2)
                                       : std::min(idle * 2, std::chrono::milliseconds(25));
    lock.lock();
    cv.wait_for(lock, idle, [&] { return done; });
  }
  lock.unlock();
  waiter.join();
  if (!out_path.empty()) Pump(out_path, &out_off, 1), unlink(out_path.c_str());
  if (!err_path.empty()) Pump(err_path, &err_off, 2), unlink(err_path.c_str());
  if (!wait_status.ok()) return Fail("run", wait_status);
  if (final_info.state() != pb::COMPLETED && final_info.state() != pb::FAILED)
    std::fprintf(stderr, "swell run: job %lld ended %s\n", static_cast<long long>(id),
                 StateText(final_info.state()).c_str());
  return ExitCodeOf(final_info);
}

int Queue(const Args& args) {
  pb::QueueRequest req;
  bool json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--json")
      json = true;
    else if (a == "-a" || a == "--all")
      req.set_all(true);
    else if (a == "-t" || a == "--tasks")
      req.set_tasks(true);
    else if ((a == "-u" || a == "--user") && i + 1 < args.size())
      req.set_user(args[++i]);
    else if ((a == "-j" || a == "--jobs") && i + 1 < args.size()) {
      std::string list = args[++i];
      size_t p = 0;
      while (p <= list.size()) {
        size_t q = list.find(',', p);
        if (q == std::string::npos) q = list.size();
        auto ref = ParseRef(list.substr(p, q - p));
        if (!ref.ok()) return Fail("queue", ref.status(), 2);
        req.add_job_ids(ref->job_id());
        p = q + 1;
      }
    } else {
      return Fail("queue", "unknown option '" + a + "' (--all, --tasks, -u USER, -j IDS, --json)",
                  2);
    }
  }
  auto r = Connect(Home())->Queue(req);
  if (!r.ok()) return Fail("queue", r.status());
  if (json) {
    PrintJson(*r);
    return 0;
  }
  std::printf("%-20s %-14s %-9s %-2s %10s %12s  %s\n", "JOBID", "NAME", "USER", "ST", "TIME",
              "TASKS", "NODELIST(REASON)");
  for (const auto& j : r->jobs()) {
    // Arrays as squeue shows them: the pending part as id_[ranges%throttle].
    std::string id = std::to_string(j.id());
    if (!j.pending_indices().empty()) {
      id += "_[" + j.pending_indices();
      if (j.array_max_running() > 0) id += "%" + std::to_string(j.array_max_running());
      id += "]";
    } else if (j.task_count() > 1) {
      id += "_[" + std::to_string(j.task_count()) + " tasks]";
    }
    int64_t done = 0;
    for (int s = pb::COMPLETED; s < j.state_counts_size(); ++s) done += j.state_counts(s);
    std::string tasks = std::to_string(done) + "/" + std::to_string(j.task_count());
    std::string where;
    for (int k = 0; k < j.nodes_size(); ++k) where += (k ? "," : "") + j.nodes(k);
    if (!j.reason().empty() && (j.state() == pb::PENDING || where.empty()))
      where = "(" + j.reason() + ")";
    std::printf("%-20s %-14.14s %-9.9s %-2s %10s %12s  %s\n", id.c_str(), j.name().c_str(),
                j.user().c_str(), ShortState(j.state()), Elapsed(j).c_str(), tasks.c_str(),
                where.c_str());
    for (const auto& t : j.tasks()) {
      std::string tid = t.array_index() >= 0
                            ? std::to_string(j.id()) + "_" + std::to_string(t.array_index())
                            : std::to_string(j.id());
      std::printf("  %-18s %-14s %-9s %-2s %10s %12s  %s\n", tid.c_str(), "", "",
                  ShortState(t.state()), "", "", t.node().c_str());
    }
  }
  return 0;
}

int Cancel(const Args& args) {
  pb::CancelRequest req;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-s" || args[i] == "--signal") {
      if (i + 1 >= args.size()) return Fail("cancel", "-s needs a signal", 2);
      auto num = slurm::SignalNumber(args[++i]);
      if (!num) return Fail("cancel", "unknown signal '" + args[i] + "'", 2);
      req.set_signal(*num);
      continue;
    }
    auto ref = ParseRef(args[i]);
    if (!ref.ok()) return Fail("cancel", ref.status(), 2);
    *req.add_jobs() = *ref;
  }
  if (req.jobs_size() == 0) return Fail("cancel", "which jobs? (swell cancel ID[_INDEX]...)", 2);
  auto r = Connect(Home())->Cancel(req);
  if (!r.ok()) return Fail("cancel", r.status());
  return 0;
}

int Wait(const Args& args) {
  pb::WaitRequest req;
  for (const auto& a : args) {
    auto ref = ParseRef(a);
    if (!ref.ok()) return Fail("wait", ref.status(), 2);
    *req.add_jobs() = *ref;
  }
  if (req.jobs_size() == 0) return Fail("wait", "which jobs? (swell wait ID...)", 2);
  bool tty = isatty(2);
  pb::WaitEvent last;
  Status s = WaitFollowingRestarts(nullptr, req, [&](const pb::WaitEvent& ev) {
    last = ev;
    if (tty) {
      constexpr int kWidth = 30;
      int filled = ev.total() ? static_cast<int>(kWidth * ev.done() / ev.total()) : kWidth;
      std::string bar(static_cast<size_t>(filled), '#');
      bar.append(static_cast<size_t>(kWidth - filled), '.');
      std::fprintf(stderr, "\r[%s] %lld/%lld done, %lld running, %lld failed ", bar.c_str(),
                   (long long)ev.done(), (long long)ev.total(), (long long)ev.running(),
                   (long long)ev.failed());
      if (ev.done() >= ev.total()) std::fprintf(stderr, "\n");
    }
    return true;
  });
  if (!s.ok()) return Fail("wait", s);
  return last.failed() == 0 ? 0 : 1;
}

namespace {

// `swell CMD ID[_INDEX] [FLAG]` (logs, info): the job from the head, and in *flag whether one of
// `flags` was given. On a usage error or a failed call the error has been reported and its exit
// code is returned.
std::optional<int> AskOneJob(const std::string& cmd, const Args& args,
                             std::initializer_list<std::string_view> flags,
                             const std::string& usage, bool* flag, pb::InfoReply* reply) {
  std::string id;
  for (const auto& a : args) {
    if (std::find(flags.begin(), flags.end(), a) != flags.end())
      *flag = true;
    else if (id.empty())
      id = a;
    else
      return Fail(cmd, "one job at a time", 2);
  }
  if (id.empty()) return Fail(cmd, "which job? (" + usage + ")", 2);
  auto ref = ParseRef(id);
  if (!ref.ok()) return Fail(cmd, ref.status(), 2);
  pb::InfoRequest req;
  *req.mutable_job() = *ref;
  auto r = Connect(Home())->Info(req);
  if (!r.ok()) return Fail(cmd, r.status());
  *reply = std::move(*r);
  return std::nullopt;
}

}  // namespace

int Logs(const Args& args) {
  bool err = false;
  pb::InfoReply r;
  if (auto code =
          AskOneJob("logs", args, {"-e", "--error"}, "swell logs ID[_INDEX] [-e]", &err, &r))
    return *code;
  const std::string& path = err ? r.job().stderr_path() : r.job().stdout_path();
  auto text = ReadFile(path);
  if (!text.ok()) return Fail("logs", "no output yet at " + path);
  std::fwrite(text->data(), 1, text->size(), stdout);
  return 0;
}

int Info(const Args& args) {
  bool json = false;
  pb::InfoReply r;
  if (auto code = AskOneJob("info", args, {"--json"}, "swell info ID[_INDEX] [--json]", &json, &r))
    return *code;
  if (json) {
    PrintJson(r);
    return 0;
  }
  const auto& j = r.job();
  const auto& s = j.spec();
  auto when = [](int64_t ms) { return ms ? FormatTime(FromMillis(ms)) : std::string("Unknown"); };
  std::printf("JobId=%lld JobName=%s\n", (long long)j.id(), j.name().c_str());
  std::printf("   UserId=%s(%u) Priority=%d\n", j.user().c_str(), j.uid(), j.priority());
  std::printf("   JobState=%s Reason=%s ExitCode=%d:%d Restarts=%d\n", StateText(j.state()).c_str(),
              j.reason().empty() ? "None" : j.reason().c_str(), j.exit_code(), j.signal(),
              j.restarts());
  std::printf("   SubmitTime=%s StartTime=%s EndTime=%s\n", when(j.submit_ms()).c_str(),
              when(j.start_ms()).c_str(), when(j.end_ms()).c_str());
  std::printf("   TimeLimit=%s NumTasks=%d CPUs/Task=%d MinMemoryNode=%lldM Gpus=%d\n",
              s.time_limit_ms() ? FormatDuration(Duration(s.time_limit_ms())).c_str() : "UNLIMITED",
              s.ntasks(), s.cpus_per_task(), (long long)s.mem_mb(), s.gpus());
  if (!s.array_spec().empty()) std::printf("   ArraySpec=%s\n", s.array_spec().c_str());
  std::printf("   WorkDir=%s\n   StdOut=%s\n   StdErr=%s\n", s.work_dir().c_str(),
              j.stdout_path().c_str(), j.stderr_path().c_str());
  if (!s.script_path().empty())
    std::printf("   Command=%s\n", s.script_path().c_str());
  else if (s.argv_size())
    std::printf("   Command=%s\n", s.argv(0).c_str());
  int shown = 0;
  for (const auto& t : j.tasks()) {
    if (t.array_index() < 0) {
      std::printf("   Node=%s\n", t.node().empty() ? "(none)" : t.node().c_str());
      break;
    }
    if (++shown > 50) {
      std::printf("   ... %d more tasks (swell info --json lists all)\n", j.tasks_size() - 50);
      break;
    }
    std::printf("   Task %lld_%lld JobId=%lld State=%s ExitCode=%d:%d Node=%s\n", (long long)j.id(),
                (long long)t.array_index(), (long long)t.job_id(), StateText(t.state()).c_str(),
                t.exit_code(), t.signal(), t.node().c_str());
  }
  return 0;
}

}  // namespace swell::cli
