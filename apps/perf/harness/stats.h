// From raw counts and samples to Metrics: rates, latency percentiles, and the
// median over repeated runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "harness/record.h"

namespace uvmbus::perf {

struct Throughput {
  uint64_t packets = 0;        // delivered and verified
  uint64_t ticks = 0;          // TSC ticks from the first send to the last receive
  uint64_t signals = 0;        // doorbells rung
  std::size_t payload_bytes = 0;
};

Metrics throughput_metrics(const Throughput& run);

// Sorts `round_trip_ticks` in place; each percentile is half a round trip.
Latency one_way_latency(std::span<uint64_t> round_trip_ticks);

// The median of `values` (must not be empty).
double median_of(std::vector<double> values);

// The median of each field over the runs (runs must not be empty).
Metrics median_metrics(std::span<const Metrics> runs);

}  // namespace uvmbus::perf
