// Names of guest-memory failure causes, for logs and test messages.
#include "uvmbus/channel/memory_error.h"

namespace uvmbus::channel {

const char* to_string(MemoryErrorCode code) noexcept {
  switch (code) {
    case MemoryErrorCode::invalid_argument: return "invalid size, alignment or address";
    case MemoryErrorCode::unsupported_page_size: return "host page size is not 4 KiB";
    case MemoryErrorCode::invalid_numa_node: return "NUMA node unavailable";
    case MemoryErrorCode::memfd_create_failed: return "memfd_create failed";
    case MemoryErrorCode::resize_failed: return "ftruncate failed";
    case MemoryErrorCode::seal_failed: return "sealing the memfd failed";
    case MemoryErrorCode::map_failed: return "mmap failed";
    case MemoryErrorCode::out_of_pages: return "no contiguous free pages";
    case MemoryErrorCode::too_many_regions: return "too many regions";
  }
  return "unknown";
}

}  // namespace uvmbus::channel
