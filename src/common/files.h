#pragma once

// Small file helpers with errors as values.

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "common/status.h"

namespace swell {

// The whole of `path`; refused (InvalidArgument) once it passes `max_bytes`, so that a device
// or a runaway file named by mistake (/dev/urandom) is an error, not all the memory there is.
Result<std::string> ReadFile(const std::string& path, size_t max_bytes = SIZE_MAX);
// Writes to a temporary file beside `path`, fsyncs it and renames it over `path`.
Status WriteFileAtomic(const std::string& path, const std::string& data, mode_t mode = 0644);
// mkdir -p with `mode` for the directories it creates.
Status MakeDirs(const std::string& path, mode_t mode = 0755);
// Makes `path` its owner's only, creating it empty with mode 0600 if it does not exist; an
// existing file loses its group and other bits, with a warning in the log. For files that
// hold secrets or job data.
Status KeepPrivate(const std::string& path);
// Absolute form of `path` relative to `base` (no symlink resolution).
// Bytes an unprivileged writer may still use on the filesystem that holds `path`.
Result<int64_t> FreeBytes(const std::string& path);
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
