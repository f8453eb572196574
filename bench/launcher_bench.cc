// The node's launcher against posix_spawn: start /bin/true and reap it, one at a time.
// Run: build/bench/launcher_bench

#include <benchmark/benchmark.h>
#include <spawn.h>
#include <sys/wait.h>

#include "node/launcher.h"

extern char** environ;

namespace {

void BM_PosixSpawn(benchmark::State& state) {
  char* argv[] = {const_cast<char*>("true"), nullptr};
  for (auto _ : state) {
    pid_t pid;
    posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ);
    int status;
    waitpid(pid, &status, 0);
  }
}
BENCHMARK(BM_PosixSpawn)->UseRealTime();

void BM_Launcher(benchmark::State& state) {
  swell::node::Launcher launcher;
  swell::node::SpawnRequest req;
  req.path = "/bin/true";
  req.argv = {"true"};
  for (char** e = environ; *e; ++e) req.env.push_back(*e);
  for (auto _ : state) {
    auto pid = launcher.Spawn(req);
    int status;
    waitpid(*pid, &status, 0);
  }
}
BENCHMARK(BM_Launcher)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
