// Ping-pong driver: an initiator sends one numbered packet on a ping queue
// and waits for the responder to echo it on a pong queue, many times over.
// One-way latency is half of each round trip; the polling wait is the shared
// spin_until loop, whatever the transport. run_echo() is the same initiator
// against a responder outside the benchmark's threads (an echo device).
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "harness/doorbell.h"
#include "harness/idle_wait.h"
#include "harness/pinned_pair.h"
#include "harness/queue.h"
#include "harness/record.h"
#include "harness/spin.h"
#include "harness/stats.h"
#include "harness/tsc.h"

namespace uvmbus::perf {

struct PingPongSettings {
  std::size_t payload_bytes = 64;
  double duration_s = 2;
  Consumer consumer = Consumer::poll;
  Doorbell* ping_bell = nullptr;  // rung by the ping queue, slept on by the responder
  Doorbell* pong_bell = nullptr;  // rung by the pong queue, slept on by the initiator
  std::size_t warmup_round_trips = 1000;
  std::size_t min_samples = 1000;  // measured past duration_s if need be
  std::size_t max_samples = std::size_t{1} << 20;
};

// A waiting side gives up after this long without a packet.
inline constexpr double kReplyTimeoutS = 5;

namespace detail {

// Waits for the next packet on `queue`. Returns false if `stop` was raised,
// the queue failed or nothing came within `timeout_ticks`.
template <PacketQueue Q>
bool await_packet(Q& queue, SequenceCheck& check, Consumer mode, Doorbell* bell,
                  const std::atomic<bool>& stop, uint64_t timeout_ticks) noexcept {
  bool received = false;
  auto attempt = [&] {
    received = queue.receive(1, check) == 1;
    return received || stop.load(std::memory_order_relaxed) || queue.failure() != nullptr;
  };
  if (mode == Consumer::poll) {
    return spin_until(attempt, timeout_ticks) && received;
  }
  uint64_t deadline = 0;
  while (!attempt()) {
    if (!wait_while_empty(queue, mode, bell)) {
      deadline = deadline ? deadline : read_tsc() + timeout_ticks;
      if (read_tsc() >= deadline) {
        return false;
      }
    }
  }
  return received;
}

}  // namespace detail

namespace detail {

// The initiator's side of a run, on cache lines of its own.
struct alignas(128) RoundTrips {
  std::vector<uint64_t> ticks;  // one per measured round trip; allocated and touched untimed
  std::size_t samples = 0;
  uint64_t start = 0;
  uint64_t end = 0;
  bool broken = false;  // a send failed or a reply never came
  SequenceCheck check;  // of the replies
};

inline RoundTrips make_round_trips(const PingPongSettings& settings) {
  RoundTrips trips;
  trips.ticks.resize(settings.max_samples);
  return trips;
}

// The initiator's loop: sends packet n on `ping`, waits for it on `pong`,
// records the round trip (after the warm-up), until the duration has passed
// and there are enough samples.
template <PacketQueue Ping, PacketQueue Pong>
void initiate_round_trips(Ping& ping, Pong& pong, const PingPongSettings& config, RoundTrips& state,
                          uint64_t timeout_ticks) noexcept {
  const std::atomic<bool> never{false};
  const uint64_t deadline = tsc_deadline(config.duration_s);
  state.start = read_tsc();
  for (uint64_t sequence = 0;; ++sequence) {
    const uint64_t sent_at = read_tsc();
    if (ping.send(sequence, 1) != 1 ||
        !await_packet(pong, state.check, config.consumer, config.pong_bell, never, timeout_ticks)) {
      state.broken = true;
      break;
    }
    const uint64_t now = read_tsc();
    if (sequence >= config.warmup_round_trips) {
      state.ticks[state.samples++] = now - sent_at;
    }
    if (state.samples == state.ticks.size() || (now >= deadline && state.samples >= config.min_samples)) {
      break;
    }
  }
  state.end = read_tsc();
}

// Every round trip moves two packets: rates and signals count both.
inline Metrics round_trip_metrics(RoundTrips& state, uint64_t signals, std::size_t payload_bytes) {
  Metrics metrics = throughput_metrics(Throughput{.packets = 2 * state.check.expected,
                                                  .ticks = state.end - state.start,
                                                  .signals = signals,
                                                  .payload_bytes = payload_bytes});
  metrics.latency = one_way_latency(std::span(state.ticks.data(), state.samples));
  return metrics;
}

}  // namespace detail

// Throws std::runtime_error if either queue failed or a packet went missing.
template <PacketQueue Q>
Metrics run_pingpong(const CpuTopology& topology, CpuPair cpus, Q& ping, Q& pong,
                     const PingPongSettings& settings) {
  // Each thread writes only to its own cache lines.
  detail::RoundTrips initiator_state = detail::make_round_trips(settings);
  struct alignas(128) ResponderState {
    uint64_t echoed = 0;
    SequenceCheck check;
  } responder_state;
  struct alignas(128) Stop {
    std::atomic<bool> raised{false};  // by the initiator when done
  } stop;
  const PingPongSettings config = settings;  // read-only copy beside the rest
  const uint64_t timeout_ticks = tsc_ticks(kReplyTimeoutS);

  auto initiator = [&] {
    detail::initiate_round_trips(ping, pong, config, initiator_state, timeout_ticks);
    stop.raised.store(true, std::memory_order_relaxed);
    if (config.ping_bell != nullptr) {
      config.ping_bell->ring();  // wake a sleeping responder to see the stop
    }
  };

  auto responder = [&] {
    ResponderState& state = responder_state;
    while (detail::await_packet(ping, state.check, config.consumer, config.ping_bell, stop.raised,
                                timeout_ticks)) {
      // Echo the number just checked.
      if (pong.send(state.check.expected - 1, 1) != 1) {
        break;
      }
      ++state.echoed;
    }
  };

  run_pinned_pair(topology, cpus, initiator, responder);

  for (const Q* queue : {&ping, &pong}) {
    if (const char* failure = queue->failure()) {
      throw std::runtime_error(fmt::format("queue failed: {}", failure));
    }
  }
  const uint64_t completed = initiator_state.check.expected;
  const uint64_t echoed = responder_state.echoed;
  if (initiator_state.broken || completed == 0 || echoed != completed ||
      responder_state.check.expected != echoed) {
    throw std::runtime_error(fmt::format("ping-pong stalled: {} pings answered, {} replies received",
                                         echoed, completed));
  }
  if (initiator_state.check.wrong != 0 || responder_state.check.wrong != 0) {
    throw std::runtime_error("ping-pong delivered a wrong sequence number");
  }
  return detail::round_trip_metrics(initiator_state, ping.signals() + pong.signals(), settings.payload_bytes);
}

// Round trips through a responder that is not one of this process's
// benchmark threads (a device on a host worker echoing each packet): the
// initiator runs alone, pinned to `cpu`, sending and receiving on `queue`.
// Throws std::runtime_error if the queue failed, a reply never came or one
// carried a wrong sequence number.
template <PacketQueue Q>
Metrics run_echo(const CpuTopology& topology, unsigned cpu, Q& queue, const PingPongSettings& settings) {
  detail::RoundTrips state = detail::make_round_trips(settings);
  const PingPongSettings config = settings;
  const uint64_t timeout_ticks = tsc_ticks(kReplyTimeoutS);
  run_pinned(topology, cpu, [&] { detail::initiate_round_trips(queue, queue, config, state, timeout_ticks); });
  if (const char* failure = queue.failure()) {
    throw std::runtime_error(fmt::format("queue failed: {}", failure));
  }
  if (state.broken || state.check.expected == 0) {
    throw std::runtime_error(fmt::format("echo stalled after {} replies", state.check.expected));
  }
  if (state.check.wrong != 0) {
    throw std::runtime_error("echo delivered a wrong sequence number");
  }
  return detail::round_trip_metrics(state, queue.signals(), settings.payload_bytes);
}

}  // namespace uvmbus::perf
