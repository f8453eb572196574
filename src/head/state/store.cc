#include "head/state/store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <tuple>
#include <utility>

#include "common/files.h"

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
CREATE TABLE IF NOT EXISTS steps(
  job_id INTEGER, step_id INTEGER, name TEXT, nodes TEXT, ntasks INTEGER, start_ms INTEGER,
  end_ms INTEGER, state INTEGER, exit_code INTEGER, signal INTEGER, max_rss_kb INTEGER,
  user_cpu_us INTEGER, sys_cpu_us INTEGER, PRIMARY KEY(job_id, step_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tasks_state ON tasks(state) WHERE state <= 2;
CREATE TABLE IF NOT EXISTS leases(
  id INTEGER PRIMARY KEY, job_id INTEGER, node TEXT, slots INTEGER, shares TEXT);
CREATE TABLE IF NOT EXISTS nodes(
  name TEXT PRIMARY KEY, instance TEXT, hostname TEXT, state TEXT, cpus INTEGER,
  mem_mb INTEGER, gpus INTEGER, last_seen_ms INTEGER, pid INTEGER);
CREATE TABLE IF NOT EXISTS pool(
  name TEXT PRIMARY KEY, id INTEGER, type TEXT, phase TEXT, requested_ms INTEGER,
  ready_ms INTEGER, gone_ms INTEGER, failed INTEGER, reason TEXT);
CREATE TABLE IF NOT EXISTS join_tokens(
  id TEXT PRIMARY KEY, created_ms INTEGER, expires_ms INTEGER, secret TEXT, uses_left INTEGER,
  node TEXT);
CREATE TABLE IF NOT EXISTS revoked(cn TEXT PRIMARY KEY, at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events(
  id INTEGER PRIMARY KEY, time_ms INTEGER, kind TEXT, job_id INTEGER, node TEXT, detail TEXT);
)sql";

}  // namespace

// A prepared statement, reset after each use.
class Stmt {
 public:
  Stmt() = default;
  ~Stmt() { sqlite3_finalize(s_); }
  Status Prepare(sqlite3* db, const std::string& sql) {
    if (sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) !=
        SQLITE_OK)
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
  // Binds the `members` of `row` (integers, bools and strings) to the parameters 1, 2, ...
  template <typename Row, typename... Member>
  Stmt& BindAll(const Row& row, const std::tuple<Member...>& members) {
    int i = 0;
    std::apply([&](auto... m) { (Bind(++i, row.*m), ...); }, members);
    return *this;
  }
  // Reads the columns 0, 1, ... of the current row into the `members` of *row.
  template <typename Row, typename... Member>
  void ReadAll(const std::tuple<Member...>& members, Row* row) const {
    int i = 0;
    std::apply([&](auto... m) { (Get(i++, &(row->*m)), ...); }, members);
  }
  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  std::string Text(int col) const {
    const void* p = sqlite3_column_blob(s_, col);
    int n = sqlite3_column_bytes(s_, col);
    return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
  }

 private:
  void Get(int col, std::string* v) const { *v = Text(col); }
  void Get(int col, bool* v) const { *v = Int(col) != 0; }
  template <typename Integer>
  void Get(int col, Integer* v) const {
    *v = static_cast<Integer>(Int(col));
  }

  sqlite3_stmt* s_ = nullptr;
};

namespace {

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
    "job_id, pos, state, node, exit_code, signal, start_ms, end_ms, attempt, cancel_requested, "
    "max_rss_kb, user_cpu_us, sys_cpu_us, alloc_nodes";
constexpr const char* kStepCols =
    "job_id, step_id, name, nodes, ntasks, start_ms, end_ms, state, exit_code, signal, "
    "max_rss_kb, user_cpu_us, sys_cpu_us";
constexpr const char* kLeaseCols = "id, job_id, node, slots, shares";
constexpr const char* kNodeCols =
    "name, instance, hostname, state, cpus, mem_mb, gpus, last_seen_ms, pid";
constexpr const char* kPoolCols =
    "name, id, type, phase, requested_ms, ready_ms, gone_ms, failed, reason";
constexpr const char* kTokenCols = "id, created_ms, expires_ms, secret, uses_left, node";

// "INSERT OR REPLACE INTO table(cols) VALUES(?,...)", a parameter per column.
std::string Upsert(const char* table, const char* cols) {
  std::string params = "?";
  for (const char* c = cols; *c; ++c)
    if (*c == ',') params += ",?";
  return std::string("INSERT OR REPLACE INTO ") + table + "(" + cols + ") VALUES(" + params + ")";
}

std::string Select(const char* cols, const char* table) {
  return std::string("SELECT ") + cols + " FROM " + table;
}

// The members of each row in the order of its table's columns (kJobCols, ...): Put* binds them,
// Load* reads them.
constexpr auto kJobMembers = std::make_tuple(
    &JobRow::id, &JobRow::name, &JobRow::uid, &JobRow::gid, &JobRow::user, &JobRow::state,
    &JobRow::reason, &JobRow::exit_code, &JobRow::signal, &JobRow::submit_ms, &JobRow::start_ms,
    &JobRow::end_ms, &JobRow::priority, &JobRow::task_count, &JobRow::next_pos,
    &JobRow::rest_cancelled, &JobRow::restarts);
constexpr auto kTaskMembers =
    std::make_tuple(&TaskRow::job_id, &TaskRow::pos, &TaskRow::state, &TaskRow::node,
                    &TaskRow::exit_code, &TaskRow::signal, &TaskRow::start_ms, &TaskRow::end_ms,
                    &TaskRow::attempt, &TaskRow::cancel_requested, &TaskRow::max_rss_kb,
                    &TaskRow::user_cpu_us, &TaskRow::sys_cpu_us, &TaskRow::alloc_nodes);
constexpr auto kStepMembers = std::make_tuple(
    &StepRow::job_id, &StepRow::step_id, &StepRow::name, &StepRow::nodes, &StepRow::ntasks,
    &StepRow::start_ms, &StepRow::end_ms, &StepRow::state, &StepRow::exit_code, &StepRow::signal,
    &StepRow::max_rss_kb, &StepRow::user_cpu_us, &StepRow::sys_cpu_us);
constexpr auto kLeaseMembers = std::make_tuple(&LeaseRow::id, &LeaseRow::job_id, &LeaseRow::node,
                                               &LeaseRow::slots, &LeaseRow::shares);
constexpr auto kNodeMembers = std::make_tuple(
    &NodeRow::name, &NodeRow::instance, &NodeRow::hostname, &NodeRow::state, &NodeRow::cpus,
    &NodeRow::mem_mb, &NodeRow::gpus, &NodeRow::last_seen_ms, &NodeRow::pid);
constexpr auto kPoolMembers = std::make_tuple(
    &PoolRow::name, &PoolRow::id, &PoolRow::type, &PoolRow::phase, &PoolRow::requested_ms,
    &PoolRow::ready_ms, &PoolRow::gone_ms, &PoolRow::failed, &PoolRow::reason);
constexpr auto kTokenMembers =
    std::make_tuple(&TokenRow::id, &TokenRow::created_ms, &TokenRow::expires_ms, &TokenRow::secret,
                    &TokenRow::uses_left, &TokenRow::node);

// A row of a statement that selects the columns of `members`, in order.
template <typename Row, const auto& members>
Row ReadRow(const Stmt& s) {
  Row r;
  s.ReadAll(members, &r);
  return r;
}

// A row of kJobSelect: the job's columns, then its spec.
JobRow ReadJob(const Stmt& s) {
  JobRow j = ReadRow<JobRow, kJobMembers>(s);
  j.spec = s.Text(std::tuple_size_v<decltype(kJobMembers)>);
  return j;
}

}  // namespace

struct Store::Statements {
  Stmt get_counter, set_counter, put_job, put_spec, put_task, put_lease, delete_lease, put_node,
      add_event;
  Stmt load_active_jobs, load_all_jobs, load_job, load_tasks, load_live_tasks, load_task;
  Stmt load_leases, load_nodes, count_tasks, put_pool, load_pool, put_token, load_token;
  Stmt put_revoked, load_revoked;
  Stmt put_step, load_steps, load_running_steps, load_window;
  Stmt begin, commit;
};

Result<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  // Job scripts and environments (users' tokens among them) are in the database: its owner's
  // only. SQLite gives the -wal and -shm files the database's mode; ones an older swell left
  // wider are narrowed too.
  for (const std::string& file : {path, path + "-wal", path + "-shm"})
    if (file == path || access(file.c_str(), F_OK) == 0) SWELL_RETURN_IF_ERROR(KeepPrivate(file));
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
  // Databases written by an older swell get the columns added since (kept at their defaults).
  for (const char* column : {"tasks ADD COLUMN cancel_requested INTEGER DEFAULT 0",
                             "tasks ADD COLUMN max_rss_kb INTEGER DEFAULT 0",
                             "tasks ADD COLUMN user_cpu_us INTEGER DEFAULT 0",
                             "tasks ADD COLUMN sys_cpu_us INTEGER DEFAULT 0",
                             "tasks ADD COLUMN alloc_nodes TEXT DEFAULT ''"}) {
    char* err = nullptr;
    const std::string sql = std::string("ALTER TABLE ") + column;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "";
      sqlite3_free(err);
      if (msg.find("duplicate column") == std::string::npos) return Internal("sqlite: " + msg);
    }
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
  const std::string tasks_select = Select(kTaskCols, "tasks");
  SWELL_RETURN_IF_ERROR(s.begin.Prepare(db_, "BEGIN IMMEDIATE"));
  SWELL_RETURN_IF_ERROR(s.commit.Prepare(db_, "COMMIT"));
  SWELL_RETURN_IF_ERROR(s.get_counter.Prepare(db_, "SELECT value FROM counters WHERE key=?"));
  SWELL_RETURN_IF_ERROR(s.set_counter.Prepare(db_, Upsert("counters", "key, value")));
  SWELL_RETURN_IF_ERROR(s.put_job.Prepare(db_, Upsert("jobs", kJobCols)));
  SWELL_RETURN_IF_ERROR(s.put_task.Prepare(db_, Upsert("tasks", kTaskCols)));
  SWELL_RETURN_IF_ERROR(s.put_spec.Prepare(db_, Upsert("specs", "job_id, spec")));
  SWELL_RETURN_IF_ERROR(s.put_lease.Prepare(db_, Upsert("leases", kLeaseCols)));
  SWELL_RETURN_IF_ERROR(s.delete_lease.Prepare(db_, "DELETE FROM leases WHERE id=?"));
  SWELL_RETURN_IF_ERROR(s.put_node.Prepare(db_, Upsert("nodes", kNodeCols)));
  SWELL_RETURN_IF_ERROR(s.add_event.Prepare(
      db_, "INSERT INTO events(time_ms, kind, job_id, node, detail) VALUES(?,?,?,?,?)"));
  SWELL_RETURN_IF_ERROR(
      s.load_active_jobs.Prepare(db_, jobs_select + " WHERE j.state <= 2 ORDER BY j.id"));
  SWELL_RETURN_IF_ERROR(s.load_all_jobs.Prepare(db_, jobs_select + " ORDER BY j.id"));
  SWELL_RETURN_IF_ERROR(s.load_job.Prepare(db_, jobs_select + " WHERE j.id=?"));
  SWELL_RETURN_IF_ERROR(s.load_tasks.Prepare(db_, tasks_select + " WHERE job_id=? ORDER BY pos"));
  SWELL_RETURN_IF_ERROR(s.load_live_tasks.Prepare(db_, tasks_select + " WHERE state <= 2"));
  SWELL_RETURN_IF_ERROR(s.load_task.Prepare(db_, tasks_select + " WHERE job_id=? AND pos=?"));
  SWELL_RETURN_IF_ERROR(s.load_leases.Prepare(db_, Select(kLeaseCols, "leases")));
  SWELL_RETURN_IF_ERROR(s.load_nodes.Prepare(db_, Select(kNodeCols, "nodes") + " ORDER BY name"));
  SWELL_RETURN_IF_ERROR(s.put_pool.Prepare(db_, Upsert("pool", kPoolCols)));
  SWELL_RETURN_IF_ERROR(s.load_pool.Prepare(db_, Select(kPoolCols, "pool") + " ORDER BY id"));
  SWELL_RETURN_IF_ERROR(s.put_token.Prepare(db_, Upsert("join_tokens", kTokenCols)));
  SWELL_RETURN_IF_ERROR(
      s.load_token.Prepare(db_, Select(kTokenCols, "join_tokens") + " WHERE id=?"));
  SWELL_RETURN_IF_ERROR(s.put_revoked.Prepare(db_, Upsert("revoked", "cn, at_ms")));
  SWELL_RETURN_IF_ERROR(s.load_revoked.Prepare(db_, Select("cn, at_ms", "revoked")));
  SWELL_RETURN_IF_ERROR(s.count_tasks.Prepare(
      db_, "SELECT state, COUNT(*) FROM tasks WHERE job_id=? GROUP BY state"));
  const std::string steps_select = Select(kStepCols, "steps");
  SWELL_RETURN_IF_ERROR(s.put_step.Prepare(db_, Upsert("steps", kStepCols)));
  SWELL_RETURN_IF_ERROR(s.load_steps.Prepare(
      db_, steps_select + " WHERE job_id >= ? AND job_id < ? ORDER BY job_id, step_id"));
  SWELL_RETURN_IF_ERROR(s.load_running_steps.Prepare(db_, steps_select + " WHERE state = 2"));
  SWELL_RETURN_IF_ERROR(
      s.load_window.Prepare(db_, Select(kJobCols, "jobs") +
                                     " WHERE id > ?1 AND (?2 = 0 OR end_ms = 0 OR end_ms >= ?2) AND"
                                     " (?3 = 0 OR submit_ms <= ?3) ORDER BY id LIMIT ?4"));
  return Status::Ok();
}

// The transaction itself begins with the first statement between Begin and Commit: most of a
// busy head's passes touch no table (heartbeats), and an empty BEGIN IMMEDIATE ... COMMIT
// takes and drops the database's write lock all the same. (The reads of a pass stay in its
// transaction: one snapshot and one lock, not one per statement.)
Status Store::Begin() {
  open_ = true;
  return Status::Ok();
}

Status Store::Enter() {
  if (!open_ || in_tx_) return Status::Ok();
  SWELL_RETURN_IF_ERROR(st_->begin.Run());
  in_tx_ = true;
  return Status::Ok();
}

Status Store::Enter(Stmt& s) {
  Status e = Enter();
  if (!e.ok()) s.Reset();  // its bindings are not left for the next use
  return e;
}

Status Store::Write(Stmt& s) {
  SWELL_RETURN_IF_ERROR(Enter(s));
  return s.Run();
}

Status Store::Commit() {
  open_ = false;
  if (!in_tx_) return Status::Ok();
  Status s = st_->commit.Run();
  if (s.ok()) in_tx_ = false;
  return s;
}

void Store::Rollback() {
  if (in_tx_) (void)Exec("ROLLBACK");
  in_tx_ = open_ = false;
}

Result<int64_t> Store::GetCounter(const std::string& key, int64_t initial) {
  SWELL_RETURN_IF_ERROR(Enter());
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
  return Write(st_->set_counter.Bind(1, key).Bind(2, value));
}

Status Store::PutJob(const JobRow& j) { return Write(st_->put_job.BindAll(j, kJobMembers)); }

Status Store::PutSpec(int64_t job_id, const std::string& spec) {
  return Write(st_->put_spec.Bind(1, job_id).BindBlob(2, spec));
}

Status Store::PutTask(const TaskRow& t) { return Write(st_->put_task.BindAll(t, kTaskMembers)); }

Status Store::PutLease(const LeaseRow& l) {
  return Write(st_->put_lease.BindAll(l, kLeaseMembers));
}

Status Store::DeleteLease(int64_t id) { return Write(st_->delete_lease.Bind(1, id)); }

Status Store::PutNode(const NodeRow& n) { return Write(st_->put_node.BindAll(n, kNodeMembers)); }

Status Store::AddEvent(int64_t time_ms, const std::string& kind, int64_t job_id,
                       const std::string& node, const std::string& detail) {
  return Write(
      st_->add_event.Bind(1, time_ms).Bind(2, kind).Bind(3, job_id).Bind(4, node).Bind(5, detail));
}

template <typename Row, typename ReadFn>
Result<std::vector<Row>> Store::Read(Stmt& s, ReadFn read) {
  SWELL_RETURN_IF_ERROR(Enter(s));
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

Result<std::vector<JobRow>> Store::LoadJobs(bool active_only) {
  return Read<JobRow>(active_only ? st_->load_active_jobs : st_->load_all_jobs, ReadJob);
}

Result<std::optional<JobRow>> Store::LoadJob(int64_t id) {
  st_->load_job.Bind(1, id);
  auto rows = Read<JobRow>(st_->load_job, ReadJob);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<JobRow>();
  return std::optional<JobRow>(std::move(rows->front()));
}

Result<std::vector<TaskRow>> Store::LoadTasks(int64_t job_id) {
  st_->load_tasks.Bind(1, job_id);
  return Read<TaskRow>(st_->load_tasks, ReadRow<TaskRow, kTaskMembers>);
}

Result<std::vector<TaskRow>> Store::LoadLiveTasks() {
  return Read<TaskRow>(st_->load_live_tasks, ReadRow<TaskRow, kTaskMembers>);
}

Result<std::optional<TaskRow>> Store::LoadTask(int64_t job_id, int64_t pos) {
  st_->load_task.Bind(1, job_id).Bind(2, pos);
  auto rows = Read<TaskRow>(st_->load_task, ReadRow<TaskRow, kTaskMembers>);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<TaskRow>();
  return std::optional<TaskRow>(std::move(rows->front()));
}

Result<std::vector<LeaseRow>> Store::LoadLeases() {
  return Read<LeaseRow>(st_->load_leases, ReadRow<LeaseRow, kLeaseMembers>);
}

Result<std::vector<NodeRow>> Store::LoadNodes() {
  return Read<NodeRow>(st_->load_nodes, ReadRow<NodeRow, kNodeMembers>);
}

Status Store::PutPoolNode(const PoolRow& r) {
  return Write(st_->put_pool.BindAll(r, kPoolMembers));
}

Result<std::vector<PoolRow>> Store::LoadPool() {
  return Read<PoolRow>(st_->load_pool, ReadRow<PoolRow, kPoolMembers>);
}

Status Store::PutToken(const TokenRow& r) {
  return Write(st_->put_token.BindAll(r, kTokenMembers));
}

Result<std::optional<TokenRow>> Store::LoadToken(const std::string& id) {
  st_->load_token.Bind(1, id);
  SWELL_ASSIGN_OR_RETURN(auto rows,
                         Read<TokenRow>(st_->load_token, ReadRow<TokenRow, kTokenMembers>));
  if (rows.empty()) return std::optional<TokenRow>();
  return std::optional<TokenRow>(std::move(rows.front()));
}

Status Store::PutRevoked(const std::string& cn, int64_t at_ms) {
  return Write(st_->put_revoked.Bind(1, cn).Bind(2, at_ms));
}

Result<std::map<std::string, int64_t>> Store::LoadRevoked() {
  using Row = std::pair<std::string, int64_t>;
  auto read = [](const Stmt& s) { return Row(s.Text(0), s.Int(1)); };
  SWELL_ASSIGN_OR_RETURN(auto rows, Read<Row>(st_->load_revoked, read));
  return std::map<std::string, int64_t>(rows.begin(), rows.end());
}

Result<std::vector<std::pair<int, int64_t>>> Store::CountTasks(int64_t job_id) {
  st_->count_tasks.Bind(1, job_id);
  return Read<std::pair<int, int64_t>>(st_->count_tasks, [](const Stmt& s) {
    return std::pair<int, int64_t>(static_cast<int>(s.Int(0)), s.Int(1));
  });
}

Status Store::PutStep(const StepRow& r) { return Write(st_->put_step.BindAll(r, kStepMembers)); }

Result<std::vector<StepRow>> Store::LoadSteps(int64_t first_id, int64_t end_id) {
  st_->load_steps.Bind(1, first_id).Bind(2, end_id);
  return Read<StepRow>(st_->load_steps, ReadRow<StepRow, kStepMembers>);
}

Result<std::vector<StepRow>> Store::LoadRunningSteps() {
  return Read<StepRow>(st_->load_running_steps, ReadRow<StepRow, kStepMembers>);
}

Result<std::vector<JobRow>> Store::LoadJobsInWindow(int64_t after_id, int64_t start_ms,
                                                    int64_t end_ms, int limit) {
  st_->load_window.Bind(1, after_id).Bind(2, start_ms).Bind(3, end_ms).Bind(4, limit);
  return Read<JobRow>(st_->load_window, ReadRow<JobRow, kJobMembers>);
}

}  // namespace swell::head::state
