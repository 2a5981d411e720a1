// Host end of an IC channel: requests out, replies checked.
#include "uvmbus/ic/host_endpoint.h"

namespace uvmbus::ic {

namespace {

bool is_response(uint8_t flags) noexcept {
  return (flags & wire::kIcFlagsResponse) == wire::kIcFlagsResponse;
}

}  // namespace

HostEndpoint::HostEndpoint(wire::IcMessageType service, const VersionLists& offer) noexcept
    : service_(service), offer_(offer) {}

SizeResult HostEndpoint::start_negotiate(std::span<std::byte> out) noexcept {
  const SizeResult written = write_negotiate_request(out, offer_, next_transaction_id_);
  if (written.error != IcError::none) {
    return written;
  }
  versions_.reset();
  outstanding_ = Outstanding{wire::IcMessageType::negotiate, next_transaction_id_++};
  return written;
}

SizeResult HostEndpoint::start_request(std::span<std::byte> out, std::size_t body_size) noexcept {
  if (!versions_) {
    return {IcError::not_negotiated, 0};
  }
  if (outstanding_) {
    return {IcError::transaction_pending, 0};
  }
  const RequestHeader header{
      .type = service_,
      .framework_version = versions_->framework,
      .message_version = versions_->service,
      .transaction_id = next_transaction_id_,
  };
  const SizeResult written = write_request_headers(out, header, body_size);
  if (written.error == IcError::none) {
    outstanding_ = Outstanding{service_, next_transaction_id_++};
  }
  return written;
}

HostEvent HostEndpoint::on_packet(std::span<const std::byte> packet) noexcept {
  const FrameResult parsed = parse_frame(packet);
  if (parsed.error != IcError::none) {
    return {HostAction::dropped, parsed.error, wire::HvStatus::ok, {}};
  }
  const wire::IcMessageHeader& header = parsed.frame.header;
  const auto status = static_cast<wire::HvStatus>(header.status);
  if (!is_response(header.flags)) {
    return {HostAction::dropped, IcError::not_response, status, {}};
  }
  if (!outstanding_) {
    return {HostAction::dropped, IcError::no_transaction, status, {}};
  }
  const auto type = static_cast<wire::IcMessageType>(header.message_type);
  if (type != outstanding_->type || header.transaction_id != outstanding_->transaction_id) {
    return {HostAction::dropped, IcError::transaction_mismatch, status, {}};
  }
  outstanding_.reset();
  if (type == wire::IcMessageType::negotiate) {
    const NegotiateAnswer answer = read_negotiate_reply(parsed.frame, offer_);
    versions_ = answer.versions;
    return {HostAction::negotiate_reply, answer.error, status, {}};
  }
  return {HostAction::response, IcError::none, status, parsed.frame.body};
}

}  // namespace uvmbus::ic
