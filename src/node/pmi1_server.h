#pragma once

// PMI-1 for a step's ranks: the "simple" PMI wire protocol that Debian's MPICH 4.0 speaks (it
// links no PMIx; MPICH's src/pmi/maint/pmi-1.1.txt describes the messages). Each rank gets one
// end of a socket pair as PMI_FD, with PMI_RANK and PMI_SIZE; the node daemon answers on the
// other end: init, maxes, the step's KVS name, universe size, appnum, put, get, barrier,
// finalize, abort. A barrier is the step's fence: once this node's ranks have all entered it,
// what they put since the last one goes to the head (as a PMIx fence does, numbered from -1
// down), and every node's puts come back into this node's KVS before the ranks leave it. The
// KVS holds PMI_process_mapping from the start, as MPICH's hydra gives it.
//
// Runs on the node loop; not thread-safe.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "node/pmix_server.h"
#include "node/poller.h"

namespace swell::node {

class Pmi1Server {
 public:
  struct Step {
    int64_t exec_id = 0;
    std::string kvsname;
    int size = 0;            // ranks in the step
    int local = 0;           // ranks on this node
    std::vector<int> counts; // ranks per node, in node order
  };
  // What the ranks ask of the node, as the PMIx server's: a barrier's part for the head (a
  // fence numbered -1, -2, ... per step), or an abort.
  using Request = PmixServer::Request;

  // `poller` watches the node's ends of the connections.
  explicit Pmi1Server(Poller* poller) : poller_(poller) {}
  ~Pmi1Server();
  Pmi1Server(const Pmi1Server&) = delete;
  Pmi1Server& operator=(const Pmi1Server&) = delete;

  // The step's layout, before its ranks start.
  void AddStep(const Step& step);
  // A socket pair for rank `rank`: returns the rank's end (inherited as PMI_FD; the caller
  // closes it once the rank started) and keeps the other, watched by the poller.
  Result<int> Connect(int64_t exec_id, int rank);
  bool Owns(int fd) const { return conns_.count(fd) > 0; }
  // `fd` is readable: answers what the rank sent.
  void Handle(int fd);
  std::vector<Request> Take() { return std::move(requests_); }
  // The head's answer to barrier `seq`: every node's puts, or why the barrier failed.
  void FenceDone(int64_t exec_id, int seq, const std::string& data, const std::string& error);
  // The step's ranks here are gone: closes their connections.
  void RemoveStep(int64_t exec_id);
  bool HasStep(int64_t exec_id) const { return steps_.count(exec_id) > 0; }

  // PMI_process_mapping for ranks placed in blocks: "(vector,(0,2,2))" for 2 nodes of 2.
  static std::string ProcessMapping(const std::vector<int>& counts);
  // A barrier's puts on the wire between nodes, and back.
  static std::string EncodePuts(const std::map<std::string, std::string>& puts);
  static Result<std::map<std::string, std::string>> DecodePuts(const std::string& data);

 private:
  struct Conn {
    int64_t exec_id = 0;
    int rank = 0;
    std::string in;  // bytes of an unfinished line
  };
  struct StepState {
    Step step;
    std::map<std::string, std::string> kvs;
    std::map<std::string, std::string> puts;  // since the last barrier
    std::set<int> waiting;                    // fds in the barrier
    int barriers = 0;
  };
  void Answer(int fd, const std::string& line);
  void Command(int fd, Conn& c, const std::string& line);
  void Close(int fd);

  Poller* const poller_;
  std::map<int, Conn> conns_;
  std::map<int64_t, StepState> steps_;
  std::vector<Request> requests_;
};

}  // namespace swell::node
