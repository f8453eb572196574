#pragma once

// Small file helpers with errors as values.

#include <sys/types.h>

#include <string>

#include "common/status.h"

namespace swell {

Result<std::string> ReadFile(const std::string& path);
// Writes to a temporary file beside `path`, fsyncs it and renames it over `path`.
Status WriteFileAtomic(const std::string& path, const std::string& data, mode_t mode = 0644);
// mkdir -p with `mode` for the directories it creates.
Status MakeDirs(const std::string& path, mode_t mode = 0755);
// Absolute form of `path` relative to `base` (no symlink resolution).
std::string AbsolutePath(const std::string& path, const std::string& base);
std::string CurrentDir();
// The path of this process's binary (/proc/self/exe), and its directory; empty when unknown.
std::string SelfExe();
std::string SelfDir();
// Writes all of `data` to `fd` (retrying short writes and EINTR); false if a write fails.
bool WriteAll(int fd, const char* data, size_t n);
// The pid stored in `path`, if the file exists and that process is alive.
pid_t ReadLivePid(const std::string& path);

}  // namespace swell
