// Names of control-plane errors, for logs and test messages.
#include "uvmbus/channel/control_error.h"

namespace uvmbus::channel {

const char* to_string(ControlError error) noexcept {
  switch (error) {
    case ControlError::none: return "no error";
    case ControlError::message_truncated: return "message shorter than its type";
    case ControlError::message_oversized: return "message longer than 240 bytes";
    case ControlError::unknown_message_type: return "unknown message type";
    case ControlError::wrong_direction: return "guest-to-host message type sent by the host";
    case ControlError::unsupported_message: return "unsupported message type";
    case ControlError::unexpected_message: return "message not expected in this state";
    case ControlError::unknown_relid: return "unknown channel id";
    case ControlError::unknown_gpadl: return "unknown GPADL handle";
    case ControlError::mismatched_reply: return "reply ids do not match the request";
    case ControlError::offer_rejected: return "offer rejected";
    case ControlError::no_common_version: return "no common protocol version";
    case ControlError::host_refused: return "host refused the request";
    case ControlError::rescinded: return "channel rescinded";
    case ControlError::host_gone: return "host gone";
    case ControlError::timed_out: return "timed out";
    case ControlError::transport_failed: return "transport failed to send";
    case ControlError::invalid_state: return "not allowed in the current state";
    case ControlError::invalid_argument: return "invalid argument";
    case ControlError::subchannels_open: return "sub-channels still open";
    case ControlError::out_of_memory: return "out of guest memory";
  }
  return "unknown";
}

}  // namespace uvmbus::channel
