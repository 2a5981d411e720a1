// The echo and sink devices, and the device-level requests they share.
#include "uvmbus/host/builtin_devices.h"

#include <algorithm>
#include <string_view>

#include "uvmbus/host/gpa_direct.h"
#include "uvmbus/host/host_channel.h"
#include "uvmbus/wire/bytes.h"

namespace uvmbus::host {

namespace {

enum class Behaviour : uint8_t { echo, sink };

uint64_t fnv1a(std::span<const std::byte> bytes, uint64_t hash) {
  for (const std::byte b : bytes) {
    hash = (hash ^ static_cast<uint8_t>(b)) * 0x100000001b3ull;
  }
  return hash;
}

class BuiltinHandler final : public ChannelHandler {
 public:
  BuiltinHandler(Behaviour behaviour, uint16_t max_subchannels) noexcept
      : behaviour_(behaviour), max_subchannels_(max_subchannels) {}

  void on_packet(HostChannel& channel, const ring::InPacket& packet) noexcept override {
    switch (packet.type()) {
      case wire::PacketType::data_inband:
        on_inband(channel, packet);
        return;
      case wire::PacketType::data_using_gpa_direct:
        on_gpa_direct(channel, packet);
        return;
      case wire::PacketType::completion:
        return;  // these devices send nothing that asks for a completion
      default:
        channel.count_drop(HostDropCause::unexpected_packet);
        if (packet.completion_requested()) {
          [[maybe_unused]] const SendOutcome sent = channel.complete(packet.desc.trans_id, {});
        }
        return;
    }
  }

 private:
  void on_inband(HostChannel& channel, const ring::InPacket& packet) noexcept {
    const std::span<const std::byte> payload = packet.payload();
    if (packet.completion_requested() && wire::fits<SubchannelRequest>(payload, 0) &&
        wire::load<SubchannelRequest>(payload).magic == kSubchannelRequestMagic) {
      SubchannelRequest granted = wire::load<SubchannelRequest>(payload);
      granted.count = std::min<uint32_t>(granted.count, max_subchannels_);
      [[maybe_unused]] const SendOutcome sent =
          channel.complete(packet.desc.trans_id, std::as_bytes(std::span(&granted, 1)));
      if (channel.context().request_subchannels) {
        channel.context().request_subchannels(static_cast<uint16_t>(granted.count));
      }
      return;
    }
    const bool echo = behaviour_ == Behaviour::echo;
    if (packet.completion_requested()) {
      [[maybe_unused]] const SendOutcome sent =
          channel.complete(packet.desc.trans_id, echo ? payload : std::span<const std::byte>{});
    } else if (echo) {
      const iovec segment{.iov_base = const_cast<std::byte*>(payload.data()), .iov_len = payload.size()};
      [[maybe_unused]] const SendOutcome sent =
          channel.send(ring::OutPacket{.type = wire::PacketType::data_inband,
                                       .flags = 0,
                                       .trans_id = packet.desc.trans_id,
                                       .header_ext = {},
                                       .payload = std::span(&segment, payload.empty() ? 0 : 1)});
    }
  }

  void on_gpa_direct(HostChannel& channel, const ring::InPacket& packet) noexcept {
    GpaDirectReply reply{.ranges_read = 0, .bytes_read = 0, .checksum = kFnvOffsetBasis};
    const std::optional<GpaDirectTotals> totals = visit_gpa_direct(
        packet.header_ext(), channel.guest_memory(),
        [&](std::span<std::byte> bytes) { reply.checksum = fnv1a(bytes, reply.checksum); });
    if (totals) {
      reply.ranges_read = totals->ranges;
      reply.bytes_read = static_cast<uint32_t>(totals->bytes);
    } else {
      channel.count_drop(HostDropCause::bad_gpa_range);
      reply.checksum = kFnvOffsetBasis;
    }
    [[maybe_unused]] const SendOutcome sent =
        channel.complete(packet.desc.trans_id, std::as_bytes(std::span(&reply, 1)));
  }

  Behaviour behaviour_;
  uint16_t max_subchannels_;
};

class BuiltinDevice final : public Device {
 public:
  BuiltinDevice(Behaviour behaviour, const wire::Guid& class_id, const wire::Guid& instance_id,
                uint16_t max_subchannels)
      : behaviour_(behaviour) {
    offer_.class_id = class_id;
    offer_.instance_id = instance_id;
    offer_.max_subchannels = max_subchannels;
  }

  std::string_view name() const noexcept override {
    return behaviour_ == Behaviour::echo ? "echo" : "sink";
  }
  const DeviceOffer& offer() const noexcept override { return offer_; }
  std::unique_ptr<ChannelHandler> open_channel(const ChannelContext&) override {
    return std::make_unique<BuiltinHandler>(behaviour_, offer_.max_subchannels);
  }

 private:
  Behaviour behaviour_;
  DeviceOffer offer_;
};

}  // namespace

std::shared_ptr<Device> make_echo_device(const wire::Guid& instance_id, uint16_t max_subchannels,
                                         const wire::Guid& class_id) {
  return std::make_shared<BuiltinDevice>(Behaviour::echo, class_id, instance_id, max_subchannels);
}

std::shared_ptr<Device> make_sink_device(const wire::Guid& instance_id, uint16_t max_subchannels,
                                         const wire::Guid& class_id) {
  return std::make_shared<BuiltinDevice>(Behaviour::sink, class_id, instance_id, max_subchannels);
}

}  // namespace uvmbus::host
