// GuestMemory: region layout in GPA space, page allocation and release
// across regions, exhaustion, zeroing, lookups, and lifetime of pages.
#include "uvmbus/channel/guest_memory.h"

#include <cstring>
#include <limits>
#include <optional>

#include <gtest/gtest.h>

namespace uvmbus::channel {
namespace {

constexpr uint64_t kPage = wire::kHvPageSize;
constexpr uint64_t kFirstGpa = GuestMemory::kDefaultFirstGpa;
constexpr uint64_t kFirstPfn = kFirstGpa / kPage;

void add_region(GuestMemory& memory, uint64_t pages) {
  const Expected<const GuestMemoryRegion*, MemoryError> region =
      memory.add_region(pages * kPage);
  ASSERT_TRUE(region) << to_string(region.error().code);
}

GuestPages allocate(GuestMemory& memory, uint64_t count) {
  Expected<GuestPages, MemoryError> pages = memory.allocate_pages(count);
  EXPECT_TRUE(pages) << (pages ? "" : to_string(pages.error().code));
  return pages ? std::move(*pages) : GuestPages();
}

std::optional<MemoryErrorCode> allocation_error(GuestMemory& memory, uint64_t count) {
  const Expected<GuestPages, MemoryError> pages = memory.allocate_pages(count);
  return pages ? std::optional<MemoryErrorCode>{} : pages.error().code;
}

TEST(GuestMemory, LaysRegionsOutBackToBackFromTheFirstGpa) {
  GuestMemory memory;
  add_region(memory, 4);
  add_region(memory, 2);
  ASSERT_EQ(memory.region_count(), 2u);
  EXPECT_EQ(memory.region(0).base_gpa(), kFirstGpa);
  EXPECT_EQ(memory.region(1).base_gpa(), kFirstGpa + 4 * kPage);
  EXPECT_EQ(memory.free_pages(), 6u);
}

TEST(GuestMemory, AllocatesContiguousPagesFirstFitAndReusesFreedOnes) {
  GuestMemory memory;
  add_region(memory, 16);
  std::optional<GuestPages> a = allocate(memory, 3);
  const GuestPages b = allocate(memory, 5);
  EXPECT_EQ(a->first_pfn(), kFirstPfn);
  EXPECT_EQ(a->page_count(), 3u);
  EXPECT_EQ(a->gpa(), kFirstGpa);
  EXPECT_EQ(a->size(), 3 * kPage);
  EXPECT_EQ(b.first_pfn(), kFirstPfn + 3);
  EXPECT_EQ(b.region_offset(), 3 * kPage);
  EXPECT_EQ(b.data(), memory.region(0).base() + 3 * kPage);
  EXPECT_EQ(memory.free_pages(), 8u);
  a.reset();
  EXPECT_EQ(memory.free_pages(), 11u);
  const GuestPages c = allocate(memory, 2);
  EXPECT_EQ(c.first_pfn(), kFirstPfn);
}

TEST(GuestMemory, ExhaustionReportsOutOfPagesUntilPagesAreFreed) {
  GuestMemory memory;
  EXPECT_EQ(allocation_error(memory, 1), MemoryErrorCode::out_of_pages);  // no regions yet
  add_region(memory, 4);
  std::optional<GuestPages> all = allocate(memory, 4);
  EXPECT_EQ(allocation_error(memory, 1), MemoryErrorCode::out_of_pages);
  EXPECT_EQ(allocation_error(memory, std::numeric_limits<uint64_t>::max()),
            MemoryErrorCode::out_of_pages);
  EXPECT_EQ(allocation_error(memory, 0), MemoryErrorCode::invalid_argument);
  all.reset();
  EXPECT_EQ(allocation_error(memory, 4), std::nullopt);
}

TEST(GuestMemory, AnAllocationNeverSpansTwoRegions) {
  GuestMemory memory;
  add_region(memory, 4);
  add_region(memory, 4);
  EXPECT_EQ(allocation_error(memory, 5), MemoryErrorCode::out_of_pages);
  const GuestPages first = allocate(memory, 3);
  const GuestPages second = allocate(memory, 2);  // does not fit in region 0's last page
  EXPECT_EQ(&first.region(), &memory.region(0));
  EXPECT_EQ(&second.region(), &memory.region(1));
  EXPECT_EQ(second.first_pfn(), kFirstPfn + 4);
  const GuestPages last = allocate(memory, 1);
  EXPECT_EQ(last.first_pfn(), kFirstPfn + 3);
}

TEST(GuestMemory, FreedPagesComeBackZeroed) {
  GuestMemory memory;
  add_region(memory, 2);
  {
    const GuestPages pages = allocate(memory, 2);
    std::memset(pages.data(), 0xab, pages.size());
  }
  const GuestPages again = allocate(memory, 2);
  for (std::size_t i = 0; i < again.size(); ++i) {
    ASSERT_EQ(again.data()[i], std::byte{0}) << i;
  }
}

TEST(GuestMemory, LookupsCoverEveryRegionAndNothingElse) {
  GuestMemory memory;
  add_region(memory, 2);
  add_region(memory, 3);
  const GuestMemoryRegion& r0 = memory.region(0);
  const GuestMemoryRegion& r1 = memory.region(1);
  EXPECT_EQ(memory.page_address(kFirstPfn), r0.base());
  EXPECT_EQ(memory.page_address(kFirstPfn + 1), r0.base() + kPage);
  EXPECT_EQ(memory.page_address(kFirstPfn + 2), r1.base());
  EXPECT_EQ(memory.page_address(kFirstPfn + 4), r1.base() + 2 * kPage);
  EXPECT_EQ(memory.page_address(kFirstPfn + 2, 3), r1.base());
  EXPECT_EQ(memory.host_address(kFirstGpa + 2 * kPage + 5, 10), r1.base() + 5);

  // Adjacent in GPA space but not in host memory: a range may not straddle.
  EXPECT_EQ(memory.page_address(kFirstPfn + 1, 2), nullptr);
  EXPECT_EQ(memory.host_address(kFirstGpa + 2 * kPage - 1, 2), nullptr);
  EXPECT_EQ(memory.page_address(kFirstPfn - 1), nullptr);
  EXPECT_EQ(memory.page_address(kFirstPfn + 5), nullptr);
  EXPECT_EQ(memory.page_address(0), nullptr);
  EXPECT_EQ(memory.page_address(kFirstPfn, 0), nullptr);
  EXPECT_EQ(memory.host_address(std::numeric_limits<uint64_t>::max(), 1), nullptr);

  const GuestPages pages = allocate(memory, 3);
  EXPECT_EQ(memory.gpa_of(pages.data()), pages.gpa());
  EXPECT_EQ(memory.gpa_of(pages.data(), pages.size()), pages.gpa());
  EXPECT_EQ(memory.gpa_of(&pages), std::nullopt);
}

TEST(GuestMemory, PagesKeepTheMemoryAliveAfterGuestMemoryIsGone) {
  std::optional<GuestMemory> memory(std::in_place);
  add_region(*memory, 2);
  GuestPages pages = allocate(*memory, 1);
  memory.reset();
  pages.data()[0] = std::byte{1};
  EXPECT_EQ(pages.region().base()[0], std::byte{1});
  GuestPages moved = std::move(pages);
  EXPECT_TRUE(pages.empty());
  EXPECT_EQ(moved.page_count(), 1u);
}

TEST(GuestMemory, MoveAssignmentReleasesThePagesItReplaces) {
  GuestMemory memory;
  add_region(memory, 4);
  GuestPages a = allocate(memory, 2);
  GuestPages b = allocate(memory, 2);
  EXPECT_EQ(memory.free_pages(), 0u);
  a = std::move(b);
  EXPECT_EQ(memory.free_pages(), 2u);
  EXPECT_EQ(a.first_pfn(), kFirstPfn + 2);
}

TEST(GuestMemory, RegionCountIsBounded) {
  GuestMemory memory;
  for (std::size_t i = 0; i < GuestMemory::kMaxRegions; ++i) {
    add_region(memory, 1);
  }
  const Expected<const GuestMemoryRegion*, MemoryError> extra = memory.add_region(kPage);
  ASSERT_FALSE(extra);
  EXPECT_EQ(extra.error().code, MemoryErrorCode::too_many_regions);
  EXPECT_EQ(memory.page_address(kFirstPfn + GuestMemory::kMaxRegions - 1),
            memory.region(GuestMemory::kMaxRegions - 1).base());
}

TEST(GuestMemory, AFailedRegionLeavesTheLayoutUnchanged) {
  GuestMemory memory;
  const Expected<const GuestMemoryRegion*, MemoryError> bad = memory.add_region(kPage + 1);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, MemoryErrorCode::invalid_argument);
  add_region(memory, 1);
  EXPECT_EQ(memory.region_count(), 1u);
  EXPECT_EQ(memory.region(0).base_gpa(), kFirstGpa);
}

}  // namespace
}  // namespace uvmbus::channel
