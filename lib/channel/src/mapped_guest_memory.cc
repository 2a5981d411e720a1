// MappedGuestMemory: validating and mapping registered regions, and the
// lock-free GPA/PFN translation.
#include "uvmbus/channel/mapped_guest_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>

#include "uvmbus/channel/guest_memory_region.h"

namespace uvmbus::channel {

namespace {

Unexpected<MemoryError> failure(MemoryErrorCode code, int sys_errno = 0) noexcept {
  return Unexpected(MemoryError{code, sys_errno});
}

// True if [gpa, gpa + bytes) and [other, other + other_bytes) share a byte.
bool overlaps(uint64_t gpa, uint64_t bytes, uint64_t other, uint64_t other_bytes) noexcept {
  return gpa < other + other_bytes && other < gpa + bytes;
}

}  // namespace

MappedGuestMemory::~MappedGuestMemory() {
  const std::size_t count = count_.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < count; ++i) {
    munmap(regions_[i].base, regions_[i].bytes);
  }
}

Expected<std::byte*, MemoryError> MappedGuestMemory::add_region(int fd, uint64_t base_gpa,
                                                                uint64_t bytes) {
  const std::lock_guard lock(add_mutex_);
  const std::size_t count = count_.load(std::memory_order_relaxed);
  if (count == kMaxRegions) {
    return failure(MemoryErrorCode::too_many_regions);
  }
  if (bytes == 0 || bytes % wire::kHvPageSize != 0 || base_gpa % wire::kHvPageSize != 0 ||
      base_gpa >= kGpaLimit || bytes > kGpaLimit - base_gpa) {
    return failure(MemoryErrorCode::invalid_argument);
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (overlaps(base_gpa, bytes, regions_[i].base_gpa, regions_[i].bytes)) {
      return failure(MemoryErrorCode::invalid_argument);
    }
  }
  struct stat status {};
  if (fstat(fd, &status) != 0) {
    return failure(MemoryErrorCode::invalid_argument, errno);
  }
  const int seals = fcntl(fd, F_GET_SEALS);
  if (status.st_size < 0 || static_cast<uint64_t>(status.st_size) < bytes || seals < 0 ||
      (seals & F_SEAL_SHRINK) == 0) {
    return failure(MemoryErrorCode::invalid_argument, seals < 0 ? errno : 0);
  }
  void* base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    return failure(MemoryErrorCode::map_failed, errno);
  }
  regions_[count] = Region{.base_gpa = base_gpa, .bytes = bytes, .base = static_cast<std::byte*>(base)};
  count_.store(count + 1, std::memory_order_release);  // M-PUB
  return static_cast<std::byte*>(base);
}

std::byte* MappedGuestMemory::host_address(uint64_t gpa, uint64_t bytes) const noexcept {
  if (bytes == 0 || gpa >= kGpaLimit || bytes > kGpaLimit - gpa) {
    return nullptr;
  }
  const std::size_t count = count_.load(std::memory_order_acquire);  // M-GET
  for (std::size_t i = 0; i < count; ++i) {
    const Region& region = regions_[i];
    if (gpa >= region.base_gpa && gpa + bytes <= region.base_gpa + region.bytes) {
      return region.base + (gpa - region.base_gpa);
    }
  }
  return nullptr;
}

std::byte* MappedGuestMemory::page_address(uint64_t pfn, uint64_t count) const noexcept {
  constexpr uint64_t kPfnLimit = gpa_to_pfn(kGpaLimit);
  if (pfn >= kPfnLimit || count > kPfnLimit - pfn) {
    return nullptr;
  }
  return host_address(pfn_to_gpa(pfn), count * wire::kHvPageSize);
}

std::size_t MappedGuestMemory::region_count() const noexcept {
  return count_.load(std::memory_order_acquire);
}

}  // namespace uvmbus::channel
