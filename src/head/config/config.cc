#include "head/config/config.h"

#include <cmath>
#include <limits>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "common/files.h"

namespace swell::head::config {
namespace {

std::string Where(const std::string& source, const toml::node& n) {
  return source + ":" + std::to_string(n.source().begin.line);
}

// Reads the keys of one table, refusing unknown ones and wrong types.
class Table {
 public:
  Table(const toml::table& t, std::string source, std::string name)
      : t_(t), source_(std::move(source)), name_(std::move(name)) {}

  Status Int(const char* key, int64_t* out, int64_t min) {
    seen_.insert(key);
    const toml::node* n = t_.get(key);
    if (!n) return Status::Ok();
    auto v = n->value<int64_t>();
    if (!n->is_integer() || !v) return Bad(*n, key, "must be an integer");
    if (*v < min) return Bad(*n, key, "must be at least " + std::to_string(min));
    *out = *v;
    return Status::Ok();
  }
  template <typename T>
  Status Int(const char* key, T* out, int64_t min) {
    int64_t v = *out;
    SWELL_RETURN_IF_ERROR(Int(key, &v, min));
    if (v > static_cast<int64_t>(std::numeric_limits<T>::max()))
      return InvalidArgument(source_ + ": " + name_ + "." + key + " is too large");
    *out = static_cast<T>(v);
    return Status::Ok();
  }
  // A number of seconds: at most ten years.
  Status Seconds(const char* key, int64_t* out, int64_t min) {
    SWELL_RETURN_IF_ERROR(Int(key, out, min));
    if (*out > kMaxSeconds)
      return InvalidArgument(source_ + ": " + name_ + "." + key + " is more than ten years");
    return Status::Ok();
  }
  static constexpr int64_t kMaxSeconds = 10LL * 365 * 24 * 3600;
  Status Double(const char* key, double* out) {
    seen_.insert(key);
    const toml::node* n = t_.get(key);
    if (!n) return Status::Ok();
    auto v = n->value<double>();
    if (!(n->is_floating_point() || n->is_integer()) || !v || *v < 0 || !std::isfinite(*v))
      return Bad(*n, key, "must be a number >= 0");
    *out = *v;
    return Status::Ok();
  }
  Status String(const char* key, std::string* out) {
    seen_.insert(key);
    const toml::node* n = t_.get(key);
    if (!n) return Status::Ok();
    if (!n->is_string()) return Bad(*n, key, "must be a string");
    *out = *n->value<std::string>();
    return Status::Ok();
  }
  Status Bool(const char* key, bool* out) {
    seen_.insert(key);
    const toml::node* n = t_.get(key);
    if (!n) return Status::Ok();
    if (!n->is_boolean()) return Bad(*n, key, "must be true or false");
    *out = *n->value<bool>();
    return Status::Ok();
  }
  const toml::array* Array(const char* key) {
    seen_.insert(key);
    return t_.get_as<toml::array>(key);
  }
  // Every key must have been asked for.
  Status Done() {
    for (const auto& [k, v] : t_)
      if (!seen_.count(std::string(k.str())))
        return InvalidArgument(Where(source_, v) + ": unknown key '" + std::string(k.str()) +
                               "' in [" + name_ + "]");
    return Status::Ok();
  }
  Status Bad(const toml::node& n, const char* key, const std::string& what) {
    return InvalidArgument(Where(source_, n) + ": " + name_ + "." + key + " " + what);
  }

 private:
  const toml::table& t_;
  std::string source_, name_;
  std::set<std::string> seen_;
};

// The TOML document, or an error naming source:line.
Result<toml::table> ParseToml(std::string_view text, const std::string& source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(source + ":" + std::to_string(e.source().begin.line) + ": " +
                           std::string(e.description()));
  }
}

}  // namespace

Result<std::vector<autoscaler::NodeType>> ExpandClic(const std::vector<int>& cpus,
                                                     const std::vector<std::string>& classes,
                                                     const std::vector<int64_t>& disk_gb,
                                                     double price_per_cpu_hour, int boot_s,
                                                     int shutdown_s) {
  std::vector<autoscaler::NodeType> out;
  for (int c : cpus) {
    if (c < 1) return InvalidArgument("clic.cpus must be at least 1");
    for (const auto& cls : classes) {
      double gb_per_cpu;
      if (cls == "standard") gb_per_cpu = 3.75;
      else if (cls == "highmem") gb_per_cpu = 6.5;
      else if (cls == "highcpu") gb_per_cpu = 0.9;
      else return InvalidArgument("clic.memory: unknown class '" + cls + "' (standard, highmem, highcpu)");
      if (c == 1 && cls != "standard") continue;  // as CLIC: no 1-cpu highmem or highcpu
      for (int64_t d : disk_gb) {
        if (d < 1) return InvalidArgument("clic.disk_gb must be at least 1");
        autoscaler::NodeType t;
        t.name = std::to_string(c) + "cpu" + std::to_string(d) + "disk" + cls;
        t.cpus = c;
        t.memory_mb = static_cast<int64_t>(std::llround(gb_per_cpu * c * 1024));
        t.disk_gb = d;
        t.price_per_hour = price_per_cpu_hour * c;
        t.boot = std::chrono::seconds(boot_s);
        t.shutdown = std::chrono::seconds(shutdown_s);
        out.push_back(t);
      }
    }
  }
  return out;
}

Result<ClusterConfig> Parse(std::string_view text, const std::string& source) {
  SWELL_ASSIGN_OR_RETURN(toml::table root, ParseToml(text, source));
  ClusterConfig c;
  for (const auto& [k, v] : root) {
    std::string key(k.str());
    if (key != "cluster" && key != "provider" && key != "autoscaler" && key != "node_type" &&
        key != "clic" && key != "slurm")
      return InvalidArgument(Where(source, v) + ": unknown table '" + key +
                             "' (cluster, provider, autoscaler, node_type, clic, slurm)");
  }
  if (auto* t = root["cluster"].as_table()) {
    Table r(*t, source, "cluster");
    SWELL_RETURN_IF_ERROR(r.Int("nodes", &c.nodes, 0));
    SWELL_RETURN_IF_ERROR(r.Int("cpus_per_node", &c.cpus_per_node, 0));
    SWELL_RETURN_IF_ERROR(r.Int("mem_per_node_mb", &c.mem_per_node_mb, 0));
    SWELL_RETURN_IF_ERROR(r.Int("gpus_per_node", &c.gpus_per_node, 0));
    SWELL_RETURN_IF_ERROR(r.String("tcp", &c.tcp));
    SWELL_RETURN_IF_ERROR(r.Int("node_timeout_s", &c.node_timeout_s, 1));
    SWELL_RETURN_IF_ERROR(r.Int("kill_wait_s", &c.kill_wait_s, 0));
    SWELL_RETURN_IF_ERROR(r.String("mail_prog", &c.mail_prog));
    SWELL_RETURN_IF_ERROR(r.Int("pmix_timeout_s", &c.pmix_timeout_s, 1));
    SWELL_RETURN_IF_ERROR(r.Done());
  }
  if (auto* t = root["slurm"].as_table()) {
    Table r(*t, source, "slurm");
    SWELL_RETURN_IF_ERROR(r.Bool("embedded", &c.slurm_embedded));
    SWELL_RETURN_IF_ERROR(r.String("cluster_name", &c.slurm_cluster_name));
    SWELL_RETURN_IF_ERROR(r.Done());
  }
  if (auto* t = root["provider"].as_table()) {
    Table r(*t, source, "provider");
    SWELL_RETURN_IF_ERROR(r.String("kind", &c.provider));
    SWELL_RETURN_IF_ERROR(r.Double("boot_seconds", &c.provider_boot_s));
    if (c.provider_boot_s > 3600)
      return InvalidArgument(source + ": provider.boot_seconds must be at most 3600");
    SWELL_RETURN_IF_ERROR(r.String("create", &c.provider_create));
    SWELL_RETURN_IF_ERROR(r.String("delete", &c.provider_delete));
    SWELL_RETURN_IF_ERROR(r.String("list", &c.provider_list));
    SWELL_RETURN_IF_ERROR(r.Int("timeout_s", &c.provider_timeout_s, 1));
    SWELL_RETURN_IF_ERROR(r.String("subnet", &c.provider_subnet));
    SWELL_RETURN_IF_ERROR(r.String("bridge", &c.provider_bridge));
    SWELL_RETURN_IF_ERROR(r.String("prefix", &c.provider_prefix));
    if (const toml::array* hosts = r.Array("hosts")) {
      for (const auto& e : *hosts) {
        if (!e.is_string() || e.value<std::string>()->empty())
          return InvalidArgument(Where(source, e) + ": provider.hosts must hold host names");
        c.provider_hosts.push_back(*e.value<std::string>());
      }
    }
    SWELL_RETURN_IF_ERROR(r.Done());
    if (c.provider == "command" &&
        (c.provider_create.empty() || c.provider_delete.empty() || c.provider_list.empty()))
      return InvalidArgument(source + ": the command provider needs provider.create, "
                             "provider.delete and provider.list");
    static const std::set<std::string> kKinds = {"local", "netns", "command", "static"};
    if (!kKinds.count(c.provider))
      return InvalidArgument(source + ": provider.kind '" + c.provider +
                             "' is not one of local, netns, command, static");
  }
  if (auto* t = root["autoscaler"].as_table()) {
    Table r(*t, source, "autoscaler");
    int64_t min_lifetime = 600, idle_timeout = 300;
    SWELL_RETURN_IF_ERROR(r.String("policy", &c.policy));
    SWELL_RETURN_IF_ERROR(r.Seconds("min_lifetime_s", &min_lifetime, 0));
    SWELL_RETURN_IF_ERROR(r.Seconds("idle_timeout_s", &idle_timeout, 0));
    SWELL_RETURN_IF_ERROR(r.Int("boot_timeout_s", &c.boot_timeout_s, 1));
    SWELL_RETURN_IF_ERROR(r.Int("max_nodes", &c.policy_options.max_nodes, 0));
    SWELL_RETURN_IF_ERROR(r.Int("creates_per_minute", &c.creates_per_minute, 0));
    SWELL_RETURN_IF_ERROR(r.Int("deletes_per_minute", &c.deletes_per_minute, 0));
    SWELL_RETURN_IF_ERROR(r.Double("budget_per_hour", &c.budget_per_hour));
    SWELL_RETURN_IF_ERROR(r.Int("max_preemptions", &c.max_preemptions, 1));
    SWELL_RETURN_IF_ERROR(r.Double("interval_s", &c.interval_s));
    SWELL_RETURN_IF_ERROR(r.Double("wait_weight", &c.policy_options.wait_weight));
    SWELL_RETURN_IF_ERROR(r.Done());
    if (c.interval_s < 0.05 || c.interval_s > 3600)
      return InvalidArgument(source + ": autoscaler.interval_s must be from 0.05 to 3600");
    c.policy_options.min_lifetime = std::chrono::seconds(min_lifetime);
    c.policy_options.idle_timeout = std::chrono::seconds(idle_timeout);
    auto p = autoscaler::MakePolicy(c.policy, c.policy_options);
    if (!p.ok()) return p.status().WithContext(source + ": autoscaler.policy");
  }
  if (const toml::node* nt = root.get("node_type")) {
    const toml::array* types = nt->as_array();
    if (!types || !types->is_array_of_tables())
      return InvalidArgument(Where(source, *nt) + ": node_type must be [[node_type]] tables");
    for (const auto& elem : *types) {
      const toml::table& t = *elem.as_table();
      Table r(t, source, "node_type");
      autoscaler::NodeType n;
      int64_t boot = 60, shutdown = 0;
      SWELL_RETURN_IF_ERROR(r.String("name", &n.name));
      SWELL_RETURN_IF_ERROR(r.Int("cpus", &n.cpus, 1));
      SWELL_RETURN_IF_ERROR(r.Int("memory_mb", &n.memory_mb, 0));
      SWELL_RETURN_IF_ERROR(r.Int("disk_gb", &n.disk_gb, 0));
      SWELL_RETURN_IF_ERROR(r.Int("gpus", &n.gpus, 0));
      SWELL_RETURN_IF_ERROR(r.Double("price_per_hour", &n.price_per_hour));
      SWELL_RETURN_IF_ERROR(r.Seconds("boot_seconds", &boot, 0));
      SWELL_RETURN_IF_ERROR(r.Seconds("shutdown_seconds", &shutdown, 0));
      SWELL_RETURN_IF_ERROR(r.Int("max_nodes", &n.max_nodes, 0));
      SWELL_RETURN_IF_ERROR(r.Bool("spot", &n.spot));
      if (const toml::node* f = t.get("features")) {
        const toml::array* list = f->as_array();
        if (!list) return InvalidArgument(Where(source, *f) + ": node_type.features must be a list of names");
        for (const auto& e : *list) {
          if (!e.is_string() || e.value<std::string>()->empty())
            return InvalidArgument(Where(source, e) + ": node_type.features must hold names");
          n.features.push_back(*e.value<std::string>());
        }
        r.Array("features");
      }
      SWELL_RETURN_IF_ERROR(r.Done());
      if (n.name.empty()) return InvalidArgument(Where(source, t) + ": node_type needs a name");
      n.boot = std::chrono::seconds(boot);
      n.shutdown = std::chrono::seconds(shutdown);
      c.node_types.push_back(n);
    }
  }
  if (auto* t = root["clic"].as_table()) {
    Table r(*t, source, "clic");
    std::vector<int> cpus;
    std::vector<std::string> classes;
    std::vector<int64_t> disks;
    auto ints = [&](const char* key, auto* out) -> Status {
      const toml::array* a = r.Array(key);
      if (!a) return InvalidArgument(source + ": clic." + key + " must be a list of integers");
      for (const auto& e : *a) {
        auto v = e.value<int64_t>();
        if (!e.is_integer() || !v || *v < 1 || *v > (1 << 20))
          return InvalidArgument(Where(source, e) + ": clic." + key +
                                 " must hold integers from 1 to 1048576");
        out->push_back(static_cast<typename std::decay_t<decltype(*out)>::value_type>(*v));
      }
      return Status::Ok();
    };
    SWELL_RETURN_IF_ERROR(ints("cpus", &cpus));
    SWELL_RETURN_IF_ERROR(ints("disk_gb", &disks));
    const toml::array* m = r.Array("memory");
    if (!m) return InvalidArgument(source + ": clic.memory must be a list of class names");
    for (const auto& e : *m) {
      if (!e.is_string()) return InvalidArgument(Where(source, e) + ": clic.memory must hold strings");
      classes.push_back(*e.value<std::string>());
    }
    double price = 0.0475;
    int64_t boot = 90, shutdown = 30;
    SWELL_RETURN_IF_ERROR(r.Double("price_per_cpu_hour", &price));
    SWELL_RETURN_IF_ERROR(r.Seconds("boot_seconds", &boot, 0));
    SWELL_RETURN_IF_ERROR(r.Seconds("shutdown_seconds", &shutdown, 0));
    SWELL_RETURN_IF_ERROR(r.Done());
    auto expanded = ExpandClic(cpus, classes, disks, price, static_cast<int>(boot),
                               static_cast<int>(shutdown));
    if (!expanded.ok()) return expanded.status().WithContext(source);
    for (auto& n : *expanded) c.node_types.push_back(std::move(n));
  }
  std::set<std::string> names;
  for (const auto& n : c.node_types)
    if (!names.insert(n.name).second)
      return InvalidArgument(source + ": two node types are named '" + n.name + "'");
  if (c.slurm_embedded && (c.provider != "netns" || c.node_types.empty()))
    return InvalidArgument(source + ": slurm.embedded needs provider.kind = \"netns\" (each "
                           "slurmd in its own namespace) and at least one [[node_type]]");
  return c;
}

Result<ClusterConfig> Load(const std::string& path) {
  auto text = ReadFile(path, kMaxFileBytes);
  if (!text.ok()) return text.status();
  return Parse(*text, path);
}

Result<std::string> WithClusterTable(std::string_view text, const std::string& source,
                                     const ClusterConfig& c) {
  SWELL_ASSIGN_OR_RETURN(toml::table root, ParseToml(text, source));
  toml::table cluster;
  cluster.insert("nodes", c.nodes);
  cluster.insert("cpus_per_node", c.cpus_per_node);
  cluster.insert("mem_per_node_mb", c.mem_per_node_mb);
  cluster.insert("gpus_per_node", c.gpus_per_node);
  cluster.insert("tcp", c.tcp);
  cluster.insert("node_timeout_s", c.node_timeout_s);
  cluster.insert("kill_wait_s", c.kill_wait_s);
  if (!c.mail_prog.empty()) cluster.insert("mail_prog", c.mail_prog);
  cluster.insert("pmix_timeout_s", c.pmix_timeout_s);
  root.insert_or_assign("cluster", std::move(cluster));
  std::ostringstream out;
  out << root << "\n";
  return out.str();
}

}  // namespace swell::head::config
