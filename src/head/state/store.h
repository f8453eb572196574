#pragma once

// The head's durable state in SQLite (WAL, synchronous=FULL): jobs, array tasks, leases,
// nodes and events. The head writes through this class inside one transaction per loop pass
// and acknowledges requests only after Commit() returned OK.
//
// Not thread-safe: owned and used by the head loop only.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

struct sqlite3;

namespace swell::head::state {

class Stmt;  // a prepared statement (store.cc)

// One submission. An array job is one row however many tasks it has; its tasks exist as rows
// in `tasks` only once they have been dispatched (positions [0, next_pos)), so a 10,000-task
// array costs one row until it runs.
struct JobRow {
  int64_t id = 0;
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string user;
  int state = 1;  // pb::JobState
  std::string reason;
  int exit_code = 0;
  int signal = 0;
  int64_t submit_ms = 0;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int priority = 0;
  int64_t task_count = 1;
  int64_t next_pos = 0;         // tasks at positions >= next_pos were never dispatched
  bool rest_cancelled = false;  // never-dispatched positions count as CANCELLED
  int restarts = 0;
  std::string spec;  // serialized pb::JobSpec (loaded; written with PutSpec)

  bool operator==(const JobRow&) const = default;
};

struct TaskRow {
  int64_t job_id = 0;
  int64_t pos = 0;
  int state = 1;  // pb::JobState; PENDING with a node = dispatched, not yet started
  std::string node;
  int exit_code = 0;
  int signal = 0;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int attempt = 0;
  bool cancel_requested = false;  // a cancel was sent to its node; never run it again
  // Resource use of the attempt that ended (sacct): peak memory and cpu time.
  int64_t max_rss_kb = 0;
  int64_t user_cpu_us = 0;
  int64_t sys_cpu_us = 0;
  std::string alloc_nodes;  // its allocation's nodes ("node1,node2") when more than `node`

  bool operator==(const TaskRow&) const = default;
};

// A job step (srun inside an allocation) as accounting keeps it: written when it starts and
// when it ends.
struct StepRow {
  int64_t job_id = 0;  // the allocation's id: an array task's own id
  int64_t step_id = 0;
  std::string name;
  std::string nodes;  // comma-separated, in the step's order
  int ntasks = 0;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int state = 2;  // pb::JobState
  int exit_code = 0;
  int signal = 0;
  int64_t max_rss_kb = 0;
  int64_t user_cpu_us = 0;
  int64_t sys_cpu_us = 0;

  bool operator==(const StepRow&) const = default;
};

// Resources a job holds on a node: `slots` units, each using `cpus/mem_mb/gpus` there.
struct LeaseRow {
  int64_t id = 0;
  int64_t job_id = 0;
  std::string node;
  int slots = 0;
  std::string shares;  // serialized unit shares (see head/lease.h)

  bool operator==(const LeaseRow&) const = default;
};

struct NodeRow {
  std::string name;
  std::string instance;
  std::string hostname;
  std::string state;
  int cpus = 0;
  int64_t mem_mb = 0;
  int gpus = 0;
  int64_t last_seen_ms = 0;
  int pid = 0;

  bool operator==(const NodeRow&) const = default;
};

// A node of the elastic pool (src/head/elastic/pool.h), kept after it is gone for accounting.
struct PoolRow {
  std::string name;
  int64_t id = 0;
  std::string type;   // node type name
  std::string phase;  // requested, booting, idle, allocated, draining, deleting, failed, gone
  int64_t requested_ms = 0;
  int64_t ready_ms = 0;
  int64_t gone_ms = 0;
  bool failed = false;
  std::string reason;

  bool operator==(const PoolRow&) const = default;
};

// A join token (`swell token`, tls/join.h): `uses_left` joins until `expires_ms`, for a node of
// any name or only `node`.
struct TokenRow {
  std::string id;
  int64_t created_ms = 0;
  int64_t expires_ms = 0;
  std::string secret;
  int uses_left = 1;
  std::string node;  // "": any name

  bool operator==(const TokenRow&) const = default;
};

class Store {
 public:
  // Opens (creating when missing) the database at `path`.
  static Result<std::unique_ptr<Store>> Open(const std::string& path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Between Begin and Commit the writes are one transaction (begun by the first of them).
  Status Begin();
  Status Commit();
  void Rollback();
  bool in_transaction() const { return open_ || in_tx_; }

  Result<int64_t> GetCounter(const std::string& key, int64_t initial);
  Status SetCounter(const std::string& key, int64_t value);

  Status PutJob(const JobRow& job);  // insert or replace; does not write `spec`
  Status PutSpec(int64_t job_id, const std::string& spec);  // once, at submit
  Status PutTask(const TaskRow& task);                      // insert or replace
  Status PutLease(const LeaseRow& lease);
  Status DeleteLease(int64_t id);
  Status PutNode(const NodeRow& node);
  Status AddEvent(int64_t time_ms, const std::string& kind, int64_t job_id, const std::string& node,
                  const std::string& detail);

  // Jobs whose state is PENDING or RUNNING when `active_only`, else all jobs.
  Result<std::vector<JobRow>> LoadJobs(bool active_only);
  Result<std::optional<JobRow>> LoadJob(int64_t id);
  // Task rows of one job, ordered by position.
  Result<std::vector<TaskRow>> LoadTasks(int64_t job_id);
  // Task rows in state PENDING or RUNNING of all jobs.
  Result<std::vector<TaskRow>> LoadLiveTasks();
  Result<std::optional<TaskRow>> LoadTask(int64_t job_id, int64_t pos);
  Result<std::vector<LeaseRow>> LoadLeases();
  Result<std::vector<NodeRow>> LoadNodes();
  Status PutPoolNode(const PoolRow& row);
  Result<std::vector<PoolRow>> LoadPool();  // by id
  // (state, count) of the task rows of a job.
  Result<std::vector<std::pair<int, int64_t>>> CountTasks(int64_t job_id);

  Status PutToken(const TokenRow& row);
  // Certificates issued to a common name ("node:N", "user:U") until `at_ms` are revoked.
  Status PutRevoked(const std::string& cn, int64_t at_ms);
  Result<std::map<std::string, int64_t>> LoadRevoked();
  Result<std::optional<TokenRow>> LoadToken(const std::string& id);

  // Accounting (sacct).
  Status PutStep(const StepRow& step);
  // Steps of the allocations with ids in [first_id, end_id), by id and step id.
  Result<std::vector<StepRow>> LoadSteps(int64_t first_id, int64_t end_id);
  // Steps still RUNNING (left so by a head that stopped).
  Result<std::vector<StepRow>> LoadRunningSteps();
  // Up to `limit` jobs with id > after_id, by id, that had not ended before `start_ms` and
  // were submitted by `end_ms` (0: no bound), without their specs.
  Result<std::vector<JobRow>> LoadJobsInWindow(int64_t after_id, int64_t start_ms,
                                               int64_t end_ms, int limit);

 private:
  explicit Store(sqlite3* db);
  Status Exec(const char* sql);
  Status Prepare();
  Status Enter();         // begins the transaction Begin opened, at its first statement
  Status Enter(Stmt& s);  // the same before `s` runs (reset if the transaction cannot begin)
  Status Write(Stmt& s);  // runs a statement that writes, in the open transaction
  template <typename Row, typename ReadFn>
  Result<std::vector<Row>> Read(Stmt& s, ReadFn read);  // the rows of a query, likewise

  sqlite3* db_;
  bool open_ = false;   // between Begin and Commit
  bool in_tx_ = false;  // a transaction begun in SQLite
  struct Statements;
  std::unique_ptr<Statements> st_;
};

}  // namespace swell::head::state
