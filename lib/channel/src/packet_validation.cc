// Validation of GPA-direct and transfer-page headers from the host.
#include "packet_validation.h"

#include "uvmbus/wire/bytes.h"

namespace uvmbus::channel::detail {

Expected<GpaDirectView, DropCause> validate_gpa_direct(std::span<const std::byte> header_ext,
                                                       const GuestMemory* memory) noexcept {
  if (!wire::fits<wire::GpaDirectHeader>(header_ext, 0)) {
    return Unexpected(DropCause::gpa_direct_malformed);
  }
  const auto header = wire::load<wire::GpaDirectHeader>(header_ext);
  const std::span<const std::byte> ranges = header_ext.subspan(sizeof(header));
  // Each range takes at least 16 bytes (its header and one PFN): this bounds
  // the loop by the packet, whatever count the host wrote.
  constexpr std::size_t kMinRangeBytes = sizeof(wire::GpaRange) + sizeof(uint64_t);
  if (header.range_count == 0 || header.range_count > ranges.size() / kMinRangeBytes) {
    return Unexpected(DropCause::gpa_direct_malformed);
  }
  std::size_t at = 0;
  for (uint32_t i = 0; i < header.range_count; ++i) {
    if (!wire::fits<wire::GpaRange>(ranges, at)) {
      return Unexpected(DropCause::gpa_direct_malformed);
    }
    const auto range = wire::load<wire::GpaRange>(ranges, at);
    at += sizeof(range);
    if (range.byte_count == 0 || range.byte_offset >= wire::kHvPageSize) {
      return Unexpected(DropCause::gpa_direct_malformed);
    }
    const uint64_t pages =
        (uint64_t{range.byte_offset} + range.byte_count + wire::kHvPageSize - 1) / wire::kHvPageSize;
    if (pages > (ranges.size() - at) / sizeof(uint64_t)) {
      return Unexpected(DropCause::gpa_direct_malformed);
    }
    for (uint64_t page = 0; page < pages; ++page, at += sizeof(uint64_t)) {
      const auto pfn = wire::load<uint64_t>(ranges, at);
      if (memory == nullptr || memory->page_address(pfn) == nullptr) {
        return Unexpected(DropCause::gpa_direct_outside_memory);
      }
    }
  }
  return GpaDirectView{.range_count = header.range_count, .ranges = ranges.first(at)};
}

Expected<TransferPageView, DropCause> validate_transfer_pages(
    std::span<const std::byte> header_ext, std::span<const TransferPageSet> sets) noexcept {
  if (!wire::fits<wire::TransferPageHeader>(header_ext, 0)) {
    return Unexpected(DropCause::transfer_page_malformed);
  }
  const auto header = wire::load<wire::TransferPageHeader>(header_ext);
  const std::span<const std::byte> range_bytes = header_ext.subspan(sizeof(header));
  if (header.range_count == 0 ||
      header.range_count > range_bytes.size() / sizeof(wire::TransferPageRange)) {
    return Unexpected(DropCause::transfer_page_malformed);
  }
  const TransferPageSet* set = nullptr;
  for (const TransferPageSet& candidate : sets) {
    if (candidate.id == header.pageset_id) {
      set = &candidate;
    }
  }
  if (set == nullptr) {
    return Unexpected(DropCause::transfer_page_unknown_set);
  }
  // Ranges are 8-byte aligned in the packet (packets start 8-aligned and the
  // header before them is 24 bytes), so they can be viewed in place.
  const std::span<const wire::TransferPageRange> ranges(
      reinterpret_cast<const wire::TransferPageRange*>(range_bytes.data()), header.range_count);
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const auto range = wire::load<wire::TransferPageRange>(range_bytes, i * sizeof(wire::TransferPageRange));
    if (range.byte_count == 0 || uint64_t{range.byte_offset} + range.byte_count > set->bytes) {
      return Unexpected(DropCause::transfer_page_out_of_range);
    }
  }
  return TransferPageView{.set_id = header.pageset_id, .ranges = ranges};
}

}  // namespace uvmbus::channel::detail
