// The two signal rules of spec §10, as tables, plus the pending-send
// protocol (§10.3) seen from the writer.
#include <vector>

#include <gtest/gtest.h>

#include "ring_fixture.h"

namespace uvmbus::ring {
namespace {

using test::pattern;
using test::SinglePacket;
using test::TestRing;

constexpr uint32_t kRing = 2 * wire::kHvPageSize;
constexpr uint32_t kPacket = 88;  // 64-byte payload

// §10.1: after publishing, signal iff interrupt_mask == 0 and read_index ==
// the write index before this batch.
struct WriterRow {
  uint32_t mask;
  bool reader_caught_up;
  Signal expected;
};

class WriterSignalRule : public ::testing::TestWithParam<WriterRow> {};

TEST_P(WriterSignalRule, SignalsOnlyOnEmptyToNonEmptyWhenUnmasked) {
  const WriterRow row = GetParam();
  TestRing ring(kRing);
  RingWriter writer(ring.memory());
  RingReader reader(ring.memory());
  const auto payload = pattern(64, 0);
  SinglePacket p(payload);
  ASSERT_EQ(writer.write(p.packet), WriteStatus::ok);
  ASSERT_EQ(writer.write(p.packet), WriteStatus::ok);
  (void)writer.commit();
  InPacket in;
  ASSERT_EQ(reader.next(in), ReadStatus::ok);
  if (row.reader_caught_up) {
    ASSERT_EQ(reader.next(in), ReadStatus::ok);
  }
  (void)reader.commit();
  ring.header().interrupt_mask = row.mask;

  ASSERT_EQ(writer.write(p.packet), WriteStatus::ok);
  EXPECT_EQ(writer.commit(), row.expected);
}

INSTANTIATE_TEST_SUITE_P(Spec, WriterSignalRule,
                         ::testing::Values(WriterRow{0, true, Signal::needed},
                                           WriterRow{0, false, Signal::none},
                                           WriterRow{1, true, Signal::none},
                                           WriterRow{1, false, Signal::none}));

TEST(WriterSignalRule, ABatchIntoAnEmptyRingSignalsOnce) {
  TestRing ring(64 * 1024);
  RingWriter writer(ring.memory());
  const auto payload = pattern(64, 0);
  SinglePacket p(payload);
  for (int i = 0; i < 32; ++i) {
    ASSERT_EQ(writer.write(p.packet), WriteStatus::ok);
  }
  EXPECT_EQ(writer.commit(), Signal::needed);
  EXPECT_EQ(writer.stats().signals, 1u);
  for (int i = 0; i < 32; ++i) {
    ASSERT_EQ(writer.write(p.packet), WriteStatus::ok);
  }
  EXPECT_EQ(writer.commit(), Signal::none) << "the reader has not drained the first batch";
  EXPECT_EQ(writer.commit(), Signal::none) << "an empty commit never signals";
  EXPECT_EQ(writer.stats().commits, 2u);
}

// §10.2: after publishing read_index for a batch of `bytes_read`, signal iff
// the feature bit is set, pending_send_sz != 0, the writer did not already
// have room (free_before <= pending) and now has (free_now > pending).
struct ReaderRow {
  const char* name;
  bool feature;
  uint32_t pending;               // raw value stored in pending_send_sz
  std::vector<uint32_t> commits;  // packets consumed per commit
  std::vector<Signal> expected;   // decision per commit
};

class ReaderSignalRule : public ::testing::TestWithParam<ReaderRow> {};

TEST_P(ReaderSignalRule, SignalsOnlyWhenFreeSpaceCrossesPending) {
  const ReaderRow& row = GetParam();
  TestRing ring(kRing, false, row.feature);
  RingWriter writer(ring.memory());
  RingReader reader(ring.memory());
  const auto payload = pattern(64, 0);
  SinglePacket p(payload);
  while (writer.write(p.packet) == WriteStatus::ok) {
  }
  (void)writer.commit();
  ASSERT_EQ(writer.free_bytes(), 0u) << "ring full: 8 bytes free";
  ring.header().pending_send_sz = row.pending;

  InPacket in;
  for (std::size_t i = 0; i < row.commits.size(); ++i) {
    for (uint32_t n = 0; n < row.commits[i]; ++n) {
      ASSERT_EQ(reader.next(in), ReadStatus::ok);
    }
    EXPECT_EQ(reader.commit(), row.expected[i]) << row.name << ", commit " << i;
  }
}

// The ring starts with 8 bytes free; each packet read frees 88 more.
INSTANTIATE_TEST_SUITE_P(
    Spec, ReaderSignalRule,
    ::testing::Values(
        ReaderRow{"feature bit clear", false, 100, {2}, {Signal::none}},
        ReaderRow{"nothing pending", true, 0, {2}, {Signal::none}},
        ReaderRow{"crosses pending", true, 100, {2}, {Signal::needed}},
        ReaderRow{"exactly pending is not enough", true, 8 + 2 * kPacket, {2}, {Signal::none}},
        ReaderRow{"one byte short of free", true, 8 + 2 * kPacket - 8, {2}, {Signal::needed}},
        ReaderRow{"unaligned pending rounds down", true, 8 + 2 * kPacket - 1, {2},
                  {Signal::needed}},
        ReaderRow{"unaligned pending above free", true, 8 + 2 * kPacket + 1, {2}, {Signal::none}},
        ReaderRow{"crossing happens in the second commit", true, 100, {1, 1},
                  {Signal::none, Signal::needed}},
        ReaderRow{"writer already had room", true, 100, {2, 1}, {Signal::needed, Signal::none}},
        ReaderRow{"pending larger than the ring", true, 0xfffffff8u, {5}, {Signal::none}}),
    [](const auto& info) {
      std::string name = info.param.name;
      for (char& c : name) {
        if (!isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

TEST(PendingSend, ArmReportsRoomAndSetsTheRequest) {
  TestRing ring(kRing);
  RingWriter writer(ring.memory());
  RingReader reader(ring.memory());
  const auto payload = pattern(64, 0);
  SinglePacket p(payload);
  while (writer.write(p.packet) == WriteStatus::ok) {
  }
  (void)writer.commit();
  EXPECT_EQ(writer.arm_pending_send(kPacket), PendingSend::armed);
  EXPECT_EQ(ring.header().pending_send_sz, kPacket);

  InPacket in;
  ASSERT_EQ(reader.next(in), ReadStatus::ok);
  EXPECT_EQ(reader.commit(), Signal::needed) << "8 + 88 free > 88 pending";
  EXPECT_EQ(writer.arm_pending_send(kPacket), PendingSend::space_available);
  ASSERT_EQ(writer.write(p.packet), WriteStatus::ok);
  writer.disarm_pending_send();
  EXPECT_EQ(ring.header().pending_send_sz, 0u);
}

TEST(PendingSend, ArmRoundsUpToEightBytes) {
  TestRing ring(kRing);
  RingWriter writer(ring.memory());
  EXPECT_EQ(writer.arm_pending_send(81), PendingSend::space_available);
  EXPECT_EQ(ring.header().pending_send_sz, 88u);
}

TEST(PendingSend, WithoutTheFeatureBitNothingIsArmed) {
  TestRing ring(kRing, false, false);
  RingWriter writer(ring.memory());
  const auto payload = pattern(64, 0);
  SinglePacket p(payload);
  while (writer.write(p.packet) == WriteStatus::ok) {
  }
  EXPECT_EQ(writer.arm_pending_send(kPacket), PendingSend::unsupported) << "caller must poll";
  EXPECT_EQ(ring.header().pending_send_sz, 0u);
}

}  // namespace
}  // namespace uvmbus::ring
