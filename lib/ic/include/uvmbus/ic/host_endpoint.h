// The host end of one IC channel, sans-IO: writes NEGOTIATE and service
// requests into caller buffers and checks the guest's replies.
//
// The host keeps at most one transaction outstanding (spec §4). Each request
// gets the next transaction id (starting at 0, as OpenVMM's always-0 host
// does for its first), and a reply counts only if it is a response with that
// id and the request's message type. While negotiating, replies of other
// types are stale answers to requests from before a channel reset and are
// dropped, as OpenVMM does.
//
// Not thread-safe: one endpoint per channel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "uvmbus/ic/frame.h"
#include "uvmbus/ic/ic_error.h"
#include "uvmbus/ic/negotiate.h"
#include "uvmbus/wire/ic.h"

namespace uvmbus::ic {

enum class HostAction : uint8_t {
  negotiate_reply,  // the guest answered NEGOTIATE; versions() is set if it accepted
  response,    // the reply to the outstanding service request
  dropped,     // not a usable reply; `error` says why
};

struct HostEvent {
  HostAction action;
  IcError error;  // none, or why negotiation failed or the packet was dropped
  wire::HvStatus status;  // the guest's status (negotiate_reply, response)
  std::span<const std::byte> body;  // response: the reply body and its room
};

class HostEndpoint {
 public:
  // `offer`: framework and service versions, ascending; the spans must
  // outlive the endpoint.
  HostEndpoint(wire::IcMessageType service, const VersionLists& offer) noexcept;

  // Writes the NEGOTIATE request and waits for its reply. Forgets earlier
  // versions (a reset channel negotiates again).
  [[nodiscard]] SizeResult start_negotiate(std::span<std::byte> out) noexcept;

  // Finishes a service request whose body the caller wrote at
  // out[wire::kIcBodyOffset, + body_size). Refused before negotiation or
  // while a transaction is outstanding.
  [[nodiscard]] SizeResult start_request(std::span<std::byte> out, std::size_t body_size) noexcept;

  // Handles one packet from the guest.
  [[nodiscard]] HostEvent on_packet(std::span<const std::byte> packet) noexcept;

  [[nodiscard]] std::optional<NegotiatedVersions> versions() const noexcept { return versions_; }
  [[nodiscard]] bool awaiting_reply() const noexcept { return outstanding_.has_value(); }

 private:
  struct Outstanding {
    wire::IcMessageType type;
    uint8_t transaction_id;
  };

  wire::IcMessageType service_;
  VersionLists offer_;
  std::optional<NegotiatedVersions> versions_;
  std::optional<Outstanding> outstanding_;
  uint8_t next_transaction_id_ = 0;
};

}  // namespace uvmbus::ic
