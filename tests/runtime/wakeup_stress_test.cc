// Lost-wakeup stress: a worker drives real VMBus rings (lib/ring readers as
// Pollables) while producer threads send bursts separated by random pauses,
// some shorter and some longer than the idle threshold, so the worker
// sleeps and wakes all the time. Producers signal an eventfd exactly when
// RingWriter::commit() says so. Every sequence number is checked; a lost
// wakeup shows up as packets that never arrive after the producers are done
// (a bounded wait fails the test instead of hanging it).
//
// Randomised but reproducible: UVMBUS_STRESS_SEED=N replays a run (the seed
// is printed on failure).
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ring_fixture.h"
#include "test_support.h"
#include "uvmbus/runtime/affinity.h"
#include "uvmbus/ring/ring.h"
#include "uvmbus/runtime/worker.h"

namespace uvmbus::runtime {
namespace {

using namespace std::chrono_literals;
using ring::test::TestRing;

constexpr int kBurstsPerProducer = 2500;
constexpr uint32_t kMaxBurst = 128;
constexpr uint32_t kPacketRingBytes = ring::packet_ring_bytes(0, sizeof(uint64_t));
constexpr uint32_t kRingDataSize = 2 * 4096;  // small, so bursts sometimes fill it
// A producer whose ring does not drain for this long (full, or waited on
// by a chase) gives up: the consumer is stuck (a lost wakeup), and the test
// must not hang.
constexpr auto kStallTimeout = 5s;

uint64_t base_seed() {
  const char* text = std::getenv("UVMBUS_STRESS_SEED");
  return text != nullptr ? std::strtoull(text, nullptr, 10) : 20240601;
}

// Waits without sleeping, for pauses shorter than a timer's granularity.
void spin_for(std::chrono::nanoseconds pause) {
  const auto until = std::chrono::steady_clock::now() + pause;
  while (std::chrono::steady_clock::now() < until) {
  }
}

// The reading end of one ring as a Pollable: packets carry their sequence
// number in trans_id and in the first 8 payload bytes. Before unmasking it
// lingers up to a microsecond, which widens the window in which a packet can
// land unseen between the worker's last empty poll and the unmask (the race
// the re-check must win), so the stress hits it often.
class RingPollable : public Pollable {
 public:
  RingPollable(const ring::RingMemory& memory, uint64_t seed)
      : reader_(memory), wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)), rng_(seed) {}
  ~RingPollable() override { close(wake_fd_); }
  RingPollable(const RingPollable&) = delete;
  RingPollable& operator=(const RingPollable&) = delete;

  std::size_t poll(std::size_t budget) noexcept override {
    std::size_t done = 0;
    ring::InPacket packet;
    while (done < budget && reader_.next(packet) == ring::ReadStatus::ok) {
      uint64_t payload_seq = ~uint64_t{0};
      if (packet.payload().size() >= sizeof(payload_seq)) {
        std::memcpy(&payload_seq, packet.payload().data(), sizeof(payload_seq));
      }
      if (packet.desc.trans_id != next_seq_ || payload_seq != next_seq_) {
        out_of_order_.fetch_add(1, std::memory_order_relaxed);
      }
      next_seq_ = packet.desc.trans_id + 1;
      ++done;
    }
    if (done != 0) {
      // Nobody waits for space here (the producer retries), so the
      // space-available signal is never needed.
      static_cast<void>(reader_.commit());
      received_.store(next_seq_, std::memory_order_relaxed);
    }
    return done;
  }
  bool try_enter_interrupt_mode() noexcept override {
    spin_for(std::chrono::nanoseconds(rng_() % 1000));
    return !reader_.unmask_interrupts();
  }
  void exit_interrupt_mode() noexcept override { reader_.mask_interrupts(); }
  int wake_fd() const noexcept override { return wake_fd_; }

  uint64_t received() const { return received_.load(std::memory_order_relaxed); }
  uint64_t out_of_order() const { return out_of_order_.load(std::memory_order_relaxed); }
  // Only once the worker has let go of it (after detach).
  bool corrupt() const { return reader_.corrupt(); }

 private:
  ring::RingReader reader_;
  const int wake_fd_;
  uint64_t next_seq_ = 0;  // worker thread only
  std::mt19937_64 rng_;    // worker thread only
  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> out_of_order_{0};
};

struct Producer {
  const ring::RingMemory memory;
  const int wake_fd;
  const uint64_t seed;
  const std::chrono::nanoseconds idle_threshold;
  std::atomic<uint64_t> sent{0};
  std::atomic<bool> failed{false};
  std::atomic<bool> stalled{false};

  void signal_if_needed(ring::RingWriter& writer) const {
    if (writer.commit() == ring::Signal::needed) {
      const uint64_t one = 1;
      if (write(wake_fd, &one, sizeof(one)) != static_cast<ssize_t>(sizeof(one))) {
        std::abort();
      }
    }
  }

  // A pause between bursts: a chase (wait until the worker has nearly or
  // completely drained the ring, then send again around the moment it
  // decides to sleep: the lost-wakeup window); none; shorter than the
  // threshold (the worker keeps spinning); or clearly longer (it sleeps).
  // False if the worker stopped draining the ring (recorded in `stalled`).
  bool pause(ring::RingWriter& writer, uint32_t empty_free_bytes, std::mt19937_64& rng) {
    const auto short_pause = std::max<std::chrono::nanoseconds>(idle_threshold / 2, 2us);
    const auto long_pause = std::max<std::chrono::nanoseconds>(idle_threshold * 2, 20us);
    const uint64_t kind = rng() % 8;
    if (kind < 4) {
      const auto unread_left = static_cast<uint32_t>(rng() % (2 * kPacketRingBytes * 32));
      const auto deadline = std::chrono::steady_clock::now() + kStallTimeout;
      while (writer.free_bytes() + unread_left < empty_free_bytes) {
        if (std::chrono::steady_clock::now() > deadline) {
          stalled.store(true);
          return false;
        }
      }
      spin_for(std::max<std::chrono::nanoseconds>(idle_threshold - 500ns, 0ns) +
               std::chrono::nanoseconds(rng() % 1000));
    } else if (kind == 5) {
      spin_for(std::chrono::nanoseconds(rng() % short_pause.count()));
    } else if (kind > 5) {
      std::this_thread::sleep_for(long_pause + std::chrono::microseconds(rng() % 200));
    }
    return true;
  }

  // Writes `packet`, publishing the batch and waiting while the ring is full.
  // False if the write failed or the consumer stalled (recorded in `failed`,
  // `stalled`).
  bool write_waiting_for_space(ring::RingWriter& writer, const ring::OutPacket& packet) {
    const auto deadline = std::chrono::steady_clock::now() + kStallTimeout;
    ring::WriteStatus status;
    while ((status = writer.write(packet)) == ring::WriteStatus::full) {
      signal_if_needed(writer);
      if (std::chrono::steady_clock::now() > deadline) {
        stalled.store(true);
        return false;
      }
      std::this_thread::yield();
    }
    if (status != ring::WriteStatus::ok) {
      failed.store(true);
      return false;
    }
    return true;
  }

  void run() {
    ring::RingWriter writer(memory);
    const uint32_t empty_free_bytes = writer.free_bytes();
    std::mt19937_64 rng(seed);
    uint64_t seq = 0;
    for (int burst = 0; burst < kBurstsPerProducer; ++burst) {
      const uint32_t packets = 1 + static_cast<uint32_t>(rng() % kMaxBurst);
      for (uint32_t i = 0; i < packets; ++i, ++seq) {
        const iovec segment{&seq, sizeof(seq)};
        const ring::OutPacket packet{.trans_id = seq, .payload = {&segment, 1}};
        if (!write_waiting_for_space(writer, packet)) {
          return;
        }
      }
      signal_if_needed(writer);
      sent.store(seq, std::memory_order_relaxed);
      if (!pause(writer, empty_free_bytes, rng)) {
        return;
      }
    }
  }
};

struct StressCase {
  std::chrono::nanoseconds idle_threshold;
  int rings;  // one worker drives them all
};

void PrintTo(const StressCase& c, std::ostream* out) {
  *out << "idle threshold " << c.idle_threshold.count() << " ns, " << c.rings << " ring(s)";
}

class WakeupStress : public ::testing::TestWithParam<StressCase> {};

TEST_P(WakeupStress, EveryPacketArrivesWithoutLostWakeups) {
  const StressCase c = GetParam();
  const uint64_t seed = base_seed();
  SCOPED_TRACE("UVMBUS_STRESS_SEED=" + std::to_string(seed));

  std::vector<std::unique_ptr<TestRing>> rings;
  std::vector<std::unique_ptr<RingPollable>> pollables;
  std::vector<std::unique_ptr<Producer>> producers;
  auto topology = Topology::load();
  ASSERT_TRUE(topology.has_value());
  const std::vector<unsigned> cpus = allowed_cpus();
  // Declared after the pollables: the worker stops before they go.
  auto started = Worker::start(*topology, {.cpu = cpus.front(),
                                           .burst = 32,
                                           .idle_threshold = c.idle_threshold});
  ASSERT_TRUE(started.has_value()) << to_string(started.error().code);
  Worker& worker = **started;

  for (int i = 0; i < c.rings; ++i) {
    rings.push_back(std::make_unique<TestRing>(kRingDataSize));
    const uint64_t ring_seed = seed * 16 + static_cast<uint64_t>(i) * 2;
    pollables.push_back(std::make_unique<RingPollable>(rings.back()->memory(), ring_seed));
    producers.push_back(std::unique_ptr<Producer>(new Producer{
        rings.back()->memory(), pollables.back()->wake_fd(), ring_seed + 1, c.idle_threshold}));
    ASSERT_TRUE(worker.attach(*pollables.back()).has_value());
  }

  // Producers run on another CPU than the worker when there is one, so the
  // two sides really race.
  std::vector<std::thread> threads;
  for (auto& producer : producers) {
    threads.emplace_back([&producer, &topology, &cpus] {
      if (cpus.size() > 1) {
        EXPECT_TRUE(topology->bind_current_thread(cpus.back()).has_value());
      }
      producer->run();
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }

  // Everything sent must arrive soon after the producers are done.
  const bool drained = test::wait_until(
      [&] {
        for (int i = 0; i < c.rings; ++i) {
          if (pollables[i]->received() != producers[i]->sent.load()) {
            return false;
          }
        }
        return true;
      },
      std::chrono::duration_cast<std::chrono::milliseconds>(kStallTimeout));
  const WorkerStats stats = worker.stats();
  for (int i = 0; i < c.rings; ++i) {
    ASSERT_TRUE(worker.detach(*pollables[i]).has_value());
    EXPECT_FALSE(producers[i]->failed.load()) << "ring " << i << ": write failed";
    EXPECT_FALSE(producers[i]->stalled.load())
        << "ring " << i << ": not drained for " << kStallTimeout.count()
        << " s: the worker slept through it (lost wakeup)";
    EXPECT_FALSE(pollables[i]->corrupt()) << "ring " << i;
    EXPECT_EQ(pollables[i]->out_of_order(), 0u) << "ring " << i;
    EXPECT_EQ(pollables[i]->received(), producers[i]->sent.load())
        << "ring " << i << ": packets stranded after the producer finished (lost wakeup)";
  }
  EXPECT_TRUE(drained) << "sleeps " << stats.sleeps << ", wakeups " << stats.wakeups
                       << ", refused " << stats.refused_sleeps;
  // The pauses make the worker sleep and wake; otherwise this test proves nothing.
  EXPECT_GT(stats.sleeps, 0u);
  EXPECT_GT(stats.wakeups, 0u);
  RecordProperty("sleeps", std::to_string(stats.sleeps));
  RecordProperty("refused_sleeps", std::to_string(stats.refused_sleeps));
}

INSTANTIATE_TEST_SUITE_P(
    IdleThresholds, WakeupStress,
    ::testing::Values(StressCase{0ns, 1}, StressCase{0ns, 2}, StressCase{20us, 1},
                      StressCase{kDefaultIdleThreshold, 2}),
    [](const auto& info) {
      const auto threshold = info.param.idle_threshold;
      return (threshold == 0ns ? std::string("InterruptMode")
                               : "Spin" + std::to_string(threshold.count() / 1000) + "us") +
             std::to_string(info.param.rings) + "Rings";
    });

}  // namespace
}  // namespace uvmbus::runtime
