// Stream driver: a producer sends numbered packets in bursts as fast as the
// queue takes them for a fixed time while a consumer drains and checks them;
// the rate counts packets the consumer verified, from the producer's first
// send to the consumer's last receive. run_stream_to_sink() is the same
// producer against a consumer outside the benchmark's threads (a sink
// device): the rate counts packets sent, up to the moment the queue is
// drained.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "harness/doorbell.h"
#include "harness/idle_wait.h"
#include "harness/pinned_pair.h"
#include "harness/queue.h"
#include "harness/record.h"
#include "harness/spin.h"
#include "harness/stats.h"
#include "harness/tsc.h"

namespace uvmbus::perf {

struct StreamSettings {
  std::size_t payload_bytes = 64;
  std::size_t batch = 32;         // packets per send() and receive() call
  double duration_s = 2;
  Consumer consumer = Consumer::poll;  // interrupt: both sides sleep when they cannot go on
  Doorbell* consumer_bell = nullptr;  // rung by the queue's producer; interrupt mode only
  Doorbell* producer_bell = nullptr;  // rung by the queue's consumer when space frees up
};

// How long a consumer may wait for packets the producer has already sent
// before the run is declared broken.
inline constexpr double kDrainTimeoutS = 2;

namespace detail {

// The producer's loop: numbered bursts of config.batch until `deadline` or
// a failed queue; a full queue polls, or sleeps until the consumer frees
// space. Returns the packets sent.
template <PacketQueue Q>
uint64_t produce_until(Q& queue, const StreamSettings& config, uint64_t deadline) noexcept {
  uint64_t sequence = 0;
  for (;;) {
    const std::size_t sent = queue.send(sequence, config.batch);
    sequence += sent;
    if (sent == 0) {
      if (queue.failure() != nullptr) {
        break;
      }
      static_cast<void>(wait_while_full(queue, config.consumer, config.producer_bell));
    }
    if (read_tsc() >= deadline) {
      break;
    }
  }
  return sequence;
}

}  // namespace detail

// Throws std::runtime_error if the queue failed, lost packets or delivered
// wrong sequence numbers.
template <PacketQueue Q>
Metrics run_stream(const CpuTopology& topology, CpuPair cpus, Q& queue, const StreamSettings& settings) {
  // Each thread writes only to its own cache lines, and the producer's final
  // count sits on a line of its own so the consumer's checks of it stay in
  // its cache.
  constexpr uint64_t kRunning = ~uint64_t{0};
  struct alignas(128) ProducerTotal {
    std::atomic<uint64_t> sent;
  } total{kRunning};
  struct alignas(128) ProducerState {
    uint64_t start = 0;
  } produced;
  struct alignas(128) ConsumerState {
    SequenceCheck check;
    uint64_t end = 0;
  } consumed;
  const StreamSettings config = settings;  // read-only copy beside the rest

  auto producer = [&] {
    const uint64_t deadline = tsc_deadline(config.duration_s);
    produced.start = read_tsc();
    const uint64_t sequence = detail::produce_until(queue, config, deadline);
    // Release: the count is published after the packets it counts.
    total.sent.store(sequence, std::memory_order_release);
    if (config.consumer_bell != nullptr) {
      config.consumer_bell->ring();  // wake a sleeping consumer to see the end
    }
  };

  auto consumer = [&] {
    uint64_t give_up = 0;
    for (;;) {
      if (queue.receive(config.batch, consumed.check) > 0) {
        continue;
      }
      const uint64_t sent = total.sent.load(std::memory_order_acquire);
      if (sent != kRunning) {
        if (consumed.check.expected >= sent) {
          break;
        }
        give_up = give_up ? give_up : tsc_deadline(kDrainTimeoutS);
        if (read_tsc() >= give_up) {
          break;
        }
      }
      if (queue.failure() != nullptr) {
        break;
      }
      static_cast<void>(wait_while_empty(queue, config.consumer, config.consumer_bell));
    }
    consumed.end = read_tsc();
  };

  run_pinned_pair(topology, cpus, producer, consumer);

  const uint64_t sent = total.sent.load(std::memory_order_relaxed);
  if (const char* failure = queue.failure()) {
    throw std::runtime_error(fmt::format("queue failed: {}", failure));
  }
  const SequenceCheck& check = consumed.check;
  if (check.expected != sent) {
    throw std::runtime_error(fmt::format("{} packets sent, {} received", sent, check.expected));
  }
  if (check.wrong != 0) {
    throw std::runtime_error(fmt::format("{} of {} packets carried a wrong sequence number",
                                         check.wrong, check.expected));
  }
  return throughput_metrics(Throughput{.packets = check.expected,
                                       .ticks = consumed.end - produced.start,
                                       .signals = queue.signals(),
                                       .payload_bytes = config.payload_bytes});
}

// The producer runs alone, pinned to `cpu`, then waits for the consumer to
// have taken everything (DrainableQueue). Throws std::runtime_error if the
// queue failed or never drained.
template <DrainableQueue Q>
Metrics run_stream_to_sink(const CpuTopology& topology, unsigned cpu, Q& queue, const StreamSettings& settings) {
  const StreamSettings config = settings;
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t sent = 0;
  bool drained = false;
  run_pinned(topology, cpu, [&] {
    const uint64_t deadline = tsc_deadline(config.duration_s);
    start = read_tsc();
    sent = detail::produce_until(queue, config, deadline);
    drained = queue.drain();
    end = read_tsc();
  });
  if (const char* failure = queue.failure()) {
    throw std::runtime_error(fmt::format("queue failed: {}", failure));
  }
  if (!drained || sent == 0) {
    throw std::runtime_error(fmt::format("{} packets sent, the consumer never confirmed them", sent));
  }
  return throughput_metrics(Throughput{
      .packets = sent, .ticks = end - start, .signals = queue.signals(), .payload_bytes = config.payload_bytes});
}

}  // namespace uvmbus::perf
