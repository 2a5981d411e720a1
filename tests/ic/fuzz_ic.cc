// libFuzzer target: arbitrary bytes as an IC packet, fed to the guest end
// (before and after negotiation) and to the host end (as a NEGOTIATE reply
// and as a service reply). Checks that replies keep the packet's length and
// carry response flags, and that nothing reads outside the packet (ASan).
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "uvmbus/ic/guest_endpoint.h"
#include "uvmbus/ic/host_endpoint.h"
#include "uvmbus/wire/bytes.h"

namespace {

using namespace uvmbus;

constexpr std::array<wire::IcVersion, 3> kKvpVersions{{{5, 0}, {4, 0}, {3, 0}}};
constexpr std::array<wire::IcVersion, 3> kKvpOffer{{{3, 0}, {4, 0}, {5, 0}}};

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

void check_reply(const std::vector<std::byte>& packet, std::size_t size) {
  check(packet.size() == size);
  const auto header =
      wire::load<wire::IcMessageHeader>(std::span(packet), sizeof(wire::PipeHeader));
  check(header.flags == wire::kIcFlagsResponse);
}

void feed_guest(ic::GuestEndpoint& guest, std::vector<std::byte> packet) {
  const std::size_t size = packet.size();
  const ic::GuestEvent event = guest.on_packet(packet);
  switch (event.action) {
    case ic::GuestAction::send_reply:
      check_reply(packet, size);
      break;
    case ic::GuestAction::handle_request:
      check(event.body.data() >= packet.data() &&
            event.body.data() + event.body.size() == packet.data() + packet.size());
      check(guest.complete(packet, wire::HvStatus::ok) == ic::IcError::none);
      check_reply(packet, size);
      break;
    case ic::GuestAction::drop:
      check(event.error != ic::IcError::none);
      break;
  }
}

// A guest endpoint that has already negotiated framework 3.0 / KVP 5.0.
ic::GuestEndpoint negotiated_guest() {
  ic::GuestEndpoint guest(wire::IcMessageType::kvp_exchange,
                          {ic::kGuestFrameworkVersions, kKvpVersions});
  std::vector<std::byte> out(128);
  ic::HostEndpoint host(wire::IcMessageType::kvp_exchange,
                        {ic::kHostFrameworkVersions, kKvpOffer});
  const ic::SizeResult written = host.start_negotiate(out);
  out.resize(written.size);
  check(guest.on_packet(out).action == ic::GuestAction::send_reply);
  check(guest.versions().has_value());
  return guest;
}

void feed_host(std::span<const std::byte> packet) {
  ic::HostEndpoint host(wire::IcMessageType::kvp_exchange,
                        {ic::kHostFrameworkVersions, kKvpOffer});
  std::vector<std::byte> out(wire::kIcMaxMessageSize);
  check(host.start_negotiate(out).error == ic::IcError::none);
  const ic::HostEvent negotiated = host.on_packet(packet);
  if (negotiated.action == ic::HostAction::negotiate_reply && host.versions()) {
    check(host.start_request(out, 16).error == ic::IcError::none);
    (void)host.on_packet(packet);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::byte> packet(size);
  if (size != 0) {
    std::memcpy(packet.data(), data, size);
  }
  ic::GuestEndpoint fresh(wire::IcMessageType::kvp_exchange,
                          {ic::kGuestFrameworkVersions, kKvpVersions});
  feed_guest(fresh, packet);
  ic::GuestEndpoint negotiated = negotiated_guest();
  feed_guest(negotiated, packet);
  feed_host(packet);
  return 0;
}
