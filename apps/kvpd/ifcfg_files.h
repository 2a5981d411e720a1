// The two files Linux's daemon writes for SET_IP_INFO, sans-IO, for an
// hv_set_ifconfig-compatible hook (spec ic-kvp.md §8):
//   ifcfg-<if>          HWADDR, DEVICE, BOOTPROTO, then IPADDR<n>/NETMASK<n>
//                       (IPv4, from 0), IPV6ADDR[_n]/IPV6NETMASK[_n], GATEWAY[n],
//                       IPV6_DEFAULTGW[_n], DNS<n> (from 1, both families);
//                       IPv6 addresses fully expanded, IPv6 masks as prefix lengths;
//   <if>.nmconnection   a NetworkManager keyfile: [connection] interface-name,
//                       [ethernet] mac-address, [ipv4]/[ipv6] addressN=ip/plen,
//                       method, gateway and dns lists joined with ','.
#pragma once

#include <string>
#include <string_view>

#include "uvmbus/kvp/ip_info.h"

namespace uvmbus::kvpd {

[[nodiscard]] std::string ifcfg_text(std::string_view interface, std::string_view mac,
                                     const kvp::IpInfo& info);
[[nodiscard]] std::string keyfile_text(std::string_view interface, std::string_view mac,
                                       const kvp::IpInfo& info);

}  // namespace uvmbus::kvpd
