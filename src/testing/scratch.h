#pragma once

// Test helpers that leave nothing behind: a temporary directory removed with its contents, and
// processes a test's scripts started (their pids in a file) killed, whatever the test did.
// Header-only and test-only: it needs nothing but swell_common.

#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "common/files.h"
#include "common/process.h"

namespace swell::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/swell-test-XXXXXX";
    char* d = mkdtemp(tmpl);
    path_ = d ? d : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes an executable shell script `name` with `body` and returns its path ("" on failure).
  std::string Script(const std::string& name, const std::string& body) const {
    std::string path = path_ + "/" + name;
    return WriteFileAtomic(path, "#!/bin/sh\n" + body, 0755).ok() ? path : "";
  }

 private:
  std::string path_;
};

// The pids in `text`, one per line.
inline std::vector<pid_t> ParsePids(const std::string& text) {
  std::vector<pid_t> out;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    if (pid_t p = atoi(text.substr(pos, nl - pos).c_str()); p > 0) out.push_back(p);
    pos = nl + 1;
  }
  return out;
}

inline std::vector<pid_t> PidsIn(const std::string& path) {
  auto text = ReadFile(path);
  return text.ok() ? ParsePids(*text) : std::vector<pid_t>{};
}

// Whether `pid` has exited (gone, or a zombie), without reaping it: in an in-process cluster
// the test's process is the parent of the nodes' tasks, and a task reaped here is one its node
// daemon never sees end (it then waits for it forever when it stops).
inline bool Exited(pid_t pid) { return !RunsUnreaped(pid); }

// Whether `pid` is gone within 10 s (a killed process may take a moment to be reaped by init).
inline bool GoneSoon(pid_t pid) {
  for (int i = 0; i < 500; ++i) {
    if (Exited(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// A file "pids" in a temporary directory, for the scripts a test runs to list the processes they
// start (one pid a line): those are SIGKILLed when it goes out of scope, whatever the test did.
class PidFile {
 public:
  ~PidFile() {
    for (pid_t p : Pids()) kill(p, SIGKILL);
  }
  const std::string& path() const { return path_; }
  std::vector<pid_t> Pids() const { return PidsIn(path_); }

 private:
  TempDir dir_;
  std::string path_ = dir_.path() + "/pids";
};

}  // namespace swell::testing
