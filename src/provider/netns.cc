#include "provider/netns.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include "common/files.h"
#include "common/process.h"
#include "provider/local.h"

namespace swell::provider {

namespace {

const char kNetnsDir[] = "/run/netns/";

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

std::string Ipv4(uint32_t host_order) {
  in_addr a{htonl(host_order)};
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

// The bridge's own MAC address: locally administered, unicast (02:73:77, "sw"), the rest from
// the bridge's name, so that two clusters' bridges differ.
std::string BridgeMac(const std::string& bridge) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char c : bridge) h = (h ^ c) * 16777619u;
  char buf[18];
  std::snprintf(buf, sizeof buf, "02:73:77:%02x:%02x:%02x", (h >> 16) & 0xff, (h >> 8) & 0xff,
                h & 0xff);
  return buf;
}

// A free TCP port on `host` (the kernel picks it; we let it go again at once).
Result<int> FreePort(const std::string& host) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Internal(std::string("socket: ") + strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    int e = errno;
    close(fd);
    return Unavailable("cannot bind " + host + ": " + strerror(e));
  }
  close(fd);
  return static_cast<int>(ntohs(a.sin_port));
}

class Netns final : public NetnsProvider {
 public:
  Netns(ProviderContext ctx, NetnsOptions o, uint32_t network, int prefix_len)
      : ctx_(std::move(ctx)), o_(std::move(o)), network_(network), prefix_len_(prefix_len) {}
  std::string kind() const override { return "netns"; }

  std::string BridgeAddress() const override { return Ipv4(network_ + 1); }

  Status EnsureBridge() override {
    std::lock_guard<std::mutex> lock(bridge_mu_);
    const std::string& br = o_.bridge;
    // A bridge takes the lowest MAC address of its ports unless it was given one: each node
    // that came or went would change it, and the nodes' ARP entries for the head's address
    // would point nowhere until they expire (measured: a batch job's end reached slurmctld
    // 10-50 s late after another node's namespace was deleted). So it is given one.
    if (!Exists("/sys/class/net/" + br))
      SWELL_RETURN_IF_ERROR(
          Ip({"link", "add", br, "address", BridgeMac(br), "type", "bridge"}, "File exists"));
    SWELL_ASSIGN_OR_RETURN(std::string addrs, IpOut({"-4", "-o", "addr", "show", "dev", br}));
    if (addrs.find(" " + Cidr(network_ + 1) + " ") == std::string::npos)
      SWELL_RETURN_IF_ERROR(Ip({"addr", "add", Cidr(network_ + 1), "dev", br}, "File exists"));
    return Ip({"link", "set", br, "up"});
  }

  Status Create(const std::string& name, const head::autoscaler::NodeType& type) override {
    SWELL_RETURN_IF_ERROR(CheckNodeName(name));
    const std::string& head = ctx_.head_address;
    if (!ctx_.node_command && (head.rfind("unix:", 0) == 0 || head.find(':') == std::string::npos))
      return InvalidArgument("netns nodes reach the head over TCP, on " + BridgeAddress() +
                             ":<port>; the head address is " + head);
    SWELL_RETURN_IF_ERROR(EnsureBridge());
    std::string dir = ctx_.home + "/nodes/" + name, ns = o_.prefix + name;
    if (Exists(kNetnsDir + ns)) {
      if (pid_t pid = ReadLivePid(dir + "/instance"); pid != 0 && ProcessAlive(pid))
        return Status::Ok();                // already exists: creating is idempotent too
      SWELL_RETURN_IF_ERROR(Delete(name));  // a create that stopped halfway, or a dead node
    }
    SWELL_RETURN_IF_ERROR(MakeDirs(dir, 0755));
    if (ctx_.node_credentials) SWELL_RETURN_IF_ERROR(ctx_.node_credentials(name));
    SWELL_RETURN_IF_ERROR(Ip({"netns", "add", ns}));
    // From here on a failure deletes the namespace again, so nothing is left half made.
    Status s = Build(name, ns, type, dir);
    if (!s.ok()) (void)Delete(name);
    return s;
  }

  Status Delete(const std::string& name) override {
    SWELL_RETURN_IF_ERROR(CheckNodeName(name));
    std::string dir = ctx_.home + "/nodes/" + name, ns = o_.prefix + name;
    pid_t pid = ReadLivePid(dir + "/instance");
    if (pid != 0 && !StopProcess(pid, o_.stop_timeout))
      return Unavailable("node " + name + " (pid " + std::to_string(pid) + ") does not stop");
    if (Exists(kNetnsDir + ns)) {
      // Whatever still runs in there (steps the daemon did not end, a daemon whose pid file
      // was never written) would keep the namespace and its address alive.
      SWELL_RETURN_IF_ERROR(KillAllIn(ns));
      // The veth pair goes now, not with the namespace: a socket the daemon left closing
      // (FIN_WAIT, its peer gone with the bridge) keeps the namespace alive for minutes after
      // `ip netns delete`, and its veth with it.
      SWELL_RETURN_IF_ERROR(Ip({"-n", ns, "link", "delete", "eth0"}, "Cannot find device"));
      SWELL_RETURN_IF_ERROR(Ip({"netns", "delete", ns}, "No such file"));
    }
    unlink((dir + "/instance").c_str());
    return Status::Ok();
  }

  Result<std::vector<std::string>> List() override {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto& e : std::filesystem::directory_iterator(kNetnsDir, ec)) {
      std::string ns = e.path().filename().string();
      if (ns.size() > o_.prefix.size() && ns.rfind(o_.prefix, 0) == 0)
        out.push_back(ns.substr(o_.prefix.size()));
    }
    return out;
  }

  Result<std::string> NodeAddress(const std::string& name) override {
    SWELL_RETURN_IF_ERROR(CheckNodeName(name));
    SWELL_ASSIGN_OR_RETURN(std::string out,
                           IpOut({"-n", o_.prefix + name, "-4", "-o", "addr", "show", "eth0"}));
    auto at = out.find(" inet ");
    if (at == std::string::npos) return NotFound("node " + name + " has no IPv4 address");
    at += 6;
    return out.substr(at, out.find('/', at) - at);
  }

  Status Cleanup() override {
    std::lock_guard<std::mutex> lock(bridge_mu_);
    SWELL_ASSIGN_OR_RETURN(auto nodes, List());
    if (!nodes.empty() || !Exists("/sys/class/net/" + o_.bridge)) return Status::Ok();
    return Ip({"link", "delete", o_.bridge}, "Cannot find device");
  }

  Status Teardown() override {
    SWELL_ASSIGN_OR_RETURN(auto nodes, List());
    Status first;
    for (const auto& n : nodes)
      if (Status s = Delete(n); !s.ok() && first.ok()) first = s;
    if (!first.ok()) return first;
    return Cleanup();
  }

 private:
  std::string Cidr(uint32_t addr) const { return Ipv4(addr) + "/" + std::to_string(prefix_len_); }

  // The namespace exists; wires it to the bridge and starts the daemon in it.
  Status Build(const std::string& name, const std::string& ns,
               const head::autoscaler::NodeType& type, const std::string& dir) {
    // The lowest host number whose veth is free. Taken under a lock and by making the veth at
    // once, so parallel creates get distinct numbers; the veth goes with its namespace.
    std::string veth;
    uint32_t k = 2, hosts = (uint32_t{1} << (32 - prefix_len_)) - 2;
    {
      std::lock_guard<std::mutex> lock(alloc_mu_);
      for (;; ++k) {
        if (k > hosts) return ResourceExhausted("no free address left in " + o_.subnet);
        veth = o_.bridge + "v" + std::to_string(k);
        if (Exists("/sys/class/net/" + veth)) continue;
        auto r = RunIp({"link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns});
        if (!r.ok()) return r.status();
        if (r->exit_code == 0) break;
        if (r->err.find("File exists") == std::string::npos) return IpError({"link", "add"}, *r);
      }
    }
    SWELL_RETURN_IF_ERROR(Ip({"link", "set", veth, "master", o_.bridge, "up"}));
    SWELL_RETURN_IF_ERROR(Ip({"-n", ns, "addr", "add", Cidr(network_ + k), "dev", "eth0"}));
    SWELL_RETURN_IF_ERROR(Ip({"-n", ns, "link", "set", "eth0", "up"}));
    SWELL_RETURN_IF_ERROR(Ip({"-n", ns, "link", "set", "lo", "up"}));
    SWELL_RETURN_IF_ERROR(Ip({"-n", ns, "route", "add", "default", "via", BridgeAddress()}));
    // nsenter rather than `ip netns exec`, which remounts /sys and hides the cgroup file
    // system from the node. Every program execs the next, so the pid is the daemon's.
    std::vector<std::string> argv = {"nsenter",
                                     "--net=" + std::string(kNetnsDir) + ns,
                                     "--",
                                     "unshare",
                                     "--uts",
                                     "--",
                                     "/bin/sh",
                                     "-c",
                                     "hostname \"$1\" && shift && exec \"$@\"",
                                     "sh",
                                     name};
    auto daemon = NodeDaemonArgs(ctx_, name, type, o_.boot_delay);
    argv.insert(argv.end(), daemon.begin(), daemon.end());
    SWELL_ASSIGN_OR_RETURN(pid_t pid, SpawnDetached(argv, dir + "/log"));
    return WriteFileAtomic(dir + "/instance", std::to_string(pid) + "\n", 0644);
  }

  // SIGKILLs every process in namespace `ns` and waits until they are gone.
  Status KillAllIn(const std::string& ns) {
    for (int round = 0; round < 50; ++round) {
      auto out = IpOut({"netns", "pids", ns});
      if (!out.ok()) return Exists(kNetnsDir + ns) ? out.status() : Status::Ok();
      std::vector<pid_t> pids;
      for (size_t pos = 0; pos < out->size();) {
        size_t nl = out->find('\n', pos);
        if (nl == std::string::npos) nl = out->size();
        if (pid_t p = std::atoi(out->substr(pos, nl - pos).c_str()); p > 0) pids.push_back(p);
        pos = nl + 1;
      }
      bool any = false;
      for (pid_t p : pids)
        if (ProcessAlive(p)) any = true, kill(p, SIGKILL);
      if (!any) return Status::Ok();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return Unavailable("processes in namespace " + ns + " do not die");
  }

  Result<CommandResult> RunIp(std::vector<std::string> args) {
    args.insert(args.begin(), "ip");
    RunOptions ro;
    ro.timeout = o_.ip_timeout;
    return RunCommand(args, ro);
  }
  static Status IpError(const std::vector<std::string>& args, const CommandResult& r) {
    std::string cmd = "ip";
    for (const auto& a : args) cmd += " " + a;
    return Unavailable(cmd + " failed: " + TailLines(r.err, 3));
  }
  // Runs `ip args`; an error unless it exits 0 or its stderr says `tolerated`.
  Status Ip(const std::vector<std::string>& args, const std::string& tolerated = "") {
    SWELL_ASSIGN_OR_RETURN(auto r, RunIp(args));
    if (r.exit_code == 0) return Status::Ok();
    if (!tolerated.empty() && r.err.find(tolerated) != std::string::npos) return Status::Ok();
    return IpError(args, r);
  }
  Result<std::string> IpOut(const std::vector<std::string>& args) {
    SWELL_ASSIGN_OR_RETURN(auto r, RunIp(args));
    if (r.exit_code != 0) return IpError(args, r);
    return std::move(r.out);
  }

  ProviderContext ctx_;
  NetnsOptions o_;
  uint32_t network_;  // host order
  int prefix_len_;
  std::mutex bridge_mu_, alloc_mu_;
};

}  // namespace

Result<std::unique_ptr<NetnsProvider>> MakeNetnsProvider(const ProviderContext& ctx,
                                                         NetnsOptions options) {
  if (geteuid() != 0)
    return PermissionDenied("the netns provider needs root (it makes network namespaces)");
  const std::string& br = options.bridge;
  if (br.empty() || br.size() > 9 || br.find_first_of("/ \t:") != std::string::npos)
    return InvalidArgument("netns bridge name '" + br + "' must be 1-9 characters");
  if (options.prefix.empty() || options.prefix.find('/') != std::string::npos)
    return InvalidArgument("netns namespace prefix '" + options.prefix + "' is not usable");
  auto slash = options.subnet.find('/');
  in_addr a{};
  int len = slash == std::string::npos ? -1 : std::atoi(options.subnet.c_str() + slash + 1);
  if (len < 16 || len > 30 || inet_pton(AF_INET, options.subnet.substr(0, slash).c_str(), &a) != 1)
    return InvalidArgument("netns subnet '" + options.subnet +
                           "' must be an IPv4 network from /16 to /30, e.g. 10.213.0.0/24");
  uint32_t mask = ~uint32_t{0} << (32 - len);
  uint32_t network = ntohl(a.s_addr) & mask;
  return std::unique_ptr<NetnsProvider>(
      std::make_unique<Netns>(ctx, std::move(options), network, len));
}

Result<std::string> PrepareNetns(const NetnsOptions& options) {
  SWELL_ASSIGN_OR_RETURN(auto p, MakeNetnsProvider({}, options));
  SWELL_RETURN_IF_ERROR(p->EnsureBridge());
  return p->BridgeAddress() + ":0";
}

Result<std::string> NetnsHeadAddress(const NetnsOptions& options) {
  SWELL_ASSIGN_OR_RETURN(std::string bind, PrepareNetns(options));
  std::string ip = bind.substr(0, bind.rfind(':'));
  SWELL_ASSIGN_OR_RETURN(int port, FreePort(ip));
  return ip + ":" + std::to_string(port);
}

Status TeardownNetns(const std::string& home, const NetnsOptions& options) {
  ProviderContext ctx;
  ctx.home = home;
  ctx.head_address = "127.0.0.1:1";  // not used to tear down
  auto p = MakeNetnsProvider(ctx, options);
  if (!p.ok()) return Status::Ok();
  return (*p)->Teardown();
}

}  // namespace swell::provider
