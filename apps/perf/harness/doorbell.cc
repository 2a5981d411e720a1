// eventfd-backed Doorbell.
#include "harness/doorbell.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace uvmbus::perf {

Doorbell::Doorbell() : fd_(eventfd(0, EFD_CLOEXEC)) {
  if (fd_ < 0) {
    throw std::system_error(errno, std::generic_category(), "eventfd");
  }
}

Doorbell::~Doorbell() { close(fd_); }

void Doorbell::ring() noexcept {
  const uint64_t one = 1;
  // A write fails only if the counter would overflow 2^64 - 2: impossible here.
  [[maybe_unused]] const ssize_t written = write(fd_, &one, sizeof one);
}

bool Doorbell::wait(int timeout_ms) noexcept {
  pollfd waiting{.fd = fd_, .events = POLLIN, .revents = 0};
  int ready;
  do {
    ready = poll(&waiting, 1, timeout_ms);
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) {
    return false;
  }
  uint64_t rings = 0;
  [[maybe_unused]] const ssize_t got = read(fd_, &rings, sizeof rings);
  return true;
}

}  // namespace uvmbus::perf
