// Builders for IC packets used by the lib/ic tests.
#include "ic_packets.h"

#include "uvmbus/wire/bytes.h"

namespace uvmbus::ic::testing {

std::vector<std::byte> make_packet(wire::IcMessageType type, const std::vector<std::byte>& body,
                                   uint8_t flags, uint8_t transaction_id) {
  const std::size_t size = (wire::kIcBodyOffset + body.size() + 7) / 8 * 8;
  std::vector<std::byte> packet(size);
  wire::store(std::span(packet), 0,
              wire::PipeHeader{1, static_cast<uint32_t>(sizeof(wire::IcMessageHeader) + body.size())});
  wire::IcMessageHeader header{};
  header.message_type = static_cast<uint16_t>(type);
  header.message_size = static_cast<uint16_t>(body.size());
  header.transaction_id = transaction_id;
  header.flags = flags;
  wire::store(std::span(packet), sizeof(wire::PipeHeader), header);
  std::copy(body.begin(), body.end(), packet.begin() + wire::kIcBodyOffset);
  return packet;
}

std::vector<std::byte> negotiate_body(std::initializer_list<wire::IcVersion> framework,
                                      std::initializer_list<wire::IcVersion> service) {
  std::vector<std::byte> body(sizeof(wire::IcNegotiateHeader) +
                              (framework.size() + service.size()) * sizeof(wire::IcVersion));
  wire::store(std::span(body), 0,
              wire::IcNegotiateHeader{static_cast<uint16_t>(framework.size()),
                                      static_cast<uint16_t>(service.size()), 0});
  std::size_t offset = sizeof(wire::IcNegotiateHeader);
  for (const auto list : {framework, service}) {
    for (const wire::IcVersion version : list) {
      wire::store(std::span(body), offset, version);
      offset += sizeof(wire::IcVersion);
    }
  }
  return body;
}

wire::IcMessageHeader header_of(const std::vector<std::byte>& packet) {
  return wire::load<wire::IcMessageHeader>(std::span(packet), sizeof(wire::PipeHeader));
}

wire::PipeHeader pipe_of(const std::vector<std::byte>& packet) {
  return wire::load<wire::PipeHeader>(std::span(packet));
}

}  // namespace uvmbus::ic::testing
