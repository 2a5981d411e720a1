// Reading the guest buffers a GPA-direct packet names. The ranges come from
// the guest: every range is checked (byte_offset < 4096, byte_count != 0,
// the PFNs it needs present in the packet) and every page resolved through
// the registered memory before the first byte is visited, so a bad range
// means nothing is visited at all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "uvmbus/channel/mapped_guest_memory.h"

namespace uvmbus::host {

struct GpaDirectTotals {
  uint32_t ranges = 0;
  uint64_t bytes = 0;
};

// Calls `visit` with each page-sized piece of each range, in order. Returns
// nullopt (and visits nothing) if any range is malformed or outside memory.
// `header_ext` is the packet's type-specific header (InPacket::header_ext()).
std::optional<GpaDirectTotals> visit_gpa_direct(
    std::span<const std::byte> header_ext, const channel::MappedGuestMemory& memory,
    const std::function<void(std::span<std::byte>)>& visit);

}  // namespace uvmbus::host
