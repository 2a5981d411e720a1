// The targets of the channel benchmark, checked on the records of one run:
// 64 B streaming at batch 32 through the channel >= 0.9x the raw ring's Mpps
// in the same run (loopback; >= 0.8x over the user transport), and an
// adaptive host worker under that steady load at most one signal per 32
// packets (guest and host doorbells together).
#pragma once

#include <span>
#include <vector>

#include "channel/channel_plan.h"
#include "harness/record.h"
#include "harness/report.h"

namespace uvmbus::perf::channel_bench {

// Reads the channel records' vs_ring and signals_per_pkt.
std::vector<TargetCheck> channel_target_checks(std::span<const Record> records, Transport transport);

}  // namespace uvmbus::perf::channel_bench
