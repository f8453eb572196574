// RunCommand: output, exit codes, the environment, and a deadline that kills the whole
// process group, so that a hung provider script never hangs the head.

#include "common/process.h"

#include <gtest/gtest.h>

#include "common/files.h"
#include "testing/scratch.h"

namespace swell {
namespace {

using namespace std::chrono_literals;

using testing::GoneSoon;
using testing::PidFile;

TEST(RunCommand, ReturnsOutputErrorAndExitCode) {
  RunOptions o;
  o.env = {"SWELL_X=from the caller"};
  auto r = RunCommand({"/bin/sh", "-c", "echo \"$SWELL_X\"; echo oops >&2; exit 7"}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 7);
  EXPECT_EQ(r->out, "from the caller\n");
  EXPECT_EQ(r->err, "oops\n");
}

TEST(RunCommand, SearchesPathAndFailsClearlyForMissingPrograms) {
  auto r = RunCommand({"true"}, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0);
  auto missing = RunCommand({"/nonexistent/swell-script"}, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/swell-script"), std::string::npos);
}

TEST(RunCommand, ReturnsWhenTheCommandExitsThoughItsChildKeepsTheOutputOpen) {
  PidFile pids;
  RunOptions o;
  o.timeout = 120s;  // would end as DeadlineExceeded if we waited for the child's end of file
  auto r =
      RunCommand({"/bin/sh", "-c", "sleep 1000 & echo $! > " + pids.path() + "; echo started"}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->out, "started\n");
}

TEST(RunCommand, KillsTheWholeProcessGroupPastTheTimeout) {
  PidFile pids;
  RunOptions o;
  o.timeout = 500ms;
  o.kill_grace = 500ms;
  // The script ignores SIGTERM, so it takes the SIGKILL; its child is killed with it.
  auto r = RunCommand({"/bin/sh", "-c",
                       "trap '' TERM; sleep 1000 & echo $! > " + pids.path() + "; echo $$ >> " +
                           pids.path() + "; echo stuck >&2; while :; do sleep 1; done"},
                      o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kDeadlineExceeded);
  EXPECT_NE(r.status().message().find("did not finish within 0.5 s"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("stuck"), std::string::npos) << r.status().message();
  auto started = pids.Pids();
  ASSERT_EQ(started.size(), 2u);
  for (pid_t p : started) EXPECT_TRUE(GoneSoon(p)) << "pid " << p << " survived";
}

TEST(RunCommand, TailLinesKeepsTheEnd) {
  EXPECT_EQ(TailLines(""), "");
  EXPECT_EQ(TailLines("one\ntwo\nthree\n\n", 2), "two\nthree");
  EXPECT_EQ(TailLines("one\ntwo", 5), "one\ntwo");
  EXPECT_EQ(TailLines("abcdef", 5, 3), "def");
}

}  // namespace
}  // namespace swell
