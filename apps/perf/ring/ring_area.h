// Private memory for one VMBus ring: a header page followed by the data
// area, mapped and pre-faulted up front so no page fault lands in a
// measurement, and initialised the way the allocating side of a ring does.
#pragma once

#include <cstddef>
#include <cstdint>

#include "uvmbus/ring/ring_memory.h"

namespace uvmbus::perf::ring_bench {

class RingArea {
 public:
  // `pending_send_feature`: the producer advertises that it may wait for
  // space (spec §3), so the reader owes it a space signal. Throws
  // std::runtime_error if the memory cannot be mapped or the ring library
  // rejects the geometry.
  RingArea(uint32_t data_bytes, bool pending_send_feature);
  ~RingArea();
  RingArea(const RingArea&) = delete;
  RingArea& operator=(const RingArea&) = delete;

  const ring::RingMemory& memory() const noexcept { return memory_; }

 private:
  void* base_ = nullptr;
  std::size_t bytes_ = 0;
  ring::RingMemory memory_{};
};

}  // namespace uvmbus::perf::ring_bench
