// GuestMemory: region bookkeeping, page allocation and release, and the
// lock-free lookups across regions.
#include "uvmbus/channel/guest_memory.h"

#include <array>
#include <cassert>
#include <atomic>
#include <cstring>
#include <mutex>
#include <utility>

#include "uvmbus/channel/page_allocator.h"

namespace uvmbus::channel {

namespace detail {

struct RegionSlot {
  GuestMemoryRegion region;
  PageAllocator pages;  // guarded by GuestMemoryState::mutex
};

struct GuestMemoryState {
  explicit GuestMemoryState(uint64_t first_gpa) : next_gpa(first_gpa) {}

  // Zeroes the pages (free pages always read as zero) and frees them.
  void release(std::size_t index, uint64_t first_page, uint64_t count) noexcept {
    RegionSlot& slot = *slots[index];
    std::memset(slot.region.base() + first_page * wire::kHvPageSize, 0,
                count * wire::kHvPageSize);
    const std::lock_guard lock(mutex);
    [[maybe_unused]] const bool released = slot.pages.release(first_page, count);
    assert(released);
  }

  std::mutex mutex;   // serialises add_region, allocation and release
  uint64_t next_gpa;  // guarded by mutex
  std::array<std::unique_ptr<RegionSlot>, GuestMemory::kMaxRegions> slots;
  // Slots [0, region_count) are published and never change again. A-PUB:
  // add_region's store-release after filling the slot; pairs with A-GET,
  // the load-acquire in every lookup, so a reader sees the slot complete.
  std::atomic<std::size_t> region_count{0};
};

}  // namespace detail

namespace {

// Calls `lookup` on each published region until one gives a non-empty result.
template <typename Lookup>
auto find_in_regions(const detail::GuestMemoryState& state, Lookup lookup) noexcept
    -> decltype(lookup(state.slots[0]->region)) {
  const std::size_t count = state.region_count.load(std::memory_order_acquire);  // A-GET
  for (std::size_t i = 0; i < count; ++i) {
    if (auto found = lookup(state.slots[i]->region)) {
      return found;
    }
  }
  return {};
}

}  // namespace

// ---------------------------------------------------------------------------
// GuestPages

GuestPages::GuestPages(std::shared_ptr<detail::GuestMemoryState> state, std::size_t region_index,
                       const GuestMemoryRegion* region, uint64_t first_page,
                       uint64_t page_count) noexcept
    : state_(std::move(state)),
      region_index_(region_index),
      region_(region),
      first_page_(first_page),
      page_count_(page_count) {}

GuestPages::GuestPages(GuestPages&& other) noexcept
    : state_(std::move(other.state_)),
      region_index_(std::exchange(other.region_index_, 0)),
      region_(std::exchange(other.region_, nullptr)),
      first_page_(std::exchange(other.first_page_, 0)),
      page_count_(std::exchange(other.page_count_, 0)) {}

GuestPages& GuestPages::operator=(GuestPages&& other) noexcept {
  if (this != &other) {
    release();
    state_ = std::move(other.state_);
    region_index_ = std::exchange(other.region_index_, 0);
    region_ = std::exchange(other.region_, nullptr);
    first_page_ = std::exchange(other.first_page_, 0);
    page_count_ = std::exchange(other.page_count_, 0);
  }
  return *this;
}

GuestPages::~GuestPages() { release(); }

void GuestPages::release() noexcept {
  if (state_) {
    state_->release(region_index_, first_page_, page_count_);
    state_.reset();
  }
}

// ---------------------------------------------------------------------------
// GuestMemory

GuestMemory::GuestMemory(uint64_t first_gpa)
    : state_(std::make_shared<detail::GuestMemoryState>(first_gpa)) {}

GuestMemory::~GuestMemory() = default;

Expected<const GuestMemoryRegion*, MemoryError> GuestMemory::add_region(std::size_t bytes,
                                                                        int numa_node) {
  const std::lock_guard lock(state_->mutex);
  const std::size_t index = state_->region_count.load(std::memory_order_relaxed);
  if (index == kMaxRegions) {
    return Unexpected(MemoryError{MemoryErrorCode::too_many_regions});
  }
  Expected<GuestMemoryRegion, MemoryError> region =
      GuestMemoryRegion::create(state_->next_gpa, bytes, numa_node);
  if (!region) {
    return Unexpected(region.error());
  }
  const uint64_t page_count = region->page_count();
  state_->next_gpa = region->base_gpa() + region->size();
  state_->slots[index] = std::make_unique<detail::RegionSlot>(
      detail::RegionSlot{std::move(*region), PageAllocator(page_count)});
  state_->region_count.store(index + 1, std::memory_order_release);  // A-PUB
  return &state_->slots[index]->region;
}

Expected<GuestPages, MemoryError> GuestMemory::allocate_pages(uint64_t count) {
  if (count == 0) {
    return Unexpected(MemoryError{MemoryErrorCode::invalid_argument});
  }
  const std::lock_guard lock(state_->mutex);
  const std::size_t regions = state_->region_count.load(std::memory_order_relaxed);
  for (std::size_t index = 0; index < regions; ++index) {
    detail::RegionSlot& slot = *state_->slots[index];
    if (const std::optional<uint64_t> first = slot.pages.allocate(count)) {
      return GuestPages(state_, index, &slot.region, *first, count);
    }
  }
  return Unexpected(MemoryError{MemoryErrorCode::out_of_pages});
}

std::byte* GuestMemory::host_address(uint64_t gpa, uint64_t bytes) const noexcept {
  return find_in_regions(*state_, [&](const GuestMemoryRegion& region) {
    return region.host_address(gpa, bytes);
  });
}

std::byte* GuestMemory::page_address(uint64_t pfn, uint64_t count) const noexcept {
  return find_in_regions(*state_, [&](const GuestMemoryRegion& region) {
    return region.page_address(pfn, count);
  });
}

std::optional<uint64_t> GuestMemory::gpa_of(const void* address, uint64_t bytes) const noexcept {
  return find_in_regions(*state_, [&](const GuestMemoryRegion& region) {
    return region.gpa_of(address, bytes);
  });
}

std::size_t GuestMemory::region_count() const noexcept {
  return state_->region_count.load(std::memory_order_acquire);  // A-GET
}

const GuestMemoryRegion& GuestMemory::region(std::size_t index) const noexcept {
  assert(index < region_count());
  return state_->slots[index]->region;
}

uint64_t GuestMemory::free_pages() const {
  const std::lock_guard lock(state_->mutex);
  const std::size_t regions = state_->region_count.load(std::memory_order_relaxed);
  uint64_t total = 0;
  for (std::size_t i = 0; i < regions; ++i) {
    total += state_->slots[i]->pages.free_pages();
  }
  return total;
}

}  // namespace uvmbus::channel
