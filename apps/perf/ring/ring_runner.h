// Runs one ring case once: builds the queues it needs (untimed), drives them
// with the stream or ping-pong driver, and returns what was measured.
#pragma once

#include <cstdint>

#include "harness/record.h"
#include "harness/topology.h"
#include "ring/ring_plan.h"

namespace uvmbus::perf::ring_bench {

struct RingRunContext {
  const CpuTopology& topology;
  CpuPair cpus;
  double duration_s = 2;
  uint32_t ring_bytes = 256 * 1024;
};

// Throws std::runtime_error if setup fails or the queue misbehaves.
Metrics measure_case(const RingCase& c, const RingRunContext& context);

}  // namespace uvmbus::perf::ring_bench
