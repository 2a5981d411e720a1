// MappedGuestMemory: what a host accepts as a guest memory region, and the
// bounds of its translations.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

#include "uvmbus/channel/guest_memory_region.h"
#include "uvmbus/channel/mapped_guest_memory.h"

namespace uvmbus::channel {
namespace {

// A memfd of `bytes`, optionally sealed against shrinking.
int make_memfd(std::size_t bytes, bool sealed) {
  const int fd = memfd_create("mapped-guest-memory-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0 || ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    return -1;
  }
  if (sealed && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) != 0) {
    return -1;
  }
  return fd;
}

constexpr uint64_t kBase = uint64_t{1} << 32;
constexpr std::size_t kBytes = 64 * 4096;

TEST(MappedGuestMemory, AcceptsASealedRegionAndTranslatesInsideIt) {
  MappedGuestMemory memory;
  const int fd = make_memfd(kBytes, true);
  ASSERT_GE(fd, 0);
  const Expected<std::byte*, MemoryError> base = memory.add_region(fd, kBase, kBytes);
  close(fd);
  ASSERT_TRUE(base);
  EXPECT_EQ(memory.host_address(kBase, kBytes), *base);
  EXPECT_EQ(memory.page_address(gpa_to_pfn(kBase) + 63), *base + 63 * 4096);
  EXPECT_EQ(memory.page_address(gpa_to_pfn(kBase) + 63, 2), nullptr);
  EXPECT_EQ(memory.host_address(kBase - 1, 2), nullptr);
  EXPECT_EQ(memory.host_address(kBase, 0), nullptr);
  EXPECT_EQ(memory.host_address(~uint64_t{0}, 2), nullptr);
  EXPECT_EQ(memory.page_address(~uint64_t{0}), nullptr);
  EXPECT_EQ(memory.page_address(gpa_to_pfn(kBase), ~uint64_t{0}), nullptr);
}

TEST(MappedGuestMemory, RefusesRegionsAHostCouldFaultOn) {
  MappedGuestMemory memory;
  const int unsealed = make_memfd(kBytes, false);
  const int small = make_memfd(kBytes / 2, true);
  const int good = make_memfd(kBytes, true);
  ASSERT_GE(unsealed, 0);
  ASSERT_GE(small, 0);
  ASSERT_GE(good, 0);
  EXPECT_FALSE(memory.add_region(unsealed, kBase, kBytes));
  EXPECT_FALSE(memory.add_region(small, kBase, kBytes));
  EXPECT_FALSE(memory.add_region(good, kBase + 1, kBytes));
  EXPECT_FALSE(memory.add_region(good, kBase, kBytes - 1));
  EXPECT_FALSE(memory.add_region(good, kBase, 0));
  EXPECT_FALSE(memory.add_region(good, kGpaLimit - 4096, kBytes));
  EXPECT_FALSE(memory.add_region(-1, kBase, kBytes));
  ASSERT_TRUE(memory.add_region(good, kBase, kBytes));
  // Overlapping an existing region, from either side.
  EXPECT_FALSE(memory.add_region(good, kBase + kBytes / 2, kBytes));
  EXPECT_FALSE(memory.add_region(good, kBase - kBytes / 2, kBytes));
  EXPECT_TRUE(memory.add_region(good, kBase + kBytes, kBytes));
  EXPECT_EQ(memory.region_count(), 2u);
  close(unsealed);
  close(small);
  close(good);
}

}  // namespace
}  // namespace uvmbus::channel
