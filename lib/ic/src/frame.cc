// IC packet framing: header validation, in-place replies, request headers.
#include "uvmbus/ic/frame.h"

#include "uvmbus/wire/bytes.h"

namespace uvmbus::ic {

namespace {

constexpr std::size_t kIcHeaderOffset = sizeof(wire::PipeHeader);

}  // namespace

FrameResult parse_frame(std::span<const std::byte> packet) noexcept {
  FrameResult result{};
  if (packet.size() < wire::kIcBodyOffset) {
    result.error = IcError::truncated;
    return result;
  }
  const auto pipe = wire::load<wire::PipeHeader>(packet);
  if (pipe.packet_type != static_cast<uint32_t>(wire::PipePacketType::data) &&
      pipe.packet_type != static_cast<uint32_t>(wire::PipePacketType::partial)) {
    result.error = IcError::pipe_type;
    return result;
  }
  result.frame.header = wire::load<wire::IcMessageHeader>(packet, kIcHeaderOffset);
  result.frame.body = packet.subspan(wire::kIcBodyOffset);
  if (result.frame.header.message_size > result.frame.body.size()) {
    result.error = IcError::body_overrun;
    return result;
  }
  result.error = IcError::none;
  return result;
}

std::span<std::byte> body_of(std::span<std::byte> packet) noexcept {
  if (packet.size() < wire::kIcBodyOffset) {
    return {};
  }
  return packet.subspan(wire::kIcBodyOffset);
}

void make_reply(std::span<std::byte> packet, wire::HvStatus status) noexcept {
  auto header = wire::load<wire::IcMessageHeader>(packet, kIcHeaderOffset);
  header.status = static_cast<uint32_t>(status);
  header.flags = wire::kIcFlagsResponse;
  wire::store(packet, kIcHeaderOffset, header);
}

SizeResult write_request_headers(std::span<std::byte> out, const RequestHeader& request,
                                 std::size_t body_size) noexcept {
  if (body_size > wire::kIcMaxMessageSize - wire::kIcBodyOffset) {
    return {IcError::message_too_large, 0};
  }
  const std::size_t total = wire::kIcBodyOffset + body_size;
  if (out.size() < total) {
    return {IcError::buffer_too_small, 0};
  }
  const wire::PipeHeader pipe{
      .packet_type = static_cast<uint32_t>(wire::PipePacketType::data),
      .size = static_cast<uint32_t>(sizeof(wire::IcMessageHeader) + body_size),
  };
  const wire::IcMessageHeader header{
      .framework_version = request.framework_version,
      .message_type = static_cast<uint16_t>(request.type),
      .message_version = request.message_version,
      .message_size = static_cast<uint16_t>(body_size),
      .status = static_cast<uint32_t>(wire::HvStatus::ok),
      .transaction_id = request.transaction_id,
      .flags = wire::kIcFlagsRequest,
      .reserved = {0, 0},
  };
  wire::store(out, 0, pipe);
  wire::store(out, kIcHeaderOffset, header);
  return {IcError::none, total};
}

}  // namespace uvmbus::ic
