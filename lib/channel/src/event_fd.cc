// EventFd: creation, signalling and draining of a non-blocking eventfd.
#include "uvmbus/channel/event_fd.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace uvmbus::channel {

Expected<EventFd, int> EventFd::create() noexcept {
  const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) {
    return Unexpected(errno);
  }
  return EventFd(fd);
}

EventFd::EventFd(EventFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

EventFd& EventFd::operator=(EventFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      close(fd_);
    }
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

EventFd::~EventFd() {
  if (fd_ >= 0) {
    close(fd_);
  }
}

void EventFd::signal() const noexcept {
  const uint64_t one = 1;
  // Fails only with EAGAIN once the counter nears 2^64, when the fd is
  // readable anyway.
  [[maybe_unused]] const ssize_t written = write(fd_, &one, sizeof(one));
}

uint64_t EventFd::drain() const noexcept {
  uint64_t count = 0;
  if (read(fd_, &count, sizeof(count)) != sizeof(count)) {
    return 0;  // EAGAIN: nothing pending
  }
  return count;
}

}  // namespace uvmbus::channel
