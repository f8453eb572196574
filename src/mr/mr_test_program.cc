// A program of libswell_mr's own, run by mr_test.cc in every launch mode. Its output must not
// depend on the number of workers, the mode, failures or membership changes.
//
//   mr_test_program [--local N] [--mr-mode=hadoop] --job sum|words|reduce|maponly|badload
//                   [--parts P] [--iterations I] [--die-once FILE] [--grow-after I]
//                   [--shrink-after I] [--files DIR]

#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "swell/mr/mr.h"

using swell::Status;
using swell::mr::Emitter;

namespace {

std::string g_die_once;  // a worker that maps partition 1 creates this file and dies, once

void MaybeDie(int partition) {
  if (g_die_once.empty() || partition != 1) return;
  if (access(g_die_once.c_str(), F_OK) == 0) return;
  std::ofstream(g_die_once) << getpid() << "\n";
  raise(SIGKILL);
}

// Static data: a deterministic series per partition ("count:seed"); dynamic: a scale.
struct Sum {
  using Static = std::vector<double>;
  using Dynamic = double;
  using Key = int32_t;
  using Value = double;
  Status Load(const std::string& spec, Static& out) {
    unsigned count = 0, seed = 0;
    if (std::sscanf(spec.c_str(), "%u:%u", &count, &seed) != 2)
      return swell::InvalidArgument("bad spec '" + spec + "'");
    uint64_t x = seed * 2654435761u + 1;
    for (unsigned i = 0; i < count; ++i) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      out.push_back(static_cast<double>(x >> 11) / 9007199254740992.0);
    }
    return Status::Ok();
  }
  void Map(const Static& s, const Dynamic& scale, Emitter<Key, Value>& emit) {
    MaybeDie(static_cast<int>(s.size() % 1000 == 0 ? 1 : -1));
    for (size_t i = 0; i < s.size(); ++i) emit.Emit(static_cast<int32_t>(i % 7), s[i] * scale);
  }
  void Combine(Value& into, const Value& v) { into += v; }
};

// Text in, counts out by string keys, no dynamic data.
struct TextCounts {
  using Static = std::string;
  using Key = std::string;
  using Value = int64_t;
};

// Word counts over text files.
struct Words : TextCounts {
  Status Load(const std::string& spec, Static& out) {
    std::ifstream in(spec);
    if (!in) return swell::NotFound("cannot open " + spec);
    std::ostringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return Status::Ok();
  }
  void Map(const Static& text, const swell::mr::NoData&, Emitter<Key, Value>& emit) {
    std::istringstream in(text);
    std::string w;
    while (in >> w) emit.Emit(w, 1);
  }
  void Combine(Value& into, const Value& v) { into += v; }
};

// Reduce sees each key's values in partition order: the output lists them.
struct Order {
  using Static = int32_t;
  using Key = int32_t;
  using Value = int32_t;
  Status Load(const std::string& spec, Static& out) {
    out = std::atoi(spec.c_str());
    return Status::Ok();
  }
  void Map(const Static& p, const swell::mr::NoData&, Emitter<Key, Value>& emit) {
    MaybeDie(p);
    for (int k = 0; k < 5; ++k) emit.Emit(k, p * 10 + k);
  }
  std::vector<int32_t> Reduce(const Key&, std::span<const Value> values) {
    return {values.begin(), values.end()};
  }
};

// Map returns a Status: partition "fail" fails the job with its message.
struct MapError {
  using Static = std::string;
  using Key = int32_t;
  using Value = int32_t;
  Status Load(const std::string& spec, Static& out) {
    out = spec;
    return Status::Ok();
  }
  Status Map(const Static& s, const swell::mr::NoData&, Emitter<Key, Value>& emit) {
    if (s == "fail") return swell::Unavailable("the input went away under the map");
    emit.Emit(1, 1);
    return Status::Ok();
  }
  void Combine(Value& into, const Value& v) { into += v; }
};

// Map-only: each partition's spec and its length.
struct MapOnly : TextCounts {
  Status Load(const std::string& spec, Static& out) {
    if (spec == "bad") return swell::InvalidArgument("this partition cannot load");
    out = spec;
    return Status::Ok();
  }
  void Map(const Static& s, const swell::mr::NoData&, Emitter<Key, Value>& emit) {
    emit.Emit(s, static_cast<int64_t>(s.size()));
  }
};

// Map-only: the CPUs the worker that maps each partition may run on ("0,1").
struct Cpus : TextCounts {
  Status Load(const std::string& spec, Static& out) {
    out = spec;
    return Status::Ok();
  }
  void Map(const Static&, const swell::mr::NoData&, Emitter<Key, Value>& emit) {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::string list;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
      for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &set)) list += (list.empty() ? "" : ",") + std::to_string(c);
    emit.Emit(list, static_cast<int64_t>(getpid()));
  }
};

// Opens job `name` over `specs` and runs its one pass.
template <typename T>
auto OpenAndIterate(swell::mr::Runtime& rt, const std::string& name,
                    const std::vector<std::string>& specs) {
  auto j = rt.Open<T>(name, specs);
  using Out = decltype(j->Iterate());
  if (!j.ok()) return Out(j.status());
  return j->Iterate();
}

}  // namespace

int main(int argc, char** argv) {
  swell::mr::Runtime rt(argc, argv);
  rt.Register<Sum>("sum");
  rt.Register<Words>("words");
  rt.Register<Order>("order");
  rt.Register<MapOnly>("maponly");
  rt.Register<MapError>("maperror");
  rt.Register<Cpus>("cpus");
  std::string job = "sum", files;
  int parts = 4, iterations = 3, grow_after = -1, shrink_after = -1, wait_for = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i], v = argv[i + 1];
    if (f == "--job") job = v;
    else if (f == "--parts") parts = std::atoi(v.c_str());
    else if (f == "--iterations") iterations = std::atoi(v.c_str());
    else if (f == "--die-once") g_die_once = v;
    else if (f == "--grow-after") grow_after = std::atoi(v.c_str());
    else if (f == "--shrink-after") shrink_after = std::atoi(v.c_str());
    else if (f == "--wait-for") wait_for = std::atoi(v.c_str());  // workers, after iteration 1
    else if (f == "--files") files = v;
    else {
      std::fprintf(stderr, "unknown flag %s\n", f.c_str());
      return 2;
    }
  }
  if (rt.is_worker()) return rt.Serve();

  auto fail = [](const Status& st) {
    std::fprintf(stderr, "error: %s\n", st.ToString().c_str());
    return 1;
  };
  if (job == "sum") {
    std::vector<std::string> specs;
    // Partition 1 holds exactly 1000 values: MaybeDie keys on it.
    for (int p = 0; p < parts; ++p) specs.push_back(std::to_string(p == 1 ? 1000 : 999 + p * 37) + ":" + std::to_string(p));
    auto j = rt.Open<Sum>("sum", specs);
    if (!j.ok()) return fail(j.status());
    double scale = 1.0;
    for (int it = 1; it <= iterations; ++it) {
      auto out = j->Iterate(scale);
      if (!out.ok()) return fail(out.status());
      double total = 0;
      for (auto& [k, v] : *out) {
        std::printf("iter %d key %d %.17g\n", it, k, v);
        total += v;
      }
      scale = 1.0 + total / 1e6;
      std::fprintf(stderr, "iteration %d: %d workers, %d attempts\n", it, j->workers(),
                   j->last_stats().attempts);
      if (it == grow_after) {
        Status st = rt.AddLocalWorkers(1);
        if (!st.ok()) return fail(st);
        // Give it a moment to connect: it joins at the next boundary it is known at.
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
      }
      if (it == 1 && wait_for > 0) {
        Status st = rt.WaitForWorkers(wait_for, std::chrono::seconds(60));
        if (!st.ok()) return fail(st);
      }
      if (it == shrink_after) {
        auto pids = rt.local_worker_pids();
        kill(pids.front(), SIGTERM);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
      }
    }
    std::printf("workers at the end: %d\n", j->workers());
    return 0;
  }
  if (job == "words") {
    std::vector<std::string> specs;
    for (int p = 0; p < parts; ++p) specs.push_back(files + "/" + std::to_string(p) + ".txt");
    auto out = OpenAndIterate<Words>(rt, "words", specs);
    if (!out.ok()) return fail(out.status());
    for (auto& [w, n] : *out) std::printf("%s %" PRId64 "\n", w.c_str(), n);
    return 0;
  }
  if (job == "order") {
    std::vector<std::string> specs;
    for (int p = 0; p < parts; ++p) specs.push_back(std::to_string(p));
    auto out = OpenAndIterate<Order>(rt, "order", specs);
    if (!out.ok()) return fail(out.status());
    for (auto& [k, vs] : *out) {
      std::printf("%d:", k);
      for (int v : vs) std::printf(" %d", v);
      std::printf("\n");
    }
    return 0;
  }
  if (job == "maperror") {
    auto out = OpenAndIterate<MapError>(rt, "maperror", {"a", "fail", "b"});
    if (!out.ok()) return fail(out.status());
    return 0;
  }
  if (job == "cpus") {
    auto out = OpenAndIterate<Cpus>(rt, "cpus", {"a", "b"});
    if (!out.ok()) return fail(out.status());
    for (auto& [cpus, pid] : *out) std::printf("%s %" PRId64 "\n", cpus.c_str(), pid);
    return 0;
  }
  if (job == "maponly" || job == "badload") {
    std::vector<std::string> specs = {"alpha", "be", job == "badload" ? "bad" : "gamma", "d"};
    auto out = OpenAndIterate<MapOnly>(rt, "maponly", specs);
    if (!out.ok()) return fail(out.status());
    for (auto& [s, n] : *out) std::printf("%s %" PRId64 "\n", s.c_str(), n);
    return 0;
  }
  std::fprintf(stderr, "unknown job %s\n", job.c_str());
  return 2;
}
