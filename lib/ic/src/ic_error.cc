// Names of IcError values, for logs and counters.
#include "uvmbus/ic/ic_error.h"

namespace uvmbus::ic {

const char* to_string(IcError error) noexcept {
  switch (error) {
    case IcError::none: return "none";
    case IcError::truncated: return "truncated";
    case IcError::pipe_type: return "pipe_type";
    case IcError::body_overrun: return "body_overrun";
    case IcError::not_request: return "not_request";
    case IcError::not_response: return "not_response";
    case IcError::negotiate_truncated: return "negotiate_truncated";
    case IcError::too_many_versions: return "too_many_versions";
    case IcError::no_common_version: return "no_common_version";
    case IcError::not_negotiated: return "not_negotiated";
    case IcError::unexpected_type: return "unexpected_type";
    case IcError::transaction_pending: return "transaction_pending";
    case IcError::no_transaction: return "no_transaction";
    case IcError::transaction_mismatch: return "transaction_mismatch";
    case IcError::wrong_buffer: return "wrong_buffer";
    case IcError::buffer_too_small: return "buffer_too_small";
    case IcError::message_too_large: return "message_too_large";
  }
  return "unknown";
}

}  // namespace uvmbus::ic
