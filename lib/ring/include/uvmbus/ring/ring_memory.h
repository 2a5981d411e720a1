// Where a ring lives: a header page followed by a data area, in any memory
// (heap, memfd mapping, uio mapping). Also the header initialisation done once
// by whoever allocates a ring, before either side attaches.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "uvmbus/wire/ring.h"

namespace uvmbus::ring {

// Data area bounds. The lower bound is two pages (Hyper-V's minimum); the upper
// bound keeps every index and length comfortably inside 32 bits.
inline constexpr uint32_t kMinDataSize = 2 * wire::kHvPageSize;
inline constexpr uint32_t kMaxDataSize = 1u << 30;

struct RingMemory {
  wire::RingHeader* header = nullptr;
  // Start of the data area. When `mirrored`, the data pages are mapped twice
  // back to back, so [data, data + 2 * data_size) is valid and a packet that
  // wraps can be read or written with one contiguous copy.
  std::byte* data = nullptr;
  uint32_t data_size = 0;  // bytes; a multiple of 4096 in [kMinDataSize, kMaxDataSize]
  bool mirrored = false;
};

// Views `bytes` of contiguous memory at `base` as [header page][data area].
// Returns nullopt unless base is page-aligned-enough (8 bytes) and the size is
// a whole number of pages with a data area in bounds.
std::optional<RingMemory> ring_memory_from(void* base, std::size_t bytes) noexcept;

// True if `mem` describes a usable ring (sizes, alignment, non-null).
bool ring_memory_valid(const RingMemory& mem) noexcept;

// Zeroes the header page (indices, interrupt mask, pending_send_sz, reserved
// words) and sets the pending-send feature bit when requested. Only the side
// that allocates the ring calls this, before the peer can see it.
void init_ring_header(wire::RingHeader& header, bool pending_send_feature) noexcept;

}  // namespace uvmbus::ring
