#include "testing/cluster.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <mutex>

#include "common/secret.h"

namespace swell::testing {

InProcessCluster::InProcessCluster(ClusterOptions options) : opt_(options) {
  char tmpl[] = "/tmp/swell-cluster-XXXXXX";
  char* d = mkdtemp(tmpl);
  dir_ = d ? d : "/tmp";
  nodes_.resize(static_cast<size_t>(opt_.nodes));
  auto s = GenerateSecret();
  secret_ = s.ok() ? *s : std::string(64, 'x');
}

InProcessCluster::~InProcessCluster() {
  Stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

Status InProcessCluster::StartHead() {
  head::HeadOptions o;
  o.state_path = dir_ + "/state.db";
  o.unix_path = dir_ + "/head.sock";
  o.secret = secret_;
  o.node_timeout = opt_.node_timeout;
  o.elastic = opt_.elastic;
  if (o.elastic && !o.elastic->provider) o.elastic->provider = opt_.elastic->provider = NodeProvider();
  auto h = head::Head::Open(o, &clock_);
  if (!h.ok()) return h.status();
  head_ = std::move(h).value();
  return head_->Start();
}

Status InProcessCluster::Start() {
  SWELL_RETURN_IF_ERROR(StartHead());
  client_ = rpc::HeadClient::Create({"unix:" + dir_ + "/head.sock", ""});
  for (int i = 0; i < opt_.nodes; ++i) SWELL_RETURN_IF_ERROR(StartNode(i));
  return WaitNodes(opt_.nodes);
}

Status InProcessCluster::StartNode(int i) {
  node::NodeOptions o;
  o.name = NodeName(i);
  o.head_address = "unix:" + dir_ + "/head.sock";
  o.secret = secret_;
  o.spool_dir = dir_ + "/" + o.name;
  o.cpus = opt_.cpus;
  o.mem_mb = opt_.mem_mb;
  o.gpus = opt_.gpus;
  o.kill_wait = opt_.kill_wait;
  o.heartbeat = std::chrono::milliseconds(200);
  o.own_process = false;
  o.clock = &clock_;
  auto& n = nodes_[static_cast<size_t>(i)];
  if (n.daemon) return InvalidArgument(o.name + " is running");
  n.daemon = std::make_unique<node::NodeDaemon>(o);
  n.thread = std::thread([d = n.daemon.get()] { (void)d->Run(); });
  return Status::Ok();
}

void InProcessCluster::StopNode(int i) {
  auto& n = nodes_[static_cast<size_t>(i)];
  if (!n.daemon) return;
  n.daemon->Stop();
  n.thread.join();
  n.daemon.reset();
}

Status InProcessCluster::RestartHead() {
  if (head_) head_->Stop();
  head_.reset();
  return StartHead();
}

void InProcessCluster::Stop() {
  for (int i = 0; i < static_cast<int>(nodes_.size()); ++i) StopNode(i);
  if (head_) head_->Stop();
  head_.reset();
  // Elastic nodes the head left behind.
  if (opt_.elastic && opt_.elastic->provider) {
    auto names = opt_.elastic->provider->List();
    if (names.ok())
      for (const auto& name : *names) (void)opt_.elastic->provider->Delete(name);
  }
}

namespace {

class ThreadProvider final : public provider::Provider {
 public:
  explicit ThreadProvider(node::NodeOptions base) : base_(std::move(base)) {}
  ~ThreadProvider() override {
    std::vector<std::string> names;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [name, n] : nodes_) names.push_back(name);
    }
    for (const auto& name : names) (void)Delete(name);
  }
  std::string kind() const override { return "threads"; }
  Status Create(const std::string& name, const head::autoscaler::NodeType& type) override {
    node::NodeOptions o = base_;
    o.name = name;
    o.partition = type.name;
    o.spool_dir += "/" + name;
    o.cpus = type.cpus;
    o.mem_mb = type.memory_mb;
    o.gpus = type.gpus;
    auto n = std::make_shared<Runner>();
    n->daemon = std::make_unique<node::NodeDaemon>(o);
    std::lock_guard<std::mutex> lock(mu_);
    if (nodes_.count(name)) return Status::Ok();
    n->thread = std::thread([d = n->daemon.get()] { (void)d->Run(); });
    nodes_[name] = n;
    return Status::Ok();
  }
  Status Delete(const std::string& name) override {
    std::shared_ptr<Runner> n;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = nodes_.find(name);
      if (it == nodes_.end()) return Status::Ok();
      n = it->second;
      nodes_.erase(it);
    }
    n->daemon->Stop();
    if (n->thread.joinable()) n->thread.join();
    return Status::Ok();
  }
  Result<std::vector<std::string>> List() override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (auto& [name, n] : nodes_) out.push_back(name);
    return out;
  }

 private:
  struct Runner {
    std::unique_ptr<node::NodeDaemon> daemon;
    std::thread thread;
  };
  node::NodeOptions base_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Runner>> nodes_;
};

}  // namespace

std::unique_ptr<provider::Provider> InProcessCluster::NodeProvider() {
  node::NodeOptions o;
  o.head_address = "unix:" + dir_ + "/head.sock";
  o.secret = secret_;
  o.spool_dir = dir_;
  o.kill_wait = opt_.kill_wait;
  o.heartbeat = std::chrono::milliseconds(200);
  o.own_process = false;
  o.clock = &clock_;
  return std::make_unique<ThreadProvider>(o);
}

pb::JobSpec InProcessCluster::Shell(const std::string& script) const {
  pb::JobSpec s;
  s.set_name("test");
  s.add_argv("/bin/sh");
  s.add_argv("-c");
  s.add_argv(script);
  s.set_ntasks(1);
  s.set_cpus_per_task(1);
  s.set_work_dir(dir_);
  s.set_submit_dir(dir_);
  (*s.mutable_env())["PATH"] = "/usr/local/bin:/usr/bin:/bin";
  s.set_output(dir_ + "/%j.out");
  return s;
}

Result<int64_t> InProcessCluster::Submit(const pb::JobSpec& spec) {
  pb::SubmitRequest req;
  *req.mutable_spec() = spec;
  auto r = client_->Submit(req);
  if (!r.ok()) return r.status();
  return r->job_id();
}

Result<pb::JobInfo> InProcessCluster::WaitJob(int64_t id) {
  pb::WaitRequest req;
  req.add_jobs()->set_job_id(id);
  pb::JobInfo last;
  Status s = client_->Wait(req, [&](const pb::WaitEvent& ev) {
    if (ev.jobs_size() > 0) last = ev.jobs(0);
    return true;
  });
  if (!s.ok()) return s;
  return last;
}

Result<pb::JobInfo> InProcessCluster::Info(int64_t id) {
  pb::InfoRequest req;
  req.mutable_job()->set_job_id(id);
  auto r = client_->Info(req);
  if (!r.ok()) return r.status();
  return r->job();
}

Result<pb::JobInfo> InProcessCluster::WaitFor(int64_t id,
                                              const std::function<bool(const pb::JobInfo&)>& pred,
                                              Duration timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto info = Info(id);
    if (info.ok() && pred(*info)) return info;
    if (std::chrono::steady_clock::now() > end) {
      if (!info.ok()) return info.status();
      return DeadlineExceeded("job " + std::to_string(id) + " stayed " +
                              head::StateName(info->state()) + " (" + info->reason() + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Status InProcessCluster::WaitNodes(int n, Duration timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto r = client_->Nodes({});
    int up = 0;
    if (r.ok())
      for (const auto& ni : r->nodes())
        if (ni.state() != "DOWN" && ni.state() != "UNKNOWN") ++up;
    if (up >= n) return Status::Ok();
    if (std::chrono::steady_clock::now() > end)
      return DeadlineExceeded(std::to_string(up) + " of " + std::to_string(n) + " nodes up");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace swell::testing
