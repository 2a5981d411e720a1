// NUMA placement of guest memory through libnuma: which node a region should
// come from, and the memory policy that makes its pages come from there.
#pragma once

#include <cstddef>
#include <optional>

#include "uvmbus/channel/expected.h"
#include "uvmbus/channel/memory_error.h"

namespace uvmbus::channel::detail {

// The node to place memory on for a request (a node number, or
// kLocalNumaNode for the calling thread's node). nullopt when placement is
// not possible here (no NUMA support, or the calling CPU's node is unknown):
// the memory is then left to the kernel's default policy. A node number that
// does not exist or is not allowed for this process is an error.
Expected<std::optional<int>, MemoryError> resolve_numa_node(int requested) noexcept;

// Sets a "preferred node" policy on [address, address + bytes), so pages are
// allocated on `node` while it has memory and elsewhere after that. Must run
// before the pages are first touched. Returns false if the kernel refused.
bool prefer_numa_node(void* address, std::size_t bytes, int node) noexcept;

}  // namespace uvmbus::channel::detail
