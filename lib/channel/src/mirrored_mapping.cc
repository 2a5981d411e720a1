// MirroredMapping: reserve twice the size of address space, then map the
// same memfd range into both halves with MAP_FIXED.
#include "uvmbus/channel/mirrored_mapping.h"

#include <sys/mman.h>

#include <cerrno>
#include <utility>

namespace uvmbus::channel {

namespace {

// Maps `bytes` of `fd` at `offset` over the reserved address `at`.
bool map_view(std::byte* at, std::size_t bytes, int fd, uint64_t offset) noexcept {
  void* view = mmap(at, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
                    static_cast<off_t>(offset));
  return view != MAP_FAILED;
}

}  // namespace

Expected<MirroredMapping, MemoryError> MirroredMapping::create(const GuestMemoryRegion& region,
                                                               uint64_t offset,
                                                               std::size_t bytes) noexcept {
  if (bytes == 0 || bytes % wire::kHvPageSize != 0 || offset % wire::kHvPageSize != 0 ||
      offset > region.size() || bytes > region.size() - offset) {
    return Unexpected(MemoryError{MemoryErrorCode::invalid_argument});
  }
  // PROT_NONE placeholder: holds the address range until both views replace it.
  void* reserved = mmap(nullptr, 2 * bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                        -1, 0);
  if (reserved == MAP_FAILED) {
    return Unexpected(MemoryError{MemoryErrorCode::map_failed, errno});
  }
  MirroredMapping mapping(static_cast<std::byte*>(reserved), bytes);
  if (!map_view(mapping.data_, bytes, region.fd(), offset) ||
      !map_view(mapping.data_ + bytes, bytes, region.fd(), offset)) {
    return Unexpected(MemoryError{MemoryErrorCode::map_failed, errno});
  }
  return mapping;
}

MirroredMapping::MirroredMapping(MirroredMapping&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MirroredMapping& MirroredMapping::operator=(MirroredMapping&& other) noexcept {
  if (this != &other) {
    MirroredMapping old(std::move(*this));
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MirroredMapping::~MirroredMapping() {
  if (data_ != nullptr) {
    munmap(data_, 2 * size_);
  }
}

}  // namespace uvmbus::channel
