// Test support: the raw-bytes guest and the manual placer.
#include "raw_guest.h"

#include <poll.h>

#include <algorithm>
#include <stdexcept>

#include "uvmbus/channel/offer.h"
#include "uvmbus/ring/ring_memory.h"

namespace uvmbus::host::test {

RawGuest::RawGuest() {
  const auto region = memory.add_region(kMemoryBytes);
  if (!region) {
    throw std::runtime_error("guest memory");
  }
  auto made = channel::make_loopback_pair();
  if (!made) {
    throw std::runtime_error("loopback pair");
  }
  pair = std::move(*made);
  if (pair.guest->register_memory(**region) != channel::TransportStatus::ok) {
    throw std::runtime_error("register memory");
  }
}

void RawGuest::send_bytes(std::span<const std::byte> bytes) {
  if (pair.guest->send_control(bytes) != channel::TransportStatus::ok) {
    throw std::runtime_error("send_control");
  }
}

std::optional<std::vector<std::byte>> RawGuest::receive(std::chrono::milliseconds timeout) {
  std::vector<std::byte> buffer(wire::kMaxChannelMessageSize);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const channel::ControlReceive received = pair.guest->receive_control(buffer);
    if (received.status == channel::TransportStatus::ok) {
      buffer.resize(received.size);
      return buffer;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (received.status != channel::TransportStatus::empty || left.count() <= 0) {
      return std::nullopt;
    }
    pollfd ready{.fd = pair.guest->control_fd(), .events = POLLIN, .revents = 0};
    ::poll(&ready, 1, static_cast<int>(left.count()));
  }
}

void RawGuest::send_gpadl(uint32_t relid, uint32_t handle, std::span<const uint64_t> pfns) {
  std::vector<std::byte> message(wire::kMaxChannelMessageSize);
  auto header = wire::make_channel_message<wire::GpadlHeader>();
  header.child_relid = relid;
  header.gpadl = handle;
  header.rangecount = 1;
  header.range_buflen = static_cast<uint16_t>(sizeof(wire::GpaRange) + pfns.size() * sizeof(uint64_t));
  const wire::GpaRange range{.byte_count = static_cast<uint32_t>(pfns.size() * wire::kHvPageSize),
                             .byte_offset = 0};
  wire::store(message, 0, header);
  wire::store(message, sizeof(header), range);
  std::size_t at = sizeof(header) + sizeof(range);
  std::size_t next = 0;
  for (; next < pfns.size() && next < wire::kGpadlHeaderMaxPfns; ++next, at += sizeof(uint64_t)) {
    wire::store(message, at, pfns[next]);
  }
  send_bytes(std::span(message).first(at));
  while (next < pfns.size()) {
    auto body = wire::make_channel_message<wire::GpadlBody>();
    body.gpadl = handle;
    wire::store(message, 0, body);
    at = sizeof(body);
    for (std::size_t n = 0; n < wire::kGpadlBodyMaxPfns && next < pfns.size();
         ++n, ++next, at += sizeof(uint64_t)) {
      wire::store(message, at, pfns[next]);
    }
    send_bytes(std::span(message).first(at));
  }
}

channel::GuestPages RawGuest::allocate_rings(uint32_t outbound_pages, uint32_t inbound_pages) {
  auto pages = memory.allocate_pages(outbound_pages + inbound_pages);
  if (!pages) {
    throw std::runtime_error("allocate_pages");
  }
  ring::init_ring_header(*reinterpret_cast<wire::RingHeader*>(pages->data()), true);
  ring::init_ring_header(
      *reinterpret_cast<wire::RingHeader*>(pages->data() + std::size_t{outbound_pages} * wire::kHvPageSize),
      true);
  return std::move(*pages);
}

std::unique_ptr<channel::ChannelLink> RawGuest::attach(const wire::OfferChannel& offer,
                                                       wire::VmbusVersion version) {
  auto decoded = channel::decode_offer(offer, version);
  if (!decoded) {
    throw std::runtime_error("decode_offer");
  }
  auto link = pair.guest->attach_channel(*decoded);
  if (!link) {
    throw std::runtime_error("attach_channel");
  }
  return std::move(*link);
}

wire::OpenChannel RawGuest::open_message(uint32_t relid, uint32_t gpadl, uint32_t downstream_pages) const {
  auto open = wire::make_channel_message<wire::OpenChannel>();
  open.child_relid = relid;
  open.openid = relid;
  open.ringbuffer_gpadlhandle = gpadl;
  open.downstream_ringbuffer_pageoffset = downstream_pages;
  return open;
}

std::vector<std::vector<std::byte>> drain(RawGuest& guest, std::chrono::milliseconds timeout) {
  std::vector<std::vector<std::byte>> messages;
  while (auto message = guest.receive(timeout)) {
    messages.push_back(std::move(*message));
  }
  return messages;
}

wire::InitiateContact initiate_contact(wire::VmbusVersion version) {
  auto message = wire::make_channel_message<wire::InitiateContact>();
  message.vmbus_version_requested = version;
  return message;
}

bool ManualPlacer::attach(HostChannel& channel) {
  if (refuse) {
    return false;
  }
  channels.push_back(&channel);
  return true;
}

void ManualPlacer::detach(HostChannel& channel) {
  std::erase(channels, &channel);
}

}  // namespace uvmbus::host::test
