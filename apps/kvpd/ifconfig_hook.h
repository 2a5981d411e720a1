// The hv_set_ifconfig-compatible hook of SET_IP_INFO: writes ifcfg-<if> and
// <if>.nmconnection (ifcfg_files.h) into a directory (Linux: /var/lib/hyperv)
// and runs `<hook> <ifcfg path> <keyfile path>` once, waiting for it. The
// hook's exit status decides the reply (non-zero: HV_E_FAIL), as in Linux.
#pragma once

#include <filesystem>
#include <string_view>

#include "uvmbus/kvp/ip_info.h"

namespace uvmbus::kvpd {

struct HookResult {
  bool ok;
  int error_number;  // errno of a failed write or spawn, 0 otherwise
  int exit_status;   // the hook's exit status (-1 if it did not exit normally)
};

[[nodiscard]] HookResult run_ifconfig_hook(const std::filesystem::path& hook,
                                           const std::filesystem::path& directory,
                                           std::string_view interface, std::string_view mac,
                                           const kvp::IpInfo& info);

}  // namespace uvmbus::kvpd
