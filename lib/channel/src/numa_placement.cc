// NUMA node resolution and the mbind() call behind region placement.
#include "numa_placement.h"

#include <numa.h>
#include <numaif.h>
#include <sched.h>

#include <memory>

#include "uvmbus/channel/guest_memory_region.h"

namespace uvmbus::channel::detail {

namespace {

struct BitmaskFree {
  void operator()(bitmask* mask) const noexcept { numa_bitmask_free(mask); }
};

}  // namespace

Expected<std::optional<int>, MemoryError> resolve_numa_node(int requested) noexcept {
  if (numa_available() < 0) {
    return std::optional<int>{};
  }
  if (requested == kLocalNumaNode) {
    const int cpu = sched_getcpu();
    const int node = cpu < 0 ? -1 : numa_node_of_cpu(cpu);
    return node < 0 ? std::optional<int>{} : std::optional<int>{node};
  }
  // numa_all_nodes_ptr: the nodes this process may allocate memory on.
  if (requested < 0 || requested > numa_max_node() ||
      numa_bitmask_isbitset(numa_all_nodes_ptr, static_cast<unsigned>(requested)) == 0) {
    return Unexpected(MemoryError{MemoryErrorCode::invalid_numa_node});
  }
  return std::optional<int>{requested};
}

bool prefer_numa_node(void* address, std::size_t bytes, int node) noexcept {
  // libnuma exits rather than return a null mask.
  const std::unique_ptr<bitmask, BitmaskFree> nodes(numa_allocate_nodemask());
  numa_bitmask_setbit(nodes.get(), static_cast<unsigned>(node));
  // The kernel reads maxnode - 1 bits, hence size + 1 (as libnuma does).
  return mbind(address, bytes, MPOL_PREFERRED, nodes->maskp, nodes->size + 1, 0) == 0;
}

}  // namespace uvmbus::channel::detail
