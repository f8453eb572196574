#include "node/launcher.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/files.h"
#include "testing/scratch.h"

namespace swell::node {
namespace {

class LauncherTest : public ::testing::Test {
 protected:
  SpawnRequest Shell(const std::string& cmd) {
    SpawnRequest r;
    r.path = "/bin/sh";
    r.argv = {"sh", "-c", cmd};
    r.env = {"PATH=/usr/bin:/bin", "GREETING=hello"};
    r.cwd = dir_;
    r.stdout_path = dir_ + "/out";
    return r;
  }
  // The error of a spawn that must fail ("" and a test failure when it starts).
  std::string SpawnError(const SpawnRequest& req) {
    auto pid = launcher_.Spawn(req);
    if (pid.ok()) {
      ADD_FAILURE() << "the spawn succeeded";
      kill(-*pid, SIGKILL);
      WaitExit(*pid);
      return "";
    }
    return pid.status().message();
  }
  int WaitExit(pid_t pid) {
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  swell::testing::TempDir tmp_;
  const std::string dir_ = tmp_.path();
  Launcher launcher_;
};

TEST_F(LauncherTest, RunsWithEnvCwdAndSeparateStreams) {
  auto req = Shell("echo $GREETING; pwd; echo oops >&2; exit 3");
  req.stderr_path = dir_ + "/err";
  auto pid = launcher_.Spawn(req);
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  EXPECT_EQ(WaitExit(*pid), 3);
  EXPECT_EQ(*ReadFile(dir_ + "/out"), "hello\n" + dir_ + "\n");
  EXPECT_EQ(*ReadFile(dir_ + "/err"), "oops\n");
}

// SLURM_TASK_PID: the child names its own pid, which is the pid Spawn returns.
TEST_F(LauncherTest, TheChildsPidIsInItsEnvironment) {
  auto r = Shell("echo \"$SLURM_TASK_PID $$\"");
  r.pid_env = "SLURM_TASK_PID";
  auto pid = launcher_.Spawn(r);
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  EXPECT_EQ(WaitExit(*pid), 0);
  std::string want = std::to_string(*pid);
  EXPECT_EQ(*ReadFile(dir_ + "/out"), want + " " + want + "\n");
}

TEST_F(LauncherTest, StderrJoinsStdoutByDefault) {
  auto pid = launcher_.Spawn(Shell("echo a; echo b >&2"));
  ASSERT_TRUE(pid.ok());
  EXPECT_EQ(WaitExit(*pid), 0);
  EXPECT_EQ(*ReadFile(dir_ + "/out"), "a\nb\n");
}

TEST_F(LauncherTest, OwnProcessGroup) {
  auto pid = launcher_.Spawn(Shell("ps -o pgid= -p $$ | tr -d ' '"));
  ASSERT_TRUE(pid.ok());
  EXPECT_EQ(WaitExit(*pid), 0);
  EXPECT_EQ(*ReadFile(dir_ + "/out"), std::to_string(*pid) + "\n");
}

TEST_F(LauncherTest, AppliesRlimits) {
  auto req = Shell("ulimit -v; ulimit -t");
  req.rlimit_as_bytes = 512LL << 20;
  req.rlimit_cpu_seconds = 77;
  auto pid = launcher_.Spawn(req);
  ASSERT_TRUE(pid.ok());
  EXPECT_EQ(WaitExit(*pid), 0);
  EXPECT_EQ(*ReadFile(dir_ + "/out"), std::to_string(512 * 1024) + "\n77\n");
}

TEST_F(LauncherTest, SignalsAreNotIgnoredInTheChild) {
  // The test process may ignore SIGPIPE (gtest does not, gRPC does): the child must not.
  signal(SIGPIPE, SIG_IGN);
  auto pid = launcher_.Spawn(Shell("grep SigIgn /proc/self/status"));
  signal(SIGPIPE, SIG_DFL);
  ASSERT_TRUE(pid.ok());
  EXPECT_EQ(WaitExit(*pid), 0);
  EXPECT_EQ(*ReadFile(dir_ + "/out"), "SigIgn:\t0000000000000000\n");
}

TEST_F(LauncherTest, MissingProgramIsAnError) {
  auto req = Shell("true");
  req.path = dir_ + "/no-such-program";
  std::string error = SpawnError(req);
  EXPECT_NE(error.find("exec"), std::string::npos) << error;
  EXPECT_NE(error.find("no-such-program"), std::string::npos) << error;
}

TEST_F(LauncherTest, UnwritableOutputIsAnError) {
  auto req = Shell("true");
  req.stdout_path = dir_ + "/missing-dir/out";
  EXPECT_NE(SpawnError(req).find("open output file"), std::string::npos);
}

TEST_F(LauncherTest, AFifoWithoutReaderIsAnErrorNotAHang) {
  auto req = Shell("echo never");
  req.stdout_path = dir_ + "/fifo";
  ASSERT_EQ(mkfifo(req.stdout_path.c_str(), 0600), 0);
  EXPECT_NE(SpawnError(req).find("open output file"), std::string::npos);
}

TEST_F(LauncherTest, OutputIsBlockingForTheJob) {
  // The launcher opens with O_NONBLOCK and must clear it: a job writing a lot to a pipe-like
  // file would otherwise see EAGAIN.
  auto pid = launcher_.Spawn(Shell("cat /proc/self/fdinfo/1 | grep flags"));
  ASSERT_TRUE(pid.ok());
  EXPECT_EQ(WaitExit(*pid), 0);
  std::string flags = *ReadFile(dir_ + "/out");
  unsigned long value = std::strtoul(flags.substr(flags.find(':') + 1).c_str(), nullptr, 8);
  EXPECT_EQ(value & O_NONBLOCK, 0u) << flags;
}

TEST_F(LauncherTest, BadWorkingDirectoryIsAnError) {
  auto req = Shell("true");
  req.cwd = dir_ + "/nowhere";
  EXPECT_NE(SpawnError(req).find("chdir"), std::string::npos);
}

TEST(FindProgramTest, SearchesPath) {
  auto p = FindProgram("sh", "/nonexistent:/bin", "/");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, "/bin/sh");
  EXPECT_FALSE(FindProgram("surely-not-a-command-xyz", "/bin:/usr/bin", "/").ok());
  EXPECT_TRUE(FindProgram("/bin/sh", "", "/").ok());
}

}  // namespace
}  // namespace swell::node
