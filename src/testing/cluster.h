#pragma once

// A whole cluster in one test process: a head and N node daemons on threads, talking over a
// unix socket in a temporary directory, running real job processes. Tests drive it through
// the same client the CLI uses. Test-only.

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "head/head.h"
#include "node/node.h"
#include "rpc/client.h"

namespace swell::testing {

struct ClusterOptions {
  int nodes = 2;
  int cpus = 2;           // per node
  int64_t mem_mb = 4096;  // per node
  int gpus = 0;
  Duration node_timeout = std::chrono::seconds(2);
  Duration kill_wait = std::chrono::seconds(1);
  // An elastic cluster: its provider defaults to NodeProvider() (set one to wrap it).
  std::optional<head::ElasticOptions> elastic;
};

class InProcessCluster {
 public:
  explicit InProcessCluster(ClusterOptions options = {});
  ~InProcessCluster();  // stops everything and removes the directory

  // Starts the head and every node; returns once all nodes have registered.
  Status Start();
  void Stop();

  // Stops the head (as a crash would, state on disk) and starts a new one on the same state.
  Status RestartHead();
  // Stops node `i` (0-based) the way SIGTERM would; StartNode brings a fresh daemon back.
  void StopNode(int i);
  Status StartNode(int i);
  std::string NodeName(int i) const { return "node" + std::to_string(i + 1); }

  // A provider whose nodes are node daemons on threads of this process, joining this cluster
  // with the type's cpus, memory and gpus.
  std::unique_ptr<provider::Provider> NodeProvider();
  void SetProvider(std::shared_ptr<provider::Provider> p) { opt_.elastic->provider = p; }

  rpc::HeadClient& client() { return *client_; }
  // The head itself, as the dashboard calls it (in process, not through gRPC).
  head::Head& head() { return *head_; }
  const std::string& dir() const { return dir_; }
  const std::string& secret() const { return secret_; }

  // A spec running `sh -c script` in dir(), with PATH set; tweak before submitting.
  pb::JobSpec Shell(const std::string& script) const;
  Result<int64_t> Submit(const pb::JobSpec& spec);
  // Waits until the job ends and returns its final summary.
  Result<pb::JobInfo> WaitJob(int64_t id);
  Result<pb::JobInfo> Info(int64_t id);
  // Polls until `pred(info)` holds or `timeout` passes.
  Result<pb::JobInfo> WaitFor(int64_t id, const std::function<bool(const pb::JobInfo&)>& pred,
                              Duration timeout = std::chrono::seconds(30));
  // Waits until `n` nodes are up.
  Status WaitNodes(int n, Duration timeout = std::chrono::seconds(10));

 private:
  struct NodeRunner {
    std::unique_ptr<node::NodeDaemon> daemon;
    std::thread thread;
  };
  Status StartHead();

  ClusterOptions opt_;
  std::string dir_;
  SystemClock clock_;
  std::unique_ptr<head::Head> head_;
  std::vector<NodeRunner> nodes_;
  std::unique_ptr<rpc::HeadClient> client_;
  std::string secret_;
};

}  // namespace swell::testing
