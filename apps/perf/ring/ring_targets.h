// The targets of the ring benchmark, checked on the records of one run:
// uvmbus >= 0.8x rte_ring Mpps and >= 2x uvmbus-unbatched Mpps (64 B, batch
// 32, copy-out reader, polling consumer), and ping-pong p50 <= 1.3x the raw
// cache line's.
#pragma once

#include <span>
#include <vector>

#include "harness/record.h"
#include "harness/report.h"

namespace uvmbus::perf::ring_bench {

std::vector<TargetCheck> ring_target_checks(std::span<const Record> records);

}  // namespace uvmbus::perf::ring_bench
