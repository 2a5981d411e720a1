// Why a guest-memory operation failed: a cause, plus the errno of the system
// call that failed when there is one.
#pragma once

#include <cstdint>

namespace uvmbus::channel {

enum class MemoryErrorCode : uint8_t {
  invalid_argument,       // size, alignment or GPA out of range
  unsupported_page_size,  // the host page size is not 4 KiB
  invalid_numa_node,      // the requested node has no memory we may use
  memfd_create_failed,
  resize_failed,          // ftruncate
  seal_failed,            // F_ADD_SEALS
  map_failed,             // mmap
  out_of_pages,           // no free run of contiguous pages is long enough
  too_many_regions,       // GuestMemory::kMaxRegions reached
};

struct MemoryError {
  MemoryErrorCode code;
  int sys_errno = 0;  // errno of the failed system call, 0 if none
};

const char* to_string(MemoryErrorCode code) noexcept;

}  // namespace uvmbus::channel
