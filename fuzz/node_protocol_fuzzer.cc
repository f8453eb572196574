// The node protocol, both ways, as protobuf bytes (the first byte picks the direction):
// - what a node sends the head (NodeMessage): a Register settled against the head's jobs and
//   leases (SettleRegistration) and each task report judged against the task it names (Judge),
//   as node_sessions.cc does; whatever a node claims, the head's answer names only tasks and
//   jobs it holds or the node named;
// - what the head sends a node (HeadMessage): the environments of every launched task
//   (JobEnv, TaskEnv) and every exec's ranks (ExecEnv, ExecRankEnv), as the node builds them.

#include <cstdint>
#include <cstdlib>
#include <map>
#include <set>
#include <string>

#include "head/job_lifecycle.h"
#include "head/job_model_testing.h"
#include "head/node_registration.h"
#include "node/slurm_env.h"
#include "rpc/swell.pb.h"

namespace {

using namespace swell;
using namespace swell::head;

// Bounds a message's fan-out: the head and the node cap what they send elsewhere.
constexpr int kMaxItems = 64;

struct Fixture {
  std::map<int64_t, Job> jobs;
  std::map<int64_t, Lease> leases;
};

const Fixture& TheCluster() {
  static const Fixture f = [] {
    Fixture f;
    testing::AddLiveJob(f.jobs, f.leases, 1, {{0, "n1"}, {1, "n1"}, {2, "n1"}}, false);
    testing::AddLiveJob(f.jobs, f.leases, 2, {{0, "n1"}, {1, "n2"}}, true);
    testing::AddLiveJob(f.jobs, f.leases, 3, {{0, "n2"}}, false);
    f.jobs[1].live[2].cancel_requested = true;
    return f;
  }();
  return f;
}

bool Named(const pb::Register& reg, int64_t job, int64_t pos) {
  for (const auto* keys : {&reg.running(), &reg.queued()})
    for (const auto& k : *keys)
      if (k.job_id() == job && k.pos() == pos) return true;
  for (const auto& u : reg.unacked())
    if (u.key().job_id() == job && u.key().pos() == pos) return true;
  return false;
}

void FromNode(const uint8_t* data, size_t size) {
  pb::NodeMessage m;
  if (!m.ParseFromArray(data, static_cast<int>(size))) return;
  const Fixture& f = TheCluster();
  if (m.has_register_()) {
    const pb::Register& reg = m.register_();
    auto s = SettleRegistration(reg, f.jobs, f.leases);
    for (const auto& k : s.kill)
      if (!Named(reg, k.job_id(), k.pos())) std::abort();  // a kill the node did not ask about
    for (const auto& [job, pos] : s.lost) {
      auto j = f.jobs.find(job);
      if (j == f.jobs.end() || !j->second.live.count(pos)) std::abort();
    }
    for (const auto& c : s.cancels)
      if (!f.jobs.count(c.job_id())) std::abort();
  }
  int n = 0;
  for (const auto& r : m.reports().reports()) {
    if (++n > kMaxItems) break;
    auto j = f.jobs.find(r.key().job_id());
    if (j == f.jobs.end()) continue;
    auto t = j->second.live.find(r.key().pos());
    if (t == j->second.live.end()) continue;
    (void)lifecycle::Judge(j->second, t->second, r, n % 2 == 0, n % 3 == 0);
  }
}

void ToNode(const uint8_t* data, size_t size) {
  pb::HeadMessage m;
  if (!m.ParseFromArray(data, static_cast<int>(size))) return;
  node::NodeContext ctx;
  ctx.name = "n1";
  ctx.owner = "n1@/spool";
  ctx.rsh = "/usr/bin/swell-rsh";
  ctx.mpi_interface = "lo";
  ctx.mpi_dir = "/spool/mpi";
  int n = 0;
  for (const auto& l : m.launches()) {
    if (++n > kMaxItems) return;
    node::Allocation alloc;
    alloc.nodelist.assign(l.nodelist().begin(), l.nodelist().end());
    alloc.tasks_per_node.assign(l.tasks_per_node().begin(), l.tasks_per_node().end());
    alloc.cpus_per_node.assign(l.cpus_per_node().begin(), l.cpus_per_node().end());
    alloc.node_index = l.node_index();
    alloc.first_rank = l.first_rank();
    (void)node::JobEnv(l.spec(), l.user(), alloc, ctx, node::Hostfile(alloc),
                       node::Account{"/home/u", "u"});
    int k = 0;
    for (const auto& key : l.tasks()) {
      if (++k > kMaxItems) break;
      (void)node::TaskEnv(l.spec(), l.job_id(), key, alloc, ctx);
    }
  }
  for (const auto& x : m.execs()) {
    if (++n > kMaxItems) return;
    (void)node::ExecEnv(x, ctx);
    for (int i = 0; i < kMaxItems && i < x.count(); ++i) (void)node::ExecRankEnv(x, i);
  }
}

}  // namespace

// Protobuf logs each string field that is not UTF-8 as it refuses the message: refusing is the
// behaviour under test, and the lines would bury a real finding in the log.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] % 2 == 0)
    FromNode(data + 1, size - 1);
  else
    ToNode(data + 1, size - 1);
  return 0;
}
