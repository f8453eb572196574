#include "provider/local.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include "common/files.h"
#include "common/process.h"

namespace swell::provider {

namespace {

class LocalProvider final : public Provider {
 public:
  LocalProvider(ProviderContext ctx, LocalOptions o) : ctx_(std::move(ctx)), o_(o) {}
  std::string kind() const override { return "local"; }

  Status Create(const std::string& name, const head::autoscaler::NodeType& type) override {
    SWELL_RETURN_IF_ERROR(CheckNodeName(name));
    std::string dir = Dir(name);
    SWELL_RETURN_IF_ERROR(MakeDirs(dir, 0755));
    if (pid_t pid = ReadLivePid(dir + "/instance"); pid != 0 && ProcessAlive(pid))
      return Status::Ok();  // already exists: creating is idempotent too
    auto argv = NodeDaemonArgs(ctx_, name, type, o_.boot_delay);
    SWELL_ASSIGN_OR_RETURN(pid_t pid, SpawnDetached(argv, dir + "/log"));
    return WriteFileAtomic(dir + "/instance", std::to_string(pid) + "\n", 0644);
  }

  Status Delete(const std::string& name) override {
    SWELL_RETURN_IF_ERROR(CheckNodeName(name));
    std::string dir = Dir(name);
    pid_t pid = ReadLivePid(dir + "/instance");
    if (pid != 0 && !StopProcess(pid, o_.stop_timeout))
      return Unavailable("node " + name + " (pid " + std::to_string(pid) + ") does not stop");
    unlink((dir + "/instance").c_str());
    return Status::Ok();
  }

  Result<std::vector<std::string>> List() override {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto& e : std::filesystem::directory_iterator(ctx_.home + "/nodes", ec)) {
      std::string file = e.path().string() + "/instance";
      if (access(file.c_str(), F_OK) != 0) continue;
      pid_t pid = ReadLivePid(file);
      if (pid != 0 && ProcessAlive(pid)) out.push_back(e.path().filename().string());
    }
    return out;
  }

 private:
  std::string Dir(const std::string& name) const { return ctx_.home + "/nodes/" + name; }
  ProviderContext ctx_;
  LocalOptions o_;
};

}  // namespace

std::vector<std::string> NodeDaemonArgs(const ProviderContext& ctx, const std::string& name,
                                        const head::autoscaler::NodeType& type,
                                        Duration boot_delay) {
  char delay[32];
  snprintf(delay, sizeof delay, "%.3f", std::chrono::duration<double>(boot_delay).count());
  if (ctx.node_command) {
    std::vector<std::string> argv = ctx.node_command(name, type);
    if (boot_delay > Duration::zero())
      argv.insert(argv.begin(), {"/bin/sh", "-c", "sleep \"$0\" && exec \"$@\"", delay});
    return argv;
  }
  return {ctx.swell_exe,  "node",
          "--home",       ctx.home,
          "--name",       name,
          "--head",       ctx.head_address,
          "--partition",  type.name,
          "--cpus",       std::to_string(type.cpus),
          "--mem",        std::to_string(type.memory_mb),
          "--gpus",       std::to_string(type.gpus),
          "--kill-wait",  std::to_string(ctx.kill_wait_s),
          "--boot-delay", delay};
}

std::unique_ptr<Provider> MakeLocalProvider(const ProviderContext& ctx, LocalOptions options) {
  return std::make_unique<LocalProvider>(ctx, options);
}

}  // namespace swell::provider
