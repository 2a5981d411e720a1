// parse_host_message: type dispatch, length checks and the private copy.
#include "uvmbus/channel/control_message.h"

#include "uvmbus/wire/bytes.h"

namespace uvmbus::channel {

namespace {

using wire::ChannelMessageType;

template <wire::ChannelMessage Message>
Expected<HostMessage, ControlError> copy_out(std::span<const std::byte> bytes) noexcept {
  if (!wire::fits<Message>(bytes, 0)) {
    return Unexpected(ControlError::message_truncated);
  }
  return HostMessage(wire::load<Message>(bytes));
}

}  // namespace

Expected<HostMessage, ControlError> parse_host_message(std::span<const std::byte> bytes) noexcept {
  if (bytes.size() > wire::kMaxChannelMessageSize) {
    return Unexpected(ControlError::message_oversized);
  }
  if (!wire::fits<wire::ChannelMessageHeader>(bytes, 0)) {
    return Unexpected(ControlError::message_truncated);
  }
  // The type is read as a plain number: any value is representable.
  const auto type = wire::load<ChannelMessageType>(bytes);
  switch (type) {
    case ChannelMessageType::version_response:
      return copy_out<wire::VersionResponse>(bytes);
    case ChannelMessageType::offerchannel:
      return copy_out<wire::OfferChannel>(bytes);
    case ChannelMessageType::rescind_channeloffer:
      return copy_out<wire::RescindChannelOffer>(bytes);
    case ChannelMessageType::alloffers_delivered:
      return copy_out<wire::AllOffersDelivered>(bytes);
    case ChannelMessageType::gpadl_created:
      return copy_out<wire::GpadlCreated>(bytes);
    case ChannelMessageType::gpadl_torndown:
      return copy_out<wire::GpadlTorndown>(bytes);
    case ChannelMessageType::openchannel_result:
      return copy_out<wire::OpenChannelResult>(bytes);
    case ChannelMessageType::modifychannel_response:
      return copy_out<wire::ModifyChannelResponse>(bytes);
    case ChannelMessageType::unload_response:
      return copy_out<wire::UnloadResponse>(bytes);
    // Host-to-guest messages answering requests this client never sends.
    case ChannelMessageType::close_reserved_channel_response:
    case ChannelMessageType::tl_connect_result:
    case ChannelMessageType::modify_connection_response:
    case ChannelMessageType::pause:
    case ChannelMessageType::pause_response:
    case ChannelMessageType::resume:
      return Unexpected(ControlError::unsupported_message);
    case ChannelMessageType::requestoffers:
    case ChannelMessageType::openchannel:
    case ChannelMessageType::closechannel:
    case ChannelMessageType::gpadl_header:
    case ChannelMessageType::gpadl_body:
    case ChannelMessageType::gpadl_teardown:
    case ChannelMessageType::relid_released:
    case ChannelMessageType::initiate_contact:
    case ChannelMessageType::unload:
    case ChannelMessageType::open_reserved_channel:
    case ChannelMessageType::close_reserved_channel:
    case ChannelMessageType::tl_connect_request:
    case ChannelMessageType::modifychannel:
    case ChannelMessageType::modify_connection:
      return Unexpected(ControlError::wrong_direction);
    case ChannelMessageType::invalid:
      break;
  }
  return Unexpected(ControlError::unknown_message_type);
}

}  // namespace uvmbus::channel
