// A hostile or broken peer: every header index and descriptor field corrupted
// in turn. Each case must end in the right sticky error without touching
// memory outside the ring (run under ASan in CI).
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "ring_fixture.h"

namespace uvmbus::ring {
namespace {

using test::pattern;
using test::SinglePacket;
using test::TestRing;

constexpr uint32_t kRing = 2 * wire::kHvPageSize;

// A ring with three published 64-byte packets (88 ring bytes each).
class HostileWriter : public ::testing::Test {
 protected:
  void SetUp() override {
    RingWriter writer(ring_.memory());
    const auto payload = pattern(64, 0);
    SinglePacket p(payload);
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(writer.write(p.packet), WriteStatus::ok);
    }
    ASSERT_EQ(writer.commit(), Signal::needed);
  }

  wire::PacketDescriptor& descriptor(uint32_t offset) {
    return *reinterpret_cast<wire::PacketDescriptor*>(ring_.data() + offset);
  }

  // Reads until something other than ok; returns that status.
  ReadStatus drain(RingReader& reader) {
    InPacket in;
    std::vector<std::byte> buffer(reader.max_packet_bytes());
    for (;;) {
      const ReadStatus status = copy_ ? reader.next_copy(buffer, in) : reader.next(in);
      copy_ = !copy_;
      if (status != ReadStatus::ok) return status;
    }
  }

  void expect_sticky(RingReader& reader, RingError error) {
    EXPECT_TRUE(reader.corrupt());
    EXPECT_EQ(reader.error(), error) << to_string(reader.error());
    EXPECT_EQ(reader.stats().corrupt, 1u);
    InPacket in;
    EXPECT_EQ(reader.next(in), ReadStatus::corrupt);
    EXPECT_FALSE(reader.has_data());
    EXPECT_EQ(reader.commit(), Signal::none);
    EXPECT_FALSE(reader.unmask_interrupts());
    EXPECT_EQ(reader.error(), error) << "the first cause is kept";
  }

  TestRing ring_{kRing};
  bool copy_ = false;
};

TEST_F(HostileWriter, MisalignedWriteIndex) {
  RingReader reader(ring_.memory());
  ring_.header().write_index = 3 * 88 + 4;
  EXPECT_EQ(drain(reader), ReadStatus::corrupt);
  expect_sticky(reader, RingError::index_misaligned);
}

TEST_F(HostileWriter, WriteIndexBeyondTheDataArea) {
  for (const uint32_t index : {kRing, kRing + 8, 0xfffffff8u}) {
    RingReader reader(ring_.memory());
    ring_.header().write_index = index;
    EXPECT_EQ(drain(reader), ReadStatus::corrupt);
    expect_sticky(reader, RingError::index_out_of_range);
    ring_.header().write_index = 3 * 88;
  }
}

TEST_F(HostileWriter, WriteIndexMovingBackwards) {
  RingReader reader(ring_.memory());
  EXPECT_EQ(drain(reader), ReadStatus::empty);
  ring_.header().write_index = 88;
  EXPECT_EQ(drain(reader), ReadStatus::corrupt);
  expect_sticky(reader, RingError::index_out_of_sequence);
}

TEST_F(HostileWriter, WriteIndexOverrunningTheReader) {
  RingReader reader(ring_.memory());
  InPacket in;
  ASSERT_EQ(reader.next(in), ReadStatus::ok);
  (void)reader.commit();  // read_index = 88
  ASSERT_EQ(reader.next(in), ReadStatus::ok);
  ASSERT_EQ(reader.next(in), ReadStatus::ok);
  // A writer may fill up to 8 bytes short of the reader (80), never to it.
  ring_.header().write_index = 88;
  EXPECT_EQ(reader.next(in), ReadStatus::corrupt);
  expect_sticky(reader, RingError::index_out_of_sequence);
}

TEST_F(HostileWriter, WriteIndexFillingToEightBytesShortIsAccepted) {
  RingReader reader(ring_.memory());
  InPacket in;
  ASSERT_EQ(reader.next(in), ReadStatus::ok);
  (void)reader.commit();  // read_index = 88
  ASSERT_EQ(reader.next(in), ReadStatus::ok);
  ASSERT_EQ(reader.next(in), ReadStatus::ok);
  // Fill [264, 80) with valid zero-payload packets' worth: one big packet.
  const uint32_t len = kRing - 264 + 80 - 8;
  wire::PacketDescriptor d{.type = 6, .offset8 = 2, .len8 = static_cast<uint16_t>(len / 8),
                           .flags = 0, .trans_id = 0};
  std::memcpy(ring_.data() + 264, &d, sizeof(d));
  ring_.header().write_index = 80;
  ASSERT_EQ(reader.next(in), ReadStatus::ok);
  EXPECT_EQ(in.bytes.size(), len);
  EXPECT_FALSE(reader.corrupt());
}

TEST_F(HostileWriter, TruncatedDescriptor) {
  for (const uint32_t published : {8u, 16u}) {
    TestRing ring(kRing);
    RingReader reader(ring.memory());
    ring.header().write_index = published;
    InPacket in;
    EXPECT_EQ(reader.next(in), ReadStatus::corrupt);
    EXPECT_EQ(reader.error(), RingError::descriptor_truncated);
  }
}

struct DescriptorCorruption {
  const char* name;
  void (*corrupt)(wire::PacketDescriptor&);
  RingError expected;
};

class CorruptDescriptor : public HostileWriter,
                          public ::testing::WithParamInterface<DescriptorCorruption> {};

TEST_P(CorruptDescriptor, IsRejectedWithItsCause) {
  for (const uint32_t packet : {0u, 1u, 2u}) {  // first, middle, last packet
    for (const bool copy : {false, true}) {
      TestRing ring(kRing);
      {
        RingWriter writer(ring.memory());
        const auto payload = pattern(64, 0);
        SinglePacket p(payload);
        for (int i = 0; i < 3; ++i) ASSERT_EQ(writer.write(p.packet), WriteStatus::ok);
        ASSERT_EQ(writer.commit(), Signal::needed);
      }
      GetParam().corrupt(*reinterpret_cast<wire::PacketDescriptor*>(ring.data() + packet * 88));
      RingReader reader(ring.memory());
      InPacket in;
      std::vector<std::byte> buffer(reader.max_packet_bytes());
      for (uint32_t i = 0; i < packet; ++i) {
        ASSERT_EQ(copy ? reader.next_copy(buffer, in) : reader.next(in), ReadStatus::ok);
      }
      EXPECT_EQ(copy ? reader.next_copy(buffer, in) : reader.next(in), ReadStatus::corrupt);
      EXPECT_EQ(reader.error(), GetParam().expected) << to_string(reader.error());
      EXPECT_EQ(reader.next(in), ReadStatus::corrupt) << "sticky";
      EXPECT_EQ(reader.commit(), Signal::none);
      EXPECT_EQ(ring.header().read_index, 0u) << "a corrupt reader publishes nothing";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    EachField, CorruptDescriptor,
    ::testing::Values(
        DescriptorCorruption{"offset8_zero", [](auto& d) { d.offset8 = 0; },
                             RingError::descriptor_offset},
        DescriptorCorruption{"offset8_one", [](auto& d) { d.offset8 = 1; },
                             RingError::descriptor_offset},
        DescriptorCorruption{"offset8_beyond_len8", [](auto& d) { d.offset8 = d.len8 + 1; },
                             RingError::descriptor_offset},
        DescriptorCorruption{"len8_zero", [](auto& d) { d.len8 = 0; },
                             RingError::descriptor_offset},
        DescriptorCorruption{"len8_past_published", [](auto& d) { d.len8 = 3 * 88 / 8; },
                             RingError::descriptor_length},
        DescriptorCorruption{"len8_max", [](auto& d) { d.len8 = 0xffff; },
                             RingError::descriptor_length},
        DescriptorCorruption{"offset8_and_len8_max",
                             [](auto& d) { d.offset8 = d.len8 = 0xffff; },
                             RingError::descriptor_length},
        DescriptorCorruption{"type_invalid", [](auto& d) { d.type = 0; },
                             RingError::packet_type},
        DescriptorCorruption{"type_legacy_gpadl", [](auto& d) { d.type = 8; },
                             RingError::packet_type},
        DescriptorCorruption{"type_huge", [](auto& d) { d.type = 0xffff; },
                             RingError::packet_type},
        DescriptorCorruption{"flags_unknown", [](auto& d) { d.flags = 2; },
                             RingError::packet_flags},
        DescriptorCorruption{"flags_all", [](auto& d) { d.flags = 0xffff; },
                             RingError::packet_flags}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(HostileWriter, TrailerIsNotRequiredOnRead) {
  std::memset(ring_.data() + 80, 0xff, 8);  // first packet's trailer
  RingReader reader(ring_.memory());
  EXPECT_EQ(drain(reader), ReadStatus::empty);
  EXPECT_EQ(reader.stats().corrupt, 0u);
}

TEST_F(HostileWriter, CorruptWriteIndexDuringTheSpaceSignalCheck) {
  ring_.header().pending_send_sz = 8;
  RingReader reader(ring_.memory());
  InPacket in;
  ASSERT_EQ(reader.next(in), ReadStatus::ok);
  ring_.header().write_index = 5;
  EXPECT_EQ(reader.commit(), Signal::none);
  EXPECT_EQ(reader.error(), RingError::index_misaligned);
}

TEST(HostileRingAttach, BadIndicesAtAttachMakeBothSidesCorrupt) {
  for (const auto& [w, r, error] :
       {std::tuple{4u, 0u, RingError::index_misaligned},
        std::tuple{0u, 12u, RingError::index_misaligned},
        std::tuple{kRing, 0u, RingError::index_out_of_range},
        std::tuple{0u, 0x80000000u, RingError::index_out_of_range}}) {
    TestRing ring(kRing);
    ring.header().write_index = w;
    ring.header().read_index = r;
    RingWriter writer(ring.memory());
    RingReader reader(ring.memory());
    EXPECT_EQ(writer.error(), error);
    EXPECT_EQ(reader.error(), error);
    const auto payload = pattern(8, 0);
    SinglePacket p(payload);
    EXPECT_EQ(writer.write(p.packet), WriteStatus::corrupt);
    EXPECT_EQ(writer.commit(), Signal::none);
    EXPECT_EQ(ring.header().write_index, w) << "a corrupt writer touches nothing";
  }
}

TEST(HostileRingAttach, BadMemoryIsRejected) {
  alignas(8) static std::byte page[2 * 4096];
  const RingMemory bad{.header = reinterpret_cast<wire::RingHeader*>(page),
                       .data = page + 4096,
                       .data_size = 4096,
                       .mirrored = false};
  RingWriter writer(bad);
  RingReader reader(bad);
  EXPECT_EQ(writer.error(), RingError::bad_memory);
  EXPECT_EQ(reader.error(), RingError::bad_memory);
  InPacket in;
  EXPECT_EQ(reader.next(in), ReadStatus::corrupt);
  EXPECT_EQ(writer.free_bytes(), 0u);
  EXPECT_EQ(writer.arm_pending_send(8), PendingSend::space_available)
      << "the next write reports the corruption";
}

class HostileReader : public ::testing::Test {
 protected:
  TestRing ring_{kRing};
  std::vector<std::byte> payload_ = pattern(64, 0);
  SinglePacket packet_{payload_};
};

TEST_F(HostileReader, ReadIndexMisalignedOrOutOfRange) {
  for (const auto& [index, error] : {std::pair{4u, RingError::index_misaligned},
                                    std::pair{kRing, RingError::index_out_of_range},
                                    std::pair{0xffffffffu, RingError::index_misaligned}}) {
    TestRing ring(kRing);
    RingWriter writer(ring.memory());
    ring.header().read_index = index;
    EXPECT_EQ(writer.free_bytes(), 0u);
    EXPECT_EQ(writer.error(), error);
    EXPECT_EQ(writer.write(packet_.packet), WriteStatus::corrupt);
  }
}

TEST_F(HostileReader, ReadIndexAheadOfWhatWasPublished) {
  RingWriter writer(ring_.memory());
  ASSERT_EQ(writer.write(packet_.packet), WriteStatus::ok);
  ASSERT_EQ(writer.write(packet_.packet), WriteStatus::ok);
  (void)writer.commit();
  ASSERT_EQ(writer.write(packet_.packet), WriteStatus::ok);  // written, unpublished
  ring_.header().read_index = 3 * 88;
  EXPECT_EQ(writer.free_bytes(), 0u);
  EXPECT_EQ(writer.error(), RingError::index_out_of_sequence);
}

TEST_F(HostileReader, ReadIndexMovingBackwards) {
  RingWriter writer(ring_.memory());
  ASSERT_EQ(writer.write(packet_.packet), WriteStatus::ok);
  ASSERT_EQ(writer.write(packet_.packet), WriteStatus::ok);
  (void)writer.commit();
  ring_.header().read_index = 176;
  EXPECT_GT(writer.free_bytes(), 0u);
  ring_.header().read_index = 88;
  EXPECT_EQ(writer.free_bytes(), 0u);
  EXPECT_EQ(writer.error(), RingError::index_out_of_sequence);
}

TEST_F(HostileReader, ScribbledWriteIndexIsIgnoredByTheWriter) {
  RingWriter writer(ring_.memory());
  ASSERT_EQ(writer.write(packet_.packet), WriteStatus::ok);
  (void)writer.commit();
  ring_.header().write_index = 12345;
  ASSERT_EQ(writer.write(packet_.packet), WriteStatus::ok);
  (void)writer.commit();
  EXPECT_EQ(ring_.header().write_index, 176u) << "the writer keeps its own index";
}

TEST_F(HostileReader, HugePendingSendSizeNeverSignals) {
  RingWriter writer(ring_.memory());
  RingReader reader(ring_.memory());
  ASSERT_EQ(writer.write(packet_.packet), WriteStatus::ok);
  (void)writer.commit();
  ring_.header().pending_send_sz = 0xffffffffu;
  InPacket in;
  ASSERT_EQ(reader.next(in), ReadStatus::ok);
  EXPECT_EQ(reader.commit(), Signal::none);
  EXPECT_FALSE(reader.corrupt());
}

}  // namespace
}  // namespace uvmbus::ring
