// The `user` transport's socket protocol (docs/vmbus-user.md is the full
// description): the frame header, the message types and their payloads, the
// limits, and the pure validation both ends share. No I/O here.
//
// Every frame is one SOCK_SEQPACKET datagram: an 8-byte FrameHeader, then
// `length` payload bytes; `fd_count` file descriptors ride along as one
// SCM_RIGHTS control message. All integers are little-endian.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "uvmbus/channel/expected.h"
#include "uvmbus/wire/channel_messages.h"
#include "uvmbus/wire/guid.h"
#include "uvmbus/wire/layout.h"

namespace uvmbus::channel::user {

// "UVMB" as bytes 55 56 4d 42 on the wire.
inline constexpr uint32_t kMagic = 0x424d5655;
inline constexpr uint16_t kVersionMajor = 1;
inline constexpr uint16_t kVersionMinor = 0;
inline constexpr std::size_t kMaxNameBytes = 64;

enum class FrameType : uint16_t {
  hello = 1,           // guest -> host: first frame; names the partition
  welcome = 2,         // host -> guest: handshake accepted
  error = 3,           // host -> guest: why the host ends the connection; EOF follows
  control = 4,         // both ways: one VMBus channel message
  add_region = 5,      // guest -> host: one guest-physical memory region (1 fd)
  attach_channel = 6,  // guest -> host: a channel's doorbells (2 fds)
  detach_channel = 7,  // guest -> host: the channel's doorbells are gone
};

struct FrameHeader {
  uint16_t type;      // FrameType
  uint16_t fd_count;  // descriptors attached with SCM_RIGHTS
  uint32_t length;    // payload bytes after this header
};
UVMBUS_WIRE_STRUCT(FrameHeader, 8);
UVMBUS_WIRE_OFFSET(FrameHeader, fd_count, 2);
UVMBUS_WIRE_OFFSET(FrameHeader, length, 4);

struct HelloPayload {
  uint32_t magic;          // kMagic
  uint16_t version_major;  // must equal the host's
  uint16_t version_minor;  // highest the guest speaks
  wire::Guid vm_id;
  uint32_t name_length;    // 1..kMaxNameBytes
  uint32_t reserved;       // 0
  uint8_t name[kMaxNameBytes];  // [A-Za-z0-9._-], unused bytes 0
};
UVMBUS_WIRE_STRUCT(HelloPayload, 96);
UVMBUS_WIRE_OFFSET(HelloPayload, vm_id, 8);
UVMBUS_WIRE_OFFSET(HelloPayload, name_length, 24);
UVMBUS_WIRE_OFFSET(HelloPayload, name, 32);

struct WelcomePayload {
  uint32_t magic;          // kMagic
  uint16_t version_major;
  uint16_t version_minor;  // min(guest's, host's): what both speak
};
UVMBUS_WIRE_STRUCT(WelcomePayload, 8);

struct ErrorPayload {
  uint32_t code;  // ProtocolError
  uint32_t reserved;
};
UVMBUS_WIRE_STRUCT(ErrorPayload, 8);

struct AddRegionPayload {
  uint64_t base_gpa;  // 4 KiB aligned
  uint64_t size;      // bytes, non-zero multiple of 4 KiB; the memfd is at least this long
};
UVMBUS_WIRE_STRUCT(AddRegionPayload, 16);

// attach_channel carries two eventfds: [0] guest -> host (HvSignalEvent),
// [1] host -> guest (the channel interrupt). detach_channel carries none.
struct ChannelPayload {
  uint32_t relid;
  uint32_t reserved;
};
UVMBUS_WIRE_STRUCT(ChannelPayload, 8);

inline constexpr std::size_t kMaxFdsPerFrame = 2;
// The largest frame either side sends: a control frame with a full message.
inline constexpr std::size_t kMaxFrameBytes = sizeof(FrameHeader) + wire::kMaxChannelMessageSize;

// Why a frame, a handshake or a connection was refused. Values are on the
// wire (ErrorPayload::code): append only.
enum class ProtocolError : uint32_t {
  none = 0,
  bad_magic = 1,
  unsupported_version = 2,
  bad_name = 3,
  truncated_frame = 4,      // shorter than its header or its type's payload
  oversized_frame = 5,      // longer than kMaxFrameBytes or its type's payload
  bad_length = 6,           // header length disagrees with the datagram
  unknown_type = 7,
  unexpected_type = 8,      // a known type out of place (e.g. hello twice)
  wrong_fd_count = 9,
  bad_region = 10,          // misaligned, too small, unsealed, not mappable
  overlapping_region = 11,
  too_many_regions = 12,
  memory_limit = 13,        // regions together exceed the host's bound
  bad_doorbell = 14,        // not a non-blocking eventfd
  bad_relid = 15,           // 0, already attached, or not attached
  too_many_channels = 16,
  handshake_timeout = 17,
  too_many_pending = 18,    // the host has too many unfinished handshakes
  // Local causes, never sent: reported by the end that saw them.
  peer_closed = 100,        // EOF or reset without an error frame
  system = 101,             // a system call failed (see the errno)
  oversized_control = 102,  // a control message over 240 bytes: dropped, not fatal
};

const char* to_string(ProtocolError error) noexcept;

// A validated frame: its type and payload (inside the datagram passed in).
struct Frame {
  FrameType type;
  std::span<const std::byte> payload;
};

// Checks a received datagram: header present, length consistent, type
// known, `fds_received` equal to the header's fd_count and to what the type
// carries, payload size right for the type (control: 1..240 bytes). Pure;
// safe on any input.
Expected<Frame, ProtocolError> parse_frame(std::span<const std::byte> datagram,
                                           std::size_t fds_received) noexcept;

struct Hello {
  uint16_t version_minor = 0;
  wire::Guid vm_id{};
  std::string_view name;  // inside the parsed payload
};

// Validates a hello frame's payload (from parse_frame): magic, major
// version, name length and characters, reserved bytes.
Expected<Hello, ProtocolError> decode_hello(std::span<const std::byte> payload) noexcept;
// Validates a welcome frame's payload.
Expected<WelcomePayload, ProtocolError> decode_welcome(std::span<const std::byte> payload) noexcept;

// True if `name` is 1..kMaxNameBytes of [A-Za-z0-9._-].
bool valid_partition_name(std::string_view name) noexcept;

// A fixed-size payload copied out of a parsed frame (the size was checked by
// parse_frame).
template <typename Payload>
Payload payload_as(std::span<const std::byte> payload) noexcept {
  Payload value{};
  std::memcpy(&value, payload.data(), std::min(payload.size(), sizeof(value)));
  return value;
}

}  // namespace uvmbus::channel::user
