// libswell_mr end to end: mr_test_program in every launch mode must print the same results,
// with failures and membership changes too; network faults are injected into a driver and
// workers in this process (LocalCluster).

#include "swell/mr/mr.h"

#include <gtest/gtest.h>

#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/files.h"
#include "common/process.h"
#include "mr/driver.h"
#include "mr/net.h"
#include "mr/worker.h"
#include "testing/scratch.h"

namespace swell::mr {
namespace {

struct Outcome {
  int code = -1;
  std::string out, err;
};

Outcome Program(std::vector<std::string> args, std::vector<std::string> env = {}) {
  args.insert(args.begin(), MR_TEST_PROGRAM);
  RunOptions o;
  o.env = std::move(env);
  o.timeout = std::chrono::seconds(120);
  auto r = RunCommand(args, o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return {};
  return {r->exit_code, r->out, r->err};
}

// Lines that start with `prefix` (the results, without the runtime's notes).
std::string Results(const std::string& out, const std::string& drop = "workers at the end") {
  std::string keep;
  size_t pos = 0;
  while (pos < out.size()) {
    size_t nl = out.find('\n', pos);
    if (nl == std::string::npos) nl = out.size();
    std::string line = out.substr(pos, nl - pos);
    if (line.rfind(drop, 0) != 0) keep += line + "\n";
    pos = nl + 1;
  }
  return keep;
}

// A key with only operator< (no std::hash): the combiner falls back to a std::map for it.
struct Cell {
  int32_t x, y;
  auto operator<=>(const Cell&) const = default;
};
static_assert(internal::Hashable<std::string> && !internal::Hashable<Cell>);

// Counts its partitions' keys, with a combiner; partition p is parts[p].
template <typename K>
struct Tally {
  using Static = std::vector<K>;
  using Key = K;
  using Value = int64_t;
  std::vector<std::vector<K>> parts;
  Status Load(const std::string& spec, Static& out) {
    out = parts.at(std::stoul(spec));
    return Status::Ok();
  }
  void Map(const Static& keys, const NoData&, Emitter<Key, Value>& emit) {
    for (const K& k : keys) emit.Emit(k, 1);
  }
  void Combine(Value& into, const Value& v) { into += v; }
};

// Runs Tally in process, as a worker would, over `reducers` reduce partitions. Returns the
// reduce outputs in reduce partition order and, in `records`, how many records each partition's
// map sent.
template <typename K>
std::vector<std::pair<K, int64_t>> RunTally(std::vector<std::vector<K>> parts, int reducers,
                                            std::vector<int>& records) {
  internal::JobAdapter<Tally<K>> job(Tally<K>{parts});
  std::vector<std::vector<std::string>> inputs(static_cast<size_t>(reducers));
  records.assign(parts.size(), 0);
  for (size_t p = 0; p < parts.size(); ++p) {
    int id = static_cast<int>(p);
    EXPECT_TRUE(job.Load(id, std::to_string(p)).ok());
    Status st = job.Map(id, "", reducers, 1 << 20, [&](int r, std::string&& bytes) {
      for (Reader rd(bytes); !rd.empty();) {
        K k{};
        int64_t v = 0;
        if (!rd.Get(k) || !rd.Get(v)) break;
        ++records[p];
      }
      inputs[static_cast<size_t>(r)].push_back(std::move(bytes));
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  std::vector<std::pair<K, int64_t>> out;
  for (const auto& in : inputs) {
    std::string bytes;
    EXPECT_TRUE(job.Reduce({in.begin(), in.end()}, bytes).ok());
    for (Reader rd(bytes); !rd.empty();) {
      std::pair<K, int64_t> kv;
      if (!rd.Get(kv.first) || !rd.Get(kv.second)) break;
      out.push_back(kv);
    }
  }
  return out;
}

TEST(MapReduceTest, CombinerFoldsHashableAndOrderedKeysAlike) {
  std::vector<int> records;
  auto words = RunTally<std::string>({{"b", "a", "b", "c", "b"}, {"d", "a"}}, 1, records);
  EXPECT_EQ(words,
            (std::vector<std::pair<std::string, int64_t>>{{"a", 2}, {"b", 3}, {"c", 1}, {"d", 1}}));
  EXPECT_EQ(records, (std::vector<int>{3, 2}));  // combined on the map side
  auto cells = RunTally<Cell>({{{1, 2}, {0, 5}, {1, 2}}, {{0, 5}, {1, 2}}, {}}, 1, records);
  ASSERT_EQ(cells.size(), 2u);
  EXPECT_EQ(cells[0].first, (Cell{0, 5}));
  EXPECT_EQ(cells[0].second, 2);
  EXPECT_EQ(cells[1].first, (Cell{1, 2}));
  EXPECT_EQ(cells[1].second, 3);
  EXPECT_EQ(records, (std::vector<int>{2, 2, 0}));
  // Spread over reducers, every key still comes out once with its total.
  auto spread = RunTally<std::string>({{"x", "y", "z", "x"}, {"z", "w"}}, 3, records);
  std::sort(spread.begin(), spread.end());
  EXPECT_EQ(spread,
            (std::vector<std::pair<std::string, int64_t>>{{"w", 1}, {"x", 2}, {"y", 1}, {"z", 2}}));
}

TEST(MapReduceTest, SameResultsWithAnyNumberOfWorkersAndInEveryMode) {
  Outcome single = Program({"--job", "sum", "--parts", "5"});
  ASSERT_EQ(single.code, 0) << single.err;
  EXPECT_NE(single.out.find("iter 3 key 6 "), std::string::npos) << single.out;
  for (const auto& mode : std::vector<std::vector<std::string>>{
           {"--local", "1"}, {"--local", "3"}, {"--local", "2", "--mr-mode=hadoop"}}) {
    auto args = mode;
    args.insert(args.end(), {"--job", "sum", "--parts", "5"});
    Outcome r = Program(args);
    ASSERT_EQ(r.code, 0) << mode[1] << ": " << r.err;
    EXPECT_EQ(Results(r.out), Results(single.out)) << mode[1];
  }
}

TEST(MapReduceTest, RanksOfALauncherFindEachOther) {
  Outcome single = Program({"--job", "sum", "--parts", "5"});
  ASSERT_EQ(single.code, 0) << single.err;
  testing::TempDir rdv;
  // mpirun (OpenMPI): rank 0 drives and works, ranks 1 and 2 work.
  RunOptions o;
  o.env = {"OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1",
           "SWELL_MR_RENDEZVOUS=" + rdv.path()};
  o.timeout = std::chrono::seconds(120);
  auto r = RunCommand({MPIRUN, "-n", "3", "--oversubscribe", MR_TEST_PROGRAM, "--job", "sum",
                       "--parts", "5"},
                      o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->exit_code, 0) << r->err;
  EXPECT_EQ(Results(r->out), Results(single.out));
  EXPECT_NE(r->out.find("workers at the end: 3"), std::string::npos) << r->out;
  // srun's environment (Slurm): three processes started side by side. A file left by an
  // earlier launch with the same key (its rank 0 killed) names a dead port: ignored.
  ASSERT_TRUE(WriteFileAtomic(rdv.path() + "/swell-mr-slurm-4242.0", "127.0.0.1:1\n").ok());
  std::vector<std::thread> ranks;
  std::vector<Result<CommandResult>> out(3, Internal("not run"));
  for (int i = 0; i < 3; ++i)
    ranks.emplace_back([&, i] {
      RunOptions so;
      so.env = {"SLURM_PROCID=" + std::to_string(i), "SLURM_NTASKS=3", "SLURM_JOB_ID=4242",
                "SLURM_STEP_ID=0", "SLURM_NNODES=1", "SWELL_MR_RENDEZVOUS=" + rdv.path()};
      so.timeout = std::chrono::seconds(120);
      out[i] = RunCommand({MR_TEST_PROGRAM, "--job", "sum", "--parts", "5", "--wait-for", "4"},
                          so);
    });
  // A process that joins the running launch by its key (as on a node an autoscaler added).
  RunOptions jo;
  jo.env = {"SWELL_MR_JOIN=slurm-4242.0", "SWELL_MR_RENDEZVOUS=" + rdv.path()};
  jo.timeout = std::chrono::seconds(120);
  auto joined = RunCommand({MR_TEST_PROGRAM, "--job", "sum", "--parts", "5", "--wait-for", "4"},
                           jo);
  for (auto& t : ranks) t.join();
  ASSERT_TRUE(joined.ok());
  EXPECT_EQ(joined->exit_code, 0) << joined->err;
  EXPECT_NE(out[0]->out.find("workers at the end: 4"), std::string::npos) << out[0]->out;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(out[i].ok()) << i;
    EXPECT_EQ(out[i]->exit_code, 0) << i << ": " << out[i]->err;
  }
  EXPECT_EQ(Results(out[0]->out), Results(single.out));
  EXPECT_EQ(out[1]->out, "");  // workers print nothing
  // Rank 0 removed its rendezvous file.
  EXPECT_TRUE(std::filesystem::is_empty(rdv.path()));
}

TEST(MapReduceTest, ReduceSeesValuesInPartitionOrder) {
  Outcome r = Program({"--local", "3", "--job", "order", "--parts", "4"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "0: 0 10 20 30\n1: 1 11 21 31\n2: 2 12 22 32\n3: 3 13 23 33\n4: 4 14 24 34\n");
}

TEST(MapReduceTest, WordCountWithStringKeys) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.path() + "/0.txt", "the cat the\ndog\n").ok());
  ASSERT_TRUE(WriteFileAtomic(dir.path() + "/1.txt", "dog the  end").ok());
  for (const char* mode : {"--mr-mode=memory", "--mr-mode=hadoop"}) {
    Outcome r = Program({"--local", "2", mode, "--job", "words", "--parts", "2", "--files",
                     dir.path()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "cat 1\ndog 2\nend 1\nthe 3\n") << mode;
  }
}

TEST(MapReduceTest, MapOnlyKeepsPartitionOrder) {
  Outcome r = Program({"--local", "2", "--job", "maponly"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "alpha 5\nbe 2\ngamma 5\nd 1\n");
}

// "cpus pid" per partition, in partition order.
std::vector<std::pair<std::string, std::string>> CpusByPartition(const std::string& out) {
  std::vector<std::pair<std::string, std::string>> rows;
  std::istringstream in(out);
  std::string cpus, pid;
  while (in >> cpus >> pid) rows.emplace_back(cpus, pid);
  return rows;
}

TEST(MapReduceTest, LocalWorkersAreBoundOnePerCpuUnlessToldNot) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  if (CPU_COUNT(&set) < 2) GTEST_SKIP() << "this process may use one CPU: nothing to bind apart";
  Outcome bound = Program({"--local", "2", "--job", "cpus"});
  ASSERT_EQ(bound.code, 0) << bound.err;
  auto rows = CpusByPartition(bound.out);
  ASSERT_EQ(rows.size(), 2u) << bound.out;
  EXPECT_NE(rows[0].second, rows[1].second) << "one worker mapped both partitions: " << bound.out;
  EXPECT_EQ(rows[0].first.find(','), std::string::npos) << bound.out;
  EXPECT_EQ(rows[1].first.find(','), std::string::npos) << bound.out;
  EXPECT_NE(rows[0].first, rows[1].first) << bound.out;

  Outcome free = Program({"--local", "2", "--mr-bind=none", "--job", "cpus"});
  ASSERT_EQ(free.code, 0) << free.err;
  for (const auto& [cpus, pid] : CpusByPartition(free.out))
    EXPECT_NE(cpus.find(','), std::string::npos) << free.out;

  Outcome bad = Program({"--local", "2", "--mr-bind=socket", "--job", "cpus"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("--mr-bind is 'core' (the default) or 'none'"), std::string::npos)
      << bad.err;
}

TEST(MapReduceTest, LoadFailureIsAClearErrorNotAHang) {
  Outcome r = Program({"--local", "2", "--job", "badload"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("loading partition 2 (bad)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("this partition cannot load"), std::string::npos) << r.err;
  Outcome h = Program({"--local", "2", "--mr-mode=hadoop", "--job", "badload"});
  EXPECT_NE(h.code, 0);
}

TEST(MapReduceTest, AMapThatReturnsAnErrorFailsTheJob) {
  for (const char* mode : {"--mr-mode=memory", "--mr-mode=hadoop"}) {
    Outcome r = Program({"--local", "2", mode, "--job", "maperror"});
    EXPECT_EQ(r.code, 1) << mode;
    if (std::string(mode) == "--mr-mode=memory")
      EXPECT_NE(r.err.find("map of partition 1: UNAVAILABLE: the input went away under the map"),
                std::string::npos)
          << r.err;
    else
      EXPECT_NE(r.err.find("the input went away under the map"), std::string::npos) << r.err;
  }
}

TEST(MapReduceTest, BadFlagsAreRejected) {
  Outcome r = Program({"--local", "0", "--job", "sum"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--local needs a number of workers"), std::string::npos) << r.err;
  r = Program({"--mr-mode=spark"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--mr-mode is"), std::string::npos) << r.err;
}

TEST(MapReduceTest, AWorkerThatDiesMidIterationChangesNothing) {
  Outcome clean = Program({"--local", "3", "--job", "sum", "--parts", "6"});
  ASSERT_EQ(clean.code, 0) << clean.err;
  testing::TempDir dir;
  std::string marker = dir.path() + "/died";
  Outcome r = Program({"--local", "3", "--job", "sum", "--parts", "6", "--die-once", marker});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(access(marker.c_str(), F_OK), 0);  // a worker did die
  EXPECT_NE(r.err.find("2 attempts"), std::string::npos) << r.err;
  EXPECT_EQ(Results(r.out), Results(clean.out));  // bit-identical (%.17g)
  EXPECT_NE(r.out.find("workers at the end: 2"), std::string::npos) << r.out;
  auto pid = testing::PidsIn(marker);
  ASSERT_EQ(pid.size(), 1u);
  EXPECT_TRUE(testing::GoneSoon(pid[0]));
}

// Fault injection by wrapping the real dialer: the first dial through it fails, as a dial to a
// peer behind a network partition would, and every later one goes through. Copies share the
// count (thread-safe).
struct FailFirstDial {
  Result<std::unique_ptr<net::Conn>> operator()(const std::string& host, uint16_t port,
                                                Duration timeout) const {
    if (dials->fetch_add(1) == 0)
      return Unavailable("connect to " + host + ":" + std::to_string(port) + ": cut off");
    return net::Connect(host, port, timeout);
  }
  std::shared_ptr<std::atomic<int>> dials = std::make_shared<std::atomic<int>>(0);
};

// A whole job in this process: a driver on loopback and one worker thread per dialer (worker
// thread i dials its peers through dialers[i]).
class LocalCluster {
 public:
  LocalCluster(const Registry& jobs, const std::vector<net::Dialer>& dialers)
      : ended_(dialers.size()) {
    auto listener = net::Listen("127.0.0.1", 0);
    EXPECT_TRUE(listener.ok()) << listener.status().ToString();
    if (!listener.ok()) return;
    driver_ = std::make_unique<Driver>("key", std::move(listener).value(), false);
    for (size_t i = 0; i < dialers.size(); ++i) {
      WorkerOptions o{"127.0.0.1", driver_->port(), "key", "127.0.0.1", "127.0.0.1"};
      o.dial_peer = dialers[i];
      threads_.emplace_back(
          [this, &jobs, o, i] { ended_[i] = RunWorker(jobs, o) == 0 ? kStopped : kFailed; });
    }
    Status st = driver_->WaitForWorkers(static_cast<int>(dialers.size()), std::chrono::seconds(30));
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  ~LocalCluster() {
    driver_.reset();  // tells every worker to stop
    for (auto& t : threads_) t.join();
  }
  Driver* driver() { return driver_.get(); }

  // The worker threads that have ended (told to stop: RunWorker returned 0), waiting up to
  // 10 s for there to be `n`.
  std::vector<size_t> Stopped(size_t n) {
    std::vector<size_t> out;
    for (int i = 0; i < 500; ++i) {
      out.clear();
      for (size_t w = 0; w < ended_.size(); ++w)
        if (ended_[w] == kStopped) out.push_back(w);
      if (out.size() >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return out;
  }

 private:
  enum State { kRunning, kStopped, kFailed };
  std::unique_ptr<Driver> driver_;
  std::vector<std::atomic<State>> ended_;
  std::vector<std::thread> threads_;
};

struct TallyRun {
  std::vector<std::pair<std::string, int64_t>> out;  // both iterations' outputs
  std::vector<int> attempts;                          // per iteration
  int workers = 0;                                    // at the end
};
const std::vector<std::vector<std::string>> kTallyParts = {
    {"a", "b", "a"}, {"b", "c"}, {"c", "d", "e"}, {"a"}, {"e", "f", "g", "a"}, {"g", "b"}};
Registry TallyJobs() {
  return {{"tally", [] {
             return std::make_unique<internal::JobAdapter<Tally<std::string>>>(
                 Tally<std::string>{kTallyParts});
           }}};
}
// Counts the keys of kTallyParts on the workers of `cluster`, in two iterations.
TallyRun RunTallyOn(LocalCluster& cluster) {
  TallyRun r;
  std::vector<std::string> specs;
  for (size_t p = 0; p < kTallyParts.size(); ++p) specs.push_back(std::to_string(p));
  auto core = cluster.driver()->Open("tally", specs, {}, false);
  EXPECT_TRUE(core.ok()) << core.status().ToString();
  if (!core.ok()) return r;
  Job<Tally<std::string>> job(std::move(core).value());
  for (int it = 0; it < 2; ++it) {
    auto out = job.Iterate();
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    if (!out.ok()) return r;
    r.out.insert(r.out.end(), out->begin(), out->end());
    r.attempts.push_back(job.last_stats().attempts);
  }
  r.workers = job.workers();
  return r;
}

// A worker alive to the driver but unreachable to a peer (a network partition): the peer
// reports it, the driver takes it out and the survivors run the iteration again, instead of
// waiting forever for data that cannot arrive.
TEST(MapReduceTest, AWorkerItsPeersCannotReachIsTakenOut) {
  Registry jobs = TallyJobs();
  TallyRun clean;
  {
    LocalCluster cluster(jobs, {net::Connect, net::Connect, net::Connect});
    clean = RunTallyOn(cluster);
  }
  EXPECT_EQ(clean.attempts, (std::vector<int>{1, 1}));
  EXPECT_EQ(clean.workers, 3);
  // Worker thread 0 cannot reach the first peer it sends map output to.
  FailFirstDial cut;
  LocalCluster cluster(jobs, {cut, net::Connect, net::Connect});
  TallyRun r = RunTallyOn(cluster);
  EXPECT_GE(cut.dials->load(), 1);
  EXPECT_EQ(r.out, clean.out);
  EXPECT_EQ(r.attempts, (std::vector<int>{2, 1}));
  EXPECT_EQ(r.workers, 2);
  // The peer it could not reach was told to stop; the reporter was not.
  auto stopped = cluster.Stopped(1);
  ASSERT_EQ(stopped.size(), 1u);
  EXPECT_NE(stopped[0], 0u);
}

TEST(MapReduceTest, ReduceOrderHoldsAfterAFailure) {
  testing::TempDir dir;
  Outcome r = Program({"--local", "2", "--job", "order", "--parts", "4", "--die-once",
                   dir.path() + "/died"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "0: 0 10 20 30\n1: 1 11 21 31\n2: 2 12 22 32\n3: 3 13 23 33\n4: 4 14 24 34\n");
}

TEST(MapReduceTest, WorkersJoinAndLeaveBetweenIterations) {
  Outcome clean = Program({"--local", "2", "--job", "sum", "--parts", "6", "--iterations", "4"});
  ASSERT_EQ(clean.code, 0) << clean.err;
  Outcome grown = Program({"--local", "2", "--job", "sum", "--parts", "6", "--iterations", "4",
                       "--grow-after", "1"});
  ASSERT_EQ(grown.code, 0) << grown.err;
  EXPECT_EQ(Results(grown.out), Results(clean.out));
  EXPECT_NE(grown.out.find("workers at the end: 3"), std::string::npos) << grown.out;
  EXPECT_NE(grown.err.find("iteration 2: 3 workers"), std::string::npos) << grown.err;
  Outcome shrunk = Program({"--local", "3", "--job", "sum", "--parts", "6", "--iterations", "4",
                        "--shrink-after", "1"});
  ASSERT_EQ(shrunk.code, 0) << shrunk.err;
  EXPECT_EQ(Results(shrunk.out), Results(clean.out));
  EXPECT_NE(shrunk.out.find("workers at the end: 2"), std::string::npos) << shrunk.out;
}

}  // namespace
}  // namespace swell::mr
