// PageAllocator: first-fit search, splitting and merging of free runs.
#include "uvmbus/channel/page_allocator.h"

#include <algorithm>
#include <iterator>

namespace uvmbus::channel {

PageAllocator::PageAllocator(uint64_t page_count)
    : page_count_(page_count), free_pages_(page_count) {
  if (page_count > 0) {
    free_runs_.push_back({0, page_count});
  }
}

std::optional<uint64_t> PageAllocator::allocate(uint64_t count) {
  if (count == 0) {
    return std::nullopt;
  }
  const auto run = std::find_if(free_runs_.begin(), free_runs_.end(),
                                [count](const Run& r) { return r.count >= count; });
  if (run == free_runs_.end()) {
    return std::nullopt;
  }
  const uint64_t first = run->first;
  run->first += count;
  run->count -= count;
  if (run->count == 0) {
    free_runs_.erase(run);
  }
  free_pages_ -= count;
  return first;
}

bool PageAllocator::release(uint64_t first, uint64_t count) {
  if (count == 0 || first >= page_count_ || count > page_count_ - first) {
    return false;
  }
  const uint64_t end = first + count;
  // First free run starting after `first`; its predecessor starts before.
  const auto next = std::upper_bound(free_runs_.begin(), free_runs_.end(), first,
                                     [](uint64_t page, const Run& r) { return page < r.first; });
  const bool has_prev = next != free_runs_.begin();
  const bool has_next = next != free_runs_.end();
  // Overlapping a free run means part of the range is not allocated.
  if ((has_prev && std::prev(next)->first + std::prev(next)->count > first) ||
      (has_next && next->first < end)) {
    return false;
  }
  const bool merge_prev = has_prev && std::prev(next)->first + std::prev(next)->count == first;
  const bool merge_next = has_next && next->first == end;
  if (merge_prev && merge_next) {
    std::prev(next)->count += count + next->count;
    free_runs_.erase(next);
  } else if (merge_prev) {
    std::prev(next)->count += count;
  } else if (merge_next) {
    next->first = first;
    next->count += count;
  } else {
    free_runs_.insert(next, Run{first, count});
  }
  free_pages_ += count;
  return true;
}

}  // namespace uvmbus::channel
