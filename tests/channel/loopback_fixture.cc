// Test support: the loopback guest fixture.
#include "loopback_fixture.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <array>

#include <stdexcept>

namespace uvmbus::channel::test {

ScriptedHostConfig two_device_config() {
  ScriptedHostConfig config;
  config.offers = {
      HostOffer{.class_id = wire::kHvNicGuid, .instance_id = kEchoInstance, .relid = kEchoRelid},
      HostOffer{.class_id = wire::kHvNicGuid, .instance_id = kOtherInstance, .relid = kOtherRelid},
  };
  return config;
}

ConnectionOptions quick_options(std::chrono::milliseconds reply_timeout) {
  ConnectionOptions options;
  options.reply_timeout = reply_timeout;
  options.unload_timeout = reply_timeout;
  return options;
}

OpenOptions small_rings(HostTrust trust) {
  OpenOptions options;
  options.outbound_ring_bytes = 4 * wire::kHvPageSize;
  options.inbound_ring_bytes = 4 * wire::kHvPageSize;
  options.channel.host_trust = trust;
  options.channel.max_transactions = 64;
  return options;
}

std::vector<CollectedPacket> receive(Channel& channel, std::size_t count,
                                     std::chrono::milliseconds timeout) {
  std::vector<CollectedPacket> collected;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::array<ReceivedPacket, 16> burst;
  while (collected.size() < count && std::chrono::steady_clock::now() < deadline) {
    const std::size_t received =
        channel.receive_burst(std::span(burst).first(std::min(burst.size(), count - collected.size())));
    for (const ReceivedPacket& packet : std::span(burst).first(received)) {
      collected.push_back(CollectedPacket{
          .kind = packet.kind,
          .status = packet.status,
          .completion_requested = packet.completion_requested,
          .trans_id = packet.trans_id,
          .cookie = packet.cookie,
          .payload = {packet.payload.begin(), packet.payload.end()},
          .transfer_page_set = packet.transfer_page_set,
          .transfer_ranges = {packet.transfer_ranges.begin(), packet.transfer_ranges.end()},
          .gpa_range_count = packet.gpa_range_count,
      });
    }
    channel.release_received();
    if (received == 0) {
      wait_readable(channel.wake_fd(), std::chrono::milliseconds(5));
      channel.acknowledge_interrupts();
    }
  }
  return collected;
}

SendResult send_one(Channel& channel, std::span<const std::byte> payload, SendKind kind,
                    uint64_t cookie) {
  const iovec segment{.iov_base = const_cast<std::byte*>(payload.data()), .iov_len = payload.size()};
  const SendItem item{.kind = kind, .payload = std::span(&segment, 1), .cookie = cookie};
  return channel.send_burst(std::span(&item, 1));
}

bool wait_readable(int fd, std::chrono::milliseconds timeout) {
  pollfd ready{.fd = fd, .events = POLLIN, .revents = 0};
  return poll(&ready, 1, static_cast<int>(timeout.count())) == 1;
}

LoopbackGuest::LoopbackGuest(ScriptedHostConfig config) {
  if (!memory.add_region(kMemoryBytes)) {
    throw std::runtime_error("guest memory");
  }
  Expected<LoopbackPair, int> made = make_loopback_pair();
  if (!made) {
    throw std::runtime_error("loopback pair");
  }
  pair = std::move(*made);
  host = std::make_unique<ScriptedHost>(*pair.host, std::move(config));
}

LoopbackGuest::~LoopbackGuest() {
  connection.reset();
  host.reset();
}

ControlError LoopbackGuest::connect(const ConnectionOptions& options) {
  Expected<std::unique_ptr<VmbusConnection>, ControlError> connected =
      VmbusConnection::connect(*pair.guest, memory, options);
  if (!connected) {
    return connected.error();
  }
  connection = std::move(*connected);
  return ControlError::none;
}

Channel& LoopbackGuest::open(uint32_t relid, const OpenOptions& options) {
  if (!connection) {
    const ControlError error = connect();
    if (error != ControlError::none) {
      throw std::runtime_error(std::string("connect: ") + to_string(error));
    }
  }
  Expected<Channel*, ControlError> channel = connection->open_channel(relid, options);
  if (!channel) {
    throw std::runtime_error(std::string("open: ") + to_string(channel.error()));
  }
  return **channel;
}

}  // namespace uvmbus::channel::test
