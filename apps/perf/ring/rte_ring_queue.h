// DPDK's rte_ring as a benchmark queue: fixed-size elements of the payload
// size (rounded up to 4 bytes, as rte_ring requires), single producer and
// single consumer, burst enqueue and dequeue through private buffers, which
// matches the VMBus ring's gather-in and copy-out. It has no interrupt mode.
#pragma once

#include <cstddef>
#include <cstdint>

#include "harness/line_buffer.h"
#include "harness/queue.h"

struct rte_ring;

namespace uvmbus::perf::ring_bench {

class RteRingQueue {
 public:
  // The largest power-of-two count of elements within `ring_bytes`. Needs
  // start_eal(); throws std::runtime_error on failure.
  RteRingQueue(std::size_t payload_bytes, std::size_t ring_bytes, std::size_t max_burst);
  ~RteRingQueue();
  RteRingQueue(const RteRingQueue&) = delete;
  RteRingQueue& operator=(const RteRingQueue&) = delete;

  std::size_t send(uint64_t first, std::size_t count) noexcept;
  std::size_t receive(std::size_t count, SequenceCheck& check) noexcept;
  uint64_t signals() const noexcept { return 0; }
  const char* failure() const noexcept { return nullptr; }

 private:
  rte_ring* ring_ = nullptr;
  unsigned element_bytes_ = 0;
  std::size_t max_burst_ = 0;
  // Producer staging and consumer destination, each on lines of its own.
  LineBuffer staging_;
  LineBuffer received_;
};

static_assert(PacketQueue<RteRingQueue>);

}  // namespace uvmbus::perf::ring_bench
