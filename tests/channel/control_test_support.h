// Test support for the sans-IO control client: a ControlSender that records
// what the client sends, and builders for host messages.
#pragma once

#include <cstddef>
#include <cstring>
#include <span>
#include <vector>

#include "uvmbus/channel/transport.h"
#include "uvmbus/channel/vmbus_client.h"
#include "uvmbus/wire/bytes.h"
#include "uvmbus/wire/channel_messages.h"

namespace uvmbus::channel::test {

class RecordingSender final : public ControlSender {
 public:
  TransportStatus send_control(std::span<const std::byte> message) noexcept override {
    if (status != TransportStatus::ok) {
      return status;
    }
    sent.emplace_back(message.begin(), message.end());
    return TransportStatus::ok;
  }

  wire::ChannelMessageType type(std::size_t index) const {
    return wire::load<wire::ChannelMessageType>(sent.at(index));
  }
  template <typename Message>
  Message message(std::size_t index) const {
    return wire::load<Message>(sent.at(index));
  }

  std::vector<std::vector<std::byte>> sent;
  TransportStatus status = TransportStatus::ok;  // what the next sends return
};

template <typename Message>
std::vector<std::byte> bytes_of(const Message& message) {
  const auto* begin = reinterpret_cast<const std::byte*>(&message);
  return {begin, begin + sizeof(message)};
}

inline std::vector<std::byte> version_response(bool supported) {
  auto message = wire::make_channel_message<wire::VersionResponse>();
  message.version_supported = supported ? 1 : 0;
  message.msg_conn_id = wire::kVmbusMessageConnectionId4;
  return bytes_of(message);
}

inline wire::OfferChannel offer_message(uint32_t relid, const wire::Guid& instance,
                                        uint16_t subchannel_index = 0) {
  auto message = wire::make_channel_message<wire::OfferChannel>();
  message.if_type = wire::kHvNicGuid;
  message.if_instance = instance;
  message.child_relid = relid;
  message.sub_channel_index = subchannel_index;
  message.connection_id = relid;
  return message;
}

// Drives `client` to connected at its first version, with offers requested.
inline void connect_client(VmbusClient& client) {
  [[maybe_unused]] const ControlError contacted = client.start_connect();
  [[maybe_unused]] const ControlError accepted = client.on_message(version_response(true));
  [[maybe_unused]] const ControlError requested = client.request_offers();
}

}  // namespace uvmbus::channel::test
