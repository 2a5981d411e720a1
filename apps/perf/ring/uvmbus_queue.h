// The VMBus ring as a benchmark queue: a RingWriter and a RingReader on one
// ring in private memory. The producer numbers a burst of staged payloads
// first, then writes each packet gathered from one iovec (as rte_ring's burst
// copies from its staging array); the consumer reads in place or copies each
// packet out first (the hardened mode for an untrusted peer). Batched, a
// whole send() or receive() is one commit; unbatched, every packet is its own
// commit on both sides (one index publish and one signal decision per packet,
// as the Linux and DPDK VMBus drivers do).
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "harness/doorbell.h"
#include "harness/line_buffer.h"
#include "harness/queue.h"
#include "ring/ring_area.h"
#include "uvmbus/ring/ring.h"

namespace uvmbus::perf::ring_bench {

enum class ReaderMode : uint8_t { copy, in_place };
enum class CommitPolicy : uint8_t { per_batch, per_packet };

struct UvmbusQueueConfig {
  std::size_t payload_bytes = 64;
  std::size_t max_burst = 32;  // most packets one send() is asked for
  uint32_t data_bytes = 256 * 1024;
  ReaderMode reader = ReaderMode::copy;
  CommitPolicy commit = CommitPolicy::per_batch;
  Doorbell* consumer_bell = nullptr;  // rung when the writer's commit asks for a signal
  // Set: the producer sleeps when the ring is full (pending_send_sz, spec
  // §10.3) and this is rung when the reader's commit asks for a signal.
  // Null: the producer polls and does not advertise the feature.
  Doorbell* producer_bell = nullptr;
};

class UvmbusQueue {
 public:
  explicit UvmbusQueue(const UvmbusQueueConfig& config);  // throws std::runtime_error
  UvmbusQueue(const UvmbusQueue&) = delete;
  UvmbusQueue& operator=(const UvmbusQueue&) = delete;

  std::size_t send(uint64_t first, std::size_t count) noexcept;
  std::size_t receive(std::size_t count, SequenceCheck& check) noexcept;
  uint64_t signals() const noexcept;
  const char* failure() const noexcept { return failure_.reason.load(std::memory_order_relaxed); }

  // Interrupt mode (spec §10.4): unmask and re-check; false if data raced in.
  bool request_signal() noexcept { return !consumer_.reader.unmask_interrupts(); }
  void cancel_signal() noexcept { consumer_.reader.mask_interrupts(); }

  // Full ring (spec §10.3): ask for a signal once a quarter of the ring is
  // free (hysteresis against a signal per packet); false if it already is.
  bool request_space_signal() noexcept {
    return producer_.writer.arm_pending_send(producer_.space_wanted) == ring::PendingSend::armed;
  }
  void cancel_space_signal() noexcept { producer_.writer.disarm_pending_send(); }

 private:
  void publish_writes() noexcept;
  void publish_reads() noexcept;
  void fail(const char* reason) noexcept;

  RingArea area_;
  const bool commit_per_packet_;
  const bool read_in_place_;

  // Each thread's state on lines of its own.
  struct alignas(ring::kCacheAlign) ProducerSide {
    explicit ProducerSide(const UvmbusQueueConfig& config, const ring::RingMemory& memory);
    ring::RingWriter writer;
    std::size_t max_burst = 0;
    std::size_t payload_stride = 0;          // staged payloads start on cache lines
    LineBuffer payloads;                      // max_burst payloads, sequence number first
    std::unique_ptr<iovec[]> gathers;         // one per staged payload
    std::unique_ptr<ring::OutPacket[]> packets;
    uint32_t space_wanted = 0;  // bytes a full producer waits for
    Doorbell* consumer_bell = nullptr;
    uint64_t signals = 0;
  } producer_;

  struct alignas(ring::kCacheAlign) ConsumerSide {
    ConsumerSide(const UvmbusQueueConfig& config, const ring::RingMemory& memory);
    ring::RingReader reader;
    LineBuffer copy;  // copy-out destination, max_packet_bytes()
    Doorbell* producer_bell = nullptr;
    uint64_t signals = 0;
  } consumer_;

  struct alignas(ring::kCacheAlign) Failure {
    std::atomic<const char*> reason{nullptr};
  } failure_;
};

}  // namespace uvmbus::perf::ring_bench
