#include "mr/hadoop.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/files.h"
#include "common/process.h"
#include "common/log.h"


namespace swell::mr {

namespace {

using Steady = std::chrono::steady_clock;
double Since(Steady::time_point t) {
  return std::chrono::duration<double>(Steady::now() - t).count();
}

constexpr int kMaxAttempts = 4;  // Hadoop's mapreduce.{map,reduce}.maxattempts

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string MapFile(const std::string& dir, int p, int r) {
  return dir + "/map-" + std::to_string(p) + "-" + std::to_string(r);
}
std::string ReduceFile(const std::string& dir, int r) {
  return dir + "/reduce-" + std::to_string(r);
}

Result<std::string> Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Two numbers a task reports about itself ("load_s map_s" or "read_s reduce_s").
std::pair<double, double> ReadTimes(const std::string& path) {
  std::ifstream in(path);
  double a = 0, b = 0;
  in >> a >> b;
  return {a, b};
}

class HadoopJob final : public internal::DriverJob {
 public:
  HadoopJob(std::string name, std::vector<std::string> specs, int reducers, bool map_only,
            std::string program, std::vector<std::string> args, int slots, bool print_stats,
            std::string base)
      : name_(std::move(name)), specs_(std::move(specs)), reducers_(reducers),
        map_only_(map_only), program_(std::move(program)), args_(std::move(args)),
        slots_(slots), print_stats_(print_stats), base_(std::move(base)) {}
  ~HadoopJob() override { (void)Close(); }

  Result<std::vector<std::string>> Iterate(std::string dynamic) override {
    auto start = Steady::now();
    stats_ = {};
    stats_.iteration = ++iter_;
    stats_.workers = slots_;
    std::string dir = base_ + "/iter-" + std::to_string(iter_);
    SWELL_RETURN_IF_ERROR(MakeDirs(dir, 0700));
    auto bstart = Steady::now();
    SWELL_RETURN_IF_ERROR(WriteFileAtomic(dir + "/dynamic", dynamic, 0600));
    stats_.broadcast_s = Since(bstart);
    int reducers = map_only_ ? 1 : reducers_;
    // Map phase: one fresh process per partition.
    std::vector<std::vector<std::string>> tasks;
    for (size_t p = 0; p < specs_.size(); ++p)
      tasks.push_back({"SWELL_MR_TASK=map", "SWELL_MR_PART=" + std::to_string(p),
                       "SWELL_MR_SPEC=" + specs_[p],
                       "SWELL_MR_REDUCERS=" + std::to_string(reducers),
                       "SWELL_MR_MAP_ONLY=" + std::string(map_only_ ? "1" : "0")});
    auto mstart = Steady::now();
    SWELL_RETURN_IF_ERROR(RunTasks(dir, tasks, "map"));
    double map_wall = Since(mstart);
    for (size_t p = 0; p < specs_.size(); ++p) {
      auto [load, map] = ReadTimes(dir + "/map-" + std::to_string(p) + ".time");
      stats_.load_s = std::max(stats_.load_s, load);
      stats_.map_s = std::max(stats_.map_s, map);
    }
    // What the map phase took beyond loading and mapping (launching processes, spilling) is
    // shown as map time: the paper's point is that it is paid every iteration.
    stats_.map_s = std::max(stats_.map_s, map_wall - stats_.load_s);
    std::vector<std::string> out;
    if (map_only_) {
      for (size_t p = 0; p < specs_.size(); ++p) {
        SWELL_ASSIGN_OR_RETURN(std::string o, Slurp(MapFile(dir, static_cast<int>(p), 0)));
        stats_.shuffle_bytes += static_cast<int64_t>(o.size());
        out.push_back(std::move(o));
      }
    } else {
      tasks.clear();
      for (int r = 0; r < reducers; ++r)
        tasks.push_back({"SWELL_MR_TASK=reduce", "SWELL_MR_PART=" + std::to_string(r),
                         "SWELL_MR_PARTITIONS=" + std::to_string(specs_.size())});
      auto rstart = Steady::now();
      SWELL_RETURN_IF_ERROR(RunTasks(dir, tasks, "reduce"));
      double reduce_wall = Since(rstart);
      for (int r = 0; r < reducers; ++r) {
        auto [read, reduce] = ReadTimes(ReduceFile(dir, r) + ".time");
        stats_.shuffle_s = std::max(stats_.shuffle_s, read);
        stats_.reduce_s = std::max(stats_.reduce_s, reduce);
      }
      stats_.reduce_s = std::max(stats_.reduce_s, reduce_wall - stats_.shuffle_s);
      auto cstart = Steady::now();
      for (int r = 0; r < reducers; ++r) {
        SWELL_ASSIGN_OR_RETURN(std::string o, Slurp(ReduceFile(dir, r)));
        out.push_back(std::move(o));
      }
      for (size_t p = 0; p < specs_.size(); ++p)
        for (int r = 0; r < reducers; ++r) {
          std::error_code ec;
          stats_.shuffle_bytes +=
              static_cast<int64_t>(std::filesystem::file_size(MapFile(dir, p, r), ec));
        }
      stats_.combine_s = Since(cstart);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);  // Hadoop drops a job's intermediate output too
    stats_.total_s = Since(start);
    return out;
  }

  const IterationStats& last_stats() const override { return stats_; }
  int workers() const override { return slots_; }
  bool print_stats() const override { return print_stats_; }
  Status Close() override {
    if (!base_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(base_, ec);
      base_.clear();
    }
    return Status::Ok();
  }

 private:
  // Runs every task as its own process, `slots_` at a time; a failed task is retried up to
  // kMaxAttempts times.
  Status RunTasks(const std::string& dir, const std::vector<std::vector<std::string>>& tasks,
                  const char* kind) {
    std::vector<int> attempts(tasks.size(), 0);
    std::vector<size_t> todo;
    for (size_t i = 0; i < tasks.size(); ++i) todo.push_back(i);
    std::map<pid_t, size_t> running;
    size_t next = 0;
    while (next < todo.size() || !running.empty()) {
      auto stop_all = [&] {
        for (auto& [p, i] : running) kill(p, SIGKILL);
        for (auto& [p, i] : running) waitpid(p, nullptr, 0);
        running.clear();
      };
      while (next < todo.size() && static_cast<int>(running.size()) < slots_) {
        size_t t = todo[next++];
        ++attempts[t];
        auto pid = Launch(dir, tasks[t]);
        if (!pid.ok()) {
          stop_all();
          return pid.status();
        }
        running[*pid] = t;
      }
      // Only our own tasks: the program may have children of its own.
      int status = 0;
      pid_t pid = 0;
      while (pid == 0) {
        for (auto& [p, i] : running) {
          pid_t w = waitpid(p, &status, WNOHANG);
          if (w == p) {
            pid = p;
            break;
          }
        }
        if (pid == 0) usleep(1000);
      }
      auto it = running.find(pid);
      size_t t = it->second;
      running.erase(it);
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) continue;
      if (attempts[t] >= kMaxAttempts) {
        stop_all();
        return Internal("mr job '" + name_ + "': " + kind + " task " + std::to_string(t) +
                        " failed " + std::to_string(kMaxAttempts) + " times");
      }
      LogWarning("mr hadoop: %s task %zu failed (attempt %d); retrying", kind, t, attempts[t]);
      todo.push_back(t);
    }
    return Status::Ok();
  }

  Result<pid_t> Launch(const std::string& dir, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {program_};
    args.insert(args.end(), args_.begin(), args_.end());
    std::vector<std::string> env = EnvironmentWithout("SWELL_MR_");
    env.push_back("SWELL_MR_JOB=" + name_);
    env.push_back("SWELL_MR_DIR=" + dir);
    env.insert(env.end(), extra.begin(), extra.end());
    return SpawnChild("/proc/self/exe", args, env);
  }

  std::string name_;
  std::vector<std::string> specs_;
  int reducers_;
  bool map_only_;
  std::string program_;
  std::vector<std::string> args_;
  int slots_;
  bool print_stats_;
  std::string base_;
  int64_t iter_ = 0;
  IterationStats stats_;
};

int Fail(const std::string& what) {
  std::fprintf(stderr, "mr hadoop task: %s\n", what.c_str());
  return 1;
}

}  // namespace

Result<std::unique_ptr<internal::DriverJob>> OpenHadoop(
    const std::string& name, const internal::JobFactory&, std::vector<std::string> partitions,
    const JobOptions& options, bool map_only, const std::string& program,
    const std::vector<std::string>& args, int slots, bool print_stats) {
  if (partitions.empty()) return InvalidArgument("mr job '" + name + "' has no partitions");
  std::string tmpl = (Env("TMPDIR").empty() ? "/tmp" : Env("TMPDIR")) + "/swell-mr-hadoop.XXXXXX";
  if (!mkdtemp(tmpl.data())) return Internal("mkdtemp: " + std::string(std::strerror(errno)));
  int reducers = options.reducers > 0 ? options.reducers : slots;
  return std::unique_ptr<internal::DriverJob>(
      std::make_unique<HadoopJob>(name, std::move(partitions), reducers, map_only, program, args,
                                  slots, print_stats, tmpl));
}

bool IsHadoopTask() { return !Env("SWELL_MR_TASK").empty(); }

int RunHadoopTask(const Registry& jobs) {
  auto it = jobs.find(Env("SWELL_MR_JOB"));
  if (it == jobs.end()) return Fail("no job named '" + Env("SWELL_MR_JOB") + "' is registered");
  auto job = it->second();
  std::string dir = Env("SWELL_MR_DIR");
  int part = std::atoi(Env("SWELL_MR_PART").c_str());
  if (Env("SWELL_MR_TASK") == "map") {
    int reducers = std::max(1, std::atoi(Env("SWELL_MR_REDUCERS").c_str()));
    bool map_only = Env("SWELL_MR_MAP_ONLY") == "1";
    auto start = Steady::now();
    Status st = job->Load(part, Env("SWELL_MR_SPEC"));
    if (!st.ok()) return Fail("load: " + st.ToString());
    double load = Since(start);
    auto dynamic = Slurp(dir + "/dynamic");
    if (!dynamic.ok()) return Fail(dynamic.status().ToString());
    start = Steady::now();
    std::vector<std::string> out(static_cast<size_t>(reducers));
    st = job->Map(part, *dynamic, reducers, SIZE_MAX,
                  [&](int r, std::string&& piece) { out[r] += piece; });
    if (!st.ok()) return Fail("map: " + st.ToString());
    for (int r = 0; r < reducers; ++r) {
      // The spill: sorted by key, as Hadoop's map output is.
      if (!map_only) st = job->SortRecords(out[r]);
      if (st.ok()) st = WriteFileAtomic(MapFile(dir, part, r), out[r], 0600);
      if (!st.ok()) return Fail("spill: " + st.ToString());
    }
    double map = Since(start);
    st = WriteFileAtomic(dir + "/map-" + std::to_string(part) + ".time",
                         std::to_string(load) + " " + std::to_string(map) + "\n", 0600);
    return st.ok() ? 0 : Fail(st.ToString());
  }
  if (Env("SWELL_MR_TASK") == "reduce") {
    int partitions = std::atoi(Env("SWELL_MR_PARTITIONS").c_str());
    auto start = Steady::now();
    std::vector<std::string> inputs;
    for (int p = 0; p < partitions; ++p) {
      auto in = Slurp(MapFile(dir, p, part));
      if (!in.ok()) return Fail(in.status().ToString());
      inputs.push_back(std::move(in).value());
    }
    double read = Since(start);
    start = Steady::now();
    std::vector<std::string_view> views(inputs.begin(), inputs.end());
    std::string out;
    Status st = job->Reduce(views, out);
    if (st.ok()) st = WriteFileAtomic(ReduceFile(dir, part), out, 0600);
    if (!st.ok()) return Fail("reduce: " + st.ToString());
    double reduce = Since(start);
    st = WriteFileAtomic(ReduceFile(dir, part) + ".time",
                         std::to_string(read) + " " + std::to_string(reduce) + "\n", 0600);
    return st.ok() ? 0 : Fail(st.ToString());
  }
  return Fail("SWELL_MR_TASK must be map or reduce");
}

}  // namespace swell::mr
