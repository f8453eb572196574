#include "common/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "common/log.h"
#include "common/process.h"

namespace swell {

Result<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound("no such file: " + path);
    return Unavailable("open " + path + ": " + strerror(errno));
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      close(fd);
      return Unavailable("read " + path + ": " + strerror(errno));
    }
    if (n == 0) break;
    if (static_cast<size_t>(n) > max_bytes - out.size()) {
      close(fd);
      return InvalidArgument(path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

Status WriteFileAtomic(const std::string& path, const std::string& data, mode_t mode) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Unavailable("open " + tmp + ": " + strerror(errno));
  fchmod(fd, mode);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      close(fd);
      unlink(tmp.c_str());
      return Unavailable("write " + tmp + ": " + strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  fsync(fd);
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return Unavailable("rename to " + path + ": " + strerror(errno));
  }
  return Status::Ok();
}

Status MakeDirs(const std::string& path, mode_t mode) {
  if (path.empty()) return Status::Ok();
  std::string cur;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    cur = path.substr(0, j);
    if (!cur.empty() && mkdir(cur.c_str(), mode) != 0 && errno != EEXIST)
      return Unavailable("mkdir " + cur + ": " + strerror(errno));
    i = j + 1;
  }
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Unavailable("not a directory: " + path);
  return Status::Ok();
}

Status KeepPrivate(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Unavailable("open " + path + ": " + strerror(errno));
  struct stat st;
  Status result = Status::Ok();
  if (fstat(fd, &st) != 0) {
    result = Unavailable("stat " + path + ": " + strerror(errno));
  } else if ((st.st_mode & 077) != 0) {
    unsigned was = st.st_mode & 07777, now = st.st_mode & 0700;
    if (fchmod(fd, now) != 0)
      result = Unavailable("chmod " + path + ": " + strerror(errno));
    else
      LogWarning("%s was mode %04o, readable by others; now %04o", path.c_str(), was, now);
  }
  close(fd);
  return result;
}

std::string CurrentDir() {
  char buf[PATH_MAX];
  if (getcwd(buf, sizeof buf) == nullptr) return "/";
  return buf;
}

Result<int64_t> FreeBytes(const std::string& path) {
  struct statvfs st {};
  if (statvfs(path.c_str(), &st) != 0)
    return Unavailable("statvfs " + path + ": " + std::strerror(errno));
  return static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
}

std::string AbsolutePath(const std::string& path, const std::string& base) {
  if (path.empty()) return base;
  if (path[0] == '/') return path;
  if (base.empty() || base.back() == '/') return base + path;
  return base + "/" + path;
}

pid_t ReadLivePid(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return 0;
  long pid = std::strtol(text->c_str(), nullptr, 10);
  if (pid <= 0 || !RunsUnreaped(static_cast<pid_t>(pid))) return 0;
  return static_cast<pid_t>(pid);
}

bool WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

std::string SelfExe() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  return std::string(buf, static_cast<size_t>(n));
}

std::string SelfDir() {
  std::string exe = SelfExe();
  return exe.substr(0, exe.empty() ? 0 : exe.rfind('/'));
}

}  // namespace swell
