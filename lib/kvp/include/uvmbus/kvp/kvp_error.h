// Why a KVP message was refused, and the status a guest answers for it.
#pragma once

#include <cstdint>

#include "uvmbus/wire/ic.h"

namespace uvmbus::kvp {

enum class KvpError : uint8_t {
  none,
  truncated,          // the body is shorter than the operation's message
  buffer_too_small,   // an output buffer cannot hold the message
  unknown_operation,  // operation beyond SET_IP_INFO
  bad_pool,           // pool beyond the five pools
  bad_key,            // key is not a valid string (see TextError)
  empty_key,          // key is the empty string
  bad_value,          // value is not a valid string (see TextError)
  bad_value_type,     // value type other than string, u32 or u64
  bad_value_size,     // u32 / u64 value whose size is not 4 / 8
  bad_ip_info,        // IP info fields are malformed (see IpInfoError)
};

const char* to_string(KvpError error) noexcept;

// The status a guest replies with for a request it refuses: not_supported
// for an unknown operation, invalid_arg for malformed input. Never
// no_more_items, which only ends an ENUMERATE.
[[nodiscard]] wire::HvStatus status_for(KvpError error) noexcept;

}  // namespace uvmbus::kvp
