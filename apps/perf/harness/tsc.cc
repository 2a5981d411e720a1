// Calibrates the TSC against the steady clock.
#include "harness/tsc.h"

#include <chrono>
#include <thread>

namespace uvmbus::perf {
namespace {

double measure_ticks_per_ns() {
  using clock = std::chrono::steady_clock;
  const auto wall_start = clock::now();
  const uint64_t tsc_start = read_tsc();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const uint64_t tsc_end = read_tsc();
  const auto wall_end = clock::now();
  const double ns = std::chrono::duration<double, std::nano>(wall_end - wall_start).count();
  return static_cast<double>(tsc_end - tsc_start) / ns;
}

}  // namespace

double tsc_ticks_per_ns() {
  static const double ticks_per_ns = measure_ticks_per_ns();
  return ticks_per_ns;
}

uint64_t tsc_ticks(double seconds) {
  return static_cast<uint64_t>(seconds * 1e9 * tsc_ticks_per_ns());
}

uint64_t tsc_deadline(double seconds) { return read_tsc() + tsc_ticks(seconds); }

}  // namespace uvmbus::perf
