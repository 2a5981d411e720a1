// FakePollable (see fake_pollable.h).
#include "fake_pollable.h"

#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

namespace uvmbus::runtime::test {

FakePollable::FakePollable(WakeFd wake)
    : wake_fd_(wake == WakeFd::eventfd ? eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) : -1) {}

FakePollable::~FakePollable() {
  if (wake_fd_ >= 0) {
    close(wake_fd_);
  }
}

void FakePollable::add_work(uint64_t units) {
  pending_.fetch_add(units, std::memory_order_seq_cst);
  if (unmasked_.load(std::memory_order_seq_cst) && wake_fd_ >= 0) {
    const uint64_t one = 1;
    const ssize_t written = write(wake_fd_, &one, sizeof(one));
    static_cast<void>(written);
  }
}

std::size_t FakePollable::poll(std::size_t budget) noexcept {
  polls_.fetch_add(1, std::memory_order_relaxed);
  last_cpu_.store(sched_getcpu(), std::memory_order_relaxed);
  if (in_interrupt_mode_.load(std::memory_order_relaxed)) {
    protocol_violations_.fetch_add(1, std::memory_order_relaxed);
  }
  largest_budget_.store(std::max(largest_budget_.load(std::memory_order_relaxed), budget),
                        std::memory_order_relaxed);
  std::size_t done = budget;
  if (!endless_.load(std::memory_order_relaxed)) {
    // Only this thread takes work, so what it loaded stays available.
    done = static_cast<std::size_t>(
        std::min<uint64_t>(budget, pending_.load(std::memory_order_relaxed)));
    pending_.fetch_sub(done, std::memory_order_relaxed);
  }
  units_done_.fetch_add(done, std::memory_order_relaxed);
  return done;
}

bool FakePollable::try_enter_interrupt_mode() noexcept {
  if (in_interrupt_mode_.load(std::memory_order_relaxed)) {
    protocol_violations_.fetch_add(1, std::memory_order_relaxed);
  }
  unmasked_.store(true, std::memory_order_seq_cst);
  if (refusals_left_.load(std::memory_order_relaxed) > 0) {
    refusals_left_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  if (pending_.load(std::memory_order_seq_cst) != 0 || endless_.load(std::memory_order_relaxed)) {
    return false;
  }
  entries_.fetch_add(1, std::memory_order_relaxed);
  in_interrupt_mode_.store(true, std::memory_order_relaxed);
  return true;
}

void FakePollable::exit_interrupt_mode() noexcept {
  unmasked_.store(false, std::memory_order_relaxed);
  in_interrupt_mode_.store(false, std::memory_order_relaxed);
  exits_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace uvmbus::runtime::test
