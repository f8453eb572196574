// The head's part in srun --mpi=pmix steps (docs/mpi.md): it gathers each PMIx fence's parts
// from the step's nodes and sends every node all of them, and ends a step one of whose ranks
// called PMIx_Abort.

#include "common/log.h"
#include "head/head_impl.h"

namespace swell::head {

namespace {

// The step of exec `id` if `node` runs part of it, and that node's place in it.
std::pair<ExecCall*, size_t> StepOn(std::map<int64_t, std::shared_ptr<ExecCall>>& execs,
                                    int64_t id, const std::string& node) {
  auto it = execs.find(id);
  if (it == execs.end() || !it->second->pmix) return {nullptr, 0};
  const auto& nodes = it->second->nodes;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i] == node) return {it->second.get(), i};
  return {nullptr, 0};
}

}  // namespace

void Head::Impl::DoPmixFence(const std::string& node_name, uint64_t sid, const pb::PmixFence& f) {
  auto nit = nodes_.find(node_name);
  if (nit == nodes_.end() || nit->second.session_id != sid) return;
  auto [call, place] = StepOn(execs_, f.exec_id(), node_name);
  if (call == nullptr) {
    // The step is over (or unknown): the node's ranks must not wait for the others.
    pb::PmixFence no;
    no.set_exec_id(f.exec_id());
    no.set_seq(f.seq());
    no.set_error("the step is not running");
    if (nit->second.session) *Out(nit->second.session).add_fences() = std::move(no);
    return;
  }
  auto& round = call->fences[f.seq()];
  if (round.parts.empty()) round.started = clock_->Now();
  round.parts[place] = f.data();
  if (call->rank_ended) return FailFences(*call, "a rank of the step has ended");
  if (round.parts.size() < call->nodes.size()) return;
  pb::PmixFence all;
  all.set_exec_id(f.exec_id());
  all.set_seq(f.seq());
  std::string data;
  for (const auto& [i, part] : round.parts) data += part;
  all.set_data(std::move(data));
  call->fences.erase(f.seq());
  for (const auto& n : call->nodes) {
    auto it = nodes_.find(n);
    if (it != nodes_.end() && it->second.session) *Out(it->second.session).add_fences() = all;
  }
}

void Head::Impl::FailFences(ExecCall& call, const std::string& why) {
  for (const auto& [seq, round] : call.fences) {
    pb::PmixFence no;
    no.set_exec_id(call.id);
    no.set_seq(seq);
    no.set_error(why);
    for (const auto& n : call.nodes) {
      auto it = nodes_.find(n);
      if (it != nodes_.end() && it->second.session) *Out(it->second.session).add_fences() = no;
    }
  }
  call.fences.clear();
}

void Head::Impl::PmixTimers(Time now) {
  for (auto& [id, call] : execs_) {
    if (call->fences.empty()) continue;
    const Time first = call->fences.begin()->second.started;
    if (now - first < opt_.pmix_timeout) continue;
    LogWarning("head: step %lld.%lld: a PMIx fence timed out after %lld s with %zu of %zu nodes",
               static_cast<long long>(call->job_id), static_cast<long long>(call->step_id),
               static_cast<long long>(
                   std::chrono::duration_cast<std::chrono::seconds>(opt_.pmix_timeout).count()),
               call->fences.begin()->second.parts.size(), call->nodes.size());
    FailFences(*call, "timed out waiting for every node of the step");
  }
}

void Head::Impl::DoPmixAbort(const std::string& node_name, uint64_t sid, const pb::PmixAbort& a) {
  auto nit = nodes_.find(node_name);
  if (nit == nodes_.end() || nit->second.session_id != sid) return;
  auto [call, place] = StepOn(execs_, a.exec_id(), node_name);
  if (call == nullptr || call->abort_status) return;
  call->abort_status = a.status();
  LogInfo("head: step %lld.%lld: rank %d called MPI_Abort (status %d): ending the step",
          static_cast<long long>(call->job_id), static_cast<long long>(call->step_id), a.rank(),
          a.status());
  pb::ExecEvent ev;
  ev.set_rank(a.rank());
  ev.set_aborted(true);
  ev.set_exit_code(a.status());
  call->Deliver(std::move(ev));
  FailFences(*call, "a rank called MPI_Abort");
  SignalStep(*call, 0);
}

}  // namespace swell::head
