// A long random walk over both sides of one ring, checked at every step
// against a simple reference model of the indices, contents and signal rules.
#include <algorithm>
#include <deque>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "ring_fixture.h"

namespace uvmbus::ring {
namespace {

using test::pattern;
using test::SinglePacket;
using test::TestRing;

// The reference: plain integers and a queue of packet sizes and seeds.
struct Model {
  uint32_t size;
  uint32_t write_committed = 0, write_next = 0;
  uint32_t read_committed = 0, read_next = 0;
  uint32_t read_batch_bytes = 0;
  std::deque<std::pair<uint32_t, uint64_t>> published;  // (payload bytes, seed), unread
  std::deque<std::pair<uint32_t, uint64_t>> pending_write;

  uint32_t dist(uint32_t from, uint32_t to) const { return (to + size - from) % size; }
  uint32_t free_for_writer() const { return size - dist(read_committed, write_next); }
};

void random_walk(bool mirrored, uint32_t data_size, uint64_t seed) {
  TestRing ring(data_size, mirrored);
  RingWriter writer(ring.memory());
  RingReader reader(ring.memory());
  Model model{};
  model.size = data_size;
  std::mt19937_64 rng(seed);
  std::vector<std::byte> buffer(reader.max_packet_bytes());
  uint64_t next_seed = 1;

  for (int step = 0; step < 60000; ++step) {
    switch (rng() % 8) {
      case 0:
      case 1:
      case 2: {  // write one packet
        const uint32_t payload_bytes = static_cast<uint32_t>(
            rng() % 16 == 0 ? rng() % (data_size / 2) : rng() % 200);
        const auto payload = pattern(payload_bytes, next_seed);
        SinglePacket p(payload, next_seed);
        const uint32_t total = static_cast<uint32_t>(packet_ring_bytes(0, payload_bytes));
        const WriteStatus expected = total > writer.max_packet_bytes() ? WriteStatus::too_large
                                     : model.free_for_writer() > total ? WriteStatus::ok
                                                                       : WriteStatus::full;
        ASSERT_EQ(writer.write(p.packet), expected) << "step " << step;
        if (expected == WriteStatus::ok) {
          model.pending_write.emplace_back(payload_bytes, next_seed);
          model.write_next = (model.write_next + total) % data_size;
        }
        ++next_seed;
        break;
      }
      case 3: {  // writer commit
        const bool publishes = model.write_next != model.write_committed;
        const bool expected = publishes && ring.header().interrupt_mask == 0 &&
                              model.read_committed == model.write_committed;
        ASSERT_EQ(writer.commit() == Signal::needed, expected) << "step " << step;
        model.write_committed = model.write_next;
        for (auto& p : model.pending_write) model.published.push_back(p);
        model.pending_write.clear();
        break;
      }
      case 4: {  // writer revert (rare)
        if (rng() % 4 == 0) {
          writer.revert();
          model.write_next = model.write_committed;
          model.pending_write.clear();
        }
        break;
      }
      case 5:
      case 6: {  // read up to k packets
        const int k = static_cast<int>(rng() % 40) + 1;
        const bool copy = rng() % 2 == 0;
        for (int i = 0; i < k; ++i) {
          InPacket in;
          const ReadStatus status = copy ? reader.next_copy(buffer, in) : reader.next(in);
          if (model.published.empty()) {
            ASSERT_EQ(status, ReadStatus::empty) << "step " << step;
            break;
          }
          ASSERT_EQ(status, ReadStatus::ok) << "step " << step;
          const auto [payload_bytes, packet_seed] = model.published.front();
          model.published.pop_front();
          ASSERT_EQ(in.desc.trans_id, packet_seed);
          const auto expected = pattern(payload_bytes, packet_seed);
          ASSERT_GE(in.payload().size(), payload_bytes);
          ASSERT_TRUE(std::equal(expected.begin(), expected.end(), in.payload().begin()))
              << "step " << step;
          const uint32_t total = static_cast<uint32_t>(packet_ring_bytes(0, payload_bytes));
          model.read_next = (model.read_next + total) % data_size;
          model.read_batch_bytes += total;
        }
        break;
      }
      case 7: {  // reader commit, sometimes with a pending writer request
        const uint32_t pending = rng() % 3 == 0 ? static_cast<uint32_t>(rng() % data_size) & ~7u : 0;
        ring.header().pending_send_sz = pending;
        ring.header().interrupt_mask = static_cast<uint32_t>(rng() % 2);
        const bool publishes = model.read_next != model.read_committed;
        model.read_committed = model.read_next;
        const int64_t free_now = data_size - model.dist(model.read_committed, model.write_committed);
        const int64_t free_before = free_now - model.read_batch_bytes;
        const bool expected =
            publishes && pending != 0 && free_before <= pending && free_now > pending;
        ASSERT_EQ(reader.commit() == Signal::needed, expected) << "step " << step;
        model.read_batch_bytes = 0;
        break;
      }
    }
    ASSERT_FALSE(writer.corrupt());
    ASSERT_FALSE(reader.corrupt());
  }
  EXPECT_GT(writer.stats().packets, 1000u);
  EXPECT_GT(writer.stats().full, 0u);
}

TEST(RingRandomWalk, MatchesTheModelOnASmallSingleMappedRing) {
  random_walk(false, 2 * wire::kHvPageSize, 1);
}

TEST(RingRandomWalk, MatchesTheModelOnAMirroredRing) {
  random_walk(true, 4 * wire::kHvPageSize, 2);
}

TEST(RingRandomWalk, MatchesTheModelOnALargerRing) {
  random_walk(false, 64 * wire::kHvPageSize, 3);
}

}  // namespace
}  // namespace uvmbus::ring
