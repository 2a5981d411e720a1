// Guest end of an IC channel: negotiation and one-request-at-a-time replies.
#include "uvmbus/ic/guest_endpoint.h"

#include "uvmbus/ic/frame.h"

namespace uvmbus::ic {

namespace {

bool is_request(uint8_t flags) noexcept {
  return (flags & wire::kIcFlagsRequest) == wire::kIcFlagsRequest &&
         (flags & wire::kIcFlagResponse) == 0;
}

}  // namespace

GuestEndpoint::GuestEndpoint(wire::IcMessageType service,
                             const VersionLists& preferences) noexcept
    : service_(service), preferences_(preferences) {}

GuestEvent GuestEndpoint::on_packet(std::span<std::byte> packet) noexcept {
  if (request_pending()) {
    return {GuestAction::drop, IcError::transaction_pending, {}, {}};
  }
  const FrameResult parsed = parse_frame(packet);
  if (parsed.error != IcError::none) {
    return {GuestAction::drop, parsed.error, {}, {}};
  }
  const wire::IcMessageHeader& header = parsed.frame.header;
  if (!is_request(header.flags)) {
    // Answering a non-request could make two peers echo each other forever.
    return {GuestAction::drop, IcError::not_request, header, {}};
  }
  const auto type = static_cast<wire::IcMessageType>(header.message_type);
  if (type == wire::IcMessageType::negotiate) {
    const NegotiateAnswer answer = answer_negotiate(packet, preferences_);
    versions_ = answer.versions;
    return {GuestAction::send_reply, answer.error, header, {}};
  }
  if (type != service_) {
    return reply_with(packet, header, wire::HvStatus::not_supported, IcError::unexpected_type);
  }
  if (!versions_) {
    return reply_with(packet, header, wire::HvStatus::fail, IcError::not_negotiated);
  }
  pending_ = packet;
  return {GuestAction::handle_request, IcError::none, header, body_of(packet)};
}

IcError GuestEndpoint::complete(std::span<std::byte> packet, wire::HvStatus status) noexcept {
  if (!request_pending()) {
    return IcError::no_transaction;
  }
  if (packet.data() != pending_.data() || packet.size() != pending_.size()) {
    return IcError::wrong_buffer;
  }
  make_reply(packet, status);
  pending_ = {};
  return IcError::none;
}

GuestEvent GuestEndpoint::reply_with(std::span<std::byte> packet,
                                     const wire::IcMessageHeader& header, wire::HvStatus status,
                                     IcError error) noexcept {
  make_reply(packet, status);
  return {GuestAction::send_reply, error, header, {}};
}

}  // namespace uvmbus::ic
