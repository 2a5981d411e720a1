// An eventfd doorbell: how a producer wakes a consumer that sleeps in
// interrupt mode. Ringing is a syscall, so callers ring only when the
// transport says a signal is needed.
#pragma once

#include <cstdint>

namespace uvmbus::perf {

class Doorbell {
 public:
  Doorbell();  // throws std::system_error if no eventfd can be made
  ~Doorbell();
  Doorbell(const Doorbell&) = delete;
  Doorbell& operator=(const Doorbell&) = delete;

  void ring() noexcept;
  // Sleeps until rung (consuming every ring so far) or until `timeout_ms`
  // passes; returns false on timeout.
  [[nodiscard]] bool wait(int timeout_ms) noexcept;

 private:
  int fd_ = -1;
};

}  // namespace uvmbus::perf
