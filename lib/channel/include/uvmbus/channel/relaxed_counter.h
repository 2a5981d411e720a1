// RelaxedCounter: a statistics counter with one writer (the thread that owns
// the channel) and any number of readers (an admin thread taking a
// snapshot). The writer's add is a relaxed load and store, a plain
// increment on x86 with no locked instruction; readers see some recent value.
#pragma once

#include <atomic>
#include <cstdint>

namespace uvmbus::channel {

class RelaxedCounter {
 public:
  // Only the owning thread may add.
  void add(uint64_t n = 1) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

}  // namespace uvmbus::channel
