// One scheduling pass (reconcile::Schedule, the head's and `swell sim`'s) over a long queue:
// what the head at scale pays on its loop (docs/BENCHMARKS.md, "The head at scale"). 1,000
// one-cpu nodes and `range(0)` waiting one-cpu jobs; `range(1)` nodes free, the others held
// by running work (0: the cluster is full, every job waits; 1,000: the second when 1,000 jobs
// end and as many start). The jobs carry the reasons the pass before gave them, as in the head.

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "head/reconcile/reconcile.h"

namespace {

using namespace swell;
namespace rc = swell::head::reconcile;

void BM_SchedulePass(benchmark::State& state) {
  const auto waiting = static_cast<int64_t>(state.range(0));
  const auto free_nodes = static_cast<int>(state.range(1));
  const Time now = FromMillis(1'800'000'000'000);
  std::vector<rc::Node> nodes;
  std::vector<rc::Hold> holds;
  for (int i = 0; i < 1000; ++i) {
    rc::Node n;
    n.name = "n" + std::to_string(i);
    n.total = {1, 4096, 0};
    nodes.push_back(n);
    if (i >= free_nodes) holds.push_back({i, {1, 0, 0}, now + std::chrono::seconds(30)});
  }
  std::vector<rc::WaitingJob> jobs;
  jobs.reserve(static_cast<size_t>(waiting));
  for (int64_t id = 1; id <= waiting; ++id) {
    rc::WaitingJob j;
    j.id = id;
    j.submit = now - std::chrono::milliseconds(waiting - id);
    j.shape.time_limit = std::chrono::minutes(1);
    jobs.push_back(std::move(j));
  }
  for (const auto& [id, reason] : rc::Schedule(nodes, holds, jobs, rc::Routing(), now).reasons)
    jobs[static_cast<size_t>(id - 1)].reason = reason;
  for (auto _ : state) {
    auto plan = rc::Schedule(nodes, holds, jobs, rc::Routing(), now);
    benchmark::DoNotOptimize(plan);
    if (static_cast<int>(plan.starts.size()) != std::min<int64_t>(free_nodes, waiting))
      state.SkipWithError("the pass did not start what fits");
  }
}
BENCHMARK(BM_SchedulePass)
    ->Args({100000, 0})
    ->Args({100000, 1000})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
