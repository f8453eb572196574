// Runtime: how this process was launched (driver, worker, which launcher) and the glue between
// the public API, the driver and the worker.

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/files.h"
#include "common/process.h"
#include "common/log.h"
#include "common/secret.h"
#include "mr/driver.h"
#include "mr/hadoop.h"
#include "mr/net.h"
#include "mr/worker.h"
#include "swell/mr/mr.h"


namespace swell::mr {

namespace {

std::atomic<bool> g_leave{false};
void OnTerm(int) { g_leave = true; }

// Rank 0's rendezvous file, removed if a signal ends the driver (scancel, a time limit), so
// that no later launch with the same key reads a dead address.
char g_rendezvous[4096];
void RemoveRendezvousAndDie(int sig) {
  unlink(g_rendezvous);
  signal(sig, SIG_DFL);
  raise(sig);
}
void RemoveOnSignal(const std::string& file) {
  if (file.size() >= sizeof g_rendezvous) return;
  std::memcpy(g_rendezvous, file.c_str(), file.size() + 1);
  struct sigaction sa {};
  sa.sa_handler = RemoveRendezvousAndDie;
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
    struct sigaction old {};
    sigaction(sig, nullptr, &old);
    if (old.sa_handler == SIG_DFL) sigaction(sig, &sa, nullptr);  // the program's own stays
  }
}

// The CPUs this process may run on, in order.
std::vector<int> AllowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

[[noreturn]] void Usage(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  std::exit(2);
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

bool ParseInt(const std::string& s, int* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Keeps this worker (and the threads it starts after) on CPU `cpu` (SWELL_MR_CPU, set by a
// --local driver). Left to the kernel, two workers woken together by the driver's broadcast
// were often placed on one CPU for a whole map phase (docs/mapreduce.md); OpenMPI binds its
// ranks to cores by default for the same reason.
void BindTo(const std::string& cpu) {
  int c = -1;
  if (!ParseInt(cpu, &c) || c < 0 || c >= CPU_SETSIZE) {
    LogWarning("mr: SWELL_MR_CPU must be a CPU number, not '%s'", cpu.c_str());
    return;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(c, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0)
    LogWarning("mr: cannot bind this worker to CPU %d: %s", c, std::strerror(errno));
}

// A key usable in a file name.
std::string Sanitize(std::string key) {
  for (char& c : key)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') c = '_';
  return key;
}

// Rank and size from a launcher's environment, and a key naming this launch.
struct Launcher {
  int rank = 0, size = 0;
  std::string key;
  bool one_host = false;  // every rank on this host: loopback is enough
};

std::optional<Launcher> FromLauncher() {
  auto pick = [](const char* r, const char* s) -> std::optional<std::pair<int, int>> {
    int rank = 0, size = 0;
    if (!ParseInt(Env(r), &rank) || !ParseInt(Env(s), &size)) return std::nullopt;
    if (size < 1 || rank < 0 || rank >= size) return std::nullopt;
    return std::make_pair(rank, size);
  };
  Launcher l;
  if (auto p = pick("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE")) {
    std::tie(l.rank, l.size) = *p;
    l.key = "ompi-" + (Env("PMIX_NAMESPACE").empty() ? Env("OMPI_MCA_ess_base_jobid")
                                                     : Env("PMIX_NAMESPACE"));
    l.one_host = Env("OMPI_COMM_WORLD_LOCAL_SIZE") == Env("OMPI_COMM_WORLD_SIZE");
  } else if (auto q = pick("SLURM_PROCID", "SLURM_NTASKS")) {
    std::tie(l.rank, l.size) = *q;
    l.key = "slurm-" + Env("SLURM_JOB_ID") + "." + Env("SLURM_STEP_ID");
    l.one_host = Env("SLURM_STEP_NUM_NODES") == "1" || Env("SLURM_NNODES") == "1";
  } else if (auto m = pick("PMI_RANK", "PMI_SIZE")) {
    std::tie(l.rank, l.size) = *m;
    l.key = "pmi-" + (Env("PMI_KVSNAME").empty() ? std::to_string(getppid()) : Env("PMI_KVSNAME"));
  } else {
    return std::nullopt;
  }
  if (!Env("SWELL_MR_KEY").empty()) l.key = Env("SWELL_MR_KEY");
  l.key = Sanitize(l.key);
  return l;
}

std::string RendezvousDir() {
  if (auto d = Env("SWELL_MR_RENDEZVOUS"); !d.empty()) return d;
  if (auto h = Env("HOME"); !h.empty()) return h + "/.swell/mr";
  return "/tmp";
}

std::pair<std::string, uint16_t> SplitHostPort(const std::string& s) {
  auto colon = s.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !ParseInt(s.substr(colon + 1), &port) || port <= 0 ||
      port > 65535)
    return {"", 0};
  return {s.substr(0, colon), static_cast<uint16_t>(port)};
}

}  // namespace

void PrintStats(const IterationStats& s) { std::fprintf(stderr, "%s\n", FormatStats(s).c_str()); }

std::string FormatStats(const IterationStats& s) {
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "iter %d: load %.3f broadcast %.3f map %.3f shuffle %.3f reduce %.3f combine "
                "%.3f total %.3f s, %d workers, %.1f KB shuffled%s",
                s.iteration, s.load_s, s.broadcast_s, s.map_s, s.shuffle_s, s.reduce_s,
                s.combine_s, s.total_s, s.workers, static_cast<double>(s.shuffle_bytes) / 1e3,
                s.attempts > 1 ? (", " + std::to_string(s.attempts) + " attempts").c_str() : "");
  return buf;
}

class Runtime::Impl {
 public:
  enum class Mode { kLocal, kLauncher, kSingle, kWorker, kTask, kIdle };

  Impl(int& argc, char** argv) {
    ParseFlags(argc, argv);
    if (IsHadoopTask()) {
      mode_ = Mode::kTask;
      return;
    }
    if (hadoop_) {
      // Every iteration starts its own task processes: no long-running workers. Under a
      // launcher only rank 0 drives; the other ranks have nothing to do.
      if (auto l = FromLauncher(); l && l->size > 1 && l->rank > 0) {
        mode_ = Mode::kIdle;
        return;
      }
      mode_ = local_ > 0 ? Mode::kLocal : Mode::kSingle;
      expected_ = std::max(1, local_);
      return;
    }
    if (auto d = Env("SWELL_MR_DRIVER"); !d.empty()) {
      mode_ = Mode::kWorker;
      auto [host, port] = SplitHostPort(d);
      if (port == 0) Usage("SWELL_MR_DRIVER must be host:port, not '" + d + "'");
      wopt_ = {host, port, Env("SWELL_MR_KEY"), "127.0.0.1", "127.0.0.1", &g_leave};
      if (auto cpu = Env("SWELL_MR_CPU"); !cpu.empty()) BindTo(cpu);
      if (Env("SWELL_MR_LISTEN") == "any") {
        wopt_.listen_host = "0.0.0.0";
        wopt_.advertise = net::AdvertisedHost();
      }
      return;
    }
    if (auto key = Env("SWELL_MR_JOIN"); !key.empty()) {
      mode_ = Mode::kWorker;
      auto addr = WaitRendezvous(RendezvousDir() + "/swell-mr-" + Sanitize(key));
      bool local = addr.first == "127.0.0.1";
      wopt_ = {addr.first, addr.second, Sanitize(key), local ? "127.0.0.1" : "0.0.0.0",
               local ? "127.0.0.1" : net::AdvertisedHost(), &g_leave};
      return;
    }
    if (local_ > 0) {
      mode_ = Mode::kLocal;
      StartDriver("127.0.0.1", RandomKey());
      expected_ = local_;
      Status st = Spawn(local_);
      if (!st.ok()) Usage(st.ToString());
      return;
    }
    if (auto l = FromLauncher(); l && l->size > 1) {
      mode_ = Mode::kLauncher;
      launcher_ = *l;
      std::string file = RendezvousDir() + "/swell-mr-" + l->key;
      if (l->rank == 0) {
        StartDriver(l->one_host ? "127.0.0.1" : "0.0.0.0", l->key);
        std::string host = l->one_host ? "127.0.0.1" : net::AdvertisedHost();
        Status st = MakeDirs(RendezvousDir(), 0700);
        if (st.ok())
          st = WriteFileAtomic(file, host + ":" + std::to_string(driver_->port()) + "\n", 0600);
        if (!st.ok()) Usage("cannot publish the driver's address: " + st.ToString());
        rendezvous_ = file;
        RemoveOnSignal(file);
        expected_ = l->size;
        StartThreadWorker(l->key);
      } else {
        mode_ = Mode::kWorker;
        auto addr = WaitRendezvous(file);
        bool local = l->one_host;
        wopt_ = {addr.first, addr.second, l->key, local ? "127.0.0.1" : "0.0.0.0",
                 local ? "127.0.0.1" : net::AdvertisedHost(), &g_leave};
      }
      return;
    }
    mode_ = Mode::kSingle;
    StartDriver("127.0.0.1", RandomKey());
    expected_ = 1;
    StartThreadWorker(key_);
  }

  ~Impl() {
    std::vector<int64_t> connected;
    if (driver_) connected = driver_->connected_pids();
    driver_.reset();  // tells every connected worker to stop
    if (thread_worker_.joinable()) thread_worker_.join();
    for (pid_t pid : children_) {
      // One that never connected (the driver ended first) would wait for it in vain.
      if (std::find(connected.begin(), connected.end(), pid) == connected.end())
        kill(pid, SIGKILL);
      // Workers exit on kStop; one that does not within 5 s is killed.
      for (int i = 0; i < 100; ++i) {
        if (waitpid(pid, nullptr, WNOHANG) != 0) break;
        if (i == 99) {
          kill(pid, SIGKILL);
          waitpid(pid, nullptr, 0);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    if (!rendezvous_.empty()) unlink(rendezvous_.c_str());
  }

  void ParseFlags(int& argc, char** argv) {
    int out = 1;
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      auto value = [&](const std::string& flag) -> std::optional<std::string> {
        if (a == flag) {
          if (i + 1 >= argc) Usage(flag + " needs a value");
          return std::string(argv[++i]);
        }
        if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
        return std::nullopt;
      };
      if (auto v = value("--local")) {
        if (!ParseInt(*v, &local_) || local_ < 1 || local_ > 1024)
          Usage("--local needs a number of workers from 1 to 1024, not '" + *v + "'");
      } else if (a == "--stats") {
        stats_ = true;
      } else if (auto b = value("--mr-bind")) {
        if (*b != "core" && *b != "none")
          Usage("--mr-bind is 'core' (the default) or 'none', not '" + *b + "'");
        bind_ = *b == "core";
      } else if (auto m = value("--mr-mode")) {
        if (*m != "hadoop" && *m != "memory")
          Usage("--mr-mode is 'memory' (the default) or 'hadoop', not '" + *m + "'");
        hadoop_ = *m == "hadoop";
      } else {
        argv[out++] = argv[i];
        child_argv_.push_back(a);
      }
    }
    argc = out;
    argv[argc] = nullptr;
    program_ = argv[0];
  }

  std::string RandomKey() {
    auto s = GenerateSecret();
    return s.ok() ? s->substr(0, 32) : std::to_string(getpid());
  }

  void StartDriver(const std::string& host, std::string key) {
    key_ = std::move(key);
    auto l = net::Listen(host, 0);
    if (!l.ok()) Usage("cannot listen for workers: " + l.status().ToString());
    driver_ = std::make_unique<Driver>(key_, std::move(l).value(), stats_);
  }

  void StartThreadWorker(const std::string& key) {
    WorkerOptions o{"127.0.0.1", driver_->port(), key, "127.0.0.1", "127.0.0.1", nullptr};
    if (mode_ == Mode::kLauncher && !launcher_.one_host) {
      o.listen_host = "0.0.0.0";
      o.advertise = net::AdvertisedHost();
    }
    thread_worker_ = std::thread([this, o] { RunWorker(registry_, o); });
  }

  // --local: fork/exec this binary with the same arguments, as workers.
  Status Spawn(int n) {
    std::vector<std::string> args = {program_};
    args.insert(args.end(), child_argv_.begin(), child_argv_.end());
    std::vector<std::string> env = EnvironmentWithout("SWELL_MR_");
    env.push_back("SWELL_MR_DRIVER=127.0.0.1:" + std::to_string(driver_->port()));
    env.push_back("SWELL_MR_KEY=" + key_);
    std::vector<int> cpus = bind_ ? AllowedCpus() : std::vector<int>{};
    // One worker has nothing to be kept apart from (and several single-worker runs would
    // all land on the first CPU).
    bool bind = n >= 2 && n <= static_cast<int>(cpus.size());
    for (int i = 0; i < n; ++i) {
      if (bind) env.push_back("SWELL_MR_CPU=" + std::to_string(cpus[i]));
      SWELL_ASSIGN_OR_RETURN(pid_t pid, SpawnChild("/proc/self/exe", args, env));
      children_.push_back(pid);
      if (bind) env.pop_back();
    }
    return Status::Ok();
  }

  // The address in `file` once a driver answers there. A file left by an earlier launch with
  // the same key (a killed rank 0; job ids start again on a new cluster) names a port nobody
  // listens on: it is read again until rank 0 has written its own.
  std::pair<std::string, uint16_t> WaitRendezvous(const std::string& file) {
    for (int i = 0; i < 600; ++i) {  // about 60 s
      std::ifstream in(file);
      std::string line;
      if (in && std::getline(in, line)) {
        auto hp = SplitHostPort(line);
        if (hp.second != 0 &&
            net::Connect(hp.first, hp.second, std::chrono::milliseconds(50)).ok())
          return hp;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    Usage("rank 0 did not publish a reachable address in " + file + " within 60 s");
  }

  Registry registry_;
  Mode mode_ = Mode::kSingle;
  int local_ = 0;
  bool stats_ = false;
  bool bind_ = true;  // --mr-bind: --local workers one per allowed CPU, when there are enough
  bool hadoop_ = false;
  std::string program_;
  std::vector<std::string> child_argv_;  // the program's own arguments, for workers
  Launcher launcher_;
  std::string key_;
  std::string rendezvous_;
  int expected_ = 0;
  std::unique_ptr<Driver> driver_;
  std::thread thread_worker_;
  std::vector<pid_t> children_;
  WorkerOptions wopt_;
};

Runtime::Runtime(int& argc, char** argv) : impl_(std::make_unique<Impl>(argc, argv)) {}
Runtime::~Runtime() = default;

void Runtime::RegisterErased(const std::string& name, internal::JobFactory make) {
  impl_->registry_[name] = std::move(make);
}

bool Runtime::is_worker() const {
  return impl_->mode_ == Impl::Mode::kWorker || impl_->mode_ == Impl::Mode::kTask ||
         impl_->mode_ == Impl::Mode::kIdle;
}
bool Runtime::stats() const { return impl_->stats_; }
bool Runtime::hadoop() const { return impl_->hadoop_; }
int Runtime::expected_workers() const { return impl_->expected_; }

std::string Runtime::launch() const {
  switch (impl_->mode_) {
    case Impl::Mode::kLocal: return "local";
    case Impl::Mode::kLauncher: return "launcher";
    case Impl::Mode::kSingle: return "single";
    case Impl::Mode::kWorker: return "worker";
    case Impl::Mode::kTask: return "task";
    case Impl::Mode::kIdle: return "idle";
  }
  return "?";
}

int Runtime::Serve() {
  if (!is_worker()) {
    LogError("mr: Serve() called on the driver");
    return 2;
  }
  if (impl_->mode_ == Impl::Mode::kTask) return RunHadoopTask(impl_->registry_);
  if (impl_->mode_ == Impl::Mode::kIdle) return 0;
  struct sigaction sa {};
  sa.sa_handler = OnTerm;
  sigaction(SIGTERM, &sa, nullptr);
  return RunWorker(impl_->registry_, impl_->wopt_);
}

Status Runtime::AddLocalWorkers(int n) {
  if (impl_->mode_ != Impl::Mode::kLocal || !impl_->driver_)
    return InvalidArgument("AddLocalWorkers needs --local mode (not hadoop)");
  return impl_->Spawn(n);
}

Status Runtime::WaitForWorkers(int n, std::chrono::milliseconds timeout) {
  if (!impl_->driver_) return InvalidArgument("WaitForWorkers is for the driver");
  return impl_->driver_->WaitForWorkers(n, timeout);
}

std::vector<int> Runtime::local_worker_pids() const {
  return {impl_->children_.begin(), impl_->children_.end()};
}

Result<std::unique_ptr<internal::DriverJob>> Runtime::OpenErased(
    const std::string& name, std::vector<std::string> partitions, const JobOptions& options) {
  if (is_worker()) return InvalidArgument("Open is for the driver; workers call Serve()");
  auto it = impl_->registry_.find(name);
  if (it == impl_->registry_.end())
    return InvalidArgument("no job named '" + name + "' is registered");
  bool map_only = it->second()->map_only();
  if (impl_->hadoop_)
    return OpenHadoop(name, it->second, std::move(partitions), options, map_only,
                      impl_->program_, impl_->child_argv_, std::max(1, impl_->expected_),
                      impl_->stats_);
  SWELL_RETURN_IF_ERROR(impl_->driver_->WaitForWorkers(impl_->expected_, options.start_timeout));
  return impl_->driver_->Open(name, std::move(partitions), options, map_only);
}

}  // namespace swell::mr
