// Two threads on one ring: a writer with random packet sizes and batch sizes,
// a reader checking every byte, in polling mode and in interrupt mode (both
// sides sleep on eventfds and rely only on the ring's signal decisions; a
// lost wakeup shows up as a timed-out wait with work pending). Also run
// under TSan.
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ring_fixture.h"

namespace uvmbus::ring {
namespace {

using test::TestRing;

constexpr uint64_t kPackets = 300000;
constexpr int kWakeTimeoutMs = 5000;

// Payload of packet `seq`: its sequence number, then bytes derived from it.
void fill_payload(std::byte* p, uint32_t size, uint64_t seq) {
  const uint32_t head = std::min<uint32_t>(size, 8);
  std::memcpy(p, &seq, head);
  for (uint32_t i = 8; i < size; ++i) {
    p[i] = static_cast<std::byte>(seq * 31 + i);
  }
}

bool payload_matches(std::span<const std::byte> p, uint32_t size, uint64_t seq) {
  std::byte expected[4096];
  fill_payload(expected, size, seq);
  return std::memcmp(p.data(), expected, size) == 0;
}

uint32_t payload_size_for(uint64_t seq) {
  // Mostly small packets, some large ones, deterministic from seq so the
  // reader knows the size to check.
  const uint64_t h = seq * 0x9E3779B97F4A7C15ull;
  return (h >> 60) == 0 ? static_cast<uint32_t>((h >> 20) % 4096) : static_cast<uint32_t>((h >> 20) % 300);
}

struct Doorbell {
  Doorbell() : fd(eventfd(0, EFD_CLOEXEC)) {}
  ~Doorbell() { close(fd); }
  void ring() const {
    const uint64_t one = 1;
    ASSERT_EQ(write(fd, &one, sizeof(one)), static_cast<ssize_t>(sizeof(one)));
  }
  // False if nothing arrived within the timeout.
  bool wait() const {
    pollfd pfd{.fd = fd, .events = POLLIN, .revents = 0};
    if (poll(&pfd, 1, kWakeTimeoutMs) != 1) return false;
    uint64_t count;
    return read(fd, &count, sizeof(count)) == static_cast<ssize_t>(sizeof(count));
  }
  int fd;
};

struct StressCase {
  bool mirrored;
  bool interrupts;
  uint32_t data_size;
};

class RingStress : public ::testing::TestWithParam<StressCase> {};

TEST_P(RingStress, EveryByteArrivesInOrderWithoutLostWakeups) {
  const StressCase c = GetParam();
  TestRing ring(c.data_size, c.mirrored);
  Doorbell data_ready, space_ready;
  std::atomic<uint64_t> reader_stalls{0}, writer_stalls{0};

  std::thread producer([&] {
    RingWriter writer(ring.memory());
    std::mt19937 rng(1);
    std::vector<std::byte> payload(4096);
    uint64_t seq = 0;
    while (seq < kPackets) {
      const uint32_t batch = rng() % 64 + 1;
      uint32_t in_batch = 0;
      while (in_batch < batch && seq < kPackets) {
        const uint32_t size = payload_size_for(seq);
        fill_payload(payload.data(), size, seq);
        iovec segment{payload.data(), size};
        const OutPacket packet{.trans_id = seq, .payload = {&segment, 1}};
        const WriteStatus status = writer.write(packet);
        if (status == WriteStatus::ok) {
          ++seq;
          ++in_batch;
          continue;
        }
        ASSERT_EQ(status, WriteStatus::full);
        // Publish what we have before waiting for space.
        if (writer.commit() == Signal::needed) data_ready.ring();
        in_batch = 0;
        if (!c.interrupts) {
          std::this_thread::yield();
        } else if (writer.arm_pending_send(static_cast<uint32_t>(packet_ring_bytes(0, size))) ==
                   PendingSend::armed) {
          if (!space_ready.wait()) ++writer_stalls;
        }
        writer.disarm_pending_send();
      }
      if (writer.commit() == Signal::needed) data_ready.ring();
    }
    ASSERT_FALSE(writer.corrupt());
  });

  RingReader reader(ring.memory());
  if (!c.interrupts) reader.mask_interrupts();
  std::vector<std::byte> buffer(reader.max_packet_bytes());
  std::mt19937 rng(2);
  uint64_t expected_seq = 0;
  while (expected_seq < kPackets) {
    const uint32_t batch = rng() % 64 + 1;
    uint32_t got = 0;
    InPacket in;
    while (got < batch) {
      const ReadStatus status =
          (expected_seq % 2) ? reader.next_copy(buffer, in) : reader.next(in);
      if (status != ReadStatus::ok) {
        ASSERT_EQ(status, ReadStatus::empty);
        break;
      }
      ASSERT_EQ(in.desc.trans_id, expected_seq);
      const uint32_t size = payload_size_for(expected_seq);
      ASSERT_TRUE(payload_matches(in.payload(), size, expected_seq)) << "packet " << expected_seq;
      ++expected_seq;
      ++got;
    }
    if (reader.commit() == Signal::needed) space_ready.ring();
    if (got == 0 && expected_seq < kPackets) {
      if (!c.interrupts) {
        std::this_thread::yield();
      } else if (!reader.unmask_interrupts()) {
        if (!data_ready.wait()) ++reader_stalls;
        reader.mask_interrupts();
      } else {
        reader.mask_interrupts();
      }
    }
  }
  producer.join();
  EXPECT_FALSE(reader.corrupt());
  EXPECT_EQ(reader_stalls.load(), 0u) << "reader slept through published packets";
  EXPECT_EQ(writer_stalls.load(), 0u) << "writer slept through freed space";
}

INSTANTIATE_TEST_SUITE_P(Modes, RingStress,
                         ::testing::Values(StressCase{false, false, 2 * 4096},
                                           StressCase{true, false, 2 * 4096},
                                           StressCase{false, true, 2 * 4096},
                                           StressCase{true, true, 16 * 4096},
                                           StressCase{false, true, 64 * 4096}),
                         [](const auto& info) {
                           return std::string(info.param.mirrored ? "Mirrored" : "Single") +
                                  (info.param.interrupts ? "Interrupt" : "Poll") +
                                  std::to_string(info.param.data_size / 4096) + "Pages";
                         });

}  // namespace
}  // namespace uvmbus::ring
