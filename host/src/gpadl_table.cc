// GpadlTable: GPADL assembly, validation and limits.
#include "uvmbus/host/gpadl_table.h"

#include <algorithm>

#include "uvmbus/wire/bytes.h"
#include "uvmbus/wire/channel_messages.h"

namespace uvmbus::host {

namespace {

constexpr uint64_t kPageSize = wire::kHvPageSize;

}  // namespace

GpadlProgress GpadlTable::on_header(std::span<const std::byte> message,
                                    const channel::MappedGuestMemory& memory) {
  const auto header = wire::load<wire::GpadlHeader>(message);
  GpadlProgress progress{.handle = header.gpadl, .relid = header.child_relid, .reply = true, .failure = {}};
  if (complete_.contains(header.gpadl) || pending_.contains(header.gpadl)) {
    progress.failure = ControlFault::gpadl_duplicate;
    return progress;
  }
  if (header.rangecount == 0 || header.range_buflen < sizeof(wire::GpaRange) * header.rangecount) {
    progress.failure = ControlFault::gpadl_malformed;
    return progress;
  }
  // Upper bound on the pages this GPADL can hold, reserved now so that
  // in-progress GPADLs count against the limit too.
  const uint64_t max_pages = header.range_buflen / sizeof(uint64_t);
  if (size() >= limits_.max_gpadls || pages_ + max_pages > limits_.max_total_pages) {
    progress.failure = ControlFault::gpadl_limit;
    return progress;
  }
  Pending& pending = pending_[header.gpadl];
  pending.relid = header.child_relid;
  pending.rangecount = header.rangecount;
  pending.reserved_pages = max_pages;
  pending.expected_bytes = header.range_buflen;
  pending.range_bytes.reserve(header.range_buflen);
  pages_ += max_pages;
  append(pending, message.subspan(sizeof(wire::GpadlHeader)));
  if (pending.range_bytes.size() < pending.expected_bytes) {
    progress.reply = false;
    return progress;
  }
  return finish(header.gpadl, memory);
}

GpadlProgress GpadlTable::on_body(std::span<const std::byte> message,
                                  const channel::MappedGuestMemory& memory) {
  const auto body = wire::load<wire::GpadlBody>(message);
  const auto found = pending_.find(body.gpadl);
  if (found == pending_.end()) {
    return GpadlProgress{.handle = body.gpadl,
                         .relid = 0,
                         .reply = false,
                         .failure = complete_.contains(body.gpadl) ? ControlFault::out_of_order
                                                                    : ControlFault::gpadl_unknown};
  }
  append(found->second, message.subspan(sizeof(wire::GpadlBody)));
  if (found->second.range_bytes.size() < found->second.expected_bytes) {
    return GpadlProgress{.handle = body.gpadl, .relid = found->second.relid, .reply = false, .failure = {}};
  }
  return finish(body.gpadl, memory);
}

void GpadlTable::append(Pending& pending, std::span<const std::byte> bytes) {
  const std::size_t room = pending.expected_bytes - pending.range_bytes.size();
  const std::span<const std::byte> taken = bytes.first(std::min(room, bytes.size()));
  pending.range_bytes.insert(pending.range_bytes.end(), taken.begin(), taken.end());
}

// Parses and checks the assembled ranges; the pending entry becomes a
// complete GPADL or is dropped.
GpadlProgress GpadlTable::finish(uint32_t handle, const channel::MappedGuestMemory& memory) {
  const auto found = pending_.find(handle);
  Pending pending = std::move(found->second);
  pending_.erase(found);
  pages_ -= pending.reserved_pages;

  GpadlProgress progress{.handle = handle, .relid = pending.relid, .reply = true, .failure = {}};
  const std::span<const std::byte> bytes(pending.range_bytes);
  Gpadl gpadl{.relid = pending.relid, .ranges = {}, .pfns = {}, .in_use = false};
  std::size_t at = 0;
  for (uint16_t i = 0; i < pending.rangecount; ++i) {
    if (!wire::fits<wire::GpaRange>(bytes, at)) {
      progress.failure = ControlFault::gpadl_malformed;
      return progress;
    }
    const auto range = wire::load<wire::GpaRange>(bytes, at);
    at += sizeof(range);
    if (range.byte_count == 0 || range.byte_offset >= kPageSize) {
      progress.failure = ControlFault::gpadl_malformed;
      return progress;
    }
    const uint64_t pages = (uint64_t{range.byte_offset} + range.byte_count + kPageSize - 1) / kPageSize;
    if ((bytes.size() - at) / sizeof(uint64_t) < pages) {
      progress.failure = ControlFault::gpadl_malformed;
      return progress;
    }
    for (uint64_t page = 0; page < pages; ++page, at += sizeof(uint64_t)) {
      const auto pfn = wire::load<uint64_t>(bytes, at);
      if (memory.page_address(pfn) == nullptr) {
        progress.failure = ControlFault::gpadl_outside_memory;
        return progress;
      }
      gpadl.pfns.push_back(pfn);
    }
    gpadl.ranges.push_back(range);
  }
  if (at != bytes.size()) {
    progress.failure = ControlFault::gpadl_malformed;
    return progress;
  }
  pages_ += gpadl.pfns.size();
  complete_.emplace(handle, std::move(gpadl));
  return progress;
}

std::optional<ControlFault> GpadlTable::teardown(uint32_t handle) {
  if (const auto pending = pending_.find(handle); pending != pending_.end()) {
    pages_ -= pending->second.reserved_pages;
    pending_.erase(pending);
    return std::nullopt;
  }
  const auto found = complete_.find(handle);
  if (found == complete_.end()) {
    return ControlFault::gpadl_unknown;
  }
  if (found->second.in_use) {
    return ControlFault::gpadl_in_use;
  }
  pages_ -= found->second.pfns.size();
  complete_.erase(found);
  return std::nullopt;
}

const Gpadl* GpadlTable::find(uint32_t handle) const noexcept {
  const auto found = complete_.find(handle);
  return found == complete_.end() ? nullptr : &found->second;
}

void GpadlTable::set_in_use(uint32_t handle, bool in_use) noexcept {
  if (const auto found = complete_.find(handle); found != complete_.end()) {
    found->second.in_use = in_use;
  }
}

void GpadlTable::erase_relid(uint32_t relid) noexcept {
  std::erase_if(complete_, [&](const auto& entry) {
    if (entry.second.relid != relid) {
      return false;
    }
    pages_ -= entry.second.pfns.size();
    return true;
  });
  std::erase_if(pending_, [&](const auto& entry) {
    if (entry.second.relid != relid) {
      return false;
    }
    pages_ -= entry.second.reserved_pages;
    return true;
  });
}

void GpadlTable::clear() noexcept {
  complete_.clear();
  pending_.clear();
  pages_ = 0;
}

}  // namespace uvmbus::host
