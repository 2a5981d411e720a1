// GpadlTable: one partition's GPADLs, assembled from GpadlHeader and
// GpadlBody messages and validated before the host uses a page of them.
//
// Assembly follows the header's range_buflen: the range bytes of the header
// and then of each body are appended until range_buflen bytes are in (extra
// bytes in the last message are ignored, as UEFI sends full-size messages).
// Then every range is checked (byte_count != 0, byte_offset < 4096, exactly
// the PFNs the range needs, ranges filling range_buflen exactly) and every
// PFN must lie in the guest's registered memory.
//
// Limits keep a guest from exhausting host memory: at most
// `max_gpadls` GPADLs (complete or in progress) and `max_total_pages` pages
// over all of them, counted from the header's announced size before any body
// arrives. range_buflen is 16 bits, so one GPADL holds at most 8190 pages.
//
// Sans-IO: the table returns what happened; the partition sends the replies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "uvmbus/channel/mapped_guest_memory.h"
#include "uvmbus/host/control_fault.h"
#include "uvmbus/wire/ring.h"

namespace uvmbus::host {

struct GpadlLimits {
  std::size_t max_gpadls = 256;
  uint64_t max_total_pages = uint64_t{1} << 18;  // 1 GiB of 4 KiB pages
};

struct Gpadl {
  uint32_t relid = 0;
  std::vector<wire::GpaRange> ranges;  // complete GPADLs only
  std::vector<uint64_t> pfns;          // all ranges' PFNs, in order
  bool in_use = false;                 // mapped by an open channel
};

// The outcome of one GPADL message: `reply` asks for a GpadlCreated (success
// unless `failure`; a failed GPADL is already removed); a failure without
// `reply` is only counted (e.g. a body for an unknown handle).
struct GpadlProgress {
  uint32_t handle = 0;
  uint32_t relid = 0;
  bool reply = false;
  std::optional<ControlFault> failure;
};

class GpadlTable {
 public:
  explicit GpadlTable(GpadlLimits limits) noexcept : limits_(limits) {}

  // `message` is a whole GpadlHeader or GpadlBody message (header included),
  // at least its struct's size.
  GpadlProgress on_header(std::span<const std::byte> message, const channel::MappedGuestMemory& memory);
  GpadlProgress on_body(std::span<const std::byte> message, const channel::MappedGuestMemory& memory);

  // Removes a GPADL (in progress or complete) that no channel maps; the
  // fault says why not.
  std::optional<ControlFault> teardown(uint32_t handle);
  const Gpadl* find(uint32_t handle) const noexcept;
  void set_in_use(uint32_t handle, bool in_use) noexcept;
  // Drops every GPADL of `relid` (after the guest released a rescinded channel).
  void erase_relid(uint32_t relid) noexcept;
  void clear() noexcept;
  std::size_t size() const noexcept { return complete_.size() + pending_.size(); }
  uint64_t pages() const noexcept { return pages_; }

 private:
  struct Pending {
    uint32_t relid = 0;
    uint16_t rangecount = 0;
    uint64_t reserved_pages = 0;
    std::vector<std::byte> range_bytes;  // capacity = range_buflen
    std::size_t expected_bytes = 0;
  };

  void append(Pending& pending, std::span<const std::byte> bytes);
  GpadlProgress finish(uint32_t handle, const channel::MappedGuestMemory& memory);

  GpadlLimits limits_;
  std::map<uint32_t, Gpadl> complete_;
  std::map<uint32_t, Pending> pending_;
  uint64_t pages_ = 0;  // reserved by pending plus held by complete GPADLs
};

}  // namespace uvmbus::host
