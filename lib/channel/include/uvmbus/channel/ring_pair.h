// RingPair: the memory of one channel's two rings, allocated from guest
// memory as one run of pages that a single GPADL describes:
//
//   page 0                          page downstream_ringbuffer_pageoffset()
//   [outbound header][outbound data][inbound header][inbound data]
//    guest -> host ring              host -> guest ring
//
// Each ring's data pages are also mapped twice back to back (MirroredMapping)
// so that lib/ring reads and writes wrapped packets with one copy; the header
// pages are used through the region's ordinary mapping. The pages arrive
// zeroed; whoever opens the channel initialises the headers.
#pragma once

#include <cstdint>

#include "uvmbus/channel/expected.h"
#include "uvmbus/channel/guest_memory.h"
#include "uvmbus/channel/memory_error.h"
#include "uvmbus/channel/mirrored_mapping.h"
#include "uvmbus/ring/ring_memory.h"

namespace uvmbus::channel {

class RingPair {
 public:
  // Data sizes must be multiples of 4 KiB within
  // [ring::kMinDataSize, ring::kMaxDataSize] (else invalid_argument).
  static Expected<RingPair, MemoryError> allocate(GuestMemory& memory,
                                                  uint32_t outbound_data_bytes,
                                                  uint32_t inbound_data_bytes);

  // The GPADL's pages: first_pfn() .. first_pfn() + page_count() - 1.
  const GuestPages& pages() const noexcept { return pages_; }
  // Page at which the inbound (host -> guest) ring starts, as OpenChannel's
  // downstream_ringbuffer_pageoffset.
  uint32_t downstream_ringbuffer_pageoffset() const noexcept;

  // Ring memory with mirrored data areas; valid while this RingPair lives
  // (moving the RingPair does not move the memory).
  ring::RingMemory outbound() const noexcept;
  ring::RingMemory inbound() const noexcept;

 private:
  RingPair(GuestPages pages, MirroredMapping outbound_data, MirroredMapping inbound_data) noexcept;

  GuestPages pages_;
  MirroredMapping outbound_data_;
  MirroredMapping inbound_data_;
};

}  // namespace uvmbus::channel
