#pragma once

// The node daemon: registers with the head, runs the tasks the head sends (and the ranks of job
// steps, exec_relay.h), enforces their time limits, writes their output and reports how they
// ended.
//
// Threads: the node loop (Run) owns every task and all state below; a link thread keeps the
// session with the head open (reconnecting with backoff) and posts what it reads to the loop;
// a writer thread sends what the loop queues. Tasks keep running while the head is away; when
// the session comes back the node re-registers with its running tasks and the reports the head
// has not acknowledged, so nothing is lost or run twice.

#include <sys/types.h>

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "rpc/api.h"

namespace swell::node {

struct NodeOptions {
  std::string name;          // node name, unique in the cluster
  std::string head_address;  // "unix:/path" or "host:port"
  std::string secret;        // cluster secret
  rpc::TlsFiles tls;         // over TCP: the node's certificate, key and the cluster's CA
  std::string spool_dir;     // scripts and per-node state
  std::string hostname;      // reported to the head; default gethostname()
  int cpus = 0;              // 0: all online cpus
  int64_t mem_mb = 0;        // 0: all memory
  int gpus = 0;
  std::string partition;  // the node type of an elastic node (registered with the head)
  Duration heartbeat = std::chrono::seconds(1);
  Duration kill_wait = std::chrono::seconds(10);  // SIGTERM .. SIGKILL (Slurm's KillWait)
  // The daemon owns its process: it handles SIGTERM/SIGINT/SIGCHLD and adopts orphans (child
  // subreaper). False when several nodes share one process (the in-process test cluster).
  bool own_process = true;
  // Every time the node reads: tasks' starts, ends and time limits, kill_wait, heartbeats,
  // report batching, the loop's timeouts. Read on the node loop only (a clock shared with other
  // threads must be thread-safe, as SystemClock is); must outlive the daemon. nullptr: a
  // SystemClock of the daemon's own.
  Clock* clock = nullptr;
};

class NodeDaemon {
 public:
  explicit NodeDaemon(NodeOptions options);
  ~NodeDaemon();

  // Runs until Stop() or, with own_process, SIGTERM/SIGINT; both end every task and rank first.
  // With own_process it blocks those signals in the calling thread: call it before starting
  // other threads so that they inherit the mask.
  Status Run();
  // Asks Run to return; safe from any thread.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace swell::node
