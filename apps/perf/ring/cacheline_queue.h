// The physical latency limit: one cache line per direction holding a count
// of packets published, no payload, no ring. With one packet in flight at a
// time it is a queue; it is measured in ping-pong only (a stream would
// overwrite packets the consumer has not seen).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "harness/queue.h"

namespace uvmbus::perf::ring_bench {

class CachelineQueue {
 public:
  std::size_t send(uint64_t first, std::size_t count) noexcept {
    if (count == 0) {
      return 0;
    }
    // Release: pairs with the acquire in receive(), like a ring's index publish.
    line_.published.store(first + 1, std::memory_order_release);
    return 1;
  }

  std::size_t receive(std::size_t count, SequenceCheck& check) noexcept {
    const uint64_t published = line_.published.load(std::memory_order_acquire);
    if (count == 0 || published == check.expected) {
      return 0;
    }
    check.see(published - 1);
    return 1;
  }

  uint64_t signals() const noexcept { return 0; }
  const char* failure() const noexcept { return nullptr; }

 private:
  // 128-byte alignment keeps the adjacent-line prefetcher from pairing this
  // line with the other direction's.
  struct alignas(128) Line {
    std::atomic<uint64_t> published{0};
  } line_;
};

static_assert(PacketQueue<CachelineQueue>);

}  // namespace uvmbus::perf::ring_bench
