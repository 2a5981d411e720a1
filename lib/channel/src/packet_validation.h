// Private: checks of the type-specific headers of packets from the host,
// done once by the channel before a packet is handed out. Both work on a
// stable copy (or, for a trusted host, on the ring) and read every field once.
#pragma once

#include <cstdint>
#include <span>

#include "uvmbus/channel/channel_packet.h"
#include "uvmbus/channel/expected.h"
#include "uvmbus/channel/guest_memory.h"

namespace uvmbus::channel::detail {

struct GpaDirectView {
  uint32_t range_count = 0;
  std::span<const std::byte> ranges;  // range_count (GpaRange + PFNs) entries
};

// A GPA-direct header: range count >= 1; each range non-empty, starting
// inside its first page, with exactly the PFNs it needs, all inside `header_ext`;
// every page inside `memory` (no memory: every page is outside).
Expected<GpaDirectView, DropCause> validate_gpa_direct(std::span<const std::byte> header_ext,
                                                       const GuestMemory* memory) noexcept;

struct TransferPageView {
  uint16_t set_id = 0;
  std::span<const wire::TransferPageRange> ranges;
};

// A transfer-page header: a registered set, range count >= 1 with all ranges
// inside `header_ext`, each range non-empty and inside the set.
Expected<TransferPageView, DropCause> validate_transfer_pages(
    std::span<const std::byte> header_ext, std::span<const TransferPageSet> sets) noexcept;

}  // namespace uvmbus::channel::detail
