// Why an IC packet was refused: one value per malformation or protocol
// violation, so callers can count drops by cause.
#pragma once

#include <cstdint>

namespace uvmbus::ic {

enum class IcError : uint8_t {
  none,
  truncated,             // shorter than pipe header + IC header
  pipe_type,             // pipe packet type is neither data nor partial
  body_overrun,          // message_size runs past the end of the packet
  not_request,           // guest: flags are not transaction|request
  not_response,          // host: flags lack transaction|response
  negotiate_truncated,   // NEGOTIATE body shorter than its header or its lists
  too_many_versions,     // a NEGOTIATE list longer than kIcMaxVersionCount
  no_common_version,     // no framework or no service version in common
  not_negotiated,        // a service message before a successful NEGOTIATE
  unexpected_type,       // neither NEGOTIATE nor this channel's service
  transaction_pending,   // a new packet before the pending request was answered
  no_transaction,        // host: a response with no request outstanding
  transaction_mismatch,  // host: a response to another transaction id or type
  wrong_buffer,          // guest: complete() on a buffer other than the request's
  buffer_too_small,      // the output buffer cannot hold the message
  message_too_large,     // body beyond what an IC message may carry
};

const char* to_string(IcError error) noexcept;

}  // namespace uvmbus::ic
