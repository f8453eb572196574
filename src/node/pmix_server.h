#pragma once

// The node's PMIx server: what slurmd's mpi/pmix plugin is to Slurm (docs/mpi.md, "srun
// starts MPI ranks itself"). A step started with `srun --mpi=pmix` (the default) registers
// its layout here; each rank's environment then holds what PMIx clients (OpenMPI's ranks) need
// to reach this server, which answers their queries (rank, job size, local peers, the node
// map) from the layout. A fence spanning nodes is the host's part: the server hands this
// node's data up (Take), the node sends it to the head, and the head's answer, every node's
// data, comes back through FenceDone.
//
// Debian's libpmix (the library OpenMPI 4.1 links) runs its own threads: its requests are
// queued and `wake` is called so that the node loop takes them. Everything else is called on
// the node loop. Only pmix_server.cc includes the PMIx headers.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace swell::node {

// A step's ranks as PMIx describes them: block distribution, rank r on the node whose range
// holds it.
struct PmixStep {
  int64_t exec_id = 0;
  std::string nspace;              // unique per step: "swell.<job>.<step>"
  std::string job;                 // PMIX_JOBID, "<job>.<step>" as Slurm's
  std::vector<std::string> nodes;  // the step's nodes in rank order
  std::vector<int> counts;         // ranks on each, parallel to `nodes`
  int node_index = 0;              // this node in `nodes`
  uid_t uid = 0;
  gid_t gid = 0;

  int size() const;
  int first_rank() const;  // this node's lowest rank
};

class PmixServer {
 public:
  // What PMIx's threads ask of the node.
  struct Request {
    enum Kind { kFence, kAbort } kind = kFence;
    int64_t exec_id = 0;
    int seq = 0;         // kFence: the step's fence number on this node, from 1
    std::string data;    // kFence: this node's ranks' part
    int rank = 0;        // kAbort
    int status = 0;      // kAbort
    std::string message; // kAbort
  };

  // Starts the server with its rendezvous files in `dir` (created). One per process.
  static Result<std::unique_ptr<PmixServer>> Start(const std::string& dir,
                                                   std::function<void()> wake);
  ~PmixServer();
  PmixServer(const PmixServer&) = delete;
  PmixServer& operator=(const PmixServer&) = delete;

  Status AddStep(const PmixStep& step);
  // The variables rank `rank` of step `exec_id` (one of this node's) adds to its environment.
  Result<std::vector<std::string>> RankEnv(int64_t exec_id, int rank);
  // The step's ranks here are gone: forgets it; a fence still waiting fails.
  void RemoveStep(int64_t exec_id);
  bool HasStep(int64_t exec_id) const;
  // The requests queued since the last call.
  std::vector<Request> Take();
  // The head's answer to fence `seq` of `exec_id`: every node's data, or why it failed.
  void FenceDone(int64_t exec_id, int seq, const std::string& data, const std::string& error);

  struct State;  // shared with libpmix's callbacks (pmix_server.cc)

 private:
  explicit PmixServer(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace swell::node
