// The VMBus ring buffer: one single-producer/single-consumer ring of
// variable-sized packets in shared memory, byte-exact with Hyper-V.
//
// One implementation serves both roles: a guest writes its outbound ring with
// RingWriter and reads its inbound ring with RingReader; the host emulator
// does the opposite on the same memory. Neither class signals anyone: commit()
// returns whether the peer must be signalled, and the caller rings the
// doorbell once per batch.
//
// Batching. write() and next() move a private cursor only; commit() publishes
// the whole batch with one index store and makes one signal decision, exactly
// by the spec's rules (shared/spec/vmbus-ring.md §10):
//   writer: signal iff interrupt_mask == 0 and the reader's index equals the
//           write index of the previous commit (empty -> non-empty);
//   reader: signal iff the peer advertised the pending-send feature, it is
//           waiting for `pending_send_sz` bytes, and this batch moved free
//           space from "not enough" to "enough".
// Sleeping. A reader goes to sleep only after commit() and then
// unmask_interrupts() returning false, whether or not it ever masked: the
// writer decides "no signal" when the reader had not yet published that it
// caught up, and the unmask re-check (ordered after the read_index store) is
// what sees a packet published in that window.
//
// The peer is untrusted. Every index read from the header is loaded once,
// checked (8-byte alignment, inside the data area, consistent with what this
// side already knows) and only then used; every descriptor is copied out of
// shared memory once and validated before its lengths are used. Any violation
// puts the ring object into a sticky `corrupt` state with its cause; after
// that every call returns `corrupt` and nothing touches the ring again. No
// input can make either side access memory outside the ring, loop or crash.
//
// Memory ordering (std::atomic_ref on the header words; the labels appear at
// the matching loads and stores in ring_writer.cc and ring_reader.cc):
//   W-PUB  writer: store of write_index after the packet bytes (release).
//          Pairs with R-ACQ, the reader's load of write_index (acquire), so
//          the reader never sees an index before the bytes it covers.
//   R-PUB  reader: store of read_index after reading the packets (release).
//          Pairs with W-ACQ, the writer's load of read_index (acquire), so
//          the writer never reuses space the reader is still reading.
//   Two store->load (Dekker) pairs close the lost-wakeup races. Both sides
//   use seq_cst for the store and the load that follows it, so in the single
//   order of seq_cst operations one side's store comes first and the other
//   side's load sees it (a seq_cst store is the full barrier the spec asks
//   for; no standalone fences, which ThreadSanitizer cannot check):
//   W-PUB then load interrupt_mask  vs  R-UNMASK (mask = 0) then R-ACQ:
//          either the writer sees the mask cleared and signals, or the
//          reader's re-check sees the new packets.
//   W-ARM (pending_send_sz) then W-ACQ  vs  R-PUB then load pending_send_sz:
//          either the reader sees the request and signals space, or the
//          writer's re-check sees the space.
//
// Threads: a RingWriter and a RingReader on the same ring may run on
// different threads (or processes). Each object is used by one thread at a
// time. Fast-path calls never allocate, lock, throw or make syscalls.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "uvmbus/ring/ring_memory.h"
#include "uvmbus/wire/ring.h"

namespace uvmbus::ring {

// Interference size used to keep each side's private state on its own lines
// (128 on x86: adjacent-line prefetch pairs 64-byte lines).
inline constexpr std::size_t kCacheAlign = 128;

enum class Signal : bool { none = false, needed = true };

// Why a ring was declared corrupt. `none` while healthy.
enum class RingError : uint8_t {
  none,
  bad_memory,               // RingMemory rejected at construction
  index_misaligned,         // a peer index not a multiple of 8
  index_out_of_range,       // a peer index >= data size
  index_out_of_sequence,    // a peer index moved outside the range it may move in
  descriptor_truncated,     // fewer than 16 bytes available, but not zero
  descriptor_offset,        // offset8 < 2 or offset8 > len8
  descriptor_length,        // len8 * 8 + trailer exceeds the published bytes
  packet_type,              // unknown packet type
  packet_flags,             // flags other than completion-requested
};

const char* to_string(RingError error) noexcept;

// ---------------------------------------------------------------------------
// Writer

// One packet to write: descriptor fields, an optional type-specific header
// (GPA ranges, transfer-page ranges) and a payload gathered from iovecs.
struct OutPacket {
  wire::PacketType type = wire::PacketType::data_inband;
  uint16_t flags = 0;
  uint64_t trans_id = 0;
  std::span<const std::byte> header_ext{};  // length must be a multiple of 8
  std::span<const iovec> payload{};
};

enum class WriteStatus : uint8_t {
  ok,
  full,         // not enough free space now; retry after the reader frees some
  too_large,    // can never fit in this ring (or a malformed OutPacket)
  corrupt,      // the ring is corrupt (see RingWriter::error())
};

// Result of write_burst(): how many packets were appended, and the status of
// the packet that stopped the burst (`ok` if all of them were appended).
struct WriteBurst {
  std::size_t written;
  WriteStatus status;
};

// Result of arm_pending_send().
enum class PendingSend : uint8_t {
  space_available,  // the space is there now: write, then disarm_pending_send()
  armed,            // the reader will signal once the space is free: wait
  unsupported,      // this ring's reader never signals space: poll
};

struct WriterStats {
  uint64_t packets = 0;       // packets committed
  uint64_t bytes = 0;         // ring bytes committed (descriptor to trailer)
  uint64_t commits = 0;       // commits that published at least one packet
  uint64_t signals = 0;       // commits that returned Signal::needed
  uint64_t full = 0;          // write() calls that returned `full`
  uint64_t corrupt = 0;       // times the ring was found corrupt (0 or 1)
};

// Ring bytes one packet occupies: descriptor + header_ext + payload padded
// to 8 + trailer.
constexpr uint64_t packet_ring_bytes(std::size_t header_ext_bytes,
                                     std::size_t payload_bytes) noexcept {
  return sizeof(wire::PacketDescriptor) + header_ext_bytes +
         ((payload_bytes + wire::kPacketAlign - 1) & ~uint64_t{wire::kPacketAlign - 1}) +
         sizeof(wire::PacketTrailer);
}

class alignas(kCacheAlign) RingWriter {
 public:
  // Attaches to an initialised ring, continuing at its current write_index
  // (validated; an invalid ring yields a writer in the corrupt state).
  explicit RingWriter(const RingMemory& mem) noexcept;

  RingWriter(const RingWriter&) = delete;
  RingWriter& operator=(const RingWriter&) = delete;

  // Appends one packet to the current batch. Not visible to the reader until
  // commit(). `full` leaves the batch as it was.
  [[nodiscard]] WriteStatus write(const OutPacket& packet) noexcept;

  // Appends packets in order until one is not `ok`. Does not commit.
  [[nodiscard]] WriteBurst write_burst(std::span<const OutPacket> packets) noexcept;

  // Publishes the batch with one write_index store and returns whether the
  // reader must be signalled. A commit with nothing to publish returns none.
  [[nodiscard]] Signal commit() noexcept;

  // Drops the uncommitted batch.
  void revert() noexcept;

  // Blocking protocol (spec §10.3): asks the reader for a signal once `bytes`
  // (rounded up to 8) are free, then re-checks. Needs the pending-send
  // feature bit on this ring; without it returns `unsupported` and arms
  // nothing. disarm_pending_send() once the write is done.
  [[nodiscard]] PendingSend arm_pending_send(uint32_t bytes) noexcept;
  void disarm_pending_send() noexcept;

  // Largest packet_ring_bytes() this ring can ever accept.
  uint32_t max_packet_bytes() const noexcept { return max_packet_bytes_; }
  // Bytes free for new packets now (refreshes the reader's index).
  uint32_t free_bytes() noexcept;

  bool corrupt() const noexcept { return error_ != RingError::none; }
  RingError error() const noexcept { return error_; }
  const WriterStats& stats() const noexcept { return stats_; }
  uint32_t data_size() const noexcept { return data_size_; }

 private:
  // The state a batch of writes advances, kept in registers during a burst.
  struct BatchCursor {
    uint32_t next;  // end of the uncommitted batch
    uint32_t free;  // bytes free after `next`
  };
  BatchCursor load_cursor() const noexcept;
  void store_cursor(const BatchCursor& cursor) noexcept;
  WriteStatus append(const OutPacket& packet, BatchCursor& cursor) noexcept;
  bool refresh_read_index() noexcept;
  void prefetch_burst_lines(const BatchCursor& cursor, std::span<const OutPacket> packets) const noexcept;
  void fail(RingError error) noexcept;

  wire::RingHeader* header_ = nullptr;
  std::byte* data_ = nullptr;
  uint32_t data_size_ = 0;
  uint32_t max_packet_bytes_ = 0;
  RingError error_ = RingError::none;

  uint32_t committed_ = 0;    // write_index as last published
  uint32_t next_ = 0;         // end of the uncommitted batch
  uint32_t cached_read_ = 0;  // last validated read_index
  uint32_t free_ = 0;         // bytes free after next_, as of cached_read_
  uint32_t batch_packets_ = 0;
  WriterStats stats_;
};

// ---------------------------------------------------------------------------
// Reader

// A validated packet. `desc` is a private copy whose lengths were checked;
// `bytes` covers the whole packet (len8 * 8 bytes: descriptor, type-specific
// header, payload, padding) and is contiguous.
struct InPacket {
  wire::PacketDescriptor desc{};
  std::span<const std::byte> bytes{};

  wire::PacketType type() const noexcept { return static_cast<wire::PacketType>(desc.type); }
  bool completion_requested() const noexcept {
    return (desc.flags & wire::kPacketFlagCompletionRequested) != 0;
  }
  // Bytes between the descriptor and the payload.
  std::span<const std::byte> header_ext() const noexcept {
    return bytes.subspan(sizeof(wire::PacketDescriptor),
                         desc.offset8 * std::size_t{8} - sizeof(wire::PacketDescriptor));
  }
  // Payload including the writer's padding (payload lengths are 8-granular on
  // the wire; protocols carry their exact lengths inside).
  std::span<const std::byte> payload() const noexcept {
    return bytes.subspan(desc.offset8 * std::size_t{8});
  }
};

enum class ReadStatus : uint8_t {
  ok,
  empty,          // nothing (more) published
  buffer_small,   // copy-out buffer smaller than the next packet; nothing consumed
  corrupt,        // the ring is corrupt (see RingReader::error())
};

struct ReaderStats {
  uint64_t packets = 0;   // packets consumed
  uint64_t bytes = 0;     // ring bytes consumed (descriptor to trailer)
  uint64_t commits = 0;   // commits that published at least one packet
  uint64_t signals = 0;   // commits that returned Signal::needed
  uint64_t corrupt = 0;   // times the ring was found corrupt (0 or 1)
};

class alignas(kCacheAlign) RingReader {
 public:
  // Attaches to an initialised ring, continuing at its current read_index
  // (validated; an invalid ring yields a reader in the corrupt state).
  explicit RingReader(const RingMemory& mem);

  RingReader(const RingReader&) = delete;
  RingReader& operator=(const RingReader&) = delete;

  // In-place mode, for a trusted peer: `out.bytes` points into the ring (or,
  // for a packet that wraps in an unmirrored ring, into this reader's bounce
  // buffer) and stays valid until commit(). The peer can still change those
  // bytes; only `out.desc` is stable.
  [[nodiscard]] ReadStatus next(InPacket& out) noexcept;

  // Copy-out mode, for an untrusted peer: copies the packet into `dst` and
  // points `out.bytes` there, with the validated descriptor written over the
  // copy's first 16 bytes, so nothing the peer does afterwards can change
  // what the caller parses. `buffer_small` consumes nothing.
  [[nodiscard]] ReadStatus next_copy(std::span<std::byte> dst, InPacket& out) noexcept;

  // Publishes the consumed packets with one read_index store and returns
  // whether the writer must be signalled (it waits for space, spec §10.2).
  [[nodiscard]] Signal commit() noexcept;

  // True if published packets are waiting (refreshes the writer's index).
  [[nodiscard]] bool has_data() noexcept;

  // Interrupt mask on this ring (spec §10.4). Poll mode keeps it set.
  // unmask_interrupts() clears it, then re-checks: if data raced in it
  // returns true and the caller must keep polling (it may mask again). Every
  // reader calls it after its last commit() before sleeping (see "Sleeping").
  void mask_interrupts() noexcept;
  [[nodiscard]] bool unmask_interrupts() noexcept;

  bool corrupt() const noexcept { return error_ != RingError::none; }
  RingError error() const noexcept { return error_; }
  const ReaderStats& stats() const noexcept { return stats_; }
  uint32_t data_size() const noexcept { return data_size_; }
  // Largest packet (len8 * 8 bytes) the peer can send on this ring: the
  // copy-out buffer size that never yields `buffer_small`.
  uint32_t max_packet_bytes() const noexcept { return max_packet_bytes_; }

 private:
  // A descriptor as the two little-endian words it is on the wire.
  struct DescriptorWords {
    uint64_t head;  // type, offset8, len8, flags
    uint64_t trans_id;
  };
  static_assert(sizeof(DescriptorWords) == sizeof(wire::PacketDescriptor));

  ReadStatus peek(DescriptorWords& words) noexcept;
  static uint32_t packet_bytes(const DescriptorWords& words) noexcept;
  bool refresh_write_index() noexcept;
  void prefetch(uint32_t offset, uint32_t bytes) const noexcept;
  void copy_out(uint32_t offset, std::byte* dst, uint32_t len) const noexcept;
  void consume(uint32_t len) noexcept;
  ReadStatus fail(RingError error) noexcept;

  wire::RingHeader* header_ = nullptr;
  std::byte* data_ = nullptr;
  uint32_t data_size_ = 0;
  uint32_t max_packet_bytes_ = 0;
  bool mirrored_ = false;
  RingError error_ = RingError::none;

  uint32_t committed_ = 0;     // read_index as last published
  uint32_t next_ = 0;          // start of the next unread packet
  uint32_t cached_write_ = 0;  // last validated write_index
  uint32_t available_ = 0;     // published bytes after next_, as of cached_write_
  uint32_t batch_packets_ = 0;
  uint32_t batch_bytes_ = 0;
  ReaderStats stats_;
  std::unique_ptr<std::byte[]> bounce_;  // wrapped packets, unmirrored in-place mode
};

}  // namespace uvmbus::ring
