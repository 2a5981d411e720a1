// What a channel sends and receives: the items of a send burst, the packets a
// receive burst hands out (already validated), and the statuses and drop
// causes that go with them.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "uvmbus/wire/ring.h"

namespace uvmbus::channel {

// ---------------------------------------------------------------------------
// Sending

enum class SendKind : uint8_t {
  inband,      // in-band data; no completion expected
  request,     // in-band data asking the host for a completion (new transaction id)
  gpa_direct,  // guest buffers by page number, plus in-band data; asks for a completion
  completion,  // the answer to a host packet that asked for one
};

// A run of guest memory (inside one GuestMemory region) for a GPA-direct
// packet; sent as one range: byte offset in its first page plus page numbers.
struct GuestBuffer {
  const void* data = nullptr;
  uint32_t bytes = 0;
};

// Limits of one GPA-direct packet (Linux allows 32 page buffers per packet).
inline constexpr std::size_t kMaxGpaDirectRanges = 32;
inline constexpr std::size_t kMaxGpaDirectPages = 256;

struct SendItem {
  SendKind kind = SendKind::inband;
  std::span<const iovec> payload{};
  // inband: the descriptor's transaction id (e.g. a reply echoing the host's
  // request id, as integration services do); completion: the host's id.
  uint64_t trans_id = 0;
  // request, gpa_direct: handed back with the completion.
  uint64_t cookie = 0;
  // gpa_direct: the buffers the host reads or writes; they must stay
  // untouched until the completion arrives.
  std::span<const GuestBuffer> buffers{};
};

enum class SendStatus : uint8_t {
  ok,
  ring_full,       // no room now; retry after the host frees space
  no_transaction,  // every transaction id is in flight
  too_large,       // can never fit this ring
  bad_buffer,      // a GPA-direct buffer empty, outside guest memory, or too many
  channel_ended,   // rescinded, host gone, closed or corrupt: see Channel::end_reason()
};

const char* to_string(SendStatus status) noexcept;

struct SendResult {
  std::size_t sent = 0;              // items sent, from the front of the burst
  SendStatus status = SendStatus::ok;  // why the rest was not sent
};

// ---------------------------------------------------------------------------
// Receiving

// A transfer-page set the guest shared with the host (e.g. netvsc's receive
// buffer, id 0xCAFE) and its size: ranges of transfer-page packets naming it
// are checked against it.
struct TransferPageSet {
  uint16_t id = 0;
  uint32_t bytes = 0;
};

enum class PacketKind : uint8_t {
  inband,          // in-band data
  transfer_pages,  // ranges of a transfer-page set (e.g. netvsc receive buffer)
  gpa_direct,      // ranges of guest pages
  completion,      // answer to one of our requests
};

enum class CompletionStatus : uint8_t {
  ok,       // the host's completion; `payload` is its data
  aborted,  // the channel ended before the host answered; no payload
};

// A validated packet. Spans point into the channel's copy-out buffer
// (untrusted host) or into the ring (trusted host) and stay valid until the
// next receive_burst() or release_received() on the channel.
struct ReceivedPacket {
  PacketKind kind = PacketKind::inband;
  CompletionStatus status = CompletionStatus::ok;  // completions only
  // The host waits for send completion with `trans_id`.
  bool completion_requested = false;
  uint64_t trans_id = 0;
  uint64_t cookie = 0;  // completions: the cookie of the request
  // The packet's data, padded to 8 bytes (protocols carry exact lengths).
  std::span<const std::byte> payload{};
  // transfer_pages: the set and its ranges, each inside the registered set.
  uint16_t transfer_page_set = 0;
  std::span<const wire::TransferPageRange> transfer_ranges{};
  // gpa_direct: `gpa_range_count` ranges (wire::GpaRange + PFNs each), every
  // page inside guest memory.
  uint32_t gpa_range_count = 0;
  std::span<const std::byte> gpa_ranges{};
};

// Why a received packet was dropped (counted per cause).
enum class DropCause : uint8_t {
  completion_unknown,       // id never issued by this channel
  completion_duplicate,     // completed already
  completion_stale,         // an older transaction of a reused slot
  gpa_direct_malformed,     // range count, lengths or offsets inconsistent
  gpa_direct_outside_memory,  // a page outside the guest's memory
  transfer_page_malformed,  // range count inconsistent with the packet
  transfer_page_unknown_set,  // set id not registered on this channel
  transfer_page_out_of_range,  // a range outside its set, or empty
};

inline constexpr std::size_t kDropCauseCount =
    static_cast<std::size_t>(DropCause::transfer_page_out_of_range) + 1;

const char* to_string(DropCause cause) noexcept;

}  // namespace uvmbus::channel
