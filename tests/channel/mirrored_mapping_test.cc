// MirroredMapping: the two views really alias each other and the region,
// copies across the seam wrap, bad ranges are rejected, and the mapping
// outlives its region.
#include "uvmbus/channel/mirrored_mapping.h"

#include <cstring>
#include <limits>

#include <gtest/gtest.h>

namespace uvmbus::channel {
namespace {

constexpr uint64_t kPage = wire::kHvPageSize;

GuestMemoryRegion make_region(std::size_t pages) {
  Expected<GuestMemoryRegion, MemoryError> region = GuestMemoryRegion::create(0, pages * kPage);
  EXPECT_TRUE(region);
  return std::move(*region);
}

MirroredMapping make_mapping(const GuestMemoryRegion& region, uint64_t offset, std::size_t bytes) {
  Expected<MirroredMapping, MemoryError> mapping = MirroredMapping::create(region, offset, bytes);
  EXPECT_TRUE(mapping) << (mapping ? "" : to_string(mapping.error().code));
  return std::move(*mapping);
}

TEST(MirroredMapping, WritesThroughOneViewAppearInTheOther) {
  const GuestMemoryRegion region = make_region(4);
  const MirroredMapping mapping = make_mapping(region, kPage, 2 * kPage);
  ASSERT_EQ(mapping.size(), 2 * kPage);
  std::byte* const data = mapping.data();
  for (std::size_t i = 0; i < mapping.size(); ++i) {
    data[i] = static_cast<std::byte>(i * 7);
  }
  for (std::size_t i = 0; i < mapping.size(); ++i) {
    ASSERT_EQ(data[mapping.size() + i], static_cast<std::byte>(i * 7)) << i;
  }
  data[mapping.size() + 123] = std::byte{0xee};
  EXPECT_EQ(data[123], std::byte{0xee});
}

TEST(MirroredMapping, AliasesTheRegionAtItsOffset) {
  const GuestMemoryRegion region = make_region(4);
  const MirroredMapping mapping = make_mapping(region, 2 * kPage, kPage);
  region.base()[2 * kPage + 9] = std::byte{0x42};
  EXPECT_EQ(mapping.data()[9], std::byte{0x42});
  EXPECT_EQ(mapping.data()[kPage + 9], std::byte{0x42});
  mapping.data()[0] = std::byte{0x24};
  EXPECT_EQ(region.base()[2 * kPage], std::byte{0x24});
  EXPECT_EQ(region.base()[kPage - 1], std::byte{0});  // neighbours untouched
  EXPECT_EQ(region.base()[3 * kPage], std::byte{0});
}

TEST(MirroredMapping, OneCopyAcrossTheSeamWrapsAround) {
  const GuestMemoryRegion region = make_region(2);
  const MirroredMapping mapping = make_mapping(region, 0, 2 * kPage);
  const char message[] = "wraps around the end";
  std::memcpy(mapping.data() + mapping.size() - 5, message, sizeof(message));
  EXPECT_EQ(std::memcmp(region.base() + region.size() - 5, message, 5), 0);
  EXPECT_EQ(std::memcmp(region.base(), message + 5, sizeof(message) - 5), 0);
}

TEST(MirroredMapping, RejectsRangesOutsideTheRegion) {
  const GuestMemoryRegion region = make_region(4);
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  const auto rejected = [&](uint64_t offset, std::size_t bytes) {
    const Expected<MirroredMapping, MemoryError> mapping =
        MirroredMapping::create(region, offset, bytes);
    return !mapping && mapping.error().code == MemoryErrorCode::invalid_argument;
  };
  EXPECT_TRUE(rejected(0, 0));
  EXPECT_TRUE(rejected(0, kPage + 1));
  EXPECT_TRUE(rejected(1, kPage));
  EXPECT_TRUE(rejected(0, 5 * kPage));
  EXPECT_TRUE(rejected(3 * kPage, 2 * kPage));
  EXPECT_TRUE(rejected(4 * kPage, kPage));
  EXPECT_TRUE(rejected(kMax - kPage + 1, kPage));
  EXPECT_TRUE(rejected(kPage, std::numeric_limits<std::size_t>::max() - kPage + 1));
  EXPECT_FALSE(rejected(3 * kPage, kPage));
}

TEST(MirroredMapping, OutlivesItsRegionAndSurvivesMoves) {
  std::optional<GuestMemoryRegion> region = make_region(2);
  MirroredMapping mapping = make_mapping(*region, 0, 2 * kPage);
  region->base()[7] = std::byte{0x77};
  region.reset();
  MirroredMapping moved(std::move(mapping));
  EXPECT_EQ(mapping.data(), nullptr);
  EXPECT_EQ(moved.data()[7], std::byte{0x77});
  EXPECT_EQ(moved.data()[2 * kPage + 7], std::byte{0x77});
}

}  // namespace
}  // namespace uvmbus::channel
