#include "common/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <thread>

#include "common/files.h"

extern char** environ;

namespace swell {

namespace {

// posix_spawn attributes for a child in its own session (so its own process group), with
// default signal dispositions and an empty mask, whatever our threads block or handle.
struct SpawnAttr {
  SpawnAttr() {
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr,
                             POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  }
  ~SpawnAttr() { posix_spawnattr_destroy(&attr); }
  posix_spawnattr_t attr;
};

std::vector<char*> CStrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  for (const auto& a : v) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

Result<pid_t> SpawnDetached(const std::vector<std::string>& args, const std::string& log) {
  if (args.empty()) return InvalidArgument("nothing to start");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  SpawnAttr attr;
  auto argv = CStrings(args);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0].c_str(), &fa, &attr.attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return Unavailable("cannot start " + args[0] + ": " + strerror(rc));
  return pid;
}

Result<pid_t> SpawnChild(const std::string& path, const std::vector<std::string>& argv,
                         const std::vector<std::string>& env) {
  auto args = CStrings(argv);
  auto envp = CStrings(env);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, path.c_str(), nullptr, nullptr, args.data(), envp.data());
  if (rc != 0) return Unavailable("cannot start " + path + ": " + strerror(rc));
  return pid;
}

std::vector<std::string> EnvironmentWithout(const std::string& prefix) {
  std::vector<std::string> out;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, prefix.c_str(), prefix.size()) != 0) out.emplace_back(*e);
  return out;
}

bool ProcessAlive(pid_t pid) {
  if (pid <= 0) return false;
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) == pid) return false;  // our child, now reaped
  return RunsUnreaped(pid);
}

bool RunsUnreaped(pid_t pid) {
  if (pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH)) return false;
  auto stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat.ok()) return false;
  auto p = stat->rfind(')');
  return !(p != std::string::npos && p + 2 < stat->size() && (*stat)[p + 2] == 'Z');
}

bool StopProcess(pid_t pid, Duration timeout) {
  if (!ProcessAlive(pid)) return true;
  kill(pid, SIGTERM);
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (!ProcessAlive(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  for (int i = 0; i < 100; ++i) {
    if (!ProcessAlive(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

namespace {

// Our environment with `extra` ("KEY=value") added, replacing variables of the same name.
std::vector<std::string> MergedEnv(const std::vector<std::string>& extra) {
  std::map<std::string, std::string> vars;
  auto add = [&](const std::string& kv) {
    auto eq = kv.find('=');
    if (eq != std::string::npos && eq > 0) vars[kv.substr(0, eq)] = kv;
  };
  for (char** e = environ; *e; ++e) add(*e);
  for (const auto& kv : extra) add(kv);
  std::vector<std::string> out;
  for (auto& [k, kv] : vars) out.push_back(std::move(kv));
  return out;
}

// Reads what is there now from a nonblocking `fd` into `buf` (keeping at most `max` bytes: the
// first ones, or the last ones when `keep_tail`). False at end of file.
bool Drain(int fd, std::string& buf, size_t max, bool keep_tail) {
  char chunk[16384];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n > 0) {
      buf.append(chunk, static_cast<size_t>(n));
      if (buf.size() > max) {
        if (keep_tail)
          buf.erase(0, buf.size() - max);
        else
          buf.resize(max);
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0;  // EAGAIN: more may come; 0: end of file
  }
}

int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

Result<CommandResult> RunCommand(const std::vector<std::string>& args, const RunOptions& o) {
  if (args.empty()) return InvalidArgument("nothing to run");
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return Unavailable(std::string("pipe: ") + strerror(errno));
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]), close(out_pipe[1]);
    return Unavailable(std::string("pipe: ") + strerror(errno));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  SpawnAttr attr;
  auto argv = CStrings(args);
  auto env_strings = MergedEnv(o.env);
  auto envp = CStrings(env_strings);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0].c_str(), &fa, &attr.attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]), close(err_pipe[0]);
    return Unavailable("cannot run " + args[0] + ": " + strerror(rc));
  }
  fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
  fcntl(err_pipe[0], F_SETFL, O_NONBLOCK);
  // A pidfd tells us the moment it exits even while a child it started keeps the pipes open;
  // without one (old kernels) we look every 20 ms.
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));

  CommandResult r;
  const size_t kErrKept = 64 * 1024;
  bool out_open = true, err_open = true;
  int status = 0;
  bool exited = false, timed_out = false;
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + o.timeout;
  auto reap = [&] {
    pid_t w;
    while ((w = waitpid(pid, &status, WNOHANG)) < 0 && errno == EINTR) {
    }
    return w == pid;
  };
  for (;;) {
    if (reap()) {
      exited = true;
      break;
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      if (timed_out) {
        kill(-pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        exited = true;
        break;
      }
      // First SIGTERM to the whole group (a script's children too), then SIGKILL.
      timed_out = true;
      kill(-pid, SIGTERM);
      deadline = now + o.kill_grace;
      continue;
    }
    pollfd fds[3];
    nfds_t n = 0;
    if (out_open) fds[n++] = {out_pipe[0], POLLIN, 0};
    if (err_open) fds[n++] = {err_pipe[0], POLLIN, 0};
    if (pidfd >= 0) fds[n++] = {pidfd, POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1;
    int wait_ms =
        static_cast<int>(pidfd >= 0 ? std::min<int64_t>(left, 60000) : std::min<int64_t>(left, 20));
    if (poll(fds, n, wait_ms) < 0 && errno != EINTR) break;
    if (out_open) out_open = Drain(out_pipe[0], r.out, o.max_output, false);
    if (err_open) err_open = Drain(err_pipe[0], r.err, kErrKept, true);
  }
  // What it wrote before it exited is all in the pipes now.
  if (out_open) Drain(out_pipe[0], r.out, o.max_output, false);
  if (err_open) Drain(err_pipe[0], r.err, kErrKept, true);
  close(out_pipe[0]);
  close(err_pipe[0]);
  if (pidfd >= 0) close(pidfd);
  if (!exited) {
    // poll failed: do not leave it running behind our back.
    kill(-pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return Internal(std::string("poll: ") + strerror(errno));
  }
  r.exit_code = ExitCode(status);
  if (timed_out) {
    char secs[32];
    snprintf(secs, sizeof secs, "%g", std::chrono::duration<double>(o.timeout).count());
    std::string msg = args[0] + " did not finish within " + secs + " s and was killed";
    std::string tail = TailLines(r.err);
    if (!tail.empty()) msg += "; its stderr ends: " + tail;
    return DeadlineExceeded(msg);
  }
  return r;
}

std::string TailLines(const std::string& text, int max_lines, size_t max_chars) {
  size_t end = text.find_last_not_of(" \t\r\n");
  if (end == std::string::npos) return "";
  std::string t = text.substr(0, end + 1);
  size_t begin = t.size();
  for (int lines = 0; lines < max_lines && begin > 0; ++lines) {
    size_t nl = begin >= 2 ? t.rfind('\n', begin - 2) : std::string::npos;
    begin = nl == std::string::npos ? 0 : nl + 1;
  }
  if (t.size() - begin > max_chars) begin = t.size() - max_chars;
  return t.substr(begin);
}

}  // namespace swell
