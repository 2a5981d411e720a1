// PageAllocator: first-fit allocation of contiguous page runs in [0, N),
// tracking free runs in a sorted list and merging neighbours on release.
// Pure bookkeeping (no memory of its own); control plane only: it may
// allocate while updating its list. Not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace uvmbus::channel {

class PageAllocator {
 public:
  explicit PageAllocator(uint64_t page_count);

  // First page of the lowest free run of `count` pages, now allocated;
  // nullopt if count is 0 or no free run is that long.
  [[nodiscard]] std::optional<uint64_t> allocate(uint64_t count);

  // Returns [first, first + count) to the free list. Returns false, changing
  // nothing, unless count > 0 and the whole run is inside [0, N) and allocated.
  [[nodiscard]] bool release(uint64_t first, uint64_t count);

  uint64_t page_count() const noexcept { return page_count_; }
  uint64_t free_pages() const noexcept { return free_pages_; }

 private:
  struct Run {
    uint64_t first;
    uint64_t count;
  };

  uint64_t page_count_;
  uint64_t free_pages_;
  std::vector<Run> free_runs_;  // sorted by first, never adjacent or empty
};

}  // namespace uvmbus::channel
