// Builders for IC packets as hosts put them on the wire, shared by the
// lib/ic tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "uvmbus/wire/ic.h"

namespace uvmbus::ic::testing {

// A request as a host sends it: pipe header, IC header with `flags`, `body`,
// padded with zeros to a multiple of 8 bytes like a VMBus in-band payload.
std::vector<std::byte> make_packet(wire::IcMessageType type, const std::vector<std::byte>& body,
                                   uint8_t flags = wire::kIcFlagsRequest,
                                   uint8_t transaction_id = 0);

// A NEGOTIATE body offering the two lists.
std::vector<std::byte> negotiate_body(std::initializer_list<wire::IcVersion> framework,
                                      std::initializer_list<wire::IcVersion> service);

wire::IcMessageHeader header_of(const std::vector<std::byte>& packet);
wire::PipeHeader pipe_of(const std::vector<std::byte>& packet);

}  // namespace uvmbus::ic::testing
