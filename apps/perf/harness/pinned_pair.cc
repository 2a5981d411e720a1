// Two pinned threads behind a start barrier; one pinned thread.
#include "harness/pinned_pair.h"

#include <fmt/format.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "harness/spin.h"

namespace uvmbus::perf {

void run_pinned_pair(const CpuTopology& topology, CpuPair cpus,
                     const std::function<void()>& producer,
                     const std::function<void()>& consumer) {
  std::atomic<int> arrived{0};
  std::atomic<bool> pinned[2] = {false, false};

  auto side = [&](int index, unsigned cpu, const std::function<void()>& body) {
    pinned[index].store(topology.pin_current_thread(cpu), std::memory_order_relaxed);
    // Start barrier: both threads leave it within a cache-line transfer of
    // each other. The acq_rel increment publishes this side's pin result.
    arrived.fetch_add(1, std::memory_order_acq_rel);
    while (arrived.load(std::memory_order_acquire) < 2) {
      cpu_relax();
    }
    if (pinned[0].load(std::memory_order_relaxed) && pinned[1].load(std::memory_order_relaxed)) {
      body();
    }
  };

  // Both sides get threads of their own, so the caller's affinity stays as it was.
  std::thread producer_thread(side, 0, cpus.producer, std::cref(producer));
  std::thread consumer_thread(side, 1, cpus.consumer, std::cref(consumer));
  producer_thread.join();
  consumer_thread.join();

  for (int index : {0, 1}) {
    if (!pinned[index].load(std::memory_order_relaxed)) {
      throw std::runtime_error(fmt::format("cannot pin a thread to CPU {}",
                                           index == 0 ? cpus.producer : cpus.consumer));
    }
  }
}

void run_pinned(const CpuTopology& topology, unsigned cpu, const std::function<void()>& body) {
  bool pinned = false;
  std::thread thread([&] {
    pinned = topology.pin_current_thread(cpu);
    if (pinned) {
      body();
    }
  });
  thread.join();
  if (!pinned) {
    throw std::runtime_error(fmt::format("cannot pin a thread to CPU {}", cpu));
  }
}

}  // namespace uvmbus::perf
