// swell mr mapfiles: run an external program once per input file on N workers (the CAP3
// pattern of the CGL-MapReduce paper; Hadoop Streaming's map-only jobs). A map-only job of
// libswell_mr whose workers are this very binary.

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "cli/cli.h"
#include "cli/daemon_cmds.h"
#include "common/files.h"
#include "common/process.h"
#include "swell/mr/mr.h"

namespace swell {

namespace cli {
namespace {

struct FileResult {
  int32_t exit_code = 0;  // of the last attempt
  int32_t attempts = 0;
  double seconds = 0;     // all attempts
  std::string error;      // the last failed attempt's stderr tail
};

}  // namespace
}  // namespace cli

template <>
struct mr::Serde<cli::FileResult>
    : mr::SerdeMembers<&cli::FileResult::exit_code, &cli::FileResult::attempts,
                       &cli::FileResult::seconds, &cli::FileResult::error> {};

namespace cli {
namespace {

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// {in}, {out} and {name} replaced by the quoted input path, output path and file name.
std::string Expand(const std::string& cmd, const std::string& in, const std::string& out,
                   const std::string& name) {
  std::string r;
  for (size_t i = 0; i < cmd.size();) {
    auto at = [&](const char* key) { return cmd.compare(i, std::strlen(key), key) == 0; };
    if (at("{in}")) {
      r += ShellQuote(in);
      i += 4;
    } else if (at("{out}")) {
      r += ShellQuote(out);
      i += 5;
    } else if (at("{name}")) {
      r += ShellQuote(name);
      i += 6;
    } else {
      r += cmd[i++];
    }
  }
  return r;
}

struct Settings {
  std::string cmd, in, out;
  int workers = 0;
  int retries = 2;
  int timeout_s = 0;
  bool json = false;
};

// One map task per file: run the command, retried up to `retries` more times.
struct MapFiles {
  using Static = std::string;  // the input file
  using Key = std::string;     // its name
  using Value = FileResult;

  Settings s;

  Status Load(const std::string& path, Static& out) {
    if (!std::filesystem::is_regular_file(path)) return NotFound(path + " is not a file");
    out = path;
    return Status::Ok();
  }

  void Map(const Static& path, const mr::NoData&, mr::Emitter<Key, Value>& emit) {
    std::string name = std::filesystem::path(path).filename();
    std::string cmd = Expand(s.cmd, path, s.out + "/" + name, name);
    FileResult r;
    RunOptions o;
    if (s.timeout_s > 0) o.timeout = std::chrono::seconds(s.timeout_s);
    auto start = std::chrono::steady_clock::now();
    for (r.attempts = 1;; ++r.attempts) {
      auto res = RunCommand({"/bin/sh", "-c", cmd}, o);
      if (res.ok() && res->exit_code == 0) {
        r.exit_code = 0;
        r.error.clear();
        break;
      }
      r.exit_code = res.ok() ? res->exit_code : 124;
      r.error = res.ok() ? TailLines(res->err, 5, 500) : res.status().ToString();
      if (r.attempts > s.retries) break;
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    emit.Emit(name, r);
  }
};

}  // namespace

int Mr(int argc, char** argv) {
  // argv: swell mr mapfiles [flags]. The runtime reads --local N: -n N becomes that, and the
  // workers it starts run this same command line.
  std::vector<std::string> args(argv, argv + argc);
  if (args.size() < 3 || args[2] != "mapfiles") {
    std::fprintf(stderr,
                 "usage: swell mr mapfiles --cmd 'TOOL {in} > {out}' --in DIR --out DIR [-n N]\n");
    return 2;
  }
  Settings s;
  s.workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  CLI::App app{"swell mr mapfiles: run a command once per file of a directory, on N workers"};
  app.add_option("--cmd", s.cmd,
                 "shell command per file: {in} the input path, {out} the output path "
                 "(--out/<name>), {name} the file name (all quoted for the shell)")
      ->required();
  app.add_option("--in", s.in, "directory of input files (one task per regular file)")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("--out", s.out, "directory for the outputs (created)")->required();
  app.add_option("-n,--workers", s.workers, "worker processes")->check(CLI::Range(1, 1024));
  app.add_option("--retries", s.retries, "times a failed command is run again")
      ->check(CLI::Range(0, 100));
  app.add_option("--timeout", s.timeout_s, "seconds a command may run (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--json", s.json, "print one JSON line with the outcome last");
  // Workers have SWELL_MR_DRIVER set and no -n: parse what they have.
  std::vector<std::string> flags(args.begin() + 3, args.end());
  if (auto done = ParseFlags(app, flags, "mr mapfiles")) return *done;
  if (s.cmd.find("{in}") == std::string::npos)
    return Fail("mr mapfiles", "--cmd must use {in} (the input file)", 2);

  std::vector<std::string> rt_args = {args[0], "mr", "mapfiles"};
  rt_args.insert(rt_args.end(), flags.begin(), flags.end());
  if (std::getenv("SWELL_MR_DRIVER") == nullptr) {
    rt_args.push_back("--local");
    rt_args.push_back(std::to_string(s.workers));
  }
  std::vector<char*> rt_argv;
  for (auto& a : rt_args) rt_argv.push_back(a.data());
  rt_argv.push_back(nullptr);
  int rt_argc = static_cast<int>(rt_args.size());
  mr::Runtime rt(rt_argc, rt_argv.data());
  rt.Register<MapFiles>("mapfiles", [&] { return MapFiles{s}; });
  if (rt.is_worker()) return rt.Serve();

  std::error_code ec;
  std::filesystem::create_directories(s.out, ec);
  if (ec) return Fail("mr mapfiles", "cannot create " + s.out + ": " + ec.message());
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(s.in, ec))
    if (e.is_regular_file()) files.push_back(e.path().string());
  if (ec) return Fail("mr mapfiles", "cannot list " + s.in + ": " + ec.message());
  std::sort(files.begin(), files.end());
  if (files.empty()) return Fail("mr mapfiles", s.in + " holds no files", 2);
  auto start = std::chrono::steady_clock::now();
  auto job = rt.Open<MapFiles>("mapfiles", files);
  if (!job.ok()) return Fail("mr mapfiles", job.status());
  auto out = job->Iterate();
  if (!out.ok()) return Fail("mr mapfiles", out.status());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int failed = 0, retried = 0;
  for (const auto& [name, r] : *out) {
    if (r.attempts > 1) ++retried;
    if (r.exit_code == 0) continue;
    ++failed;
    std::fprintf(stderr, "swell mr mapfiles: %s failed (exit %d after %d attempts)%s%s\n",
                 name.c_str(), r.exit_code, r.attempts, r.error.empty() ? "" : ": ",
                 r.error.c_str());
  }
  std::printf("mapfiles: %zu files, %zu ok, %d failed, %d retried, %d workers, %.3f s\n",
              out->size(), out->size() - failed, failed, retried, job->workers(), secs);
  if (s.json)
    std::printf("{\"files\": %zu, \"failed\": %d, \"retried\": %d, \"workers\": %d, "
                "\"seconds\": %.6f}\n",
                out->size(), failed, retried, job->workers(), secs);
  return failed ? 1 : 0;
}

}  // namespace cli
}  // namespace swell
