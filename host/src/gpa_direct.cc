// GPA-direct range validation and traversal.
#include "uvmbus/host/gpa_direct.h"

#include <algorithm>

#include "uvmbus/wire/bytes.h"
#include "uvmbus/wire/ring.h"

namespace uvmbus::host {

namespace {

constexpr uint64_t kPageSize = wire::kHvPageSize;

// Walks the ranges; with `visit` null it only validates.
std::optional<GpaDirectTotals> walk(std::span<const std::byte> header_ext,
                                    const channel::MappedGuestMemory& memory,
                                    const std::function<void(std::span<std::byte>)>* visit) {
  if (!wire::fits<wire::GpaDirectHeader>(header_ext, 0)) {
    return std::nullopt;
  }
  const auto header = wire::load<wire::GpaDirectHeader>(header_ext);
  GpaDirectTotals totals;
  std::size_t at = sizeof(header);
  for (uint32_t i = 0; i < header.range_count; ++i) {
    if (!wire::fits<wire::GpaRange>(header_ext, at)) {
      return std::nullopt;
    }
    const auto range = wire::load<wire::GpaRange>(header_ext, at);
    at += sizeof(range);
    if (range.byte_count == 0 || range.byte_offset >= kPageSize) {
      return std::nullopt;
    }
    const uint64_t pages = (uint64_t{range.byte_offset} + range.byte_count + kPageSize - 1) / kPageSize;
    if ((header_ext.size() - at) / sizeof(uint64_t) < pages) {
      return std::nullopt;
    }
    uint64_t offset = range.byte_offset;
    uint64_t left = range.byte_count;
    for (uint64_t page = 0; page < pages; ++page, at += sizeof(uint64_t)) {
      std::byte* data = memory.page_address(wire::load<uint64_t>(header_ext, at));
      if (data == nullptr) {
        return std::nullopt;
      }
      const uint64_t chunk = std::min(left, kPageSize - offset);
      if (visit != nullptr) {
        (*visit)(std::span(data + offset, chunk));
      }
      left -= chunk;
      offset = 0;
    }
    ++totals.ranges;
    totals.bytes += range.byte_count;
  }
  return totals;
}

}  // namespace

std::optional<GpaDirectTotals> visit_gpa_direct(
    std::span<const std::byte> header_ext, const channel::MappedGuestMemory& memory,
    const std::function<void(std::span<std::byte>)>& visit) {
  if (!walk(header_ext, memory, nullptr)) {
    return std::nullopt;
  }
  return walk(header_ext, memory, &visit);
}

}  // namespace uvmbus::host
