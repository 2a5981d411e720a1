// MirroredMapping: a page range of a guest memory region mapped twice, back
// to back, so that [data(), data() + 2 * size()) is valid and byte i and byte
// i + size() are the same memory. A ring's data area mapped this way lets a
// packet that wraps be copied in one piece (ring::RingMemory::mirrored).
#pragma once

#include <cstddef>
#include <cstdint>

#include "uvmbus/channel/expected.h"
#include "uvmbus/channel/guest_memory_region.h"
#include "uvmbus/channel/memory_error.h"

namespace uvmbus::channel {

class MirroredMapping {
 public:
  // Maps region bytes [offset, offset + bytes) twice. offset and bytes must
  // be multiples of 4 KiB, bytes non-zero, and the range inside the region.
  // The mapping keeps the memory alive by itself; the region may go first.
  static Expected<MirroredMapping, MemoryError> create(const GuestMemoryRegion& region,
                                                       uint64_t offset,
                                                       std::size_t bytes) noexcept;

  MirroredMapping(MirroredMapping&& other) noexcept;
  MirroredMapping& operator=(MirroredMapping&& other) noexcept;
  MirroredMapping(const MirroredMapping&) = delete;
  MirroredMapping& operator=(const MirroredMapping&) = delete;
  ~MirroredMapping();

  // Start of the first view; the second starts at data() + size().
  std::byte* data() const noexcept { return data_; }
  // Bytes of one view.
  std::size_t size() const noexcept { return size_; }

 private:
  MirroredMapping(std::byte* data, std::size_t size) noexcept : data_(data), size_(size) {}

  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace uvmbus::channel
