// Runs a producer and a consumer body on two threads pinned to two CPUs and
// releases them together from a spinning start barrier, so thread creation
// and pinning stay outside every measurement.
#pragma once

#include <functional>

#include "harness/topology.h"

namespace uvmbus::perf {

// Returns when both bodies have finished. Throws std::runtime_error (without
// running either body) if a thread cannot be pinned.
void run_pinned_pair(const CpuTopology& topology, CpuPair cpus,
                     const std::function<void()>& producer,
                     const std::function<void()>& consumer);

}  // namespace uvmbus::perf
