// Calibration of the cycle clock against steady_clock.
#include "uvmbus/runtime/cycle_clock.h"

#include <limits>
#include <thread>

namespace uvmbus::runtime {

namespace {

uint64_t measure_cycles_per_second() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  using std::chrono::steady_clock;
  const steady_clock::time_point start_time = steady_clock::now();
  const uint64_t start_cycles = read_cycles();
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const uint64_t end_cycles = read_cycles();
  const auto elapsed_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(steady_clock::now() - start_time);
  return static_cast<uint64_t>(static_cast<double>(end_cycles - start_cycles) * 1e9 /
                               static_cast<double>(elapsed_ns.count()));
#else
  return 1'000'000'000;
#endif
}

}  // namespace

uint64_t cycles_per_second() noexcept {
  static const uint64_t rate = measure_cycles_per_second();
  return rate;
}

uint64_t to_cycles(std::chrono::nanoseconds duration) noexcept {
  const double cycles =
      static_cast<double>(duration.count()) * static_cast<double>(cycles_per_second()) / 1e9;
  if (cycles >= static_cast<double>(std::numeric_limits<uint64_t>::max())) {
    return std::numeric_limits<uint64_t>::max();
  }
  return cycles <= 0 ? 0 : static_cast<uint64_t>(cycles);
}

}  // namespace uvmbus::runtime
