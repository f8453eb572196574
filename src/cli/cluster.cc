// swell up / down and the two daemons (swell-daemon; docs/architecture.md "Two binaries").

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <thread>

#include "cli/cli.h"
#include "cli/daemon_cmds.h"
#include "cli/slurm_cluster.h"
#include "cli/stop_signal.h"
#include "common/files.h"
#include "common/log.h"
#include "common/process.h"
#include "common/secret.h"
#include "common/text.h"
#include "head/config/config.h"
#include "head/head.h"
#include "node/join.h"
#include "node/node.h"
#include "provider/providers.h"
#include "tls/cluster_tls.h"
#include "web/dashboard.h"

namespace swell::cli {
namespace {

// This binary (swell-daemon), to start the daemons with.
std::string DaemonExe() {
  std::string exe = SelfExe();
  return exe.empty() ? "swell" : exe;
}

// Starts `swell args...` (args[0] is "swell") detached from us, output to `log`.
Result<pid_t> StartDaemon(std::vector<std::string> args, const std::string& log) {
  args[0] = DaemonExe();
  return SpawnDetached(args, log);
}

// Waits up to `timeout` for `pid` to exit.
bool WaitGone(pid_t pid, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (!ProcessAlive(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::string NodeName(int i) { return "node" + std::to_string(i); }

// With [cluster] http: the dashboard's address, once the head has written it.
void PrintDashboard(const std::string& home, const head::config::ClusterConfig& cfg) {
  if (cfg.http.empty()) return;
  for (int i = 0; i < 50; ++i) {
    auto url = ReadFile(home + "/head.http", 4096);
    if (url.ok() && !url->empty()) {
      std::printf("swell: dashboard at %s", url->c_str());
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::printf("swell: the dashboard (%s) did not start; see %s/head.log\n", cfg.http.c_str(),
              home.c_str());
}

}  // namespace

provider::ProviderConfig ProviderSettings(const head::config::ClusterConfig& c) {
  provider::ProviderConfig p;
  p.kind = c.provider;
  p.boot_delay =
      std::chrono::duration_cast<Duration>(std::chrono::duration<double>(c.provider_boot_s));
  p.create = c.provider_create;
  p.remove = c.provider_delete;
  p.list = c.provider_list;
  p.timeout = std::chrono::seconds(c.provider_timeout_s);
  p.hosts = c.provider_hosts;
  if (!c.provider_subnet.empty()) p.subnet = c.provider_subnet;
  if (!c.provider_bridge.empty()) p.bridge = c.provider_bridge;
  if (!c.provider_prefix.empty()) p.prefix = c.provider_prefix;
  return p;
}

head::elastic::PoolOptions PoolLimits(const head::config::ClusterConfig& c) {
  head::elastic::PoolOptions o;
  o.boot_timeout = std::chrono::seconds(c.boot_timeout_s);
  o.max_nodes = c.policy_options.max_nodes;
  o.creates_per_minute = c.creates_per_minute;
  o.deletes_per_minute = c.deletes_per_minute;
  o.budget_per_hour = c.budget_per_hour;
  return o;
}

int Up(const Args& args) {
  CLI::App app{"swell up"};
  int nodes = -1;
  std::string config_file;
  app.add_option("-N,--nodes", nodes, "node daemons to run")->check(CLI::NonNegativeNumber);
  app.add_option("--config", config_file, "cluster file (TOML, see docs/cli.md)")
      ->check(CLI::ExistingFile);
  if (auto done = ParseFlags(app, args, "up")) return *done;
  std::string home = Home();
  // Others may use the cluster (the socket checks who they are); the secret stays 0600.
  if (Status s = MakeDirs(home, 0755); !s.ok()) return Fail("up", s);
  chmod(home.c_str(), 0755);
  (void)MakeDirs(home + "/run", 01777);
  chmod((home + "/run").c_str(), 01777);
  // Settings: --config's cluster file, else the saved one; then --nodes. The result is saved
  // as $SWELL_HOME/cluster.toml, which the head reads too (node types, autoscaler, provider).
  const std::string saved = home + "/cluster.toml";
  std::string source = !config_file.empty()               ? config_file
                       : access(saved.c_str(), F_OK) == 0 ? saved
                                                          : std::string();
  std::string text;
  if (!source.empty()) {
    auto t = ReadFile(source, head::config::kMaxFileBytes);
    if (!t.ok()) return Fail("up", t.status(), 2);
    text = std::move(t).value();
  }
  auto parsed = head::config::Parse(text, source.empty() ? "defaults" : source);
  if (!parsed.ok()) return Fail("up", parsed.status(), 2);
  head::config::ClusterConfig cfg = std::move(parsed).value();
  if (nodes >= 0) cfg.nodes = nodes;
  auto merged = head::config::WithClusterTable(text, source, cfg);
  if (!merged.ok()) return Fail("up", merged.status(), 2);
  if (Status s = WriteFileAtomic(saved, *merged, 0600); !s.ok()) return Fail("up", s);
  if (cfg.slurm_embedded) return UpSlurm(cfg, home, saved);
  auto secret = LoadOrCreateSecret(home + "/secret");
  if (!secret.ok()) return Fail("up", secret.status());

  std::string exe = DaemonExe();
  int started = 0;
  pid_t head_pid = ReadLivePid(home + "/head.pid");
  if (head_pid == 0) {
    std::vector<std::string> a = {"swell", "head", "--home", home, "--config", saved};
    if (!cfg.tcp.empty()) a.insert(a.end(), {"--tcp", cfg.tcp});
    auto pid = StartDaemon(a, home + "/head.log");
    if (!pid.ok()) return Fail("up", pid.status());
    head_pid = *pid;
    ++started;
  }
  auto client = Connect(home);
  // The head answers once it has loaded its state: a queue of 100,000 jobs takes seconds.
  // Waited for while it runs (two minutes at most); a head that exits is not waited for.
  Status ready = Unavailable("");
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (!ready.ok() && std::chrono::steady_clock::now() < give_up) {
    ready = client->WaitReady(std::chrono::milliseconds(100));
    if (ready.ok()) ready = client->Nodes({}).status();
    if (!ready.ok() && !ProcessAlive(head_pid)) break;
  }
  if (!ready.ok()) return Fail("up", "the head did not start; see " + home + "/head.log");

  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  int64_t mem_total = static_cast<int64_t>(pages) * page / (1 << 20);
  int n = std::max(1, cfg.nodes);
  int cpus =
      cfg.cpus_per_node > 0 ? cfg.cpus_per_node : std::max<int>(1, static_cast<int>(ncpu / n));
  int64_t mem = cfg.mem_per_node_mb > 0 ? cfg.mem_per_node_mb : mem_total / n;
  for (int i = 1; i <= cfg.nodes; ++i) {
    std::string dir = home + "/nodes/" + NodeName(i);
    (void)MakeDirs(dir, 0755);
    if (ReadLivePid(dir + "/pid") != 0) continue;
    auto pid = StartDaemon(
        {"swell", "node", "--home", home, "--name", NodeName(i), "--cpus", std::to_string(cpus),
         "--mem", std::to_string(mem), "--gpus", std::to_string(cfg.gpus_per_node), "--kill-wait",
         std::to_string(cfg.kill_wait_s)},
        dir + "/log");
    if (!pid.ok()) return Fail("up", pid.status());
    ++started;
  }
  // Wait until every node answers.
  int up = 0;
  for (int i = 0; i < 200; ++i) {
    auto r = client->Nodes({});
    up = 0;
    if (r.ok())
      for (const auto& ni : r->nodes())
        if (ni.state() != "DOWN" && ni.state() != "UNKNOWN") ++up;
    if (up >= cfg.nodes) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (up < cfg.nodes)
    return Fail("up", std::to_string(up) + " of " + std::to_string(cfg.nodes) +
                          " nodes came up; see " + home + "/nodes/*/log");
  if (cfg.elastic()) {
    std::string types;
    for (const auto& t : cfg.node_types) types += (types.empty() ? "" : ", ") + t.name;
    std::printf(
        "swell: cluster up in %s: head, %d static node%s; elastic node types %s "
        "(provider %s, policy %s)%s\n",
        home.c_str(), cfg.nodes, cfg.nodes == 1 ? "" : "s", types.c_str(), cfg.provider.c_str(),
        cfg.policy.c_str(), started == 0 ? ", already running" : "");
    PrintDashboard(home, cfg);
    return 0;
  }
  std::printf("swell: cluster up in %s: head and %d node%s (%d cpus, %lld MB each)%s\n",
              home.c_str(), cfg.nodes, cfg.nodes == 1 ? "" : "s", cpus, static_cast<long long>(mem),
              started == 0 ? ", already running" : "");
  PrintDashboard(home, cfg);
  return 0;
}

namespace {

// An elastic cluster's instances go with it: what its provider still lists once the head has
// stopped (a node booting, one whose delete failed, a cloud machine whose daemon is gone) is
// deleted, failures retried for up to a minute. Returns the names still listed after that.
std::vector<std::string> DeleteInstances(const std::string& home,
                                         const head::config::ClusterConfig& cfg) {
  provider::ProviderContext ctx;
  ctx.home = home;
  ctx.swell_exe = DaemonExe();
  ctx.head_address = "unix:" + HeadSocket(home);
  ctx.secret_file = home + "/secret";
  ctx.kill_wait_s = cfg.kill_wait_s;
  auto p = provider::MakeProvider(ProviderSettings(cfg), ctx);
  if (!p.ok()) return {"(provider: " + p.status().ToString() + ")"};
  std::vector<std::string> left = {"(not listed yet)"};
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (int round = 0; std::chrono::steady_clock::now() < end; ++round) {
    if (round > 0) std::this_thread::sleep_for(std::chrono::seconds(1));
    auto names = (*p)->List();
    if (!names.ok()) continue;
    left = *names;
    if (left.empty()) break;
    for (const auto& n : left) (void)(*p)->Delete(n);
  }
  return left;
}

}  // namespace

int Down(const Args& args) {
  if (!args.empty() && args[0] != "--help") return Fail("down", "takes no arguments", 2);
  std::string home = Home();
  if (DownSlurm(home)) return 0;
  // Node daemons, static and elastic (each writes nodes/<name>/pid).
  auto live_nodes = [&] {
    std::vector<std::pair<std::string, pid_t>> out;
    std::error_code ec;
    for (auto& e : std::filesystem::directory_iterator(home + "/nodes", ec)) {
      pid_t pid = ReadLivePid(e.path().string() + "/pid");
      if (pid) out.push_back({e.path().string(), pid});
    }
    return out;
  };
  int stopped = 0;
  size_t node_count = 0;
  auto stop_nodes = [&] {
    auto nodes = live_nodes();
    for (auto& [dir, pid] : nodes) kill(pid, SIGTERM);
    for (auto& [dir, pid] : nodes) {
      if (!WaitGone(pid, std::chrono::seconds(15)))
        kill(pid, SIGKILL), WaitGone(pid, std::chrono::seconds(2));
      unlink((dir + "/pid").c_str());
      unlink((dir + "/instance").c_str());
      ++stopped;
    }
    node_count += nodes.size();
  };
  // Nodes first: they end their tasks and report while the head still listens.
  stop_nodes();
  pid_t head = ReadLivePid(home + "/head.pid");
  if (head) {
    kill(head, SIGTERM);
    if (!WaitGone(head, std::chrono::seconds(15)))
      kill(head, SIGKILL), WaitGone(head, std::chrono::seconds(2));
    unlink((home + "/head.pid").c_str());
    ++stopped;
  }
  // An elastic head may have started a node while the first ones stopped.
  stop_nodes();
  int rc = 0;
  auto cfg = head::config::Load(home + "/cluster.toml");
  if (cfg.ok() && cfg->elastic() && cfg->provider != "netns") {  // netns: TeardownNetns below
    auto left = DeleteInstances(home, *cfg);
    if (!left.empty()) {
      std::string names;
      for (const auto& n : left) names += " " + n;
      std::fprintf(stderr, "swell down: the %s provider still lists%s (delete them by hand)\n",
                   cfg->provider.c_str(), names.c_str());
      rc = 1;
    }
  }
  // Network namespaces, veths and the bridge of netns nodes go with their cluster.
  if (cfg.ok() && cfg->provider == "netns") {
    auto no = provider::NetnsSettings(ProviderSettings(*cfg));
    if (Status s = provider::TeardownNetns(home, no); !s.ok())
      std::fprintf(stderr, "swell down: removing the netns nodes: %s\n", s.ToString().c_str());
  }
  if (stopped == 0 && rc == 0) {
    std::printf("swell: nothing running in %s\n", home.c_str());
  } else {
    std::printf("swell: stopped the head%s and %zu node%s in %s\n", head ? "" : " (not running)",
                node_count, node_count == 1 ? "" : "s", home.c_str());
  }
  return rc;
}

namespace {

// The dashboard on `address`; off loopback with the head's TLS files and a token kept in
// $SWELL_HOME/http.token (0600), made at its first start.
Result<std::unique_ptr<web::Dashboard>> StartDashboard(const std::string& home,
                                                       const std::string& address,
                                                       const rpc::TlsFiles& tls,
                                                       head::Head* head) {
  web::DashboardOptions d;
  d.address = address;
  // Off loopback: the head's TLS files (none without [cluster] tcp: Start refuses) and a token.
  auto hp = ParseHostPort(address);
  if (hp && !IsLoopbackHost(hp->host) && !tls.cert.empty()) {
    d.cert_file = tls.cert;
    d.key_file = tls.key;
    SWELL_ASSIGN_OR_RETURN(d.token, LoadOrCreateSecret(home + "/http.token"));
  }
  return web::Dashboard::Start(d, head);
}

}  // namespace

int HeadDaemon(const Args& args) {
  CLI::App app{"swell head"};
  std::string home = Home(), tcp, config_file, http;
  int node_timeout = 0;
  app.add_option("--home", home);
  app.add_option("--http", http, "serve the dashboard and /metrics on host:port (docs/dashboard.md)");
  app.add_option("--config", config_file, "cluster file (TOML): node types, autoscaler, provider")
      ->check(CLI::ExistingFile);
  app.add_option("--tcp", tcp, "also listen on host:port (cluster secret required)");
  app.add_option("--node-timeout", node_timeout)->check(CLI::PositiveNumber);
  if (auto done = ParseFlags(app, args, "head")) return *done;
  head::config::ClusterConfig cfg;
  if (!config_file.empty()) {
    auto c = head::config::Load(config_file);
    if (!c.ok()) return Fail("head", c.status(), 2);
    cfg = std::move(c).value();
  }
  if (node_timeout == 0) node_timeout = cfg.node_timeout_s;
  if (tcp.empty()) tcp = cfg.tcp;
  if (http.empty()) http = cfg.http;
  StopSignal stop;
  if (Status s = MakeDirs(home, 0700); !s.ok()) return Fail("head", s);
  std::string pid_file = home + "/head.pid";
  if (pid_t other = ReadLivePid(pid_file); other != 0 && other != getpid())
    return Fail("head", "already running as pid " + std::to_string(other));
  // The secret and the cluster file (a provider's settings) are the owner's only; the state
  // database is checked where it is opened (state::Store::Open).
  for (const char* name : {"/secret", "/cluster.toml"}) {
    std::string file = home + name;
    if (access(file.c_str(), F_OK) == 0)
      if (Status s = KeepPrivate(file); !s.ok()) return Fail("head", s);
  }
  auto secret = LoadOrCreateSecret(home + "/secret");
  if (!secret.ok()) return Fail("head", secret.status());
  head::HeadOptions o;
  o.state_path = home + "/state.db";
  o.unix_path = HeadSocket(home);
  o.tcp_address = tcp;
  o.secret = *secret;
  o.node_timeout = std::chrono::seconds(node_timeout);
  o.mail_prog = cfg.mail_prog;
  o.pmix_timeout = std::chrono::seconds(cfg.pmix_timeout_s);
  // Every TCP link speaks TLS (docs/security.md): the cluster's CA and the head's certificate,
  // made at the first start with TCP.
  std::optional<tls::ClusterTls> cluster_tls;
  auto head_tls = [&]() -> Status {
    if (cluster_tls) return Status::Ok();
    SWELL_ASSIGN_OR_RETURN(cluster_tls, tls::EnsureClusterTls(home, SystemClock().Now()));
    o.tls = {cluster_tls->ca_cert, cluster_tls->head_cert, cluster_tls->head_key};
    o.ca_key = cluster_tls->ca_key;
    return Status::Ok();
  };
  if (cfg.elastic()) {
    head::ElasticOptions e;
    e.types = cfg.node_types;
    e.policy = cfg.policy;
    e.policy_options = cfg.policy_options;
    e.pool = PoolLimits(cfg);
    e.max_preemptions = cfg.max_preemptions;
    e.interval = std::chrono::milliseconds(static_cast<int64_t>(cfg.interval_s * 1000));
    provider::ProviderContext ctx;
    ctx.home = home;
    ctx.swell_exe = DaemonExe();
    ctx.head_address = "unix:" + o.unix_path;
    ctx.secret_file = home + "/secret";
    ctx.kill_wait_s = cfg.kill_wait_s;
    auto settings = ProviderSettings(cfg);
    if (cfg.provider == "netns") {
      // Nodes in their namespaces reach the head on the bridge: listen there.
      if (!o.tcp_address.empty())
        return Fail("head",
                    "with the netns provider the head listens on the nodes' bridge; "
                    "leave [cluster] tcp empty",
                    2);
      auto address = provider::NetnsHeadAddress(provider::NetnsSettings(settings));
      if (!address.ok()) return Fail("head", address.status(), 2);
      o.tcp_address = ctx.head_address = *address;
    }
    if (!o.tcp_address.empty()) {
      if (Status s = head_tls(); !s.ok()) return Fail("head", s);
      ctx.node_credentials = [home, t = *cluster_tls](const std::string& name) {
        return tls::IssueNodeFiles(t, name, home + "/nodes/" + name + "/tls", SystemClock().Now())
            .status();
      };
    }
    auto provider = provider::MakeProvider(settings, ctx);
    if (!provider.ok()) return Fail("head", provider.status(), 2);
    e.provider = std::move(provider).value();
    o.elastic = std::move(e);
  }
  if (!o.tcp_address.empty())
    if (Status s = head_tls(); !s.ok()) return Fail("head", s);
  // A scheduling pass over a long queue builds vectors of tens of megabytes and frees them;
  // glibc would map each afresh and unmap it after (every page faulted in again, ~1/3 of a
  // pass at 100,000 jobs). Kept in the heap, the next pass reuses pages already there.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  SystemClock clock;
  auto h = head::Head::Open(o, &clock);
  if (!h.ok()) return Fail("head", h.status());
  if (Status s = WriteFileAtomic(pid_file, std::to_string(getpid()) + "\n"); !s.ok())
    return Fail("head", s);
  if (Status s = (*h)->Start(); !s.ok()) {
    unlink(pid_file.c_str());
    return Fail("head", s);
  }
  if (!tcp.empty()) {
    (void)WriteFileAtomic(home + "/head.port", std::to_string((*h)->tcp_port()) + "\n");
    LogInfo("head: listening on %s (port %d)", tcp.c_str(), (*h)->tcp_port());
  }
  std::unique_ptr<web::Dashboard> dashboard;
  unlink((home + "/head.http").c_str());
  if (!http.empty()) {
    auto d = StartDashboard(home, http, o.tls, h->get());
    if (!d.ok()) {
      (*h)->Stop();
      unlink(pid_file.c_str());
      return Fail("head", d.status(), 2);
    }
    dashboard = std::move(d).value();
    (void)WriteFileAtomic(home + "/head.http", dashboard->url() + "\n");
    LogInfo("head: dashboard at %s", dashboard->url().c_str());
  }
  LogInfo("head: serving %s (pid %d)", o.unix_path.c_str(), getpid());
  int sig = stop.Wait();
  LogInfo("head: signal %d, stopping", sig);
  dashboard.reset();
  (*h)->Stop();
  if (ReadLivePid(pid_file) == getpid()) unlink(pid_file.c_str());
  return 0;
}

int NodeDaemon(const Args& args) {
  CLI::App app{"swell node"};
  std::string home = Home(), name, head, partition, hostname;
  int cpus = 0, gpus = 0, kill_wait = 10;
  double boot_delay = 0;
  int64_t mem = 0;
  app.add_option("--home", home);
  app.add_option("--name", name)->required();
  app.add_option("--head", head, "head address (default: the local socket in --home)");
  app.add_option("--cpus", cpus)->check(CLI::NonNegativeNumber);
  app.add_option("--mem", mem, "MB")->check(CLI::NonNegativeNumber);
  app.add_option("--gpus", gpus)->check(CLI::NonNegativeNumber);
  app.add_option("--kill-wait", kill_wait, "seconds between SIGTERM and SIGKILL")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--partition", partition, "node type of an elastic node");
  app.add_option("--hostname", hostname, "host name to report (default: the system's)");
  app.add_option("--boot-delay", boot_delay, "seconds to wait before joining (a cloud's boot)")
      ->check(CLI::NonNegativeNumber);
  std::string token;
  app.add_option("--token", token,
                 "a join token (`swell token`): a node of a TCP head without a certificate "
                 "gets one with it");
  if (auto done = ParseFlags(app, args, "node")) return *done;
  // The PMIx server (started on the node loop with the first step) has hwloc map this host;
  // hwloc's libpciaccess component then parses the whole PCI name database (pci.ids) just to
  // name devices: 0.15 s of the node loop, and 8 s under AddressSanitizer, long enough for a
  // head restarted meanwhile to take the node for dead. Without it hwloc still finds the PCI
  // devices (from sysfs), unnamed. Set here, before any thread; a user's own setting stands.
  setenv("HWLOC_COMPONENTS", "-pci", /*overwrite=*/0);
  StopSignal stop;
  std::string dir = home + "/nodes/" + name;
  if (Status s = MakeDirs(dir, 0755); !s.ok()) return Fail("node", s);
  std::string pid_file = dir + "/pid";
  if (pid_t other = ReadLivePid(pid_file); other != 0 && other != getpid())
    return Fail("node", "node " + name + " already running as pid " + std::to_string(other));
  // Over TCP a node is known by its certificate (made by the head for its own providers'
  // nodes, or got with a join token); elsewhere by the cluster secret.
  const bool tcp = !head.empty() && head.rfind("unix:", 0) != 0;
  const auto files = tls::NodeFilesIn(dir + "/tls");
  if (tcp && !token.empty() && access(files.cert.c_str(), R_OK) != 0)
    if (Status s = node::JoinWithToken(head, token, name, dir + "/tls"); !s.ok()) return Fail("node", s);
  const bool certified = tcp && access(files.cert.c_str(), R_OK) == 0;
  auto secret = LoadSecret(home + "/secret");
  if (!secret.ok() && !certified) return Fail("node", secret.status());
  if (Status s = WriteFileAtomic(pid_file, std::to_string(getpid()) + "\n"); !s.ok())
    return Fail("node", s);
  if (boot_delay > 0) {
    // Booting: SIGTERM ends the node at once (the provider deletes a node still booting).
    if (stop.WaitFor(std::chrono::duration<double>(boot_delay))) {
      if (ReadLivePid(pid_file) == getpid()) unlink(pid_file.c_str());
      return 0;
    }
  }
  node::NodeOptions o;
  o.name = name;
  o.partition = partition;
  o.hostname = hostname;
  o.head_address = head.empty() ? "unix:" + HeadSocket(home) : head;
  if (secret.ok()) o.secret = *secret;
  if (certified) o.tls = {files.ca, files.cert, files.key};
  o.spool_dir = dir + "/spool";
  o.cpus = cpus;
  o.mem_mb = mem;
  o.gpus = gpus;
  o.kill_wait = std::chrono::seconds(kill_wait);
  node::NodeDaemon daemon(o);
  Status s = daemon.Run();
  if (ReadLivePid(pid_file) == getpid()) unlink(pid_file.c_str());
  if (!s.ok()) return Fail("node", s);
  return 0;
}

}  // namespace swell::cli
