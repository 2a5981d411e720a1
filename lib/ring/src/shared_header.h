// Private: atomic access to the shared ring header and the index arithmetic
// both sides use. Every load or store of a header word goes through here so
// that each names its memory order; the barrier comments at the call sites say
// what each one orders and what it pairs with.
#pragma once

#include <atomic>
#include <bit>
#include <cstdint>

#include "uvmbus/ring/ring.h"
#include "uvmbus/wire/ring.h"

namespace uvmbus::ring::detail {

static_assert(std::endian::native == std::endian::little,
              "the ring is little-endian on the wire; descriptors are loaded as native words");
static_assert(std::atomic_ref<uint32_t>::is_always_lock_free);
static_assert(std::atomic_ref<uint64_t>::is_always_lock_free);

inline uint32_t load(uint32_t& word, std::memory_order order) noexcept {
  return std::atomic_ref<uint32_t>(word).load(order);
}

inline void store(uint32_t& word, uint32_t value, std::memory_order order) noexcept {
  std::atomic_ref<uint32_t>(word).store(value, order);
}

inline constexpr uint32_t kCacheLine = 64;

// Asks for the line holding `p` in a writable state, ahead of a store to it.
// (GCC emits PREFETCHW for __builtin_prefetch(p, 1) only when told the CPU
// has it; every x86-64 CPU in use does, and older ones treat it as a no-op.)
inline void prefetch_for_write(const void* p) noexcept {
#if defined(__x86_64__)
  asm volatile("prefetchw %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p, 1, 3);
#endif
}

// Bytes from `from` forward to `to` in a ring of `size` bytes (0 if equal).
inline uint32_t ring_distance(uint32_t from, uint32_t to, uint32_t size) noexcept {
  return to >= from ? to - from : size - from + to;
}

inline uint32_t ring_advance(uint32_t index, uint32_t bytes, uint32_t size) noexcept {
  const uint32_t next = index + bytes;  // both < size <= 2^30: no overflow
  return next >= size ? next - size : next;
}

// A peer-written index is usable only if 8-byte aligned and inside the data area.
inline RingError check_index(uint32_t index, uint32_t size) noexcept {
  if (index % wire::kPacketAlign != 0) {
    return RingError::index_misaligned;
  }
  return index < size ? RingError::none : RingError::index_out_of_range;
}

// The indices a side finds when it attaches to a ring, loaded once each and
// checked. Acquire: the first look at the peer's index pairs with the peer's
// publish (W-PUB or R-PUB), like every later load of it.
struct Attachment {
  RingError error;
  uint32_t write_index;
  uint32_t read_index;
};

inline Attachment attach(const RingMemory& mem) noexcept {
  if (!ring_memory_valid(mem)) {
    return {.error = RingError::bad_memory, .write_index = 0, .read_index = 0};
  }
  const uint32_t write_index = load(mem.header->write_index, std::memory_order_acquire);
  const uint32_t read_index = load(mem.header->read_index, std::memory_order_acquire);
  for (const uint32_t index : {write_index, read_index}) {
    if (const RingError error = check_index(index, mem.data_size); error != RingError::none) {
      return {.error = error, .write_index = 0, .read_index = 0};
    }
  }
  return {.error = RingError::none, .write_index = write_index, .read_index = read_index};
}

}  // namespace uvmbus::ring::detail
