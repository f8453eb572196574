#pragma once

// The harness of the whole-cluster CLI tests: runs the real `swell` binary (and its Slurm
// command links) against a cluster that `swell up` starts in a private SWELL_HOME. Every test
// tears its cluster down, also when it fails, and kills the job processes it left behind.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/files.h"

#ifndef SWELL_BIN
#error "SWELL_BIN must name the swell binary"
#endif

namespace swell::testing_cli {

struct Out {
  int code = -1;
  std::string out, err;
};

// Runs argv (argv[0] resolved through PATH) with `input` on stdin; captures both streams.
inline Out Exec(const std::vector<std::string>& argv, const std::string& cwd = "") {
  int o[2], e[2];
  EXPECT_EQ(pipe2(o, O_CLOEXEC), 0);
  EXPECT_EQ(pipe2(e, O_CLOEXEC), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(o[1], 1);
    dup2(e[1], 2);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    execvp(a[0], a.data());
    _exit(127);
  }
  close(o[1]);
  close(e[1]);
  Out r;
  pollfd fds[2] = {{o[0], POLLIN, 0}, {e[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// protobuf's JSON writes 64-bit integers as strings.
inline int64_t I64(const nlohmann::json& j) {
  return j.is_string() ? std::stoll(j.get<std::string>()) : j.get<int64_t>();
}

inline std::string Read(const std::string& path) {
  auto r = ReadFile(path);
  return r.ok() ? *r : "";
}

// Whether `pid` runs (a zombie does not).
inline bool Alive(pid_t pid) {
  std::string stat = Read("/proc/" + std::to_string(pid) + "/stat");
  auto p = stat.rfind(')');
  return p != std::string::npos && p + 2 < stat.size() && stat[p + 2] != 'Z';
}

// The user name the tests run as (as squeue prints it).
inline std::string Me() {
  struct passwd* pw = getpwuid(getuid());
  return pw ? pw->pw_name : std::to_string(getuid());
}

// Starts `argv` in a process group of its own, its output in `log`; TearDown ends what is left.
inline pid_t Spawn(const std::vector<std::string>& argv, const std::string& log,
                   std::vector<pid_t>* leftovers) {
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  leftovers->push_back(pid);
  return pid;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/swell-cli-XXXXXX";
    dir_ = mkdtemp(tmpl);
    chmod(dir_.c_str(), 0777);
    home_ = dir_ + "/home";
    setenv("SWELL_HOME", home_.c_str(), 1);
    unsetenv("SWELL_HEAD");
    // swell's Slurm commands first on the PATH that jobs inherit: a script's `srun` (and
    // salloc's) must be swell's even where Slurm's own are installed in /usr/bin
    // (scripts/setup installs them for tests/slurm), as on a machine whose user put build/bin
    // on the PATH.
    std::string bin = SWELL_BIN;
    bin = bin.substr(0, bin.rfind('/'));
    const char* path = getenv("PATH");
    std::string p = path ? path : "/usr/local/bin:/usr/bin:/bin";
    if (p.rfind(bin + ":", 0) != 0) setenv("PATH", (bin + ":" + p).c_str(), 1);
    for (const char* v : {"SLURM_CONF", "SLURM_JOB_ID", "SLURM_JOBID"}) unsetenv(v);
    std::ofstream(dir_ + "/cluster.toml") << "[cluster]\nnodes = 2\ncpus_per_node = 8\n"
                                             "mem_per_node_mb = 4096\nnode_timeout_s = 2\n"
                                             "kill_wait_s = 1\n";
  }
  void TearDown() override {
    if (HasFailure()) {
      // What the daemons said, for whoever reads the failure.
      pid_t head = std::atoi(Read(home_ + "/head.pid").c_str());
      std::fprintf(stderr, "---- head pid %d is %s\n", head,
                   head > 0 && Alive(head) ? "alive" : "gone");
      std::fprintf(stderr, "---- head.log\n%s", Read(home_ + "/head.log").c_str());
      for (const char* n : {"node1", "node2"})
        std::fprintf(stderr, "---- %s log\n%s", n, Read(home_ + "/nodes/" + n + "/log").c_str());
    }
    Swell({"down"});
    for (pid_t pid : leftovers_) kill(-pid, SIGKILL), kill(pid, SIGKILL);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  Out Swell(std::vector<std::string> args, const std::string& cwd = "") {
    args.insert(args.begin(), SWELL_BIN);
    return Exec(args, cwd.empty() ? dir_ : cwd);
  }
  // Runs a Slurm command through its link next to swell.
  Out Slurm(const std::string& cmd, std::vector<std::string> args) {
    std::string bin = SWELL_BIN;
    args.insert(args.begin(), bin.substr(0, bin.rfind('/') + 1) + cmd);
    return Exec(args, dir_);
  }
  void Up() {
    auto r = Swell({"up", "--config", dir_ + "/cluster.toml"});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  // A cluster of one node whose head also listens on TCP (TLS) at a free port of 127.0.0.1;
  // sets `head` to that "host:port" (empty when it did not come up).
  void UpOverTcp(std::string* head) {
    std::ofstream(dir_ + "/cluster.toml") << "[cluster]\nnodes = 1\ntcp = \"127.0.0.1:0\"\n";
    Up();
    std::string port = Read(home_ + "/head.port");
    *head = port.empty() ? "" : "127.0.0.1:" + port.substr(0, port.find('\n'));
  }
  // A node's state as `swell nodes --json` says it ("" while it is not listed).
  std::string NodeState(const std::string& name) {
    auto j = nlohmann::json::parse(Swell({"nodes", "--json"}).out, nullptr, false);
    if (j.is_discarded()) return "";
    for (auto& n : j["nodes"])
      if (n["name"] == name) return n["state"];
    return "";
  }
  // Waits up to 30 s for node `name` to be listed and not DOWN.
  bool NodeComesUp(const std::string& name) {
    for (int i = 0; i < 1500; ++i) {
      std::string state = NodeState(name);
      if (!state.empty() && state != "DOWN") return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  // A TCP cluster (`head`), and node `name` joined to it with a token of one use (`token`) as
  // from another machine: its SWELL_HOME, dir_/far, holds nothing of the cluster's but what the
  // join gives it. Returns the node daemon's pid (output in dir_/<name>.log) once the node is
  // up, 0 if it does not come up.
  pid_t UpWithAJoinedNode(const std::string& name, std::string* head,
                          std::string* token = nullptr) {
    UpOverTcp(head);
    auto made = Swell({"token"});
    const std::string far = dir_ + "/far";
    if (head->empty() || made.code != 0 || mkdir(far.c_str(), 0700) != 0) return 0;
    const std::string text = made.out.substr(0, made.out.find('\n'));
    if (token != nullptr) *token = text;
    pid_t pid = Spawn({SWELL_BIN, "node", "--home", far, "--name", name, "--head", *head, "--cpus",
                       "1", "--token", text},
                      dir_ + "/" + name + ".log", &leftovers_);
    return NodeComesUp(name) ? pid : 0;
  }
  int64_t SubmitOk(std::vector<std::string> args) {
    args.insert(args.begin(), {"submit", "--parsable"});
    auto r = Swell(args);
    EXPECT_EQ(r.code, 0) << r.err;
    return std::atoll(r.out.c_str());
  }
  nlohmann::json InfoJson(int64_t id) {
    auto r = Swell({"info", std::to_string(id), "--json"});
    EXPECT_EQ(r.code, 0) << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  nlohmann::json Queue() {
    auto r = Swell({"queue", "--all", "--json"});
    EXPECT_EQ(r.code, 0) << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  // Polls `swell info` until pred holds (or 30 s pass).
  nlohmann::json WaitFor(int64_t id, const std::function<bool(const nlohmann::json&)>& pred) {
    nlohmann::json j;
    for (int i = 0; i < 1500; ++i) {
      j = InfoJson(id);
      if (pred(j["job"])) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return j["job"];
  }
  void Script(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }
  pid_t PidOf(const std::string& file) { return std::atoi(Read(dir_ + "/" + file).c_str()); }

  std::string dir_, home_;
  std::vector<pid_t> leftovers_;
};

}  // namespace swell::testing_cli
