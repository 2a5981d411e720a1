// GuestMemoryRegion: creation (memfd, seals, mapping, NUMA policy, prefault),
// ownership, and bounds-checked GPA/PFN translation.
#include "uvmbus/channel/guest_memory_region.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "numa_placement.h"

namespace uvmbus::channel {

namespace {

Unexpected<MemoryError> failure(MemoryErrorCode code, int sys_errno = 0) noexcept {
  return Unexpected(MemoryError{code, sys_errno});
}

// Allocates every page now, under the memory policy already set.
void touch_every_page(std::byte* base, std::size_t bytes) noexcept {
  for (std::size_t offset = 0; offset < bytes; offset += wire::kHvPageSize) {
    base[offset] = std::byte{0};
  }
}

}  // namespace

Expected<GuestMemoryRegion, MemoryError> GuestMemoryRegion::create(uint64_t base_gpa,
                                                                   std::size_t bytes,
                                                                   int numa_node) noexcept {
  if (sysconf(_SC_PAGESIZE) != wire::kHvPageSize) {
    return failure(MemoryErrorCode::unsupported_page_size);
  }
  if (bytes == 0 || bytes % wire::kHvPageSize != 0 || base_gpa % wire::kHvPageSize != 0 ||
      base_gpa >= kGpaLimit || bytes > kGpaLimit - base_gpa) {
    return failure(MemoryErrorCode::invalid_argument);
  }
  const Expected<std::optional<int>, MemoryError> node = detail::resolve_numa_node(numa_node);
  if (!node) {
    return Unexpected(node.error());
  }

  const int fd = memfd_create("uvmbus-guest-memory", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    return failure(MemoryErrorCode::memfd_create_failed, errno);
  }
  // From here on `region` owns the fd and, once set, the mapping.
  GuestMemoryRegion region(fd, nullptr, 0, base_gpa, std::nullopt);
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    return failure(MemoryErrorCode::resize_failed, errno);
  }
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    return failure(MemoryErrorCode::seal_failed, errno);
  }
  void* base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    return failure(MemoryErrorCode::map_failed, errno);
  }
  region.base_ = static_cast<std::byte*>(base);
  region.size_ = bytes;
  // A kernel that refuses the policy (no NUMA, seccomp) leaves the region
  // unplaced rather than failing it.
  if (*node && detail::prefer_numa_node(base, bytes, **node)) {
    region.numa_node_ = *node;
  }
  touch_every_page(region.base_, bytes);
  return region;
}

GuestMemoryRegion::GuestMemoryRegion(int fd, std::byte* base, std::size_t size,
                                     uint64_t base_gpa, std::optional<int> numa_node) noexcept
    : fd_(fd), base_(base), size_(size), base_gpa_(base_gpa), numa_node_(numa_node) {}

GuestMemoryRegion::GuestMemoryRegion(GuestMemoryRegion&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      base_(std::exchange(other.base_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      base_gpa_(std::exchange(other.base_gpa_, 0)),
      numa_node_(std::exchange(other.numa_node_, std::nullopt)) {}

GuestMemoryRegion& GuestMemoryRegion::operator=(GuestMemoryRegion&& other) noexcept {
  if (this != &other) {
    GuestMemoryRegion old(std::move(*this));
    fd_ = std::exchange(other.fd_, -1);
    base_ = std::exchange(other.base_, nullptr);
    size_ = std::exchange(other.size_, 0);
    base_gpa_ = std::exchange(other.base_gpa_, 0);
    numa_node_ = std::exchange(other.numa_node_, std::nullopt);
  }
  return *this;
}

GuestMemoryRegion::~GuestMemoryRegion() {
  if (base_ != nullptr) {
    munmap(base_, size_);
  }
  if (fd_ >= 0) {
    close(fd_);
  }
}

bool GuestMemoryRegion::contains(uint64_t offset, uint64_t bytes) const noexcept {
  return bytes != 0 && offset < size_ && bytes <= size_ - offset;
}

std::byte* GuestMemoryRegion::host_address(uint64_t gpa, uint64_t bytes) const noexcept {
  if (gpa < base_gpa_ || !contains(gpa - base_gpa_, bytes)) {
    return nullptr;
  }
  return base_ + (gpa - base_gpa_);
}

std::byte* GuestMemoryRegion::page_address(uint64_t pfn, uint64_t count) const noexcept {
  if (count == 0 || pfn < base_pfn()) {
    return nullptr;
  }
  const uint64_t index = pfn - base_pfn();
  if (index >= page_count() || count > page_count() - index) {
    return nullptr;
  }
  return base_ + pfn_to_gpa(index);
}

std::optional<uint64_t> GuestMemoryRegion::gpa_of(const void* address,
                                                  uint64_t bytes) const noexcept {
  const auto host = reinterpret_cast<uintptr_t>(address);
  const auto start = reinterpret_cast<uintptr_t>(base_);
  if (host < start || !contains(host - start, bytes)) {
    return std::nullopt;
  }
  return base_gpa_ + (host - start);
}

}  // namespace uvmbus::channel
