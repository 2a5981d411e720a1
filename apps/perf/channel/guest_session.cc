// GuestSession: memory, transport, connection, one channel.
#include "channel/guest_session.h"

#include <unistd.h>

#include <fmt/format.h>

#include <stdexcept>

#include "uvmbus/channel/user_transport.h"
#include "uvmbus/wire/ring.h"

namespace uvmbus::perf::channel_bench {

GuestSession::GuestSession(std::unique_ptr<channel::Transport> transport, std::size_t ring_bytes)
    : transport_(std::move(transport)), ring_bytes_(ring_bytes) {
  // Two rings (header page + data each) and room to spare, in 2 MiB steps.
  constexpr std::size_t kStep = std::size_t{2} << 20;
  const std::size_t needed = 2 * (ring_bytes + wire::kHvPageSize) + kStep;
  auto region = memory_.add_region((needed + kStep - 1) / kStep * kStep);
  if (!region) {
    throw std::runtime_error(fmt::format("guest memory: {}", channel::to_string(region.error().code)));
  }
  auto connection = channel::VmbusConnection::connect(*transport_, memory_);
  if (!connection) {
    throw std::runtime_error(fmt::format("VMBus connect: {}", channel::to_string(connection.error())));
  }
  connection_ = std::move(*connection);
}

std::unique_ptr<GuestSession> GuestSession::connect_user(const std::string& socket_path, std::size_t ring_bytes) {
  const channel::UserPartition partition{
      .vm_id = wire::guid_literal("5e1ec7ed-9e4f-4000-8000-000000000001"),
      .name = fmt::format("uvmbus-perf-{}", getpid()),
  };
  auto transport = channel::UserTransport::connect(socket_path, partition);
  if (!transport) {
    throw std::runtime_error(
        fmt::format("cannot connect to the host at {}: {}", socket_path, channel::describe(transport.error())));
  }
  return std::make_unique<GuestSession>(std::move(*transport), ring_bytes);
}

GuestSession::~GuestSession() { connection_.reset(); }

channel::Channel& GuestSession::open(const wire::Guid& class_id, const char* device_name) {
  for (const channel::Offer& offer : connection_->offers()) {
    if (offer.class_id != class_id || !offer.is_primary()) {
      continue;
    }
    channel::OpenOptions options;
    options.outbound_ring_bytes = static_cast<uint32_t>(ring_bytes_);
    options.inbound_ring_bytes = static_cast<uint32_t>(ring_bytes_);
    auto opened = connection_->open_channel(offer.relid, options);
    if (!opened) {
      throw std::runtime_error(
          fmt::format("cannot open the {} channel: {}", device_name, channel::to_string(opened.error())));
    }
    return **opened;
  }
  throw std::runtime_error(fmt::format("the host offers no {} device", device_name));
}

}  // namespace uvmbus::perf::channel_bench
