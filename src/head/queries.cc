// Listings and waits: jobs, nodes and usage as the API returns them, and the waiters that get a
// snapshot whenever what they wait for changes.

#include <google/protobuf/io/coded_stream.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/files.h"
#include "common/slurm_format.h"
#include "head/elastic/accounting.h"
#include "head/head_impl.h"

namespace swell::head {

namespace sched = scheduler;
namespace as = autoscaler;
using state::JobRow;
using state::TaskRow;

void Head::Impl::FillInfo(const Job& job, pb::JobInfo* info, bool pending_indices) {
  info->set_id(job.row.id);
  info->set_name(job.row.name);
  info->set_user(job.row.user);
  info->set_uid(job.row.uid);
  info->set_state(static_cast<pb::JobState>(job.row.state));
  std::string reason =
      job.row.state == pb::PENDING || job.row.state == pb::RUNNING ? job.row.reason : "";
  // Tasks handed to a node ahead of a free slot wait for resources, as Slurm would say.
  if (reason.empty() && job.counts[pb::PENDING] > 0 && job.row.next_pos > 0) reason = "Resources";
  info->set_reason(reason);
  info->set_exit_code(job.row.exit_code);
  info->set_signal(job.row.signal);
  info->set_submit_ms(job.row.submit_ms);
  info->set_start_ms(job.row.start_ms);
  info->set_end_ms(job.row.end_ms);
  info->set_task_count(job.row.task_count);
  info->set_priority(job.row.priority);
  info->set_restarts(job.row.restarts);
  for (int s = 0; s < kNumStates; ++s) info->add_state_counts(job.counts[s]);
  std::map<std::string, int> nodes;  // node -> the job's tasks there
  for (auto lid : job.leases) {
    const Lease& l = leases_.at(lid);
    nodes[l.node];
    for (const auto& unit : l.units)
      for (const auto& sh : unit) nodes[sh.node] += sh.ntasks;
  }
  for (const auto& [n, tasks] : nodes) {
    info->add_nodes(n);
    info->add_node_tasks(tasks);
  }
  for (const auto& [id, call] : execs_) {
    if (call->step_id < 0 || call->job_id != job.row.id) continue;
    auto* st = info->add_steps();
    st->set_step_id(call->step_id);
    st->set_name(call->name);
    for (const auto& n : call->nodes) st->add_nodes(n);
    st->set_ntasks(call->ntasks);
    st->set_start_ms(call->start_ms);
  }
  // The partition: the job's own, else the type of the nodes it runs on or is routed to.
  std::string partition = job.spec.partition();
  if (partition.empty() && !nodes.empty()) {
    auto nit = nodes_.find(nodes.begin()->first);
    if (nit != nodes_.end()) partition = nit->second.node_type;
  }
  if (partition.empty() && pool_) {
    if (auto t = JobType(job, clock_->Now())) partition = pool_->types()[static_cast<size_t>(*t)].name;
  }
  info->set_partition(partition);
  if (job.is_array()) {
    info->set_array_max_running(job.spec.array_max_running());
    if (pending_indices && (job.row.state == pb::PENDING || job.row.state == pb::RUNNING)) {
      std::vector<int64_t> pending;
      for (auto [pos, attempt] : job.requeued)
        pending.push_back(job.spec.array_indices(static_cast<int>(pos)));
      // Dispatched to a node but not started yet: still pending to the user.
      for (const auto& [pos, t] : job.live)
        if (!t.started) pending.push_back(job.spec.array_indices(static_cast<int>(pos)));
      for (int64_t pos = job.row.next_pos; pos < job.row.task_count; ++pos)
        if (!job.skip.count(pos)) pending.push_back(job.spec.array_indices(static_cast<int>(pos)));
      info->set_pending_indices(FormatArrayIndices(pending));
    }
  }
}

void Head::Impl::FillBrief(int64_t id, const JobRow& row, pb::JobInfo* info) {
  info->set_id(id);
  info->set_name(row.name);
  info->set_user(row.user);
  info->set_uid(row.uid);
  info->set_state(static_cast<pb::JobState>(row.state));
  info->set_exit_code(row.exit_code);
  info->set_signal(row.signal);
  info->set_submit_ms(row.submit_ms);
  info->set_start_ms(row.start_ms);
  info->set_end_ms(row.end_ms);
  info->set_task_count(row.task_count);
  info->set_priority(row.priority);
  info->set_restarts(row.restarts);
  std::vector<int64_t> counts(kNumStates, 0);
  auto c = store_->CountTasks(id);
  int64_t with_rows = 0;
  if (c.ok())
    for (auto [s, n] : *c) counts[static_cast<size_t>(s)] += n, with_rows += n;
  if (row.task_count > with_rows)
    counts[row.rest_cancelled ? static_cast<size_t>(pb::CANCELLED)
                              : static_cast<size_t>(row.state)] += row.task_count - with_rows;
  for (auto n : counts) info->add_state_counts(n);
}

namespace {
// A spec as listings return it: without the script and the environment (big and private).
void TrimSpec(pb::JobSpec* spec) {
  spec->clear_env();
  spec->clear_script();
}

// `*out` = `spec` without its script and environment, which are set aside while it is copied
// (copying a submission's environment to clear it again was most of squeue's time in the head
// with 100,000 jobs).
void CopyTrimmed(pb::JobSpec& spec, pb::JobSpec* out) {
  std::string script;
  script.swap(*spec.mutable_script());
  google::protobuf::Map<std::string, std::string> env;
  env.swap(*spec.mutable_env());
  *out = spec;
  spec.mutable_script()->swap(script);
  spec.mutable_env()->swap(env);
}

// What squeue's default and long formats need of a spec, in the job's own fields
// (QueueRequest.brief_specs).
void CopyBrief(const pb::JobSpec& spec, pb::JobInfo* out) {
  out->set_min_nodes(spec.min_nodes());
  out->set_time_limit_ms(spec.time_limit_ms());
  if (spec.array_indices_size() > 0) {
    *out->mutable_array_indices() = spec.array_indices();
    out->set_array_max_running(spec.array_max_running());
  }
}

// Where a listing's jobs go: the reply's `jobs`, or (QueueRequest.wire) their wire bytes,
// each built in the one JobInfo reused for all.
class JobSink {
 public:
  JobSink(pb::QueueReply* reply, bool wire) : reply_(reply), wire_(wire) {}

  // The next job's JobInfo, to be filled before the next call.
  pb::JobInfo* Next() {
    Flush();
    if (!wire_) return reply_->add_jobs();
    one_.Clear();
    pending_ = true;
    return &one_;
  }

  // Writes the last job's bytes (before the reply is returned).
  void Flush() {
    if (!pending_) return;
    pending_ = false;
    std::string& out = *reply_->mutable_jobs_wire();
    size_t size = one_.ByteSizeLong();
    uint8_t head[1 + 5];     // a tag and a varint32 of at most 5 bytes
    head[0] = (1 << 3) | 2;  // QueueReply.jobs: field 1, length-delimited
    uint8_t* end = google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(
        static_cast<uint32_t>(size), head + 1);
    out.append(reinterpret_cast<const char*>(head), static_cast<size_t>(end - head));
    size_t at = out.size();
    out.resize(at + size);
    one_.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out.data() + at));
  }

 private:
  pb::QueueReply* reply_;
  bool wire_;
  pb::JobInfo one_;
  bool pending_ = false;
};
}  // namespace

Result<pb::QueueReply> Head::Impl::DoQueue(const rpc::Caller&, const pb::QueueRequest& req) {
  pb::QueueReply reply;
  std::set<int64_t> want(req.job_ids().begin(), req.job_ids().end());
  auto wanted = [&](int64_t id, const std::string& user) {
    if (!want.empty() && !want.count(id)) return false;
    if (!req.user().empty() && req.user() != user) return false;
    return true;
  };
  JobSink sink(&reply, req.wire());
  auto finished = [&](int64_t id) {
    auto row = store_->LoadJob(id);
    if (!row.ok() || !row->has_value() || !wanted(id, (*row)->user)) return;
    auto* info = sink.Next();
    FillBrief(id, **row, info);
    if (!req.specs()) return;
    if (req.brief_specs()) {
      pb::JobSpec spec;
      spec.ParseFromString((*row)->spec);
      CopyBrief(spec, info);
      info->set_partition(spec.partition());
      return;
    }
    info->mutable_spec()->ParseFromString((*row)->spec);
    TrimSpec(info->mutable_spec());
    info->set_partition(info->spec().partition());
  };
  int active = 0;
  auto running = [&](int64_t id, Job& job) {
    if (!req.state().empty() && req.state() != StateName(static_cast<pb::JobState>(job.row.state)))
      return;
    if (!wanted(id, job.row.user)) return;
    ++active;
    auto* info = sink.Next();
    FillInfo(job, info, /*pending=*/true);
    if (req.specs() && req.brief_specs())
      CopyBrief(job.spec, info);
    else if (req.specs())
      CopyTrimmed(job.spec, info->mutable_spec());
    if (req.tasks()) {
      for (auto& [pos, t] : job.live) {
        auto* ti = info->add_tasks();
        ti->set_array_index(job.is_array() ? job.spec.array_indices(static_cast<int>(pos)) : -1);
        ti->set_job_id(job.is_array() ? id + pos : id);
        ti->set_state(t.started ? pb::RUNNING : pb::PENDING);
        ti->set_node(t.node);
        ti->set_start_ms(t.start_ms);
      }
    }
  };
  // jobs_ and done_ are each in id order, and merged so: the listing is in id order. Finished
  // jobs are not paged (after_id, limit and state apply to the active ones).
  bool with_done = req.all() || !want.empty();
  auto d = with_done ? done_.begin() : done_.end();
  auto a = jobs_.upper_bound(req.after_id());
  auto more = [&] { return a != jobs_.end() && (req.limit() <= 0 || active < req.limit()); };
  while (d != done_.end() || more()) {
    if (d != done_.end() && (!more() || d->first < a->first)) {
      if (want.empty() || want.count(d->first)) finished(d->first);
      ++d;
    } else {
      running(a->first, a->second);
      ++a;
    }
  }
  sink.Flush();
  return reply;
}

Result<pb::InfoReply> Head::Impl::DoInfo(const pb::InfoRequest& req) {
  int64_t id = req.job().job_id();
  pb::InfoReply reply;
  auto* info = reply.mutable_job();
  JobRow row;
  pb::JobSpec spec;
  if (Job* job = FindJob(id)) {
    FillInfo(*job, info);
    row = job->row;
    spec = job->spec;
  } else {
    // A task's own id names its array job.
    auto r = store_->LoadJob(id);
    if (!r.ok()) return r.status();
    if (!r->has_value()) {
      auto below = done_.upper_bound(id);
      auto active = jobs_.upper_bound(id);
      int64_t cand = 0;
      if (below != done_.begin()) cand = std::prev(below)->first;
      if (active != jobs_.begin()) cand = std::max(cand, std::prev(active)->first);
      if (cand > 0) {
        auto rc = store_->LoadJob(cand);
        pb::JobSpec s;
        if (rc.ok() && rc->has_value()) s.ParseFromString((*rc)->spec);
        // An array task's own id (a job of ranks has one id for all its tasks).
        if (rc.ok() && rc->has_value() && id < cand + s.array_indices_size()) {
          pb::InfoRequest inner;
          inner.mutable_job()->set_job_id(cand);
          inner.mutable_job()->set_has_index(true);
          inner.mutable_job()->set_array_index(s.array_indices(static_cast<int>(id - cand)));
          return DoInfo(inner);
        }
      }
      return NotFound("no job " + std::to_string(id));
    }
    row = **r;
    spec.ParseFromString(row.spec);
    FillBrief(id, row, info);
  }
  *info->mutable_spec() = spec;
  info->mutable_spec()->clear_env();  // big and private; `swell info` does not show it
  if (info->partition().empty()) info->set_partition(spec.partition());
  auto tasks = store_->LoadTasks(id);
  if (!tasks.ok()) return tasks.status();
  bool is_array = spec.array_indices_size() > 0;
  std::map<int64_t, TaskRow> by_pos;
  for (auto& t : *tasks) by_pos[t.pos] = t;
  int64_t from = 0, to = row.task_count;
  if (req.job().has_index()) {
    auto& idx = spec.array_indices();
    auto it = std::lower_bound(idx.begin(), idx.end(), req.job().array_index());
    if (it == idx.end() || *it != req.job().array_index())
      return NotFound("job " + std::to_string(id) + " has no array index " +
                      std::to_string(req.job().array_index()));
    from = it - idx.begin();
    to = from + 1;
  }
  for (int64_t pos = from; pos < to; ++pos) {
    auto* ti = info->add_tasks();
    ti->set_array_index(is_array ? spec.array_indices(static_cast<int>(pos)) : -1);
    ti->set_job_id(is_array ? id + pos : id);
    auto it = by_pos.find(pos);
    if (it != by_pos.end()) {
      FillTaskInfo(it->second, ti);
    } else {
      ti->set_state(row.rest_cancelled ? pb::CANCELLED : pb::PENDING);
    }
  }
  // Output files as the node names them.
  PatternFields f;
  f.job_id = id;
  f.array_job_id = id;
  f.job_name = spec.name();
  f.user = row.user;
  std::string node = info->tasks_size() > 0 ? info->tasks(0).node() : "";
  f.node = node;
  if (is_array && info->tasks_size() > 0) {
    f.array_task_id = info->tasks(0).array_index();
    f.job_id = info->tasks(0).job_id();
  }
  std::string out =
      !spec.output().empty() ? spec.output() : DefaultOutputPattern(is_array);
  info->set_stdout_path(AbsolutePath(ExpandPattern(out, f), spec.work_dir()));
  info->set_stderr_path(spec.error().empty()
                            ? info->stdout_path()
                            : AbsolutePath(ExpandPattern(spec.error(), f), spec.work_dir()));
  return reply;
}

Result<pb::NodesReply> Head::Impl::DoNodes() {
  pb::NodesReply reply;
  if (pool_)
    for (const auto& ty : pool_->types()) reply.add_partitions(ty.name);
  std::map<std::string, sched::Resources> used;
  for (auto& [lid, l] : leases_)
    for (const auto& u : l.units)
      for (const auto& sh : u) used[sh.node] = used[sh.node] + sh.res;
  for (auto& [name, n] : nodes_) {
    auto* ni = reply.add_nodes();
    ni->set_name(name);
    ni->set_hostname(n.row.hostname);
    ni->set_cpus(n.row.cpus);
    ni->set_mem_mb(n.row.mem_mb);
    ni->set_gpus(n.row.gpus);
    auto u = used[name];
    ni->set_cpus_used(u.cpus);
    ni->set_mem_used_mb(u.mem_mb);
    ni->set_gpus_used(u.gpus);
    ni->set_last_seen_ms(ToMillis(n.last_seen));
    ni->set_pid(n.row.pid);
    std::string st = !n.up                  ? "DOWN"
                     : u.cpus == 0          ? "IDLE"
                     : u.cpus >= n.row.cpus ? "ALLOCATED"
                                            : "MIXED";
    if (n.up && !n.session) st = "UNKNOWN";
    if (n.up && n.draining) st = "DRAINING";
    ni->set_partition(n.node_type);
    if (pool_) {
      if (const auto* pn = pool_->Find(name)) {
        ni->set_phase(elastic::PhaseName(pn->phase));
        if (pn->phase == elastic::Phase::kDeleting || pn->phase == elastic::Phase::kDraining)
          st = "POWERING_DOWN";
        if (pn->phase == elastic::Phase::kFailed) st = "DOWN", ni->set_reason(pn->reason);
      }
    }
    ni->set_state(st);
  }
  if (pool_) {
    // Pool nodes that have not registered (yet): as Slurm lists nodes powering up.
    for (const auto& [name, pn] : pool_->nodes()) {
      if (pn.phase == elastic::Phase::kGone || nodes_.count(name)) continue;
      auto* ni = reply.add_nodes();
      const auto& ty = pool_->types()[static_cast<size_t>(pn.type)];
      ni->set_name(name);
      ni->set_cpus(ty.cpus);
      ni->set_mem_mb(ty.memory_mb);
      ni->set_gpus(ty.gpus);
      ni->set_partition(ty.name);
      ni->set_phase(elastic::PhaseName(pn.phase));
      ni->set_reason(pn.reason);
      ni->set_state(pn.phase == elastic::Phase::kRequested || pn.phase == elastic::Phase::kBooting
                        ? "POWERING_UP"
                    : pn.phase == elastic::Phase::kFailed ? "DOWN"
                                                           : "POWERING_DOWN");
    }
  }
  return reply;
}

Result<pb::StatsReply> Head::Impl::DoStats() {
  // From the database: every pool node ever made and every task that started.
  int64_t now_ms = ToMillis(clock_->Now());
  std::vector<elastic::PaidNode> paid;
  if (pool_) {
    SWELL_ASSIGN_OR_RETURN(auto rows, store_->LoadPool());
    for (const auto& r : rows) {
      int t = TypeIndex(r.type);
      elastic::PaidNode n;
      n.name = r.name;
      n.cpus = t < 0 ? 1 : pool_->types()[static_cast<size_t>(t)].cpus;
      n.price_per_hour = t < 0 ? 0 : pool_->types()[static_cast<size_t>(t)].price_per_hour;
      n.from_ms = r.requested_ms;
      n.deleted = r.phase == "gone";
      n.to_ms = n.deleted ? r.gone_ms : now_ms;
      paid.push_back(n);
    }
  }
  std::vector<elastic::UsedTask> used;
  SWELL_ASSIGN_OR_RETURN(auto jobs, store_->LoadJobs(/*active_only=*/false));
  for (const auto& j : jobs) {
    pb::JobSpec spec;
    spec.ParseFromString(j.spec);
    int cpus = std::max(1, spec.cpus_per_task()) * std::max(1, spec.ntasks());
    SWELL_ASSIGN_OR_RETURN(auto tasks, store_->LoadTasks(j.id));
    for (const auto& t : tasks) {
      if (t.start_ms == 0 || t.node.empty()) continue;
      used.push_back({j.user, j.id, j.submit_ms, t.start_ms, t.end_ms ? t.end_ms : now_ms,
                      t.node, cpus});
    }
  }
  pb::StatsReply reply;
  reply.set_json(elastic::ToJson(elastic::Account(paid, used)));
  return reply;
}

Result<pb::WaitEvent> Head::Impl::DoWaitSnapshot(const std::vector<pb::JobRef>& refs) {
  pb::WaitEvent ev;
  for (const auto& ref : refs) {
    pb::JobInfo info;
    if (Job* job = FindJob(ref.job_id())) {
      FillInfo(*job, &info);
    } else if (done_.count(ref.job_id())) {
      auto row = store_->LoadJob(ref.job_id());
      if (!row.ok() || !row->has_value()) return NotFound("no job " + std::to_string(ref.job_id()));
      FillBrief(ref.job_id(), **row, &info);
    } else {
      return NotFound("no job " + std::to_string(ref.job_id()));
    }
    int64_t total = info.task_count();
    int64_t done = 0, failed = 0;
    for (int s = pb::COMPLETED; s < kNumStates; ++s) done += info.state_counts(s);
    failed = done - info.state_counts(pb::COMPLETED);
    ev.set_total(ev.total() + total);
    ev.set_done(ev.done() + done);
    ev.set_running(ev.running() + info.state_counts(pb::RUNNING));
    ev.set_failed(ev.failed() + failed);
    *ev.add_jobs() = info;
  }
  return ev;
}

void Head::Impl::NotifyWaiters() {
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    auto& w = *it;
    auto ev = DoWaitSnapshot(w->refs);
    bool done = !ev.ok() || ev->done() >= ev->total();
    if (ev.ok()) {
      std::string now = ev->SerializeAsString();
      if (now != w->last) {
        w->last = now;
        std::lock_guard<std::mutex> lock(w->mu);
        w->events.push_back(*ev);
      }
    }
    w->cv.notify_all();
    it = done ? waiters_.erase(it) : it + 1;
  }
}

Result<bool> Head::Impl::AddWaiter(const std::shared_ptr<Waiter>& w) {
  auto ev = DoWaitSnapshot(w->refs);
  if (!ev.ok()) return ev.status();
  w->last = ev->SerializeAsString();
  {
    std::lock_guard<std::mutex> lock(w->mu);
    w->events.push_back(*ev);
  }
  if (ev->done() < ev->total()) waiters_.push_back(w);
  return true;
}

void Head::Impl::CloseWaiters() {
  for (auto& w : waiters_) {
    std::lock_guard<std::mutex> lock(w->mu);
    w->closed = true;
    w->cv.notify_all();
  }
  waiters_.clear();
}

}  // namespace swell::head
