// RingWriter: appends packets to the ring, publishes them in batches and
// decides when the reader must be signalled (spec §8, §10.1, §10.3).
#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "shared_header.h"
#include "word_stream.h"
#include "uvmbus/ring/ring.h"

namespace uvmbus::ring {

using detail::check_index;
using detail::ring_advance;
using detail::ring_distance;

namespace {

// Largest packet_ring_bytes(): at least 8 bytes of the ring always stay free
// (a full ring would look empty), and len8 is a 16-bit count of 8-byte units.
uint32_t writer_max_packet_bytes(uint32_t data_size) noexcept {
  constexpr uint32_t kMaxLen8Bytes = 0xffffu * wire::kPacketAlign;
  return std::min(data_size - wire::kPacketAlign, kMaxLen8Bytes + uint32_t{sizeof(wire::PacketTrailer)});
}

std::size_t total_length(std::span<const iovec> segments) noexcept {
  if (segments.size() == 1) [[likely]] {
    return segments[0].iov_len;
  }
  std::size_t bytes = 0;
  for (const iovec& segment : segments) {
    bytes += segment.iov_len;
  }
  return bytes;
}

// The descriptor's first word: type, offset8, len8, flags.
constexpr uint64_t descriptor_head(uint16_t type, uint16_t offset8, uint16_t len8,
                                   uint16_t flags) noexcept {
  return uint64_t{type} | uint64_t{offset8} << 16 | uint64_t{len8} << 32 | uint64_t{flags} << 48;
}
static_assert(std::bit_cast<std::array<uint64_t, 2>>(wire::PacketDescriptor{
                  .type = 1, .offset8 = 2, .len8 = 3, .flags = 4, .trans_id = 5})[0] ==
                  descriptor_head(1, 2, 3, 4),
              "descriptor_head() must match the PacketDescriptor layout");
static_assert(std::bit_cast<uint64_t>(wire::PacketTrailer{.reserved = 0, .start_offset = 7}) ==
              uint64_t{7} << 32);

// Stores one packet at `start`: descriptor, type-specific header, payload
// pieces, zero padding, trailer. kCommon: the packet is a single payload
// piece with no type-specific header and ends before the wrap point. The
// burst loop stores such packets inline and every other one out of line
// (store_any_packet), so that the general case's extra state never takes
// registers from the loop: a spilled register is a stack store per packet,
// queued behind ring stores that wait for their lines to come back from the
// reader's core.
template <bool kCommon>
[[gnu::always_inline]] inline void store_packet(std::byte* data, uint32_t data_size, uint32_t start,
                                                uint64_t head, const OutPacket& packet) noexcept {
  detail::RingWordStream<!kCommon> out(data, data_size, start);
  out.put_word(head);
  out.put_word(packet.trans_id);
  if constexpr (kCommon) {
    out.put_bytes(static_cast<const std::byte*>(packet.payload[0].iov_base), packet.payload[0].iov_len);
  } else {
    out.put_bytes(packet.header_ext.data(), packet.header_ext.size());
    for (const iovec& segment : packet.payload) {
      out.put_bytes(static_cast<const std::byte*>(segment.iov_base), segment.iov_len);
    }
  }
  out.pad();
  out.put_word(uint64_t{start} << 32);  // trailer: reserved, then the packet's start offset
}

[[gnu::noinline]] void store_any_packet(std::byte* data, uint32_t data_size, uint32_t start, uint64_t head,
                                        const OutPacket& packet) noexcept {
  store_packet<false>(data, data_size, start, head, packet);
}

}  // namespace

RingWriter::RingWriter(const RingMemory& mem) noexcept {
  // Continue where the ring stands. Our own write_index is read here once
  // and never again (we keep it privately); the reader's is validated like
  // every later load.
  const detail::Attachment attachment = detail::attach(mem);
  if (attachment.error != RingError::none) {
    fail(attachment.error);
    return;
  }
  header_ = mem.header;
  data_ = mem.data;
  data_size_ = mem.data_size;
  max_packet_bytes_ = writer_max_packet_bytes(data_size_);
  committed_ = next_ = attachment.write_index;
  cached_read_ = attachment.read_index;
  free_ = data_size_ - ring_distance(attachment.read_index, attachment.write_index, data_size_);
}

void RingWriter::fail(RingError error) noexcept {
  if (error_ == RingError::none) {
    error_ = error;
    stats_.corrupt = 1;
  }
}

// Loads read_index once and accepts it only if it is well formed and lies
// between the last value we saw and what we have published: a reader can
// only consume published bytes, never go back.
bool RingWriter::refresh_read_index() noexcept {
  // W-ACQ: pairs with R-PUB; the reader's reads of the space it frees happen
  // before our writes into that space. seq_cst (a plain load on x86) for the
  // W-ARM re-check.
  const uint32_t read_index = detail::load(header_->read_index, std::memory_order_seq_cst);
  if (const RingError error = check_index(read_index, data_size_); error != RingError::none) {
    fail(error);
    return false;
  }
  if (ring_distance(cached_read_, read_index, data_size_) >
      ring_distance(cached_read_, committed_, data_size_)) {
    fail(RingError::index_out_of_sequence);
    return false;
  }
  free_ += ring_distance(cached_read_, read_index, data_size_);
  cached_read_ = read_index;
  return true;
}

// Appends one packet at cursor.next. The cursor carries the writer's hot
// state through a burst in registers: storing it to the object after every
// packet would queue several extra stores per packet behind the ring stores
// that wait for their lines to come back from the reader's core.
[[gnu::always_inline]] inline WriteStatus RingWriter::append(const OutPacket& packet,
                                                             BatchCursor& cursor) noexcept {
  const std::size_t ext_bytes = packet.header_ext.size();
  const std::size_t payload_bytes = total_length(packet.payload);
  if (ext_bytes % wire::kPacketAlign != 0 || ext_bytes > max_packet_bytes_ ||
      payload_bytes > max_packet_bytes_) {
    return WriteStatus::too_large;
  }
  const uint64_t total = packet_ring_bytes(ext_bytes, payload_bytes);
  if (total > max_packet_bytes_) {
    return WriteStatus::too_large;
  }
  const uint32_t total32 = static_cast<uint32_t>(total);

  // A write needs strictly more than its size free so that a full ring
  // never looks empty.
  if (cursor.free <= total32) {
    free_ = cursor.free;
    if (!refresh_read_index()) {
      return WriteStatus::corrupt;
    }
    cursor.free = free_;
    if (cursor.free <= total32) {
      ++stats_.full;
      return WriteStatus::full;
    }
  }

  const uint32_t start = cursor.next;
  const auto payload_offset = static_cast<uint32_t>(sizeof(wire::PacketDescriptor) + ext_bytes);
  const uint64_t head = descriptor_head(
      static_cast<uint16_t>(packet.type), static_cast<uint16_t>(payload_offset / wire::kPacketAlign),
      static_cast<uint16_t>((total32 - sizeof(wire::PacketTrailer)) / wire::kPacketAlign), packet.flags);
  if (ext_bytes == 0 && packet.payload.size() == 1 && data_size_ - start >= total32) [[likely]] {
    store_packet<true>(data_, data_size_, start, head, packet);
  } else {
    store_any_packet(data_, data_size_, start, head, packet);
  }

  cursor.next = ring_advance(start, total32, data_size_);
  cursor.free -= total32;
  return WriteStatus::ok;
}

[[gnu::always_inline]] inline RingWriter::BatchCursor RingWriter::load_cursor() const noexcept {
  return {.next = next_, .free = free_};
}

[[gnu::always_inline]] inline void RingWriter::store_cursor(const BatchCursor& cursor) noexcept {
  next_ = cursor.next;
  free_ = cursor.free;
}

WriteStatus RingWriter::write(const OutPacket& packet) noexcept {
  if (corrupt()) {
    return WriteStatus::corrupt;
  }
  BatchCursor cursor = load_cursor();
  const WriteStatus status = append(packet, cursor);
  store_cursor(cursor);
  batch_packets_ += status == WriteStatus::ok ? 1 : 0;
  return status;
}

// Asks for the free lines the burst is about to store to in a writable
// state, estimating its size from its first packet. Their transfers from the
// reader's core then overlap instead of each starting when its first store
// reaches the head of the store queue, and commit's fence waits for fewer of
// them. The reader is done with free space: this takes no line it still reads.
[[gnu::always_inline]] inline void RingWriter::prefetch_burst_lines(
    const BatchCursor& cursor, std::span<const OutPacket> packets) const noexcept {
  if (packets.empty()) {
    return;
  }
  constexpr uint32_t kMaxBytes = 8 * 1024;  // bounded work for bursts of large packets
  const std::size_t estimate = packets.size() * packet_ring_bytes(packets[0].header_ext.size(),
                                                                  total_length(packets[0].payload));
  const uint32_t bytes = static_cast<uint32_t>(std::min<std::size_t>({estimate, cursor.free, kMaxBytes}));
  for (uint32_t done = 0; done < bytes; done += detail::kCacheLine) {
    detail::prefetch_for_write(data_ + ring_advance(cursor.next, done, data_size_));
  }
}

WriteBurst RingWriter::write_burst(std::span<const OutPacket> packets) noexcept {
  if (corrupt()) {
    return {.written = 0, .status = WriteStatus::corrupt};
  }
  BatchCursor cursor = load_cursor();
  prefetch_burst_lines(cursor, packets);
  WriteBurst burst{.written = 0, .status = WriteStatus::ok};
  for (const OutPacket& packet : packets) {
    burst.status = append(packet, cursor);
    if (burst.status != WriteStatus::ok) {
      break;
    }
    ++burst.written;
  }
  store_cursor(cursor);
  batch_packets_ += static_cast<uint32_t>(burst.written);
  return burst;
}

Signal RingWriter::commit() noexcept {
  if (corrupt() || next_ == committed_) {
    return Signal::none;
  }
  const uint32_t previous = committed_;
  // W-PUB: pairs with R-ACQ; every packet byte of the batch is visible before
  // the reader can see the new write_index. seq_cst: also ordered before the
  // interrupt_mask load below (pairs with R-UNMASK).
  detail::store(header_->write_index, next_, std::memory_order_seq_cst);
  stats_.packets += batch_packets_;
  stats_.bytes += ring_distance(committed_, next_, data_size_);
  ++stats_.commits;
  committed_ = next_;
  batch_packets_ = 0;

  // Either we see the reader's mask cleared, or the reader's re-check after
  // clearing it sees our new write_index. A reader that cleared its mask had
  // published its read_index before, so the read_index load below sees it.
  if (detail::load(header_->interrupt_mask, std::memory_order_seq_cst) != 0) {
    return Signal::none;
  }
  // Empty -> non-empty: the reader had consumed everything we published
  // before this batch, so it may be asleep. Only compared, never used as an
  // offset, so a hostile value cannot do harm here.
  if (detail::load(header_->read_index, std::memory_order_seq_cst) != previous) {
    return Signal::none;
  }
  ++stats_.signals;
  return Signal::needed;
}

void RingWriter::revert() noexcept {
  free_ += ring_distance(committed_, next_, data_size_);
  next_ = committed_;
  batch_packets_ = 0;
}

PendingSend RingWriter::arm_pending_send(uint32_t bytes) noexcept {
  if (corrupt()) {
    return PendingSend::space_available;  // the next write() reports the corruption
  }
  if ((detail::load(header_->feature_bits, std::memory_order_relaxed) &
       wire::kRingFeaturePendingSendSz) == 0) {
    return PendingSend::unsupported;
  }
  const uint32_t needed =
      std::min((bytes + wire::kPacketAlign - 1) & ~(wire::kPacketAlign - 1), max_packet_bytes_);
  // W-ARM: ordered before the read_index re-check (seq_cst). Either the
  // reader sees our request and signals when it frees space, or the re-check
  // sees the space it freed.
  detail::store(header_->pending_send_sz, needed, std::memory_order_seq_cst);
  if (!refresh_read_index() || free_ > needed) {
    return PendingSend::space_available;
  }
  return PendingSend::armed;
}

void RingWriter::disarm_pending_send() noexcept {
  if (!corrupt()) {
    detail::store(header_->pending_send_sz, 0, std::memory_order_relaxed);
  }
}

uint32_t RingWriter::free_bytes() noexcept {
  if (corrupt() || !refresh_read_index()) {
    return 0;
  }
  return std::min(free_ - wire::kPacketAlign, max_packet_bytes_);
}

}  // namespace uvmbus::ring
