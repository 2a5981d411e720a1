// RingWriter: packet format on the wire, sizes, full/empty, batches, wrap.
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

TEST(PacketRingBytes, AddsDescriptorPaddingAndTrailer) {
  EXPECT_EQ(packet_ring_bytes(0, 0), 24u);
  EXPECT_EQ(packet_ring_bytes(0, 1), 32u);
  EXPECT_EQ(packet_ring_bytes(0, 8), 32u);
  EXPECT_EQ(packet_ring_bytes(0, 64), 88u);
  EXPECT_EQ(packet_ring_bytes(8, 61), 96u);
}

TEST(RingMemoryFrom, AcceptsWholePagesWithAtLeastTwoDataPages) {
  alignas(4096) static std::byte buffer[4 * 4096];
  EXPECT_FALSE(ring_memory_from(buffer, 2 * 4096));  // one data page
  EXPECT_FALSE(ring_memory_from(buffer, 3 * 4096 + 8));
  EXPECT_FALSE(ring_memory_from(nullptr, 3 * 4096));
  EXPECT_FALSE(ring_memory_from(buffer + 4, 3 * 4096));
  const auto mem = ring_memory_from(buffer, 3 * 4096);
  ASSERT_TRUE(mem);
  EXPECT_EQ(mem->data_size, 2 * 4096u);
  EXPECT_EQ(mem->data, buffer + 4096);
}

TEST(RingWriter, WritesDescriptorPayloadZeroPaddingAndTrailer) {
  TestRing ring(kSmallRing);
  RingWriter writer(ring.memory());
  std::memset(ring.data(), 0xAB, ring.data_size());  // stale bytes
  const auto payload = pattern(13, 1);
  SinglePacket p(payload, 0x1122334455667788ull, wire::kPacketFlagCompletionRequested);
  ASSERT_EQ(writer.write(p.packet), WriteStatus::ok);

  wire::PacketDescriptor desc;
  std::memcpy(&desc, ring.data(), sizeof(desc));
  EXPECT_EQ(desc.type, static_cast<uint16_t>(wire::PacketType::data_inband));
  EXPECT_EQ(desc.offset8, 2);
  EXPECT_EQ(desc.len8, 4);  // 16 + 13 padded to 32
  EXPECT_EQ(desc.flags, wire::kPacketFlagCompletionRequested);
  EXPECT_EQ(desc.trans_id, 0x1122334455667788ull);
  EXPECT_EQ(std::memcmp(ring.data() + 16, payload.data(), 13), 0);
  for (int i = 29; i < 32; ++i) {
    EXPECT_EQ(ring.data()[i], std::byte{0}) << "padding byte " << i;
  }
  uint64_t trailer;
  std::memcpy(&trailer, ring.data() + 32, 8);
  EXPECT_EQ(trailer, 0u);  // started at offset 0
  EXPECT_EQ(ring.header().write_index, 0u) << "nothing is published before commit";
  EXPECT_EQ(writer.commit(), Signal::needed);
  EXPECT_EQ(ring.header().write_index, 40u);
}

TEST(RingWriter, TrailerHoldsStartOffsetInUpperHalf) {
  TestRing ring(kSmallRing);
  ring.start_at(1024);
  RingWriter writer(ring.memory());
  const auto payload = pattern(8, 2);
  SinglePacket p(payload);
  ASSERT_EQ(writer.write(p.packet), WriteStatus::ok);
  uint64_t trailer;
  std::memcpy(&trailer, ring.data() + 1024 + 24, 8);
  EXPECT_EQ(trailer, uint64_t{1024} << 32);
}

TEST(RingWriter, GathersPayloadFromSeveralIovecsAndHeaderExtension) {
  TestRing ring(kSmallRing);
  RingWriter writer(ring.memory());
  const auto a = pattern(5, 3), b = pattern(11, 4);
  iovec segments[] = {{const_cast<std::byte*>(a.data()), a.size()},
                      {const_cast<std::byte*>(b.data()), b.size()}};
  const auto ext = pattern(16, 5);
  const OutPacket packet{.type = wire::PacketType::data_using_gpa_direct,
                         .flags = 0,
                         .trans_id = 9,
                         .header_ext = ext,
                         .payload = segments};
  ASSERT_EQ(writer.write(packet), WriteStatus::ok);
  ASSERT_EQ(writer.commit(), Signal::needed);

  RingReader reader(ring.memory());
  InPacket in;
  ASSERT_EQ(reader.next(in), ReadStatus::ok);
  EXPECT_EQ(in.type(), wire::PacketType::data_using_gpa_direct);
  ASSERT_EQ(in.header_ext().size(), 16u);
  EXPECT_EQ(std::memcmp(in.header_ext().data(), ext.data(), 16), 0);
  ASSERT_EQ(in.payload().size(), 16u);
  EXPECT_EQ(std::memcmp(in.payload().data(), a.data(), 5), 0);
  EXPECT_EQ(std::memcmp(in.payload().data() + 5, b.data(), 11), 0);
}

// The writer gathers into whole 8-byte words: pieces of every length below
// and around a word, starting at every byte offset of a word, written across
// the wrap point of a ring full of stale bytes, must read back exactly, with
// the padding zeroed.
TEST(RingWriter, GathersEverySplitOfThePayloadIntoWholeWords) {
  const std::vector<std::vector<std::size_t>> splits = {
      {1},        {7},           {8},          {9},       {1, 1, 1, 1, 1, 1, 1, 1, 1},
      {3, 5},     {5, 3, 8},     {7, 2, 15},   {8, 8, 1}, {2, 9, 4, 17},
      {0, 6, 0},  {15, 1, 1, 1}, {16, 7, 9, 3}};
  for (const auto& split : splits) {
    std::size_t total = 0;
    for (const std::size_t len : split) {
      total += len;
    }
    const auto payload = pattern(total, total);
    std::vector<iovec> segments;
    std::size_t at = 0;
    for (const std::size_t len : split) {
      segments.push_back({const_cast<std::byte*>(payload.data()) + at, len});
      at += len;
    }
    // Starts from 64 bytes before the wrap point to past it, so every piece
    // of the packet lands on both sides of it in turn.
    for (uint32_t start = kSmallRing - 64; start != 16; start = (start + 8) % kSmallRing) {
      TestRing ring(kSmallRing);
      std::memset(ring.data(), 0xAB, ring.data_size());
      ring.start_at(start);
      RingWriter writer(ring.memory());
      const OutPacket packet{.trans_id = start, .payload = segments};
      ASSERT_EQ(writer.write(packet), WriteStatus::ok);
      ASSERT_EQ(writer.commit(), Signal::needed);

      RingReader reader(ring.memory());
      std::vector<std::byte> copy(reader.max_packet_bytes());
      InPacket in;
      ASSERT_EQ(reader.next_copy(copy, in), ReadStatus::ok);
      EXPECT_EQ(in.desc.trans_id, start);
      ASSERT_EQ(in.payload().size(), (total + 7) & ~std::size_t{7});
      EXPECT_EQ(std::memcmp(in.payload().data(), payload.data(), total), 0)
          << "split of " << split.size() << " pieces, " << total << " bytes, start " << start;
      for (std::size_t i = total; i < in.payload().size(); ++i) {
        EXPECT_EQ(in.payload()[i], std::byte{0}) << "padding byte " << i << ", start " << start;
      }
      uint64_t trailer = 0;
      std::memcpy(&trailer, ring.data() + (start + in.bytes.size()) % kSmallRing, sizeof trailer);
      EXPECT_EQ(trailer, uint64_t{start} << 32);
    }
  }
}

TEST(RingWriter, RejectsMalformedAndOversizedPackets) {
  TestRing ring(kSmallRing);
  RingWriter writer(ring.memory());
  const auto ext = pattern(12, 0);
  OutPacket bad_ext{.header_ext = ext};
  EXPECT_EQ(writer.write(bad_ext), WriteStatus::too_large);

  // The largest packet leaves exactly 8 bytes free in an empty ring.
  EXPECT_EQ(writer.max_packet_bytes(), kSmallRing - 8);
  const auto fits = pattern(kSmallRing - 8 - 24, 0);
  const auto too_big = pattern(kSmallRing - 8 - 24 + 1, 0);
  SinglePacket big(too_big);
  EXPECT_EQ(writer.write(big.packet), WriteStatus::too_large);
  SinglePacket max(fits);
  EXPECT_EQ(writer.write(max.packet), WriteStatus::ok);
  EXPECT_FALSE(writer.corrupt());
}

TEST(RingWriter, NeverFillsTheRingCompletely) {
  for (const std::size_t payload_size : {0u, 8u, 64u, 100u, 1000u}) {
    TestRing ring(kSmallRing);
    RingWriter writer(ring.memory());
    const auto payload = pattern(payload_size, 0);
    SinglePacket p(payload);
    const uint64_t total = packet_ring_bytes(0, payload_size);
    uint64_t written = 0;
    while (writer.write(p.packet) == WriteStatus::ok) {
      ++written;
    }
    // The largest k with k * total < data size: at least 8 bytes stay free.
    const uint64_t expected = (kSmallRing - 1) / total;
    EXPECT_EQ(written, expected) << "payload " << payload_size;
    EXPECT_GE(kSmallRing - written * total, 8u);
    EXPECT_EQ(writer.stats().full, 1u);
    EXPECT_EQ(writer.commit(), Signal::needed);
    EXPECT_EQ(writer.stats().packets, written);
  }
}

TEST(RingWriter, FreeBytesIsTheLargestPacketThatFitsNow) {
  TestRing ring(kSmallRing);
  RingWriter writer(ring.memory());
  EXPECT_EQ(writer.free_bytes(), kSmallRing - 8);
  const auto payload = pattern(64, 0);
  SinglePacket p(payload);
  ASSERT_EQ(writer.write(p.packet), WriteStatus::ok);
  EXPECT_EQ(writer.free_bytes(), kSmallRing - 8 - 88);
}

TEST(RingWriter, RevertDropsTheUncommittedBatch) {
  TestRing ring(kSmallRing);
  RingWriter writer(ring.memory());
  const auto payload = pattern(64, 0);
  SinglePacket p(payload);
  ASSERT_EQ(writer.write(p.packet), WriteStatus::ok);
  writer.revert();
  EXPECT_EQ(writer.commit(), Signal::none);
  EXPECT_EQ(ring.header().write_index, 0u);
  EXPECT_EQ(writer.stats().packets, 0u);
}

TEST(RingWriter, PublishesEachBatchWithOneIndexStore) {
  TestRing ring(64 * 1024);
  for (uint32_t batch = 1; batch <= 256; ++batch) {
    SCOPED_TRACE(batch);
    init_ring_header(ring.header(), true);
    RingWriter writer(ring.memory());
    RingReader reader(ring.memory());
    std::vector<std::vector<std::byte>> payloads;
    std::vector<std::unique_ptr<SinglePacket>> packets;
    std::vector<OutPacket> burst;
    for (uint32_t i = 0; i < batch; ++i) {
      payloads.push_back(pattern(64, i));
    }
    for (uint32_t i = 0; i < batch; ++i) {
      packets.push_back(std::make_unique<SinglePacket>(payloads[i], i + 1));
      burst.push_back(packets.back()->packet);
    }
    const WriteBurst result = writer.write_burst(burst);
    ASSERT_EQ(result.written, batch);
    EXPECT_EQ(result.status, WriteStatus::ok);
    EXPECT_FALSE(reader.has_data()) << "batch invisible before commit";
    EXPECT_EQ(writer.commit(), Signal::needed);
    EXPECT_EQ(writer.stats().commits, 1u);
    EXPECT_EQ(ring.header().write_index, batch * 88u);
    InPacket in;
    for (uint32_t i = 0; i < batch; ++i) {
      ASSERT_EQ(reader.next(in), ReadStatus::ok);
      EXPECT_EQ(in.desc.trans_id, i + 1);
      EXPECT_EQ(std::memcmp(in.payload().data(), payloads[i].data(), 64), 0);
    }
    EXPECT_EQ(reader.next(in), ReadStatus::empty);
    EXPECT_EQ(ring.header().read_index, 0u) << "nothing is published before commit";
    EXPECT_EQ(reader.commit(), Signal::none);
    EXPECT_EQ(ring.header().read_index, batch * 88u);
    EXPECT_EQ(reader.stats().commits, 1u);
  }
}

TEST(RingWriter, WriteBurstStopsAtTheFirstPacketThatDoesNotFit) {
  TestRing ring(kSmallRing);
  RingWriter writer(ring.memory());
  const auto payload = pattern(1000, 0);
  SinglePacket p(payload);
  std::vector<OutPacket> burst(20, p.packet);
  const WriteBurst result = writer.write_burst(burst);
  EXPECT_EQ(result.written, (kSmallRing - 1) / packet_ring_bytes(0, 1000));
  EXPECT_EQ(result.status, WriteStatus::full);
}

TEST(RingWriter, LargestRingCarriesTheLargestPacket) {
  TestRing ring(16 * 1024 * 1024);
  RingWriter writer(ring.memory());
  RingReader reader(ring.memory());
  EXPECT_EQ(writer.max_packet_bytes(), 0xffffu * 8 + 8);
  const auto payload = pattern(0xffffu * 8 - 16, 7);
  SinglePacket p(payload);
  ASSERT_EQ(writer.write(p.packet), WriteStatus::ok);
  ASSERT_EQ(writer.commit(), Signal::needed);
  std::vector<std::byte> buffer(reader.max_packet_bytes());
  InPacket in;
  ASSERT_EQ(reader.next_copy(buffer, in), ReadStatus::ok);
  EXPECT_EQ(in.desc.len8, 0xffff);
  EXPECT_EQ(std::memcmp(in.payload().data(), payload.data(), payload.size()), 0);
}

}  // namespace
}  // namespace uvmbus::ring
