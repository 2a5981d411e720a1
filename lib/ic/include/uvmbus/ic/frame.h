// IC packet framing: validating the pipe and IC headers of a received packet,
// turning a request into its reply in place, and writing the headers of a
// new request.
//
// A packet here is the in-band payload of one VMBus packet (after the 16-byte
// descriptor): PipeHeader, IcMessageHeader, body. The caller copies it out of
// the ring first; these functions read each header once and check every
// length against the packet before using it.
//
// The reply rule every IC service follows (spec §4, Linux and FreeBSD): the
// guest answers in the buffer it received, with the same length, the same
// pipe header, the same transaction id and versions, flags
// transaction|response and its status. The VMBus-level request id of the
// reply is the request's, which the channel layer echoes; it is not part of
// the IC packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "uvmbus/ic/ic_error.h"
#include "uvmbus/wire/ic.h"

namespace uvmbus::ic {

struct IcFrame {
  wire::IcMessageHeader header;  // copied out and validated
  // Everything after the IC header up to the end of the packet: at least
  // header.message_size bytes. Hosts pad packets to 8 bytes and services read
  // fixed-size bodies, so the whole remainder is the body's room.
  std::span<const std::byte> body;
};

struct FrameResult {
  IcError error;
  IcFrame frame;
};

// Validates the pipe header (type data or partial; its size field is not
// used, as in Linux) and that the IC header and message_size bytes of body
// fit in `packet`. Does not look at flags or message type.
[[nodiscard]] FrameResult parse_frame(std::span<const std::byte> packet) noexcept;

// The mutable view of a parsed packet's body (same bounds as IcFrame::body).
[[nodiscard]] std::span<std::byte> body_of(std::span<std::byte> packet) noexcept;

// Makes the request in `packet` its own reply: writes `status` and flags
// transaction|response, leaves every other byte as it is. Precondition: the
// packet passed parse_frame.
void make_reply(std::span<std::byte> packet, wire::HvStatus status) noexcept;

// Header fields of a message this side originates (the host's requests).
struct RequestHeader {
  wire::IcMessageType type;
  wire::IcVersion framework_version;
  wire::IcVersion message_version;
  uint8_t transaction_id;
};

struct SizeResult {
  IcError error;
  std::size_t size;  // bytes of the finished packet; 0 on error
};

// Finishes a request whose body the caller already wrote at
// out[wire::kIcBodyOffset, wire::kIcBodyOffset + body_size): writes the pipe
// and IC headers (flags transaction|request, status 0).
[[nodiscard]] SizeResult write_request_headers(std::span<std::byte> out,
                                               const RequestHeader& header,
                                               std::size_t body_size) noexcept;

}  // namespace uvmbus::ic
