// hostd's KVP settings (the config file's "kvp" object, --kvp and
// --kvp-state): whether the KVP device is offered, where the host's pool
// items of each VM are kept across restarts, and the device's timers.
#pragma once

#include <cstdint>
#include <string>

namespace uvmbus::hostd {

struct KvpSettings {
  bool enabled = false;
  std::string state_dir;                 // "" = host items are not kept across restarts
  uint32_t request_timeout_ms = 5000;    // the guest's time to answer one request
  uint32_t enumerate_interval_ms = 30000;  // background ENUMERATE of pools 1 and 2; 0 = off
};

}  // namespace uvmbus::hostd
