#include "node/poller.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace swell::node {

Poller::Poller()
    : epfd_(epoll_create1(EPOLL_CLOEXEC)), wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (ok()) Add(wake_fd_);
}

Poller::~Poller() {
  for (auto& [fd, pid] : pidfds_) close(fd);
  if (wake_fd_ >= 0) close(wake_fd_);
  if (epfd_ >= 0) close(epfd_);
}

void Poller::Wake() {
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
}

void Poller::ClearWake() {
  uint64_t v;
  (void)!read(wake_fd_, &v, sizeof v);
}

void Poller::Add(int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
}

void Poller::Remove(int fd) { epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr); }

int Poller::WatchPid(pid_t pid) {
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return -1;
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  Add(fd);
  pidfds_[fd] = pid;
  return fd;
}

void Poller::UnwatchPid(int pidfd) {
  if (pidfd < 0) return;
  Remove(pidfd);
  pidfds_.erase(pidfd);
  close(pidfd);
}

pid_t Poller::PidOf(int fd) const {
  auto it = pidfds_.find(fd);
  return it == pidfds_.end() ? -1 : it->second;
}

int Poller::Wait(epoll_event* events, int max_events, int timeout_ms) {
  return epoll_wait(epfd_, events, max_events, timeout_ms);
}

}  // namespace swell::node
