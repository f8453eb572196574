#include "provider/static.h"

#include <set>

namespace swell::provider {

namespace {

class StaticProvider final : public Provider {
 public:
  explicit StaticProvider(std::vector<std::string> hosts) : hosts_(std::move(hosts)) {}
  std::string kind() const override { return "static"; }

  Status Create(const std::string& name, const head::autoscaler::NodeType&) override {
    return InvalidArgument("the static provider cannot create nodes (asked for " + name +
                           "); add hosts to the list and run `swell node` on them");
  }
  // The hosts are not ours to stop: "deleted" means the head no longer counts on them.
  Status Delete(const std::string&) override { return Status::Ok(); }
  Result<std::vector<std::string>> List() override { return hosts_; }

 private:
  const std::vector<std::string> hosts_;
};

}  // namespace

Result<std::unique_ptr<Provider>> MakeStaticProvider(std::vector<std::string> hosts) {
  std::set<std::string> seen;
  for (const auto& h : hosts) {
    if (Status s = CheckNodeName(h); !s.ok()) return s.WithContext("static provider hosts");
    if (!seen.insert(h).second)
      return InvalidArgument("static provider hosts: " + h + " is listed twice");
  }
  return std::unique_ptr<Provider>(std::make_unique<StaticProvider>(std::move(hosts)));
}

}  // namespace swell::provider
