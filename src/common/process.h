#pragma once

// Daemon processes: start one detached, see whether one still runs, stop one. And commands
// run to completion under a deadline (provider scripts, `ip`).

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace swell {

// Starts `argv` (argv[0] is the program) in its own session with stdin from /dev/null and
// stdout/stderr appended to `log`; returns its pid.
Result<pid_t> SpawnDetached(const std::vector<std::string>& argv, const std::string& log);
// Starts `path` with `argv` (argv[0] included) and exactly the environment `env` as a child of
// this process (same session, inherited stdio); the caller waits for it.
Result<pid_t> SpawnChild(const std::string& path, const std::vector<std::string>& argv,
                         const std::vector<std::string>& env);
// This process's environment ("NAME=value") without the variables whose names start with
// `prefix`.
std::vector<std::string> EnvironmentWithout(const std::string& prefix);
// Whether `pid` runs (reaps it when it is our exited child; a zombie counts as gone).
bool ProcessAlive(pid_t pid);
// Whether `pid` runs, without reaping it: a zombie, or a process gone while we look, counts as
// gone.
bool RunsUnreaped(pid_t pid);
// SIGTERM, up to `timeout` to exit, then SIGKILL. True once it is gone.
bool StopProcess(pid_t pid, Duration timeout);

struct RunOptions {
  std::vector<std::string> env;  // "KEY=value", added to (or replacing in) our environment
  Duration timeout = std::chrono::seconds(300);
  Duration kill_grace = std::chrono::seconds(2);  // SIGTERM .. SIGKILL once timed out
  size_t max_output = 1 << 20;                    // stdout kept; stderr keeps its last 64 KiB
};

struct CommandResult {
  int exit_code = 0;  // its exit status, or 128 + the signal that ended it
  std::string out;    // stdout
  std::string err;    // stderr (its tail)
};

// Runs `argv` (argv[0] looked up in PATH) in its own session and process group, stdin from
// /dev/null, and returns its exit code and output once it exits. Returns as soon as the
// command itself exits, even when a child it left behind still holds its stdout open (a
// script that starts a daemon). Past `timeout` the whole process group gets SIGTERM, then
// SIGKILL after `kill_grace`, and the result is DeadlineExceeded with the stderr tail: a hung
// command never hangs the caller. A non-zero exit is a result, not an error.
Result<CommandResult> RunCommand(const std::vector<std::string>& argv, const RunOptions& options);

// The last `max_lines` lines of `text`, at most `max_chars` characters, without the trailing
// newline: what an error message quotes from a command's stderr.
std::string TailLines(const std::string& text, int max_lines = 20, size_t max_chars = 2000);

}  // namespace swell
