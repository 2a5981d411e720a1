// EventFd: an owned, non-blocking Linux eventfd, the doorbell of every
// transport that runs on Linux (loopback, user). signal() is the one syscall
// the data path makes; drain() is for whoever sleeps on fd().
#pragma once

#include <cstdint>

#include "uvmbus/channel/expected.h"

namespace uvmbus::channel {

class EventFd {
 public:
  // A new eventfd (non-blocking, close-on-exec); the error is errno.
  static Expected<EventFd, int> create() noexcept;
  // Takes ownership of `fd`, which the caller has checked is a non-blocking
  // eventfd (e.g. one received from a peer).
  static EventFd adopt(int fd) noexcept { return EventFd(fd); }

  EventFd(EventFd&& other) noexcept;
  EventFd& operator=(EventFd&& other) noexcept;
  EventFd(const EventFd&) = delete;
  EventFd& operator=(const EventFd&) = delete;
  ~EventFd();

  // Makes fd() readable (adds 1 to the counter). Safe from any thread.
  void signal() const noexcept;
  // Resets the counter; returns how many signals were pending (0 if none).
  uint64_t drain() const noexcept;
  int fd() const noexcept { return fd_; }

 private:
  explicit EventFd(int fd) noexcept : fd_(fd) {}

  int fd_ = -1;
};

}  // namespace uvmbus::channel
