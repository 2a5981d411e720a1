// What a sleeping worker pays to wake up: the latency from an eventfd write
// in one pinned thread to epoll_wait returning in another thread pinned to a
// different physical core, after an idle gap (20 us, 200 us, 1 ms) during
// which the waiter is blocked. The baseline is the same handoff to a thread
// that spins on a shared word instead of sleeping (what a polling worker
// pays). Reported per run: median and p99 of the one-way latency, and the
// signaller's cost of the eventfd write (the doorbell a peer rings).
//
// This figure sets lib/runtime's default idle threshold (docs/runtime.md).
#include <benchmark/benchmark.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "uvmbus/runtime/topology.h"

namespace {

using namespace uvmbus;
using std::chrono::steady_clock;

enum class Waiting { eventfd_epoll, spinning };

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             steady_clock::now().time_since_epoch())
      .count();
}

void spin_for(std::chrono::nanoseconds gap) {
  const auto until = steady_clock::now() + gap;
  while (steady_clock::now() < until) {
  }
}

// The handoff between the two threads. The signaller clears `latency_ns`,
// stores `sent_ns` (release), then signals; the waiter, once awake, loads
// `sent_ns` (acquire) and stores the latency (release), which the
// signaller's acquire load of `latency_ns` waits for.
struct Handoff {
  std::atomic<int64_t> sent_ns{0};
  std::atomic<int64_t> latency_ns{0};
  std::atomic<bool> stop{false};
  int event_fd = -1;
  int epoll_fd = -1;
};

void wait_on_eventfd(Handoff& handoff) {
  while (true) {
    epoll_event event;
    if (epoll_wait(handoff.epoll_fd, &event, 1, -1) != 1) {
      continue;
    }
    const int64_t woke = now_ns();
    uint64_t counter;
    if (read(handoff.event_fd, &counter, sizeof(counter)) != sizeof(counter) ||
        handoff.stop.load(std::memory_order_acquire)) {
      return;
    }
    handoff.latency_ns.store(woke - handoff.sent_ns.load(std::memory_order_acquire),
                             std::memory_order_release);
  }
}

void wait_spinning(Handoff& handoff) {
  int64_t seen = 0;  // sent_ns's initial value, never a timestamp
  while (!handoff.stop.load(std::memory_order_acquire)) {
    const int64_t sent = handoff.sent_ns.load(std::memory_order_acquire);
    if (sent != seen) {
      handoff.latency_ns.store(now_ns() - sent, std::memory_order_release);
      seen = sent;
    }
  }
}

// Two CPUs on different physical cores (signaller, waiter), if there are two.
std::optional<std::pair<unsigned, unsigned>> two_cores(const runtime::Topology& topology) {
  auto cpus = topology.one_cpu_per_core(0);
  if (!cpus || cpus->size() < 2) {
    return std::nullopt;
  }
  return std::pair{(*cpus)[0], (*cpus)[1]};
}

double percentile(std::vector<double>& samples, double fraction) {
  const auto rank = static_cast<std::size_t>(fraction * static_cast<double>(samples.size() - 1));
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(rank),
                   samples.end());
  return samples[rank];
}

// Argument: the idle gap before each signal, in microseconds.
template <Waiting kWaiting>
void BM_Wakeup(benchmark::State& state) {
  const std::chrono::microseconds gap(state.range(0));
  auto topology = runtime::Topology::load();
  const auto cores = topology ? two_cores(*topology) : std::nullopt;
  if (!cores) {
    state.SkipWithError("needs two physical cores");
    return;
  }
  if (!topology->bind_current_thread(cores->first)) {
    state.SkipWithError("cannot pin the signalling thread");
    return;
  }

  Handoff handoff;
  handoff.event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  handoff.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  epoll_event event{.events = EPOLLIN, .data = {.fd = handoff.event_fd}};
  epoll_ctl(handoff.epoll_fd, EPOLL_CTL_ADD, handoff.event_fd, &event);
  std::thread waiter([&] {
    if (topology->bind_current_thread(cores->second)) {
      kWaiting == Waiting::eventfd_epoll ? wait_on_eventfd(handoff) : wait_spinning(handoff);
    }
  });

  std::vector<double> latencies;
  std::vector<double> signal_costs;
  latencies.reserve(static_cast<std::size_t>(state.max_iterations));
  signal_costs.reserve(static_cast<std::size_t>(state.max_iterations));
  const uint64_t one = 1;
  for (auto _ : state) {
    spin_for(gap);
    handoff.latency_ns.store(-1, std::memory_order_relaxed);
    const int64_t sent = now_ns();
    handoff.sent_ns.store(sent, std::memory_order_release);
    if constexpr (kWaiting == Waiting::eventfd_epoll) {
      const ssize_t written = write(handoff.event_fd, &one, sizeof(one));
      benchmark::DoNotOptimize(written);
      signal_costs.push_back(static_cast<double>(now_ns() - sent));
    }
    int64_t latency;
    while ((latency = handoff.latency_ns.load(std::memory_order_acquire)) < 0) {
    }
    state.SetIterationTime(static_cast<double>(latency) * 1e-9);
    latencies.push_back(static_cast<double>(latency));
  }

  handoff.stop.store(true, std::memory_order_release);
  const ssize_t written = write(handoff.event_fd, &one, sizeof(one));
  benchmark::DoNotOptimize(written);
  waiter.join();
  close(handoff.epoll_fd);
  close(handoff.event_fd);

  state.counters["median_ns"] = percentile(latencies, 0.5);
  state.counters["p99_ns"] = percentile(latencies, 0.99);
  if (!signal_costs.empty()) {
    state.counters["signal_ns"] = percentile(signal_costs, 0.5);
  }
}

void gaps(benchmark::internal::Benchmark* bench) {
  bench->Arg(20)->Arg(200)->Arg(1000);
  bench->Iterations(2000)->Repetitions(3)->ReportAggregatesOnly(true);
  bench->UseManualTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK_TEMPLATE(BM_Wakeup, Waiting::eventfd_epoll)->Apply(gaps);
BENCHMARK_TEMPLATE(BM_Wakeup, Waiting::spinning)->Apply(gaps);

}  // namespace

BENCHMARK_MAIN();
