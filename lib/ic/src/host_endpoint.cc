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

void HostEndpoint::set_window(std::size_t window) noexcept {
  window_ = window < 1 ? 1 : window > kMaxWindow ? kMaxWindow : window;
}

void HostEndpoint::push(Outstanding outstanding) noexcept {
  outstanding_[(head_ + count_) % kMaxWindow] = outstanding;
  ++count_;
}

SizeResult HostEndpoint::start_negotiate(std::span<std::byte> out) noexcept {
  const SizeResult written = write_negotiate_request(out, offer_, next_transaction_id_);
  if (written.error != IcError::none) {
    return written;
  }
  versions_.reset();
  // Whatever was in flight is abandoned: its replies are stale from now on.
  count_ = 0;
  push(Outstanding{wire::IcMessageType::negotiate, next_transaction_id_++});
  return written;
}

SizeResult HostEndpoint::start_request(std::span<std::byte> out, std::size_t body_size) noexcept {
  if (!versions_) {
    return {IcError::not_negotiated, 0};
  }
  if (count_ >= window_) {
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
    push(Outstanding{service_, next_transaction_id_++});
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
  if (count_ == 0) {
    return {HostAction::dropped, IcError::no_transaction, status, {}};
  }
  // Replies come in order: only the oldest request's counts.
  const Outstanding& oldest = outstanding_[head_];
  const auto type = static_cast<wire::IcMessageType>(header.message_type);
  if (type != oldest.type || header.transaction_id != oldest.transaction_id) {
    return {HostAction::dropped, IcError::transaction_mismatch, status, {}};
  }
  head_ = (head_ + 1) % kMaxWindow;
  --count_;
  if (type == wire::IcMessageType::negotiate) {
    const NegotiateAnswer answer = read_negotiate_reply(parsed.frame, offer_);
    versions_ = answer.versions;
    return {HostAction::negotiate_reply, answer.error, status, {}};
  }
  return {HostAction::response, IcError::none, status, parsed.frame.body};
}

}  // namespace uvmbus::ic
