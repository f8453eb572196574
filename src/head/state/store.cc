#include "head/state/store.h"

#include <sqlite3.h>

#include <utility>

namespace swell::head::state {
namespace {

constexpr int kSchemaVersion = 1;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS counters(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS jobs(
  id INTEGER PRIMARY KEY, name TEXT, uid INTEGER, gid INTEGER, user TEXT,
  state INTEGER, reason TEXT, exit_code INTEGER, signal INTEGER,
  submit_ms INTEGER, start_ms INTEGER, end_ms INTEGER, priority INTEGER,
  task_count INTEGER, next_pos INTEGER, rest_cancelled INTEGER, restarts INTEGER);
CREATE TABLE IF NOT EXISTS specs(job_id INTEGER PRIMARY KEY, spec BLOB);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state);
CREATE TABLE IF NOT EXISTS tasks(
  job_id INTEGER, pos INTEGER, state INTEGER, node TEXT, exit_code INTEGER, signal INTEGER,
  start_ms INTEGER, end_ms INTEGER, attempt INTEGER, cancel_requested INTEGER,
  PRIMARY KEY(job_id, pos)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tasks_state ON tasks(state) WHERE state <= 2;
CREATE TABLE IF NOT EXISTS leases(
  id INTEGER PRIMARY KEY, job_id INTEGER, node TEXT, slots INTEGER, shares TEXT);
CREATE TABLE IF NOT EXISTS nodes(
  name TEXT PRIMARY KEY, instance TEXT, hostname TEXT, state TEXT, cpus INTEGER,
  mem_mb INTEGER, gpus INTEGER, last_seen_ms INTEGER, pid INTEGER);
CREATE TABLE IF NOT EXISTS pool(
  name TEXT PRIMARY KEY, id INTEGER, type TEXT, phase TEXT, requested_ms INTEGER,
  ready_ms INTEGER, gone_ms INTEGER, failed INTEGER, reason TEXT);
CREATE TABLE IF NOT EXISTS events(
  id INTEGER PRIMARY KEY, time_ms INTEGER, kind TEXT, job_id INTEGER, node TEXT, detail TEXT);
)sql";

// A prepared statement, reset after each use.
class Stmt {
 public:
  Stmt() = default;
  ~Stmt() { sqlite3_finalize(s_); }
  Status Prepare(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) != SQLITE_OK)
      return Internal(std::string("prepare: ") + sqlite3_errmsg(db) + " in: " + sql);
    return Status::Ok();
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindBlob(int i, const std::string& v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // Runs a statement that returns no rows.
  Status Run() {
    int rc = sqlite3_step(s_);
    Status out = (rc == SQLITE_DONE || rc == SQLITE_ROW)
                     ? Status::Ok()
                     : Internal(std::string("sqlite: ") + sqlite3_errmsg(sqlite3_db_handle(s_)));
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    return out;
  }
  // Steps once; true when a row is available.
  Result<bool> Step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Internal(std::string("sqlite: ") + sqlite3_errmsg(sqlite3_db_handle(s_)));
  }
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  std::string Text(int col) const {
    const void* p = sqlite3_column_blob(s_, col);
    int n = sqlite3_column_bytes(s_, col);
    return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
  }

 private:
  sqlite3_stmt* s_ = nullptr;
};

// The job row is rewritten often (state, next_pos); the spec, which may be large (array
// indices, environment), is written once into its own table.
constexpr const char* kJobCols =
    "id, name, uid, gid, user, state, reason, exit_code, signal, submit_ms, start_ms, end_ms, "
    "priority, task_count, next_pos, rest_cancelled, restarts";
constexpr const char* kJobSelect =
    "SELECT j.id, j.name, j.uid, j.gid, j.user, j.state, j.reason, j.exit_code, j.signal, "
    "j.submit_ms, j.start_ms, j.end_ms, j.priority, j.task_count, j.next_pos, j.rest_cancelled, "
    "j.restarts, s.spec FROM jobs j LEFT JOIN specs s ON s.job_id = j.id";
constexpr const char* kTaskCols =
    "job_id, pos, state, node, exit_code, signal, start_ms, end_ms, attempt, cancel_requested";

JobRow ReadJob(const Stmt& s) {
  JobRow j;
  j.id = s.Int(0);
  j.name = s.Text(1);
  j.uid = static_cast<uint32_t>(s.Int(2));
  j.gid = static_cast<uint32_t>(s.Int(3));
  j.user = s.Text(4);
  j.state = static_cast<int>(s.Int(5));
  j.reason = s.Text(6);
  j.exit_code = static_cast<int>(s.Int(7));
  j.signal = static_cast<int>(s.Int(8));
  j.submit_ms = s.Int(9);
  j.start_ms = s.Int(10);
  j.end_ms = s.Int(11);
  j.priority = static_cast<int>(s.Int(12));
  j.task_count = s.Int(13);
  j.next_pos = s.Int(14);
  j.rest_cancelled = s.Int(15) != 0;
  j.restarts = static_cast<int>(s.Int(16));
  j.spec = s.Text(17);
  return j;
}

TaskRow ReadTask(const Stmt& s) {
  TaskRow t;
  t.job_id = s.Int(0);
  t.pos = s.Int(1);
  t.state = static_cast<int>(s.Int(2));
  t.node = s.Text(3);
  t.exit_code = static_cast<int>(s.Int(4));
  t.signal = static_cast<int>(s.Int(5));
  t.start_ms = s.Int(6);
  t.end_ms = s.Int(7);
  t.attempt = static_cast<int>(s.Int(8));
  t.cancel_requested = s.Int(9) != 0;
  return t;
}

}  // namespace

struct Store::Statements {
  Stmt get_counter, set_counter, put_job, put_spec, put_task, put_lease, delete_lease, put_node,
      add_event;
  Stmt load_active_jobs, load_all_jobs, load_job, load_tasks, load_live_tasks, load_task;
  Stmt load_leases, load_nodes, count_tasks, put_pool, load_pool;
};

Result<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Unavailable("cannot open state database " + path + ": " + msg);
  }
  std::unique_ptr<Store> store(new Store(db));
  sqlite3_busy_timeout(db, 5000);
  SWELL_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL"));
  // FULL: a commit is on disk when it returns, so an acknowledged submit survives power loss.
  SWELL_RETURN_IF_ERROR(store->Exec("PRAGMA synchronous=FULL"));
  SWELL_RETURN_IF_ERROR(store->Exec("PRAGMA foreign_keys=OFF"));
  SWELL_RETURN_IF_ERROR(store->Exec(kSchema));
  // Databases written before tasks had cancel_requested get the column.
  char* err = nullptr;
  if (sqlite3_exec(db, "ALTER TABLE tasks ADD COLUMN cancel_requested INTEGER DEFAULT 0", nullptr,
                   nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "";
    sqlite3_free(err);
    if (msg.find("duplicate column") == std::string::npos) return Internal("sqlite: " + msg);
  }
  SWELL_RETURN_IF_ERROR(store->Prepare());
  auto version = store->GetCounter("schema_version", kSchemaVersion);
  if (!version.ok()) return version.status();
  if (*version != kSchemaVersion)
    return InvalidArgument("state database " + path + " has schema " + std::to_string(*version) +
                           ", this swell reads " + std::to_string(kSchemaVersion));
  return store;
}

Store::Store(sqlite3* db) : db_(db) {}

Store::~Store() {
  st_.reset();
  sqlite3_close(db_);
}

Status Store::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Internal("sqlite: " + msg);
  }
  return Status::Ok();
}

Status Store::Prepare() {
  st_ = std::make_unique<Statements>();
  auto& s = *st_;
  const std::string jobs_select = kJobSelect;
  const std::string tasks_select = std::string("SELECT ") + kTaskCols + " FROM tasks";
  const std::string put_job = std::string("INSERT OR REPLACE INTO jobs(") + kJobCols +
                              ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  const std::string put_task =
      std::string("INSERT OR REPLACE INTO tasks(") + kTaskCols + ") VALUES(?,?,?,?,?,?,?,?,?,?)";
  SWELL_RETURN_IF_ERROR(s.get_counter.Prepare(db_, "SELECT value FROM counters WHERE key=?"));
  SWELL_RETURN_IF_ERROR(
      s.set_counter.Prepare(db_, "INSERT OR REPLACE INTO counters(key, value) VALUES(?,?)"));
  SWELL_RETURN_IF_ERROR(s.put_job.Prepare(db_, put_job.c_str()));
  SWELL_RETURN_IF_ERROR(s.put_task.Prepare(db_, put_task.c_str()));
  SWELL_RETURN_IF_ERROR(
      s.put_spec.Prepare(db_, "INSERT OR REPLACE INTO specs(job_id, spec) VALUES(?,?)"));
  SWELL_RETURN_IF_ERROR(s.put_lease.Prepare(
      db_, "INSERT OR REPLACE INTO leases(id, job_id, node, slots, shares) VALUES(?,?,?,?,?)"));
  SWELL_RETURN_IF_ERROR(s.delete_lease.Prepare(db_, "DELETE FROM leases WHERE id=?"));
  SWELL_RETURN_IF_ERROR(s.put_node.Prepare(
      db_,
      "INSERT OR REPLACE INTO nodes(name, instance, hostname, state, cpus, mem_mb, gpus, "
      "last_seen_ms, pid) VALUES(?,?,?,?,?,?,?,?,?)"));
  SWELL_RETURN_IF_ERROR(s.add_event.Prepare(
      db_, "INSERT INTO events(time_ms, kind, job_id, node, detail) VALUES(?,?,?,?,?)"));
  SWELL_RETURN_IF_ERROR(
      s.load_active_jobs.Prepare(db_, (jobs_select + " WHERE j.state <= 2 ORDER BY j.id").c_str()));
  SWELL_RETURN_IF_ERROR(s.load_all_jobs.Prepare(db_, (jobs_select + " ORDER BY j.id").c_str()));
  SWELL_RETURN_IF_ERROR(s.load_job.Prepare(db_, (jobs_select + " WHERE j.id=?").c_str()));
  SWELL_RETURN_IF_ERROR(
      s.load_tasks.Prepare(db_, (tasks_select + " WHERE job_id=? ORDER BY pos").c_str()));
  SWELL_RETURN_IF_ERROR(
      s.load_live_tasks.Prepare(db_, (tasks_select + " WHERE state <= 2").c_str()));
  SWELL_RETURN_IF_ERROR(
      s.load_task.Prepare(db_, (tasks_select + " WHERE job_id=? AND pos=?").c_str()));
  SWELL_RETURN_IF_ERROR(
      s.load_leases.Prepare(db_, "SELECT id, job_id, node, slots, shares FROM leases"));
  SWELL_RETURN_IF_ERROR(s.load_nodes.Prepare(
      db_,
      "SELECT name, instance, hostname, state, cpus, mem_mb, gpus, last_seen_ms, pid FROM nodes "
      "ORDER BY name"));
  SWELL_RETURN_IF_ERROR(s.put_pool.Prepare(
      db_,
      "INSERT OR REPLACE INTO pool(name, id, type, phase, requested_ms, ready_ms, gone_ms, "
      "failed, reason) VALUES(?,?,?,?,?,?,?,?,?)"));
  SWELL_RETURN_IF_ERROR(s.load_pool.Prepare(
      db_,
      "SELECT name, id, type, phase, requested_ms, ready_ms, gone_ms, failed, reason FROM pool "
      "ORDER BY id"));
  SWELL_RETURN_IF_ERROR(s.count_tasks.Prepare(
      db_, "SELECT state, COUNT(*) FROM tasks WHERE job_id=? GROUP BY state"));
  return Status::Ok();
}

Status Store::Begin() {
  SWELL_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  in_tx_ = true;
  return Status::Ok();
}

Status Store::Commit() {
  Status s = Exec("COMMIT");
  if (s.ok()) in_tx_ = false;
  return s;
}

void Store::Rollback() {
  if (in_tx_) (void)Exec("ROLLBACK");
  in_tx_ = false;
}

Result<int64_t> Store::GetCounter(const std::string& key, int64_t initial) {
  auto& s = st_->get_counter;
  s.Bind(1, key);
  auto row = s.Step();
  if (!row.ok()) {
    s.Reset();
    return row.status();
  }
  if (*row) {
    int64_t v = s.Int(0);
    s.Reset();
    return v;
  }
  s.Reset();
  SWELL_RETURN_IF_ERROR(SetCounter(key, initial));
  return initial;
}

Status Store::SetCounter(const std::string& key, int64_t value) {
  return st_->set_counter.Bind(1, key).Bind(2, value).Run();
}

Status Store::PutJob(const JobRow& j) {
  auto& s = st_->put_job;
  s.Bind(1, j.id).Bind(2, j.name).Bind(3, j.uid).Bind(4, j.gid).Bind(5, j.user);
  s.Bind(6, j.state).Bind(7, j.reason).Bind(8, j.exit_code).Bind(9, j.signal);
  s.Bind(10, j.submit_ms).Bind(11, j.start_ms).Bind(12, j.end_ms).Bind(13, j.priority);
  s.Bind(14, j.task_count).Bind(15, j.next_pos).Bind(16, j.rest_cancelled ? 1 : 0);
  s.Bind(17, j.restarts);
  return s.Run();
}

Status Store::PutSpec(int64_t job_id, const std::string& spec) {
  return st_->put_spec.Bind(1, job_id).BindBlob(2, spec).Run();
}

Status Store::PutTask(const TaskRow& t) {
  auto& s = st_->put_task;
  s.Bind(1, t.job_id).Bind(2, t.pos).Bind(3, t.state).Bind(4, t.node).Bind(5, t.exit_code);
  s.Bind(6, t.signal).Bind(7, t.start_ms).Bind(8, t.end_ms).Bind(9, t.attempt);
  s.Bind(10, t.cancel_requested ? 1 : 0);
  return s.Run();
}

Status Store::PutLease(const LeaseRow& l) {
  return st_->put_lease.Bind(1, l.id)
      .Bind(2, l.job_id)
      .Bind(3, l.node)
      .Bind(4, l.slots)
      .Bind(5, l.shares)
      .Run();
}

Status Store::DeleteLease(int64_t id) { return st_->delete_lease.Bind(1, id).Run(); }

Status Store::PutNode(const NodeRow& n) {
  auto& s = st_->put_node;
  s.Bind(1, n.name).Bind(2, n.instance).Bind(3, n.hostname).Bind(4, n.state).Bind(5, n.cpus);
  s.Bind(6, n.mem_mb).Bind(7, n.gpus).Bind(8, n.last_seen_ms).Bind(9, n.pid);
  return s.Run();
}

Status Store::AddEvent(int64_t time_ms, const std::string& kind, int64_t job_id,
                       const std::string& node, const std::string& detail) {
  return st_->add_event.Bind(1, time_ms)
      .Bind(2, kind)
      .Bind(3, job_id)
      .Bind(4, node)
      .Bind(5, detail)
      .Run();
}

namespace {
template <typename Row, typename ReadFn>
Result<std::vector<Row>> Collect(Stmt& s, ReadFn read) {
  std::vector<Row> out;
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) {
      s.Reset();
      return row.status();
    }
    if (!*row) break;
    out.push_back(read(s));
  }
  s.Reset();
  return out;
}
}  // namespace

Result<std::vector<JobRow>> Store::LoadJobs(bool active_only) {
  return Collect<JobRow>(active_only ? st_->load_active_jobs : st_->load_all_jobs, ReadJob);
}

Result<std::optional<JobRow>> Store::LoadJob(int64_t id) {
  st_->load_job.Bind(1, id);
  auto rows = Collect<JobRow>(st_->load_job, ReadJob);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<JobRow>();
  return std::optional<JobRow>(std::move(rows->front()));
}

Result<std::vector<TaskRow>> Store::LoadTasks(int64_t job_id) {
  st_->load_tasks.Bind(1, job_id);
  return Collect<TaskRow>(st_->load_tasks, ReadTask);
}

Result<std::vector<TaskRow>> Store::LoadLiveTasks() {
  return Collect<TaskRow>(st_->load_live_tasks, ReadTask);
}

Result<std::optional<TaskRow>> Store::LoadTask(int64_t job_id, int64_t pos) {
  st_->load_task.Bind(1, job_id).Bind(2, pos);
  auto rows = Collect<TaskRow>(st_->load_task, ReadTask);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<TaskRow>();
  return std::optional<TaskRow>(std::move(rows->front()));
}

Result<std::vector<LeaseRow>> Store::LoadLeases() {
  return Collect<LeaseRow>(st_->load_leases, [](const Stmt& s) {
    return LeaseRow{s.Int(0), s.Int(1), s.Text(2), static_cast<int>(s.Int(3)), s.Text(4)};
  });
}

Result<std::vector<NodeRow>> Store::LoadNodes() {
  return Collect<NodeRow>(st_->load_nodes, [](const Stmt& s) {
    NodeRow n;
    n.name = s.Text(0);
    n.instance = s.Text(1);
    n.hostname = s.Text(2);
    n.state = s.Text(3);
    n.cpus = static_cast<int>(s.Int(4));
    n.mem_mb = s.Int(5);
    n.gpus = static_cast<int>(s.Int(6));
    n.last_seen_ms = s.Int(7);
    n.pid = static_cast<int>(s.Int(8));
    return n;
  });
}

Status Store::PutPoolNode(const PoolRow& r) {
  auto& s = st_->put_pool;
  s.Bind(1, r.name).Bind(2, r.id).Bind(3, r.type).Bind(4, r.phase).Bind(5, r.requested_ms);
  s.Bind(6, r.ready_ms).Bind(7, r.gone_ms).Bind(8, int64_t{r.failed}).Bind(9, r.reason);
  return s.Run();
}

Result<std::vector<PoolRow>> Store::LoadPool() {
  return Collect<PoolRow>(st_->load_pool, [](const Stmt& s) {
    PoolRow r;
    r.name = s.Text(0);
    r.id = s.Int(1);
    r.type = s.Text(2);
    r.phase = s.Text(3);
    r.requested_ms = s.Int(4);
    r.ready_ms = s.Int(5);
    r.gone_ms = s.Int(6);
    r.failed = s.Int(7) != 0;
    r.reason = s.Text(8);
    return r;
  });
}

Result<std::vector<std::pair<int, int64_t>>> Store::CountTasks(int64_t job_id) {
  st_->count_tasks.Bind(1, job_id);
  return Collect<std::pair<int, int64_t>>(st_->count_tasks, [](const Stmt& s) {
    return std::pair<int, int64_t>(static_cast<int>(s.Int(0)), s.Int(1));
  });
}

}  // namespace swell::head::state
