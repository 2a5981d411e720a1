// MappedGuestMemory: the host's view of a guest's registered memory. Each
// region arrives as (memfd, guest-physical base, size) and is mapped shared
// here; GPADL page numbers and GPA-direct ranges are then translated through
// it with bounds checks, so a guest can never make the host touch memory
// outside what it registered.
//
// The guest is untrusted: add_region() refuses misaligned or overlapping
// ranges, ranges past kGpaLimit, and fds that are too small or not sealed
// against shrinking (a guest that shrank its memfd later would make the
// host's accesses fault).
//
// Threads: add_region() calls are serialised by a mutex; lookups take no
// lock and may run on any thread, also while regions are being added.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "uvmbus/channel/expected.h"
#include "uvmbus/channel/memory_error.h"

namespace uvmbus::channel {

class MappedGuestMemory {
 public:
  static constexpr std::size_t kMaxRegions = 64;

  MappedGuestMemory() noexcept = default;
  MappedGuestMemory(const MappedGuestMemory&) = delete;
  MappedGuestMemory& operator=(const MappedGuestMemory&) = delete;
  ~MappedGuestMemory();

  // Maps bytes [0, bytes) of `fd` at guest-physical [base_gpa, base_gpa +
  // bytes). The fd is not kept (the mapping holds the memory). Returns the
  // host address of base_gpa.
  Expected<std::byte*, MemoryError> add_region(int fd, uint64_t base_gpa, uint64_t bytes);

  // Host address of `count` pages from `pfn`, or nullptr unless count > 0
  // and every page lies inside one region.
  std::byte* page_address(uint64_t pfn, uint64_t count = 1) const noexcept;
  // Host address of [gpa, gpa + bytes), or nullptr unless bytes > 0 and the
  // range lies inside one region.
  std::byte* host_address(uint64_t gpa, uint64_t bytes) const noexcept;

  std::size_t region_count() const noexcept;

 private:
  struct Region {
    uint64_t base_gpa = 0;
    uint64_t bytes = 0;
    std::byte* base = nullptr;
  };

  std::mutex add_mutex_;
  std::array<Region, kMaxRegions> regions_{};
  // Regions [0, count_) are published and never change. M-PUB: add_region's
  // store-release after filling the slot; pairs with M-GET, the load-acquire
  // in every lookup.
  std::atomic<std::size_t> count_{0};
};

}  // namespace uvmbus::channel
