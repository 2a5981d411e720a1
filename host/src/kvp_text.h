// The KVP device's checks of keys and values against the wire's limits,
// before anything is queued: a key must be 1-255 UTF-16 units (512 bytes
// with the NUL) and at most 511 UTF-8 bytes (the pool record), a value at
// most 1,023 units (2,048 bytes) and 2,047 UTF-8 bytes. Private to host/src/kvp_*.
#pragma once

#include <optional>
#include <string_view>

#include "uvmbus/host/kvp_device.h"

namespace uvmbus::host::detail {

[[nodiscard]] std::optional<KvpFailure> check_key(std::string_view key);
[[nodiscard]] std::optional<KvpFailure> check_value(std::string_view value);

}  // namespace uvmbus::host::detail
