#pragma once

// Daemon processes: start one detached, see whether one still runs, stop one.

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace swell {

// Starts `argv` (argv[0] is the program) in its own session with stdin from /dev/null and
// stdout/stderr appended to `log`; returns its pid.
Result<pid_t> SpawnDetached(const std::vector<std::string>& argv, const std::string& log);
// Whether `pid` runs (reaps it when it is our exited child; a zombie counts as gone).
bool ProcessAlive(pid_t pid);
// SIGTERM, up to `timeout` to exit, then SIGKILL. True once it is gone.
bool StopProcess(pid_t pid, Duration timeout);

}  // namespace swell
