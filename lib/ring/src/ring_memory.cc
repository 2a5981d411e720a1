// Validation of ring memory and the one-time initialisation of a ring header.
#include "uvmbus/ring/ring_memory.h"

#include <cstdint>
#include <cstring>

namespace uvmbus::ring {

namespace {

bool aligned8(const void* p) noexcept {
  return (reinterpret_cast<uintptr_t>(p) % alignof(uint64_t)) == 0;
}

}  // namespace

bool ring_memory_valid(const RingMemory& mem) noexcept {
  return mem.header != nullptr && mem.data != nullptr && aligned8(mem.header) &&
         aligned8(mem.data) && mem.data_size >= kMinDataSize &&
         mem.data_size <= kMaxDataSize && mem.data_size % wire::kHvPageSize == 0;
}

std::optional<RingMemory> ring_memory_from(void* base, std::size_t bytes) noexcept {
  if (base == nullptr || bytes % wire::kHvPageSize != 0 || bytes < wire::kHvPageSize) {
    return std::nullopt;
  }
  const std::size_t data_size = bytes - wire::kHvPageSize;
  if (data_size < kMinDataSize || data_size > kMaxDataSize) {
    return std::nullopt;
  }
  RingMemory mem{
      .header = static_cast<wire::RingHeader*>(base),
      .data = static_cast<std::byte*>(base) + wire::kHvPageSize,
      .data_size = static_cast<uint32_t>(data_size),
      .mirrored = false,
  };
  if (!ring_memory_valid(mem)) {
    return std::nullopt;
  }
  return mem;
}

void init_ring_header(wire::RingHeader& header, bool pending_send_feature) noexcept {
  std::memset(&header, 0, sizeof(header));
  header.feature_bits = pending_send_feature ? wire::kRingFeaturePendingSendSz : 0;
}

}  // namespace uvmbus::ring
