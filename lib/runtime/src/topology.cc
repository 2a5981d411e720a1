// hwloc queries behind CPU selection and worker pinning.
#include "uvmbus/runtime/topology.h"

#include <hwloc.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "uvmbus/runtime/cpu_list.h"

namespace uvmbus::runtime {

Expected<Topology, RuntimeError> Topology::load() noexcept {
  hwloc_topology_t topology = nullptr;
  if (hwloc_topology_init(&topology) != 0) {
    return Unexpected(RuntimeError{RuntimeErrorCode::topology_failed, 0, errno});
  }
  if (hwloc_topology_load(topology) != 0) {
    const int load_errno = errno;
    hwloc_topology_destroy(topology);
    return Unexpected(RuntimeError{RuntimeErrorCode::topology_failed, 0, load_errno});
  }
  return Topology(topology);
}

Topology::Topology(Topology&& other) noexcept
    : topology_(std::exchange(other.topology_, nullptr)) {}

Topology& Topology::operator=(Topology&& other) noexcept {
  std::swap(topology_, other.topology_);
  return *this;
}

Topology::~Topology() {
  if (topology_ != nullptr) {
    hwloc_topology_destroy(topology_);
  }
}

Expected<std::vector<unsigned>, RuntimeError> Topology::cpus_from_list(
    std::string_view list) const {
  auto cpus = parse_cpu_list(list);
  if (!cpus) {
    return cpus;
  }
  for (const unsigned cpu : *cpus) {
    if (hwloc_get_pu_obj_by_os_index(topology_, cpu) == nullptr) {
      return Unexpected(RuntimeError{RuntimeErrorCode::cpu_out_of_range, cpu});
    }
  }
  return cpus;
}

Expected<std::vector<unsigned>, RuntimeError> Topology::one_cpu_per_core(unsigned node) const {
  const hwloc_obj_t numa_node = hwloc_get_numanode_obj_by_os_index(topology_, node);
  std::vector<unsigned> cpus;
  if (numa_node != nullptr) {
    // A PU is chosen if it is the first PU of its core (or has no core object
    // above it, on machines where hwloc reports none).
    hwloc_obj_t pu = nullptr;
    while ((pu = hwloc_get_next_obj_inside_cpuset_by_type(topology_, numa_node->cpuset,
                                                          HWLOC_OBJ_PU, pu)) != nullptr) {
      const hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(topology_, HWLOC_OBJ_CORE, pu);
      if (core == nullptr ||
          hwloc_get_obj_inside_cpuset_by_type(topology_, core->cpuset, HWLOC_OBJ_PU, 0) == pu) {
        cpus.push_back(pu->os_index);
      }
    }
  }
  if (cpus.empty()) {
    return Unexpected(RuntimeError{RuntimeErrorCode::invalid_numa_node, node});
  }
  std::sort(cpus.begin(), cpus.end());
  return cpus;
}

Expected<void, RuntimeError> Topology::bind_current_thread(unsigned cpu) const noexcept {
  const hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(topology_, cpu);
  if (pu == nullptr) {
    return Unexpected(RuntimeError{RuntimeErrorCode::cpu_out_of_range, cpu});
  }
  if (hwloc_set_cpubind(topology_, pu->cpuset, HWLOC_CPUBIND_THREAD) != 0) {
    return Unexpected(RuntimeError{RuntimeErrorCode::pin_failed, cpu, errno});
  }
  return {};
}

}  // namespace uvmbus::runtime
