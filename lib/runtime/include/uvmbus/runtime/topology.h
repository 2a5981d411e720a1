// The machine's CPU topology (hwloc): which CPUs a worker may be pinned to,
// chosen by core list or by NUMA node, and the pinning itself.
//
// CPU numbers are the operating system's (as in taskset or /proc/cpuinfo).
// Only CPUs this process may use are part of the topology (hwloc drops the
// ones its cgroup forbids).
#pragma once

#include <string_view>
#include <vector>

#include "uvmbus/runtime/expected.h"
#include "uvmbus/runtime/runtime_error.h"

struct hwloc_topology;

namespace uvmbus::runtime {

class Topology {
 public:
  // Discovers this machine's topology (a few milliseconds: do it once).
  static Expected<Topology, RuntimeError> load() noexcept;

  Topology(Topology&& other) noexcept;
  Topology& operator=(Topology&& other) noexcept;
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;
  ~Topology();

  // The CPUs of a core list ("0,2-3", see parse_cpu_list), each checked to be
  // a CPU of this topology (else cpu_out_of_range).
  Expected<std::vector<unsigned>, RuntimeError> cpus_from_list(std::string_view list) const;

  // One CPU per physical core of NUMA node `node`: the first CPU (hardware
  // thread) of each core, ascending. invalid_numa_node if the node does not
  // exist or has no CPUs.
  Expected<std::vector<unsigned>, RuntimeError> one_cpu_per_core(unsigned node) const;

  // Binds the calling thread to `cpu`. Thread-safe (reads the topology only).
  Expected<void, RuntimeError> bind_current_thread(unsigned cpu) const noexcept;

 private:
  explicit Topology(hwloc_topology* topology) noexcept : topology_(topology) {}

  hwloc_topology* topology_;
};

}  // namespace uvmbus::runtime
