// DPDK's EAL brought up once per process with as little as rte_ring needs:
// no hugepages, no PCI, no shared config, no telemetry, one lcore. EAL's own
// threads sleep; it does not keep the caller's CPU affinity it changed.
#pragma once

#include <string>

namespace uvmbus::perf::ring_bench {

// Starts EAL on first call. Returns an empty string once EAL is up, else why
// it could not start (the same answer on every call).
const std::string& start_eal();

}  // namespace uvmbus::perf::ring_bench
