// Which network interface a VMBus NIC instance GUID names, for SET_IP_INFO.
// On Hyper-V, /sys/class/net/<if>/device/device_id holds "{guid}"; elsewhere
// (hostd, tests) the map comes from --nic-map GUID=ifname flags or a file of
// such lines ('#' starts a comment).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace uvmbus::kvpd {

// "{A9A0F4E7-...}" or "a9a0f4e7-..." -> "a9a0f4e7-...": lower case, no
// braces; nullopt if it is not a GUID.
[[nodiscard]] std::optional<std::string> normalize_guid(std::string_view text);

class NicMap {
 public:
  // Adds "GUID=ifname"; false if malformed.
  [[nodiscard]] bool add(std::string_view entry);
  // Adds every entry of a file; the 1-based number of the first bad line, 0
  // on success, -1 if the file cannot be read.
  [[nodiscard]] int add_file(const std::filesystem::path& path);

  // The interface for `adapter_id`: the map first, then sysfs under
  // `sysfs_net` (normally /sys/class/net).
  [[nodiscard]] std::optional<std::string> interface_for(
      std::string_view adapter_id, const std::filesystem::path& sysfs_net) const;

 private:
  std::map<std::string, std::string> entries_;  // normalized GUID -> ifname
};

}  // namespace uvmbus::kvpd
