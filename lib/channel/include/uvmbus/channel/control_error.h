// Why a control-plane step failed: a malformed or unexpected message from the
// host, an offer that failed validation, or the outcome of a request
// (refused, rescinded, host gone, timed out). One enum, so every rejection
// has a name and a counter.
#pragma once

#include <cstddef>
#include <cstdint>

namespace uvmbus::channel {

enum class ControlError : uint8_t {
  none,
  // A host message that could not be used (dropped and counted).
  message_truncated,       // shorter than the struct of its type
  message_oversized,       // longer than a SynIC payload (240 bytes)
  unknown_message_type,    // a type number VMBus does not define
  wrong_direction,         // a guest-to-host type sent by the host
  unsupported_message,     // a host-to-guest type this client never asks for
  unexpected_message,      // well formed, but not expected in the current state
  unknown_relid,           // names a channel that was never offered (or is gone)
  unknown_gpadl,           // names a GPADL with no request outstanding
  mismatched_reply,        // ids do not match the request it answers
  offer_rejected,          // an offer failed validation (see OfferError)
  // Outcomes of requests.
  no_common_version,       // the host refused every version we offered
  host_refused,            // the reply carried a non-zero status
  rescinded,               // the host rescinded the channel
  host_gone,               // the transport reported EOF, or the host unloaded us
  timed_out,               // no reply within the bound
  transport_failed,        // the transport could not send
  // Caller errors.
  invalid_state,           // not allowed now (not connected, already open, ...)
  invalid_argument,        // bad relid, size, handle, options
  subchannels_open,        // close the sub-channels before their primary
  out_of_memory,           // guest memory for rings could not be allocated
};

inline constexpr std::size_t kControlErrorCount =
    static_cast<std::size_t>(ControlError::out_of_memory) + 1;

const char* to_string(ControlError error) noexcept;

}  // namespace uvmbus::channel
