// PageAllocator: first fit, merging, exhaustion, rejected releases, and a
// random walk checked against a page bitmap.
#include "uvmbus/channel/page_allocator.h"

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace uvmbus::channel {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

TEST(PageAllocator, AllocatesFirstFitFromTheLowestPage) {
  PageAllocator pages(16);
  EXPECT_EQ(pages.allocate(3), 0u);
  EXPECT_EQ(pages.allocate(5), 3u);
  EXPECT_EQ(pages.allocate(8), 8u);
  EXPECT_EQ(pages.free_pages(), 0u);
}

TEST(PageAllocator, ReusesTheFirstHoleThatFits) {
  PageAllocator pages(16);
  ASSERT_EQ(pages.allocate(2), 0u);
  ASSERT_EQ(pages.allocate(4), 2u);
  ASSERT_EQ(pages.allocate(2), 6u);
  ASSERT_TRUE(pages.release(0, 2));
  ASSERT_TRUE(pages.release(2, 4));  // merges into a 6-page hole at 0
  EXPECT_EQ(pages.allocate(5), 0u);
  EXPECT_EQ(pages.allocate(2), 8u);  // the 1-page hole at 5 is too small
  EXPECT_EQ(pages.allocate(1), 5u);
}

TEST(PageAllocator, MergesBothNeighboursBackIntoOneRun) {
  PageAllocator pages(12);
  ASSERT_EQ(pages.allocate(4), 0u);
  ASSERT_EQ(pages.allocate(4), 4u);
  ASSERT_EQ(pages.allocate(4), 8u);
  ASSERT_TRUE(pages.release(0, 4));
  ASSERT_TRUE(pages.release(8, 4));
  ASSERT_TRUE(pages.release(4, 4));
  EXPECT_EQ(pages.free_pages(), 12u);
  EXPECT_EQ(pages.allocate(12), 0u);
}

TEST(PageAllocator, ExhaustionFailsWithoutChangingState) {
  PageAllocator pages(4);
  ASSERT_EQ(pages.allocate(3), 0u);
  EXPECT_EQ(pages.allocate(2), std::nullopt);
  EXPECT_EQ(pages.allocate(kMax), std::nullopt);
  EXPECT_EQ(pages.free_pages(), 1u);
  EXPECT_EQ(pages.allocate(1), 3u);
  EXPECT_EQ(pages.allocate(1), std::nullopt);
}

TEST(PageAllocator, ZeroPagesAndEmptyAllocatorsAllocateNothing) {
  PageAllocator pages(4);
  EXPECT_EQ(pages.allocate(0), std::nullopt);
  PageAllocator none(0);
  EXPECT_EQ(none.allocate(1), std::nullopt);
  EXPECT_FALSE(none.release(0, 1));
}

TEST(PageAllocator, RejectsReleasesOfPagesThatAreNotAllocated) {
  PageAllocator pages(8);
  ASSERT_EQ(pages.allocate(4), 0u);
  EXPECT_FALSE(pages.release(4, 1));       // free already
  EXPECT_FALSE(pages.release(3, 2));       // straddles into the free run
  EXPECT_FALSE(pages.release(0, 0));       // empty
  EXPECT_FALSE(pages.release(8, 1));       // past the end
  EXPECT_FALSE(pages.release(2, kMax));    // end overflows
  EXPECT_FALSE(pages.release(kMax, 2));
  EXPECT_EQ(pages.free_pages(), 4u);
  EXPECT_TRUE(pages.release(1, 2));        // a part of an allocation is fine
  EXPECT_FALSE(pages.release(1, 2));       // but not twice
  EXPECT_FALSE(pages.release(0, 2));       // overlaps the run freed above
  EXPECT_EQ(pages.free_pages(), 6u);
}

// First fit on a bitmap: the reference the allocator must agree with.
std::optional<uint64_t> model_allocate(std::vector<bool>& used, uint64_t count) {
  uint64_t run = 0;
  for (uint64_t page = 0; page < used.size(); ++page) {
    run = used[page] ? 0 : run + 1;
    if (run == count) {
      const uint64_t first = page + 1 - count;
      for (uint64_t p = first; p <= page; ++p) {
        used[p] = true;
      }
      return first;
    }
  }
  return std::nullopt;
}

TEST(PageAllocator, RandomWalkMatchesABitmapModel) {
  constexpr uint64_t kPages = 256;
  PageAllocator pages(kPages);
  std::vector<bool> used(kPages, false);
  struct Allocation {
    uint64_t first;
    uint64_t count;
  };
  std::vector<Allocation> live;
  std::mt19937_64 random(12345);
  for (int step = 0; step < 20000; ++step) {
    if (live.empty() || random() % 2 == 0) {
      const uint64_t count = 1 + random() % 24;
      const std::optional<uint64_t> expected = model_allocate(used, count);
      ASSERT_EQ(pages.allocate(count), expected) << "step " << step;
      if (expected) {
        live.push_back({*expected, count});
      }
    } else {
      const std::size_t victim = random() % live.size();
      const Allocation freed = live[victim];
      live[victim] = live.back();
      live.pop_back();
      ASSERT_TRUE(pages.release(freed.first, freed.count)) << "step " << step;
      for (uint64_t p = freed.first; p < freed.first + freed.count; ++p) {
        used[p] = false;
      }
    }
    uint64_t model_free = 0;
    for (bool page_used : used) {
      model_free += page_used ? 0 : 1;
    }
    ASSERT_EQ(pages.free_pages(), model_free) << "step " << step;
  }
}

}  // namespace
}  // namespace uvmbus::channel
