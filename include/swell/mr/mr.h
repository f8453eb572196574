#pragma once

// libswell_mr: iterative MapReduce in the CGL-MapReduce / Twister tradition.
//
// A job is a driver plus N workers, all processes of the user's own binary. Each worker keeps
// its share of the *static data* (the input partitions) in memory for the whole job; every
// iteration the driver broadcasts the *dynamic data* (e.g. K-means centres), each worker maps
// its partitions, map outputs are streamed straight to the workers that reduce them (never
// through files), and the reduce outputs come back to the driver, sorted by key: the combine
// step is the driver's code that uses them. Map-only jobs skip the shuffle; a plain map-reduce
// job is one iteration.
//
// A program:
//
//   struct Sum {                                    // the job: one type, no base class
//     using Static = std::vector<double>;           // one partition's data, loaded once
//     using Dynamic = double;                       // broadcast each iteration
//     using Key = int;
//     using Value = double;
//     Status Load(const std::string& spec, Static& out);     // spec: e.g. a file name
//     void Map(const Static& s, const Dynamic& d, Emitter<Key, Value>& emit);
//                                                   // (or Status Map(...): an error fails the job)
//     void Combine(Value& into, const Value& v) { into += v; }  // optional: map-side combiner
//     // optional: Out Reduce(const Key& k, std::span<const Value> values);
//   };
//
//   int main(int argc, char** argv) {
//     swell::mr::Runtime rt(argc, argv);           // consumes --local N, --stats, ...
//     rt.Register<Sum>("sum");                     // every process registers the same jobs
//     if (rt.is_worker()) return rt.Serve();       // workers serve until the driver is done
//     auto job = rt.Open<Sum>("sum", {"part-0", "part-1"});   // loads the static data
//     auto out = job->Iterate(2.0);                // broadcast, map, shuffle, reduce
//     ...                                          // combine: use *out on the driver
//   }
//
// Reduce: with Reduce, each key's values arrive in a fixed order (by input partition, then in
// the order Map emitted them), whichever worker mapped which partition; with only Combine, the
// values are folded in that order. So a job's results are bit-identical with any number of
// workers and after a worker failure.
//
// Launch (Runtime's constructor reads argv and the environment):
//   --local N           this process drives and starts N workers of this binary here
//   swell run -n N / srun -n N / mpirun -n N
//                       N processes: rank 0 drives and also works (a worker thread), ranks
//                       1..N-1 work; rank and size come from SLURM_PROCID/SLURM_NTASKS,
//                       OMPI_COMM_WORLD_RANK/_SIZE or PMI_RANK/PMI_SIZE. Rank 0 publishes its
//                       address in a rendezvous file (docs/mapreduce.md) that the others read.
//   neither             one worker thread in this process
// A process started with SWELL_MR_JOIN=<key> joins the running launch with that key (its
// rendezvous file) as one more worker, e.g. on a node the autoscaler just added.
// Other flags it consumes: --stats (print each iteration's phase breakdown to stderr),
// --mr-mode=hadoop (the file-based ablation: see docs/mapreduce.md).
//
// Fault tolerance: when a worker dies during an iteration, its partitions go to the survivors
// (which Load them from their specs) and the iteration runs again; Iterate returns the same
// result it would have without the failure. Elastic: workers may join between iterations and
// get partitions; a worker told to stop (SIGTERM) hands its partitions over at the next
// iteration boundary and exits.
//
// Threads: a Runtime and its jobs are used from one thread (the driver's). Job objects run on
// the worker's thread; a worker thread in the driver's process has its own job object.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "swell/mr/serialize.h"
#include "swell/status.h"

namespace swell::mr {

// Where a job's map outputs go. Not thread-safe; valid only during Map.
template <typename K, typename V>
class Emitter {
 public:
  virtual ~Emitter() = default;
  virtual void Emit(const K& key, const V& value) = 0;
};

// The phases of one iteration, in seconds (wall clock at the driver, or the slowest worker's).
struct IterationStats {
  int iteration = 0;
  int attempts = 1;        // > 1 when a worker failed and the iteration ran again
  int workers = 0;         // alive when the iteration ended
  double load_s = 0;       // loading static data (first iteration, failures, moves)
  double broadcast_s = 0;  // sending the dynamic data to every worker
  double map_s = 0;        // the slowest worker's map time
  double shuffle_s = 0;    // the slowest reducer's wait for its inputs after its own map
  double reduce_s = 0;     // the slowest reducer
  double combine_s = 0;    // gathering and merging the reduce outputs at the driver
  double total_s = 0;      // Iterate from call to return
  int64_t shuffle_bytes = 0;  // map output bytes sent between workers (incl. to self)
};
// "iter 3: load 0.000 broadcast 0.001 map 0.210 shuffle 0.002 reduce 0.000 combine 0.000
// total 0.215 s, 2 workers, 12.3 KB shuffled".
std::string FormatStats(const IterationStats& s);
// Writes FormatStats(s) and a newline to stderr.
void PrintStats(const IterationStats& s);

struct JobOptions {
  int reducers = 0;  // reduce partitions; 0: one per worker at Open
  std::chrono::seconds start_timeout{60};  // for the expected workers to connect
};

// No dynamic data (a plain map-reduce or map-only job).
struct NoData {};

namespace internal {

// The job as the runtime core sees it: bytes in, bytes out. Implemented by JobAdapter below.
class ErasedJob {
 public:
  virtual ~ErasedJob() = default;
  virtual bool map_only() const = 0;
  // Loads partition `id` from `spec` and keeps it.
  virtual Status Load(int id, const std::string& spec) = 0;
  virtual void Drop(int id) = 0;
  // Maps partition `id`; hands encoded (key, value) records for reduce partition r to
  // sink(r, bytes), in pieces of about `chunk` bytes as they fill, and everything at the end.
  virtual Status Map(int id, std::string_view dynamic, int reducers, size_t chunk,
                     const std::function<void(int, std::string&&)>& sink) = 0;
  // Reduces one reduce partition from its inputs in partition order; `out` gets the encoded
  // (key, out) records sorted by key.
  virtual Status Reduce(const std::vector<std::string_view>& inputs, std::string& out) = 0;
  // Sorts encoded (key, value) records by key, stably (the hadoop mode's spill).
  virtual Status SortRecords(std::string& records) = 0;
};

using JobFactory = std::function<std::unique_ptr<ErasedJob>()>;

// 64-bit FNV-1a: the shuffle's partitioner (the same in every process and every build).
inline uint64_t Hash(std::string_view bytes) {
  uint64_t h = 1469598103934665603ull;
  for (char c : bytes) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// Where Map's output is combined: a hash table when the key has a std::hash, else a std::map
// (all the runtime asks of a key is operator<). For string keys the hash table is about three
// times faster, which is most of word count's map. The order in which a partition's combined
// pairs then leave does not matter: reduce groups its input by key, one value per partition.
template <typename K>
concept Hashable = requires(const K& k) {
  { std::hash<K>{}(k) } -> std::convertible_to<size_t>;
};
template <typename K, typename V>
using CombineTable = std::conditional_t<Hashable<K>, std::unordered_map<K, V>, std::map<K, V>>;

template <typename J>
concept HasCombine = requires(J j, typename J::Value& a, const typename J::Value& b) {
  j.Combine(a, b);
};
template <typename J>
concept HasReduce =
    requires(J j, const typename J::Key& k, std::span<const typename J::Value> vs) {
      j.Reduce(k, vs);
    };
template <typename J>
struct DynamicOf {
  using type = NoData;
};
template <typename J>
  requires requires { typename J::Dynamic; }
struct DynamicOf<J> {
  using type = typename J::Dynamic;
};
template <typename J>
struct OutOf {
  using type = typename J::Value;
};
template <typename J>
  requires HasReduce<J>
struct OutOf<J> {
  using type = std::decay_t<decltype(std::declval<J&>().Reduce(
      std::declval<const typename J::Key&>(), std::declval<std::span<const typename J::Value>>()))>;
};

template <typename J>
class JobAdapter final : public ErasedJob {
 public:
  using Key = typename J::Key;
  using Value = typename J::Value;
  using Dynamic = typename DynamicOf<J>::type;
  using Out = typename OutOf<J>::type;
  static constexpr bool kMapOnly = !HasCombine<J> && !HasReduce<J>;

  explicit JobAdapter(J job) : job_(std::move(job)) {}
  bool map_only() const override { return kMapOnly; }

  Status Load(int id, const std::string& spec) override {
    typename J::Static s{};
    Status st = job_.Load(spec, s);
    if (!st.ok()) return st;
    static_[id] = std::move(s);
    return Status::Ok();
  }
  void Drop(int id) override { static_.erase(id); }

  Status Map(int id, std::string_view dynamic, int reducers, size_t chunk,
             const std::function<void(int, std::string&&)>& sink) override {
    auto it = static_.find(id);
    if (it == static_.end()) return Internal("partition " + std::to_string(id) + " not loaded");
    Dynamic d{};
    if constexpr (!std::is_same_v<Dynamic, NoData>) {
      if (!Decode(dynamic, d)) return InvalidArgument("malformed dynamic data");
    }
    Collector c(reducers, chunk, sink);
    c.job = &job_;
    if constexpr (std::is_same_v<decltype(job_.Map(it->second, d, c)), Status>) {
      Status st = job_.Map(it->second, d, c);
      if (!st.ok()) return st;
    } else {
      job_.Map(it->second, d, c);
    }
    if constexpr (HasCombine<J>) {
      for (auto& [k, v] : c.combined) c.Append(k, v);
    }
    c.FlushAll();
    return Status::Ok();
  }

  Status SortRecords(std::string& records) override {
    std::vector<std::pair<Key, Value>> v;
    Reader r(records);
    while (!r.empty()) {
      Key k{};
      Value val{};
      if (!r.Get(k) || !r.Get(val)) return InvalidArgument("malformed map output");
      v.emplace_back(std::move(k), std::move(val));
    }
    std::stable_sort(v.begin(), v.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    records.clear();
    Writer w(records);
    for (const auto& [k, val] : v) {
      w.Put(k);
      w.Put(val);
    }
    return Status::Ok();
  }

  Status Reduce(const std::vector<std::string_view>& inputs, std::string& out) override {
    std::map<Key, std::vector<Value>> groups;
    for (std::string_view in : inputs) {
      Reader r(in);
      while (!r.empty()) {
        Key k{};
        Value v{};
        if (!r.Get(k) || !r.Get(v)) return InvalidArgument("malformed map output");
        groups[std::move(k)].push_back(std::move(v));
      }
    }
    Writer w(out);
    for (auto& [k, vs] : groups) {
      w.Put(k);
      if constexpr (HasReduce<J>) {
        w.Put(job_.Reduce(k, std::span<const Value>(vs)));
      } else if constexpr (HasCombine<J>) {
        Value acc = std::move(vs.front());
        for (size_t i = 1; i < vs.size(); ++i) job_.Combine(acc, vs[i]);
        w.Put(acc);
      }
    }
    return Status::Ok();
  }

 private:
  struct Collector final : Emitter<Key, Value> {
    Collector(int reducers, size_t chunk, const std::function<void(int, std::string&&)>& sink)
        : buffers(static_cast<size_t>(reducers)), chunk(chunk), sink(sink) {}
    void Emit(const Key& k, const Value& v) override {
      if constexpr (HasCombine<J>) {
        auto [it, fresh] = combined.try_emplace(k, v);
        if (!fresh) job->Combine(it->second, v);
      } else {
        Append(k, v);
      }
    }
    void Append(const Key& k, const Value& v) {
      key_bytes.clear();
      Writer kw(key_bytes);
      kw.Put(k);
      size_t r = buffers.size() == 1 ? 0 : Hash(key_bytes) % buffers.size();
      std::string& b = buffers[r];
      b += key_bytes;
      Writer vw(b);
      vw.Put(v);
      if (b.size() >= chunk) {
        sink(static_cast<int>(r), std::move(b));
        b.clear();
      }
    }
    void FlushAll() {
      for (size_t r = 0; r < buffers.size(); ++r)
        if (!buffers[r].empty()) sink(static_cast<int>(r), std::move(buffers[r]));
    }
    std::vector<std::string> buffers;
    size_t chunk;
    const std::function<void(int, std::string&&)>& sink;
    std::string key_bytes;
    CombineTable<Key, Value> combined;
    J* job = nullptr;
  };

  J job_;
  std::map<int, typename J::Static> static_;
};

// The untyped driver side of an open job (src/mr/driver.cc).
class DriverJob {
 public:
  virtual ~DriverJob() = default;
  // One iteration with the encoded dynamic data; the reduce partitions' outputs in reduce
  // partition order (map-only: the map partitions' outputs in partition order).
  virtual Result<std::vector<std::string>> Iterate(std::string dynamic) = 0;
  virtual const IterationStats& last_stats() const = 0;
  virtual int workers() const = 0;
  virtual bool print_stats() const = 0;  // --stats
  virtual Status Close() = 0;
};

}  // namespace internal

// A job open on the driver. Move-only; Close (or the destructor) releases the workers' static
// data for it.
template <typename J>
class Job {
 public:
  using Key = typename J::Key;
  using Dynamic = typename internal::DynamicOf<J>::type;
  using Out = typename internal::OutOf<J>::type;
  using Output = std::vector<std::pair<Key, Out>>;

  explicit Job(std::unique_ptr<internal::DriverJob> core) : core_(std::move(core)) {}

  // One iteration: broadcast `dynamic`, map every partition, shuffle, reduce. Returns the
  // reduce outputs sorted by key (map-only jobs: every emitted pair, by partition, then in
  // emission order). Fails when every worker is gone, or when the job's own code fails
  // (Load's Status; malformed bytes).
  Result<Output> Iterate(const Dynamic& dynamic = {}) {
    std::string bytes;
    if constexpr (!std::is_same_v<Dynamic, NoData>) bytes = Encode(dynamic);
    auto parts = core_->Iterate(std::move(bytes));
    if (!parts.ok()) return parts.status();
    auto start = std::chrono::steady_clock::now();
    Output out;
    for (const std::string& p : *parts) {
      Reader r(p);
      while (!r.empty()) {
        Key k{};
        Out v{};
        if (!r.Get(k) || !r.Get(v)) return InvalidArgument("malformed reduce output");
        out.emplace_back(std::move(k), std::move(v));
      }
    }
    if constexpr (!internal::JobAdapter<J>::kMapOnly) {
      // Each reduce partition is sorted; keys are disjoint across partitions.
      std::stable_sort(out.begin(), out.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
    }
    merge_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (core_->print_stats()) PrintStats(last_stats());
    return out;
  }
  // The last iteration's phases (combine includes decoding and merging here).
  IterationStats last_stats() const {
    IterationStats s = core_->last_stats();
    s.combine_s += merge_s_;
    s.total_s += merge_s_;
    return s;
  }
  int workers() const { return core_->workers(); }
  Status Close() { return core_->Close(); }

 private:
  std::unique_ptr<internal::DriverJob> core_;
  double merge_s_ = 0;
};

class Runtime {
 public:
  // Reads the launch (see the top of this file) and removes the flags it consumed from
  // argc/argv. On --local N the driver starts its workers here. A malformed flag or
  // environment prints an error and exits with status 2 (as a command-line parser would).
  Runtime(int& argc, char** argv);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Every process registers the same jobs under the same names, before Serve or Open.
  // `make` builds a job object on each worker (it may capture the program's parsed flags).
  template <typename J>
  void Register(const std::string& name, std::function<J()> make = [] { return J{}; }) {
    RegisterErased(name, [make] { return std::make_unique<internal::JobAdapter<J>>(make()); });
  }

  bool is_worker() const;
  // Workers: serve the driver until it ends the job. Returns the process's exit code.
  int Serve();

  // Driver: opens job `name` over one partition per spec (each worker's Load gets its specs),
  // once the expected workers have connected. The static data is loaded before it returns.
  template <typename J>
  Result<Job<J>> Open(const std::string& name, std::vector<std::string> partitions,
                      JobOptions options = {}) {
    auto core = OpenErased(name, std::move(partitions), options);
    if (!core.ok()) return core.status();
    return Job<J>(std::move(core).value());
  }

  // --local mode: starts `n` more worker processes; they join at the next iteration.
  Status AddLocalWorkers(int n);
  // Driver: waits until at least `n` workers are connected and ready (e.g. after the nodes an
  // autoscaler added started workers with SWELL_MR_JOIN). DeadlineExceeded past `timeout`.
  Status WaitForWorkers(int n, std::chrono::milliseconds timeout);
  // --local mode: the workers' process ids (for tests that kill one).
  std::vector<int> local_worker_pids() const;
  // Whether --stats was given.
  bool stats() const;
  // Whether --mr-mode=hadoop was given (e.g. to read text input, as Hadoop would).
  bool hadoop() const;
  // "local", "launcher" or "single" (how this process was started) and, on the driver, the
  // number of workers it expects at Open.
  std::string launch() const;
  int expected_workers() const;

  // Internal.
  void RegisterErased(const std::string& name, internal::JobFactory make);
  Result<std::unique_ptr<internal::DriverJob>> OpenErased(const std::string& name,
                                                          std::vector<std::string> partitions,
                                                          const JobOptions& options);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace swell::mr
