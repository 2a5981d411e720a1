// ControlFault: why the host refused or ignored a guest's control message.
// Every cause has its own counter in each partition (ControlFaultCounters),
// so an admin can see which rule a guest broke; none of them ever affects
// another partition.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace uvmbus::host {

enum class ControlFault : uint8_t {
  message_truncated,      // shorter than its type's struct (or than the header)
  message_oversized,      // over the 240-byte SynIC payload
  unknown_type,           // a message type this host does not know
  wrong_direction,        // a type only a host sends
  out_of_order,           // not valid in the partition's current state
  unsupported_version,    // InitiateContact for a version we do not speak
  unknown_relid,          // no such channel offered to this partition
  gpadl_duplicate,        // the handle is already in use
  gpadl_limit,            // too many GPADLs or pages for this partition
  gpadl_malformed,        // bad range count, length, offset or PFN count
  gpadl_outside_memory,   // a PFN outside the guest's registered regions
  gpadl_unknown,          // no GPADL with this handle
  gpadl_in_use,           // teardown of a GPADL an open channel maps
  ring_gpadl_invalid,     // ring GPADL not one contiguous page-aligned range
  ring_offset_invalid,    // downstream page offset 0, past the end, or a half too small
  channel_already_open,
  channel_not_open,
  no_doorbell,            // the transport has no doorbells for the channel
  device_refused,         // the device did not accept the open
  no_worker,              // no runtime worker took the channel
  relid_exhausted,        // no free channel id left
  send_failed,            // the transport did not take a reply
};

inline constexpr std::size_t kControlFaultCount = static_cast<std::size_t>(ControlFault::send_failed) + 1;

const char* to_string(ControlFault fault) noexcept;

using ControlFaultCounts = std::array<uint64_t, kControlFaultCount>;

}  // namespace uvmbus::host
