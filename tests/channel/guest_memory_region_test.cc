// GuestMemoryRegion: creation and its failure modes, the shared fd, NUMA
// placement, ownership, and bounds-checked translation at the exact edges
// and for hostile values.
#include "uvmbus/channel/guest_memory_region.h"

#include <fcntl.h>
#include <numa.h>
#include <numaif.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include <gtest/gtest.h>

namespace uvmbus::channel {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
constexpr uint64_t kPage = wire::kHvPageSize;
constexpr uint64_t kBaseGpa = uint64_t{0x12345} * kPage;
constexpr uint64_t kPages = 8;

// An address `bytes` before `base`, computed without pointer arithmetic
// outside the mapping.
const void* address_before(const std::byte* base, uintptr_t bytes) {
  return reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(base) - bytes);
}

GuestMemoryRegion make_region(uint64_t base_gpa = kBaseGpa, std::size_t bytes = kPages * kPage) {
  Expected<GuestMemoryRegion, MemoryError> region = GuestMemoryRegion::create(base_gpa, bytes);
  EXPECT_TRUE(region) << (region ? "" : to_string(region.error().code));
  return std::move(*region);
}

TEST(GuestMemoryRegion, CreatesZeroedSealedMemoryAtTheRequestedGpa) {
  const GuestMemoryRegion region = make_region();
  EXPECT_EQ(region.base_gpa(), kBaseGpa);
  EXPECT_EQ(region.base_pfn(), 0x12345u);
  EXPECT_EQ(region.size(), kPages * kPage);
  EXPECT_EQ(region.page_count(), kPages);
  ASSERT_NE(region.base(), nullptr);
  for (std::size_t i = 0; i < region.size(); ++i) {
    ASSERT_EQ(region.base()[i], std::byte{0}) << i;
  }
  ASSERT_GE(region.fd(), 0);
  EXPECT_EQ(fcntl(region.fd(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  EXPECT_EQ(fcntl(region.fd(), F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
  // A peer holding the fd cannot shrink the memory under our mapping.
  EXPECT_NE(ftruncate(region.fd(), 0), 0);
  EXPECT_EQ(errno, EPERM);
}

TEST(GuestMemoryRegion, TheFdMapsTheSameBytes) {
  const GuestMemoryRegion region = make_region();
  void* second = mmap(nullptr, region.size(), PROT_READ | PROT_WRITE, MAP_SHARED, region.fd(), 0);
  ASSERT_NE(second, MAP_FAILED);
  auto* other = static_cast<std::byte*>(second);
  region.base()[3 * kPage + 17] = std::byte{0x5a};
  EXPECT_EQ(other[3 * kPage + 17], std::byte{0x5a});
  other[region.size() - 1] = std::byte{0xa5};
  EXPECT_EQ(region.base()[region.size() - 1], std::byte{0xa5});
  munmap(second, region.size());
}

TEST(GuestMemoryRegion, RejectsInvalidGeometry) {
  const auto code = [](uint64_t gpa, std::size_t bytes) {
    const Expected<GuestMemoryRegion, MemoryError> region = GuestMemoryRegion::create(gpa, bytes);
    return region ? std::optional<MemoryErrorCode>{} : region.error().code;
  };
  EXPECT_EQ(code(kBaseGpa, 0), MemoryErrorCode::invalid_argument);
  EXPECT_EQ(code(kBaseGpa, kPage - 1), MemoryErrorCode::invalid_argument);
  EXPECT_EQ(code(kBaseGpa, kPage + 8), MemoryErrorCode::invalid_argument);
  EXPECT_EQ(code(kBaseGpa + 8, kPage), MemoryErrorCode::invalid_argument);
  EXPECT_EQ(code(kGpaLimit, kPage), MemoryErrorCode::invalid_argument);
  EXPECT_EQ(code(kGpaLimit - kPage, 2 * kPage), MemoryErrorCode::invalid_argument);
  EXPECT_EQ(code(kMax - kPage + 1, kPage), MemoryErrorCode::invalid_argument);
  // The highest region that fits: one page ending exactly at the limit.
  EXPECT_EQ(code(kGpaLimit - kPage, kPage), std::nullopt);
  EXPECT_EQ(code(0, kPage), std::nullopt);
}

TEST(GuestMemoryRegion, TranslatesPfnsAtTheExactBounds) {
  const GuestMemoryRegion region = make_region();
  const uint64_t first = region.base_pfn();
  const uint64_t last = first + kPages - 1;
  EXPECT_EQ(region.page_address(first), region.base());
  EXPECT_EQ(region.page_address(last), region.base() + (kPages - 1) * kPage);
  EXPECT_EQ(region.page_address(first, kPages), region.base());
  EXPECT_EQ(region.page_address(last, 1), region.base() + (kPages - 1) * kPage);

  EXPECT_EQ(region.page_address(first - 1), nullptr);
  EXPECT_EQ(region.page_address(last + 1), nullptr);
  EXPECT_EQ(region.page_address(first, kPages + 1), nullptr);
  EXPECT_EQ(region.page_address(last, 2), nullptr);
  EXPECT_EQ(region.page_address(first, 0), nullptr);
  EXPECT_EQ(region.page_address(0), nullptr);
  EXPECT_EQ(region.page_address(kMax), nullptr);
  EXPECT_EQ(region.page_address(kMax, kMax), nullptr);
  EXPECT_EQ(region.page_address(first, kMax), nullptr);
  EXPECT_EQ(region.page_address(last, kMax - kPages + 2), nullptr);  // end wraps to `first`
}

TEST(GuestMemoryRegion, TranslatesGpaRangesAtTheExactBounds) {
  const GuestMemoryRegion region = make_region();
  const uint64_t end = kBaseGpa + region.size();
  EXPECT_EQ(region.host_address(kBaseGpa, 1), region.base());
  EXPECT_EQ(region.host_address(kBaseGpa, region.size()), region.base());
  EXPECT_EQ(region.host_address(end - 1, 1), region.base() + region.size() - 1);
  EXPECT_EQ(region.host_address(kBaseGpa + 100, region.size() - 100), region.base() + 100);

  EXPECT_EQ(region.host_address(kBaseGpa, region.size() + 1), nullptr);
  EXPECT_EQ(region.host_address(end - 1, 2), nullptr);
  EXPECT_EQ(region.host_address(end, 1), nullptr);
  EXPECT_EQ(region.host_address(kBaseGpa - 1, 1), nullptr);
  EXPECT_EQ(region.host_address(kBaseGpa - 1, 2), nullptr);  // straddles the start
  EXPECT_EQ(region.host_address(kBaseGpa, 0), nullptr);
  EXPECT_EQ(region.host_address(kMax, 1), nullptr);
  EXPECT_EQ(region.host_address(kBaseGpa, kMax), nullptr);
  EXPECT_EQ(region.host_address(kBaseGpa + 8, kMax - 7), nullptr);  // end wraps to kBaseGpa
  EXPECT_EQ(region.host_address(kMax, kMax), nullptr);
}

TEST(GuestMemoryRegion, GpaOfInvertsHostAddress) {
  const GuestMemoryRegion region = make_region();
  EXPECT_EQ(region.gpa_of(region.base()), kBaseGpa);
  EXPECT_EQ(region.gpa_of(region.base() + 5000, 100), kBaseGpa + 5000);
  EXPECT_EQ(region.gpa_of(region.base(), region.size()), kBaseGpa);
  EXPECT_EQ(region.gpa_of(region.base() + region.size() - 1), kBaseGpa + region.size() - 1);

  EXPECT_EQ(region.gpa_of(region.base() + region.size()), std::nullopt);
  EXPECT_EQ(region.gpa_of(address_before(region.base(), 1)), std::nullopt);
  EXPECT_EQ(region.gpa_of(region.base(), region.size() + 1), std::nullopt);
  EXPECT_EQ(region.gpa_of(region.base(), 0), std::nullopt);
  EXPECT_EQ(region.gpa_of(region.base() + 8, kMax), std::nullopt);
  EXPECT_EQ(region.gpa_of(nullptr), std::nullopt);
}

TEST(GuestMemoryRegion, PlacesPagesOnTheRequestedNodeOrDegrades) {
  Expected<GuestMemoryRegion, MemoryError> region =
      GuestMemoryRegion::create(kBaseGpa, kPages * kPage, 0);
  ASSERT_TRUE(region);
  if (numa_available() < 0) {
    EXPECT_EQ(region->numa_node(), std::nullopt);
    GTEST_SKIP() << "no NUMA support: region created unplaced";
  }
  EXPECT_EQ(region->numa_node(), 0);
  for (uint64_t page = 0; page < kPages; ++page) {
    int node = -1;
    ASSERT_EQ(get_mempolicy(&node, nullptr, 0, region->base() + page * kPage,
                            MPOL_F_NODE | MPOL_F_ADDR),
              0);
    EXPECT_EQ(node, 0) << "page " << page;
  }
}

TEST(GuestMemoryRegion, DefaultsToTheCallingThreadsNode) {
  const GuestMemoryRegion region = make_region();
  if (numa_available() < 0) {
    EXPECT_EQ(region.numa_node(), std::nullopt);
    return;
  }
  // The thread may migrate between nodes, so only check it is a usable node.
  ASSERT_TRUE(region.numa_node());
  EXPECT_NE(numa_bitmask_isbitset(numa_all_nodes_ptr, static_cast<unsigned>(*region.numa_node())),
            0);
}

TEST(GuestMemoryRegion, RejectsANodeThatDoesNotExist) {
  if (numa_available() < 0) {
    GTEST_SKIP() << "no NUMA support: node numbers are not checked";
  }
  for (int node : {numa_max_node() + 1, 4096, -2}) {
    const Expected<GuestMemoryRegion, MemoryError> region =
        GuestMemoryRegion::create(kBaseGpa, kPage, node);
    ASSERT_FALSE(region) << node;
    EXPECT_EQ(region.error().code, MemoryErrorCode::invalid_numa_node);
  }
}

TEST(GuestMemoryRegion, MoveTransfersOwnershipAndDestructionReleases) {
  GuestMemoryRegion region = make_region();
  const int fd = region.fd();
  std::byte* const base = region.base();
  {
    GuestMemoryRegion moved(std::move(region));
    EXPECT_EQ(region.fd(), -1);
    EXPECT_EQ(region.base(), nullptr);
    EXPECT_EQ(region.host_address(kBaseGpa, 1), nullptr);
    EXPECT_EQ(moved.fd(), fd);
    EXPECT_EQ(moved.base(), base);

    GuestMemoryRegion assigned = make_region(0, kPage);
    const int replaced_fd = assigned.fd();
    assigned = std::move(moved);
    EXPECT_EQ(assigned.fd(), fd);
    EXPECT_EQ(fcntl(replaced_fd, F_GETFD), -1);  // the old region was released
    EXPECT_EQ(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  }
  EXPECT_EQ(fcntl(fd, F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);
}

}  // namespace
}  // namespace uvmbus::channel
