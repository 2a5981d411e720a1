// GuestMemoryRegion: a block of "guest-physical" memory. It is memfd-backed
// shared memory (so its fd can be handed to a host process), placed on a NUMA
// node, and given a guest-physical address (GPA) so that every 4 KiB page has
// a page frame number, PFN = GPA >> 12, that GPADLs and GPA-direct packets
// can carry.
//
// Translations from GPAs and PFNs to host pointers are bounds-checked against
// the region and safe for any input values: a range that is empty, not
// entirely inside the region, or whose end overflows yields nullptr.
//
// Thread safety: a region is immutable after create(); every const member may
// be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "uvmbus/channel/expected.h"
#include "uvmbus/channel/memory_error.h"
#include "uvmbus/wire/ring.h"

namespace uvmbus::channel {

// Guest-physical addresses stay below 2^52 (the x86-64 physical address
// width), so GPA + length and PFN + count never overflow 64 bits.
inline constexpr uint64_t kGpaLimit = uint64_t{1} << 52;

// NUMA node request meaning "the node of the calling thread's CPU".
inline constexpr int kLocalNumaNode = -1;

constexpr uint64_t gpa_to_pfn(uint64_t gpa) noexcept { return gpa >> wire::kHvPageShift; }
constexpr uint64_t pfn_to_gpa(uint64_t pfn) noexcept { return pfn << wire::kHvPageShift; }

class GuestMemoryRegion {
 public:
  // Creates `bytes` of zeroed memory at guest-physical `base_gpa`: a memfd
  // (close-on-exec, sealed against shrinking and growing so a peer cannot
  // make our mapping fault), mapped shared, with a preferred-node policy
  // for `numa_node` and every page touched so it is allocated now, on the
  // control plane. `bytes` and `base_gpa` must be multiples of 4 KiB, bytes
  // non-zero, and the region must end at or below kGpaLimit. Without NUMA
  // support the region is created unplaced (numa_node() is nullopt).
  static Expected<GuestMemoryRegion, MemoryError> create(
      uint64_t base_gpa, std::size_t bytes, int numa_node = kLocalNumaNode) noexcept;

  GuestMemoryRegion(GuestMemoryRegion&& other) noexcept;
  GuestMemoryRegion& operator=(GuestMemoryRegion&& other) noexcept;
  GuestMemoryRegion(const GuestMemoryRegion&) = delete;
  GuestMemoryRegion& operator=(const GuestMemoryRegion&) = delete;
  ~GuestMemoryRegion();

  // The memfd; owned by the region, valid while it lives.
  int fd() const noexcept { return fd_; }
  std::size_t size() const noexcept { return size_; }
  uint64_t base_gpa() const noexcept { return base_gpa_; }
  uint64_t base_pfn() const noexcept { return gpa_to_pfn(base_gpa_); }
  uint64_t page_count() const noexcept { return size_ / wire::kHvPageSize; }
  // Host address of base_gpa().
  std::byte* base() const noexcept { return base_; }
  // The node whose memory policy the region carries; nullopt if unplaced.
  std::optional<int> numa_node() const noexcept { return numa_node_; }

  // Host address of [gpa, gpa + bytes), or nullptr unless bytes > 0 and the
  // whole range lies inside the region.
  std::byte* host_address(uint64_t gpa, uint64_t bytes) const noexcept;
  // Host address of `count` pages starting at `pfn`, or nullptr unless
  // count > 0 and all of them lie inside the region.
  std::byte* page_address(uint64_t pfn, uint64_t count = 1) const noexcept;
  // GPA of host memory [address, address + bytes), or nullopt unless bytes > 0
  // and the whole range lies inside the region's mapping.
  std::optional<uint64_t> gpa_of(const void* address, uint64_t bytes = 1) const noexcept;

 private:
  GuestMemoryRegion(int fd, std::byte* base, std::size_t size, uint64_t base_gpa,
                    std::optional<int> numa_node) noexcept;
  // True if [offset, offset + bytes) is non-empty and inside the region.
  bool contains(uint64_t offset, uint64_t bytes) const noexcept;

  int fd_ = -1;
  std::byte* base_ = nullptr;
  std::size_t size_ = 0;
  uint64_t base_gpa_ = 0;
  std::optional<int> numa_node_;
};

}  // namespace uvmbus::channel
