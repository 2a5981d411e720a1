// The one busy-wait loop of every benchmark. Every scenario that compares
// waiting peers (a ring against a raw cache line) waits through spin_until,
// so a comparison measures the transport and never the waiting.
#pragma once

#include <cstdint>

#include "harness/tsc.h"

namespace uvmbus::perf {

inline void cpu_relax() noexcept {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#endif
}

// Calls `attempt` until it returns true, pausing between attempts. Gives up
// (returns false) after roughly `timeout_ticks` of TSC time. The clock is
// read only every few thousand attempts, so a wait that ends quickly costs
// no clock read at all.
template <class Attempt>
[[nodiscard]] bool spin_until(Attempt&& attempt, uint64_t timeout_ticks) noexcept {
  constexpr unsigned kAttemptsPerClockRead = 4096;
  uint64_t deadline = 0;
  for (;;) {
    for (unsigned i = 0; i < kAttemptsPerClockRead; ++i) {
      if (attempt()) {
        return true;
      }
      cpu_relax();
    }
    const uint64_t now = read_tsc();
    if (deadline == 0) {
      deadline = now + timeout_ticks;
    } else if (now >= deadline) {
      return false;
    }
  }
}

}  // namespace uvmbus::perf
