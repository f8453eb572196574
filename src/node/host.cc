#include "node/host.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <grp.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <cstdlib>

#include "common/files.h"

namespace swell::node {

std::string Hostname() {
  char buf[256] = {0};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

int OnlineCpus() { return static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)); }

int64_t TotalMemoryMb() {
  struct sysinfo si;
  sysinfo(&si);
  return static_cast<int64_t>(si.totalram) * si.mem_unit / (1 << 20);
}

std::string MpiInterface(const std::string& head_address) {
  if (head_address.rfind("unix:", 0) == 0) return "lo";
  std::string host = head_address.substr(0, head_address.rfind(':'));
  in_addr head{};
  if (inet_pton(AF_INET, host.c_str(), &head) != 1) return "";
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "";
  std::string found;
  for (ifaddrs* i = list; i != nullptr && found.empty(); i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_netmask == nullptr || i->ifa_addr->sa_family != AF_INET)
      continue;
    auto addr = reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr;
    auto mask = reinterpret_cast<sockaddr_in*>(i->ifa_netmask)->sin_addr.s_addr;
    if ((addr & mask) == (head.s_addr & mask)) found = i->ifa_name;
  }
  freeifaddrs(list);
  return found;
}

std::vector<pid_t> ProcessesWithEnv(const std::string& entry) {
  std::vector<pid_t> out;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return out;
  pid_t self = getpid();
  while (dirent* e = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end != 0 || pid <= 1 || pid == self) continue;
    auto environ_text = ReadFile(std::string("/proc/") + e->d_name + "/environ");
    if (!environ_text.ok()) continue;
    // Variables are NUL-separated; match one whole entry.
    const std::string& env = *environ_text;
    bool found = false;
    for (size_t at = 0; at < env.size() && !found;) {
      size_t nul = env.find('\0', at);
      if (nul == std::string::npos) nul = env.size();
      found = env.compare(at, nul - at, entry) == 0;
      at = nul + 1;
    }
    if (found) out.push_back(static_cast<pid_t>(pid));
  }
  closedir(proc);
  return out;
}

Result<std::optional<Identity>> ResolveIdentity(const pb::UserIdentity& user) {
  uid_t my_uid = getuid();
  if (my_uid != 0) {
    if (user.uid() != my_uid)
      return PermissionDenied("node runs as uid " + std::to_string(my_uid) +
                              " and cannot run jobs of uid " + std::to_string(user.uid()));
    return std::optional<Identity>();
  }
  if (user.uid() == 0) return std::optional<Identity>();
  Identity id;
  id.uid = user.uid();
  id.gid = user.gid();
  struct passwd pw, *pwp = nullptr;
  char buf[4096];
  if (getpwuid_r(id.uid, &pw, buf, sizeof buf, &pwp) == 0 && pwp != nullptr) {
    int n = 64;
    std::vector<gid_t> groups(static_cast<size_t>(n));
    if (getgrouplist(pw.pw_name, id.gid, groups.data(), &n) < 0) {
      groups.resize(static_cast<size_t>(n));
      getgrouplist(pw.pw_name, id.gid, groups.data(), &n);
    }
    groups.resize(static_cast<size_t>(n));
    id.groups = groups;
  } else {
    id.groups = {id.gid};
  }
  return std::optional<Identity>(std::move(id));
}

std::optional<Account> LookupAccount(uid_t uid) {
  struct passwd pw, *pwp = nullptr;
  char buf[4096];
  if (getpwuid_r(uid, &pw, buf, sizeof buf, &pwp) != 0 || pwp == nullptr) return std::nullopt;
  return Account{pw.pw_dir, pw.pw_name};
}

}  // namespace swell::node
