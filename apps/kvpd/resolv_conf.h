// The resolver configuration (/etc/resolv.conf), sans-IO: the DNS servers
// GET_IP_INFO reports, and the text SET_IP_INFO writes back with new
// servers (every other line kept).
#pragma once

#include <string>
#include <string_view>

#include "uvmbus/kvp/ip_info.h"

namespace uvmbus::kvpd {

struct DnsServers {
  std::vector<kvp::Ipv4Address> ipv4;
  std::vector<kvp::Ipv6Address> ipv6;
};

// The `nameserver` lines that hold an address, in order (at most
// wire::kKvpMaxDnsServers per family).
[[nodiscard]] DnsServers parse_resolv_conf(std::string_view text);

// `text` with its nameserver lines replaced by `servers` (IPv4 first).
[[nodiscard]] std::string replace_nameservers(std::string_view text, const DnsServers& servers);

}  // namespace uvmbus::kvpd
