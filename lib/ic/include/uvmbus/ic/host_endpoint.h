// The host end of one IC channel, sans-IO: writes NEGOTIATE and service
// requests into caller buffers and checks the guest's replies.
//
// The host keeps at most one transaction outstanding (spec §4), unless the
// caller widens the window: then up to `window` requests may be in flight,
// and the guest must answer them in order (a guest that handles one packet
// at a time, as Linux and kvpd do, leaves the rest waiting in its ring).
// Each request
// gets the next transaction id (starting at 0, as OpenVMM's always-0 host
// does for its first), and a reply counts only if it is a response with that
// id and the request's message type. While negotiating, replies of other
// types are stale answers to requests from before a channel reset and are
// dropped, as OpenVMM does.
//
// Not thread-safe: one endpoint per channel.
#pragma once

#include <array>
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

  static constexpr std::size_t kMaxWindow = 16;
  // Requests that may be outstanding at once, 1..kMaxWindow (default 1).
  void set_window(std::size_t window) noexcept;

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
  [[nodiscard]] bool awaiting_reply() const noexcept { return count_ != 0; }
  // Negotiated, and the window has room for another request.
  [[nodiscard]] bool can_send() const noexcept { return versions_.has_value() && count_ < window_; }
  [[nodiscard]] std::size_t outstanding() const noexcept { return count_; }

 private:
  struct Outstanding {
    wire::IcMessageType type;
    uint8_t transaction_id;
  };

  wire::IcMessageType service_;
  VersionLists offer_;
  std::optional<NegotiatedVersions> versions_;
  void push(Outstanding outstanding) noexcept;

  // In flight, oldest at head_.
  std::array<Outstanding, kMaxWindow> outstanding_{};
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::size_t window_ = 1;
  uint8_t next_transaction_id_ = 0;
};

}  // namespace uvmbus::ic
