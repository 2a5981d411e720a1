// Names of control faults, as admin tools print them.
#include "uvmbus/host/control_fault.h"

namespace uvmbus::host {

const char* to_string(ControlFault fault) noexcept {
  switch (fault) {
    case ControlFault::message_truncated: return "message_truncated";
    case ControlFault::message_oversized: return "message_oversized";
    case ControlFault::unknown_type: return "unknown_type";
    case ControlFault::wrong_direction: return "wrong_direction";
    case ControlFault::out_of_order: return "out_of_order";
    case ControlFault::unsupported_version: return "unsupported_version";
    case ControlFault::unknown_relid: return "unknown_relid";
    case ControlFault::gpadl_duplicate: return "gpadl_duplicate";
    case ControlFault::gpadl_limit: return "gpadl_limit";
    case ControlFault::gpadl_malformed: return "gpadl_malformed";
    case ControlFault::gpadl_outside_memory: return "gpadl_outside_memory";
    case ControlFault::gpadl_unknown: return "gpadl_unknown";
    case ControlFault::gpadl_in_use: return "gpadl_in_use";
    case ControlFault::ring_gpadl_invalid: return "ring_gpadl_invalid";
    case ControlFault::ring_offset_invalid: return "ring_offset_invalid";
    case ControlFault::channel_already_open: return "channel_already_open";
    case ControlFault::channel_not_open: return "channel_not_open";
    case ControlFault::no_doorbell: return "no_doorbell";
    case ControlFault::device_refused: return "device_refused";
    case ControlFault::no_worker: return "no_worker";
    case ControlFault::relid_exhausted: return "relid_exhausted";
    case ControlFault::send_failed: return "send_failed";
  }
  return "unknown";
}

}  // namespace uvmbus::host
