// Job accounting: what sacct reads. Jobs and their tasks are the store's rows (a task's row
// keeps what it used); job steps get rows of their own here, when they start and when they end.
// History answers a page of jobs at a time, each with its spec, tasks and steps.

#include "head/head_impl.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/slurm_format.h"
#include "common/text.h"

namespace swell::head {

namespace {

// Page bounds: jobs per reply, and tasks (array tasks have a row each) per reply.
constexpr int kPageJobs = 500;
constexpr int64_t kPageTasks = 50'000;

std::string JoinNodes(const std::vector<std::string>& nodes) {
  std::string out;
  for (const auto& n : nodes) out += (out.empty() ? "" : ",") + n;
  return out;
}

}  // namespace

void Head::Impl::RecordStep(const ExecCall& call, bool ended, bool cancelled) {
  if (call.step_id < 0) return;  // a relayed command is no step
  state::StepRow row;
  row.job_id = call.job_id;
  row.step_id = call.step_id;
  row.name = call.name;
  row.nodes = JoinNodes(call.nodes);
  row.ntasks = call.ntasks;
  row.start_ms = call.start_ms;
  row.state = pb::RUNNING;
  if (ended) {
    ExecCall& c = const_cast<ExecCall&>(call);
    std::lock_guard<std::mutex> lock(c.mu);
    row.end_ms = ToMillis(clock_->Now());
    row.exit_code = c.exit_code;
    row.signal = c.signal;
    row.max_rss_kb = c.max_rss_kb;
    row.user_cpu_us = c.user_cpu_us;
    row.sys_cpu_us = c.sys_cpu_us;
    if (cancelled || c.signal != 0)
      row.state = pb::CANCELLED;
    else if (c.exit_code != 0 || c.failed)
      row.state = pb::FAILED;
    else
      row.state = pb::COMPLETED;
  }
  Write(store_->PutStep(row));
}

Status Head::Impl::SettleSteps() {
  // A stopped head broke its steps' sruns: what they recorded as running ended then.
  auto running = store_->LoadRunningSteps();
  if (!running.ok()) return running.status();
  const int64_t now = ToMillis(clock_->Now());
  for (auto row : *running) {
    row.state = pb::CANCELLED;
    row.end_ms = now;
    SWELL_RETURN_IF_ERROR(store_->PutStep(row));
  }
  if (!running->empty()) LogInfo("head: %zu job steps ended with the last head", running->size());
  return Status::Ok();
}

Result<pb::HistoryReply> Head::Impl::DoHistory(const pb::HistoryRequest& req) {
  pb::HistoryReply reply;
  const int limit = req.limit() > 0 ? std::min(req.limit(), kPageJobs) : kPageJobs;
  std::vector<state::JobRow> rows;
  if (req.job_ids_size() > 0) {
    // Each id names a job, or an array task by its own id.
    std::set<int64_t> ids;
    for (int64_t id : req.job_ids()) {
      if (jobs_.count(id) || done_.count(id)) {
        ids.insert(id);
        continue;
      }
      auto below = done_.upper_bound(id);
      auto active = jobs_.upper_bound(id);
      int64_t cand = 0;
      if (below != done_.begin()) cand = std::prev(below)->first;
      if (active != jobs_.begin()) cand = std::max(cand, std::prev(active)->first);
      if (cand == 0) continue;
      auto dit = done_.find(cand);
      const bool array = dit != done_.end() ? dit->second.is_array : jobs_.at(cand).is_array();
      const int64_t count =
          dit != done_.end() ? dit->second.task_count : jobs_.at(cand).row.task_count;
      if (array && id < cand + count) ids.insert(cand);
    }
    for (auto it = ids.upper_bound(req.after_id()); it != ids.end(); ++it) {
      if (static_cast<int>(rows.size()) > limit) break;
      auto row = store_->LoadJob(*it);
      if (!row.ok()) return row.status();
      if (row->has_value()) rows.push_back(std::move(**row));
    }
  } else {
    auto page = store_->LoadJobsInWindow(req.after_id(), req.start_ms(), req.end_ms(), limit + 1);
    if (!page.ok()) return page.status();
    rows = std::move(*page);
  }
  if (static_cast<int>(rows.size()) > limit) {
    rows.resize(static_cast<size_t>(limit));
    reply.set_more(true);
  }
  const std::set<uint32_t> uids(req.uids().begin(), req.uids().end());
  int64_t tasks_sent = 0;
  for (auto& stored : rows) {
    if (tasks_sent >= kPageTasks) {
      reply.set_more(true);
      break;
    }
    reply.set_last_id(stored.id);
    // An active job's row in memory is ahead of the stored one until the pass ends.
    const Job* active = FindJob(stored.id);
    const state::JobRow& row = active ? active->row : stored;
    if (!uids.empty() && !uids.count(row.uid)) continue;
    pb::JobSpec spec;
    if (active) {
      spec = active->spec;
    } else {
      auto with_spec = store_->LoadJob(row.id);
      if (!with_spec.ok()) return with_spec.status();
      if (with_spec->has_value()) spec.ParseFromString((*with_spec)->spec);
    }
    spec.clear_env();
    spec.clear_script();
    pb::JobInfo* info = reply.add_jobs();
    if (active) {
      FillInfo(*active, info, /*pending_indices=*/true);
      info->clear_steps();
    } else {
      FillBrief(row.id, row, info);
    }
    const bool is_array = spec.array_indices_size() > 0;
    auto tasks = store_->LoadTasks(row.id);
    if (!tasks.ok()) return tasks.status();
    std::set<std::string> nodes(info->nodes().begin(), info->nodes().end());
    for (const auto& t : *tasks) {
      // Dispatched but neither started nor ended: still pending to sacct.
      if (t.state == pb::PENDING && t.start_ms == 0) continue;
      auto* ti = info->add_tasks();
      ti->set_array_index(is_array ? spec.array_indices(static_cast<int>(t.pos)) : -1);
      ti->set_job_id(is_array ? row.id + t.pos : row.id);
      FillTaskInfo(t, ti);
      if (!t.node.empty() && !nodes.count(t.node)) {
        nodes.insert(t.node);
        info->add_nodes(t.node);
      }
    }
    tasks_sent += static_cast<int64_t>(tasks->size());
    // A job whose task started and ended within one report has no start of its own: its
    // first task's.
    if (info->start_ms() == 0 && !is_array)
      for (const auto& t : info->tasks())
        if (t.start_ms() != 0 && (info->start_ms() == 0 || t.start_ms() < info->start_ms()))
          info->set_start_ms(t.start_ms());
    if (is_array) {
      // The tasks that have not run (yet): never dispatched, or dispatched and not started.
      std::vector<int64_t> rest;
      std::set<int64_t> shown;
      for (const auto& t : info->tasks()) shown.insert(t.job_id() - row.id);
      for (int64_t pos = 0; pos < row.task_count; ++pos)
        if (!shown.count(pos)) rest.push_back(spec.array_indices(static_cast<int>(pos)));
      info->set_pending_indices(FormatArrayIndices(rest));
    }
    if (info->partition().empty()) {
      std::string partition = spec.partition();
      if (partition.empty() && info->nodes_size() > 0) {
        auto nit = nodes_.find(info->nodes(0));
        if (nit != nodes_.end()) partition = nit->second.node_type;
      }
      info->set_partition(partition);
    }
    const int64_t ids = is_array ? std::max<int64_t>(1, row.task_count) : 1;
    auto steps = store_->LoadSteps(row.id, row.id + ids);
    if (!steps.ok()) return steps.status();
    for (const auto& s : *steps) {
      auto* st = info->add_steps();
      st->set_job_id(s.job_id);
      st->set_step_id(s.step_id);
      st->set_name(s.name);
      for (auto n : Split(s.nodes, ','))
        if (!n.empty()) st->add_nodes(std::string(n));
      st->set_ntasks(s.ntasks);
      st->set_start_ms(s.start_ms);
      st->set_end_ms(s.end_ms);
      st->set_state(static_cast<pb::JobState>(s.state));
      st->set_exit_code(s.exit_code);
      st->set_signal(s.signal);
      st->set_max_rss_kb(s.max_rss_kb);
      st->set_user_cpu_us(s.user_cpu_us);
      st->set_sys_cpu_us(s.sys_cpu_us);
    }
    *info->mutable_spec() = std::move(spec);
  }
  return reply;
}

Result<pb::HistoryReply> Head::History(const rpc::Caller&, const pb::HistoryRequest& req) {
  return impl_->OnLoop<pb::HistoryReply>([&] { return impl_->DoHistory(req); });
}

}  // namespace swell::head
