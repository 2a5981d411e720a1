// Test support: a guest that speaks raw control-message bytes over the guest
// end of a loopback transport, for driving the host with well-formed and
// hostile input alike; plus a ChannelPlacer that lets a test poll channels
// itself.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "uvmbus/channel/guest_memory.h"
#include "uvmbus/channel/loopback_transport.h"
#include "uvmbus/host/channel_placer.h"
#include "uvmbus/wire/bytes.h"
#include "uvmbus/wire/channel_messages.h"

namespace uvmbus::host::test {

class RawGuest {
 public:
  static constexpr std::size_t kMemoryBytes = 4 << 20;

  RawGuest();

  template <typename Message>
  void send(const Message& message) {
    send_bytes(std::as_bytes(std::span(&message, 1)));
  }
  void send_bytes(std::span<const std::byte> bytes);
  // The next host message, waiting up to `timeout`.
  std::optional<std::vector<std::byte>> receive(
      std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));
  // The next host message as `Message` (nullopt if none, or another type).
  template <typename Message>
  std::optional<Message> receive_as(std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) {
    const std::optional<std::vector<std::byte>> bytes = receive(timeout);
    if (!bytes || !wire::fits<Message>(*bytes, 0) ||
        wire::load<wire::ChannelMessageType>(*bytes) != Message::kType) {
      return std::nullopt;
    }
    return wire::load<Message>(*bytes);
  }

  // A GpadlHeader (one range of whole pages) plus bodies, as Linux sends them.
  void send_gpadl(uint32_t relid, uint32_t handle, std::span<const uint64_t> pfns);
  // Ring pages [guest->host | host->guest], headers initialised as the guest does.
  channel::GuestPages allocate_rings(uint32_t outbound_pages, uint32_t inbound_pages);
  // The doorbells for `offer`, as the guest attaches them before OpenChannel.
  std::unique_ptr<channel::ChannelLink> attach(const wire::OfferChannel& offer,
                                               wire::VmbusVersion version);
  wire::OpenChannel open_message(uint32_t relid, uint32_t gpadl, uint32_t downstream_pages) const;

  channel::GuestMemory memory;
  channel::LoopbackPair pair;
};

// The messages a connect (InitiateContact at `version`, RequestOffers)
// handled by `pump` brings back: VersionResponse, offers, AllOffersDelivered.
std::vector<std::vector<std::byte>> drain(RawGuest& guest,
                                          std::chrono::milliseconds timeout = std::chrono::milliseconds(50));

wire::InitiateContact initiate_contact(wire::VmbusVersion version);

// Attaches every channel and lets the test poll them.
class ManualPlacer final : public ChannelPlacer {
 public:
  bool attach(HostChannel& channel) override;
  void detach(HostChannel& channel) override;
  std::vector<HostChannel*> channels;
  bool refuse = false;
};

}  // namespace uvmbus::host::test
