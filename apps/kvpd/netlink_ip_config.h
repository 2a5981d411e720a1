// IpConfig over rtnetlink and the resolver configuration: GET_IP_INFO reads
// links, addresses and routes in three dumps and resolv.conf once; SET_IP_INFO
// replaces the adapter's addresses, sets its default routes, and rewrites
// the resolver's nameservers when the host sent any. No script runs per
// address. With a hook configured, SET_IP_INFO then writes the ifcfg/keyfile
// pair and runs the hook once (ifconfig_hook.h).
#pragma once

#include <filesystem>
#include <string>

#include "ip_config.h"
#include "netlink_socket.h"
#include "nic_map.h"

namespace uvmbus::kvpd {

struct NetlinkIpConfigOptions {
  NicMap nic_map;
  std::filesystem::path sysfs_net = "/sys/class/net";
  std::filesystem::path resolv_conf = "/etc/resolv.conf";
  std::filesystem::path ifconfig_hook;  // empty: no hook, no ifcfg/keyfile
  std::filesystem::path ifconfig_dir = "/var/lib/hyperv";  // where the pair goes
};

class NetlinkIpConfig final : public IpConfig {
 public:
  explicit NetlinkIpConfig(NetlinkIpConfigOptions options) : options_(std::move(options)) {}

  [[nodiscard]] IpLookup get(std::string_view mac) override;
  [[nodiscard]] wire::HvStatus set(const kvp::IpInfo& info) override;

  // errno of the last failed system call (for the log), 0 if none.
  [[nodiscard]] int last_errno() const noexcept { return last_errno_; }

 private:
  wire::HvStatus apply(const kvp::IpInfo& info, int link_index);
  bool write_resolv_conf(const kvp::IpInfo& info);
  bool run_hook(const kvp::IpInfo& info, const NetworkSnapshot& network, int link_index);

  NetlinkIpConfigOptions options_;
  int last_errno_ = 0;
};

}  // namespace uvmbus::kvpd
