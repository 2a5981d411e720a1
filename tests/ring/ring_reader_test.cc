// RingReader: in-place and copy-out reads at every wrap position, mirrored
// and single-mapped rings, buffer limits, the interrupt mask.
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "ring_fixture.h"

namespace uvmbus::ring {
namespace {

using test::pattern;
using test::SinglePacket;
using test::TestRing;

constexpr uint32_t kSmallRing = 2 * wire::kHvPageSize;

struct WrapCase {
  bool mirrored;
  bool copy_out;
};

class EveryWrapPosition : public ::testing::TestWithParam<WrapCase> {};

// Starts a packet at every 8-byte position of the ring so that the
// descriptor, the payload and the trailer each straddle the wrap point in
// turn, and checks every byte read back.
TEST_P(EveryWrapPosition, ReadsBackEveryByte) {
  const WrapCase c = GetParam();
  const auto payload = pattern(100, 42);  // 16 + 104 + 8 = 128 ring bytes
  for (uint32_t start = 0; start < kSmallRing; start += 8) {
    TestRing ring(kSmallRing, c.mirrored);
    ring.start_at(start);
    RingWriter writer(ring.memory());
    RingReader reader(ring.memory());
    SinglePacket p(payload, start + 1);
    ASSERT_EQ(writer.write(p.packet), WriteStatus::ok);
    ASSERT_EQ(writer.commit(), Signal::needed);

    std::vector<std::byte> buffer(reader.max_packet_bytes());
    InPacket in;
    const ReadStatus status = c.copy_out ? reader.next_copy(buffer, in) : reader.next(in);
    ASSERT_EQ(status, ReadStatus::ok) << "start " << start;
    EXPECT_EQ(in.desc.trans_id, start + 1u);
    ASSERT_EQ(in.bytes.size(), 120u);
    ASSERT_EQ(in.payload().size(), 104u);
    EXPECT_EQ(std::memcmp(in.payload().data(), payload.data(), payload.size()), 0)
        << "start " << start;
    for (std::size_t i = payload.size(); i < in.payload().size(); ++i) {
      EXPECT_EQ(in.payload()[i], std::byte{0});
    }
    uint64_t trailer = 0;
    const uint32_t trailer_at = (start + 120) % kSmallRing;
    std::memcpy(&trailer, ring.data() + trailer_at, 8);
    EXPECT_EQ(trailer, uint64_t{start} << 32);
    EXPECT_EQ(reader.next(in), ReadStatus::empty);
    EXPECT_EQ(reader.commit(), Signal::none);
    EXPECT_EQ(ring.header().read_index, (start + 128) % kSmallRing);
  }
}

INSTANTIATE_TEST_SUITE_P(Ring, EveryWrapPosition,
                         ::testing::Values(WrapCase{false, false}, WrapCase{false, true},
                                           WrapCase{true, false}, WrapCase{true, true}),
                         [](const auto& info) {
                           return std::string(info.param.mirrored ? "Mirrored" : "Single") +
                                  (info.param.copy_out ? "CopyOut" : "InPlace");
                         });

TEST(RingReader, InPlacePacketsPointIntoTheRingUnlessTheyWrap) {
  TestRing ring(kSmallRing);
  ring.start_at(kSmallRing - 64);
  RingWriter writer(ring.memory());
  RingReader reader(ring.memory());
  const auto small = pattern(8, 1), wrapping = pattern(64, 2);
  SinglePacket a(small), b(wrapping);
  ASSERT_EQ(writer.write(a.packet), WriteStatus::ok);  // 32 bytes, fits before the end
  ASSERT_EQ(writer.write(b.packet), WriteStatus::ok);  // wraps
  ASSERT_EQ(writer.commit(), Signal::needed);
  InPacket in;
  ASSERT_EQ(reader.next(in), ReadStatus::ok);
  EXPECT_EQ(in.bytes.data(), ring.data() + kSmallRing - 64);
  ASSERT_EQ(reader.next(in), ReadStatus::ok);
  EXPECT_TRUE(in.bytes.data() < ring.data() || in.bytes.data() >= ring.data() + kSmallRing)
      << "a wrapped packet comes from the bounce buffer";
  EXPECT_EQ(std::memcmp(in.payload().data(), wrapping.data(), 64), 0);
}

TEST(RingReader, CopyOutIntoASmallBufferConsumesNothing) {
  TestRing ring(kSmallRing);
  RingWriter writer(ring.memory());
  RingReader reader(ring.memory());
  const auto payload = pattern(64, 3);
  SinglePacket p(payload);
  ASSERT_EQ(writer.write(p.packet), WriteStatus::ok);
  ASSERT_EQ(writer.commit(), Signal::needed);
  std::vector<std::byte> small(79), exact(80);
  InPacket in;
  EXPECT_EQ(reader.next_copy(small, in), ReadStatus::buffer_small);
  EXPECT_EQ(reader.next_copy(exact, in), ReadStatus::ok);
  EXPECT_EQ(std::memcmp(in.payload().data(), payload.data(), 64), 0);
  EXPECT_FALSE(reader.corrupt());
}

TEST(RingReader, CopyOutCarriesTheValidatedDescriptor) {
  TestRing ring(kSmallRing);
  RingWriter writer(ring.memory());
  RingReader reader(ring.memory());
  const auto payload = pattern(64, 3);
  SinglePacket p(payload, 77);
  ASSERT_EQ(writer.write(p.packet), WriteStatus::ok);
  ASSERT_EQ(writer.commit(), Signal::needed);
  std::vector<std::byte> buffer(128);
  InPacket in;
  ASSERT_EQ(reader.next_copy(buffer, in), ReadStatus::ok);
  wire::PacketDescriptor copied;
  std::memcpy(&copied, buffer.data(), sizeof(copied));
  EXPECT_EQ(copied.trans_id, 77u);
  EXPECT_EQ(copied.len8, in.desc.len8);
  EXPECT_EQ(in.bytes.data(), buffer.data());
}

TEST(RingReader, AttachesWhereTheRingStands) {
  TestRing ring(kSmallRing);
  const auto payload = pattern(64, 0);
  SinglePacket p(payload);
  {
    RingWriter writer(ring.memory());
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(writer.write(p.packet), WriteStatus::ok);
    }
    ASSERT_EQ(writer.commit(), Signal::needed);
    RingReader reader(ring.memory());
    InPacket in;
    ASSERT_EQ(reader.next(in), ReadStatus::ok);
    ASSERT_EQ(reader.commit(), Signal::none);
  }
  RingWriter writer(ring.memory());
  RingReader reader(ring.memory());
  int count = 0;
  InPacket in;
  while (reader.next(in) == ReadStatus::ok) {
    ++count;
  }
  EXPECT_EQ(count, 2);
  ASSERT_EQ(writer.write(p.packet), WriteStatus::ok);
  EXPECT_EQ(writer.commit(), Signal::none) << "reader had not caught up";
}

TEST(RingReader, InterruptMaskIsSetAndClearedOnTheRing) {
  TestRing ring(kSmallRing);
  RingReader reader(ring.memory());
  reader.mask_interrupts();
  EXPECT_EQ(ring.header().interrupt_mask, 1u);
  EXPECT_FALSE(reader.unmask_interrupts()) << "empty ring: safe to sleep";
  EXPECT_EQ(ring.header().interrupt_mask, 0u);
}

TEST(RingReader, UnmaskReportsDataThatRacedIn) {
  TestRing ring(kSmallRing);
  RingWriter writer(ring.memory());
  RingReader reader(ring.memory());
  reader.mask_interrupts();
  const auto payload = pattern(64, 0);
  SinglePacket p(payload);
  ASSERT_EQ(writer.write(p.packet), WriteStatus::ok);
  EXPECT_EQ(writer.commit(), Signal::none) << "masked reader is not signalled";
  EXPECT_TRUE(reader.unmask_interrupts()) << "the re-check must see the packet";
}

}  // namespace
}  // namespace uvmbus::ring
