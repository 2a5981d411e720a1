// What a worker counts: once per poll round, readable from any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace uvmbus::runtime {

// Cycles are read_cycles() ticks (see cycle_clock.h); divide by
// cycles_per_second() for seconds.
struct WorkerStats {
  uint64_t rounds = 0;          // poll rounds (every attached pollable polled once)
  uint64_t work_units = 0;      // sum of what poll() returned
  uint64_t busy_cycles = 0;     // in rounds that did work
  uint64_t idle_cycles = 0;     // in rounds that found nothing (spinning)
  uint64_t asleep_cycles = 0;   // from entering interrupt mode to resuming the poll loop
  uint64_t sleeps = 0;          // times the worker blocked in epoll_wait
  uint64_t wakeups = 0;         // sleeps ended by a pollable's wake fd (a peer's signal)
  uint64_t refused_sleeps = 0;  // sleeps abandoned because work raced in
};

namespace detail {

// WorkerStats as relaxed atomics. The worker is the only writer and stores a
// whole WorkerStats once per round; other threads load each counter without
// tearing. Relaxed is enough: the counters order nothing else, and a
// snapshot is a set of individually exact counters, not one instant.
struct AtomicWorkerStats {
  std::atomic<uint64_t> rounds{0};
  std::atomic<uint64_t> work_units{0};
  std::atomic<uint64_t> busy_cycles{0};
  std::atomic<uint64_t> idle_cycles{0};
  std::atomic<uint64_t> asleep_cycles{0};
  std::atomic<uint64_t> sleeps{0};
  std::atomic<uint64_t> wakeups{0};
  std::atomic<uint64_t> refused_sleeps{0};

  void publish(const WorkerStats& totals) noexcept {
    rounds.store(totals.rounds, std::memory_order_relaxed);
    work_units.store(totals.work_units, std::memory_order_relaxed);
    busy_cycles.store(totals.busy_cycles, std::memory_order_relaxed);
    idle_cycles.store(totals.idle_cycles, std::memory_order_relaxed);
    asleep_cycles.store(totals.asleep_cycles, std::memory_order_relaxed);
    sleeps.store(totals.sleeps, std::memory_order_relaxed);
    wakeups.store(totals.wakeups, std::memory_order_relaxed);
    refused_sleeps.store(totals.refused_sleeps, std::memory_order_relaxed);
  }

  WorkerStats snapshot() const noexcept {
    return WorkerStats{
        .rounds = rounds.load(std::memory_order_relaxed),
        .work_units = work_units.load(std::memory_order_relaxed),
        .busy_cycles = busy_cycles.load(std::memory_order_relaxed),
        .idle_cycles = idle_cycles.load(std::memory_order_relaxed),
        .asleep_cycles = asleep_cycles.load(std::memory_order_relaxed),
        .sleeps = sleeps.load(std::memory_order_relaxed),
        .wakeups = wakeups.load(std::memory_order_relaxed),
        .refused_sleeps = refused_sleeps.load(std::memory_order_relaxed),
    };
  }
};

}  // namespace detail
}  // namespace uvmbus::runtime
