// A cheap clock for the poll loop: the TSC on x86 (no syscall, no vDSO call),
// steady_clock nanoseconds elsewhere. Workers read it once per round to
// account busy and idle time and to decide when to sleep.
#pragma once

#include <chrono>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace uvmbus::runtime {

// Cycles since an arbitrary origin, monotonic on one machine (the TSC is
// invariant and synchronised across CPUs on the machines we run on).
inline uint64_t read_cycles() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#else
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
#endif
}

// read_cycles() ticks per second. Calibrated against steady_clock on the
// first call (about 10 ms), then cached.
uint64_t cycles_per_second() noexcept;

// `duration` in read_cycles() ticks, saturating at UINT64_MAX.
uint64_t to_cycles(std::chrono::nanoseconds duration) noexcept;

}  // namespace uvmbus::runtime
