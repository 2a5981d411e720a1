// GuestMemory: the guest-physical memory of one guest, a set of regions laid
// out one after another in GPA space, with a page allocator per region.
// Channels take their ring and buffer memory from here as GuestPages and
// address it by PFN; a host process maps the same regions through their fds.
//
// Threads: add_region() and allocate_pages() run on the control plane and
// are serialised by a mutex. GPA/PFN lookups take no lock and may run on any
// thread, also while regions are being added. GuestPages may be destroyed on
// any thread. Allocated pages keep the memory (not the GuestMemory object)
// alive, so a GuestMemory may be destroyed before its GuestPages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "uvmbus/channel/expected.h"
#include "uvmbus/channel/guest_memory_region.h"
#include "uvmbus/channel/memory_error.h"

namespace uvmbus::channel {

namespace detail {
struct GuestMemoryState;
}  // namespace detail

// A run of contiguous, allocated guest pages; released (and zeroed) when
// destroyed. A default-constructed or moved-from GuestPages holds nothing:
// it is empty() and only empty() and destruction may be called on it.
class GuestPages {
 public:
  GuestPages() noexcept = default;
  GuestPages(GuestPages&& other) noexcept;
  GuestPages& operator=(GuestPages&& other) noexcept;
  GuestPages(const GuestPages&) = delete;
  GuestPages& operator=(const GuestPages&) = delete;
  ~GuestPages();

  bool empty() const noexcept { return page_count_ == 0; }
  uint64_t first_pfn() const noexcept { return region_->base_pfn() + first_page_; }
  uint64_t page_count() const noexcept { return page_count_; }
  uint64_t gpa() const noexcept { return pfn_to_gpa(first_pfn()); }
  std::size_t size() const noexcept { return page_count_ * wire::kHvPageSize; }
  // Host address of the first page; the run is contiguous in host memory too.
  std::byte* data() const noexcept { return region_->base() + region_offset(); }
  // The region holding the run, and the run's byte offset in its memfd.
  const GuestMemoryRegion& region() const noexcept { return *region_; }
  uint64_t region_offset() const noexcept { return first_page_ * wire::kHvPageSize; }

 private:
  friend class GuestMemory;
  GuestPages(std::shared_ptr<detail::GuestMemoryState> state, std::size_t region_index,
             const GuestMemoryRegion* region, uint64_t first_page, uint64_t page_count) noexcept;
  void release() noexcept;

  std::shared_ptr<detail::GuestMemoryState> state_;
  std::size_t region_index_ = 0;
  const GuestMemoryRegion* region_ = nullptr;
  uint64_t first_page_ = 0;  // page index inside the region
  uint64_t page_count_ = 0;
};

class GuestMemory {
 public:
  static constexpr std::size_t kMaxRegions = 64;
  // Where the first region starts. Not zero, so that a PFN of 0 or a small
  // offset mistaken for an address never translates.
  static constexpr uint64_t kDefaultFirstGpa = uint64_t{1} << 32;

  // `first_gpa` must be a multiple of 4 KiB (else add_region fails). A
  // moved-from GuestMemory may only be destroyed or assigned to.
  explicit GuestMemory(uint64_t first_gpa = kDefaultFirstGpa);
  GuestMemory(GuestMemory&&) noexcept = default;
  GuestMemory& operator=(GuestMemory&&) noexcept = default;
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;
  ~GuestMemory();

  // Creates a region of `bytes` (see GuestMemoryRegion::create) at the first
  // GPA after the previous region. The region lives as long as this object
  // or any GuestPages from it.
  Expected<const GuestMemoryRegion*, MemoryError> add_region(std::size_t bytes,
                                                             int numa_node = kLocalNumaNode);

  // `count` contiguous zeroed pages, first-fit in the first region that has
  // room. out_of_pages if none has; invalid_argument for count 0.
  Expected<GuestPages, MemoryError> allocate_pages(uint64_t count);

  // Bounds-checked lookups across all regions; a range must lie entirely
  // inside one region (see GuestMemoryRegion for the exact rules).
  std::byte* host_address(uint64_t gpa, uint64_t bytes) const noexcept;
  std::byte* page_address(uint64_t pfn, uint64_t count = 1) const noexcept;
  std::optional<uint64_t> gpa_of(const void* address, uint64_t bytes = 1) const noexcept;

  std::size_t region_count() const noexcept;
  // Regions in GPA order; index < region_count().
  const GuestMemoryRegion& region(std::size_t index) const noexcept;
  uint64_t free_pages() const;

 private:
  std::shared_ptr<detail::GuestMemoryState> state_;
};

}  // namespace uvmbus::channel
