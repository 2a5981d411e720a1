// libFuzzer target: the host's control-message handling. The input is a
// sequence of guest messages, each a length byte and that many bytes, fed to
// a Partition offering an echo and a sink device, with 1 MiB of registered
// guest memory and doorbells attached for both channels (so GPADLs can map
// and opens can succeed). If the first byte is odd, the harness first
// negotiates and requests offers, so the fuzzer spends its time on GPADLs
// and channels. Every reply is drained; opened channels are polled once.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "uvmbus/channel/guest_memory.h"
#include "uvmbus/channel/loopback_transport.h"
#include "uvmbus/host/builtin_devices.h"
#include "uvmbus/host/partition.h"

namespace {

using namespace uvmbus;

constexpr wire::Guid kEcho = wire::guid_literal("f0220000-0000-4000-8000-000000000001");
constexpr wire::Guid kSink = wire::guid_literal("f0220000-0000-4000-8000-000000000002");

class PollOncePlacer final : public host::ChannelPlacer {
 public:
  bool attach(host::HostChannel& channel) override {
    [[maybe_unused]] const std::size_t handled = channel.poll(8);
    return true;
  }
  void detach(host::HostChannel&) override {}
};

channel::GuestMemory& guest_memory() {
  static channel::GuestMemory* memory = [] {
    auto* made = new channel::GuestMemory();
    if (!made->add_region(1 << 20)) {
      __builtin_trap();
    }
    return made;
  }();
  return *memory;
}

template <typename Message>
std::span<const std::byte> bytes_of(const Message& message) {
  return std::as_bytes(std::span(&message, 1));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  auto pair = channel::make_loopback_pair();
  if (!pair || pair->guest->register_memory(guest_memory().region(0)) != channel::TransportStatus::ok) {
    return 0;
  }
  std::vector<std::unique_ptr<channel::ChannelLink>> links;
  for (uint32_t relid : {1u, 2u}) {
    channel::Offer offer;
    offer.class_id = relid == 1 ? host::kEchoClassGuid : host::kSinkClassGuid;
    offer.instance_id = relid == 1 ? kEcho : kSink;
    offer.relid = relid;
    auto link = pair->guest->attach_channel(offer);
    if (link) {
      links.push_back(std::move(*link));
    }
  }
  PollOncePlacer placer;
  host::PartitionLimits limits;
  limits.gpadls.max_gpadls = 16;
  limits.gpadls.max_total_pages = 1024;
  host::Partition partition(1, "fuzz", *pair->host, placer, nullptr, limits);
  partition.add_device(host::make_echo_device(kEcho, 2));
  partition.add_device(host::make_sink_device(kSink, 0));

  const auto drain = [&] {
    std::array<std::byte, wire::kMaxChannelMessageSize> reply;
    while (pair->guest->receive_control(reply).status == channel::TransportStatus::ok) {
    }
  };
  if ((data[0] & 1) != 0) {
    auto contact = wire::make_channel_message<wire::InitiateContact>();
    contact.vmbus_version_requested = wire::VmbusVersion::win10_v5_3;
    partition.handle_message(bytes_of(contact));
    partition.handle_message(bytes_of(wire::make_channel_message<wire::RequestOffers>()));
  }
  std::size_t at = 1;
  while (at < size) {
    const std::size_t length = std::min<std::size_t>(data[at], size - at - 1);
    partition.handle_message(std::as_bytes(std::span(data + at + 1, length)));
    if ((data[at] & 0x80) != 0) {
      partition.offer_subchannels(1, data[at] & 3);
    }
    at += 1 + length;
    drain();
  }
  partition.remove_device(kSink);
  drain();
  return 0;
}
