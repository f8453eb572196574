#include "provider/command.h"

#include <unistd.h>

#include "common/process.h"
#include "common/text.h"

namespace swell::provider {

namespace {

class CommandProvider final : public Provider {
 public:
  CommandProvider(ProviderContext ctx, CommandOptions o) : ctx_(std::move(ctx)), o_(std::move(o)) {}
  std::string kind() const override { return "command"; }

  Status Create(const std::string& name, const head::autoscaler::NodeType& type) override {
    SWELL_RETURN_IF_ERROR(CheckNodeName(name));
    std::vector<std::string> env = {
        "SWELL_NODE_NAME=" + name,
        "SWELL_NODE_TYPE=" + type.name,
        "SWELL_NODE_CPUS=" + std::to_string(type.cpus),
        "SWELL_NODE_MEMORY_MB=" + std::to_string(type.memory_mb),
        "SWELL_NODE_DISK_GB=" + std::to_string(type.disk_gb),
        "SWELL_NODE_GPUS=" + std::to_string(type.gpus),
        std::string("SWELL_NODE_SPOT=") + (type.spot ? "1" : "0"),
    };
    if (ctx_.node_credentials) SWELL_RETURN_IF_ERROR(ctx_.node_credentials(name));
    return Run({o_.create, name, type.name}, env).status();
  }

  Status Delete(const std::string& name) override {
    SWELL_RETURN_IF_ERROR(CheckNodeName(name));
    return Run({o_.remove, name}, {"SWELL_NODE_NAME=" + name}).status();
  }

  Result<std::vector<std::string>> List() override {
    SWELL_ASSIGN_OR_RETURN(std::string out, Run({o_.list}, {}));
    std::vector<std::string> names;
    for (std::string_view line : Split(out, '\n')) {
      size_t b = line.find_first_not_of(" \t\r"), e = line.find_last_not_of(" \t\r");
      if (b == std::string_view::npos || line[b] == '#') continue;
      names.emplace_back(line.substr(b, e - b + 1));
    }
    return names;
  }

 private:
  // Runs one script; its stdout on exit 0, else an error that quotes its stderr.
  Result<std::string> Run(const std::vector<std::string>& argv, std::vector<std::string> env) {
    RunOptions ro;
    ro.timeout = o_.timeout;
    ro.kill_grace = o_.kill_grace;
    ro.env = {
        "SWELL_HEAD_ADDRESS=" + ctx_.head_address,
        "SWELL_SECRET_FILE=" + ctx_.secret_file,
        "SWELL_HOME=" + ctx_.home,
        "SWELL_EXE=" + ctx_.swell_exe,
        "SWELL_KILL_WAIT_S=" + std::to_string(ctx_.kill_wait_s),
    };
    ro.env.insert(ro.env.end(), o_.env.begin(), o_.env.end());
    ro.env.insert(ro.env.end(), env.begin(), env.end());
    std::string what = "provider script " + argv[0] + (argv.size() > 1 ? " " + argv[1] : "");
    auto r = RunCommand(argv, ro);
    if (!r.ok()) return r.status().WithContext(what);
    if (r->exit_code != 0) {
      std::string msg = what + " exited with " + std::to_string(r->exit_code);
      std::string tail = TailLines(r->err);
      // Unavailable: the pool retries deletes and backs off a type whose creates keep failing.
      return Unavailable(tail.empty() ? msg + " (no stderr)" : msg + ": " + tail);
    }
    return std::move(r->out);
  }

  ProviderContext ctx_;
  CommandOptions o_;
};

}  // namespace

Result<std::unique_ptr<Provider>> MakeCommandProvider(const ProviderContext& ctx,
                                                      CommandOptions options) {
  for (auto [key, path] : {std::pair<const char*, const std::string*>{"create", &options.create},
                           {"delete", &options.remove},
                           {"list", &options.list}}) {
    if (path->empty())
      return InvalidArgument("the command provider needs a `" + std::string(key) + "` script");
    if (access(path->c_str(), X_OK) != 0)
      return InvalidArgument("the command provider's `" + std::string(key) + "` script " + *path +
                             " is not an executable file");
  }
  if (options.timeout <= Duration::zero())
    return InvalidArgument("the command provider's timeout must be positive");
  return std::unique_ptr<Provider>(std::make_unique<CommandProvider>(ctx, std::move(options)));
}

}  // namespace swell::provider
