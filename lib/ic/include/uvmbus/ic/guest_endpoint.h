// The guest end of one IC channel, sans-IO: a packet from the host goes in,
// and out comes what to do with it. Owns negotiation and the transaction
// discipline; the service (KVP, heartbeat, shutdown, timesync) only decodes
// bodies and picks a status.
//
// Transaction discipline (spec §4): the host has at most one request
// outstanding, and the guest reads nothing more until it has replied. So
// after on_packet() returns handle_request, the caller decodes the body,
// writes its answer into the same buffer and calls complete(), then sends the
// buffer back unchanged in length, echoing the VMBus request id. A packet
// handed in while a request is pending is refused.
//
// Every packet whose IC header can be read is answered (with a failure status
// if it is malformed or unexpected), so a host never waits forever on one;
// only packets too short or too broken to frame are dropped.
//
// Not thread-safe: one endpoint per channel, used by the channel's poller.
#pragma once

#include <cstddef>
#include <optional>
#include <span>

#include "uvmbus/ic/ic_error.h"
#include "uvmbus/ic/negotiate.h"
#include "uvmbus/wire/ic.h"

namespace uvmbus::ic {

enum class GuestAction : uint8_t {
  send_reply,      // the packet now holds the reply: send it back as it is
  handle_request,  // a service request: decode `body`, then complete()
  drop,            // nothing can be sent back; `error` says why
};

struct GuestEvent {
  GuestAction action;
  IcError error;  // none, or why the reply carries a failure / the drop
  wire::IcMessageHeader header;  // valid unless the packet was dropped
  std::span<std::byte> body;     // handle_request: the body and its room
};

class GuestEndpoint {
 public:
  // `service`: this channel's message type. `preferences`: framework and
  // service versions, newest first; the spans must outlive the endpoint.
  GuestEndpoint(wire::IcMessageType service, const VersionLists& preferences) noexcept;

  // Handles one packet from the host, in place.
  [[nodiscard]] GuestEvent on_packet(std::span<std::byte> packet) noexcept;

  // Finishes the pending request: `packet` must be the buffer given to the
  // on_packet() that returned handle_request. Writes status and reply flags.
  [[nodiscard]] IcError complete(std::span<std::byte> packet, wire::HvStatus status) noexcept;

  // The versions of the last successful negotiation.
  [[nodiscard]] std::optional<NegotiatedVersions> versions() const noexcept { return versions_; }
  [[nodiscard]] bool request_pending() const noexcept { return pending_.data() != nullptr; }

 private:
  GuestEvent reply_with(std::span<std::byte> packet, const wire::IcMessageHeader& header,
                        wire::HvStatus status, IcError error) noexcept;

  wire::IcMessageType service_;
  VersionLists preferences_;
  std::optional<NegotiatedVersions> versions_;
  std::span<std::byte> pending_;  // buffer of the request being handled
};

}  // namespace uvmbus::ic
