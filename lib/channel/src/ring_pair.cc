// RingPair: page layout of a channel's ring GPADL and the mirrored views of
// its two data areas.
#include "uvmbus/channel/ring_pair.h"

#include <utility>

namespace uvmbus::channel {

namespace {

bool valid_data_size(uint32_t bytes) noexcept {
  return bytes >= ring::kMinDataSize && bytes <= ring::kMaxDataSize &&
         bytes % wire::kHvPageSize == 0;
}

ring::RingMemory ring_memory(std::byte* header_page, const MirroredMapping& data) noexcept {
  return ring::RingMemory{
      .header = reinterpret_cast<wire::RingHeader*>(header_page),
      .data = data.data(),
      .data_size = static_cast<uint32_t>(data.size()),
      .mirrored = true,
  };
}

}  // namespace

Expected<RingPair, MemoryError> RingPair::allocate(GuestMemory& memory,
                                                   uint32_t outbound_data_bytes,
                                                   uint32_t inbound_data_bytes) {
  if (!valid_data_size(outbound_data_bytes) || !valid_data_size(inbound_data_bytes)) {
    return Unexpected(MemoryError{MemoryErrorCode::invalid_argument});
  }
  const uint64_t outbound_bytes = wire::kHvPageSize + uint64_t{outbound_data_bytes};
  const uint64_t inbound_bytes = wire::kHvPageSize + uint64_t{inbound_data_bytes};
  Expected<GuestPages, MemoryError> pages =
      memory.allocate_pages((outbound_bytes + inbound_bytes) / wire::kHvPageSize);
  if (!pages) {
    return Unexpected(pages.error());
  }
  const GuestMemoryRegion& region = pages->region();
  const uint64_t outbound_data_offset = pages->region_offset() + wire::kHvPageSize;
  const uint64_t inbound_data_offset = outbound_data_offset + outbound_bytes;
  Expected<MirroredMapping, MemoryError> outbound_data =
      MirroredMapping::create(region, outbound_data_offset, outbound_data_bytes);
  if (!outbound_data) {
    return Unexpected(outbound_data.error());
  }
  Expected<MirroredMapping, MemoryError> inbound_data =
      MirroredMapping::create(region, inbound_data_offset, inbound_data_bytes);
  if (!inbound_data) {
    return Unexpected(inbound_data.error());
  }
  return RingPair(std::move(*pages), std::move(*outbound_data), std::move(*inbound_data));
}

RingPair::RingPair(GuestPages pages, MirroredMapping outbound_data,
                   MirroredMapping inbound_data) noexcept
    : pages_(std::move(pages)),
      outbound_data_(std::move(outbound_data)),
      inbound_data_(std::move(inbound_data)) {}

uint32_t RingPair::downstream_ringbuffer_pageoffset() const noexcept {
  return static_cast<uint32_t>(1 + outbound_data_.size() / wire::kHvPageSize);
}

ring::RingMemory RingPair::outbound() const noexcept {
  return ring_memory(pages_.data(), outbound_data_);
}

ring::RingMemory RingPair::inbound() const noexcept {
  return ring_memory(pages_.data() + std::size_t{downstream_ringbuffer_pageoffset()} *
                                         wire::kHvPageSize,
                     inbound_data_);
}

}  // namespace uvmbus::channel
