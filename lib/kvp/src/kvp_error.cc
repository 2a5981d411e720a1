// KvpError names and the guest's reply status for each.
#include "uvmbus/kvp/kvp_error.h"

namespace uvmbus::kvp {

const char* to_string(KvpError error) noexcept {
  switch (error) {
    case KvpError::none: return "none";
    case KvpError::truncated: return "truncated";
    case KvpError::buffer_too_small: return "buffer_too_small";
    case KvpError::unknown_operation: return "unknown_operation";
    case KvpError::bad_pool: return "bad_pool";
    case KvpError::bad_key: return "bad_key";
    case KvpError::empty_key: return "empty_key";
    case KvpError::bad_value: return "bad_value";
    case KvpError::bad_value_type: return "bad_value_type";
    case KvpError::bad_value_size: return "bad_value_size";
    case KvpError::bad_ip_info: return "bad_ip_info";
  }
  return "unknown";
}

wire::HvStatus status_for(KvpError error) noexcept {
  switch (error) {
    case KvpError::none: return wire::HvStatus::ok;
    case KvpError::unknown_operation: return wire::HvStatus::not_supported;
    case KvpError::buffer_too_small: return wire::HvStatus::fail;
    default: return wire::HvStatus::invalid_arg;
  }
}

}  // namespace uvmbus::kvp
