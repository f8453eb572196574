#pragma once

// The head's in-memory model of the queue: active jobs with their dispatched tasks, the leases
// (allocations) that hold resources for them on nodes, finished jobs in brief, and the nodes.
// Plain data, owned by the loop (head_impl.h); the store (state/) holds their durable rows.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "head/reconcile/reconcile.h"
#include "head/scheduler/scheduler.h"
#include "head/session.h"
#include "head/state/lease_codec.h"
#include "head/state/store.h"
#include "rpc/swell.pb.h"

namespace swell::head {

// A node that has not seen a launch of a job for this long may have forgotten its spec
// (node/node.cc forgets idle jobs after ten minutes); send it again.
constexpr auto kSpecResendAfter = std::chrono::minutes(1);
constexpr int kNumStates = 9;

struct Task {
  int64_t pos = 0;
  int attempt = 0;
  std::string node;
  bool started = false;
  int64_t start_ms = 0;
  int64_t lease = 0;
  bool cancel_requested = false;  // persisted: a cancel was sent; it must not run again
  std::string alloc_nodes;        // a multi-node allocation's nodes ("node1,node2"), else ""
  Time sent{};                    // when this head dispatched it (not persisted)
  bool past_deadline = false;     // ended for its --deadline: it ends DEADLINE, not CANCELLED
  bool warned = false;            // its --signal went out (not persisted: a restarted head
                                  // may send it again)
};

// Part of one unit on one node, by node name (scheduler shares name nodes by index).
struct Share {
  std::string node;
  int ntasks = 0;
  scheduler::Resources res;
};

struct Lease {
  int64_t id = 0;
  int64_t job_id = 0;
  std::string node;                       // where the units' tasks run (the first share's node)
  std::vector<std::vector<Share>> units;  // one entry per slot
  std::set<int64_t> positions;            // dispatched, queued or running
  bool dirty = false;
};

struct Job {
  state::JobRow row;
  pb::JobSpec spec;
  int64_t counts[kNumStates] = {};
  std::deque<std::pair<int64_t, int>> requeued;  // (position, attempt) back to pending
  std::set<int64_t> skip;        // positions >= next_pos already terminal (cancelled)
  std::map<int64_t, Task> live;  // dispatched tasks by position
  std::set<int64_t> leases;
  bool row_dirty = false;  // set by MarkDirty; PutJobRow writes the row and clears it
  // The head's list of the jobs a pass changed (null outside a head): MarkDirty adds the job
  // once, so the end of a pass looks at those, not at every job (100,000 may wait).
  std::vector<int64_t>* touched = nullptr;

  void MarkDirty() {
    if (!row_dirty && touched != nullptr) touched->push_back(row.id);
    row_dirty = true;
  }

  bool is_array() const { return spec.array_indices_size() > 0; }
  int64_t undispatched() const {
    return row.task_count - row.next_pos - static_cast<int64_t>(skip.size()) +
           static_cast<int64_t>(requeued.size());
  }
  // Units of it wait for the scheduler (it is not cancelled and has some not dispatched).
  bool Waits() const { return undispatched() > 0 && row.state != pb::CANCELLED; }
};


struct Brief {  // a finished job, for dependencies and listings
  int state = pb::COMPLETED;
  std::string name;
  uint32_t uid = 0;
  int64_t task_count = 1;
  bool is_array = false;
};

struct NodeEntry {
  state::NodeRow row;
  bool up = false;
  Time last_seen;
  std::shared_ptr<Session> session;
  uint64_t heard = 0;  // session->heard() when the loop last looked
  uint64_t session_id = 0;
  bool draining = false;  // the node said it stops: schedule and dispatch nothing there
  std::string node_type;  // of an elastic node ("" for a static one): its partition to Slurm
  std::map<int64_t, Time> spec_sent;
  int64_t cert_issued_ms = 0;  // over TLS: when the certificate it holds was issued
  Time renew_asked{};          // when it was last asked to renew it
  scheduler::Resources total() const { return {row.cpus, row.mem_mb, row.gpus}; }
};

// A lease's units as their row keeps them (state/lease_codec.h), and back.
state::UnitRows ToRows(const std::vector<std::vector<Share>>& units);
std::vector<std::vector<Share>> FromRows(const state::UnitRows& rows);

// A task's stored row as listings and sacct return it (state, exit, node, times, attempts,
// usage); the array index and the task's own job id are the caller's.
void FillTaskInfo(const state::TaskRow& t, pb::TaskInfo* info);

// A job's spec as the reconcile core sees its units.
reconcile::Shape ShapeOf(const pb::JobSpec& spec);

}  // namespace swell::head
