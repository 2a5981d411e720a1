// RingPair: the GPADL page layout of a channel's rings, mirrored data areas,
// size validation, and packets that wrap going through lib/ring on it.
#include "uvmbus/channel/ring_pair.h"

#include <sys/uio.h>

#include <array>
#include <cstring>

#include <gtest/gtest.h>

#include "uvmbus/ring/ring.h"

namespace uvmbus::channel {
namespace {

constexpr uint32_t kPage = wire::kHvPageSize;

GuestMemory memory_with_pages(uint64_t pages) {
  GuestMemory memory;
  const Expected<const GuestMemoryRegion*, MemoryError> region = memory.add_region(pages * kPage);
  EXPECT_TRUE(region);
  return memory;
}

RingPair make_ring_pair(GuestMemory& memory, uint32_t outbound, uint32_t inbound) {
  Expected<RingPair, MemoryError> rings = RingPair::allocate(memory, outbound, inbound);
  EXPECT_TRUE(rings) << (rings ? "" : to_string(rings.error().code));
  return std::move(*rings);
}

TEST(RingPair, LaysBothRingsOutInOneGpadlRange) {
  GuestMemory memory = memory_with_pages(32);
  const RingPair rings = make_ring_pair(memory, 4 * kPage, 2 * kPage);
  // [out header][4 out data][in header][2 in data]
  EXPECT_EQ(rings.pages().page_count(), 8u);
  EXPECT_EQ(rings.downstream_ringbuffer_pageoffset(), 5u);

  const ring::RingMemory out = rings.outbound();
  const ring::RingMemory in = rings.inbound();
  EXPECT_TRUE(ring::ring_memory_valid(out));
  EXPECT_TRUE(ring::ring_memory_valid(in));
  EXPECT_TRUE(out.mirrored);
  EXPECT_TRUE(in.mirrored);
  EXPECT_EQ(out.data_size, 4 * kPage);
  EXPECT_EQ(in.data_size, 2 * kPage);

  const uint64_t pfn = rings.pages().first_pfn();
  EXPECT_EQ(reinterpret_cast<std::byte*>(out.header), memory.page_address(pfn));
  EXPECT_EQ(reinterpret_cast<std::byte*>(in.header), memory.page_address(pfn + 5));
}

TEST(RingPair, DataAreasAliasTheirGpadlPagesTwice) {
  GuestMemory memory = memory_with_pages(16);
  const RingPair rings = make_ring_pair(memory, 2 * kPage, 3 * kPage);
  const uint64_t pfn = rings.pages().first_pfn();

  const ring::RingMemory out = rings.outbound();
  *memory.page_address(pfn + 1) = std::byte{0x11};           // first outbound data byte
  *(memory.page_address(pfn + 2) + kPage - 1) = std::byte{0x12};  // last one
  EXPECT_EQ(out.data[0], std::byte{0x11});
  EXPECT_EQ(out.data[out.data_size], std::byte{0x11});
  EXPECT_EQ(out.data[out.data_size - 1], std::byte{0x12});
  EXPECT_EQ(out.data[2 * out.data_size - 1], std::byte{0x12});

  const ring::RingMemory in = rings.inbound();
  in.data[in.data_size + 10] = std::byte{0x21};
  EXPECT_EQ(*(memory.page_address(pfn + 4) + 10), std::byte{0x21});
  EXPECT_EQ(out.data[0], std::byte{0x11});  // the rings do not overlap
}

TEST(RingPair, PagesArriveZeroedEvenWhenReused) {
  GuestMemory memory = memory_with_pages(8);
  {
    const RingPair dirty = make_ring_pair(memory, 2 * kPage, 2 * kPage);
    std::memset(dirty.pages().data(), 0xff, dirty.pages().size());
  }
  const RingPair rings = make_ring_pair(memory, 2 * kPage, 2 * kPage);
  for (std::size_t i = 0; i < rings.pages().size(); ++i) {
    ASSERT_EQ(rings.pages().data()[i], std::byte{0}) << i;
  }
}

TEST(RingPair, RejectsDataSizesLibRingCannotUse) {
  GuestMemory memory = memory_with_pages(8);
  const auto rejected = [&](uint32_t outbound, uint32_t inbound) {
    const Expected<RingPair, MemoryError> rings = RingPair::allocate(memory, outbound, inbound);
    return !rings && rings.error().code == MemoryErrorCode::invalid_argument;
  };
  EXPECT_TRUE(rejected(0, 2 * kPage));
  EXPECT_TRUE(rejected(kPage, 2 * kPage));  // below ring::kMinDataSize
  EXPECT_TRUE(rejected(2 * kPage + 8, 2 * kPage));
  EXPECT_TRUE(rejected(2 * kPage, ring::kMaxDataSize + kPage));
  EXPECT_TRUE(rejected(2 * kPage, 0xFFFFF000u));
  EXPECT_EQ(memory.free_pages(), 8u);
}

TEST(RingPair, OutOfPagesWhenTheRingsDoNotFit) {
  GuestMemory memory = memory_with_pages(5);
  const Expected<RingPair, MemoryError> rings = RingPair::allocate(memory, 2 * kPage, 2 * kPage);
  ASSERT_FALSE(rings);
  EXPECT_EQ(rings.error().code, MemoryErrorCode::out_of_pages);
}

TEST(RingPair, PacketsThatWrapRoundTripThroughLibRing) {
  GuestMemory memory = memory_with_pages(8);
  const RingPair rings = make_ring_pair(memory, 2 * kPage, 2 * kPage);
  ring::init_ring_header(*rings.outbound().header, false);
  ring::RingWriter writer(rings.outbound());
  ring::RingReader reader(rings.outbound());

  // 1528 ring bytes per packet in an 8 KiB ring: packets keep straddling the seam.
  std::array<std::byte, 1500> sent{};
  for (int i = 0; i < 50; ++i) {
    for (std::size_t j = 0; j < sent.size(); ++j) {
      sent[j] = static_cast<std::byte>(i + j);
    }
    const iovec payload{sent.data(), sent.size()};
    ASSERT_EQ(writer.write({.payload = {&payload, 1}}), ring::WriteStatus::ok) << i;
    (void)writer.commit();

    ring::InPacket packet;
    ASSERT_EQ(reader.next(packet), ring::ReadStatus::ok) << i;
    ASSERT_GE(packet.payload().size(), sent.size());
    EXPECT_EQ(std::memcmp(packet.payload().data(), sent.data(), sent.size()), 0) << i;
    (void)reader.commit();
  }
  EXPECT_FALSE(writer.corrupt());
  EXPECT_FALSE(reader.corrupt());
}

}  // namespace
}  // namespace uvmbus::channel
