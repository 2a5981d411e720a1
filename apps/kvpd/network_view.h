// What kvpd reports about the network, computed from a NetworkSnapshot
// (sans-IO): the IP info of one adapter for GET_IP_INFO, and the address
// lists of the auto pool's NetworkAddressIPv4/IPv6 keys.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "netlink_socket.h"
#include "resolv_conf.h"
#include "uvmbus/kvp/ip_info.h"

namespace uvmbus::kvpd {

// "00:15:5D:0A:0B:0C": the form hosts name adapters by.
[[nodiscard]] std::string format_mac(const MacAddress& mac);

// The first link whose MAC equals `mac` (any letter case) and that has an
// address; nullopt if none (Linux skips a VF sharing the MAC without one).
[[nodiscard]] std::optional<int> link_by_mac(const NetworkSnapshot& network, std::string_view mac);

// The link's addresses (IPv4 without IFA_F_PERMANENT count as DHCP-assigned:
// origin other, dhcp_enabled), its default gateways (main table, this link)
// and the resolver's servers. Lists are cut to what the wire carries.
[[nodiscard]] kvp::IpInfo ip_info_of_link(const NetworkSnapshot& network, int link_index,
                                          const DnsServers& dns);

// Every address of `family` on links other than loopback, ';'-joined in
// dump order (the auto pool's NetworkAddressIPv4 / NetworkAddressIPv6).
[[nodiscard]] std::string joined_addresses(const NetworkSnapshot& network, uint8_t family);

// A contiguous IPv4 mask's prefix length; nullopt for a non-contiguous mask.
[[nodiscard]] std::optional<uint8_t> prefix_of_mask(const kvp::Ipv4Address& mask);

}  // namespace uvmbus::kvpd
