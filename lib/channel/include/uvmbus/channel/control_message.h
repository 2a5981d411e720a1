// Parsing the control messages a guest receives. The host is untrusted: a
// message is checked against the 240-byte SynIC payload limit, its type must
// be one a host sends and this client understands, and it must be at least
// as long as that type's struct; then the struct is copied out once. Longer
// messages are accepted (hosts append version-dependent fields, as 6.0's
// VersionResponse does) and only the known prefix is read.
#pragma once

#include <cstddef>
#include <span>
#include <variant>

#include "uvmbus/channel/control_error.h"
#include "uvmbus/channel/expected.h"
#include "uvmbus/wire/channel_messages.h"

namespace uvmbus::channel {

using HostMessage = std::variant<wire::VersionResponse, wire::OfferChannel,
                                 wire::RescindChannelOffer, wire::AllOffersDelivered,
                                 wire::GpadlCreated, wire::GpadlTorndown,
                                 wire::OpenChannelResult, wire::ModifyChannelResponse,
                                 wire::UnloadResponse>;

// Errors: message_oversized, message_truncated (also for fewer than the 8
// header bytes), unknown_message_type, wrong_direction, unsupported_message.
Expected<HostMessage, ControlError> parse_host_message(std::span<const std::byte> bytes) noexcept;

}  // namespace uvmbus::channel
