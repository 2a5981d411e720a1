// KVP service versions each side offers in NEGOTIATE (see ic/negotiate.h).
//
// The guest prefers 5.0: Windows hosts expect it and flag 4.0 as a version
// mismatch, and OpenVMM carries IP info only in 5.0's binary form. A guest
// that must look exactly like Linux's hv_kvp (4.0, string IP info) offers
// kLinuxGuestVersions instead.
#pragma once

#include <array>

#include "uvmbus/wire/kvp.h"

namespace uvmbus::kvp {

// Newest first.
inline constexpr std::array kGuestVersions{wire::kKvpVersion5, wire::kKvpVersion4,
                                           wire::kKvpVersion3, wire::kKvpVersion1};
inline constexpr std::array kLinuxGuestVersions{wire::kKvpVersion4, wire::kKvpVersion3,
                                                wire::kKvpVersion1};
// Ascending, as OpenVMM's host offers them.
inline constexpr std::array kHostVersions{wire::kKvpVersion3, wire::kKvpVersion4,
                                          wire::kKvpVersion5};

}  // namespace uvmbus::kvp
