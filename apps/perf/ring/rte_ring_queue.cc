// RteRingQueue over rte_ring_create_elem and the burst_elem calls.
#include "ring/rte_ring_queue.h"

#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <stdexcept>

namespace uvmbus::perf::ring_bench {

RteRingQueue::RteRingQueue(std::size_t payload_bytes, std::size_t ring_bytes, std::size_t max_burst)
    : element_bytes_(static_cast<unsigned>((payload_bytes + 3) & ~std::size_t{3})), max_burst_(max_burst) {
  static std::atomic<unsigned> rings_made{0};
  const std::string name = fmt::format("uvmbus_perf_{}", rings_made.fetch_add(1));
  staging_ = make_line_buffer(element_bytes_ * max_burst);
  received_ = make_line_buffer(element_bytes_ * max_burst);
  // The largest power-of-two element count within the VMBus ring's data
  // size, so both hold the same bytes.
  const std::size_t count = std::max(std::bit_floor(ring_bytes / element_bytes_), std::size_t{2});
  ring_ = rte_ring_create_elem(name.c_str(), element_bytes_, static_cast<unsigned>(count), SOCKET_ID_ANY,
                               RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (ring_ == nullptr) {
    throw std::runtime_error(fmt::format("rte_ring_create_elem({} x {} bytes): {}", count, element_bytes_,
                                         rte_strerror(rte_errno)));
  }
}

RteRingQueue::~RteRingQueue() { rte_ring_free(ring_); }

std::size_t RteRingQueue::send(uint64_t first, std::size_t count) noexcept {
  count = std::min(count, max_burst_);
  for (std::size_t i = 0; i < count; ++i) {
    const uint64_t sequence = first + i;
    std::memcpy(staging_.get() + i * element_bytes_, &sequence, sizeof sequence);
  }
  return rte_ring_enqueue_burst_elem(ring_, staging_.get(), element_bytes_, static_cast<unsigned>(count),
                                     nullptr);
}

std::size_t RteRingQueue::receive(std::size_t count, SequenceCheck& check) noexcept {
  count = std::min(count, max_burst_);
  const unsigned received = rte_ring_dequeue_burst_elem(ring_, received_.get(), element_bytes_,
                                                        static_cast<unsigned>(count), nullptr);
  for (unsigned i = 0; i < received; ++i) {
    uint64_t sequence = 0;
    std::memcpy(&sequence, received_.get() + std::size_t{i} * element_bytes_, sizeof sequence);
    check.see(sequence);
  }
  return received;
}

}  // namespace uvmbus::perf::ring_bench
