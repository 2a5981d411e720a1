// Runs a producer and a consumer body on two threads pinned to two CPUs and
// releases them together from a spinning start barrier, so thread creation
// and pinning stay outside every measurement; or one body on one pinned
// thread, when the other side is not a benchmark thread (a host worker).
#pragma once

#include <functional>

#include "harness/topology.h"

namespace uvmbus::perf {

// Returns when both bodies have finished. Throws std::runtime_error (without
// running either body) if a thread cannot be pinned.
void run_pinned_pair(const CpuTopology& topology, CpuPair cpus,
                     const std::function<void()>& producer,
                     const std::function<void()>& consumer);

// Runs `body` on a thread pinned to `cpu` and returns when it has finished.
// Throws std::runtime_error (without running it) if the thread cannot be pinned.
void run_pinned(const CpuTopology& topology, unsigned cpu, const std::function<void()>& body);

}  // namespace uvmbus::perf
