#pragma once

// The node loop's epoll set: an eventfd that wakes the loop from other threads, a pidfd for
// each process the node waits for, and the pipes it reads. A pidfd makes a process's end wake
// this loop and no other (several nodes share a process in tests, where SIGCHLD goes to any
// thread). Runs on the node loop; not thread-safe, except Wake().

#include <sys/epoll.h>
#include <sys/types.h>

#include <unordered_map>

namespace swell::node {

class Poller {
 public:
  // The epoll set and the eventfd exist for the object's whole life, so that Wake() may be
  // called from any thread at any time.
  Poller();
  // Closes the pidfds still watched, the eventfd and the epoll set.
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  // False when the kernel gave no epoll set or eventfd.
  bool ok() const { return epfd_ >= 0 && wake_fd_ >= 0; }

  // Makes Wait return (its events include wake_fd()); safe from any thread.
  void Wake();
  // Consumes the wakes so far; call when Wait reports wake_fd().
  void ClearWake();
  int wake_fd() const { return wake_fd_; }

  // Watches `fd` for input; the caller keeps owning it (and removes it before closing it).
  void Add(int fd);
  void Remove(int fd);

  // Watches `pid`'s end through a pidfd, which it returns (-1 when the kernel has none: the
  // process is then reaped only by SIGCHLD).
  int WatchPid(pid_t pid);
  // Stops watching and closes the pidfd (ignores -1).
  void UnwatchPid(int pidfd);
  // The pid a watched pidfd stands for; -1 for other fds.
  pid_t PidOf(int fd) const;

  // epoll_wait: the number of events written to `events`, 0 at the timeout, -1 on error.
  int Wait(epoll_event* events, int max_events, int timeout_ms);

 private:
  const int epfd_;
  const int wake_fd_;
  std::unordered_map<int, pid_t> pidfds_;  // pidfd -> pid
};

}  // namespace swell::node
