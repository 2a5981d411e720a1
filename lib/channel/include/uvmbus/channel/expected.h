// Expected<T, E> in lib/channel: the runtime's value-or-error type (a
// stand-in for C++23's std::expected), so both layers speak the same one.
#pragma once

#include "uvmbus/runtime/expected.h"

namespace uvmbus::channel {

using runtime::Expected;
using runtime::Unexpected;

}  // namespace uvmbus::channel
