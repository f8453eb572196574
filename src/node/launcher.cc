#include "node/launcher.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace swell::node {
namespace {

constexpr size_t kStackSize = 256 * 1024;

// ThreadSanitizer cannot follow a child that shares the parent's memory (its instrumented code
// would write the parent's shadow state), so TSan builds fork instead and report a failure
// before exec through a pipe.
#if defined(__SANITIZE_THREAD__)
constexpr bool kFork = true;
#else
constexpr bool kFork = false;
#endif

// Everything the child needs, prepared by the parent: the child only reads this and writes
// `err` and `stage` (shared memory, CLONE_VM).
struct ChildArgs {
  const char* path;
  char* const* argv;
  char* const* envp;
  const char* cwd;
  const char* in;
  const char* out;
  int out_mode;  // O_TRUNC or O_APPEND
  const char* err_path;  // nullptr: same as out
  int out_fd;            // >= 0: use instead of opening `out`
  int err_fd;            // >= 0: use instead of opening `err_path`
  int inherit_fd;        // >= 0: left open across exec
  bool switch_user;
  uid_t uid;
  gid_t gid;
  const gid_t* groups;
  size_t ngroups;
  int64_t rlimit_as;
  int64_t rlimit_cpu;
  int cgroup_fd;
  char* pid_value;  // when set: the child writes its pid here (an envp entry's value, zeroed)
  int report_fd;  // fork mode: where the child writes {errno, stage index} before exiting
  volatile int err;
  const char* volatile stage;
};

const char* const kStages[] = {"setpgid",
                               "enter cgroup",
                               "setrlimit(RLIMIT_AS)",
                               "setrlimit(RLIMIT_CPU)",
                               "setgroups",
                               "setgid",
                               "setuid",
                               "chdir to the working directory",
                               "open input",
                               "open output file",
                               "open error file",
                               "dup2",
                               "keep PMI_FD",
                               "exec"};

int Fail(ChildArgs* a, const char* stage) {
  a->err = errno ? errno : EINVAL;
  a->stage = stage;
  if (a->report_fd >= 0) {
    int msg[2] = {a->err, 0};
    for (size_t i = 0; i < sizeof kStages / sizeof kStages[0]; ++i)
      if (kStages[i] == stage || std::strcmp(kStages[i], stage) == 0) msg[1] = static_cast<int>(i);
    (void)!write(a->report_fd, msg, sizeof msg);
  }
  _exit(127);
}

// Writes `pid` in decimal to `out` (no terminator); returns its length. Async-signal-safe.
int FormatPid(char* out, long pid) {
  char rev[24];
  int n = 0;
  do rev[n++] = static_cast<char>('0' + pid % 10), pid /= 10;
  while (pid > 0);
  for (int i = 0; i < n; ++i) out[i] = rev[n - 1 - i];
  return n;
}

// Runs in the child on its own stack, sharing the parent's memory until execve. Only system
// calls; see launcher.h.
int ChildMain(void* arg) {
  auto* a = static_cast<ChildArgs*>(arg);
  // Signal dispositions: ignored signals survive exec, so restore the defaults the job
  // expects (SIGPIPE above all).
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    syscall(SYS_rt_sigaction, sig, &dfl, nullptr, _NSIG / 8);
  }
  if (setpgid(0, 0) != 0) return Fail(a, "setpgid");
  char pid_text[24];
  int pid_len = FormatPid(pid_text, syscall(SYS_getpid));
  if (a->cgroup_fd >= 0 && write(a->cgroup_fd, pid_text, static_cast<size_t>(pid_len)) != pid_len)
    return Fail(a, "enter cgroup");
  if (a->pid_value != nullptr) std::memcpy(a->pid_value, pid_text, static_cast<size_t>(pid_len));
  if (a->rlimit_as > 0) {
    struct rlimit rl = {static_cast<rlim_t>(a->rlimit_as), static_cast<rlim_t>(a->rlimit_as)};
    if (setrlimit(RLIMIT_AS, &rl) != 0) return Fail(a, "setrlimit(RLIMIT_AS)");
  }
  if (a->rlimit_cpu > 0) {
    struct rlimit rl = {static_cast<rlim_t>(a->rlimit_cpu), static_cast<rlim_t>(a->rlimit_cpu)};
    if (setrlimit(RLIMIT_CPU, &rl) != 0) return Fail(a, "setrlimit(RLIMIT_CPU)");
  }
  if (a->switch_user) {
    // Raw system calls: glibc's setuid would try to signal the parent's threads.
    if (syscall(SYS_setgroups, a->ngroups, a->groups) != 0) return Fail(a, "setgroups");
    if (syscall(SYS_setresgid, a->gid, a->gid, a->gid) != 0) return Fail(a, "setgid");
    if (syscall(SYS_setresuid, a->uid, a->uid, a->uid) != 0) return Fail(a, "setuid");
  }
  if (chdir(a->cwd) != 0) return Fail(a, "chdir to the working directory");
  // O_NONBLOCK: a FIFO named as input or output must not freeze the node (the parent waits
  // for this child); opening a FIFO nobody reads fails with ENXIO instead. Cleared below.
  int in = open(a->in, O_RDONLY | O_NONBLOCK);
  if (in < 0) return Fail(a, "open input");
  int out = a->out_fd >= 0 ? a->out_fd
                           : open(a->out, O_WRONLY | O_CREAT | a->out_mode | O_NONBLOCK, 0644);
  if (out < 0) return Fail(a, "open output file");
  int err = out;
  if (a->err_fd >= 0) {
    err = a->err_fd;
  } else if (a->err_path != nullptr) {
    err = open(a->err_path, O_WRONLY | O_CREAT | a->out_mode | O_NONBLOCK, 0644);
    if (err < 0) return Fail(a, "open error file");
  }
  // Back to blocking; the other status flags (O_APPEND) stay.
  fcntl(in, F_SETFL, fcntl(in, F_GETFL) & ~O_NONBLOCK);
  fcntl(out, F_SETFL, fcntl(out, F_GETFL) & ~O_NONBLOCK);
  if (err != out) fcntl(err, F_SETFL, fcntl(err, F_GETFL) & ~O_NONBLOCK);
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) return Fail(a, "dup2");
  if (in > 2) close(in);
  if (out > 2 && a->out_fd < 0) close(out);
  if (err > 2 && err != out && a->err_fd < 0) close(err);
  if (a->inherit_fd > 2 && fcntl(a->inherit_fd, F_SETFD, 0) != 0) return Fail(a, "keep PMI_FD");
  sigset_t none;
  sigemptyset(&none);
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, _NSIG / 8);
  execve(a->path, a->argv, a->envp);
  return Fail(a, "exec");
}

std::vector<char*> CStrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

Launcher::Launcher() {
  stack_size_ = kStackSize;
  stack_ = mmap(nullptr, stack_size_, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack_ == MAP_FAILED) stack_ = nullptr;
}

Launcher::~Launcher() {
  if (stack_ != nullptr) munmap(stack_, stack_size_);
}

Result<pid_t> Launcher::Spawn(const SpawnRequest& req) {
  if (stack_ == nullptr) return Internal("launcher has no stack");
  if (req.argv.empty()) return InvalidArgument("empty argv");
  std::vector<char*> argv = CStrings(req.argv);
  std::vector<char*> envp = CStrings(req.env);
  // NAME=<pid>: room for the digits, zeroed, filled in by the child.
  std::string pid_entry;
  if (!req.pid_env.empty()) {
    pid_entry = req.pid_env + "=" + std::string(24, '\0');
    envp.insert(envp.end() - 1, pid_entry.data());
  }
  ChildArgs a{};
  a.pid_value = req.pid_env.empty() ? nullptr : pid_entry.data() + req.pid_env.size() + 1;
  a.path = req.path.c_str();
  a.argv = argv.data();
  a.envp = envp.data();
  a.cwd = req.cwd.c_str();
  a.in = req.stdin_path.c_str();
  a.out = req.stdout_path.c_str();
  a.out_mode = req.append_output ? O_APPEND : O_TRUNC;
  a.err_path = req.stderr_path.empty() ? nullptr : req.stderr_path.c_str();
  a.out_fd = req.stdout_fd;
  a.err_fd = req.stderr_fd;
  a.inherit_fd = req.inherit_fd;
  a.switch_user = req.user.has_value();
  if (req.user) {
    a.uid = req.user->uid;
    a.gid = req.user->gid;
    a.groups = req.user->groups.data();
    a.ngroups = req.user->groups.size();
  }
  a.rlimit_as = req.rlimit_as_bytes;
  a.rlimit_cpu = req.rlimit_cpu_seconds;
  a.cgroup_fd = req.cgroup_procs_fd;
  a.err = 0;
  a.stage = nullptr;

  // Block every signal so that no handler of ours runs on the child's side of shared memory;
  // the child restores an empty mask just before exec.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  a.report_fd = -1;
  int report[2] = {-1, -1};
  pid_t pid;
  if (kFork) {
    if (pipe2(report, O_CLOEXEC) != 0) {
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      return Unavailable(std::string("pipe: ") + strerror(errno));
    }
    a.report_fd = report[1];
    pid = fork();
    if (pid == 0) ChildMain(&a);
  } else {
    char* top = static_cast<char*>(stack_) + stack_size_;
    pid = clone(ChildMain, top, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
  }
  int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (kFork) {
    close(report[1]);
    int msg[2];
    if (pid > 0 && read(report[0], msg, sizeof msg) == static_cast<ssize_t>(sizeof msg)) {
      a.err = msg[0];
      a.stage = kStages[msg[1]];
    }
    close(report[0]);
  }
  if (pid < 0) return Unavailable(std::string("clone: ") + strerror(clone_errno));
  if (a.err != 0) {
    // The child failed before exec and exited; reap it here so that nobody sees it end.
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    std::string what = a.stage ? a.stage : "start";
    std::string detail = what == "exec"                                ? req.path
                         : what.find("output") != std::string::npos    ? req.stdout_path
                         : what.find("error") != std::string::npos     ? req.stderr_path
                         : what.find("input") != std::string::npos     ? req.stdin_path
                         : what.find("directory") != std::string::npos ? req.cwd
                                                                       : "";
    return InvalidArgument(what + (detail.empty() ? "" : " " + detail) + ": " + strerror(a.err));
  }
  return pid;
}

Result<std::string> FindProgram(const std::string& name, const std::string& path_env,
                                const std::string& cwd) {
  auto executable = [](const std::string& p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(p.c_str(), X_OK) == 0;
  };
  if (name.empty()) return InvalidArgument("empty command");
  if (name.find('/') != std::string::npos) {
    std::string p = name[0] == '/' ? name : cwd + "/" + name;
    if (executable(p)) return p;
    return NotFound("command not found or not executable: " + name);
  }
  std::string path = path_env.empty() ? "/usr/local/bin:/usr/bin:/bin" : path_env;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (dir.empty()) dir = cwd;
    std::string p = dir + "/" + name;
    if (executable(p)) return p;
    start = end + 1;
  }
  return NotFound("command not found: " + name);
}

}  // namespace swell::node
