// The embedded Slurm of `swell up` ([slurm] embedded = true), its `swell down`, and `swell env`
// (docs/slurm-autoscale.md).

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "cli/cli.h"
#include "cli/daemon_cmds.h"
#include "cli/slurm_cluster.h"
#include "common/files.h"
#include "common/process.h"
#include "common/secret.h"
#include "head/config/config.h"
#include "provider/providers.h"
#include "slurm/embedded.h"
#include "slurm/slurm_conf.h"

namespace swell::cli {
namespace {

constexpr char kSlurmctld[] = "/usr/sbin/slurmctld";
constexpr char kSlurmd[] = "/usr/sbin/slurmd";
constexpr char kMunged[] = "/usr/sbin/munged";

std::string SlurmDir(const std::string& home) { return home + "/slurm"; }

bool WaitUntil(const std::function<bool()>& done, Duration timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

// Starts munged with its own key and socket in dir/munge, unless it runs.
Result<std::string> StartMunge(const std::string& dir) {
  std::string d = dir + "/munge", socket = d + "/munge.socket";
  SWELL_RETURN_IF_ERROR(MakeDirs(d, 0700));
  if (ReadLivePid(d + "/munged.pid") != 0) return socket;
  // munged's key: swell's secret generator's 32 random bytes as hex (munge takes 32 bytes up).
  SWELL_RETURN_IF_ERROR(LoadOrCreateSecret(d + "/munge.key").status());
  SWELL_RETURN_IF_ERROR(
      SpawnDetached({kMunged, "--foreground", "--force", "--key-file=" + d + "/munge.key",
                     "--socket=" + socket, "--pid-file=" + d + "/munged.pid",
                     "--log-file=" + d + "/munged.log", "--seed-file=" + d + "/munged.seed"},
                    d + "/munged.out")
          .status());
  if (!WaitUntil([&] { return access(socket.c_str(), F_OK) == 0; }, std::chrono::seconds(10)))
    return Unavailable("munged did not start; see " + d + "/munged.log");
  return socket;
}

bool SlurmctldAnswers(const std::string& conf) {
  RunOptions o;
  o.env = {"SLURM_CONF=" + conf};
  o.timeout = std::chrono::seconds(5);
  auto r = RunCommand({"scontrol", "ping"}, o);
  return r.ok() && r->exit_code == 0 && r->out.find("UP") != std::string::npos;
}

void Stop(pid_t pid, Duration timeout) {
  if (pid != 0) (void)StopProcess(pid, timeout);
}

}  // namespace

int UpSlurm(const head::config::ClusterConfig& cfg, const std::string& home,
            const std::string& saved) {
  if (geteuid() != 0)
    return Fail("up",
                "the embedded Slurm needs root: slurmd runs jobs as their users and each "
                "node is a network namespace",
                2);
  for (const char* b : {kSlurmctld, kSlurmd, kMunged})
    if (access(b, X_OK) != 0)
      return Fail("up",
                  std::string(b) +
                      " is missing: install slurmctld, slurmd and munge "
                      "(scripts/setup does)",
                  2);
  std::string dir = SlurmDir(home), conf = dir + "/slurm.conf";
  std::string autoscale_pid = home + "/autoscale.pid";
  std::string types;
  for (const auto& t : cfg.node_types) types += (types.empty() ? "" : ", ") + t.name;
  if (ReadLivePid(dir + "/ctld/slurmctld.pid") != 0 && ReadLivePid(autoscale_pid) != 0) {
    std::printf("swell: Slurm already up in %s (node types %s)\nexport SLURM_CONF=%s\n",
                home.c_str(), types.c_str(), conf.c_str());
    return 0;
  }
  std::string spool = slurm::SpoolRoot(home);
  for (const auto& t : cfg.node_types)
    if (slurm::LongestStepSocket(spool, t.name) > 107)
      return Fail("up",
                  "node type '" + t.name +
                      "' is too long a name for the embedded Slurm: "
                      "slurmstepd's socket " +
                      spool +
                      "/<node>/spool/<node>_<job>.<step> would pass "
                      "107 characters; use a shorter name",
                  2);
  for (const std::string& d : {dir + "/ctld", spool})
    if (Status s = MakeDirs(d, 0755); !s.ok()) return Fail("up", s);
  auto munge = StartMunge(dir);
  if (!munge.ok()) return Fail("up", munge.status());

  if (ReadLivePid(dir + "/ctld/slurmctld.pid") == 0) {
    // The controller listens on the nodes' bridge (made now) and every other address.
    auto netns = provider::NetnsSettings(ProviderSettings(cfg));
    auto ctld = provider::NetnsHeadAddress(netns);
    if (!ctld.ok()) return Fail("up", ctld.status());
    auto slurmd = provider::NetnsHeadAddress(netns);
    if (!slurmd.ok()) return Fail("up", slurmd.status());
    slurm::EmbeddedSlurm e;
    e.dir = dir;
    e.cluster_name = cfg.slurm_cluster_name;
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    e.host = std::string(host).substr(0, std::string(host).find('.'));
    e.address = ctld->substr(0, ctld->rfind(':'));
    e.ctld_port = std::stoi(ctld->substr(ctld->rfind(':') + 1));
    e.slurmd_port = std::stoi(slurmd->substr(slurmd->rfind(':') + 1));
    if (e.slurmd_port == e.ctld_port) ++e.slurmd_port;
    e.munge_socket = *munge;
    e.spool = spool;
    auto fragment = slurm::SlurmConfFragment(cfg.node_types, cfg.policy_options.max_nodes, saved);
    if (!fragment.ok()) return Fail("up", fragment.status(), 2);
    for (const auto& [file, text] :
         {std::pair<std::string, std::string>{conf, slurm::EmbeddedSlurmConf(e, *fragment)},
          {dir + "/job_submit.lua", slurm::JobSubmitLua(cfg.node_types)},
          {dir + "/plugstack.conf", ""}})
      if (Status s = WriteFileAtomic(file, text, 0644); !s.ok()) return Fail("up", s);
    auto pid = SpawnDetached({kSlurmctld, "-D", "-f", conf}, dir + "/ctld/slurmctld.out");
    if (!pid.ok()) return Fail("up", pid.status());
    if (!WaitUntil([&] { return SlurmctldAnswers(conf); }, std::chrono::seconds(30)))
      return Fail("up", "slurmctld did not start; see " + dir + "/ctld/slurmctld.log");
  }
  if (ReadLivePid(autoscale_pid) == 0) {
    std::string exe = SelfExe();
    auto pid = SpawnDetached({exe.empty() ? "swell" : exe, "autoscale", "--config", saved,
                              "--slurm-conf", conf, "--spool", spool, "--home", home,
                              "--state", dir + "/autoscale.db"},
                             home + "/autoscale.log");
    if (!pid.ok()) return Fail("up", pid.status());
    if (Status s = WriteFileAtomic(autoscale_pid, std::to_string(*pid) + "\n"); !s.ok())
      return Fail("up", s);
  }
  std::printf(
      "swell: Slurm up in %s: slurmctld and munged, no nodes; swell autoscale makes "
      "them (node types %s; provider %s, policy %s)\n"
      "export SLURM_CONF=%s   # or: eval \"$(swell env)\"\n",
      home.c_str(), types.c_str(), cfg.provider.c_str(), cfg.policy.c_str(), conf.c_str());
  return 0;
}

bool DownSlurm(const std::string& home) {
  std::string dir = SlurmDir(home);
  if (access(dir.c_str(), F_OK) != 0) return false;
  // The autoscaler first (it would replace what goes), then the controller, then the nodes
  // with everything in their namespaces, then munge; their files last.
  Stop(ReadLivePid(home + "/autoscale.pid"), std::chrono::seconds(20));
  Stop(ReadLivePid(dir + "/ctld/slurmctld.pid"), std::chrono::seconds(15));
  if (auto cfg = head::config::Load(home + "/cluster.toml"); cfg.ok()) {
    auto netns = provider::NetnsSettings(ProviderSettings(*cfg));
    if (Status s = provider::TeardownNetns(home, netns); !s.ok())
      std::fprintf(stderr, "swell down: removing the nodes: %s\n", s.ToString().c_str());
  }
  Stop(ReadLivePid(dir + "/munge/munged.pid"), std::chrono::seconds(5));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::remove_all(slurm::SpoolRoot(home), ec);
  std::filesystem::remove("/run/swell", ec);  // when no other cluster's is left in it
  std::filesystem::remove(home + "/autoscale.pid", ec);
  std::filesystem::remove_all(home + "/nodes", ec);
  std::printf(
      "swell: stopped the embedded Slurm (swell autoscale, slurmctld, its nodes and "
      "munged) in %s\n",
      home.c_str());
  return true;
}

int Env(const Args& args) {
  if (!args.empty() && args[0] != "--help") return Fail("env", "takes no arguments", 2);
  if (!args.empty()) {
    std::puts(
        "usage: swell env\n  the shell settings that make Slurm's commands use this "
        "cluster: eval \"$(swell env)\"");
    return 0;
  }
  std::string home = Home(), conf = SlurmDir(home) + "/slurm.conf";
  std::printf("export SWELL_HOME=%s\n", home.c_str());
  if (access(conf.c_str(), F_OK) == 0) {
    std::printf("export SLURM_CONF=%s\n", conf.c_str());  // Debian's commands, the real Slurm
    return 0;
  }
  // swell's own cluster: its sbatch, squeue, ... are links next to this binary.
  std::string self = SelfDir();
  if (!self.empty()) std::printf("export PATH=%s:\"$PATH\"\n", self.c_str());
  return 0;
}

}  // namespace swell::cli
