// Runs one channel case once: the raw ring through the ring scenario's
// runner, or a channel: host (embedded, or the one at the user socket),
// guest session and channel built untimed, then the stream or echo driver
// with the guest pinned to the producer CPU and the host's device worker on
// the consumer CPU.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "channel/channel_plan.h"
#include "harness/record.h"
#include "harness/topology.h"
#include "uvmbus/runtime/topology.h"

namespace uvmbus::perf::channel_bench {

struct ChannelRunContext {
  const CpuTopology& topology;
  const runtime::Topology& runtime_topology;
  CpuPair cpus;  // producer: the guest; consumer: the host's device worker
  double duration_s = 2;
  uint32_t ring_bytes = 256 * 1024;
  Transport transport = Transport::loopback;
  std::string socket;  // user transport
  std::chrono::nanoseconds idle_threshold{50'000};  // adaptive host worker
};

struct SignalSplit {
  double guest_per_pkt = 0;  // the guest's doorbells to the host
  double host_per_pkt = 0;   // the host's doorbells to the guest
};

struct CaseRun {
  Metrics metrics;
  std::optional<SignalSplit> signals;  // channel cases
};

// Throws std::runtime_error if setup fails or the channel misbehaves.
CaseRun measure_case(const ChannelCase& c, const ChannelRunContext& context);

}  // namespace uvmbus::perf::channel_bench
