// RingReader: validates and hands out packets in place or copied out,
// publishes consumption in batches, decides when the writer must be
// signalled, and manages the interrupt mask (spec §9, §10.2, §10.4).
#include <algorithm>
#include <cstring>

#include "shared_header.h"
#include "uvmbus/ring/ring.h"

namespace uvmbus::ring {

using detail::check_index;
using detail::ring_advance;
using detail::ring_distance;

namespace {

constexpr uint32_t kDescriptorBytes = sizeof(wire::PacketDescriptor);
constexpr uint32_t kTrailerBytes = sizeof(wire::PacketTrailer);

// Largest len8 * 8 a valid writer can publish: the packet plus its trailer
// must leave 8 bytes free, and len8 is 16 bits.
uint32_t reader_max_packet_bytes(uint32_t data_size) noexcept {
  return std::min(data_size - wire::kPacketAlign - kTrailerBytes, 0xffffu * wire::kPacketAlign);
}

// The packet types current hosts and guests exchange, as a bit set.
constexpr uint32_t kKnownPacketTypes =
    (1u << static_cast<uint16_t>(wire::PacketType::data_inband)) |
    (1u << static_cast<uint16_t>(wire::PacketType::data_using_xfer_pages)) |
    (1u << static_cast<uint16_t>(wire::PacketType::data_using_gpa_direct)) |
    (1u << static_cast<uint16_t>(wire::PacketType::completion));

bool packet_type_known(uint16_t type) noexcept {
  return type < 32 && ((kKnownPacketTypes >> type) & 1) != 0;
}

// Copies `len` bytes, a multiple of 8: inline for the sizes packets usually
// have (a call to memcpy per packet costs more than the copy), memcpy beyond.
// The overlapping last chunk stays inside [dst, dst + len).
[[gnu::always_inline]] inline void copy_packet_bytes(std::byte* dst, const std::byte* src,
                                                     std::size_t len) noexcept {
  constexpr std::size_t kInlineMax = 256;
  if (len > kInlineMax) [[unlikely]] {
    std::memcpy(dst, src, len);
    return;
  }
  if (len >= 32) {
    const std::size_t last = len - 32;
    for (std::size_t done = 0; done < last; done += 32) {
      std::memcpy(dst + done, src + done, 32);
    }
    std::memcpy(dst + last, src + last, 32);
  } else if (len >= 16) {
    std::memcpy(dst, src, 16);
    std::memcpy(dst + len - 16, src + len - 16, 16);
  } else if (len != 0) {
    std::memcpy(dst, src, 8);
  }
}

}  // namespace

RingReader::RingReader(const RingMemory& mem) {
  // Continue where the ring stands. Our own read_index is read here once
  // and never again; the writer's is validated like every later load.
  const detail::Attachment attachment = detail::attach(mem);
  if (attachment.error != RingError::none) {
    fail(attachment.error);
    return;
  }
  header_ = mem.header;
  data_ = mem.data;
  data_size_ = mem.data_size;
  mirrored_ = mem.mirrored;
  max_packet_bytes_ = reader_max_packet_bytes(data_size_);
  committed_ = next_ = attachment.read_index;
  cached_write_ = attachment.write_index;
  available_ = ring_distance(attachment.read_index, attachment.write_index, data_size_);
  if (!mirrored_) {
    bounce_ = std::make_unique<std::byte[]>(max_packet_bytes_);
  }
}

ReadStatus RingReader::fail(RingError error) noexcept {
  if (error_ == RingError::none) {
    error_ = error;
    stats_.corrupt = 1;
  }
  return ReadStatus::corrupt;
}

// Loads write_index once and accepts it only if it is well formed and moved
// forward into space the writer may use: from the last value we saw up to,
// but not reaching, the read_index we published.
bool RingReader::refresh_write_index() noexcept {
  // R-ACQ: pairs with W-PUB; the packet bytes below this index are visible.
  // seq_cst (a plain load on x86) for the R-UNMASK re-check.
  const uint32_t write_index = detail::load(header_->write_index, std::memory_order_seq_cst);
  if (const RingError error = check_index(write_index, data_size_); error != RingError::none) {
    fail(error);
    return false;
  }
  const uint32_t writable = data_size_ - ring_distance(committed_, cached_write_, data_size_);
  if (write_index != cached_write_ &&
      ring_distance(cached_write_, write_index, data_size_) >= writable) {
    fail(RingError::index_out_of_sequence);
    return false;
  }
  const uint32_t published = ring_distance(cached_write_, write_index, data_size_);
  if (published == 0) {
    // Still empty: ask for the line the next descriptor will be on, so that
    // when the writer's index moves its packet is (mostly) here already and
    // a one-packet trip costs one cross-core transfer, not two in sequence.
    __builtin_prefetch(data_ + next_, 0, 3);
  }
  prefetch(cached_write_, published);
  available_ += published;
  cached_write_ = write_index;
  return true;
}

// Each descriptor says where the next one starts, so reading packets one by
// one is a chain of dependent loads: with the lines still in the writer's
// cache, every packet would wait a whole cross-core transfer. Prefetching
// the newly published bytes up front requests those lines in parallel.
void RingReader::prefetch(uint32_t offset, uint32_t bytes) const noexcept {
  constexpr uint32_t kLine = 64;
  constexpr uint32_t kMaxBytes = 8 * 1024;  // enough for a batch, bounded work
  const uint32_t end = std::min(bytes, kMaxBytes);
  for (uint32_t done = 0; done < end; done += kLine) {
    __builtin_prefetch(data_ + ring_advance(offset, done, data_size_), 0, 3);
  }
}

void RingReader::copy_out(uint32_t offset, std::byte* dst, uint32_t len) const noexcept {
  const uint32_t first = mirrored_ ? len : std::min(len, data_size_ - offset);
  copy_packet_bytes(dst, data_ + offset, first);
  if (first != len) {
    copy_packet_bytes(dst + first, data_, len - first);
  }
}

// Reads the next descriptor exactly once (two atomic word loads, so the
// compiler cannot re-read shared memory later) and validates it against the
// bytes published. Does not consume. The fields are checked in registers;
// `words` is what the caller stores (whole words: no store-forwarding stall).
[[gnu::always_inline]] inline ReadStatus RingReader::peek(DescriptorWords& words) noexcept {
  if (corrupt()) {
    return ReadStatus::corrupt;
  }
  if (available_ == 0) {
    if (!refresh_write_index()) {
      return ReadStatus::corrupt;
    }
    if (available_ == 0) {
      return ReadStatus::empty;
    }
  }
  if (available_ < kDescriptorBytes + kTrailerBytes) {
    return fail(RingError::descriptor_truncated);
  }
  // Descriptors start 8-aligned, so each half is one aligned word; the second
  // half may be the one that wraps to offset 0.
  words.head = std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(data_ + next_))
                   .load(std::memory_order_relaxed);
  words.trans_id =
      std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(data_ + ring_advance(next_, 8, data_size_)))
          .load(std::memory_order_relaxed);

  const auto type = static_cast<uint16_t>(words.head);
  const auto offset8 = static_cast<uint16_t>(words.head >> 16);
  const auto len8 = static_cast<uint16_t>(words.head >> 32);
  const auto flags = static_cast<uint16_t>(words.head >> 48);
  if (offset8 < wire::kMinPacketOffset8 || offset8 > len8) {
    return fail(RingError::descriptor_offset);
  }
  if (uint32_t{len8} * wire::kPacketAlign + kTrailerBytes > available_) {
    return fail(RingError::descriptor_length);
  }
  if (!packet_type_known(type)) {
    return fail(RingError::packet_type);
  }
  if ((flags & ~wire::kPacketFlagCompletionRequested) != 0) {
    return fail(RingError::packet_flags);
  }
  return ReadStatus::ok;
}

// Bytes of the validated packet, without its trailer.
[[gnu::always_inline]] inline uint32_t RingReader::packet_bytes(const DescriptorWords& words) noexcept {
  return static_cast<uint32_t>(static_cast<uint16_t>(words.head >> 32)) * wire::kPacketAlign;
}

[[gnu::always_inline]] inline void RingReader::consume(uint32_t len) noexcept {
  const uint32_t bytes = len + kTrailerBytes;
  next_ = ring_advance(next_, bytes, data_size_);
  available_ -= bytes;
  ++batch_packets_;
  batch_bytes_ += bytes;
}

ReadStatus RingReader::next(InPacket& out) noexcept {
  DescriptorWords words;
  if (const ReadStatus status = peek(words); status != ReadStatus::ok) {
    return status;
  }
  std::memcpy(&out.desc, &words, sizeof(out.desc));
  const uint32_t len = packet_bytes(words);
  if (mirrored_ || next_ + len <= data_size_) {
    out.bytes = {data_ + next_, len};
  } else {
    copy_out(next_, bounce_.get(), len);
    out.bytes = {bounce_.get(), len};
  }
  consume(len);
  return ReadStatus::ok;
}

ReadStatus RingReader::next_copy(std::span<std::byte> dst, InPacket& out) noexcept {
  DescriptorWords words;
  if (const ReadStatus status = peek(words); status != ReadStatus::ok) {
    return status;
  }
  const uint32_t len = packet_bytes(words);
  if (dst.size() < len) {
    return ReadStatus::buffer_small;
  }
  // The peer may have rewritten the descriptor since we validated it: the
  // copy carries the validated one, and the rest comes from the ring.
  std::memcpy(dst.data(), &words, sizeof(words));
  copy_out(ring_advance(next_, kDescriptorBytes, data_size_), dst.data() + kDescriptorBytes,
           len - kDescriptorBytes);
  std::memcpy(&out.desc, &words, sizeof(out.desc));
  out.bytes = {dst.data(), len};
  consume(len);
  return ReadStatus::ok;
}

Signal RingReader::commit() noexcept {
  if (corrupt() || next_ == committed_) {
    return Signal::none;
  }
  // A writer that did not advertise the feature polls and expects no signal.
  const bool writer_may_wait = (detail::load(header_->feature_bits, std::memory_order_relaxed) &
                                wire::kRingFeaturePendingSendSz) != 0;
  // R-PUB: pairs with W-ACQ; our reads of the consumed packets complete
  // before the writer can see the space as free. When the writer may wait,
  // seq_cst also orders this store before the pending_send_sz load (pairs
  // with W-ARM): either we see its request or its re-check sees this space.
  detail::store(header_->read_index, next_,
                writer_may_wait ? std::memory_order_seq_cst : std::memory_order_release);
  committed_ = next_;
  const uint32_t bytes_read = batch_bytes_;
  stats_.packets += batch_packets_;
  stats_.bytes += batch_bytes_;
  ++stats_.commits;
  batch_packets_ = 0;
  batch_bytes_ = 0;
  if (!writer_may_wait) {
    return Signal::none;
  }
  // Some writers store a size that is not 8-aligned (ring size - 1): round down.
  const uint32_t pending = detail::load(header_->pending_send_sz, std::memory_order_seq_cst) &
                           ~(wire::kPacketAlign - 1);
  if (pending == 0) {
    return Signal::none;
  }
  if (!refresh_write_index()) {
    return Signal::none;
  }
  const int64_t free_now = data_size_ - ring_distance(committed_, cached_write_, data_size_);
  const int64_t free_before = free_now - bytes_read;
  // Signal only on the transition "not enough room" -> "enough room"; a
  // writer that already had room is not waiting for us, and exactly `pending`
  // free bytes is still not enough (a write needs strictly more).
  if (free_before > pending || free_now <= pending) {
    return Signal::none;
  }
  ++stats_.signals;
  return Signal::needed;
}

bool RingReader::has_data() noexcept {
  if (corrupt()) {
    return false;
  }
  if (available_ != 0) {
    return true;
  }
  return refresh_write_index() && available_ != 0;
}

void RingReader::mask_interrupts() noexcept {
  if (!corrupt()) {
    detail::store(header_->interrupt_mask, 1, std::memory_order_relaxed);
  }
}

bool RingReader::unmask_interrupts() noexcept {
  if (corrupt()) {
    return false;
  }
  // R-UNMASK: seq_cst orders the mask store before the write_index re-check
  // in has_data() (pairs with W-PUB and the writer's mask load): either the
  // writer sees the mask cleared and signals, or we see its packets now. It
  // also publishes our read_index to a writer that sees the mask cleared.
  detail::store(header_->interrupt_mask, 0, std::memory_order_seq_cst);
  return has_data();
}

}  // namespace uvmbus::ring
