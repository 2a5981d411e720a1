// Time-stamp counter: the per-packet clock of every benchmark. The machines
// this runs on have an invariant TSC (constant_tsc, nonstop_tsc) that all
// cores share, so one side may read the start and the other the end.
#pragma once

#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#else
#include <chrono>
#endif

namespace uvmbus::perf {

inline uint64_t read_tsc() noexcept {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

// TSC ticks per nanosecond, measured once against the steady clock (a short
// untimed calibration on first use).
double tsc_ticks_per_ns();

// TSC ticks in `seconds`.
uint64_t tsc_ticks(double seconds);

// The TSC value `seconds` from now.
uint64_t tsc_deadline(double seconds);

}  // namespace uvmbus::perf
