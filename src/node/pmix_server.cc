#include "node/pmix_server.h"

#include <pmix.h>
#include <pmix_server.h>

#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <numeric>
#include <utility>

#include "common/files.h"
#include "common/log.h"

namespace swell::node {

int PmixStep::size() const { return std::accumulate(counts.begin(), counts.end(), 0); }

int PmixStep::first_rank() const {
  return std::accumulate(counts.begin(), counts.begin() + node_index, 0);
}

struct PmixServer::State {
  struct Fence {
    pmix_modex_cbfunc_t done = nullptr;
    void* cbdata = nullptr;
  };
  std::function<void()> wake;
  std::mutex mu;
  std::map<std::string, int64_t> by_nspace;         // GUARDED_BY(mu)
  std::map<int64_t, PmixStep> steps;                // GUARDED_BY(mu)
  std::map<int64_t, int> fence_seq;                 // GUARDED_BY(mu): the last fence's number
  std::map<std::pair<int64_t, int>, Fence> fences;  // GUARDED_BY(mu): waiting for the head
  std::vector<Request> requests;                    // GUARDED_BY(mu)
};

namespace {

// libpmix's callbacks carry no pointer of ours: the one server of the process is here.
std::mutex g_mu;
std::shared_ptr<PmixServer::State> g_state;  // GUARDED_BY(g_mu)

std::shared_ptr<PmixServer::State> Current() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_state;
}

std::string Why(pmix_status_t rc) { return std::string("PMIx: ") + PMIx_Error_string(rc); }

// Waits for one of libpmix's completion callbacks.
struct Completion {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  pmix_status_t status = PMIX_SUCCESS;

  static void Callback(pmix_status_t status, void* self) {
    auto* c = static_cast<Completion*>(self);
    std::lock_guard<std::mutex> lock(c->mu);
    c->status = status;
    c->done = true;
    c->cv.notify_all();
  }
  // `rc`: what the call returned. Only PMIX_SUCCESS means the callback comes.
  pmix_status_t Wait(pmix_status_t rc) {
    if (rc == PMIX_OPERATION_SUCCEEDED) return PMIX_SUCCESS;
    if (rc != PMIX_SUCCESS) return rc;
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [this] { return done; });
    return status;
  }
};

void Queue(PmixServer::State& st, PmixServer::Request r) {
  std::function<void()> wake;
  {
    std::lock_guard<std::mutex> lock(st.mu);
    st.requests.push_back(std::move(r));
    wake = st.wake;
  }
  if (wake) wake();
}

pmix_status_t OnFence(const pmix_proc_t procs[], size_t nprocs, const pmix_info_t[], size_t,
                      char* data, size_t ndata, pmix_modex_cbfunc_t done, void* cbdata) {
  auto st = Current();
  if (!st || nprocs == 0) return PMIX_ERR_NOT_SUPPORTED;
  // A fence spans one step (its whole namespace); one across steps is not offered.
  for (size_t i = 1; i < nprocs; ++i)
    if (std::strncmp(procs[i].nspace, procs[0].nspace, PMIX_MAX_NSLEN) != 0)
      return PMIX_ERR_NOT_SUPPORTED;
  PmixServer::Request r;
  {
    std::lock_guard<std::mutex> lock(st->mu);
    auto it = st->by_nspace.find(procs[0].nspace);
    if (it == st->by_nspace.end()) return PMIX_ERR_NOT_FOUND;
    r.exec_id = it->second;
    r.seq = ++st->fence_seq[r.exec_id];
    st->fences[{r.exec_id, r.seq}] = {done, cbdata};
  }
  r.kind = PmixServer::Request::kFence;
  r.data.assign(data != nullptr ? data : "", ndata);
  Queue(*st, std::move(r));
  return PMIX_SUCCESS;
}

pmix_status_t OnAbort(const pmix_proc_t* proc, void*, int status, const char message[],
                      pmix_proc_t[], size_t, pmix_op_cbfunc_t, void*) {
  auto st = Current();
  if (!st) return PMIX_ERR_NOT_SUPPORTED;
  PmixServer::Request r;
  {
    std::lock_guard<std::mutex> lock(st->mu);
    auto it = st->by_nspace.find(proc->nspace);
    if (it == st->by_nspace.end()) return PMIX_ERR_NOT_FOUND;
    r.exec_id = it->second;
  }
  r.kind = PmixServer::Request::kAbort;
  r.rank = static_cast<int>(proc->rank);
  r.status = status;
  r.message = message != nullptr ? message : "";
  Queue(*st, std::move(r));
  return PMIX_OPERATION_SUCCEEDED;  // the rank goes on to exit with its status
}

pmix_server_module_t* Module() {
  static pmix_server_module_t module = [] {
    pmix_server_module_t m;
    std::memset(&m, 0, sizeof m);
    m.fence_nb = OnFence;
    m.abort = OnAbort;
    return m;
  }();
  return &module;
}

// pmix_info_t arrays built by key, freed as libpmix frees them.
class Infos {
 public:
  explicit Infos(size_t n) : n_(n) { PMIX_INFO_CREATE(info_, n_); }
  ~Infos() { PMIX_INFO_FREE(info_, n_); }
  Infos(const Infos&) = delete;
  Infos& operator=(const Infos&) = delete;
  pmix_info_t* Next() { return &info_[used_++]; }
  void String(const char* key, const std::string& v) {
    PMIX_INFO_LOAD(Next(), key, v.c_str(), PMIX_STRING);
  }
  void U32(const char* key, uint32_t v) { PMIX_INFO_LOAD(Next(), key, &v, PMIX_UINT32); }
  void U16(const char* key, uint16_t v) { PMIX_INFO_LOAD(Next(), key, &v, PMIX_UINT16); }
  void Rank(const char* key, pmix_rank_t v) { PMIX_INFO_LOAD(Next(), key, &v, PMIX_PROC_RANK); }
  pmix_info_t* data() { return info_; }
  size_t used() const { return used_; }

 private:
  pmix_info_t* info_ = nullptr;
  size_t n_ = 0;
  size_t used_ = 0;
};

std::string Join(const std::vector<std::string>& words, const char* sep) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : sep) + w;
  return out;
}

// PMIX_NODE_MAP and PMIX_PROC_MAP in libpmix's own encoding.
Status LoadMaps(const PmixStep& step, Infos* infos) {
  std::vector<std::string> per_node;
  int rank = 0;
  for (int count : step.counts) {
    std::vector<std::string> ranks;
    for (int i = 0; i < count; ++i) ranks.push_back(std::to_string(rank++));
    per_node.push_back(Join(ranks, ","));
  }
  char* nodes = nullptr;
  char* procs = nullptr;
  pmix_status_t rc = PMIx_generate_regex(Join(step.nodes, ",").c_str(), &nodes);
  if (rc == PMIX_SUCCESS) rc = PMIx_generate_ppn(Join(per_node, ";").c_str(), &procs);
  if (rc == PMIX_SUCCESS) {
    PMIX_INFO_LOAD(infos->Next(), PMIX_NODE_MAP, nodes, PMIX_REGEX);
    PMIX_INFO_LOAD(infos->Next(), PMIX_PROC_MAP, procs, PMIX_REGEX);
  }
  free(nodes);
  free(procs);
  return rc == PMIX_SUCCESS ? Status::Ok() : Internal(Why(rc));
}

}  // namespace

PmixServer::PmixServer(std::shared_ptr<State> state) : state_(std::move(state)) {}

Result<std::unique_ptr<PmixServer>> PmixServer::Start(const std::string& dir,
                                                      std::function<void()> wake) {
  SWELL_RETURN_IF_ERROR(MakeDirs(dir, 0755));
  auto state = std::make_shared<State>();
  state->wake = std::move(wake);
  {
    std::lock_guard<std::mutex> lock(g_mu);
    if (g_state) return Internal("PMIx: a server already runs in this process");
    g_state = state;
  }
  Infos init(2);
  init.String(PMIX_SERVER_TMPDIR, dir);
  init.String(PMIX_SYSTEM_TMPDIR, dir);
  pmix_status_t rc = PMIx_server_init(Module(), init.data(), init.used());
  if (rc != PMIX_SUCCESS) {
    std::lock_guard<std::mutex> lock(g_mu);
    g_state.reset();
    return Unavailable("cannot start the PMIx server: " + Why(rc));
  }
  return std::unique_ptr<PmixServer>(new PmixServer(std::move(state)));
}

PmixServer::~PmixServer() {
  std::vector<int64_t> ids;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    for (const auto& [id, step] : state_->steps) ids.push_back(id);
  }
  for (int64_t id : ids) RemoveStep(id);
  PMIx_server_finalize();
  std::lock_guard<std::mutex> lock(g_mu);
  g_state.reset();
}

Status PmixServer::AddStep(const PmixStep& step) {
  const int size = step.size();
  const int first = step.first_rank();
  const int here = step.counts.at(static_cast<size_t>(step.node_index));
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->steps.count(step.exec_id)) return Status::Ok();
    state_->steps[step.exec_id] = step;
    state_->by_nspace[step.nspace] = step.exec_id;
  }
  std::vector<std::string> local;
  for (int r = first; r < first + here; ++r) local.push_back(std::to_string(r));
  Infos infos(17 + static_cast<size_t>(size));
  infos.U32(PMIX_UNIV_SIZE, static_cast<uint32_t>(size));
  infos.U32(PMIX_JOB_SIZE, static_cast<uint32_t>(size));
  infos.U32(PMIX_MAX_PROCS, static_cast<uint32_t>(size));
  infos.U32(PMIX_APP_SIZE, static_cast<uint32_t>(size));
  infos.String(PMIX_JOBID, step.job);
  infos.U32(PMIX_NUM_NODES, static_cast<uint32_t>(step.nodes.size()));
  Status maps = LoadMaps(step, &infos);
  if (!maps.ok()) {
    RemoveStep(step.exec_id);
    return maps;
  }
  infos.U32(PMIX_LOCAL_SIZE, static_cast<uint32_t>(here));
  infos.U32(PMIX_NODE_SIZE, static_cast<uint32_t>(here));
  infos.String(PMIX_LOCAL_PEERS, Join(local, ","));
  infos.Rank(PMIX_LOCALLDR, static_cast<pmix_rank_t>(first));
  infos.U32(PMIX_NODEID, static_cast<uint32_t>(step.node_index));
  infos.String(PMIX_HOSTNAME, step.nodes[static_cast<size_t>(step.node_index)]);
  infos.Rank(PMIX_APPLDR, 0);
  infos.U32(PMIX_APPNUM, 0);
  // Each rank's place, for every rank of the step (its peers ask where the others are).
  int rank = 0;
  for (size_t n = 0; n < step.nodes.size(); ++n) {
    for (int i = 0; i < step.counts[n]; ++i, ++rank) {
      pmix_data_array_t* array = nullptr;
      PMIX_DATA_ARRAY_CREATE(array, 5, PMIX_INFO);
      auto* p = static_cast<pmix_info_t*>(array->array);
      pmix_rank_t r = static_cast<pmix_rank_t>(rank);
      uint16_t local_rank = static_cast<uint16_t>(i);
      uint32_t node_id = static_cast<uint32_t>(n);
      PMIX_INFO_LOAD(&p[0], PMIX_RANK, &r, PMIX_PROC_RANK);
      PMIX_INFO_LOAD(&p[1], PMIX_LOCAL_RANK, &local_rank, PMIX_UINT16);
      PMIX_INFO_LOAD(&p[2], PMIX_NODE_RANK, &local_rank, PMIX_UINT16);
      PMIX_INFO_LOAD(&p[3], PMIX_NODEID, &node_id, PMIX_UINT32);
      PMIX_INFO_LOAD(&p[4], PMIX_HOSTNAME, step.nodes[n].c_str(), PMIX_STRING);
      PMIX_INFO_LOAD(infos.Next(), PMIX_PROC_DATA, array, PMIX_DATA_ARRAY);
      PMIX_DATA_ARRAY_FREE(array);
    }
  }
  Completion c;
  pmix_status_t rc = c.Wait(PMIx_server_register_nspace(step.nspace.c_str(), here, infos.data(),
                                                        infos.used(), Completion::Callback, &c));
  if (rc != PMIX_SUCCESS) {
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->steps.erase(step.exec_id);
      state_->by_nspace.erase(step.nspace);
    }
    return Internal("cannot register the step with the PMIx server: " + Why(rc));
  }
  return Status::Ok();
}

Result<std::vector<std::string>> PmixServer::RankEnv(int64_t exec_id, int rank) {
  PmixStep step;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    auto it = state_->steps.find(exec_id);
    if (it == state_->steps.end()) return NotFound("PMIx: no such step here");
    step = it->second;
  }
  pmix_proc_t proc;
  PMIX_LOAD_PROCID(&proc, step.nspace.c_str(), static_cast<pmix_rank_t>(rank));
  Completion c;
  pmix_status_t rc = c.Wait(
      PMIx_server_register_client(&proc, step.uid, step.gid, nullptr, Completion::Callback, &c));
  if (rc != PMIX_SUCCESS) return Internal("cannot register rank with the PMIx server: " + Why(rc));
  char** env = nullptr;
  rc = PMIx_server_setup_fork(&proc, &env);
  std::vector<std::string> out;
  for (char** e = env; e != nullptr && *e != nullptr; ++e) {
    out.emplace_back(*e);
    free(*e);
  }
  free(env);
  if (rc != PMIX_SUCCESS) return Internal("cannot set up a rank's PMIx environment: " + Why(rc));
  return out;
}

bool PmixServer::HasStep(int64_t exec_id) const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->steps.count(exec_id) > 0;
}

void PmixServer::RemoveStep(int64_t exec_id) {
  std::string nspace;
  std::vector<State::Fence> waiting;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    auto it = state_->steps.find(exec_id);
    if (it == state_->steps.end()) return;
    nspace = it->second.nspace;
    state_->steps.erase(it);
    state_->by_nspace.erase(nspace);
    state_->fence_seq.erase(exec_id);
    for (auto f = state_->fences.begin(); f != state_->fences.end();) {
      if (f->first.first != exec_id) {
        ++f;
        continue;
      }
      waiting.push_back(f->second);
      f = state_->fences.erase(f);
    }
  }
  for (const auto& f : waiting)
    if (f.done) f.done(PMIX_ERR_LOST_CONNECTION, nullptr, 0, f.cbdata, nullptr, nullptr);
  Completion c;
  PMIx_server_deregister_nspace(nspace.c_str(), Completion::Callback, &c);
  c.Wait(PMIX_SUCCESS);  // it always calls back
}

std::vector<PmixServer::Request> PmixServer::Take() {
  std::lock_guard<std::mutex> lock(state_->mu);
  return std::exchange(state_->requests, {});
}

void PmixServer::FenceDone(int64_t exec_id, int seq, const std::string& data,
                           const std::string& error) {
  State::Fence f;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    auto it = state_->fences.find({exec_id, seq});
    if (it == state_->fences.end()) return;
    f = it->second;
    state_->fences.erase(it);
  }
  if (!f.done) return;
  if (!error.empty()) {
    LogWarning("PMIx fence %d of exec %lld failed: %s", seq, static_cast<long long>(exec_id),
               error.c_str());
    f.done(PMIX_ERR_TIMEOUT, nullptr, 0, f.cbdata, nullptr, nullptr);
    return;
  }
  // libpmix reads the data until it calls the release function.
  auto* copy = new std::string(data);
  f.done(PMIX_SUCCESS, copy->data(), copy->size(), f.cbdata,
         [](void* p) { delete static_cast<std::string*>(p); }, copy);
}

}  // namespace swell::node
